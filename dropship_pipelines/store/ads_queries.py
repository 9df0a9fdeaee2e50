"""Reads and writes of the ads workflow: creatives, the campaign ledger, daily metrics and actions."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns, ad_creatives, ad_metrics_daily
from dropship_pipelines.store.database import upsert
from dropship_pipelines.store.discovery_tables import listings, product_details, supplier_products


def now() -> datetime:
    return datetime.now(UTC)


def listed_products(conn: Connection) -> list[dict[str, Any]]:
    """Live listings with what an ad needs: title, price, images, category, handle; newest first."""
    query = (
        sa.select(
            listings.c.pid,
            listings.c.title,
            listings.c.price,
            listings.c.compare_at_price,
            listings.c.handle,
            listings.c.image_url,
            listings.c.listed_at,
            product_details.c.image_urls,
            supplier_products.c.category,
        )
        .select_from(
            listings.outerjoin(product_details, product_details.c.pid == listings.c.pid).outerjoin(
                supplier_products, supplier_products.c.pid == listings.c.pid
            )
        )
        .where(listings.c.status == "listed")
        .order_by(listings.c.listed_at.desc(), listings.c.pid)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def creatives(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r.pid: dict(r._mapping) for r in conn.execute(sa.select(ad_creatives))}


def save_creative(conn: Connection, row: dict[str, Any]) -> None:
    upsert(conn, ad_creatives, [row], keys=["pid"])


def ledger(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.pid, r.platform): dict(r._mapping) for r in conn.execute(sa.select(ad_campaigns))}


# A `pending` launch without an error is in flight in some run; only after this long is its run taken for
# dead and the launch resumed by another (each step of a launch renews `updated_at`).
LAUNCH_LEASE = timedelta(minutes=15)
CAMPAIGN_ACTIONS = ("pause", "resume", "scale")


def _insert_or_nothing(conn: Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """INSERT that loses, rather than fails, on a duplicate key: True when this call wrote the row."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    return conn.execute(insert.values(**row).on_conflict_do_nothing()).rowcount == 1


def claim_launch(conn: Connection, row: dict[str, Any], seen: dict[str, Any] | None) -> bool:
    """Claim a product's launch on a platform before anything is created there; False: another run has it.

    A first launch INSERTs the ledger row (a second run's INSERT conflicts and loses). A retry takes the
    row only if it is as this run read it (`attempts` unchanged) and no live run holds it: failed, or
    pending after a recorded error, or pending past `LAUNCH_LEASE` (its run died mid-launch)."""
    if seen is None:
        return _insert_or_nothing(conn, ad_campaigns, {**row, "attempts": 1, "updated_at": now()})
    t = ad_campaigns
    taken = conn.execute(
        t.update()
        .where(
            t.c.pid == row["pid"],
            t.c.platform == row["platform"],
            t.c.attempts == seen["attempts"],
            t.c.state.in_(("pending", "failed")),
            sa.or_(t.c.state == "failed", t.c.last_error.is_not(None), t.c.updated_at < now() - LAUNCH_LEASE),
        )
        .values(
            **{k: v for k, v in row.items() if k not in ("pid", "platform")},
            attempts=t.c.attempts + 1,
            updated_at=now(),
        )
    )
    return taken.rowcount == 1


def update_launch(conn: Connection, pid: str, platform: str, **values: Any) -> None:
    conn.execute(
        ad_campaigns.update()
        .where(ad_campaigns.c.pid == pid, ad_campaigns.c.platform == platform)
        .values(**values, updated_at=now())
    )


def campaigns_in_states(conn: Connection, states: Iterable[str]) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(ad_campaigns).where(ad_campaigns.c.state.in_(tuple(states))))
    return [dict(r._mapping) for r in rows]


def campaign_pids(conn: Connection) -> dict[tuple[str, str], str]:
    rows = conn.execute(
        sa.select(ad_campaigns.c.platform, ad_campaigns.c.campaign_id, ad_campaigns.c.pid).where(
            ad_campaigns.c.campaign_id.is_not(None)
        )
    )
    return {(r.platform, r.campaign_id): r.pid for r in rows}


def replace_metrics(
    conn: Connection, platform: str, first: date, last: date, rows: Iterable[dict[str, Any]]
) -> None:
    """Delete-then-insert one platform's days: re-pulls and backfills are idempotent."""
    conn.execute(
        ad_metrics_daily.delete().where(
            ad_metrics_daily.c.platform == platform,
            ad_metrics_daily.c.day >= first,
            ad_metrics_daily.c.day <= last,
        )
    )
    rows = list(rows)
    if rows:
        conn.execute(ad_metrics_daily.insert(), rows)


def impossible_metrics(conn: Connection) -> list[dict[str, Any]]:
    """Metric rows no platform can report: negative money or counts, more clicks than impressions."""
    t = ad_metrics_daily
    rows = conn.execute(
        sa.select(t.c.day, t.c.platform, t.c.campaign_id, t.c.spend, t.c.impressions, t.c.clicks).where(
            sa.or_(t.c.spend < 0, t.c.revenue < 0, t.c.purchases < 0, t.c.clicks > t.c.impressions)
        )
    )
    return [dict(r._mapping) for r in rows]


def metrics_row_count(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(ad_metrics_daily)).scalar() or 0


def newest_listing_time(conn: Connection) -> datetime | None:
    """When the newest live listing was listed: the new-listing sensor's cursor."""
    newest = sa.select(sa.func.max(listings.c.listed_at)).where(listings.c.status == "listed")
    return conn.execute(newest).scalar()


def latest_metrics_day(conn: Connection) -> date | None:
    return conn.execute(sa.select(sa.func.max(ad_metrics_daily.c.day))).scalar()


def metrics_since(conn: Connection, first: date) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(ad_metrics_daily).where(ad_metrics_daily.c.day >= first))
    return [dict(r._mapping) for r in rows]


def metrics_all(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.select(ad_metrics_daily))]


def record_action(conn: Connection, row: dict[str, Any]) -> int:
    return int(conn.execute(ad_actions.insert().values(**row)).inserted_primary_key[0])


def finish_action(conn: Connection, action_id: int, status: str, error: str | None = None) -> None:
    conn.execute(ad_actions.update().where(ad_actions.c.id == action_id).values(status=status, error=error))


def claim_change(
    conn: Connection,
    campaign: dict[str, Any],
    action: str,
    as_of: date,
    new_budget: Any,
    *,
    paused_by: str | None = None,
) -> bool:
    """Claim a pause, resume or budget change in the ledger before the platform is asked; False: another
    run made it first. Compare-and-set on what the optimiser judged: a pause takes an active campaign
    (recording who paused it and, for the rule's kill, the reporting day it judged), a resume takes a
    campaign still paused as it was read (its learning restarts that day), a scale takes an active
    campaign whose last budget change is still the one this run read (so two runs that judged the same
    numbers scale once, not twice)."""
    t = ad_campaigns
    where = [t.c.pid == campaign["pid"], t.c.platform == campaign["platform"]]
    if action == "pause":
        where.append(t.c.state == "active")
        values: dict[str, Any] = {
            "state": "paused",
            "paused_by": paused_by,
            "killed_as_of": as_of if paused_by == "rule" else None,
        }
    elif action == "resume":
        where += [
            t.c.state == "paused",
            t.c.paused_by.is_not_distinct_from(campaign.get("paused_by")),
            t.c.killed_as_of.is_not_distinct_from(campaign.get("killed_as_of")),
        ]
        values = {"state": "active", "paused_by": None, "killed_as_of": None, "learning_since": as_of}
    else:
        where += [
            t.c.state == "active",
            t.c.budget_changed_day.is_not_distinct_from(campaign["budget_changed_day"]),
        ]
        values = {"daily_budget": new_budget, "budget_changed_day": as_of}
    return conn.execute(t.update().where(*where).values(**values, updated_at=now())).rowcount == 1


def release_change(conn: Connection, campaign: dict[str, Any], action: str) -> None:
    """The platform refused a claimed change: the ledger says again what the platform still has."""
    if action in ("pause", "resume"):
        values: dict[str, Any] = {
            "state": campaign["state"],
            "paused_by": campaign.get("paused_by"),
            "killed_as_of": campaign.get("killed_as_of"),
            "learning_since": campaign.get("learning_since"),
        }
    else:
        values = {
            "daily_budget": campaign["daily_budget"],
            "budget_changed_day": campaign["budget_changed_day"],
        }
    update_launch(conn, campaign["pid"], campaign["platform"], **values)


def pending_changes(conn: Connection) -> list[dict[str, Any]]:
    """Changes claimed by a run that died before the platform answered, with their campaign's ids."""
    query = (
        sa.select(ad_actions, ad_campaigns.c.adset_id)
        .select_from(
            ad_actions.join(
                ad_campaigns,
                sa.and_(
                    ad_campaigns.c.platform == ad_actions.c.platform,
                    ad_campaigns.c.campaign_id == ad_actions.c.campaign_id,
                ),
            )
        )
        .where(
            ad_actions.c.status == "pending",
            ad_actions.c.decided_at < now() - LAUNCH_LEASE,
            ad_actions.c.action.in_(CAMPAIGN_ACTIONS),  # a creative test's pause_ad resolves its own way
        )
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def first_delivery_days(conn: Connection) -> dict[tuple[str, str], date]:
    rows = conn.execute(
        sa.select(
            ad_metrics_daily.c.platform, ad_metrics_daily.c.campaign_id, sa.func.min(ad_metrics_daily.c.day)
        )
        .where(ad_metrics_daily.c.spend > 0)
        .group_by(ad_metrics_daily.c.platform, ad_metrics_daily.c.campaign_id)
    )
    return {(r[0], r[1]): r[2] for r in rows}
