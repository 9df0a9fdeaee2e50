"""Shopify Admin GraphQL: calculated-cost throttling, THROTTLED backoff, userErrors as typed failures,
answers parsed into the typed models of `models.py`."""

import functools
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
import httpx
from pydantic import PrivateAttr, TypeAdapter, ValidationError

from dropship_pipelines.resources.ad_platforms import server_time
from dropship_pipelines.resources.errors import (
    PayloadError,
    PermanentApiError,
    TransientApiError,
    raise_if_retryable,
)
from dropship_pipelines.resources.http import PooledHttp
from dropship_pipelines.resources.pacing import CostBucket, cost_bucket
from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.resources.shopify.models import (
    AddressInput,
    Fulfillment,
    MailingAddress,
    OrderChange,
    OrderFulfillments,
    OrderStamp,
    OrderState,
    ProductInput,
    Refund,
    StoreOrder,
    TaggedProduct,
    TrackingInfo,
)
from dropship_pipelines.resources.write_gate import gate_read, gate_write, graphql_mutation

API = "shopify"
MAX_PAGE = 250  # the most a connection's `first` may ask for


# Points a query is assumed to cost before Shopify has costed it once (a page of orders asks ~250).
UNKNOWN_QUERY_COST = 250.0
_answered_at: dict[str, tuple[float, datetime]] = {}  # shop URL -> its newest answer (last_answer_time)
_answers_lock = threading.Lock()
_requested_cost: dict[str, float] = {}  # query hash -> the requestedQueryCost Shopify last reported


class ShopifyUserError(PermanentApiError):
    """A mutation ran and Shopify refused it (`userErrors`): the record needs fixing, not a retry."""

    def __init__(self, operation: str, errors: list[dict[str, Any]]) -> None:
        detail = "; ".join(f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in errors)
        super().__init__(
            API, f"{operation} refused: {detail}", code=(errors[0].get("code") if errors else None)
        )
        self.errors = errors


@dataclass(frozen=True)
class ListedProduct:
    product_id: str
    handle: str
    variants_by_sku: dict[str, str]  # sku -> ProductVariant GID


PRODUCT_SET = """
mutation ListProduct($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id handle variants(first: 100) { nodes { id sku price } } }
    userErrors { field message code }
  }
}
"""

PRODUCT_BY_HANDLE = """
query ProductByHandle($handle: String!) {
  productByIdentifier(identifier: {handle: $handle}) { id handle variants(first: 100) { nodes { id sku } } }
}
"""


class ShopifyAdminResource(dg.ConfigurableResource):
    """Shopify Admin GraphQL API (`X-Shopify-Access-Token`)."""

    shop_url: str = "https://your-store.myshopify.com"
    access_token: str
    api_version: str = "2026-10"
    timeout_s: float = 20.0
    max_attempts: int = 8
    bucket_size: float = 2000.0  # the Standard plan's bucket and restore rate, until Shopify reports its own
    restore_rate: float = 100.0

    _http: PooledHttp = PrivateAttr(default_factory=PooledHttp)  # one connection pool per instance

    @property
    def endpoint(self) -> str:
        return f"{self.shop_url.rstrip('/')}/admin/api/{self.api_version}/graphql.json"

    def _bucket(self) -> CostBucket:
        """The shop's cost bucket mirror, shared by every instance and thread of the process; sized as the
        Standard plan until Shopify's first `throttleStatus` says otherwise."""
        return cost_bucket(self.shop_url, self.bucket_size, self.restore_rate)

    def _settle(
        self, query_key: str, reserved: float, sent_at: float, extensions: dict[str, Any] | None
    ) -> None:
        """Book what Shopify charged (nothing for a throttled call) and take its `throttleStatus`."""
        cost = (extensions or {}).get("cost") or {}
        bucket = self._bucket()
        charged = cost.get("actualQueryCost")
        bucket.settle(reserved, float(charged) if charged is not None else 0.0)
        status = cost.get("throttleStatus")
        if status:
            bucket.observe(
                float(status["maximumAvailable"]),
                float(status["currentlyAvailable"]),
                float(status["restoreRate"]),
                sent_at,
            )
        if cost.get("requestedQueryCost") is not None:
            _requested_cost[query_key] = float(cost["requestedQueryCost"])

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, retry: bool = True
    ) -> dict[str, Any]:
        """Run one GraphQL operation and return its `data`, retrying throttles and transient failures
        (`retry=False`: one attempt, for a write whose caller looks for its effect before trying again)."""
        # The requested cost grows with the page asked for: remembered per query and page size, so a
        # small page's cost is never what a large one of the same query reserves.
        first = (variables or {}).get("first")
        key = hashlib.sha1(f"{query}|{first}".encode()).hexdigest()
        mutation = graphql_mutation(query)
        if mutation:  # every store write is a mutation: shadow mode records it here instead
            shadowed = gate_write(API, mutation, variables or {})
            if shadowed is not None:  # answered as Shopify would have, with synthetic GIDs
                from dropship_pipelines.resources.shopify import shadow  # graphql-core: shadow mode only

                return shadow.mutation_answer(query, variables or {}, shadowed)
        elif gate_read(API, query[:80], variables or {}):  # names an object only shadow mode made
            from dropship_pipelines.resources.shopify import shadow

            return shadow.read_answer(query, variables or {})

        def attempt() -> dict[str, Any]:
            # Paid before it is sent, at what Shopify asked for this query last time: the server takes
            # the requested cost up front, so a call only goes when the mirror holds it.
            reserved = self._bucket().reserve(_requested_cost.get(key, UNKNOWN_QUERY_COST))
            sent_at = self._bucket().now()
            try:
                response = self._http.client(self.timeout_s).post(
                    self.endpoint,
                    json={"query": query, "variables": variables or {}},
                    headers={"X-Shopify-Access-Token": self.access_token},
                )
            except httpx.TimeoutException as exc:
                raise TransientApiError(API, f"request timed out after {self.timeout_s}s") from exc
            except httpx.TransportError:
                self._bucket().settle(reserved, 0.0)  # never reached Shopify's limiter
                raise
            if response.status_code != 200:
                self._bucket().settle(reserved, 0.0)
            if response.status_code == 401:
                raise PermanentApiError(API, "invalid access token; check SHOPIFY_ACCESS_TOKEN", code=401)
            raise_if_retryable(API, response, f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise PermanentApiError(
                    API, f"HTTP {response.status_code}: {response.text[:300]}", code=response.status_code
                )
            _note_answer_time(self.shop_url, response)
            try:
                body = response.json()
            except ValueError as exc:
                raise PayloadError(API, "answer is not JSON") from exc
            self._settle(key, reserved, sent_at, body.get("extensions") if isinstance(body, dict) else None)
            errors = body.get("errors") or []
            if isinstance(errors, list) and any(
                (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
            ):
                cost = body["extensions"]["cost"]
                status = cost["throttleStatus"]
                wait = (cost["requestedQueryCost"] - status["currentlyAvailable"]) / status["restoreRate"]
                raise TransientApiError(API, "THROTTLED", code="THROTTLED", retry_after=max(wait, 0.05))
            if errors:
                raise PermanentApiError(API, f"GraphQL errors: {errors}")
            if body.get("data") is None:
                raise PayloadError(API, "answer has no data")
            return body["data"]

        return call_with_retries(attempt, max_attempts=self.max_attempts) if retry else attempt()

    # --- products -----------------------------------------------------------------------------------
    @staticmethod
    def _listed(product: dict[str, Any]) -> ListedProduct:
        return ListedProduct(
            product["id"],
            product["handle"],
            {v["sku"]: v["id"] for v in product["variants"]["nodes"] if v.get("sku")},
        )

    def product_by_handle(self, handle: str) -> ListedProduct | None:
        product = self.execute(PRODUCT_BY_HANDLE, {"handle": handle})["productByIdentifier"]
        return self._listed(product) if product else None

    def set_product(self, handle: str, product: ProductInput) -> ListedProduct:
        """Create or update the product with this handle: a repeated call never creates a second one."""
        data = self.execute(
            PRODUCT_SET, {"input": product.product_set_input(), "identifier": {"handle": handle}}
        )
        payload = data["productSet"]
        if payload["userErrors"]:
            raise ShopifyUserError("productSet", payload["userErrors"])
        return self._listed(payload["product"])

    def products_tagged(self, tag: str) -> Iterator[TaggedProduct]:
        """Every product carrying `tag`, with all its tags."""
        pages = self._pages(PRODUCTS_TAGGED, {"query": f"tag:{tag}"}, "products", TaggedProduct, "products")
        for page in pages:
            yield from page

    def _pages(
        self, document: str, variables: dict[str, Any], connection: str, model: Any, what: str
    ) -> Iterator[list[Any]]:
        """Each page of a paginated connection (`pageInfo { hasNextPage endCursor }`), parsed as `model`s
        (`what` names them in a payload error); a page is asked for when the one before it is done with."""
        after = None
        while True:
            page = self.execute(document, {**variables, "after": after})[connection]
            yield _parse(list[model], page["nodes"], what)
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    # --- orders and fulfillments (api-contracts.md §1.5-1.7) -----------------------------------------
    def orders_since(
        self, updated_since: str | None, page_size: int = 20, *, inclusive: bool = True
    ) -> Iterator[StoreOrder]:
        """Every order updated at or after `updated_since` (ISO; None = all; `inclusive=False`: strictly
        after it), oldest change first."""
        for page in self.order_pages_since(updated_since, page_size, inclusive=inclusive):
            yield from page

    def order_pages_since(
        self, updated_since: str | None, page_size: int = 20, *, inclusive: bool = True
    ) -> Iterator[list[StoreOrder]]:
        """`orders_since` a page at a time: each page is asked for when the one before it is done with, so
        a caller can tell when each was read."""
        op = ">=" if inclusive else ">"
        query = f"updated_at:{op}'{updated_since}'" if updated_since else ""
        variables = {"first": page_size, "query": query}
        yield from self._pages(ORDERS_SINCE, variables, "orders", StoreOrder, "orders")

    def order_changes(
        self, since: str, through: str, page_size: int = 250, *, through_inclusive: bool = True
    ) -> Iterator[OrderChange]:
        """Id and `updatedAt` of every order last changed between `since` and `through` (ISO, both
        inclusive; `through_inclusive=False`: before it), oldest change first: ~1 point per order where
        the full read costs ~14, so a re-read window can be checked against the ledger and only what it
        lacks read in full."""
        variables = {"first": page_size, "query": _changed_between(since, through, through_inclusive)}
        for page in self._pages(ORDER_CHANGES, variables, "orders", OrderChange, "order changes"):
            yield from page

    def changed_count_is(self, since: str, before: str, count: int) -> bool:
        """Whether exactly `count` orders last changed at or after `since` and before `before` (ISO), told
        by page boundaries alone: pages of `pageInfo` (~3 points a request whatever the page's size) step
        over `count - 1` orders and one more is asked for, where the change listing pays a point an order.
        A second in which a burst of orders changed is checked for ~7 points instead of one per order."""
        query = _changed_between(since, before, False)
        after: str | None = None
        left = count - 1  # orders stepped over before the last one is asked for
        while left > 0:
            size = min(MAX_PAGE, left)
            variables = {"first": size, "after": after, "query": query}
            page = self.execute(ORDER_COUNT_PAGE, variables)["orders"]["pageInfo"]
            if not page["hasNextPage"]:
                return False  # fewer than `count`
            left -= size
            after = page["endCursor"]
        variables = {"first": 2 if count > 0 else 1, "after": after, "query": query}
        nodes = self.execute(ORDER_COUNT_LAST, variables)["orders"]["nodes"]
        return len(nodes) == (1 if count > 0 else 0)

    def newest_order(self) -> OrderStamp | None:
        """The most recently created order (id, name, createdAt): a cheap probe for sensors."""
        nodes = self.execute(NEWEST_ORDER)["orders"]["nodes"]
        return _parse(OrderStamp, nodes[0], "newest order") if nodes else None

    def fulfillment_orders(self, order_id: str) -> OrderFulfillments | None:
        """The order's fulfillment orders (with remaining quantities) and the fulfillments it already has."""
        order = self.execute(ORDER_FULFILLMENT_ORDERS, {"id": order_id})["order"]
        return _parse(OrderFulfillments, order, f"order {order_id}") if order else None

    def fulfillment_orders_of(
        self, order_ids: list[str], page_size: int = 50
    ) -> dict[str, OrderFulfillments]:
        """`fulfillment_orders` of many orders at once, by order id: orders with neighbouring ids are read
        as one id range (`orders(query: "id:>=A id:<=B")`, ~3 points and a fiftieth of a request an order,
        where one `order(id)` read is 4 points and a request); an order alone is read by itself. Orders in
        a range that were not asked for (at most one between two asked) are dropped; a missing order is
        absent from the answer."""
        numbers = sorted({gid_number(i): i for i in order_ids}.items())
        found: dict[str, OrderFulfillments] = {}
        for run in _id_runs([n for n, _ in numbers], page_size):
            wanted = {gid for n, gid in numbers if run[0] <= n <= run[-1]}
            if len(run) == 1:
                order = self.fulfillment_orders(next(iter(wanted)))
                found.update({order.id: order} if order else {})
                continue
            variables = {"first": page_size, "query": f"id:>={run[0]} id:<={run[-1]}"}
            what = "orders' fulfillment orders"
            for page in self._pages(ORDERS_FULFILLMENT_ORDERS, variables, "orders", OrderFulfillments, what):
                found.update((order.id, order) for order in page if order.id in wanted)
        return found

    def create_fulfillment(
        self,
        fulfillment_order_ids: list[str],
        tracking: TrackingInfo,
        notify_customer: bool,
        message: str | None = None,
    ) -> Fulfillment:
        """Fulfil whole fulfillment orders with tracking; userErrors (e.g. already closed) raise."""
        data = self.execute(
            FULFILLMENT_CREATE,
            {
                "fulfillment": {
                    "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": i} for i in fulfillment_order_ids],
                    "trackingInfo": tracking.model_dump(),
                    "notifyCustomer": notify_customer,
                },
                "message": message,
            },
        )
        payload = data["fulfillmentCreate"]
        if payload["userErrors"]:
            raise ShopifyUserError("fulfillmentCreate", payload["userErrors"])
        return _parse(Fulfillment, payload["fulfillment"], "fulfillmentCreate")

    # --- changes to an order after checkout (orderCancel, refundCreate, orderUpdate) -------------------
    def order_state(self, order_id: str) -> OrderState | None:
        """What an order action checks and a crashed claim is resolved by: cancelled, refunds, address."""
        order = self.execute(ORDER_STATE, {"id": order_id})["order"]
        return _parse(OrderState, order, f"order {order_id}") if order else None

    def cancel_order(
        self,
        order_id: str,
        *,
        refund: bool,
        restock: bool = True,
        notify_customer: bool = True,
        note: str = "",
    ) -> str:
        """`orderCancel` (reason CUSTOMER), refunding to the original payment method when `refund`; the
        id of Shopify's cancellation job. orderCancelUserErrors raise ShopifyUserError."""
        data = self.execute(
            ORDER_CANCEL,
            {
                "orderId": order_id,
                "reason": "CUSTOMER",
                "refundMethod": {"originalPaymentMethodsRefund": refund},
                "restock": restock,
                "notifyCustomer": notify_customer,
                "staffNote": note or None,
            },
        )
        payload = data["orderCancel"]
        errors = payload.get("orderCancelUserErrors") or payload.get("userErrors") or []
        if errors:
            raise ShopifyUserError("orderCancel", errors)
        return str((payload.get("job") or {}).get("id") or "")

    def create_refund(self, order: OrderState, amount: Decimal, *, note: str, notify: bool = True) -> Refund:
        """`refundCreate` of `amount` back to the order's payment, with `note` (our idempotency key, by
        which a retry finds it). userErrors (more than is refundable, ...) raise ShopifyUserError."""
        payment = order.payment
        if payment is None:
            raise ShopifyUserError(
                "refundCreate", [{"field": ["transactions"], "message": "the order has no payment to refund"}]
            )
        variables = {
            "input": {
                "orderId": order.id,
                "note": note,
                "notify": notify,
                "transactions": [
                    {
                        "orderId": order.id,
                        "parentId": payment.id,
                        "kind": "REFUND",
                        "gateway": payment.gateway or "manual",
                        "amount": f"{amount:.2f}",
                    }
                ],
            }
        }

        def refund_unless_there() -> Refund:
            # Before every attempt (a 5xx or a timeout may hide a refund that was made), look for ours.
            current = self.order_state(order.id)
            found = current.refund_noted(note) if current else None
            if found is not None:
                return found
            payload = self.execute(REFUND_CREATE, variables, retry=False)["refundCreate"]
            if payload["userErrors"]:
                raise ShopifyUserError("refundCreate", payload["userErrors"])
            return _parse(Refund, payload["refund"], "refundCreate")

        return call_with_retries(refund_unless_there, max_attempts=self.max_attempts)

    def update_shipping_address(self, order_id: str, address: AddressInput) -> MailingAddress:
        """`orderUpdate` of the shipping address; the address as the store now holds it."""
        data = self.execute(
            ORDER_UPDATE,
            {"input": {"id": order_id, "shippingAddress": address.model_dump(by_alias=True)}},
        )
        payload = data["orderUpdate"]
        if payload["userErrors"]:
            raise ShopifyUserError("orderUpdate", payload["userErrors"])
        return _parse(MailingAddress, payload["order"]["shippingAddress"], "orderUpdate")

    def update_tracking(
        self, fulfillment_id: str, tracking: TrackingInfo, *, notify_customer: bool
    ) -> Fulfillment:
        """`fulfillmentTrackingInfoUpdate` with new tracking (a changed tracking number); with
        `notify_customer` the store emails the customer the new link."""
        data = self.execute(
            FULFILLMENT_TRACKING_UPDATE,
            {
                "fulfillmentId": fulfillment_id,
                "trackingInfoInput": tracking.model_dump(),
                "notifyCustomer": notify_customer,
            },
        )
        payload = data["fulfillmentTrackingInfoUpdate"]
        if payload["userErrors"]:
            raise ShopifyUserError("fulfillmentTrackingInfoUpdate", payload["userErrors"])
        return _parse(Fulfillment, payload["fulfillment"], "fulfillmentTrackingInfoUpdate")

    def resend_tracking(self, fulfillment: Fulfillment) -> Fulfillment:
        """`fulfillmentTrackingInfoUpdate` with the fulfillment's own tracking and `notifyCustomer`: the
        store sends the customer its shipping email again."""
        tracking = fulfillment.tracking[0] if fulfillment.tracking else TrackingInfo()
        data = self.execute(
            FULFILLMENT_TRACKING_UPDATE,
            {
                "fulfillmentId": fulfillment.id,
                "trackingInfoInput": tracking.model_dump(),
                "notifyCustomer": True,
            },
        )
        payload = data["fulfillmentTrackingInfoUpdate"]
        if payload["userErrors"]:
            raise ShopifyUserError("fulfillmentTrackingInfoUpdate", payload["userErrors"])
        return _parse(Fulfillment, payload["fulfillment"], "fulfillmentTrackingInfoUpdate")


def _note_answer_time(shop_url: str, response: httpx.Response) -> None:
    moment = server_time(response.headers.get_list("date"))
    if moment is not None:
        with _answers_lock:
            _answered_at[shop_url] = (time.monotonic(), moment.astimezone(UTC))


def last_answer_time(shop_url: str) -> tuple[float, datetime] | None:
    """(this machine's monotonic time, the store's `Date`) of the newest answer from this shop: the store's
    clock then, to the whole second, read with no call of its own (resources/shopify/clock.py)."""
    with _answers_lock:
        return _answered_at.get(shop_url)


def _changed_between(since: str, through: str, inclusive: bool) -> str:
    return f"updated_at:>='{since}' updated_at:{'<=' if inclusive else '<'}'{through}'"


def gid_number(gid: str) -> int:
    """The number at the end of a Shopify GID (`gid://shopify/Order/5600000000001`): ids in creation order."""
    return int(gid.rsplit("/", 1)[-1])


def _id_runs(numbers: list[int], most: int) -> list[list[int]]:
    """Sorted ids cut into runs of at most `most` ids, none spanning more than one unasked id at a time."""
    runs: list[list[int]] = []
    for n in numbers:
        last = runs[-1] if runs else None
        if last is not None and n - last[-1] <= 2 and n - last[0] < most:
            last.append(n)
        else:
            runs.append([n])
    return runs


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _parse(model: Any, data: Any, what: str) -> Any:
    """`data` as `model` (a model class or e.g. `list[StoreOrder]`); a wrong shape is a PayloadError."""
    try:
        return _adapter(model).validate_python(data)
    except ValidationError as exc:
        raise PayloadError(API, f"{what}: unexpected shape: {exc.errors()[:2]}") from exc


PRODUCTS_TAGGED = """
query ProductsTagged($after: String, $query: String) {
  products(first: 250, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { id tags }
  }
}
"""

ORDERS_SINCE = """
query OrdersSince($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt email cancelledAt
      displayFinancialStatus displayFulfillmentStatus tags
      customer { firstName lastName }
      totalPriceSet { shopMoney { amount currencyCode } } presentmentCurrencyCode
      shippingAddress {
        name firstName lastName address1 address2 city province provinceCode zip country countryCodeV2 phone
      }
      transactions(first: 1) { kind status gateway fees { amount { amount } } }
      lineItems(first: 10) {
        nodes { id name sku quantity originalUnitPriceSet { shopMoney { amount } } variant { id sku } }
      }
    }
  }
}
"""

NEWEST_ORDER = """
query NewestOrder { orders(first: 1, sortKey: CREATED_AT, reverse: true) { nodes { id name createdAt } } }
"""

ORDER_CHANGES = """
query OrderChanges($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}
"""

# Page boundaries only (`changed_count_is`): what a page holds is not asked for, so it costs ~3 points.
# Sorted as ORDER_COUNT_LAST, whose page starts at this one's end cursor.
ORDER_COUNT_PAGE = """
query OrderCountPage($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
  }
}
"""

ORDER_COUNT_LAST = """
query OrderCountLast($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { nodes { id } }
}
"""

# What a whole-order post needs and nothing more: the fulfillment orders' ids and states, and the
# fulfillments already there (empty, so free, unless an earlier post landed). Line items are not asked
# for: fulfillmentCreate without line items fulfils the whole fulfillment order. ~4 points an order.
ORDER_FULFILLMENT_ORDERS = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id displayFulfillmentStatus
    fulfillmentOrders(first: 5) { nodes { id status } }
    fulfillments(first: 5) { id status trackingInfo(first: 3) { company number url } }
  }
}
"""

ORDERS_FULFILLMENT_ORDERS = """
query OrdersFulfillmentOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id displayFulfillmentStatus
      fulfillmentOrders(first: 5) { nodes { id status } }
      fulfillments(first: 5) { id status trackingInfo(first: 3) { company number url } }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status createdAt trackingInfo(first: 3) { company number url } }
    userErrors { field message }
  }
}
"""

_ADDRESS_FIELDS = (
    "name firstName lastName address1 address2 city province provinceCode zip country countryCodeV2 phone"
)
ORDER_STATE = f"""
query OrderState($id: ID!) {{
  order(id: $id) {{
    id name email cancelledAt displayFinancialStatus displayFulfillmentStatus
    totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
    totalRefundedSet {{ shopMoney {{ amount currencyCode }} }}
    shippingAddress {{ {_ADDRESS_FIELDS} }}
    refunds(first: 20) {{ id note createdAt totalRefundedSet {{ shopMoney {{ amount currencyCode }} }} }}
    transactions(first: 20) {{ id kind status gateway }}
    fulfillments(first: 5) {{ id status trackingInfo(first: 3) {{ company number url }} }}
  }}
}}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput,
                     $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
    userErrors { field message }
  }
}
"""

REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id note createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

ORDER_UPDATE = f"""
mutation OrderUpdate($input: OrderInput!) {{
  orderUpdate(input: $input) {{
    order {{ id shippingAddress {{ {_ADDRESS_FIELDS} }} }}
    userErrors {{ field message }}
  }}
}}
"""

FULFILLMENT_TRACKING_UPDATE = """
mutation FulfillmentTrackingInfoUpdate($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!,
                                       $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput,
                                notifyCustomer: $notifyCustomer) {
    fulfillment { id status trackingInfo(first: 3) { company number url } }
    userErrors { field message }
  }
}
"""
