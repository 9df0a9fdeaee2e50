"""Shadow chains: `shadow_writes.shadow_ref`, the part every synthetic id of a held-back write shares, so a
read that names one (`shadow:Product:<ref>`) is answered from the write that made it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shadow_writes") as batch:
        batch.add_column(sa.Column("shadow_ref", sa.String(length=20), nullable=True))
        batch.create_index("ix_shadow_writes_shadow_ref", ["shadow_ref"])


def downgrade() -> None:
    with op.batch_alter_table("shadow_writes") as batch:
        batch.drop_index("ix_shadow_writes_shadow_ref")
        batch.drop_column("shadow_ref")
