"""The budget-cap checks state the figures they compared (issue 11, item 9: `launch_budgets_within_cap`
showed an empty `cap`): the cap as money, the highest live budget, and the campaigns over it."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg

from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.database import get_engine
from dropship_testkit.pipelines import SMALL_VIDEO, build_ads_defs
from dropship_testkit.sandbox_server import RunningSandbox


def launch(defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("ad_launch_job").execute_in_process(
        run_config={"ops": {"ad_creatives": {"config": SMALL_VIDEO}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def cap_check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    checks = result.get_asset_check_evaluations()
    return next(e for e in checks if e.check_name == "launch_budgets_within_cap")


def test_the_cap_check_states_the_cap_and_the_budgets_it_compared(
    pipeline_env: dict[str, str], sandbox: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    defs = build_ads_defs({"budget_cap": 40}, tmp_path / "media")
    quiet = cap_check(launch(defs))  # no campaign yet: the check passes and still names its cap
    assert quiet.passed
    assert quiet.metadata["cap"].value == "$40.00 a day per campaign"
    assert quiet.metadata["highest_daily_budget"].value == "(no live campaign)"

    with get_engine(store_url).begin() as conn:
        conn.execute(
            ad_campaigns.insert(),
            [
                {"pid": "p-1", "platform": "meta", "campaign_id": "c-1", "state": "active",
                 "daily_budget": Decimal("55.00"), "launched_at": datetime.now(UTC)},
                {"pid": "p-2", "platform": "tiktok", "campaign_id": "c-2", "state": "active",
                 "daily_budget": Decimal("20.00"), "launched_at": datetime.now(UTC)},
            ],
        )  # fmt: skip
    over = cap_check(launch(defs))
    assert not over.passed
    assert over.metadata["cap"].value == "$40.00 a day per campaign"
    assert over.metadata["highest_daily_budget"].value == "$55.00"
    assert over.metadata["over_cap"].value == 1 and over.metadata["campaigns"].value == 2
    assert over.description and "$40.00" in over.description
