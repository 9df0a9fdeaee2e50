"""A failing check's records arrive as a metadata table (`preview_table`); the check alert carries them as
rows, redacted like any other record."""

import dagster as dg

from dropship_pipelines.alerts.messages import check_failure_alert
from dropship_pipelines.assets.metadata import preview_table
from dropship_pipelines.sensors.alerts import read_check_evaluations

PLANTED = "planted-secret-TABLE-24680"


@dg.asset(group_name="test", kinds={"python"}, owners=["team:store"])
def priced_items() -> dg.MaterializeResult:
    """Always materializes; its check decides."""
    return dg.MaterializeResult(metadata={"items": 1})


@dg.asset_check(asset=priced_items, description="No item sold under cost.")
def items_cover_cost() -> dg.AssetCheckResult:
    under = [{"sku": "SKU-1", "customer_email": "bob@example.com", "note": f"key {PLANTED}", "margin": -0.5}]
    return dg.AssetCheckResult(
        passed=False, metadata={"records": preview_table(under, ("sku", "customer_email", "note", "margin"))}
    )


def test_check_alert_carries_the_table_rows_redacted() -> None:
    with dg.instance_for_test() as instance:
        assert dg.materialize([priced_items, items_cover_cost], instance=instance).success
        [evaluation] = read_check_evaluations(instance, [items_cover_cost.check_key], after_id=0)

    assert evaluation.metadata["records"] == [
        {"sku": "SKU-1", "customer_email": "bob@example.com", "note": f"key {PLANTED}", "margin": -0.5}
    ]
    alert = check_failure_alert(
        asset=evaluation.asset,
        check=evaluation.check,
        job=evaluation.job,
        run_id=evaluation.run_id,
        description=evaluation.description,
        metadata=evaluation.metadata,
        webserver_url="https://dagster.shop.test",
        secrets=[PLANTED],
    )
    assert alert.details["Failing records"]["records"] == [
        {"sku": "SKU-1", "customer_email": "[redacted]", "note": "key [redacted]", "margin": -0.5}
    ]
