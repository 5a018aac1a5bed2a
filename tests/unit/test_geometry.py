import math

import numpy as np
import pytest

from formcheck.geometry import angle_from_down_deg, joint_angle_deg, rotate_2d, segment_incline_deg, signed_bend_deg


@pytest.mark.parametrize("a, b, c, expected", [
    ((1, 0), (0, 0), (0, 1), 90.0),     # right angle
    ((-1, 0), (0, 0), (1, 0), 180.0),   # straight line
    ((1, 0), (0, 0), (1, 0), 0.0),      # folded back on itself
    ((1, 1), (0, 0), (1, 0), 45.0),
    ((1, 0, 0), (0, 0, 0), (0, 0, 1), 90.0),  # 3D works too
])
def test_joint_angle(a, b, c, expected):
    assert joint_angle_deg(np.array(a), np.array(b), np.array(c)) == pytest.approx(expected)


def test_nan_in_nan_out():
    assert math.isnan(joint_angle_deg(np.array([np.nan, 0]), np.zeros(2), np.ones(2)))
    assert math.isnan(joint_angle_deg(np.zeros(2), np.zeros(2), np.ones(2)))  # zero-length arm
    assert math.isnan(segment_incline_deg(np.array([0, 0]), np.array([np.nan, 1])))


def test_signed_bend_sign_follows_reference_side():
    a, c = np.array([0.0, 0.0]), np.array([2.0, 0.0])
    below = np.array([1.0, 0.1])  # y down: below the line
    floor = np.array([1.0, 10.0])
    assert signed_bend_deg(a, below, c, toward=floor) > 0
    assert signed_bend_deg(a, np.array([1.0, -0.1]), c, toward=floor) < 0


def test_incline_and_down():
    assert segment_incline_deg(np.array([0, 0]), np.array([1, -1])) == pytest.approx(45.0)  # rises to the right
    assert segment_incline_deg(np.array([1, -1]), np.array([0, 0])) == pytest.approx(-45.0)
    assert angle_from_down_deg(np.array([0, 0]), np.array([0, 1])) == pytest.approx(0.0)   # hangs down
    assert angle_from_down_deg(np.array([0, 0]), np.array([1, 0])) == pytest.approx(90.0)  # horizontal
    assert angle_from_down_deg(np.array([0, 0]), np.array([0, -1])) == pytest.approx(180.0)


def test_rotate_counter_clockwise_on_screen():
    # A point to the right of the centre, turned 90 degrees counter-clockwise, ends up above it (y down).
    out = rotate_2d(np.array([[1.0, 0.0]]), 90.0, center=(0.0, 0.0))
    assert out[0] == pytest.approx([0.0, -1.0], abs=1e-9)
