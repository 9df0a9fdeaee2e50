"""Creative tests' ledger protocol: the challenger video of each new product, its ad beside the control's in
the product's ad set / ad group, per-ad metrics, and the loser's pause once the rule decides.

- The challenger ("b", price-first) is rendered with the control ("a", the product's creative) from the same
  copy (`rules.creative_tests.plan_variants`): two renders per product.
- Its ad is claimed in `ad_variant_ads` (`pending`, attempts + 1) before anything is created, as a launch is
  (`claim_variant_ad`): a first claim INSERTs and a second run's INSERT loses; a retry takes the row by
  compare-and-set. The video and ad ids are written as soon as the platform returns them; a resumed claim
  looks the ad up by its deterministic name first, so an overlap or a crash never makes a second ad.
  The launch makes it before it switches the campaign on, so both variants start together.
- The decision (`rules.creative_tests.judge_test`) is claimed in `creative_tests` (running -> pausing, by
  compare-and-set) together with its `ad_actions` row (`pause_ad`, pending, with its inputs and reason)
  in one transaction; then the platform pauses the loser's ad (an absolute write), then the claim is
  resolved (`decided`, the action `applied`). A run that died in between leaves `pausing`: the next run
  makes the write again and resolves it. Two overlapping runs pause the loser once.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.resources.ad_platforms import AdPlatform, AdText
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.rules.ad_rules import AdPolicy
from dropship_pipelines.rules.creative_tests import (
    CHALLENGER,
    CONTROL,
    AdDay,
    CreativeTestDecision,
    VariantResult,
    judge_test,
)
from dropship_pipelines.store import ads_queries as q
from dropship_pipelines.store import creative_test_queries as ct_q

Row = dict[str, Any]


def challenger_ad_name(pid: str) -> str:
    """Deterministic (looked up on resume) and never containing the control's name (`ads.ad_name`)."""
    return f"Video ad b pid:{pid}"


# --- launch --------------------------------------------------------------------------------------------
def add_challenger(
    platform: AdPlatform,
    engine: Engine,
    product: Row,
    campaign: Row,
    creative: Row,
    challenger: Row | None,
    store_url: str,
) -> Row | None:
    """The challenger's ad in the campaign's ad set, beside the control's; the test started. None: nothing
    to do (no challenger video, already live) or another run holds the claim."""
    pid, name = product["pid"], platform.platform
    if not challenger or challenger.get("status") != "ok" or not challenger.get("video_path"):
        return None
    with engine.begin() as conn:
        known = ct_q.variant_ads(conn)
        ct_q.record_control_ad(
            conn,
            {
                "pid": pid,
                "platform": name,
                "variant": CONTROL,
                "campaign_id": campaign["campaign_id"],
                "adset_id": campaign["adset_id"],
                "video_id": campaign.get("video_id"),
                "ad_id": campaign["ad_id"],
                "state": "active",
            },
        )
        seen = known.get((pid, name, CHALLENGER))
        if seen and seen["state"] in ("active", "paused"):
            ct_q.start_test(conn, pid, name, campaign["campaign_id"])
            return None
        row = {
            "pid": pid,
            "platform": name,
            "variant": CHALLENGER,
            "campaign_id": campaign["campaign_id"],
            "adset_id": campaign["adset_id"],
            "state": "pending",
        }
        if not ct_q.claim_variant_ad(conn, row, seen):
            return None
    resumed = seen is not None
    row = {**(seen or {}), **row}

    def save(**values: Any) -> None:
        row.update(values)
        with engine.begin() as conn:
            ct_q.update_variant_ad(conn, pid, name, CHALLENGER, **values)

    try:
        if not row.get("video_id"):
            fingerprint = challenger["video_fingerprint"]
            save(
                video_id=platform.upload_video(Path(challenger["video_path"]), f"{pid}-b-{fingerprint[:12]}")
            )
        if not row.get("ad_id"):
            text = AdText(
                headline=challenger["headline"][:40] if name == "meta" else challenger["headline"],
                message=creative["caption"],
                call_to_action=creative["call_to_action"],
                link=f"{store_url.rstrip('/')}/products/{product['handle']}",
                thumbnail_url=product["image_url"],
            )
            ad_name = challenger_ad_name(pid)
            found = platform.find_ad(campaign["adset_id"], ad_name) if resumed else None
            save(ad_id=found or platform.create_ad(campaign["adset_id"], ad_name, row["video_id"], text))
    except ApiError as error:
        save(state="failed", last_error=str(error)[:2000])
        raise
    save(state="active", last_error=None)
    with engine.begin() as conn:
        ct_q.start_test(conn, pid, name, campaign["campaign_id"])
    return row


def launch_challengers(
    engine: Engine,
    platforms: Mapping[str, AdPlatform],
    store_url: str,
    *,
    max_attempts: int,
    log: logging.Logger,
) -> int:
    """Challengers of live campaigns that lack theirs (a launch whose challenger step failed): added."""
    with engine.connect() as conn:
        products = {p["pid"]: p for p in q.listed_products(conn)}
        creatives = q.creatives(conn)
        challengers = ct_q.variant_creatives(conn)
        ads = ct_q.variant_ads(conn)
        campaigns = [r for r in q.ledger(conn).values() if r["state"] == "active" and r["ad_id"]]
    added = 0
    for campaign in campaigns:
        pid, name = campaign["pid"], campaign["platform"]
        seen = ads.get((pid, name, CHALLENGER))
        challenger = challengers.get((pid, CHALLENGER))
        if name not in platforms or pid not in products or not challenger or pid not in creatives:
            continue
        if seen and (seen["state"] in ("active", "paused") or seen["attempts"] >= max_attempts):
            continue
        try:
            if add_challenger(
                platforms[name], engine, products[pid], campaign, creatives[pid], challenger, store_url
            ):
                added += 1
        except ApiError as error:
            log.warning("product %s on %s: challenger ad failed: %s", pid, name, error)
    return added


# --- metrics -------------------------------------------------------------------------------------------
def pull_ad_days(
    platforms: Iterable[AdPlatform], first: date, last: date
) -> tuple[dict[str, list[AdDay]], dict[str, str]]:
    pulled, errors = {}, {}
    for platform in platforms:
        try:
            pulled[platform.platform] = platform.ad_days(first, last)
        except ApiError as error:
            errors[platform.platform] = str(error)
    return pulled, errors


def save_ad_days(engine: Engine, pulled: Mapping[str, list[AdDay]], first: date, last: date) -> int:
    written = 0
    with engine.begin() as conn:
        for platform, days in pulled.items():
            rows = [
                {
                    "day": d.numbers.day,
                    "platform": platform,
                    "ad_id": d.ad_id,
                    "campaign_id": d.numbers.campaign_id,
                    "spend": d.numbers.spend,
                    "impressions": d.numbers.impressions,
                    "clicks": d.numbers.clicks,
                    "purchases": d.numbers.purchases,
                    "revenue": d.numbers.revenue,
                }
                for d in days
                if first <= d.numbers.day <= last
            ]
            ct_q.replace_ad_metrics(conn, platform, first, last, rows)
            written += len(rows)
    return written


# --- decisions -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreativeJudgement:
    test: Row
    control: Row
    challenger: Row
    decision: CreativeTestDecision


def _result(variant: str, ad: Row, totals: Mapping[str, Row]) -> VariantResult:
    t = totals.get(ad["ad_id"]) or {}
    return VariantResult(
        variant=variant,
        ad_id=ad["ad_id"],
        clicks=int(t.get("clicks") or 0),
        purchases=int(t.get("purchases") or 0),
        spend=Decimal(str(t.get("spend") or 0)),
        impressions=int(t.get("impressions") or 0),
    )


def judge_tests(conn: Connection, policy: AdPolicy) -> list[CreativeJudgement]:
    """The rule's decision for every running test, on each variant's totals so far (nothing changes)."""
    ads = ct_q.variant_ads(conn)
    judged = []
    for test in ct_q.tests_in_state(conn, "running"):
        a = ads.get((test["pid"], test["platform"], CONTROL))
        b = ads.get((test["pid"], test["platform"], CHALLENGER))
        if not a or not b or not a["ad_id"] or not b["ad_id"]:
            continue
        totals = ct_q.ad_totals(conn, test["platform"], [a["ad_id"], b["ad_id"]])
        decision = judge_test(
            _result(CONTROL, a, totals), _result(CHALLENGER, b, totals), policy.creative_tests()
        )
        judged.append(CreativeJudgement(test, a, b, decision))
    return judged


@dataclass
class CreativeTestsReport:
    running: int = 0
    decided: list[Row] = field(default_factory=list)
    undecided: dict[str, str] = field(default_factory=dict)  # platform:pid -> why
    claimed_elsewhere: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    resolved_left_over: int = 0


def _loser_ad(judgement: CreativeJudgement) -> Row:
    return judgement.control if judgement.decision.loser == CONTROL else judgement.challenger


def resolve_left_over(engine: Engine, platforms: Mapping[str, AdPlatform], log: logging.Logger) -> int:
    """Tests whose run died between the claim and the platform's answer (`pausing` past the lease): the
    pause is an absolute write, so making it again resolves them whether or not the first one arrived."""
    with engine.connect() as conn:
        left = [
            t for t in ct_q.tests_in_state(conn, "pausing") if t["updated_at"] and _stale(t["updated_at"])
        ]
        ads = ct_q.variant_ads(conn)
    resolved = 0
    for test in left:
        loser = ads.get((test["pid"], test["platform"], test["loser"]))
        platform = platforms.get(test["platform"])
        if not loser or platform is None:
            continue
        try:
            platform.set_ad_active(loser["ad_id"], False)
        except ApiError as error:
            log.warning(
                "test %s on %s: left-over pause not resolved: %s", test["pid"], test["platform"], error
            )
            continue
        _resolve_paused(engine, test, test["loser"])
        resolved += 1
    return resolved


def _stale(updated: Any) -> bool:
    updated = updated if updated.tzinfo else updated.replace(tzinfo=UTC)
    return updated < q.now() - q.LAUNCH_LEASE


def _resolve_paused(engine: Engine, test: Row, loser: str) -> None:
    with engine.begin() as conn:
        ct_q.update_variant_ad(conn, test["pid"], test["platform"], loser, state="paused")
        ct_q.resolve_test(conn, test["pid"], test["platform"], "decided", decided_at=q.now())
        if test.get("action_id"):
            q.finish_action(conn, test["action_id"], "applied")


def decide_tests(
    engine: Engine,
    platforms: Mapping[str, AdPlatform],
    policy: AdPolicy,
    *,
    as_of: date | None,
    dry_run: bool,
    run_id: str,
    log: logging.Logger,
) -> CreativeTestsReport:
    """Pause each decided test's loser, claimed first and recorded with the decision's inputs and reason
    in `ad_actions` (`pause_ad`), beside the kills and scales; a dry run records it as proposed."""
    report = CreativeTestsReport()
    if not dry_run:
        report.resolved_left_over = resolve_left_over(engine, platforms, log)
    with engine.connect() as conn:
        judged = judge_tests(conn, policy)
        campaigns = {
            (r["platform"], r["campaign_id"]): r for r in q.ledger(conn).values() if r["campaign_id"]
        }
    report.running = len(judged)
    for judgement in judged:
        test, decision = judgement.test, judgement.decision
        key = f"{test['platform']}:{test['pid']}"
        if decision.outcome != "winner" or decision.loser is None:
            report.undecided[key] = decision.reason
            continue
        loser = _loser_ad(judgement)
        campaign = campaigns.get((test["platform"], test["campaign_id"])) or {}
        numbers = decision.inputs[decision.loser]
        record = {
            "decided_at": q.now(),
            "platform": test["platform"],
            "campaign_id": test["campaign_id"],
            "pid": test["pid"],
            "action": "pause_ad",
            "status": "proposed" if dry_run else "pending",
            "reason": f"creative test: {decision.reason}",
            "window_days": policy.window_days,
            "spend": Decimal(numbers["spend"]),
            "revenue": Decimal(0),
            "purchases": numbers["purchases"],
            "roas": None,
            "old_budget": campaign.get("daily_budget") or Decimal(0),
            "new_budget": None,
            "run_id": run_id,
            "as_of": as_of,
            "inputs": {**decision.inputs, "winner": decision.winner, "loser": decision.loser},
        }
        if dry_run:
            with engine.begin() as conn:
                q.record_action(conn, record)
            report.decided.append({"test": key, "loser": decision.loser, "status": "proposed"})
            continue
        with engine.begin() as conn:  # the claim and its decision's record, together or not at all
            claimed = ct_q.claim_test_decision(
                conn,
                test["pid"],
                test["platform"],
                {
                    "winner": decision.winner,
                    "loser": decision.loser,
                    "as_of": as_of,
                    "p_value": decision.p_value,
                    "reason": decision.reason,
                    "inputs": record["inputs"],
                },
            )
            if claimed:
                action_id = q.record_action(conn, record)
                ct_q.resolve_test(conn, test["pid"], test["platform"], "pausing", action_id=action_id)
        if not claimed:
            report.claimed_elsewhere += 1
            log.info("test %s: another run decided it first", key)
            continue
        try:
            platforms[test["platform"]].set_ad_active(loser["ad_id"], False)
        except (ApiError, KeyError) as error:
            with engine.begin() as conn:
                ct_q.resolve_test(conn, test["pid"], test["platform"], "running", winner=None, loser=None)
                q.finish_action(conn, action_id, "failed", str(error)[:2000])
            report.failures.append((key, str(error)[:200]))
            log.warning("test %s: pausing the loser failed: %s", key, error)
            continue
        _resolve_paused(engine, {**test, "action_id": action_id}, decision.loser)
        report.decided.append({"test": key, "winner": decision.winner, "loser": decision.loser,
                               "p_value": round(decision.p_value or 0, 6)})  # fmt: skip
        log.info("test %s: %s", key, decision.reason)
    return report


def ad_days_window(as_of: date, policy: AdPolicy) -> tuple[date, date]:
    """The per-ad days re-pulled with the campaigns' (restated for as long)."""
    return as_of - timedelta(days=policy.restatement_days - 1), as_of
