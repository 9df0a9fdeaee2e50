"""The store database: one SQLAlchemy `MetaData` for every workflow's tables.

It is the ledger that makes side effects idempotent: unique keys say that a supplier product is listed
once, an order is sent to the supplier once, a customer message is answered once, a product gets one
campaign per platform. Each workflow's tables live in their own module; importing them here registers
them on `metadata`, and `create_schema` creates what is missing.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

MONEY = sa.Numeric(14, 2)


def created_column() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def updated_column() -> sa.Column:
    return sa.Column(
        "updated_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
        onupdate=sa.func.now(),
    )


sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    updated_column(),
)
