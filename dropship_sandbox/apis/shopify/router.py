"""`POST /admin/api/{version}/graphql.json`: auth, calculated query cost, the leaky bucket."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from graphql import (
    ExecutionResult,
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
from dropship_sandbox.apis.pipeline import ApiError, ApiPolicy, Call, world_of
from dropship_sandbox.apis.shopify import (  # noqa: F401  (register their resolvers)
    delivery,
    disputes,
    order_changes,
    order_holds,
    products,
    webhook_subscriptions,
)
from dropship_sandbox.apis.shopify.common import ShopifyContext
from dropship_sandbox.apis.shopify.registry import MUTATION_FIELDS, QUERY_FIELDS
from dropship_sandbox.rate_limits import LeakyBucket
from dropship_sandbox.validation import shopify as checks
from dropship_sandbox.world import World

MAX_QUERY_COST = 1000
MUTATION_COST = 10
THROTTLE_DOCS = "https://shopify.dev/api/usage/limits#rate-limits"


@lru_cache(maxsize=1)
def shopify_schema() -> GraphQLSchema:
    """Every `*.graphql` file beside this module, the base schema first, then its extensions."""
    here = Path(__file__).parent
    files = sorted(here.glob("*.graphql"), key=lambda p: (p.name != "schema.graphql", p.name))
    schema = build_schema("\n".join(p.read_text() for p in files))
    checks.install_gid_validation(schema)  # an ID is a gid://shopify/<Type>/<id>, as Shopify checks
    return schema


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


class ShopifyError(ApiError):
    """An answer Shopify gives before (or instead of) running the query, with the API version header."""

    def __init__(self, body: dict[str, Any], version: str, status: int = 200) -> None:
        super().__init__(str(body.get("errors")))
        self.body, self.version, self.status = body, version, status

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body, status_code=self.status, headers={"X-Shopify-API-Version": self.version}
        )


async def require_access_token(version: str, request: Request) -> None:
    """The router's gate: Shopify refuses a wrong token before it reads the request."""
    if request.headers.get("X-Shopify-Access-Token") != credentials.SHOPIFY_ACCESS_TOKEN:
        raise ShopifyError(
            {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            version,
            status=401,
        )


router = APIRouter(dependencies=[Depends(require_access_token)])


@dataclass(frozen=True, kw_only=True)
class GraphqlCall(Call):
    version: str
    requested_cost: int


@dataclass(frozen=True)
class CostGrant:
    bucket: LeakyBucket
    limited: bool  # the bucket was charged (rate limits on), so unused points go back


class ShopifyApi(ApiPolicy[GraphqlCall]):
    """Admin GraphQL: a query's calculated cost is paid from the shop's leaky bucket.

    Unused points are refunded after the query ran; a query over the single-query maximum never runs.
    Every answer carries `X-Shopify-API-Version` and, once the query is costed, the cost extension.
    Handlers return graphql-core's `ExecutionResult`.
    """

    api = "shopify"

    def bucket(self, world: World) -> LeakyBucket:
        settings = world.settings
        return world.rate_buckets.get(
            f"shopify:{settings.shop_domain}", settings.shopify_bucket, settings.shopify_restore_rate
        )

    def throttled(self, world: World, call: GraphqlCall) -> ShopifyError:
        return ShopifyError(
            {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS},
                    }
                ],
                "extensions": _cost_extension(call.requested_cost, None, self.bucket(world)),
            },
            call.version,
        )

    def over_max_cost(self, world: World, call: GraphqlCall) -> ShopifyError:
        requested = call.requested_cost
        return ShopifyError(
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
                "extensions": _cost_extension(requested, None, self.bucket(world)),
            },
            call.version,
        )

    def throttle(self, world: World, request: Request, call: GraphqlCall) -> CostGrant:
        if call.requested_cost > MAX_QUERY_COST:
            raise self.over_max_cost(world, call)
        bucket = self.bucket(world)
        limited = world.faults(self.api).rate_limits
        if limited and not bucket.take(call.requested_cost):
            raise self.throttled(world, call)
        return CostGrant(bucket, limited)

    def server_error(self, world: World, call: GraphqlCall) -> JSONResponse:
        return ShopifyError({"errors": "Internal Server Error"}, call.version, status=503).response()

    def rate_limited(self, world: World, call: GraphqlCall) -> JSONResponse:
        # The limiter looks at the single-query maximum first, whether the bucket is empty or not.
        if call.requested_cost > MAX_QUERY_COST:
            return self.over_max_cost(world, call).response()
        return self.throttled(world, call).response()

    def lost_answer(self, world: World, call: GraphqlCall) -> JSONResponse:
        return ShopifyError({"errors": "Bad Gateway"}, call.version, status=502).response()

    def answer(self, data: ExecutionResult, grant: CostGrant, call: GraphqlCall) -> JSONResponse:
        requested = call.requested_cost
        actual = requested if call.is_write else min(requested, _actual_cost(data.data))
        if grant.limited:
            grant.bucket.refund(requested - actual)
        body: dict[str, Any] = {}
        if data.errors:
            body["errors"] = [_error_json(e) for e in data.errors]
        body["data"] = data.data
        body["extensions"] = _cost_extension(requested, actual, grant.bucket)
        return JSONResponse(body, headers={"X-Shopify-API-Version": call.version})


SHOPIFY = ShopifyApi()


@router.post("/admin/api/{version}/graphql.json")
async def graphql_endpoint(version: str, request: Request) -> JSONResponse:
    world = world_of(request)
    # Versions are dated by the calendar Shopify releases them on: the wall clock, not the world's.
    served = checks.served_version(version, datetime.now(UTC).date())
    if served is None:
        raise ShopifyError({"errors": "Not Found"}, version, status=404)
    version = served
    try:
        body = checks.read_body(request.headers.get("content-type", ""), await request.body())
    except checks.BadBody as exc:
        raise ShopifyError(
            {"errors": {"query": "Required parameter missing or invalid"}}, version, status=400
        ) from exc
    query, variables = body.query, body.variables
    schema = shopify_schema()
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        raise ShopifyError({"errors": [_error_json(error)]}, version) from error
    problems = validate(schema, document)
    if problems:
        raise ShopifyError({"errors": [_error_json(p) for p in problems]}, version)
    operation = checks.selected_operation(document, body.operation_name)
    if operation is None:
        wanted = "An operation name is required when the document holds more than one operation"
        if body.operation_name:
            wanted = f"No operation named '{body.operation_name}'"
        raise ShopifyError({"errors": [{"message": wanted}]}, version)
    denied = checks.access_denied(operation, world.settings.shopify_granted_scopes, variables)
    if denied:
        raise ShopifyError({"errors": [checks.access_denied_error(*denied)], "data": None}, version)
    is_write = operation.operation is OperationType.MUTATION
    requested = requested_cost(schema, document, variables)
    context = ShopifyContext(world=world_of(request), base_url=str(request.base_url).rstrip("/"))

    def handle(world: World) -> ExecutionResult:
        return execute(
            schema,
            document,
            root_value=_root_fields(),
            context_value=context,
            variable_values=variables,
            operation_name=body.operation_name,
        )

    call = GraphqlCall(is_write=is_write, version=version, requested_cost=requested)
    return await SHOPIFY.serve(request, call, handle)
