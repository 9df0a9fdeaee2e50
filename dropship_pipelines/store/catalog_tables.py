"""Catalog sync: what the supplier said (webhook events, its last word on each listed variant), what the
store was told (each write claimed before it is made), and the lineage of every price on the store."""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, created_column, metadata, updated_column

# Every CJ webhook delivery, recorded before it is answered. `seq` is the sensor's cursor; a redelivered
# message (same messageId) is not recorded twice. A delivery that could not be read is kept too, with its
# reason (status `rejected`), under the hash of its body: nothing CJ sent is lost.
supplier_events = sa.Table(
    "supplier_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(200), nullable=False, unique=True),
    sa.Column("type", sa.String(16), nullable=False),  # PRODUCT | VARIANT | STOCK | (rejected: ?)
    sa.Column("message_type", sa.String(16), nullable=True),  # INSERT | UPDATE | DELETE
    sa.Column("pid", sa.String(64), nullable=True, index=True),  # PRODUCT messages name their product
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("raw", sa.Text, nullable=True),  # the body as received, for a rejected delivery
    sa.Column("status", sa.String(16), nullable=False),  # pending | processed | rejected | failed
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
)

# The supplier's last word on each listed variant, and what the store shows for it.
variant_supply = sa.Table(
    "variant_supply",
    metadata,
    sa.Column("vid", sa.String(64), primary_key=True),
    sa.Column("pid", sa.String(64), nullable=False, index=True),
    sa.Column("cost", MONEY, nullable=True),  # supplier's price of the variant
    sa.Column("stock", sa.Integer, nullable=True),  # units across the supplier's warehouses
    sa.Column("offered", sa.Boolean, nullable=False, server_default=sa.true()),  # still in the product
    sa.Column("store_in_stock", sa.Boolean, nullable=False, server_default=sa.true()),  # what the store has
    sa.Column("source", sa.String(16), nullable=False),  # reconcile | webhook
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
)

# Shipping of each listed product to each main market (the price uses the listing's own market).
market_shipping = sa.Table(
    "market_shipping",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("logistic_name", sa.String(100), nullable=True),  # None: the supplier has no route there
    sa.Column("cost", MONEY, nullable=True),
    sa.Column("days_max", sa.Integer, nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
)

# Whether a listing is on sale. The ads workflow pauses the ads of an unpublished product
# (`store/catalog_queries.unpublished_product_ids`). `write_seq` numbers the store writes of the listing:
# a run claims the next number (compare-and-set) before it writes, so two runs never write at once.
listing_publication = sa.Table(
    "listing_publication",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("store_product_id", sa.String(100), nullable=True, index=True),
    sa.Column("published", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("still_sold", sa.Boolean, nullable=False, server_default=sa.true()),  # at the supplier
    sa.Column("reason", sa.Text, nullable=True),  # why unpublished
    sa.Column("write_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),  # last publish / unpublish
    sa.Column("run_id", sa.String(64), nullable=True),
    updated_column(),
)

# Each store write of the catalog sync, claimed under (listing, write number) before it is made.
catalog_writes = sa.Table(
    "catalog_writes",
    metadata,
    sa.Column("write_key", sa.String(120), primary_key=True),  # "<pid>:<write_seq>"
    sa.Column("pid", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # variants | status
    sa.Column("state", sa.String(16), nullable=False),  # claimed | done | failed
    sa.Column("detail", sa.JSON, nullable=False),  # what is written
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    created_column(),
    updated_column(),
)

# Every price the store was given: from what supplier cost and shipping, by which rule version, in which run.
price_lineage = sa.Table(
    "price_lineage",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("vid", sa.String(64), nullable=False, index=True),
    sa.Column("pid", sa.String(64), nullable=False, index=True),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("compare_at_price", MONEY, nullable=True),
    sa.Column("previous_price", MONEY, nullable=True),
    sa.Column("rule_price", MONEY, nullable=False),  # what the rule asked for (before the daily limit)
    sa.Column("supplier_cost", MONEY, nullable=False),
    sa.Column("shipping_cost", MONEY, nullable=False),
    sa.Column("rule_version", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(32), nullable=False),  # listed | cost | shipping | rule | limit
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
)
