"""The sandbox's CJ listV2 search, category tree and cart payment flow answer as api-contracts.md §2.4/§2.9
records them (issue 15): v2 field names, paging limits, wrong method, the cart's own envelope, the wallet."""

from typing import Any

import httpx

from dropship_sandbox import credentials
from dropship_sandbox.app import CJ_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox


def cj(sandbox: RunningSandbox) -> tuple[str, dict[str, str]]:
    base = sandbox.url + CJ_PREFIX
    body = httpx.post(f"{base}/authentication/getAccessToken", json={"apiKey": credentials.CJ_API_KEY}).json()
    return base, {"CJ-Access-Token": body["data"]["accessToken"]}


def list_v2(base: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    return httpx.get(f"{base}/product/listV2", headers=headers, params=params).json()


def test_list_v2_shape_paging_and_v2_field_names(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    body = list_v2(base, headers, page=1, size=20)
    assert body["code"] == 200 and body["result"] is True
    data = body["data"]
    assert {"pageSize", "pageNumber", "totalRecords", "totalPages", "content"} <= set(data)
    assert data["pageSize"] == 20 and data["pageNumber"] == 1
    assert data["totalPages"] == -(-data["totalRecords"] // 20)
    block = data["content"][0]
    assert {
        "productList",
        "relatedCategoryList",
        "categoryList",
        "storeList",
        "keyWord",
        "keyWordOld",
    } <= set(block)
    assert block["storeList"][0]["countryCode"] == "CN" and "::" in block["searchHit"]
    items = block["productList"]
    assert len(items) == 20
    second = list_v2(base, headers, page=2, size=20)["data"]["content"][0]["productList"]
    assert not {i["id"] for i in items} & {i["id"] for i in second}
    assert list_v2(base, headers)["data"]["pageSize"] == 10  # the default size
    v1 = httpx.get(f"{base}/product/list", headers=headers, params={"pageSize": 200}).json()["data"]["list"]
    assert data["totalRecords"] == httpx.get(f"{base}/product/list", headers=headers).json()["data"]["total"]
    item = next(i for i in items if i["sellPrice"])
    old = next(p for p in v1 if p["pid"] == item["id"]) if any(p["pid"] == item["id"] for p in v1) else None
    if old is None:
        old = httpx.get(f"{base}/product/query", headers=headers, params={"pid": item["id"]}).json()["data"]
    # The same product under v2's names, and none of v1's.
    assert item["nameEn"] == old["productNameEn"] and item["bigImage"] == old["productImage"]
    assert isinstance(item["sellPrice"], str) and float(item["sellPrice"]) == old["sellPrice"]
    assert isinstance(old["sellPrice"], float)
    assert not {"pid", "productNameEn", "productImage"} & set(item)
    assert isinstance(item["createAt"], int) and item["categoryId"] == old["categoryId"]


def test_list_v2_filters_by_keyword_category_and_price(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    sample = list_v2(base, headers, size=100)["data"]["content"][0]["productList"][0]
    word = sample["nameEn"].split()[-1]
    found = list_v2(base, headers, keyWord=word, size=100)["data"]
    assert found["totalRecords"] >= 1 and found["content"][0]["keyWord"] == word
    assert all(word.lower() in i["nameEn"].lower() for i in found["content"][0]["productList"])
    in_category = list_v2(base, headers, categoryId=sample["categoryId"], size=100)["data"]
    assert in_category["totalRecords"] >= 1
    assert {i["categoryId"] for i in in_category["content"][0]["productList"]} == {sample["categoryId"]}
    priced = list_v2(base, headers, startSellPrice=5, endSellPrice=10, size=100, orderBy=2, sort="asc")
    prices = [float(i["sellPrice"]) for i in priced["data"]["content"][0]["productList"]]
    assert prices and all(5 <= p <= 10 for p in prices) and prices == sorted(prices)
    everything = list_v2(base, headers)["data"]["totalRecords"]
    assert priced["data"]["totalRecords"] < everything


def test_list_v2_refuses_post_and_out_of_range_params(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    posted = httpx.post(f"{base}/product/listV2", headers=headers, json={"page": 1}).json()
    assert (
        posted["code"] == 16900202
        and posted["result"] is False
        and "'POST' not supported" in posted["message"]
    )
    for params in ({"size": 101}, {"size": 0}, {"page": 1001}, {"page": 0}, {"size": "ten"}):
        refused = list_v2(base, headers, **params)
        assert refused["code"] == 1600300 and refused["result"] is False and refused["data"] is None, params
    assert list_v2(base, headers, startSellPrice="cheap")["code"] == 1600300
    assert list_v2(base, headers, orderBy=9)["code"] == 1600300
    assert httpx.get(f"{base}/product/listV2").json()["code"] == 1600002  # the token, as on every endpoint


def test_get_category_tree_holds_every_category_the_catalog_uses(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    body = httpx.get(f"{base}/product/getCategory", headers=headers).json()
    assert body["code"] == 200
    leaves = {
        leaf["categoryId"]
        for first in body["data"]
        for second in first["categoryFirstList"]
        for leaf in second["categorySecondList"]
    }
    assert all(first["categoryFirstName"] for first in body["data"])
    assert all(s["categorySecondName"] for f in body["data"] for s in f["categoryFirstList"])
    used = {p["categoryId"] for p in sandbox.world.state.all("cj_product")}
    assert used and used <= leaves
    assert httpx.post(f"{base}/product/getCategory", headers=headers, json={}).json()["code"] == 16900202


def created_order(base: str, headers: dict[str, str], number: str) -> dict[str, Any]:
    """A createOrderV2 with payType 3 (pay later) for a sellable variant on a route CJ offers."""
    listed = list_v2(base, headers, size=50)["data"]["content"][0]["productList"]
    variant = None
    for item in listed:
        detail = httpx.get(f"{base}/product/query", headers=headers, params={"pid": item["id"]}).json()[
            "data"
        ]
        variant = next((v for v in detail["variants"] if int(v.get("inventoryNum") or 0) > 0), None)
        if variant and variant.get("variantSellPrice"):
            break
    assert variant is not None
    freight = {
        "startCountryCode": "CN",
        "endCountryCode": "US",
        "products": [{"quantity": 1, "vid": variant["vid"]}],
    }
    routes = httpx.post(f"{base}/logistic/freightCalculate", headers=headers, json=freight).json()["data"]
    body = {
        "orderNumber": number,
        "shippingCountryCode": "US",
        "shippingCountry": "United States",
        "shippingProvince": "Texas",
        "shippingCity": "Austin",
        "shippingCustomerName": "Jane Doe",
        "shippingAddress": "1 Main St",
        "shippingZip": "78701",
        "logisticName": routes[0]["logisticName"],
        "fromCountryCode": "CN",
        "payType": 3,
        "products": [{"vid": variant["vid"], "quantity": 1}],
    }
    created = httpx.post(f"{base}/shopping/order/createOrderV2", headers=headers, json=body).json()
    assert created["code"] == 200, created
    return created["data"]


def cart(base: str, headers: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{base}{path}", headers=headers, json=body)
    assert answer.status_code == 200
    envelope = answer.json()
    assert envelope["success"] is envelope["result"] is (envelope["code"] == 200) and envelope["requestId"]
    return envelope


def to_shipment(base: str, headers: dict[str, str], order_ids: list[str]) -> tuple[str, str]:
    added = cart(base, headers, "/shopping/order/addCart", {"cjOrderIdList": order_ids})
    assert added["code"] == 200 and added["message"] == "Congratulation! Well done!"
    assert added["data"] == {
        "successCount": len(order_ids),
        "addSuccessOrders": order_ids,
        "interceptOrders": [],
    }
    confirmed = cart(base, headers, "/shopping/order/addCartConfirm", {"cjOrderIdList": order_ids})
    shipment = confirmed["data"]["shipmentsId"]
    parent = cart(base, headers, "/shopping/order/saveGenerateParentOrder", {"shipmentOrderId": shipment})
    assert parent["code"] == 200 and parent["data"]["payId"]
    return shipment, parent["data"]["payId"]


def balance(base: str, headers: dict[str, str]) -> float:
    return httpx.get(f"{base}/shopping/pay/getBalance", headers=headers).json()["data"]["amount"]


def test_cart_flow_pays_orders_once_from_the_wallet(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    orders = [created_order(base, headers, f"shopify-cart-{n}") for n in (1, 2)]
    ids = [o["orderId"] for o in orders]
    shipment, pay_id = to_shipment(base, headers, ids)
    parent = cart(base, headers, "/shopping/order/saveGenerateParentOrder", {"shipmentOrderId": shipment})
    total = round(sum(o["orderAmount"] for o in orders), 2)
    assert parent["data"]["payId"] == pay_id and parent["data"]["paymentInformation"]["amount"] == total
    before = balance(base, headers)
    paid = cart(base, headers, "/shopping/pay/payBalanceV2", {"shipmentOrderId": shipment, "payId": pay_id})
    assert paid["code"] == 200 and paid["success"] is True
    assert balance(base, headers) == round(before - total, 2)
    again = cart(base, headers, "/shopping/pay/payBalanceV2", {"shipmentOrderId": shipment, "payId": pay_id})
    assert again["code"] == 1603101 and again["success"] is False and again["data"] is None
    assert balance(base, headers) == round(before - total, 2)  # charged once
    # payBalance refuses the same orders as already paid, in the same words.
    single = httpx.post(f"{base}/shopping/pay/payBalance", headers=headers, json={"orderId": ids[0]}).json()
    assert single["code"] == again["code"]
    sandbox.control("POST", "/clock", {"advance_seconds": 5 * 3600})
    for order_id in ids:
        detail = httpx.get(
            f"{base}/shopping/order/getOrderDetail", headers=headers, params={"orderId": order_id}
        )
        assert detail.json()["data"]["orderStatus"] in ("UNSHIPPED", "CANCELLED"), detail.json()
    assert any(
        httpx.get(f"{base}/shopping/order/getOrderDetail", headers=headers, params={"orderId": i}).json()[
            "data"
        ]["orderStatus"]
        == "UNSHIPPED"
        for i in ids
    )


def test_cart_intercepts_orders_it_cannot_add(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    order = created_order(base, headers, "shopify-cart-3")
    added = cart(base, headers, "/shopping/order/addCart", {"cjOrderIdList": [order["orderId"], "SD404"]})
    assert added["data"]["successCount"] == 1 and added["data"]["addSuccessOrders"] == [order["orderId"]]
    assert [i["cjOrderId"] for i in added["data"]["interceptOrders"]] == ["SD404"]
    sandbox.control("POST", "/settings", {"cj_intercept_orders": True})
    held = created_order(base, headers, "shopify-cart-4")
    refused = cart(base, headers, "/shopping/order/addCart", {"cjOrderIdList": [held["orderId"]]})
    assert (
        refused["data"]["successCount"] == 0
        and refused["data"]["interceptOrders"][0]["cjOrderId"] == held["orderId"]
    )
    not_in_cart = cart(base, headers, "/shopping/order/addCartConfirm", {"cjOrderIdList": [held["orderId"]]})
    assert not_in_cart["code"] == 1603001 and not_in_cart["success"] is False
    # Bad bodies, in CJ's codes.
    assert cart(base, headers, "/shopping/order/addCart", {})["code"] == 16900403
    assert cart(base, headers, "/shopping/order/addCart", {"cjOrderIdList": "SD1"})["code"] == 1600300
    assert (
        cart(base, headers, "/shopping/order/saveGenerateParentOrder", {"shipmentOrderId": 7})["code"]
        == 1600300
    )
    assert (
        cart(base, headers, "/shopping/order/saveGenerateParentOrder", {"shipmentOrderId": "SP1"})["code"]
        == 1603100
    )
    assert cart(base, headers, "/shopping/pay/payBalanceV2", {"shipmentOrderId": "SP1"})["code"] == 16900403
    wrong_method = httpx.get(f"{base}/shopping/order/addCart", headers=headers).json()
    assert wrong_method["code"] == 16900202


def test_pay_balance_v2_on_a_short_wallet_is_1604000_and_pays_nothing(sandbox: RunningSandbox) -> None:
    base, headers = cj(sandbox)
    order = created_order(base, headers, "shopify-cart-5")
    shipment, pay_id = to_shipment(base, headers, [order["orderId"]])
    sandbox.control("POST", "/settings", {"cj_balance": 0.01})
    short = cart(base, headers, "/shopping/pay/payBalanceV2", {"shipmentOrderId": shipment, "payId": pay_id})
    assert (
        short["code"] == 1604000
        and short["message"] == "Balance is insufficient"
        and short["success"] is False
    )
    assert balance(base, headers) == 0.01
    assert (
        cart(base, headers, "/shopping/pay/payBalanceV2", {"shipmentOrderId": shipment, "payId": "1"})["code"]
        == 1600300
    )  # a payId of another parent order
    sandbox.control("POST", "/settings", {"cj_balance": 100_000.0})
    paid = cart(base, headers, "/shopping/pay/payBalanceV2", {"shipmentOrderId": shipment, "payId": pay_id})
    assert paid["code"] == 200
