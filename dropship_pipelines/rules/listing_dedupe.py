"""One listing per product: supplier products with near-identical titles, or the same main image, are the
same product sold twice (suppliers copy each other's listings); the store lists it once.

numpy and rapidfuzz are imported by `duplicates`, not here: loading the code location (every `dagster job
execute`) imports this module through the discovery service and need not import them."""

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

TITLE_SIMILARITY = 90  # token_set_ratio from which two titles name the same product


@dataclass(frozen=True)
class Offer:
    pid: str
    title: str
    image_url: str | None


def _image_key(url: str | None) -> str | None:
    """The image itself, not the CDN's resizing parameters."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}".lower()


def duplicates(offers: Sequence[Offer]) -> dict[str, str]:
    """pid -> why it is skipped, for every offer that repeats an earlier one (offers come best first: the
    listed ones, then by score)."""
    if not offers:
        return {}
    import numpy as np  # here, not at module level: see the module's docstring
    from rapidfuzz import fuzz, process

    titles = [offer.title.lower() for offer in offers]
    similar = process.cdist(
        titles, titles, scorer=fuzz.token_set_ratio, score_cutoff=TITLE_SIMILARITY, dtype=np.uint8
    )
    kept: list[int] = []
    images: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for index, offer in enumerate(offers):
        image = _image_key(offer.image_url)
        if image and image in images:
            skipped[offer.pid] = f"duplicate of {images[image]}: the same main image"
            continue
        twin = next((k for k in kept if similar[index, k]), None)
        if twin is not None:
            skipped[offer.pid] = (
                f"duplicate of {offers[twin].pid}: title {int(similar[index, twin])} % alike "
                f"({offers[twin].title!r})"
            )
            continue
        kept.append(index)
        if image:
            images[image] = offer.pid
    return skipped
