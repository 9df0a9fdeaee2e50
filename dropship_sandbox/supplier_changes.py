"""The supplier's catalog moving under the store: cost changes, variants running out and coming back,
products taken off the shelves and returned, for the products the store lists, each announced with CJ's
webhook messages (`PRODUCT`, `STOCK`) to the callback URL the pipelines set (`POST /webhook/set`).

Rates are per listed product per simulated day, set with `POST /_sandbox/supplier` (all 0 by default: the
demo world's catalog stands still). A stock-out runs down as it does at a supplier whose other stores sell
the same variant: first to its last few units, `low_stock_hours` later to zero; a restock follows
`restock_hours` after that. Events are drawn per (product, simulated hour), so a world replays the same.
`POST /_sandbox/supplier/change` makes one change now (tests).
"""

import json
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dropship_sandbox.apis.pipeline import world_of
from dropship_sandbox.world import World

RATES = "supplier_changes:rates"
PENDING = "supplier_change"  # state kind: a change due later (the end of a run-down, a restock, a return)
DEFAULT_RATES: dict[str, float] = {
    "cost_change_per_day": 0.0,  # share of listed products whose cost changes in a day
    "stockout_per_day": 0.0,  # share whose variant starts running out in a day
    "removal_per_day": 0.0,  # share taken off the shelves in a day
    "max_cost_change": 0.25,  # a cost moves by up to this share (rises twice as likely as falls)
    "low_stock_hours": 3.0,  # from the last few units to none
    "restock_hours": 12.0,  # from none to a restock (and from a removal to the product's return)
    "return_share": 0.5,  # share of removed products that come back
}
OPEN_ID = 5550001  # the account's openId (as getAccessToken answers it); CJ messages carry it

router = APIRouter(prefix="/_sandbox/supplier", tags=["sandbox control"])


def rates(world: World) -> dict[str, float]:
    return {**DEFAULT_RATES, **json.loads(world.state.meta(RATES, "{}") or "{}")}


def _listed_pids(world: World) -> list[str]:
    """CJ products the store lists (any status: a product the store unpublished can come back)."""
    pids = []
    for product in world.state.all("shopify_product"):
        pid = next((t[4:] for t in product.get("tags", []) if t.startswith("pid:")), None)
        if pid:
            pids.append(pid)
    return pids


# --- messages -------------------------------------------------------------------------------------------
def _message_id(world: World, *parts: object) -> str:
    return uuid.UUID(int=world.rng("cj_message_id", *parts).getrandbits(128)).hex


def product_message(world: World, product: dict[str, Any], fields: list[str], key: object) -> dict[str, Any]:
    """A `PRODUCT` message as CJ sends it: the changed fields named, the others null."""
    shown = {
        "categoryId": product.get("categoryId") if "categoryId" in fields else None,
        "categoryName": None,
        "pid": product["pid"],
        "productDescription": None,
        "productImage": None,
        "productName": None,
        "productNameEn": None,
        "productProperty1": None,
        "productProperty2": None,
        "productProperty3": None,
        "productSellPrice": product.get("sellPrice") if "productSellPrice" in fields else None,
        "productSku": product.get("productSku"),
        # CJ's product status: 3 on sale, 2 offline (taken off the shelves)
        "productStatus": (3 if product.get("saleStatus") == 3 else 2) if "productStatus" in fields else None,
        "fields": fields,
    }
    return {
        "messageId": _message_id(world, "product", product["pid"], key),
        "type": "PRODUCT",
        "messageType": "UPDATE",
        "openId": OPEN_ID,
        "params": shown,
    }


def stock_message(world: World, variant: dict[str, Any], key: object) -> dict[str, Any]:
    """A `STOCK` message: the variant's stock per warehouse, keyed by its vid."""
    stock = int(variant.get("inventoryNum") or 0)
    return {
        "messageId": _message_id(world, "stock", variant["vid"], key),
        "type": "STOCK",
        "messageType": "UPDATE",
        "openId": OPEN_ID,
        "params": {
            variant["vid"]: [
                {
                    "vid": variant["vid"],
                    "areaId": "1",
                    "areaEn": "China Warehouse",
                    "countryCode": "CN",
                    "storageNum": stock,
                    "totalInventoryNum": stock,
                }
            ]
        },
    }


def _send(world: World, setting: str, message: dict[str, Any]) -> None:
    from dropship_sandbox.webhooks import queue_cj_message  # the dispatcher imports the world's modules

    world.state.audit_increment("cj_messages", message["type"])
    queue_cj_message(world, setting, message)


# --- changes --------------------------------------------------------------------------------------------
def _save(world: World, product: dict[str, Any]) -> None:
    world.state.put("cj_product", product["pid"], product)
    for variant in product["variants"]:
        world.state.put("cj_variant", variant["vid"], {"pid": product["pid"], **variant})


def _variant(product: dict[str, Any], vid: str | None, rng: random.Random) -> dict[str, Any] | None:
    if not product["variants"]:
        return None
    if vid is None:
        return rng.choice(product["variants"])
    return next((v for v in product["variants"] if v["vid"] == vid), None)


def _later(world: World, at: datetime, change: dict[str, Any]) -> None:
    key = f"{change['pid']}:{change['kind']}:{change.get('vid')}:{at.isoformat()}"
    world.state.put(PENDING, key, {**change, "due": at.isoformat()})


def apply_change(world: World, change: dict[str, Any], at: datetime, rng: random.Random) -> dict[str, Any]:
    """One change of the supplier's catalog, made now and announced; what it did."""
    product = world.state.get("cj_product", change["pid"])
    if product is None:
        raise KeyError(f"no supplier product {change['pid']}")
    kind = change["kind"]
    knobs = rates(world)
    key = (kind, at.isoformat(), change.get("vid"))
    if kind == "cost":
        variant = _variant(product, change.get("vid"), rng)
        if variant is None or variant.get("variantSellPrice") is None:
            return {"skipped": "no priced variant"}
        if change.get("price") is not None:
            price = round(float(change["price"]), 2)
        else:
            move = rng.uniform(0.03, knobs["max_cost_change"]) * (1 if rng.random() < 2 / 3 else -1)
            price = max(0.5, round(float(variant["variantSellPrice"]) * (1 + move), 2))
        variant["variantSellPrice"] = price
        product["sellPrice"] = min(v["variantSellPrice"] or price for v in product["variants"])
        _save(world, product)
        _send(world, "product", product_message(world, product, ["productSellPrice"], key))
        return {"vid": variant["vid"], "price": price}
    if kind in ("low_stock", "stockout", "restock"):
        variant = _variant(product, change.get("vid"), rng)
        if variant is None:
            return {"skipped": "no variant"}
        if kind == "low_stock":
            variant["inventoryNum"] = rng.randint(1, 5)
            _later(
                world,
                at + timedelta(hours=knobs["low_stock_hours"]),
                {"pid": product["pid"], "vid": variant["vid"], "kind": "stockout"},
            )
        elif kind == "stockout":
            variant["inventoryNum"] = 0
            _later(
                world,
                at + timedelta(hours=knobs["restock_hours"]),
                {"pid": product["pid"], "vid": variant["vid"], "kind": "restock"},
            )
        else:
            variant["inventoryNum"] = int(change.get("stock") or rng.randint(300, 3000))
        _save(world, product)
        _send(world, "stock", stock_message(world, variant, key))
        return {"vid": variant["vid"], "stock": variant["inventoryNum"]}
    if kind in ("remove", "return"):
        product["saleStatus"] = 0 if kind == "remove" else 3
        product["status"] = 0 if kind == "remove" else 1
        if kind == "remove" and rng.random() < knobs["return_share"]:
            _later(
                world, at + timedelta(hours=knobs["restock_hours"]), {"pid": product["pid"], "kind": "return"}
            )
        _save(world, product)
        _send(world, "product", product_message(world, product, ["productStatus"], key))
        return {"pid": product["pid"], "saleStatus": product["saleStatus"]}
    raise ValueError(f"unknown change {kind!r}")


class SupplierChanges:
    """Changes of the listed products' supplier records, drawn per (product, simulated hour)."""

    name = "supplier_changes"

    def advance(self, world: World, start: datetime, end: datetime) -> None:
        self._due(world, end)
        knobs = rates(world)
        per_hour = {
            "cost": knobs["cost_change_per_day"] / 24,
            "low_stock": knobs["stockout_per_day"] / 24,
            "remove": knobs["removal_per_day"] / 24,
        }
        if not any(per_hour.values()):
            return
        hour = start.replace(minute=0, second=0, microsecond=0)
        pids = _listed_pids(world)
        while hour < end:
            for pid in pids:
                rng = world.rng("supplier_changes", pid, hour.isoformat())
                for kind, chance in per_hour.items():
                    at = hour + timedelta(seconds=rng.uniform(0, 3600))
                    if rng.random() < chance and start <= at < end:
                        product = world.state.get("cj_product", pid)
                        if product is None or (kind != "remove" and product.get("saleStatus") != 3):
                            continue
                        if kind == "remove" and product.get("saleStatus") != 3:
                            continue
                        apply_change(
                            world, {"pid": pid, "kind": kind}, at, random.Random(rng.getrandbits(64))
                        )
            hour += timedelta(hours=1)

    def _due(self, world: World, end: datetime) -> None:
        for change in world.state.all(PENDING):
            due = datetime.fromisoformat(change["due"])
            if due <= end:
                key = f"{change['pid']}:{change['kind']}:{change.get('vid')}:{change['due']}"
                world.state.delete(PENDING, key)
                apply_change(world, change, due, world.rng("supplier_due", key))


def install(world: World) -> None:
    if not any(sim.name == SupplierChanges.name for sim in world.simulators):
        world.simulators.insert(0, SupplierChanges())


@router.get("")
def get_rates(request: Request) -> dict[str, Any]:
    world = world_of(request)
    with world.lock, world.state:
        return {"rates": rates(world), "pending": world.state.all(PENDING)}


@router.post("")
def set_rates(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"cost_change_per_day": 0.5, "stockout_per_day": 0.2, ...}`: a partial update of the rates."""
    unknown = set(body) - set(DEFAULT_RATES)
    if unknown:
        raise HTTPException(422, f"unknown rates: {sorted(unknown)}; known: {sorted(DEFAULT_RATES)}")
    world = world_of(request)
    world.advance()  # the past is drawn at the old rates
    with world.lock, world.state:
        current = json.loads(world.state.meta(RATES, "{}") or "{}")
        current.update({k: float(v) for k, v in body.items()})
        world.state.set_meta(RATES, json.dumps(current))
        return {"rates": rates(world)}


@router.post("/change")
def make_change(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"pid": ..., "kind": "cost" | "low_stock" | "stockout" | "restock" | "remove" | "return",
    "vid": optional, "price": optional (cost), "stock": optional (restock)}`: one change, now."""
    world = world_of(request)
    world.advance()
    with world.lock, world.state:
        now = world.now()
        try:
            return apply_change(
                world, body, now, world.rng("supplier_manual", json.dumps(body), now.isoformat())
            )
        except (KeyError, ValueError) as error:
            raise HTTPException(422, str(error)) from error


@router.post("/store_size")
def set_store_size(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`{"extra_variants": 50000}`: the store also holds this many variants of other products (a large
    store, for Shopify's daily cap on new variants)."""
    from dropship_sandbox.apis.shopify.products import EXTRA_VARIANTS, store_variant_count

    world = world_of(request)
    with world.lock, world.state:
        world.state.set_meta(EXTRA_VARIANTS, str(int(body.get("extra_variants", 0))))
        return {"store_variants": store_variant_count(world)}
