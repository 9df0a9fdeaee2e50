"""The storyboard's scene arithmetic (the full layout is checked on real plans in test_video_ad)."""

from __future__ import annotations

import itertools

import pytest

from dropship_pipelines.media import storyboard


@pytest.mark.parametrize(("n_scenes", "n_items"), [(1, 1), (3, 1), (3, 3), (4, 3), (5, 2)])
def test_distribute_splits_scenes_into_contiguous_runs(n_scenes: int, n_items: int) -> None:
    runs = storyboard.distribute(n_scenes, n_items)
    assert len(runs) == n_items
    assert runs[0][0] == 0 and runs[-1][1] == n_scenes - 1
    for (_, last), (first, _) in itertools.pairwise(runs):
        assert first == last + 1
    assert all(first <= last for first, last in runs)


def test_every_motion_stays_inside_the_canvas_zoom_range() -> None:
    for motion in (*storyboard.MOTIONS, storyboard.CTA_MOTION):
        for zoom in (motion.z0, motion.z1):
            assert storyboard.ZOOM_MIN <= zoom <= storyboard.ZOOM_MAX <= storyboard.CANVAS_SCALE
        for ax, ay in (motion.a0, motion.a1):
            assert 0.0 <= ax <= 1.0 and 0.0 <= ay <= 1.0
