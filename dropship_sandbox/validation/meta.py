"""Meta Marketing API parameters, checked against the facebook-business SDK's own request definitions.

Every create and update call of the SDK (`AdAccount.create_campaign`, `create_ad_set`, `create_ad`,
`create_ad_creative`, `create_ad_video`, `Campaign.api_update`, `get_insights`, ...) declares the type of
each parameter it may send (`unsigned int`, `bool`, `list<Object>`, `optimization_goal_enum`, ...) and the
values of each enum. The SDK only warns about a bad value; the Graph API refuses it. The sandbox builds each
call with `pending=True` (no network) when it starts and reads the SDK's `TypeChecker` from the request, so
a new SDK brings its new enums with it and no list is copied here. On top of the types, the combinations the
API requires (`promoted_object` for conversion goals, the billing event those goals bill on) are checked.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adpromotedobject import AdPromotedObject
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import FacebookRequest


class InvalidParameter(Exception):
    """A parameter the Graph API refuses with code 100; the router renders it as Meta's error body."""

    def __init__(self, message: str, *, subcode: int | None = None, user_title: str | None = None) -> None:
        super().__init__(message)
        self.message, self.subcode, self.user_title = message, subcode, user_title


@dataclass(frozen=True)
class RequestDefinition:
    """What the SDK declares for one call: each parameter's type and each enum's values."""

    param_types: Mapping[str, str]
    enums: Mapping[str, frozenset[str]]


def _enum_values(raw: Any) -> frozenset[str]:
    # The SDK passes an enum class's `__dict__.values()`: its module name and dunder attributes come along.
    return frozenset(v for v in raw if isinstance(v, str) and not v.startswith("facebook_business."))


def _definition(build: Callable[[], FacebookRequest]) -> RequestDefinition:
    checker = build()._param_checker
    return RequestDefinition(
        param_types=dict(checker._type_check_info),
        enums={name: _enum_values(values) for name, values in checker._enum_data.items()},
    )


# The Graph calls the sandbox serves, by (object kind or account edge, method), as the SDK makes them.
_CALLS: dict[str, Callable[[], FacebookRequest]] = {
    "campaigns": lambda: AdAccount("act_0").create_campaign(pending=True),
    "adsets": lambda: AdAccount("act_0").create_ad_set(pending=True),
    "ads": lambda: AdAccount("act_0").create_ad(pending=True),
    "adcreatives": lambda: AdAccount("act_0").create_ad_creative(pending=True),
    "advideos": lambda: AdAccount("act_0").create_ad_video(pending=True),
    "update:campaign": lambda: Campaign("0").api_update(pending=True),
    "update:adset": lambda: AdSet("0").api_update(pending=True),
    "update:ad": lambda: Ad("0").api_update(pending=True),
    "insights": lambda: AdAccount("act_0").get_insights(pending=True),
}
REQUIRED = {
    "campaigns": ("name", "objective", "special_ad_categories"),
    "adsets": ("name", "campaign_id", "billing_event", "optimization_goal", "targeting"),
    "ads": ("name", "adset_id", "creative"),
    "adcreatives": ("object_story_spec",),
}
# Optimisation goals that optimise for a pixel event: the ad set must say which pixel and which event.
PIXEL_GOALS = frozenset({AdSet.OptimizationGoal.offsite_conversions, AdSet.OptimizationGoal.value})


@cache
def definition(call: str) -> RequestDefinition:
    return _definition(_CALLS[call])


def load_definitions() -> None:
    """Read every call's definition once, when the sandbox starts (a broken SDK fails the start, loudly)."""
    for call in _CALLS:
        definition(call)
    promoted_object_fields()
    custom_event_types()


@cache
def promoted_object_fields() -> frozenset[str]:
    return frozenset(v for k, v in vars(AdPromotedObject.Field).items() if not k.startswith("_"))


@cache
def custom_event_types() -> frozenset[str]:
    return frozenset(v for k, v in vars(AdPromotedObject.CustomEventType).items() if not k.startswith("_"))


def _one_of(name: str, values: frozenset[str]) -> InvalidParameter:
    return InvalidParameter(f"(#100) {name} must be one of the following values: {', '.join(sorted(values))}")


def _json(name: str, value: Any, *, comma_list: bool = False) -> Any:
    if not isinstance(value, str):
        return value
    if comma_list and not value.lstrip().startswith("["):
        return [item for item in value.split(",") if item]  # Graph takes `a,b,c` for a list of strings
    try:
        return json.loads(value)
    except ValueError as exc:
        raise InvalidParameter(f"(#100) Param {name} must be a JSON object or array") from exc


def _check_value(name: str, kind: str, value: Any, enums: Mapping[str, frozenset[str]]) -> None:
    text = str(value).strip() if not isinstance(value, dict | list) else ""
    if kind in enums:
        if text not in enums[kind]:
            raise _one_of(name, enums[kind])
    elif kind.startswith("list<") and kind[5:-1] in enums:
        items = _json(name, value, comma_list=True)
        if not isinstance(items, list):
            raise InvalidParameter(f"(#100) Param {name} must be an array")
        for item in items:
            if str(item) not in enums[kind[5:-1]]:
                raise _one_of(f"{name}[]", enums[kind[5:-1]])
    elif kind == "unsigned int":
        if isinstance(value, bool) or not text.isdigit():
            raise InvalidParameter(f"(#100) Param {name} must be a non-negative integer")
    elif kind == "int":
        if not text.lstrip("-").isdigit():
            raise InvalidParameter(f"(#100) Param {name} must be an integer")
    elif kind == "float":
        try:
            float(text)
        except ValueError as exc:
            raise InvalidParameter(f"(#100) Param {name} must be a number") from exc
    elif kind == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise InvalidParameter(f"(#100) Param {name} must be a boolean")
    elif kind.startswith("list"):
        if not isinstance(_json(name, value, comma_list=kind == "list<string>"), list):
            raise InvalidParameter(f"(#100) Param {name} must be an array")
    elif (kind.startswith("map") or kind[:1].isupper()) and not isinstance(_json(name, value), dict):
        # map<...>, Object, Targeting, AdCreative, ...
        raise InvalidParameter(f"(#100) Param {name} must be a JSON object")


def check_params(call: str, params: Mapping[str, Any]) -> None:
    """Each parameter the SDK declares for `call` has a value of its declared type; required ones exist."""
    spec = definition(call)
    for required in REQUIRED.get(call, ()):
        if params.get(required) in (None, ""):
            raise InvalidParameter(f"(#100) The parameter {required} is required")
    for name, value in params.items():
        kind = spec.param_types.get(name)
        if kind is None or kind == "file" or value is None:
            continue
        _check_value(name, kind, value, spec.enums)
    if call == "adsets":
        check_adset_combinations(params)


def check_adset_combinations(params: Mapping[str, Any]) -> None:
    """A pixel goal needs `promoted_object` {pixel_id, custom_event_type} and bills on impressions."""
    goal = str(params.get("optimization_goal") or "")
    if goal not in PIXEL_GOALS:
        return
    promoted = _json("promoted_object", params.get("promoted_object"))
    if not isinstance(promoted, dict) or not promoted.get("pixel_id"):
        raise InvalidParameter(
            f"(#100) Param promoted_object must specify a pixel_id when optimization_goal is {goal}",
            subcode=1885024,
            user_title="Promoted Object Is Missing",
        )
    unknown = sorted(set(promoted) - promoted_object_fields())
    if unknown:
        raise InvalidParameter(f"(#100) Param promoted_object[{unknown[0]}] is not a valid field")
    event = str(promoted.get("custom_event_type") or "")
    if event not in custom_event_types():
        raise _one_of("promoted_object[custom_event_type]", custom_event_types())
    billing = str(params.get("billing_event") or "")
    if billing != AdSet.BillingEvent.impressions:
        raise InvalidParameter(
            f"(#100) The billing event {billing} is not available for the optimization goal {goal}",
            subcode=1815117,
            user_title="Billing Event Not Supported",
        )


def enum_values(call: str, param: str) -> frozenset[str]:
    """The values the SDK allows for one enum parameter of one call (e.g. campaign `status`)."""
    spec = definition(call)
    return spec.enums[spec.param_types[param]]
