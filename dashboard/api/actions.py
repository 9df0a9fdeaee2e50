"""The pipelines' own functions behind the dashboard's actions, with the code location's own resources.

- Approving a reply sends it with the support workflow's `services.support.send_approved_reply`: the text
  passes the workflow's last gate (a refusal is `ActionRefused` with the reasons), and the ledger row is
  claimed before the helpdesk is called, so a reply is sent once however often it is approved.
- Cancelling a held order calls the order actions the support workflow uses
  (`services.order_actions.OrderActions.cancel`): claimed in `order_actions` under
  "dashboard-order:<id>:cancel" before the store is called, so two clicks (or two dashboards) cancel once.
- Pausing a campaign calls the ad platform client the ads workflow uses (`set_campaign_active`), as
  `dropship_pipelines.resources.catalog.build_resources` configures it, initialised by Dagster
  (`dg.build_resources`: secrets resolved from the environment, torn down after the call).
"""

from collections.abc import Callable
from contextlib import ExitStack

import dagster as dg

from dropship_pipelines.resources.ad_platforms import AdPlatform
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.rules.outgoing_reply import ReplyBlocked
from dropship_pipelines.services import ads
from dropship_pipelines.services.ads import platforms_by_name
from dropship_pipelines.services.order_actions import ActionResult, OrderActions
from dropship_pipelines.services.support import ReplyNotAwaitingApproval, send_approved_reply
from dropship_pipelines.store.database import get_engine

# Sends an approved reply to the customer: (reply_key, text) -> the helpdesk's message id.
ReplySender = Callable[[str, str], str]
# Pauses a campaign on its platform: (platform, campaign_id) -> None; raises on failure.
CampaignPauser = Callable[[str, str], None]
# Cancels a store order (and withdraws its unpaid supplier order): order_id -> what was done.
OrderCanceller = Callable[[str], ActionResult]


class ActionConflict(Exception):
    """The action no longer applies (the reply was already sent or is being sent): HTTP 409."""


class ActionRefused(Exception):
    """The last gate refused the reply's text (it states what the context does not hold): HTTP 422 with
    the gate's reasons, so the operator can fix the text."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the reply was refused by the last check before sending: " + "; ".join(reasons))
        self.reasons = reasons


class ActionUnavailable(Exception):
    """This environment cannot perform the action (no credentials for the platform): it is only recorded."""


def reply_sender(store_url: str) -> ReplySender:
    def send_reply(reply_key: str, text: str) -> str:
        try:
            return send_approved_reply(store_url, reply_key, text)
        except ReplyNotAwaitingApproval as exc:
            raise ActionConflict(str(exc)) from exc
        except ReplyBlocked as exc:
            raise ActionRefused(exc.reasons) from exc

    return send_reply


def campaign_pauser() -> CampaignPauser:
    resources = build_resources()
    by_platform = platforms_by_name(resources["meta_ads"], resources["tiktok_ads"])

    def pause(platform: str, campaign_id: str) -> None:
        if platform not in by_platform:
            raise LookupError(f"no client for platform {platform}")
        with ExitStack() as stack:
            try:
                built = stack.enter_context(dg.build_resources({"platform": by_platform[platform]}))
            except dg.DagsterInvalidConfigError as exc:  # a credential is not set in this environment
                raise ActionUnavailable(f"no {platform} credentials in the dashboard's environment") from exc
            client: AdPlatform = built.platform
            ads.pause_campaign(client, campaign_id)  # the optimiser's own pause write

    return pause


def cancel_origin(order_id: str) -> str:
    """Who asks, in `order_actions`: the dashboard, for this order (one cancellation per order)."""
    return f"dashboard-order:{order_id}"


def order_canceller(store_url: str) -> OrderCanceller:
    resources = build_resources()
    engine = get_engine(store_url)

    def cancel(order_id: str) -> ActionResult:
        with ExitStack() as stack:
            try:
                built = stack.enter_context(
                    dg.build_resources({"shopify": resources["shopify"], "supplier": resources["supplier"]})
                )
            except dg.DagsterInvalidConfigError as exc:  # a credential is not set in this environment
                raise ActionUnavailable("no store or supplier credentials in this environment") from exc
            actions = OrderActions(
                engine=engine,
                store=built.shopify,
                supplier=built.supplier,
                policy=resources["support_policy"].policy(),
            )
            return actions.cancel(order_id, origin=cancel_origin(order_id), run_id="dashboard")

    return cancel
