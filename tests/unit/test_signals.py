import math

import numpy as np
import pytest

from formcheck.signals import (
    RollEstimator,
    body_from_frame,
    compute,
    hip_extension_both_sides_deg,
    hip_extension_deg,
    known_signal_names,
)
from formcheck.types import Pose, PoseFrame
from tests.support.synth import HEIGHT, WIDTH, frames_from_angles, supine_pose


@pytest.mark.parametrize("angle", [120, 150, 180, 200])
def test_hip_extension_is_signed_about_straight(angle):
    body = body_from_frame(frames_from_angles([angle])[0])
    assert hip_extension_deg(body) == pytest.approx(angle, abs=0.01)
    assert hip_extension_both_sides_deg(body) == pytest.approx(angle, abs=0.5)


def test_roll_estimator_reads_the_floor_from_shoulder_and_heel():
    estimator = RollEstimator(("shoulder", "heel"), n_frames=5)
    for frame in frames_from_angles([140] * 6, roll_deg=7):
        roll = estimator.update(frame)
    assert roll == pytest.approx(7, abs=0.5) and estimator.frozen


def test_roll_estimator_ignores_implausible_tilts():
    estimator = RollEstimator(("shoulder", "heel"), n_frames=5)
    for frame in frames_from_angles([140] * 6, roll_deg=60):
        estimator.update(frame)
    assert estimator.roll_deg == 0.0


def test_gated_landmarks_make_signals_missing():
    pose = supine_pose(150)
    image = pose.image.copy()
    image[[23, 24], 3] = 0.1  # both hips barely visible
    body = body_from_frame(PoseFrame(0, 0.0, WIDTH, HEIGHT, Pose(image=image)))
    values = compute(["hip_extension_deg", "trunk_incline_deg"], body)
    assert all(math.isnan(v) for v in values.values())


def test_no_body_gives_all_nan():
    assert all(math.isnan(v) for v in compute(["hip_extension_deg"], None).values())


def test_signal_names_include_per_side_and_relative_signals():
    names = known_signal_names()
    for name in ("bird_dog_reach_left_deg", "arm_elevation_right_deg", "spinal_flexion_deg", "trunk_rotation_deg"):
        assert name in names


def test_bird_dog_reach_uses_the_visible_limb():
    # On all fours with the left arm forward: only the arm is seen (the leg is hidden) -> the arm alone.
    image = np.zeros((33, 4))
    image[:, 3] = 0.0
    pts = {"left_shoulder": (300, 150), "left_elbow": (380, 150), "left_hip": (500, 150), "right_hip": (500, 152)}
    for name, (x, y) in pts.items():
        from formcheck.skeleton import INDEX
        image[INDEX[name]] = (x / WIDTH, y / HEIGHT, 0, 0.99)
    body = body_from_frame(PoseFrame(0, 0.0, WIDTH, HEIGHT, Pose(image=image)))
    assert compute(["bird_dog_reach_left_deg"], body)["bird_dog_reach_left_deg"] == pytest.approx(90, abs=0.5)
