"""The sandbox's CJ stock endpoints as CJ documents them: `getInventoryByPid` in CJ's other envelope
(`success: true, code: 200`, no `result`), `queryBySku` by variant SKU or product SPU, errors in-band."""

import httpx

from dropship_sandbox.app import CJ_PREFIX
from dropship_testkit.catalog_sync import cj_token
from dropship_testkit.sandbox_server import RunningSandbox


def _get(sandbox: RunningSandbox, path: str, **params: str) -> dict:
    answer = httpx.get(
        f"{sandbox.url}{CJ_PREFIX}{path}", params=params, headers={"CJ-Access-Token": cj_token(sandbox)}
    )
    assert answer.status_code == 200
    return answer.json()


def _product(sandbox: RunningSandbox) -> dict:
    with sandbox.world.lock, sandbox.world.state:
        return next(
            p
            for p in sandbox.world.state.all("cj_product")
            if p["saleStatus"] == 3 and len(p["variants"]) > 1
        )


def test_inventory_by_pid_lists_every_variant(sandbox: RunningSandbox) -> None:
    product = _product(sandbox)
    body = _get(sandbox, "/product/stock/getInventoryByPid", pid=product["pid"])
    assert body["success"] is True and body["code"] == 200 and "result" not in body
    by_vid = {v["vid"]: v["inventory"][0]["totalInventory"] for v in body["data"]["variantInventories"]}
    assert by_vid == {v["vid"]: v["inventoryNum"] for v in product["variants"]}
    assert body["data"]["inventories"][0]["totalInventoryNum"] == sum(by_vid.values())


def test_stock_by_sku_takes_a_variant_sku_or_the_spu(sandbox: RunningSandbox) -> None:
    product = _product(sandbox)
    variant = product["variants"][0]
    one = _get(sandbox, "/product/stock/queryBySku", sku=variant["variantSku"])
    assert one["success"] is True and one["data"][0]["totalInventoryNum"] == variant["inventoryNum"]
    whole = _get(sandbox, "/product/stock/queryBySku", sku=product["productSku"])
    assert whole["data"][0]["totalInventoryNum"] == sum(v["inventoryNum"] for v in product["variants"])


def test_stock_errors_are_in_band(sandbox: RunningSandbox) -> None:
    missing = _get(sandbox, "/product/stock/getInventoryByPid", pid="NO-SUCH-PID")
    assert missing["code"] == 1602001 and missing["success"] is False
    empty = _get(sandbox, "/product/stock/queryBySku")
    assert empty["code"] == 16900403 and empty["success"] is False
    unknown = _get(sandbox, "/product/stock/queryBySku", sku="NOPE")
    assert unknown["code"] == 1602000
