"""Reads and writes of the creative tests: each product's challenger video, each variant's ad, per-ad
daily metrics, and each test's state (services/creative_tests.py holds the protocol)."""

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dropship_pipelines.store.ads_queries import LAUNCH_LEASE, _insert_or_nothing, now
from dropship_pipelines.store.ads_tables import (
    ad_creative_variants,
    ad_variant_ads,
    ad_variant_metrics_daily,
    creative_tests,
)
from dropship_pipelines.store.database import upsert


def variant_creatives(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.pid, r.variant): dict(r._mapping) for r in conn.execute(sa.select(ad_creative_variants))}


def save_variant_creative(conn: Connection, row: dict[str, Any]) -> None:
    upsert(conn, ad_creative_variants, [row], keys=["pid", "variant"])


def variant_ads(conn: Connection) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r.pid, r.platform, r.variant): dict(r._mapping) for r in conn.execute(sa.select(ad_variant_ads))}


def record_control_ad(conn: Connection, row: dict[str, Any]) -> None:
    """The control's ad is the campaign's own (made by the launch): recorded once, as it is."""
    _insert_or_nothing(conn, ad_variant_ads, {**row, "attempts": 1, "updated_at": now()})


def claim_variant_ad(conn: Connection, row: dict[str, Any], seen: dict[str, Any] | None) -> bool:
    """Claim a variant's ad before it is created; False: another run has it. As `claim_launch`: a first
    claim INSERTs (a second run's INSERT loses); a retry takes the row by compare-and-set on `attempts`,
    only when failed, pending after an error, or pending past the lease (its run died)."""
    if seen is None:
        return _insert_or_nothing(conn, ad_variant_ads, {**row, "attempts": 1, "updated_at": now()})
    t = ad_variant_ads.c
    taken = conn.execute(
        ad_variant_ads.update()
        .where(
            t.pid == row["pid"],
            t.platform == row["platform"],
            t.variant == row["variant"],
            t.attempts == seen["attempts"],
            t.state.in_(("pending", "failed")),
            sa.or_(t.state == "failed", t.last_error.is_not(None), t.updated_at < now() - LAUNCH_LEASE),
        )
        .values(state="pending", last_error=None, attempts=t.attempts + 1, updated_at=now())
    )
    return taken.rowcount == 1


def update_variant_ad(conn: Connection, pid: str, platform: str, variant: str, **values: Any) -> None:
    t = ad_variant_ads.c
    conn.execute(
        ad_variant_ads.update()
        .where(t.pid == pid, t.platform == platform, t.variant == variant)
        .values(**values, updated_at=now())
    )


def replace_ad_metrics(
    conn: Connection, platform: str, first: date, last: date, rows: Iterable[dict[str, Any]]
) -> None:
    """Delete-then-insert one platform's per-ad days: re-pulls (restatements) are idempotent."""
    t = ad_variant_metrics_daily.c
    conn.execute(
        ad_variant_metrics_daily.delete().where(t.platform == platform, t.day >= first, t.day <= last)
    )
    rows = list(rows)
    if rows:
        conn.execute(ad_variant_metrics_daily.insert(), rows)


def ad_totals(conn: Connection, platform: str, ad_ids: list[str]) -> dict[str, dict[str, Any]]:
    """ad id -> its totals over every day pulled (a test runs from the ad's first delivery)."""
    if not ad_ids:
        return {}
    t = ad_variant_metrics_daily.c
    query = (
        sa.select(
            t.ad_id,
            sa.func.sum(t.spend).label("spend"),
            sa.func.sum(t.impressions).label("impressions"),
            sa.func.sum(t.clicks).label("clicks"),
            sa.func.sum(t.purchases).label("purchases"),
        )
        .where(t.platform == platform, t.ad_id.in_(ad_ids))
        .group_by(t.ad_id)
    )
    return {r.ad_id: dict(r._mapping) for r in conn.execute(query)}


def tests(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.pid, r.platform): dict(r._mapping) for r in conn.execute(sa.select(creative_tests))}


def start_test(conn: Connection, pid: str, platform: str, campaign_id: str) -> None:
    _insert_or_nothing(
        conn,
        creative_tests,
        {
            "pid": pid,
            "platform": platform,
            "campaign_id": campaign_id,
            "state": "running",
            "updated_at": now(),
        },
    )


def claim_test_decision(conn: Connection, pid: str, platform: str, values: dict[str, Any]) -> bool:
    """running -> pausing, with the decision: the claim of the loser's pause (False: another run has it)."""
    t = creative_tests.c
    claimed = conn.execute(
        creative_tests.update()
        .where(t.pid == pid, t.platform == platform, t.state == "running")
        .values(**values, state="pausing", updated_at=now())
    )
    return claimed.rowcount == 1


def resolve_test(conn: Connection, pid: str, platform: str, state: str, **values: Any) -> None:
    t = creative_tests.c
    conn.execute(
        creative_tests.update()
        .where(t.pid == pid, t.platform == platform)
        .values(**values, state=state, updated_at=now())
    )


def tests_in_state(conn: Connection, state: str) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(creative_tests).where(creative_tests.c.state == state))
    return [dict(r._mapping) for r in rows]


def creative_test_summaries(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """(platform, pid) -> its creative test as the dashboard shows it: state, winner, p-value, and each
    variant's ad, state and totals (clicks, purchases). Three reads for a page of campaigns."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    pids = sorted({pid for _, pid in keys})
    t, v = creative_tests.c, ad_variant_ads.c
    found = {
        (r.platform, r.pid): dict(r._mapping)
        for r in conn.execute(sa.select(creative_tests).where(t.pid.in_(pids)))
        if (r.platform, r.pid) in set(keys)
    }
    ads = [dict(r._mapping) for r in conn.execute(sa.select(ad_variant_ads).where(v.pid.in_(pids)))]
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for platform in {a["platform"] for a in ads}:
        ids = [a["ad_id"] for a in ads if a["platform"] == platform and a["ad_id"]]
        totals |= {(platform, ad_id): row for ad_id, row in ad_totals(conn, platform, ids).items()}
    summaries = {}
    for key, test in found.items():
        variants = [
            {
                "variant": a["variant"],
                "ad_id": a["ad_id"],
                "state": a["state"],
                "clicks": int((totals.get((a["platform"], a["ad_id"])) or {}).get("clicks") or 0),
                "purchases": int((totals.get((a["platform"], a["ad_id"])) or {}).get("purchases") or 0),
            }
            for a in sorted(ads, key=lambda a: a["variant"])
            if (a["platform"], a["pid"]) == key
        ]
        summaries[key] = {
            "state": test["state"],
            "winner": test["winner"],
            "loser": test["loser"],
            "p_value": test["p_value"],
            "variants": variants,
        }
    return summaries
