"""Shopify Admin GraphQL requests, checked as Shopify checks them before a query runs.

- API versions: `YYYY-MM` quarterly releases, each supported for twelve months (api-contracts.md §1.2).
  A supported version is served; an older well-formed one falls forward to the oldest supported (the
  `X-Shopify-API-Version` header says which was served); anything else (`banana`, a future quarter) is
  Shopify's `404 {"errors": "Not Found"}`.
- Bodies: `application/json` `{query, variables, operationName}` (variables may arrive as a JSON string,
  as some clients send them) or `application/graphql` (the query itself).
- IDs: an `ID` argument is a global id `gid://shopify/<Type>/<id>`; anything else is refused while the
  query is coerced, with Shopify's "Invalid global id" wording.
- Scopes: each root field needs an access scope; the world's `shopify_granted_scopes` (None: all) decides,
  and a missing one is Shopify's top-level `ACCESS_DENIED`. `webhookSubscriptionCreate` needs the read
  scope of its topic's resource (`ORDERS_CREATE` and `REFUNDS_CREATE`: read_orders), known only from its
  `topic` argument, a literal or a variable.
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

VERSION = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
RELEASE_MONTHS = (1, 4, 7, 10)
SUPPORT_MONTHS = 12
GID = re.compile(r"gid://shopify/[A-Za-z][A-Za-z0-9]*/[^/\s]+")
ACCESS_SCOPES_DOCS = "https://shopify.dev/api/usage/access-scopes"
# The access scope each root field needs (Shopify's reference, per field).
ROOT_FIELD_SCOPES = {
    "product": "read_products",
    "productByIdentifier": "read_products",
    "products": "read_products",
    "productSet": "write_products",
    "productVariantsBulkUpdate": "write_products",
    "order": "read_orders",
    "orders": "read_orders",
    "fulfillmentOrder": "read_merchant_managed_fulfillment_orders",
    "fulfillmentCreate": "write_merchant_managed_fulfillment_orders",
    "orderCancel": "write_orders",
    "refundCreate": "write_orders",
    "orderUpdate": "write_orders",
    "fulfillmentOrderHold": "write_merchant_managed_fulfillment_orders",
    "fulfillmentOrderReleaseHold": "write_merchant_managed_fulfillment_orders",
    "deliveryProfiles": "read_shipping",
}

# The read scope a webhook topic's payload needs, by the topic's resource (its enum's leading words).
TOPIC_SCOPES = {
    "ORDERS": "read_orders",
    "REFUNDS": "read_orders",
    "ORDER_TRANSACTIONS": "read_orders",
    "DRAFT_ORDERS": "read_draft_orders",
    "PRODUCTS": "read_products",
    "COLLECTIONS": "read_products",
    "INVENTORY_ITEMS": "read_inventory",
    "INVENTORY_LEVELS": "read_inventory",
    "FULFILLMENTS": "read_fulfillments",
    "FULFILLMENT_ORDERS": "read_merchant_managed_fulfillment_orders",
    "CUSTOMERS": "read_customers",
    "DISPUTES": "read_shopify_payments_disputes",
}


def topic_scope(topic: str) -> str | None:
    """`ORDERS_CREATE` -> read_orders; topics about the app or the shop itself (APP_UNINSTALLED): none."""
    matches = [resource for resource in TOPIC_SCOPES if topic.startswith(f"{resource}_")]
    return TOPIC_SCOPES[max(matches, key=len)] if matches else None


class BadBody(Exception):
    """A body Shopify cannot read: HTTP 400, "Required parameter missing or invalid"."""


def supported_versions(today: date) -> list[str]:
    """The quarterly versions released in the last twelve months, oldest first (each lives a year)."""
    versions = []
    for months_back in range(SUPPORT_MONTHS):
        month_index = today.year * 12 + today.month - 1 - months_back
        year, month = divmod(month_index, 12)
        if month + 1 in RELEASE_MONTHS:
            versions.append(f"{year}-{month + 1:02d}")
    return sorted(versions)


def served_version(requested: str, today: date) -> str | None:
    """The version Shopify serves for `requested`, or None for its 404."""
    if requested == "unstable":
        return requested
    match = VERSION.fullmatch(requested)
    if match is None or int(match.group(2)) not in RELEASE_MONTHS:
        return None
    supported = supported_versions(today)
    if requested in supported:
        return requested
    if requested < supported[0]:
        return supported[0]  # no longer supported: falls forward to the oldest supported version
    return None  # not released yet


@dataclass(frozen=True)
class Body:
    query: str
    variables: dict[str, Any]
    operation_name: str | None


def read_body(content_type: str, raw: bytes) -> Body:
    if content_type.split(";")[0].strip().lower() == "application/graphql":
        return Body(raw.decode("utf-8", "replace"), {}, None)
    try:
        payload = json.loads(raw)
        query = payload["query"]
        variables = payload.get("variables") or {}
        if isinstance(variables, str):  # some clients send the variables as a JSON string
            variables = json.loads(variables) if variables.strip() else {}
    except (ValueError, KeyError, TypeError) as exc:
        raise BadBody from exc
    operation_name = payload.get("operationName") or None
    if not isinstance(query, str) or not isinstance(variables, dict):
        raise BadBody
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadBody
    return Body(query, variables, operation_name)


def _parse_gid(value: Any) -> str:
    if not isinstance(value, str) or not GID.fullmatch(value):
        raise GraphQLError(f"Invalid global id '{value}'")
    return value


def _parse_gid_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> str:
    if not isinstance(node, StringValueNode):
        raise GraphQLError(f"Invalid global id '{getattr(node, 'value', node)}'")
    return _parse_gid(node.value)


def install_gid_validation(schema: GraphQLSchema) -> None:
    """Every `ID` the schema takes must be a global id, in a literal or a variable."""
    id_type = schema.type_map["ID"]
    assert isinstance(id_type, GraphQLScalarType)
    id_type.parse_value = _parse_gid  # type: ignore[method-assign]
    id_type.parse_literal = _parse_gid_literal  # type: ignore[method-assign, assignment]


def selected_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _argument(field: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for argument in field.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, VariableNode):
                return variables.get(argument.value.name.value)
            return getattr(argument.value, "value", None)
    return None


def _field_scope(field: FieldNode, variables: dict[str, Any]) -> str | None:
    if field.name.value == "webhookSubscriptionCreate":
        topic = _argument(field, "topic", variables)
        return topic_scope(topic) if isinstance(topic, str) else None
    return ROOT_FIELD_SCOPES.get(field.name.value)


def access_denied(
    operation: OperationDefinitionNode, granted: list[str] | None, variables: dict[str, Any] | None = None
) -> tuple[FieldNode, str] | None:
    """The first root field whose scope was not granted, with that scope; None when all were."""
    if granted is None:
        return None
    held = set(granted)
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        scope = _field_scope(selection, variables or {})
        # A write scope implies its read scope, as Shopify grants them.
        if scope and scope not in held and scope.replace("read_", "write_", 1) not in held:
            return selection, scope
    return None


def access_denied_error(field: FieldNode, scope: str) -> dict[str, Any]:
    location = field.loc.source.get_location(field.loc.start) if field.loc and field.loc.source else None
    error: dict[str, Any] = {
        "message": f"Access denied for {field.name.value} field. Required access: `{scope}` access scope.",
        "path": [field.name.value],
        "extensions": {"code": "ACCESS_DENIED", "documentation": ACCESS_SCOPES_DOCS, "requiredAccess": scope},
    }
    if location:
        error["locations"] = [{"line": location.line, "column": location.column}]
    return error
