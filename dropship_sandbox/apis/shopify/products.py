"""Products: `productSet` (create-or-update, by handle or id), `productVariantsBulkUpdate`, queries."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox.apis.shopify.common import MAX_PAGE, connection, gid, gid_number, world_of
from dropship_sandbox.apis.shopify.registry import mutation_field, query_field
from dropship_sandbox.world import World

MAX_VARIANTS = 2048
# Once a store holds 50,000 variants, Shopify lets an app create at most 1,000 more a day. (The wording of
# the userError is as merchants report it; the exact text and code are unconfirmed.)
VARIANT_CAP_THRESHOLD = 50_000
DAILY_NEW_VARIANTS = 1_000
VARIANT_CAP_MESSAGE = "Daily variant creation limit reached. Please try again later."
EXTRA_VARIANTS = "shopify:extra_variants"  # variants of a large store's other products (control API)


def available_for_sale(variant: dict[str, Any], status: str) -> bool:
    """Shopify sells a variant of an active product unless its inventory is tracked, at or below zero and
    its policy is DENY (the sandbox's store never holds stock: a tracked variant has 0 available)."""
    tracked_out = variant.get("tracked") and int(variant.get("inventoryQuantity") or 0) <= 0
    return status == "ACTIVE" and not (tracked_out and variant.get("inventoryPolicy") == "DENY")


def store_variant_count(world: World) -> int:
    return world.state.count("shopify_variant") + int(world.state.meta(EXTRA_VARIANTS, "0") or 0)


def money(value: Any) -> str | None:
    if value is None:
        return None
    return f"{Decimal(str(value)):.2f}"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


def product_view(world: World, doc: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A product as resolvers see it: connections are callables taking GraphQL arguments."""
    product_gid = gid("Product", doc["id"])

    def variant_view(variant: dict[str, Any]) -> dict[str, Any]:
        return {
            **variant,
            "id": gid("ProductVariant", variant["id"]),
            "inventoryItem": {
                "id": gid("InventoryItem", variant["id"]),
                "sku": variant.get("sku"),
                "tracked": bool(variant.get("tracked")),
            },
            "inventoryQuantity": int(variant.get("inventoryQuantity") or 0),
            "availableForSale": available_for_sale(variant, doc.get("status", "ACTIVE")),
            "product": lambda info: product_view(world, doc, base_url),
        }

    def media_view(media: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": gid("MediaImage", media["id"]),
            "mediaContentType": "IMAGE",
            "status": "READY",
            "alt": media.get("alt"),
            "preview": {"image": {"url": media["src"], "altText": media.get("alt")}},
        }

    return {
        **{k: v for k, v in doc.items() if k not in ("variants", "media", "options")},
        "id": product_gid,
        "variants": lambda info, first=None, after=None: connection(
            doc["variants"], first, after, key=lambda v: v["id"], view=variant_view
        ),
        "media": lambda info, first=None, after=None: connection(
            doc["media"], first, after, key=lambda m: m["id"], view=media_view
        ),
    }


def _find_by_handle(world: World, handle: str) -> dict[str, Any] | None:
    link = world.state.get("shopify_handle", handle)
    return world.state.get("shopify_product", link["product_id"]) if link else None


def _find(world: World, product_gid: str | None, handle: str | None) -> dict[str, Any] | None:
    if product_gid:
        number = gid_number(product_gid, "Product")
        return world.state.get("shopify_product", number) if number else None
    if handle:
        return _find_by_handle(world, handle)
    return None


def _unique_handle(world: World, wanted: str) -> str:
    handle, suffix = wanted, 0
    while world.state.get("shopify_handle", handle) is not None:
        suffix += 1
        handle = f"{wanted}-{suffix}"
    return handle


def _errors(*items: tuple[list[str], str, str]) -> dict[str, Any]:
    return {
        "product": None,
        "productSetOperation": None,
        "userErrors": [{"field": f, "message": m, "code": c} for f, m, c in items],
    }


@query_field("shop")
def resolve_shop(root: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    world = world_of(info)
    return {
        "id": gid("Shop", 1),
        "name": "Sandbox Store",
        "myshopifyDomain": world.settings.shop_domain,
        "currencyCode": "USD",
    }


@query_field("product")
def resolve_product(root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    world = world_of(info)
    doc = _find(world, id, None)
    return product_view(world, doc, info.context.base_url) if doc else None


@query_field("productByIdentifier")
def resolve_product_by_identifier(
    root: Any, info: GraphQLResolveInfo, identifier: dict[str, Any]
) -> dict[str, Any] | None:
    world = world_of(info)
    doc = _find(world, identifier.get("id"), identifier.get("handle"))
    return product_view(world, doc, info.context.base_url) if doc else None


def _matches(doc: dict[str, Any], query: str | None) -> bool:
    """The few search terms the store uses: `tag:X`, `handle:X`, `status:X`, free text in the title."""
    if not query:
        return True
    for term in query.split():
        name, _, value = term.partition(":")
        value = value.strip("'\"")
        if value and name == "tag":
            if value not in doc["tags"]:
                return False
        elif value and name == "handle":
            if doc["handle"] != value:
                return False
        elif value and name == "status":
            if doc["status"].lower() != value.lower():
                return False
        elif term.lower() not in doc["title"].lower():
            return False
    return True


@query_field("products")
def resolve_products(
    root: Any,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    query: str | None = None,
    reverse: bool = False,
    **_: Any,
) -> dict[str, Any]:
    world = world_of(info)
    docs = [d for d in world.state.all("shopify_product") if _matches(d, query)]
    if reverse:
        docs.reverse()
    return connection(
        docs,
        first,
        after,
        key=lambda d: d["id"],
        view=lambda d: product_view(world, d, info.context.base_url),
    )


def _variant_docs(
    world: World, existing: list[dict[str, Any]], given: list[dict[str, Any]]
) -> list[dict[str, Any]] | tuple[list[str], str, str]:
    by_id = {v["id"]: v for v in existing}
    by_options = {tuple(sorted((o["name"], o["value"]) for o in v["selectedOptions"])): v for v in existing}
    result = []
    for position, variant in enumerate(given):
        options = [{"name": o["optionName"], "value": o["name"]} for o in variant["optionValues"]]
        try:
            price = money(variant.get("price") or "0")
            compare_at = money(variant.get("compareAtPrice"))
        except InvalidOperation:
            return (["input", "variants", str(position), "price"], "Price is invalid", "INVALID_VARIANT")
        if Decimal(price or "0") < 0:
            return (
                ["input", "variants", str(position), "price"],
                "Price must be greater than or equal to 0",
                "INVALID_VARIANT",
            )
        match = None
        if variant.get("id"):
            match = by_id.get(int(gid_number(variant["id"], "ProductVariant") or -1))
            if match is None:
                return (
                    ["input", "variants", str(position), "id"],
                    "Variant does not exist",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST",
                )
        match = match or by_options.get(tuple(sorted((o["name"], o["value"]) for o in options)))
        sku = variant.get("sku") or (variant.get("inventoryItem") or {}).get("sku")
        tracked = (variant.get("inventoryItem") or {}).get("tracked")
        result.append(
            {
                "id": match["id"] if match else world.new_id("variant", 40_000_000_000),
                "title": " / ".join(o["value"] for o in options) or "Default Title",
                "sku": sku,
                "price": price,
                "compareAtPrice": compare_at,
                "inventoryPolicy": variant.get("inventoryPolicy") or "DENY",
                "tracked": bool(tracked if tracked is not None else (match or {}).get("tracked", False)),
                "selectedOptions": options,
            }
        )
    return result


def _over_daily_cap(world: World, new_variants: int) -> bool:
    """Whether creating `new_variants` now passes Shopify's daily allowance for a store this large."""
    if new_variants <= 0 or store_variant_count(world) < VARIANT_CAP_THRESHOLD:
        return False
    day = world.now().strftime("%Y-%m-%d")
    created = world.state.audit_counts("variants_created").get(day, 0)
    return created + new_variants > DAILY_NEW_VARIANTS


def _count_created(world: World, new_variants: int) -> None:
    day = world.now().strftime("%Y-%m-%d")
    for _ in range(new_variants):
        world.state.audit_increment("variants_created", day)


@mutation_field("productSet")
def resolve_product_set(
    root: Any,
    info: GraphQLResolveInfo,
    input: dict[str, Any],
    identifier: dict[str, Any] | None = None,
    synchronous: bool = True,
) -> dict[str, Any]:
    world = world_of(info)
    identifier = identifier or {}
    existing = _find(world, identifier.get("id") or input.get("id"), identifier.get("handle"))
    if (identifier.get("id") or input.get("id")) and existing is None:
        return _errors((["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST"))
    title = input.get("title") or (existing or {}).get("title")
    if not title or not str(title).strip():
        return _errors((["input", "title"], "Title can't be blank", "BLANK"))
    variants_in = input.get("variants")
    if variants_in is not None and len(variants_in) > MAX_VARIANTS:
        return _errors(
            (["input", "variants"], f"Too many variants (limit {MAX_VARIANTS})", "TOO_MANY_VARIANTS")
        )
    option_names = {o["name"] for o in input.get("productOptions") or []}
    for position, variant in enumerate(variants_in or []):
        unknown = {o["optionName"] for o in variant["optionValues"]} - option_names
        if option_names and unknown:
            return _errors(
                (
                    ["input", "variants", str(position), "optionValues"],
                    f"Option does not exist: {', '.join(sorted(unknown))}",
                    "OPTION_DOES_NOT_EXIST",
                )
            )
    now = world.now().isoformat().replace("+00:00", "Z")
    if existing is None:
        wanted = identifier.get("handle") or input.get("handle") or slugify(str(title))
        doc: dict[str, Any] = {
            "id": world.new_id("product", 9_000_000_000),
            "handle": _unique_handle(world, wanted),
            "createdAt": now,
            "variants": [],
            "media": [],
            "tags": [],
            "vendor": "",
            "productType": "",
            "descriptionHtml": "",
            "status": "ACTIVE",
        }
    else:
        doc = existing
    variants = (
        _variant_docs(world, doc["variants"], variants_in) if variants_in is not None else doc["variants"]
    )
    if isinstance(variants, tuple):
        return _errors(variants)
    known = {v["id"] for v in doc["variants"]}
    created = sum(1 for v in variants if v["id"] not in known) if variants else (0 if known else 1)
    if _over_daily_cap(world, created):
        return _errors((["input", "variants"], VARIANT_CAP_MESSAGE, "VARIANT_THROTTLE_EXCEEDED"))
    _count_created(world, created)
    for field in ("title", "descriptionHtml", "vendor", "productType", "status", "tags"):
        if input.get(field) is not None:
            doc[field] = input[field]
    doc["variants"] = variants or [
        {
            "id": world.new_id("variant", 40_000_000_000),
            "title": "Default Title",
            "sku": None,
            "price": "0.00",
            "compareAtPrice": None,
            "inventoryPolicy": "DENY",
            "selectedOptions": [{"name": "Title", "value": "Default Title"}],
        }
    ]
    if input.get("files") is not None:
        doc["media"] = [
            {"id": world.new_id("media", 70_000_000_000), "src": f["originalSource"], "alt": f.get("alt")}
            for f in input["files"]
        ]
    doc["updatedAt"] = now
    world.state.put("shopify_product", str(doc["id"]), doc)
    world.state.put("shopify_handle", doc["handle"], {"product_id": str(doc["id"])})
    for variant in doc["variants"]:
        world.state.put("shopify_variant", str(variant["id"]), {"product_id": str(doc["id"]), **variant})
    if existing is None:
        source = next((t[4:] for t in doc["tags"] if t.startswith("pid:")), doc["handle"])
        world.state.audit_increment("listings_created", source)
    return {
        "product": product_view(world, doc, info.context.base_url),
        "productSetOperation": None,
        "userErrors": [],
    }


@mutation_field("productVariantsBulkUpdate")
def resolve_variants_bulk_update(
    root: Any, info: GraphQLResolveInfo, productId: str, variants: list[dict[str, Any]]
) -> dict[str, Any]:
    world = world_of(info)
    doc = _find(world, productId, None)
    if doc is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [{"field": ["productId"], "message": "Product does not exist"}],
        }
    by_id = {gid("ProductVariant", v["id"]): v for v in doc["variants"]}
    for position, change in enumerate(variants):
        target = by_id.get(change.get("id") or "")
        if target is None:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    {"field": ["variants", str(position), "id"], "message": "Product variant does not exist"}
                ],
            }
        if change.get("price") is not None:
            target["price"] = money(change["price"])
        if change.get("compareAtPrice") is not None:
            target["compareAtPrice"] = money(change["compareAtPrice"])
        if (change.get("inventoryItem") or {}).get("sku"):
            target["sku"] = change["inventoryItem"]["sku"]
        if change.get("inventoryPolicy") is not None:
            target["inventoryPolicy"] = change["inventoryPolicy"]
        if (change.get("inventoryItem") or {}).get("tracked") is not None:
            target["tracked"] = bool(change["inventoryItem"]["tracked"])
        world.state.put("shopify_variant", str(target["id"]), {"product_id": str(doc["id"]), **target})
    doc["updatedAt"] = world.now().isoformat().replace("+00:00", "Z")
    world.state.put("shopify_product", str(doc["id"]), doc)
    view = product_view(world, doc, info.context.base_url)
    # The variants this call updated (a page of at most 250, as every connection here reads).
    changed = {change.get("id") for change in variants}
    nodes = view["variants"](info, first=MAX_PAGE)["nodes"]
    return {
        "product": view,
        "productVariants": [node for node in nodes if node["id"] in changed],
        "userErrors": [],
    }


@mutation_field("productUpdate")
def resolve_product_update(root: Any, info: GraphQLResolveInfo, product: dict[str, Any]) -> dict[str, Any]:
    """`productUpdate(product: ProductUpdateInput!)` (2024-10 and later): the fields given, nothing else."""
    world = world_of(info)
    doc = _find(world, product["id"], None)
    if doc is None:
        return {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}
    if product.get("title") is not None and not str(product["title"]).strip():
        return {"product": None, "userErrors": [{"field": ["title"], "message": "Title can't be blank"}]}
    for field in ("title", "descriptionHtml", "status", "tags"):
        if product.get(field) is not None:
            doc[field] = product[field]
    doc["updatedAt"] = world.now().isoformat().replace("+00:00", "Z")
    world.state.put("shopify_product", str(doc["id"]), doc)
    if product.get("status") is not None:
        world.state.audit_increment("product_status_changes", f"{product['status']}")
    return {"product": product_view(world, doc, info.context.base_url), "userErrors": []}


@query_field("productVariantsCount")
def resolve_variants_count(root: Any, info: GraphQLResolveInfo, **_: Any) -> dict[str, Any]:
    return {"count": store_variant_count(world_of(info)), "precision": "EXACT"}
