"""The other workflows' functions the dashboard's actions call, when those workflows provide them.

- Sending an approved reply: `dropship_pipelines.support_actions.send_approved_reply(store_url, reply_key,
  text) -> str` (the helpdesk message id), provided by the customer-service workflow.
- Pausing a campaign: the ads workflow's platform resources (`set_campaign_active(campaign_id, False)`),
  built from the same environment as the pipelines.
Missing either, the action is recorded in `dashboard_actions` and the API says it was only recorded.
"""

import importlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("dashboard")


class ActionConflict(Exception):
    """The action no longer applies (the reply was already sent or is being sent): HTTP 409."""


def reply_sender(store_url: str) -> Callable[[str, str], str] | None:
    try:
        module = importlib.import_module("dropship_pipelines.support_actions")
    except ImportError:
        return None
    send = getattr(module, "send_approved_reply", None)
    if send is None:
        return None

    def send_reply(reply_key: str, text: str) -> str:
        try:
            return str(send(store_url, reply_key, text))
        except module.ReplyNotAwaitingApproval as exc:
            raise ActionConflict(str(exc)) from exc

    return send_reply


def campaign_pauser() -> Callable[[str, str], None] | None:
    try:
        from dropship_pipelines.resources.catalog import build_resources

        resources = build_resources()
    except Exception as exc:
        log.info("no ad platform clients for the dashboard: %s", type(exc).__name__)
        return None
    platforms: dict[str, Any] = {}
    for resource in resources.values():
        if hasattr(resource, "set_campaign_active") and hasattr(resource, "platform"):
            try:
                initialised = resource.process_config_and_initialize()  # resolves its EnvVar secrets
                platforms[str(initialised.platform)] = initialised
            except Exception as exc:  # credentials not in this environment
                log.info("ad platform %s not usable from the dashboard: %s", type(resource).__name__, exc)
    if not platforms:
        return None

    def pause(platform: str, campaign_id: str) -> None:
        if platform not in platforms:
            raise LookupError(f"no client for platform {platform}")
        platforms[platform].set_campaign_active(campaign_id, False)

    return pause
