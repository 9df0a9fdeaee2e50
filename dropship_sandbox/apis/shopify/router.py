"""`POST /admin/api/{version}/graphql.json`: auth, calculated query cost, the leaky bucket, faults."""

import math
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
)
from graphql.error import GraphQLError, GraphQLSyntaxError
from graphql.utilities import value_from_ast_untyped

from dropship_sandbox import credentials
from dropship_sandbox.apis.shopify import products  # noqa: F401  (registers the product resolvers)
from dropship_sandbox.apis.shopify.common import ShopifyContext
from dropship_sandbox.apis.shopify.registry import MUTATION_FIELDS, QUERY_FIELDS
from dropship_sandbox.faults import Fault, LeakyBucket, draw_fault, hang
from dropship_sandbox.world import World

router = APIRouter()
MAX_QUERY_COST = 1000
MUTATION_COST = 10
THROTTLE_DOCS = "https://shopify.dev/api/usage/limits#rate-limits"
_bucket: dict[str, LeakyBucket] = {}


@lru_cache(maxsize=1)
def shopify_schema() -> GraphQLSchema:
    """Every `*.graphql` file beside this module, the base schema first, then its extensions."""
    here = Path(__file__).parent
    files = sorted(here.glob("*.graphql"), key=lambda p: (p.name != "schema.graphql", p.name))
    return build_schema("\n".join(p.read_text() for p in files))


def _bucket_for(world: World) -> LeakyBucket:
    settings = world.settings
    bucket = _bucket.get(settings.shop_domain)
    if (
        bucket is None
        or bucket.capacity != settings.shopify_bucket
        or (bucket.restore_rate != settings.shopify_restore_rate)
    ):
        bucket = _bucket[settings.shop_domain] = LeakyBucket(
            settings.shopify_bucket, settings.shopify_restore_rate
        )
    return bucket


def _argument(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, variables)
    return None


def _selection_cost(
    selection_set: SelectionSetNode | None,
    parent: Any,
    schema: GraphQLSchema,
    variables: dict[str, Any],
    fragments: dict[str, Any],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            total += _selection_cost(
                fragment.selection_set,
                schema.get_type(fragment.type_condition.name.value),
                schema,
                variables,
                fragments,
            )
        elif isinstance(selection, InlineFragmentNode):
            target = (
                schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
            )
            total += _selection_cost(selection.selection_set, target, schema, variables, fragments)
        elif isinstance(selection, FieldNode) and isinstance(parent, GraphQLObjectType):
            definition = parent.fields.get(selection.name.value)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            inner = _selection_cost(selection.selection_set, named, schema, variables, fragments)
            if named.name.endswith("Connection"):
                size = (
                    _argument(selection, "first", variables) or _argument(selection, "last", variables) or 1
                )
                total += 2 + int(size) * max(inner, 1)
            elif named.name == "PageInfo":
                continue
            elif isinstance(named, GraphQLObjectType) and not named.name.endswith("Edge"):
                total += 1 + inner
            else:
                total += inner
    return total


def requested_cost(schema: GraphQLSchema, document: Any, variables: dict[str, Any]) -> int:
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    total = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.operation is OperationType.MUTATION:
            total += MUTATION_COST * len(definition.selection_set.selections)
        else:
            total += _selection_cost(
                definition.selection_set, schema.query_type, schema, variables, fragments
            )
    return max(total, 1)


def _root_fields() -> dict[str, Any]:
    """graphql-core calls a callable on the root value as fn(info, **args); ours take (root, info, ...)."""
    return {name: partial(fn, None) for name, fn in {**QUERY_FIELDS, **MUTATION_FIELDS}.items()}


def _actual_cost(data: Any) -> int:
    if isinstance(data, dict):
        return 1 + sum(_actual_cost(v) for v in data.values())
    if isinstance(data, list):
        return sum(_actual_cost(v) for v in data)
    return 0


def _cost_extension(requested: int, actual: int | None, bucket: LeakyBucket) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": bucket.capacity,
                "currentlyAvailable": math.floor(bucket.level()),
                "restoreRate": bucket.restore_rate,
            },
        }
    }


def _error_json(error: GraphQLError) -> dict[str, Any]:
    body: dict[str, Any] = {"message": error.message}
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        body["path"] = list(error.path)
    return body


@router.post("/admin/api/{version}/graphql.json")
async def graphql_endpoint(version: str, request: Request) -> JSONResponse:
    world: World = request.app.state.world
    headers = {"X-Shopify-API-Version": version}
    if request.headers.get("X-Shopify-Access-Token") != credentials.SHOPIFY_ACCESS_TOKEN:
        return JSONResponse(
            {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            status_code=401,
            headers=headers,
        )
    try:
        payload = await request.json()
        query, variables = payload["query"], payload.get("variables") or {}
    except (ValueError, KeyError, TypeError):
        return JSONResponse(
            {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400, headers=headers
        )
    schema = shopify_schema()
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        return JSONResponse({"errors": [_error_json(error)]}, headers=headers)
    problems = validate(schema, document)
    if problems:
        return JSONResponse({"errors": [_error_json(p) for p in problems]}, headers=headers)
    is_write = any(
        isinstance(d, OperationDefinitionNode) and d.operation is OperationType.MUTATION
        for d in document.definitions
    )
    fault = draw_fault(world, "shopify", is_write)
    if fault is Fault.TIMEOUT:
        hang(world, "shopify")
    if fault is Fault.ERROR:
        return JSONResponse({"errors": "Internal Server Error"}, status_code=503, headers=headers)
    requested = requested_cost(schema, document, variables)
    bucket = _bucket_for(world)
    if requested > MAX_QUERY_COST:
        return JSONResponse(
            {
                "errors": [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query max cost "
                        f"limit ({MAX_QUERY_COST}).",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": requested,
                            "maxCost": MAX_QUERY_COST,
                        },
                    }
                ],
                "extensions": _cost_extension(requested, None, bucket),
            },
            headers=headers,
        )
    limited = world.faults("shopify").rate_limits
    if fault is Fault.RATE_LIMIT or (limited and not bucket.take(requested)):
        return JSONResponse(
            {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS},
                    }
                ],
                "extensions": _cost_extension(requested, None, bucket),
            },
            headers=headers,
        )
    world.advance()
    context = ShopifyContext(world=world, base_url=str(request.base_url).rstrip("/"))
    with world.lock, world.state:
        result = execute(
            schema, document, root_value=_root_fields(), context_value=context, variable_values=variables
        )
    actual = requested if is_write else min(requested, _actual_cost(result.data))
    if limited:
        bucket.refund(requested - actual)
    if fault is Fault.LOST_RESPONSE:
        return JSONResponse({"errors": "Bad Gateway"}, status_code=502, headers=headers)
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [_error_json(e) for e in result.errors]
    body["data"] = result.data
    body["extensions"] = _cost_extension(requested, actual, bucket)
    return JSONResponse(body, headers=headers)
