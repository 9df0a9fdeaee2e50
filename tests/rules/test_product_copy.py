from dropship_pipelines.rules.product_copy import (
    ProductCopy,
    copy_facts,
    copy_problems,
    copy_prompt,
    facts_hash,
)

FACTS = copy_facts("Rechargeable Sunset Lamp", "Home / Lighting", ["Black", "White"], 420.0, 9)


def copy(**overrides: object) -> ProductCopy:
    base = {
        "title": "Rechargeable Sunset Lamp",
        "description_html": "<p>A sunset lamp.</p><ul><li>Black</li></ul>",
        "tags": ["Lighting"],
    }
    return ProductCopy(**{**base, **overrides})  # type: ignore[arg-type]


def test_good_copy_has_no_problems() -> None:
    assert copy_problems(copy(), FACTS) == []


def test_hostile_or_broken_copy_is_refused() -> None:
    assert "empty title" in copy_problems(copy(title="  "), FACTS)
    assert "description contains unsafe HTML" in copy_problems(
        copy(description_html="<p>Lamp</p><script>steal()</script>"), FACTS
    )
    assert "description contains unsafe HTML" in copy_problems(
        copy(description_html='<p onclick="x()">Lamp</p>'), FACTS
    )
    assert any(
        "outside" in p for p in copy_problems(copy(description_html="<p>Lamp</p><table></table>"), FACTS)
    )
    assert "copy does not name the product (off-topic answer)" in copy_problems(
        copy(title="It is sunny today", description_html="<p>The weather is nice.</p>"), FACTS
    )
    assert "title longer than 255 characters" in copy_problems(copy(title="Lamp " * 80), FACTS)


def test_facts_hash_is_stable_and_sensitive() -> None:
    again = copy_facts("Rechargeable Sunset Lamp", "Home / Lighting", ["Black", "White"], 420.0, 9)
    assert facts_hash(FACTS) == facts_hash(again)
    assert facts_hash(FACTS) != facts_hash({**FACTS, "variants": ["Black"]})


def test_prompt_carries_the_facts_as_json() -> None:
    assert '"name": "Rechargeable Sunset Lamp"' in copy_prompt(FACTS)
