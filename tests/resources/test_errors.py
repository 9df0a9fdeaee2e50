"""An API error names its service and its code once, however many times a client re-raises it."""

from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError
from dropship_pipelines.resources.supplier import DuplicateOrderError


def test_a_re_raised_error_says_its_service_and_code_once() -> None:
    refused = PermanentApiError("cj", "createOrderV2: order number already exists", code=1603003)
    narrower = DuplicateOrderError("cj", str(refused), code=refused.code)
    assert str(narrower) == "cj: createOrderV2: order number already exists (code 1603003)"
    assert narrower.code == 1603003


def test_a_code_the_client_already_stated_is_not_appended_again() -> None:
    error = TransientApiError("meta", "POST /act_1/campaigns: please retry (code 2)", code=2)
    assert str(error) == "meta: POST /act_1/campaigns: please retry (code 2)"
    with_subcode = PermanentApiError("meta", "POST /act_1/adsets: invalid (code 100/1487)", code=100)
    assert str(with_subcode).count("code") == 1


def test_an_error_without_a_code_has_none_in_its_message() -> None:
    assert str(PermanentApiError("shopify", "order 7 not found on the store")) == (
        "shopify: order 7 not found on the store"
    )
