"""The back outline and its bend on synthetic masks and outlines of known shape.

Replaces the tests of ``contour_bend_deg`` (removed: its side was decided by the knees alone and
it trusted every outline point; ``back_arc`` takes the side from the knees or the face and drops
or refuses outlines that are not the back).
"""
import math

import numpy as np
import pytest

from formcheck.backends.replay import load_trace, replay
from formcheck.backends.solutions import contour_from_mask
from formcheck.signals import body_from_frame
from formcheck.silhouette import (
    MAX_SPINE_FRACTION,
    back_arc,
    back_contour,
    frame_back_arc,
    trunk_ends_px,
    ventral_normal,
)
from formcheck.skeleton import INDEX, near_side
from formcheck.types import Pose, PoseFrame
from tests.support.paths import FIXTURES
from tests.support.synth import HEIGHT as SH
from tests.support.synth import WIDTH as SW
from tests.support.synth import supine_pose

VALIDATION_TRACES = FIXTURES / "validation" / "traces"

W, H = 400, 300
HIP, SHOULDER = np.array([100.0, 150.0]), np.array([300.0, 150.0])
UP, DOWN = np.array([0.0, -1.0]), np.array([0.0, 1.0])


def _trunk_mask(bulge_px: float) -> np.ndarray:
    """A horizontal trunk (hip at x=100, shoulder at x=300) whose top edge bows up by bulge_px."""
    mask = np.zeros((H, W), np.float32)
    xs = np.arange(80, 321)
    top = 120 - bulge_px * np.sin(np.pi * (xs - 80) / 240)
    for x, t in zip(xs, top):
        mask[int(round(t)):180, x] = 1.0
    return mask


def _mask_bend(bulge_px):
    contour = back_contour(_trunk_mask(bulge_px), HIP, SHOULDER, ventral=DOWN)
    assert contour is not None and contour.shape == (9, 2)
    return back_arc(contour * [W, H], HIP, SHOULDER, DOWN).bend_deg


def test_flat_back_bends_zero_rounded_positive_sagging_negative():
    assert _mask_bend(0) == pytest.approx(0, abs=1.5)
    assert _mask_bend(20) > 15      # rounded (bulging away from the limbs): flexion
    assert _mask_bend(-20) < -15    # dipping towards the belly: extension / sag
    assert _mask_bend(30) > _mask_bend(15)


def _arc_outline(bend_deg: float, lift_px: float = 30.0) -> tuple[np.ndarray, float]:
    """Nine outline points above the hip-shoulder chord at 10..90 % of it, on a circle whose whole
    chord-long arc bends bend_deg (positive bulging up, away from the belly). Returns the points
    and the bend of the stretch back_arc measures (between the first and the last point it keeps)."""
    u = np.linspace(0.1, 0.9, 9)
    x = HIP[0] + u * (SHOULDER[0] - HIP[0])
    length = SHOULDER[0] - HIP[0]
    if abs(bend_deg) < 1e-9:
        y = np.full_like(x, HIP[1] - lift_px)
        return np.c_[x, y], 0.0
    radius = length / (2 * math.sin(math.radians(abs(bend_deg)) / 2))
    centre_x = (HIP[0] + SHOULDER[0]) / 2
    depth = math.sqrt(radius ** 2 - (length / 2) ** 2)
    sign = 1 if bend_deg > 0 else -1
    # circle centre below the chord for a bulge up, above it for a dip
    centre_y = HIP[1] - lift_px + sign * depth
    y = centre_y - sign * np.sqrt(radius ** 2 - (x - centre_x) ** 2)
    kept = u <= MAX_SPINE_FRACTION
    a, b = np.c_[x, y][kept][[0, -1]]
    sub_bend = 2 * math.degrees(math.asin(float(np.linalg.norm(b - a)) / (2 * radius)))
    return np.c_[x, y], sign * sub_bend


@pytest.mark.parametrize("bend_deg", [-60, -30, -10, 0, 10, 30, 60, 90])
def test_bend_of_a_circular_arc_is_recovered(bend_deg):
    points, expected = _arc_outline(bend_deg)
    arc = back_arc(points, HIP, SHOULDER, DOWN)
    assert arc.reason == ""
    # the sagitta formula uses the mean interior offset (2/3 of the sagitta for an arc): exact
    # for shallow arcs, a few degrees off for deep ones
    assert arc.bend_deg == pytest.approx(expected, abs=max(2.0, 0.08 * abs(expected)))


def test_larger_bend_reads_larger():
    values = [back_arc(_arc_outline(b)[0], HIP, SHOULDER, DOWN).bend_deg for b in (-40, -20, 0, 20, 40, 80)]
    assert values == sorted(values)


def test_a_borrowed_point_is_dropped_not_read_as_bend():
    points, _ = _arc_outline(30)
    clean = back_arc(points, HIP, SHOULDER, DOWN).bend_deg
    spiked = points.copy()
    spiked[4, 1] += 40  # a gap in the mask at mid-back: the walk stops 40 px short
    head = points.copy()
    head[8, 1] -= 60  # the head lifted in a cow: the last station runs up the neck
    buttock = points.copy()
    buttock[0, 1] -= 35  # a buttock bulging at the hip end (top of a bridge)
    for outline in (spiked, head, buttock):
        arc = back_arc(outline, HIP, SHOULDER, DOWN)
        assert arc.reason == "" and arc.bend_deg == pytest.approx(clean, abs=3)


def test_an_outline_that_steps_onto_something_else_is_not_measured():
    points, _ = _arc_outline(0)
    stepped = points.copy()
    stepped[:3, 1] += 35  # the hip end lies on an arm beside the trunk, the rest on the back
    arc = back_arc(stepped, HIP, SHOULDER, DOWN)
    assert math.isnan(arc.bend_deg) and arc.reason


def test_an_outline_on_the_belly_side_is_not_measured():
    points, _ = _arc_outline(20)
    arc = back_arc(points, HIP, SHOULDER, UP)  # the landmarks say the belly is up: this is the belly
    assert math.isnan(arc.bend_deg) and "belly" in arc.reason
    assert math.isnan(back_arc(points, HIP, SHOULDER, None).bend_deg)


def _landmarks(points: dict[int, tuple[float, float]]) -> np.ndarray:
    image = np.zeros((33, 4))
    image[:, 3] = 1.0
    image[:, :2] = 0.5
    for index, (x, y) in points.items():
        image[index, :2] = (x / W, y / H)
    return image


def _bridge_top(nose_y: float) -> np.ndarray:
    """Left side: shoulder low on the mat, hip high, knee further along the same line (hips fully
    extended); the face up (nose above the ears) when nose_y is above ear_y=232."""
    shoulder, hip = (320.0, 240.0), (200.0, 180.0)
    knee = (140.0, 150.0)  # on the shoulder-hip line: the knees say nothing
    return _landmarks({11: shoulder, 12: shoulder, 23: hip, 24: hip, 25: knee, 26: knee,
                       7: (345.0, 232.0), 8: (345.0, 232.0), 0: (350.0, nose_y)})


def test_the_face_tells_the_belly_side_when_the_knees_are_on_the_trunks_line():
    image = _bridge_top(nose_y=205.0)  # lying on the back: the face points up
    hip, shoulder = image[23, :2] * [W, H], image[11, :2] * [W, H]
    ventral = ventral_normal(image, W, H, hip, shoulder)
    assert ventral is not None and ventral[1] < -0.5  # the belly faces up: the back is below
    level = _bridge_top(nose_y=232.0)  # nose level with the ears along the trunk: unknown
    level[0, :2] = (360.0 / W, 245.0 / H)
    assert ventral_normal(level, W, H, hip, shoulder) is None


def test_on_all_fours_the_knees_tell_the_belly_side():
    image = _landmarks({11: (100.0, 120.0), 23: (260.0, 120.0), 25: (260.0, 220.0), 26: (260.0, 220.0),
                        7: (80.0, 130.0), 8: (80.0, 130.0), 0: (70.0, 160.0)})
    hip, shoulder = image[23, :2] * [W, H], image[11, :2] * [W, H]
    ventral = ventral_normal(image, W, H, hip, shoulder)
    assert ventral is not None and ventral[1] > 0.9


def test_at_the_top_of_a_bridge_the_walk_finds_the_back_below_the_trunk():
    """The old walk took the knees' side as the belly: with the knees on the trunk's line it flipped
    and walked the belly's outline at the top of every bridge. Now the face decides."""
    image = _bridge_top(nose_y=205.0)
    hip, shoulder = image[23, :2] * [W, H], image[11, :2] * [W, H]
    mask = np.zeros((H, W), np.float32)
    chord = shoulder - hip
    normal = np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)  # points down-left of the chord
    if normal[1] < 0:
        normal = -normal
    yy, xx = np.mgrid[0:H, 0:W]
    rel = np.stack([xx - hip[0], yy - hip[1]], axis=-1)
    along = rel @ (chord / np.linalg.norm(chord))
    across = rel @ normal
    # belly 15 px above the line, back 25 px below it (the trunk is thicker on the back's side here)
    mask[(along > -20) & (along < np.linalg.norm(chord) + 20) & (across > -15) & (across < 25)] = 1.0
    contour = contour_from_mask(mask, image)
    assert contour is not None
    offsets = (contour * [W, H] - hip) @ normal
    assert np.all(offsets > 15)  # below the trunk's line: the back, not the belly
    arc = frame_back_arc(image, contour, W, H)
    assert arc.reason == "" and arc.bend_deg == pytest.approx(0, abs=3)  # a straight back reads straight


def test_no_person_in_the_mask_gives_no_contour():
    empty = np.zeros((H, W), np.float32)
    assert back_contour(empty, HIP, SHOULDER, DOWN) is None


def test_the_edge_is_the_end_of_the_first_run_of_person_pixels():
    # The trunk (rows 120-179) and, past a gap, an arm raised over it (rows 90-109): the walk
    # from the chord (row 150) up towards the back stops at the trunk's edge, row 120.
    mask = np.zeros((H, W), np.float32)
    mask[120:180, 80:321] = 1.0
    mask[90:110, 80:321] = 1.0
    contour = back_contour(mask, HIP, SHOULDER, ventral=DOWN)
    assert contour is not None
    assert np.allclose(contour[:, 1] * H, 120.0)
    assert np.allclose(contour[:, 0] * W, np.linspace(120.0, 280.0, 9))  # 10 % to 90 % of the chord


def test_a_walk_that_leaves_the_frame_stops_at_its_edge():
    # The person fills the frame above the chord (row 60): each walk ends at the frame's top row.
    mask = np.zeros((H, W), np.float32)
    mask[:90, :] = 1.0
    hip, shoulder = np.array([100.0, 60.0]), np.array([300.0, 60.0])
    contour = back_contour(mask, hip, shoulder, ventral=DOWN)
    assert contour is not None and np.allclose(contour[:, 1], 0.0)
    # A walk in a frame with no person before its edge finds nothing: no outline.
    mask[:, 250:] = 0.0
    assert back_contour(mask, hip, shoulder, ventral=DOWN) is None


def test_degenerate_outline_is_not_measured():
    assert math.isnan(back_arc(np.array([[0.5, 0.5], [0.5, 0.5]]), HIP, SHOULDER, DOWN).bend_deg)
    assert math.isnan(frame_back_arc(_landmarks({}), None, W, H).bend_deg)


def _near_side_split_pose() -> np.ndarray:
    """A supine side view whose trunk (shoulder and hip) is seen a little better on the right but
    whose legs (knee and ankle) much better on the left: the two old definitions of the near side
    (two trunk joints for the outline, four joints for the angles) disagreed on such a frame."""
    image = supine_pose(120.0).image.copy()
    for part, left, right in (("shoulder", 0.80, 0.90), ("hip", 0.80, 0.90), ("knee", 0.95, 0.40),
                              ("ankle", 0.95, 0.40)):
        image[INDEX[f"left_{part}"], 3], image[INDEX[f"right_{part}"], 3] = left, right
    image[INDEX["right_shoulder"], :2] += 0.02  # the far side a little off, to tell the two apart
    image[INDEX["right_hip"], :2] += 0.02
    return image


def test_the_back_outline_and_the_angles_use_the_same_near_side_synthetic():
    image = _near_side_split_pose()
    body = body_from_frame(PoseFrame(0, 0.0, SW, SH, Pose(image=image)))
    hip, shoulder = trunk_ends_px(image, SW, SH)
    assert near_side(image) == body.near_side == "left"
    assert hip == pytest.approx(body.near("hip")) and shoulder == pytest.approx(body.near("shoulder"))


def test_the_back_outline_and_the_angles_use_the_same_near_side_on_real_traces():
    # Real side views where the trunk alone and the whole body pick different sides on many frames
    # (a leg raised toward the camera, a far knee drawn up): 584 of 923 and 227 of 1361 frames.
    checked = 0
    for name in ("side_leg_raise_fitbod", "bird_dog_fitbod"):
        for frame in replay(load_trace(VALIDATION_TRACES / f"{name}.json.gz")):
            if frame.pose is None:
                continue
            ends = trunk_ends_px(frame.pose.image, frame.width, frame.height)
            body = body_from_frame(frame)
            if ends is None or body is None:
                continue
            hip, shoulder = ends
            assert hip == pytest.approx(body.near("hip")) and shoulder == pytest.approx(body.near("shoulder"))
            checked += 1
    assert checked > 1000
