"""CJ account endpoints the start check and the preflight use: message settings (`POST /webhook/set`)
and the wallet balance (`GET /shopping/pay/getBalance`)."""

from decimal import Decimal

from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.errors import PayloadError

API = "cj"
# The message kinds `/webhook/set` configures: catalog changes (product, stock), orders and shipping.
MESSAGE_KINDS = ("product", "stock", "order", "logistics")


def set_webhooks(
    cj: CJDropshippingResource, callback_url: str, kinds: tuple[str, ...] = MESSAGE_KINDS
) -> None:
    """ENABLE every kind to `callback_url` (CJ keeps one URL per kind: setting it again changes nothing)."""
    body = {kind: {"type": "ENABLE", "callbackUrls": [callback_url]} for kind in kinds}
    data = cj.call("POST", "/webhook/set", body=body)
    if data is not True:
        raise PayloadError(API, f"/webhook/set answered {data!r}, not true")


def balance(cj: CJDropshippingResource) -> Decimal:
    """USD in the CJ wallet that orders are paid from."""
    data = cj.call("GET", "/shopping/pay/getBalance")
    try:
        return Decimal(str(data["amount"]))
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise PayloadError(API, "/shopping/pay/getBalance: answer has no amount") from exc
