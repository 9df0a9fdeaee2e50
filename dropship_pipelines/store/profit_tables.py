"""True profit's facts beside the order ledger: what the store's payment gateway charged (and refunded)
per order, in shop and presentment currency, and what the supplier actually charged once it shipped.

The quote (`supplier_orders.product_amount` / `postage_amount`, from createOrderV2's answer) is what we
expected; `supplier_costs` is what CJ's order detail says it charged after weighing and dispatch.
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, metadata, updated_column

order_payments = sa.Table(
    "order_payments",
    metadata,
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("gateway", sa.String(64), nullable=True),  # of the sale: shopify_payments, paypal, ...
    sa.Column("paid", MONEY, nullable=False, server_default="0"),  # successful sales and captures
    sa.Column("fees", MONEY, nullable=True),  # the gateway's fees as Shopify reports them; null = not given
    sa.Column("refunded", MONEY, nullable=False, server_default="0"),  # successful refunds
    sa.Column("shop_currency", sa.String(3), nullable=False),
    sa.Column("presentment_currency", sa.String(3), nullable=True),  # what the customer paid in
    sa.Column("presentment_total", MONEY, nullable=True),
    updated_column(),
)

supplier_costs = sa.Table(
    "supplier_costs",
    metadata,
    sa.Column("order_number", sa.String(50), primary_key=True),
    sa.Column("order_id", sa.String(100), nullable=False, unique=True),
    sa.Column("product_amount", MONEY, nullable=False),
    sa.Column("postage_amount", MONEY, nullable=False),
    sa.Column("total_amount", MONEY, nullable=True),
    sa.Column("supplier_status", sa.String(24), nullable=True),  # the status the amounts were read at
    updated_column(),
)
