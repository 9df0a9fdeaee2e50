"""Shadow chains, piece by piece over the sandbox's real HTTP: a shadowed write answers synthetic ids the
next write and read can use (and nothing reaches the sandbox), a live call naming one is refused, and the
claims shadow mode makes live in the shadow ledger, never in the live store."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.shopify.catalog import VariantChange, listing_state, update_variants
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.models import ProductInput, VariantInput
from dropship_pipelines.resources.write_gate import ShadowIdInLiveCall, gate_write, is_shadow_id
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.shadow_ledger import existing_shadow_ledger, shadow_url
from dropship_pipelines.store.shadow_ledger import main as shadow_ledger_main
from dropship_pipelines.store.write_mode_queries import claim_subscription, subscription_rows
from dropship_pipelines.store.write_mode_tables import shadow_writes
from dropship_sandbox import credentials
from dropship_sandbox.app import SHOPIFY_PREFIX
from dropship_testkit.databases import ADMIN_DSN, BACKENDS, dispose_engines, store_url_for
from dropship_testkit.sandbox_server import RunningSandbox

PRODUCT = ProductInput(
    title="Moon Lamp",
    tags=["pid:P9"],
    option_name="Color",
    variants=[
        VariantInput(sku="S-1", option_value="Blue", price=Decimal("19.99")),
        VariantInput(sku="S-2", option_value="Red", price=Decimal("21.99")),
    ],
)


def _shopify(sandbox: RunningSandbox) -> ShopifyAdminResource:
    return ShopifyAdminResource(
        shop_url=sandbox.url + SHOPIFY_PREFIX, access_token=credentials.SHOPIFY_ACCESS_TOKEN, timeout_s=5.0
    )


def _writes(sandbox: RunningSandbox) -> dict[str, int]:
    audit = sandbox.audit()
    return {k: sum(v.values()) for k, v in audit.items() if not k.startswith("llm")}


def test_a_shadow_listing_has_its_variants_and_reads_back_without_reaching_shopify(
    sandbox: RunningSandbox, pipeline_env: dict, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopify = _shopify(sandbox)
    before = _writes(sandbox)
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    listed = shopify.set_product("moon-lamp", PRODUCT)
    assert listed.product_id.startswith("shadow:shopify.Product:") and listed.handle == "moon-lamp"
    assert listed.variants_by_sku.keys() == {"S-1", "S-2"}
    assert all(is_shadow_id(v) for v in listed.variants_by_sku.values())
    assert shopify.set_product("moon-lamp", PRODUCT) == listed  # the same write: the same ids, one record
    # The catalog sync reads the shadow product back (answered from its productSet, not by Shopify), and
    # its price change under the shadow product is recorded too.
    state = listing_state(shopify, listed.product_id)
    assert state is not None and state.id == listed.product_id and state.published
    assert {(v.sku, v.price) for v in state.variants} == {
        ("S-1", Decimal("19.99")),
        ("S-2", Decimal("21.99")),
    }
    assert {v.id for v in state.variants} == set(listed.variants_by_sku.values())
    cheaper = [VariantChange(listed.variants_by_sku["S-1"], Decimal("18"))]
    update_variants(shopify, listed.product_id, cheaper)
    assert _writes(sandbox) == before, "a shadow write or read reached the sandbox"
    with get_engine(store_url).connect() as conn:
        operations = [
            r.operation for r in conn.execute(sa.select(shadow_writes).order_by(shadow_writes.c.seq))
        ]
    assert operations == ["ListProduct", "CatalogVariants"]
    # Live: the shadow product's id is refused before anything is sent.
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    with pytest.raises(ShadowIdInLiveCall):
        listing_state(shopify, listed.product_id)
    with pytest.raises(ShadowIdInLiveCall):
        update_variants(
            shopify, listed.product_id, [VariantChange(listed.variants_by_sku["S-1"], Decimal("18"))]
        )


def test_a_shadow_supplier_order_reads_back_created_and_never_ships(
    sandbox: RunningSandbox, pipeline_env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cj = CJDropshippingResource(
        base_url=pipeline_env["CJ_BASE_URL"],
        api_key=pipeline_env["CJ_API_KEY"],
        token_cache_dir=str(tmp_path / "cj-tokens"),
    )
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    before = _writes(sandbox)
    made = cj.call("POST", "/shopping/order/createOrderV2", body={"orderNumber": "shopify-9001"})
    order_id = made["orderId"]
    assert is_shadow_id(order_id)
    found = cj.find_order(order_id)
    assert found and found.supplier_order_id == order_id and found.order_number == "shopify-9001"
    assert found.status == "CREATED" and found.track_number is None
    [listed] = cj.orders([order_id])
    assert listed.status == "CREATED"
    assert _writes(sandbox) == before
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    with pytest.raises(ShadowIdInLiveCall):
        cj.find_order(order_id)


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url_for(request.param, tmp_path) as url:
        try:
            yield url
        finally:
            if url.startswith("postgresql"):  # its shadow ledger, beside it on the same server
                shadow = make_url(shadow_url(url)).database
                dispose_engines(str(shadow))
                admin = psycopg2.connect(ADMIN_DSN)
                admin.autocommit = True
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{shadow}" WITH (FORCE)')
                admin.close()


def test_shadow_claims_go_to_the_shadow_ledger_and_live_never_sees_them(
    any_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_url = any_store
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    live = get_engine(store_url)
    with live.begin() as conn:
        claim_subscription(conn, "shopify", "ORDERS_CREATE", "https://x.example/hooks", "live-run")
    assert existing_shadow_ledger(live) is None

    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    shadow = get_engine(store_url)
    assert shadow.url.render_as_string(hide_password=False) == shadow_url(store_url)
    assert (shadow.url.database or "").endswith((".shadow.db", "_shadow"))
    with shadow.begin() as conn:
        assert [r["topic"] for r in subscription_rows(conn)] == ["ORDERS_CREATE"]  # copied from live
        claim_subscription(conn, "shopify", "REFUNDS_CREATE", "https://x.example/hooks", "shadow-run")

    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    with get_engine(store_url).connect() as conn:
        assert [r["topic"] for r in subscription_rows(conn)] == ["ORDERS_CREATE"]  # not the shadow claim
    ledger = existing_shadow_ledger(get_engine(store_url))  # what the dashboard shows after the switch
    assert ledger is not None
    with ledger.connect() as conn:
        assert len(subscription_rows(conn)) == 2

    # Shadowing again from live's present state: the shadow ledger is made anew.
    with live.begin() as conn:
        claim_subscription(conn, "shopify", "APP_UNINSTALLED", "https://x.example/hooks", "live-run")
    assert shadow_ledger_main(["reset", "--url", store_url]) == 0  # the operator's command
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    with get_engine(store_url).connect() as conn:
        assert sorted(r["topic"] for r in subscription_rows(conn)) == ["APP_UNINSTALLED", "ORDERS_CREATE"]


class _NoLauncher:
    def launch(self, job_name: str) -> str:
        raise AssertionError("no run is launched here")


def test_the_going_live_page_lists_shadow_writes_after_the_switch_to_live(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from dashboard.api import create_app

    token = "t" * 32
    monkeypatch.setenv("STORE_DATABASE_URL", store_url)
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    gate_write("cj", "POST /shopping/order/createOrderV2", {"body": {"orderNumber": "S-1"}})
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    client = TestClient(create_app(store_url, token, launcher=_NoLauncher()))
    listed = client.get("/api/shadow-writes", headers={"Authorization": f"Bearer {token}"}).json()
    assert listed["mode"] == "live"
    assert [i["operation"] for i in listed["items"]] == ["POST /shopping/order/createOrderV2"]
    with get_engine(store_url).connect() as conn:  # the live store itself holds none
        assert conn.execute(sa.select(shadow_writes)).first() is None
