"""A store with the hand-computed ledger, its analytics computed by the real assets, and support data.

The support tables belong to the customer-service workflow; if its table module is not part of this
checkout yet, the minimal columns the dashboard reads are created here (nullable extras are left out).
"""

from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dropship_pipelines.assets.analytics import assets as analytics
from dropship_pipelines.assets.analytics import checks as analytics_checks
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store.database import get_engine
from tests.analytics.ledger_fixture import seed_ledger

TOKEN = "test-dashboard-token-0123456789"
ESCALATED_KEY = "T2:M2"
ESCALATED_DRAFT = (
    "Sorry for the wait! Your order #1002 is delayed; we can refund or reship, which do you prefer?"
)

_support = sa.MetaData()
_tickets = sa.Table(
    "support_tickets",
    _support,
    sa.Column("ticket_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("customer_email", sa.String(255)),
    sa.Column("customer_name", sa.String(255)),
    sa.Column("last_received_at", sa.DateTime(timezone=True)),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)
_messages = sa.Table(
    "support_messages",
    _support,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.String(64), nullable=False),
    sa.Column("from_agent", sa.Boolean, nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)
_replies = sa.Table(
    "support_replies",
    _support,
    sa.Column("reply_key", sa.String(200), primary_key=True),
    sa.Column("ticket_id", sa.String(64), nullable=False),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("intent", sa.String(32)),
    sa.Column("confidence", sa.Float),
    sa.Column("reason", sa.Text),
    sa.Column("reply_text", sa.Text),
    sa.Column("received_at", sa.DateTime(timezone=True)),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
)


def seed_support(engine: Engine) -> None:
    _support.create_all(engine, checkfirst=True)
    at = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            _tickets.insert(),
            [
                {
                    "ticket_id": "T1",
                    "channel": "email",
                    "status": "open",
                    "subject": "Where is my lamp?",
                    "customer_email": "ann@example.com",
                    "customer_name": "Ann Lee",
                    "last_received_at": at,
                    "fetched_at": at,
                },
                {
                    "ticket_id": "T2",
                    "channel": "email",
                    "status": "open",
                    "subject": "Order #1002 late, refund?",
                    "customer_email": "bob@example.com",
                    "customer_name": "Bob Roy",
                    "last_received_at": at,
                    "fetched_at": at,
                },
            ],
        )
        conn.execute(
            _messages.insert(),
            [
                {
                    "message_id": "M1",
                    "ticket_id": "T1",
                    "from_agent": False,
                    "body_text": "Where is order #1001?",
                    "sent_at": at,
                    "fetched_at": at,
                },
                {
                    "message_id": "M2",
                    "ticket_id": "T2",
                    "from_agent": False,
                    "body_text": "My order #1002 is late. I want my money back.",
                    "sent_at": at,
                    "fetched_at": at,
                },
            ],
        )
        conn.execute(
            _replies.insert(),
            [
                {
                    "reply_key": "T1:M1",
                    "ticket_id": "T1",
                    "message_id": "M1",
                    "state": "sent",
                    "intent": "tracking",
                    "confidence": 0.93,
                    "reason": None,
                    "reply_text": "Your lamp shipped with YunExpress.",
                    "received_at": at,
                    "answered_at": at,
                },
                {
                    "reply_key": ESCALATED_KEY,
                    "ticket_id": "T2",
                    "message_id": "M2",
                    "state": "escalated",
                    "intent": "refund",
                    "confidence": 0.41,
                    "reason": "refund requests need a human",
                    "reply_text": ESCALATED_DRAFT,
                    "received_at": at,
                    "answered_at": None,
                },
            ],
        )


def compute_analytics(url: str) -> None:
    """The analytics assets, run by Dagster over the fixture days, then the snapshots."""
    resources = {"store_db": StoreDatabase(url=url), "pricing": PricingPolicy()}
    daily = [analytics.daily_sales, analytics.daily_profit]
    snapshots = [analytics.kpis, analytics.top_products, analytics.ad_performance]
    checks = dg.load_asset_checks_from_modules([analytics_checks])
    assert dg.materialize(
        [*daily, *checks],
        resources=resources,
        selection=dg.AssetSelection.assets(*daily),
        tags={
            "dagster/asset_partition_range_start": "2026-11-20",
            "dagster/asset_partition_range_end": "2026-11-21",
        },
    ).success
    assert dg.materialize(
        [*daily, *snapshots, *checks], resources=resources, selection=dg.AssetSelection.assets(*snapshots)
    ).success


def seed_store(url: str) -> None:
    engine = get_engine(url)
    seed_ledger(engine)
    seed_support(engine)
    compute_analytics(url)
