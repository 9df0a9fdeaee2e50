"""What makes an LLM's ad copy unusable, what the model is told, and when a creative must be made anew."""

from decimal import Decimal

import pytest

from dropship_pipelines.rules.ad_copy import (
    CALLS_TO_ACTION,
    AdCopy,
    ad_copy_facts,
    ad_copy_prompt,
    content_hash,
    copy_problems,
)

FACTS = ad_copy_facts("Magnetic Phone Mount", Decimal("19.9"), Decimal("39.99"), "Phones / Car / Mounts")
VIDEO = {"width": 720, "height": 1280, "duration_s": 12.0, "fps": 30, "images": ["a.jpg"]}


def good(**changes: object) -> AdCopy:
    copy = {
        "headline": "Never drop your phone",
        "hooks": ["One hand, one snap", "Holds on every bump", "Now $19.90, was $39.99"],
        "caption": "The mount that just works. $19.90 today.",
        "call_to_action": "SHOP_NOW",
    }
    return AdCopy(**{**copy, **changes})


def test_facts_are_formatted_for_the_model() -> None:
    assert FACTS == {
        "title": "Magnetic Phone Mount",
        "price": "19.90",
        "compare_at_price": "39.99",
        "category": "Mounts",
    }
    bare = ad_copy_facts("Lamp", Decimal("5"), None, None)
    assert bare["compare_at_price"] is None and bare["category"] is None
    assert '"price": "19.90"' in ad_copy_prompt(FACTS)


def test_a_good_answer_has_no_problems() -> None:
    assert copy_problems(good(), FACTS) == []
    assert copy_problems(good(call_to_action="LEARN_MORE"), FACTS) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"headline": "Hi"}, "headline must be 3-40 characters"),
        ({"headline": "x" * 41}, "headline must be 3-40 characters"),
        ({"hooks": ["Only one"]}, "needs 2-4 hooks"),
        ({"hooks": ["one", "two", "   "]}, None),  # blank hooks do not count, two remain
        ({"hooks": ["one", " "]}, "needs 2-4 hooks"),
        ({"hooks": ["a", "b", "c", "d", "e"]}, "needs 2-4 hooks"),
        ({"hooks": ["short", "y" * 61]}, "a hook is longer than 60 characters"),
        ({"caption": ""}, "caption must be 1-100 characters"),
        ({"caption": "z" * 101}, "caption must be 1-100 characters"),
        ({"call_to_action": "BUY_NOW"}, "call_to_action 'BUY_NOW' is not one of"),
        ({"caption": "Only $9.99 today"}, "names a price the store does not charge: $9.99"),
        ({"headline": "Was $40, now less"}, "names a price the store does not charge: $40"),
        ({"caption": "See www.example.com"}, "contains a link"),
        ({"hooks": ["Go to https://x.test", "two"]}, "contains a link"),
        ({"caption": "As an AI, I love this mount"}, "reads like a chatbot, not an ad"),
    ],
)
def test_an_unusable_answer_says_why(changes: dict, problem: str | None) -> None:
    problems = copy_problems(good(**changes), FACTS)
    if problem is None:
        assert problems == []
    else:
        assert any(p.startswith(problem) for p in problems), problems


def test_the_store_prices_are_allowed_in_any_spelling() -> None:
    for text in ("$19.90", "$19.9", "$ 19.90", "$39.99"):
        assert copy_problems(good(caption=f"Only {text}"), FACTS) == [], text


def test_a_repeated_problem_is_reported_once() -> None:
    problems = copy_problems(good(headline="www.a.test", caption="www.b.test"), FACTS)
    assert problems.count("contains a link") == 1


def test_calls_to_action_are_the_ones_both_platforms_accept() -> None:
    assert set(CALLS_TO_ACTION) == {"SHOP_NOW", "ORDER_NOW", "LEARN_MORE"}


def test_content_hash_changes_with_what_the_creative_is_made_from() -> None:
    base = content_hash(FACTS, VIDEO)
    assert content_hash(dict(reversed(FACTS.items())), VIDEO) == base  # key order does not matter
    assert content_hash({**FACTS, "price": "17.90"}, VIDEO) != base
    assert content_hash(FACTS, {**VIDEO, "fps": 24}) != base
    assert content_hash(FACTS, {**VIDEO, "images": ["b.jpg"]}) != base
