"""The store read's re-read window (issue 16): each run checks the overlap before its cursor with the store's
change listing (id and updatedAt) against what the full reads saw there, and reads in full only what they
did not see, so a run after a burst no longer re-reads every unchanged order of it at ~14 points each."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from dropship_pipelines.resources.shopify import clock
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.services import fulfillment
from dropship_pipelines.store import fulfillment_queries as q
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import store_orders
from dropship_pipelines.store.schema import sync_cursors
from dropship_testkit.ledger_seed import list_products
from tests.fulfillment.helpers import place

OVERLAP = fulfillment.timedelta(minutes=2)


@pytest.fixture
def world(sandbox, store_url, pipeline_env, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    shopify = ShopifyAdminResource(
        shop_url=pipeline_env["SHOPIFY_SHOP_URL"], access_token=pipeline_env["SHOPIFY_ACCESS_TOKEN"]
    )
    nodes: Counter[str] = Counter()  # orders answered, by operation
    original = ShopifyAdminResource.execute

    def counted(self: ShopifyAdminResource, query: str, variables: Any = None, **kw: Any) -> Any:
        data = original(self, query, variables, **kw)
        name = query.split("(", 1)[0].split()[-1]
        if isinstance(data, dict) and isinstance(data.get("orders"), dict):
            nodes[name] += len(data["orders"].get("nodes", []))  # a count's pages hold no nodes
        return data

    monkeypatch.setattr(ShopifyAdminResource, "execute", counted)
    return {"engine": get_engine(store_url), "shopify": shopify, "nodes": nodes}


def _later(sandbox: Any) -> None:
    """The store's clock moves past the orders' second: a read now is one a later change would show in."""
    sandbox.control("POST", "/clock", {"advance_seconds": 2})


def _read(w: dict[str, Any]) -> fulfillment.OrdersRead:
    w["nodes"].clear()
    return fulfillment.read_store_orders(w["shopify"], w["engine"], OVERLAP, page_size=2)


def test_unchanged_orders_in_the_window_are_listed_not_read_again(world, sandbox) -> None:
    placed = place(sandbox, 5)
    _later(sandbox)
    first = _read(world)
    assert first.read == 5 and len(first.new) == 5
    again = _read(world)
    # All five sit in the window before the cursor: listed (id, updatedAt), none read in full again.
    assert world["nodes"]["OrderChanges"] == 5
    assert world["nodes"]["OrdersSince"] == 0 and again.read == 0
    assert again.cursor == first.cursor

    # One the last read did not see at its change (the search index trailing) while the ledger holds that
    # updatedAt already (a webhook's note_store_change moves it without reading the order): the listing
    # finds it unread, and it is read in full.
    missed = placed[2]["id"]
    with world["engine"].begin() as conn:
        seen = json.loads(q.get_cursor(conn, fulfillment.WINDOW_SEEN) or "{}")
        assert set(seen) == {o["id"] for o in placed}
        del seen[missed]
        q.set_cursor(conn, fulfillment.WINDOW_SEEN, json.dumps(seen))
    healed = _read(world)
    # Read again from its change on (the full read is one stream: here the whole same-second burst).
    assert healed.read >= 1 and world["nodes"]["OrdersSince"] == healed.read
    with world["engine"].connect() as conn:
        assert missed in json.loads(q.get_cursor(conn, fulfillment.WINDOW_SEEN) or "{}")
    assert _read(world).read == 0  # and the window is as the reads saw it again


def test_no_record_of_the_window_reads_it_in_full_once(world, sandbox) -> None:
    place(sandbox, 3)
    _later(sandbox)
    _read(world)
    with world["engine"].begin() as conn:  # a store read from before the record existed
        conn.execute(sa.delete(sync_cursors).where(sync_cursors.c.name == fulfillment.WINDOW_SEEN))
    assert _read(world).read == 3
    assert _read(world).read == 0


def test_a_new_order_after_the_cursor_is_read_in_full(world, sandbox) -> None:
    place(sandbox, 2)
    _later(sandbox)
    _read(world)
    sandbox.control("POST", "/clock", {"advance_seconds": 5})
    [late] = place(sandbox, 1)
    _later(sandbox)
    after = _read(world)
    assert [o["order_id"] for o in after.new] == [late["id"]]
    assert world["nodes"]["OrdersSince"] == 1


def test_an_order_read_within_its_own_second_is_read_again(world, sandbox) -> None:
    """updatedAt counts whole seconds: a cancellation in the second the order was read keeps the updatedAt
    that read saw, so that read is not recorded as seen and the next run reads the order in full."""
    [order] = place(sandbox, 1)
    first = _read(world)  # the same second as the order's checkout
    assert first.read == 1
    with world["engine"].connect() as conn:
        assert order["id"] not in json.loads(q.get_cursor(conn, fulfillment.WINDOW_SEEN) or "{}")
    assert sandbox.control("POST", "/aftermath/cancel", {"order": order["id"]})["happened"]
    again = _read(world)
    assert again.read == 1 and world["nodes"]["OrdersSince"] == 1
    with world["engine"].connect() as conn:
        row = sa.select(store_orders.c.cancelled_at).where(store_orders.c.order_id == order["id"])
        cancelled_at = conn.scalar(row)
    assert cancelled_at is not None, "the cancellation in the order's own second was never read"


def _burst(world: dict[str, Any], sandbox: Any) -> tuple[str, list[str]]:
    """A burst placed at once and read: its busiest second (counted, not listed) and that second's orders."""
    place(sandbox, 3 * fulfillment.COUNTED_SECOND)
    _later(sandbox)
    _read(world)
    with world["engine"].connect() as conn:
        seen: dict[str, str] = json.loads(q.get_cursor(conn, fulfillment.WINDOW_SEEN) or "{}")
    second, n = Counter(seen.values()).most_common(1)[0]
    assert n >= fulfillment.COUNTED_SECOND
    return second, sorted(o for o, at in seen.items() if at == second)


def _unseen(world: dict[str, Any], order_id: str) -> None:
    """The last reads did not see this order (the search index trailing): its record goes."""
    with world["engine"].begin() as conn:
        seen = json.loads(q.get_cursor(conn, fulfillment.WINDOW_SEEN) or "{}")
        del seen[order_id]
        q.set_cursor(conn, fulfillment.WINDOW_SEEN, json.dumps(seen))


def _seen(world: dict[str, Any]) -> dict[str, str]:
    with world["engine"].connect() as conn:
        return json.loads(q.get_cursor(conn, fulfillment.WINDOW_SEEN) or "{}")


def test_a_burst_second_is_counted_not_listed(world, sandbox) -> None:
    _, orders = _burst(world, sandbox)
    again = _read(world)
    assert again.read == 0 and world["nodes"]["OrdersSince"] == 0
    # The burst's second is checked by its count: none of its orders is listed.
    assert world["nodes"]["OrderChanges"] <= 3 * fulfillment.COUNTED_SECOND - len(orders)
    assert world["nodes"]["OrderCountLast"] >= 1


def test_an_unseen_order_in_a_counted_second_is_read(world, sandbox) -> None:
    second, orders = _burst(world, sandbox)
    _unseen(world, orders[3])
    healed = _read(world)
    assert healed.read >= 1 and world["nodes"]["OrdersSince"] == healed.read
    assert _seen(world).get(orders[3]) == second
    assert _read(world).read == 0


def test_an_unseen_order_standing_in_for_one_that_changed_is_read(world, sandbox) -> None:
    """The second's count matches although an unseen order is in it: one seen there changed since (a
    cancellation, after the cursor). The full read finds that one at its new updatedAt, so the second is
    listed after all and the unseen order read in full."""
    second, orders = _burst(world, sandbox)
    unseen, changed = orders[3], orders[5]
    _unseen(world, unseen)
    assert sandbox.control("POST", "/aftermath/cancel", {"order": changed})["happened"]
    _later(sandbox)
    healed = _read(world)
    assert world["nodes"]["OrderCountLast"] >= 1  # the count was asked, and matched
    seen = _seen(world)
    assert seen.get(unseen) == second, "the order standing in for the changed one was never read"
    assert seen.get(changed, "") > second
    with world["engine"].connect() as conn:
        row = sa.select(store_orders.c.cancelled_at).where(store_orders.c.order_id == changed)
        assert conn.scalar(row) is not None
    assert healed.read >= 2
    assert _read(world).read == 0


def test_a_run_that_has_called_the_store_reads_its_clock_from_the_answers(
    world, sandbox, monkeypatch
) -> None:
    """The store's clock before each page comes from the Date of the run's newest answer: a run whose window
    check called the store makes no clock probe of its own."""
    probes: list[object] = []
    original = clock.read_shop_time

    def counted(shopify: ShopifyAdminResource, attempts: int = 5) -> Any:
        probes.append(shopify)
        return original(shopify, attempts)

    monkeypatch.setattr(clock, "read_shop_time", counted)
    place(sandbox, 2)
    _later(sandbox)
    _read(world)  # no cursor: nothing asked of the store before the first page
    assert len(probes) == 1
    _later(sandbox)
    [late] = place(sandbox, 1)
    again = _read(world)
    assert len(probes) == 1, "the clock was probed although the window check had just been answered"
    assert [o["order_id"] for o in again.new] == [late["id"]]


def test_a_read_that_catches_up_with_a_burst_waits_out_its_second(world, sandbox) -> None:
    """Read at once, a burst is read within its own second: the read's later pages wait until that second
    is over and its first page is read again then, so the next run does not read the burst again."""
    place(sandbox, 6)  # three pages of two, in the same second (or across into the next)
    assert _read(world).read == 6
    with world["engine"].connect() as conn:
        stamps = conn.scalars(sa.select(store_orders.c.store_updated_at))
        seconds = {at.replace(microsecond=0) for at in stamps}
    # when the burst crossed into a second second, a page may hold that second's first orders, read as
    # soon as it began: those are left to the next run
    assert len(_seen(world)) >= (6 if len(seconds) == 1 else 4), (_seen(world), seconds)
    world["nodes"].clear()
    _later(sandbox)
    again = _read(world)
    assert again.read <= (0 if len(seconds) == 1 else 5) and world["nodes"]["OrdersSince"] == again.read


def test_waiting_out_a_second_sleeps_until_the_clock_has_left_it() -> None:
    moment = [datetime(2026, 11, 1, 0, 0, 1, 300_000, tzinfo=UTC)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        moment[0] += timedelta(seconds=seconds)

    now = fulfillment.wait_out_second(lambda: moment[0], datetime(2026, 11, 1, 0, 0, 1, tzinfo=UTC), sleep)
    assert now == datetime(2026, 11, 1, 0, 0, 2, tzinfo=UTC) and slept == [0.7]
    # already past it: no sleep; a clock that never moves is given up on, not waited for forever
    assert fulfillment.wait_out_second(lambda: now, datetime(2026, 11, 1, 0, 0, 1, tzinfo=UTC), sleep) == now
    stuck = datetime(2026, 11, 1, 0, 0, 5, tzinfo=UTC)
    slept.clear()
    fulfillment.wait_out_second(lambda: stuck, stuck, slept.append)
    assert sum(slept) >= fulfillment.WAIT_OUT_SECOND_MAX_S and len(slept) < 10
