"""Discovery: the supplier's catalog, scored candidates, generated copy and the listing ledger."""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, created_column, metadata, updated_column

supplier_products = sa.Table(
    "supplier_products",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("category", sa.String(300), nullable=False, server_default=""),
    sa.Column("sell_price", MONEY, nullable=True),
    sa.Column("listed_num", sa.Integer, nullable=False, server_default="0"),
    sa.Column("image_url", sa.Text, nullable=True),
    sa.Column("supplier_created_at", sa.String(32), nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("detail_hash", sa.String(64), nullable=True),  # content_hash when the detail was last fetched
    sa.Column("problem", sa.Text, nullable=True),  # why the record cannot be used, if it cannot
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

supplier_variants = sa.Table(
    "supplier_variants",
    metadata,
    sa.Column("vid", sa.String(64), primary_key=True),
    sa.Column("pid", sa.String(64), nullable=False, index=True),
    sa.Column("sku", sa.String(100), nullable=False),
    sa.Column("option_value", sa.String(200), nullable=False),
    sa.Column("price", MONEY, nullable=True),
    sa.Column("weight_g", sa.Float, nullable=True),
    sa.Column("image_url", sa.Text, nullable=True),
)

product_details = sa.Table(
    "product_details",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("description_html", sa.Text, nullable=False, server_default=""),
    sa.Column("image_urls", sa.JSON, nullable=False),
    sa.Column("option_name", sa.String(100), nullable=False, server_default="Title"),
    sa.Column("weight_g", sa.Float, nullable=True),
    sa.Column("shipping_country", sa.String(2), nullable=True),
    sa.Column("logistic_name", sa.String(100), nullable=True),
    sa.Column("shipping_cost", MONEY, nullable=True),
    sa.Column("shipping_days_min", sa.Integer, nullable=True),
    sa.Column("shipping_days_max", sa.Integer, nullable=True),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

product_candidates = sa.Table(
    "product_candidates",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # accepted | rejected
    sa.Column("reason", sa.Text, nullable=True),  # why rejected
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("unit_cost", MONEY, nullable=True),
    sa.Column("shipping_cost", MONEY, nullable=True),
    sa.Column("price", MONEY, nullable=True),
    sa.Column("compare_at_price", MONEY, nullable=True),
    sa.Column("profit", MONEY, nullable=True),  # per unit, after cost, shipping and fees
    sa.Column("margin", sa.Float, nullable=True),  # profit / price
    sa.Column("popularity", sa.Integer, nullable=False, server_default="0"),
    sa.Column("shipping_days_max", sa.Integer, nullable=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("rule_fingerprint", sa.String(64), nullable=False),
    sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
)

product_copy = sa.Table(
    "product_copy",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),  # facts the copy was written from
    sa.Column("status", sa.String(16), nullable=False),  # ok | failed
    sa.Column("title", sa.String(255), nullable=True),
    sa.Column("description_html", sa.Text, nullable=True),
    sa.Column("tags", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("model", sa.String(100), nullable=True),
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
)

listings = sa.Table(
    "listings",
    metadata,
    sa.Column("pid", sa.String(64), primary_key=True),  # one listing per supplier product
    sa.Column("handle", sa.String(255), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | listed | failed
    sa.Column("store_product_id", sa.String(100), nullable=True, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("price", MONEY, nullable=False),  # lowest variant price
    sa.Column("compare_at_price", MONEY, nullable=True),
    sa.Column("unit_cost", MONEY, nullable=False),
    sa.Column("shipping_cost", MONEY, nullable=False),
    sa.Column("image_url", sa.Text, nullable=True),
    sa.Column("rule_fingerprint", sa.String(64), nullable=True),  # price rule the store has
    sa.Column("copy_hash", sa.String(64), nullable=True),  # copy the store has
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
    created_column(),
    updated_column(),
)

listing_variants = sa.Table(
    "listing_variants",
    metadata,
    sa.Column("vid", sa.String(64), primary_key=True),  # supplier variant
    sa.Column("pid", sa.String(64), nullable=False, index=True),
    sa.Column("store_variant_id", sa.String(100), nullable=True, unique=True),
    sa.Column("sku", sa.String(100), nullable=False, index=True),
    sa.Column("option_value", sa.String(200), nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("compare_at_price", MONEY, nullable=True),
    sa.Column("unit_cost", MONEY, nullable=False),
)
