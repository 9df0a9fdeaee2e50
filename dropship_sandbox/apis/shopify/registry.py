"""Root fields of the sandbox's Shopify GraphQL schema, registered by the modules that implement them.

Each area (products, orders, fulfillments) keeps its SDL in a `*.graphql` file beside this one (using
`extend type Query` / `extend type Mutation`) and registers its resolvers here.
"""

from collections.abc import Callable
from typing import Any

Resolver = Callable[..., Any]
QUERY_FIELDS: dict[str, Resolver] = {}
MUTATION_FIELDS: dict[str, Resolver] = {}


def query_field(name: str) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        QUERY_FIELDS[name] = fn
        return fn

    return register


def mutation_field(name: str) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        MUTATION_FIELDS[name] = fn
        return fn

    return register
