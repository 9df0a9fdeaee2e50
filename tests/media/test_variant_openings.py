"""A creative test's two openings: the price-first challenger shows its price badge from the first frame
(the thumbnail), the problem-first control only a moment later; the opening is part of the video's key,
and the default leaves the keys of the videos rendered before unchanged."""

from pathlib import Path

import pytest
from PIL import Image

from dropship_pipelines.media import storyboard
from dropship_pipelines.media.video_ad import VideoAdSpec, spec_fingerprint


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    root = tmp_path_factory.mktemp("images")
    paths = []
    for n, size in enumerate(((800, 800), (600, 900))):
        path = root / f"{n}.png"
        Image.new("RGB", size, (40 + 90 * n, 120, 200)).save(path)
        paths.append(path)
    return tuple(paths)


def spec(images: tuple[Path, ...], **overrides: object) -> VideoAdSpec:
    fields: dict[str, object] = {
        "image_paths": images,
        "headline": "Never drop your phone",
        "captions": ("Grips any car", "Ships free"),
        "price_text": "$24.99",
        "compare_at_text": "$39.99",
        "call_to_action": "Shop now",
        "width": 180,
        "height": 320,
        "duration_s": 10.0,
        "fps": 10,
    }
    return VideoAdSpec(**(fields | overrides))  # type: ignore[arg-type]


def test_the_price_first_opening_shows_the_price_on_the_first_frame(images: tuple[Path, ...]) -> None:
    problem = storyboard.build_plan(spec(images))
    price = storyboard.build_plan(spec(images, opening="price"))
    at_start = [o for o in problem.overlays if o.start == 0.0]
    assert len(at_start) == 1  # the headline alone
    opening = [o for o in price.overlays if o.start == 0.0]
    assert len(opening) == 2  # the headline and the price badge
    [badge] = [o for o in opening if o.sprites[0].y > 320 // 2]  # the headline is at the top
    assert badge.fade_in == 0.0 and badge.end <= 10.0
    assert len(price.overlays) == len(problem.overlays) + 1


def test_the_opening_is_part_of_the_key_and_the_default_keeps_old_keys(images: tuple[Path, ...]) -> None:
    control = spec(images)
    assert spec_fingerprint(control) == spec_fingerprint(spec(images, opening="problem"))
    assert spec_fingerprint(spec(images, opening="price")) != spec_fingerprint(control)
    with pytest.raises(ValueError, match="opening"):
        spec(images, opening="shock")
