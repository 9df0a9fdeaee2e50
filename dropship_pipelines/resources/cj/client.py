"""CJ Dropshipping API 2.0, the first `Supplier`: token lifecycle, QPS pacing, envelope codes mapped to our
error kinds, payloads mapped to the supplier-neutral models."""

import hashlib
import json
import os
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from pydantic import PrivateAttr, ValidationError

from dropship_pipelines.resources.cj import mapping, shadow
from dropship_pipelines.resources.cj.models import (
    CjFreightOption,
    CjOrder,
    CjProductDetail,
    CjProductPage,
    CjTrack,
)
from dropship_pipelines.resources.errors import (
    PayloadError,
    PermanentApiError,
    TransientApiError,
    raise_if_retryable,
)
from dropship_pipelines.resources.http import PooledHttp
from dropship_pipelines.resources.pacing import Pacer, pacer
from dropship_pipelines.resources.retry import call_with_retries
from dropship_pipelines.resources.supplier import (
    BasketLine,
    CatalogPage,
    DuplicateOrderError,
    FreightOption,
    OrderAlreadyPaidError,
    ProductDetail,
    SupplierOrder,
    SupplierOrderRequest,
    TrackingEvent,
)
from dropship_pipelines.resources.write_gate import gate_read, gate_write, is_shadow_id

API = "cj"
TRANSIENT_CODES = {1600000, 1600200, 1600301}  # system busy, too many requests, read timed out
TOO_MANY_REQUESTS = 1600200
THROTTLE_PAUSE_S = 1.0  # CJ's QPS window is one second
# Calls to one endpoint sent and not yet answered: a stalled server that then serves its queue at once sees
# at most this many together, and CJ's bucket (its QPS, full while calls come evenly paced) holds them with
# a call to spare. Two was too few to keep 4/s going once a round trip passed half a second.
IN_FLIGHT_PER_ENDPOINT = 3
# Calls go out from several threads at once: one of them fetches (or refreshes) the token, the rest wait
# for it, so the token endpoints (QPS 1) are asked once and the cache file is written once.
_TOKEN_LOCK = threading.Lock()
EXPIRED_TOKEN_CODES = {1600001, 1600002}
NO_SUCH_ORDER_CODES = {1600300, 1603100}
DUPLICATE_ORDER = 1603003  # "Order exist, please do not duplicate create"
# POSTs that change nothing at CJ (quotes, previews): not writes for shadow mode.
READ_ONLY_POSTS = {
    "/logistic/freightCalculate",
    "/logistic/freightCalculateTip",
    "/disputes/disputeConfirmInfo",
}
NOT_DELETABLE = 1603001  # the order's status (paid, confirmed) no longer allows deleting it


def _burst(qps: float) -> float:
    """CJ's per-endpoint bucket holds one second of calls and starts full, so an idle endpoint takes that
    many at once: the client's bucket holds one call less (the spare absorbs calls that leave evenly and
    arrive bunched), so a run's first lookups, or a catalog's pages, need not wait a second for the
    bucket's head start. At most one call at a time below 2/s."""
    return max(1.0, qps - 1.0)


class CJDropshippingResource(dg.ConfigurableResource):
    """CJ Dropshipping API 2.0 (`CJ-Access-Token` auth, HTTP 200 envelopes with `code`/`result`)."""

    base_url: str = "https://developers.cjdropshipping.com/api2.0/v1"
    api_key: str
    timeout_s: float = 20.0
    max_attempts: int = 6
    requests_per_second: float = 4.0  # per API (endpoint): the account level's documented QPS, the ceiling
    ip_requests_per_second: float = 10.0  # CJ's base limit for all APIs together, per IP
    token_cache_dir: str = ".data/tokens"

    _token: dict[str, Any] | None = PrivateAttr(default=None)
    _http: PooledHttp = PrivateAttr(default_factory=PooledHttp)  # one connection pool per instance

    @property
    def supplier(self) -> str:
        return API

    # --- transport ----------------------------------------------------------------------------------
    def _send(
        self, method: str, path: str, *, token: str | None, params: Any = None, body: Any = None
    ) -> dict[str, Any]:
        endpoint, ip = self._pacers(path)
        headers = {"CJ-Access-Token": token} if token else {}
        try:
            with endpoint.sending():
                endpoint.wait()
                ip.wait()
                response = self._http.client(self.timeout_s).request(
                    method, f"{self.base_url}{path}", params=params, json=body, headers=headers
                )
        except httpx.TimeoutException as exc:
            raise TransientApiError(API, f"{method} {path} timed out after {self.timeout_s}s") from exc
        raise_if_retryable(API, response, f"{method} {path} answered HTTP {response.status_code}")
        try:
            envelope = response.json()
        except ValueError as exc:
            raise PayloadError(
                API, f"{method} {path} answered HTTP {response.status_code} with non-JSON"
            ) from exc
        if not isinstance(envelope, dict):
            raise PayloadError(
                API, f"{method} {path} answered a JSON {type(envelope).__name__}, not an envelope"
            )
        return envelope

    def _pacers(self, path: str) -> tuple[Pacer, Pacer]:
        # CJ's QPS is per API (endpoint) per account, under a cap for all APIs per IP: one pacer for each,
        # shared by every instance in the process, at the account level's documented QPS. At most
        # IN_FLIGHT_PER_ENDPOINT calls to an endpoint are unanswered at a time, so a stalled server never
        # serves a bigger burst of them than its bucket holds.
        return (
            pacer(
                f"cj:{self.base_url}{path}",
                self.requests_per_second,
                max_in_flight=IN_FLIGHT_PER_ENDPOINT,
                burst=_burst(self.requests_per_second),
            ),
            pacer(f"cj-ip:{self.base_url}", self.ip_requests_per_second),
        )

    def _paced_outcome(self, path: str, code: Any) -> None:
        """CJ sends no usage figures, only 1600200 once over the QPS: slow down on it, else recover."""
        endpoint, ip = self._pacers(path)
        if code == TOO_MANY_REQUESTS:
            endpoint.throttled(THROTTLE_PAUSE_S)
            ip.throttled(THROTTLE_PAUSE_S)
        else:
            endpoint.succeeded()
            ip.succeeded()

    @staticmethod
    def _succeeded(envelope: dict[str, Any]) -> bool:
        # CJ mixes `result: true, code: 200` and `success: true, code: 0` envelopes.
        return (
            envelope.get("result") is True
            or envelope.get("success") is True
            or envelope.get("code") in (200, 0)
        )

    # --- tokens -------------------------------------------------------------------------------------
    def _cache_file(self) -> Path:
        key = hashlib.sha256(f"{self.base_url}|{self.api_key}".encode()).hexdigest()[:16]
        return Path(self.token_cache_dir) / f"cj-{key}.json"

    def _load_token(self) -> dict[str, Any] | None:
        if self._token is None:
            try:
                self._token = json.loads(self._cache_file().read_text())
            except (OSError, ValueError):
                return None
        return self._token

    def _store_token(self, data: dict[str, Any]) -> None:
        self._token = data
        path = self._cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.chmod(tmp, 0o600)  # tokens are secrets too
        tmp.replace(path)

    def _fetch_token(self) -> dict[str, Any]:
        cached = self._load_token()
        if cached and cached.get("refreshToken"):
            envelope = self._send(
                "POST",
                "/authentication/refreshAccessToken",
                token=None,
                body={"refreshToken": cached["refreshToken"]},
            )
            if self._succeeded(envelope):
                data = envelope["data"]
                self._store_token(data)
                return data
        envelope = self._send(
            "POST", "/authentication/getAccessToken", token=None, body={"apiKey": self.api_key}
        )
        if not self._succeeded(envelope):
            code = envelope.get("code")
            if code in TRANSIENT_CODES:
                raise TransientApiError(API, f"getAccessToken: {envelope.get('message')}", code=code)
            raise PermanentApiError(
                API, f"getAccessToken refused: {envelope.get('message')}; check CJ_API_KEY", code=code
            )
        data = envelope["data"]
        self._store_token(data)
        return data

    def _access_token(self) -> str:
        cached = self._load_token()
        if cached:
            return str(cached["accessToken"])
        with _TOKEN_LOCK:
            cached = self._load_token()  # fetched by another thread while this one waited
            return str((cached or self._fetch_token())["accessToken"])

    def _renew_token(self, expired: str) -> None:
        """The token `expired` was refused: renew it, unless another thread has already."""
        with _TOKEN_LOCK:
            current = self._load_token()
            if current is None or current.get("accessToken") == expired:
                self._token = None
                self._fetch_token()

    # --- calls --------------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        """One API call with token refresh and retries; returns the envelope's `data`."""
        if method != "GET" and path not in READ_ONLY_POSTS:  # shadow mode records writes here instead
            shadowed = gate_write(API, f"{method} {path}", {"params": params, "body": body})
            if shadowed is not None:  # answered as CJ would have, with synthetic ids
                return shadow.write_answer(method, path, body, shadowed)
        elif gate_read(API, f"{method} {path}", {"params": params, "body": body}):
            return shadow.read_answer(path, params, body)  # names an order only shadow mode made

        def attempt() -> Any:
            token = self._access_token()
            envelope = self._send(method, path, token=token, params=params, body=body)
            code = envelope.get("code")
            self._paced_outcome(path, code)
            if code in EXPIRED_TOKEN_CODES:
                self._renew_token(token)
                raise TransientApiError(
                    API, f"{path}: access token expired, refreshed", code=code, retry_after=0
                )
            if self._succeeded(envelope):
                return envelope.get("data")
            message = f"{method} {path}: {envelope.get('message')}"
            if code in TRANSIENT_CODES:
                wait = THROTTLE_PAUSE_S if code == TOO_MANY_REQUESTS else None
                raise TransientApiError(API, message, code=code, retry_after=wait)
            raise PermanentApiError(API, message, code=code)

        return call_with_retries(attempt, max_attempts=self.max_attempts)

    # --- catalog ------------------------------------------------------------------------------------
    def catalog_page(self, page: int, size: int = 200) -> CatalogPage:
        """One page of `/product/list` (each page costs the same points, so ask for CJ's maximum, 200)."""
        data = self.call("GET", "/product/list", params={"pageNum": page, "pageSize": size})
        try:
            listed = CjProductPage.model_validate(data)
        except ValidationError as exc:
            raise PayloadError(
                API, f"/product/list page {page}: unexpected shape: {exc.errors()[:2]}"
            ) from exc
        return CatalogPage(listed.page, listed.total, [mapping.catalog_product(raw) for raw in listed.items])

    def product_detail(self, pid: str) -> ProductDetail:
        data = self.call("GET", "/product/query", params={"pid": pid})
        try:
            detail = CjProductDetail.model_validate(data)
        except ValidationError as exc:
            raise PayloadError(API, f"/product/query {pid}: unexpected shape: {exc.errors()[:2]}") from exc
        return mapping.product_detail(detail)

    def freight_options(
        self, country: str, basket: list[BasketLine], zip_code: str | None = None
    ) -> list[FreightOption]:
        """Shipping routes and prices of a basket from CJ's warehouse to `country`."""
        body = mapping.freight_body(country, basket, zip_code)
        data = self.call("POST", "/logistic/freightCalculate", body=body)
        try:
            return [mapping.freight_option(CjFreightOption.model_validate(item)) for item in data or []]
        except (ValidationError, ValueError) as exc:
            raise PayloadError(API, f"/logistic/freightCalculate to {country}: unexpected shape") from exc

    # --- stock and price at order time (the order gate) -----------------------------------------------
    def variant_stock(self, vid: str) -> int:
        """`/product/stock/queryByVid`: units of the variant in CJ's warehouses, summed."""
        data = self.call("GET", "/product/stock/queryByVid", params={"vid": vid})
        try:
            return sum(int(a.get("totalInventoryNum") or a.get("storageNum") or 0) for a in data or [])
        except (AttributeError, TypeError, ValueError) as exc:
            raise PayloadError(API, f"/product/stock/queryByVid {vid}: unexpected shape") from exc

    def variant_price(self, vid: str) -> Decimal | None:
        """`/product/variant/queryByVid`: the variant's sell price now (what an order of it costs)."""
        data = self.call("GET", "/product/variant/queryByVid", params={"vid": vid})
        if not isinstance(data, dict):
            raise PayloadError(API, f"/product/variant/queryByVid {vid}: answer is not a variant")
        price = data.get("variantSellPrice")
        try:
            return None if price in (None, "") else Decimal(str(price)).quantize(Decimal("0.01"))
        except ArithmeticError as exc:
            raise PayloadError(API, f"/product/variant/queryByVid {vid}: price {price!r}") from exc

    # --- stock of a whole product (the catalog sync) ---------------------------------------------------
    def product_stock(self, pid: str) -> dict[str, int]:
        """`/product/stock/getInventoryByPid`: units of each variant (vid -> units), all warehouses summed."""
        data = self.call("GET", "/product/stock/getInventoryByPid", params={"pid": pid})
        try:
            items = (data or {}).get("variantInventories") or []
            return {
                str(item["vid"]): sum(int(a.get("totalInventory") or 0) for a in item.get("inventory") or [])
                for item in items
            }
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise PayloadError(API, f"/product/stock/getInventoryByPid {pid}: unexpected shape") from exc

    # --- orders (api-contracts.md §2.9-2.11) ---------------------------------------------------------
    def _order(self, data: Any, what: str) -> SupplierOrder:
        try:
            order = CjOrder.model_validate(data)
        except ValidationError as exc:
            raise PayloadError(API, f"{what}: answer is not an order") from exc
        if not order.order_id:
            raise PayloadError(API, f"{what}: answer has no orderId")
        return mapping.supplier_order(order)

    def create_order(self, order: SupplierOrderRequest) -> SupplierOrder:
        """`createOrderV2`. A repeated orderNumber is refused (1603003), never created twice."""
        try:
            data = self.call("POST", "/shopping/order/createOrderV2", body=mapping.order_body(order))
        except PermanentApiError as error:
            if error.code == DUPLICATE_ORDER:
                raise DuplicateOrderError(API, str(error), code=error.code) from error
            raise
        if not isinstance(data, dict) or not data.get("orderId"):
            raise PayloadError(API, f"createOrderV2 {order.order_number}: answer has no orderId")
        return self._order(data, f"createOrderV2 {order.order_number}")

    def find_order(self, order_id_or_number: str) -> SupplierOrder | None:
        """`getOrderDetail` by CJ order id or by our orderNumber; None when CJ has no such order."""
        try:
            data = self.call("GET", "/shopping/order/getOrderDetail", params={"orderId": order_id_or_number})
        except PermanentApiError as error:
            if error.code in NO_SUCH_ORDER_CODES:
                return None
            raise
        if not isinstance(data, dict):
            raise PayloadError(API, f"getOrderDetail {order_id_or_number}: answer is not an order")
        return self._order(data, f"getOrderDetail {order_id_or_number}")

    def delete_unpaid_order(self, supplier_order_id: str) -> bool:
        """`DELETE /shopping/order/deleteOrder`: True when deleted, False when CJ has no such order; a paid
        or confirmed order raises OrderAlreadyPaidError (1603001)."""
        try:
            self.call("DELETE", "/shopping/order/deleteOrder", params={"orderId": supplier_order_id})
        except PermanentApiError as error:
            if error.code in NO_SUCH_ORDER_CODES:
                return False
            if error.code == NOT_DELETABLE:
                raise OrderAlreadyPaidError(API, str(error), code=error.code) from error
            raise
        return True

    def orders(self, supplier_order_ids: list[str]) -> list[SupplierOrder]:
        """Several orders in one call (`/shopping/order/list?orderIds=a&orderIds=b`)."""
        if not supplier_order_ids:
            return []
        made_up = [i for i in supplier_order_ids if is_shadow_id(i)]
        if made_up:  # shadow mode's orders are answered here, the others asked of CJ
            real = [i for i in supplier_order_ids if not is_shadow_id(i)]
            return self.orders(real) + [self._order(shadow.order(i), "shadow order") for i in made_up]
        params = [("pageNum", 1), ("pageSize", min(200, len(supplier_order_ids)))] + [
            ("orderIds", i) for i in supplier_order_ids
        ]
        data = self.call("GET", "/shopping/order/list", params=params)
        if not isinstance(data, dict) or not isinstance(data.get("list"), list):
            raise PayloadError(API, "/shopping/order/list: answer has no list")
        return [self._order(item, "/shopping/order/list") for item in data["list"]]

    def tracking(self, track_numbers: list[str]) -> list[TrackingEvent]:
        """Carrier status of shipments (`/logistic/trackInfo`, repeated `trackNumber`)."""
        if not track_numbers:
            return []
        data = self.call("GET", "/logistic/trackInfo", params=[("trackNumber", n) for n in track_numbers])
        try:
            return [mapping.tracking_event(CjTrack.model_validate(item)) for item in data or []]
        except (ValidationError, TypeError) as exc:
            raise PayloadError(API, "/logistic/trackInfo: unexpected shape") from exc
