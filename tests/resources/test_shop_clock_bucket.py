"""The store clock's probe is paid from the shop's cost bucket mirror like every other Shopify call: an
unbooked probe left the mirror above the server's bucket, and the next big page came back THROTTLED."""

import pytest

from dropship_pipelines.resources import pacing
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.clock import PROBE_COST, read_shop_time


def test_each_clock_probe_takes_its_point_from_the_mirror(sandbox, pipeline_env) -> None:
    shopify = ShopifyAdminResource(
        shop_url=pipeline_env["SHOPIFY_SHOP_URL"],
        access_token=pipeline_env["SHOPIFY_ACCESS_TOKEN"],
        restore_rate=1e-6,  # a mirror that all but stands still, so the points taken are what is left
    )
    pacing._buckets.pop(shopify.shop_url, None)  # sized afresh by this instance
    bucket = shopify._bucket()
    before = bucket.available()
    for _ in range(3):
        read_shop_time(shopify)
    assert before - bucket.available() == pytest.approx(PROBE_COST * 3, abs=1e-3)
    pacing._buckets.pop(shopify.shop_url, None)  # the next test's instances size their own
