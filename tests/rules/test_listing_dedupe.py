"""Supplier products with near-identical titles or the same main image are listed once."""

from dropship_pipelines.rules.listing_dedupe import Offer, duplicates


def test_near_identical_titles_and_same_images_are_skipped_with_their_reason() -> None:
    offers = [
        Offer("P1", "Silicone Pet Lick Mat with Suction Cups", "https://cdn.example/a.jpg?w=800"),
        Offer("P2", "Lick Mat Silicone Pet with Suction Cups", "https://cdn.example/b.jpg"),
        Offer("P3", "Galaxy Star Projector Lamp", "https://cdn.example/a.jpg?w=400"),
        Offer("P4", "Magnetic Car Phone Mount", "https://cdn.example/c.jpg"),
    ]
    skipped = duplicates(offers)
    assert set(skipped) == {"P2", "P3"}
    assert skipped["P2"].startswith("duplicate of P1: title 100 % alike")
    assert skipped["P3"] == "duplicate of P1: the same main image"
    assert duplicates([]) == {}


def test_different_products_of_one_kind_are_kept() -> None:
    offers = [
        Offer("P1", "Silicone Pet Lick Mat", None),
        Offer("P2", "Stainless Steel Pet Bowl", None),
        Offer("P3", "Pet Grooming Brush", None),
    ]
    assert duplicates(offers) == {}


def test_discovery_rejects_the_repeat_and_keeps_the_listed_one() -> None:
    from dropship_pipelines.services.discovery import skip_duplicates

    rows = [
        {"pid": "NEW", "name": "Silicone Pet Lick Mat", "status": "accepted", "reason": None, "score": 0.9},
        {"pid": "OLD", "name": "Pet Lick Mat Silicone", "status": "accepted", "reason": None, "score": 0.5},
        {"pid": "BAD", "name": "Slow Chair", "status": "rejected", "reason": "slow", "score": 0.1},
    ]
    inputs = {row["pid"]: {"image_url": None} for row in rows}
    skip_duplicates(rows, inputs, listed={"OLD"})
    by_pid = {row["pid"]: row for row in rows}
    assert by_pid["OLD"]["status"] == "accepted"
    assert by_pid["NEW"]["status"] == "rejected" and by_pid["NEW"]["reason"].startswith("duplicate of OLD")
    assert by_pid["BAD"]["reason"] == "slow"
