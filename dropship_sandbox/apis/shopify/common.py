"""Helpers shared by the Shopify resolvers: GIDs, cursors, connections, the request context."""

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox.world import World

MAX_PAGE = 250


@dataclass
class ShopifyContext:
    world: World
    base_url: str


def world_of(info: GraphQLResolveInfo) -> World:
    return info.context.world


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str, kind: str) -> str | None:
    prefix = f"gid://shopify/{kind}/"
    return value[len(prefix) :] if isinstance(value, str) and value.startswith(prefix) else None


def encode_cursor(key: Any) -> str:
    return base64.b64encode(json.dumps({"last_id": key}).encode()).decode()


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.b64decode(cursor))["last_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("Invalid cursor for current pagination sort.") from exc


def connection(
    items: Sequence[Any],
    first: int | None,
    after: str | None,
    key: Callable[[Any], Any],
    view: Callable[[Any], Any] = lambda item: item,
) -> dict[str, Any]:
    """Cursor pagination over `items` (already in order): cursors carry the last item's key."""
    if first is None:
        raise ValueError("you must provide one of first or last")
    if first > MAX_PAGE:
        raise ValueError(f"The first argument must be at most {MAX_PAGE}")
    start = 0
    last_key = decode_cursor(after)
    if last_key is not None:
        keys = [key(item) for item in items]
        start = keys.index(last_key) + 1 if last_key in keys else len(items)
    window = list(items[start : start + first])
    nodes = [view(item) for item in window]
    return {
        "nodes": nodes,
        "edges": [
            {"cursor": encode_cursor(key(item)), "node": node}
            for item, node in zip(window, nodes, strict=True)
        ],
        "pageInfo": {
            "hasNextPage": start + first < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": encode_cursor(key(window[0])) if window else None,
            "endCursor": encode_cursor(key(window[-1])) if window else None,
        },
    }
