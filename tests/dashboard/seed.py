"""A store with the hand-computed ledger, its analytics computed by the real assets, and support tickets."""

from dropship_pipelines.store.database import get_engine
from dropship_testkit.ledger_seed import FIRST_DAY, LAST_DAY, seed_hand_computed_ledger, seed_support_tickets
from dropship_testkit.pipelines import recompute_analytics

TOKEN = "test-dashboard-token-0123456789"


def seed_store(url: str) -> None:
    engine = get_engine(url)
    seed_hand_computed_ledger(engine)
    seed_support_tickets(engine)
    recompute_analytics(url, FIRST_DAY, LAST_DAY)
