"""The overlay: the panel's shade covers its box and nothing else, on any frame size."""
import numpy as np
import pytest

from formcheck.render import draw
from formcheck.spec import load_exercise
from formcheck.types import FrameResult


def _result() -> FrameResult:
    return FrameResult(index=0, t_ms=0.0, pose=None, view_ok=True, view_message="", signals={}, phase="rest",
                       rep_count=3, rep_count_by_side={}, partial_rep_count=0, active_flags=(), cues=())


@pytest.mark.parametrize("plain", [False, True])
def test_the_panel_darkens_its_box_and_leaves_the_rest_of_the_picture(plain):
    frame = np.full((540, 960, 3), 200, np.uint8)
    drawn = draw(frame.copy(), _result(), load_exercise("bird_dog"), plain=plain)
    changed = np.any(drawn != 200, axis=2)
    rows, cols = np.nonzero(changed)
    assert drawn[5, 5].max() < 150  # the box's corner is shaded
    # Everything drawn lies in the panel at the top left (box and gauge): the rest is untouched.
    assert rows.max() < 540 * 0.75 and cols.max() < 960 / 2
    assert np.all(drawn[:, 960 // 2:] == 200)


@pytest.mark.parametrize("size", [(40, 30), (64, 48), (30, 400)])
def test_a_panel_larger_than_the_frame_is_cut_at_its_edges(size):
    h, w = size
    drawn = draw(np.full((h, w, 3), 200, np.uint8), _result(), load_exercise("bird_dog"))
    assert drawn.shape == (h, w, 3) and drawn[0, 0].max() < 150
