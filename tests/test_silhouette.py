"""The back contour on synthetic masks with a known shape."""
import math

import cv2
import numpy as np
import pytest

from formcheck.silhouette import back_contour, contour_bend_deg

W, H = 400, 300


def _trunk_mask(bulge_px: float) -> np.ndarray:
    """A horizontal trunk (hip at x=100, shoulder at x=300) whose top edge bows up by bulge_px."""
    mask = np.zeros((H, W), np.float32)
    xs = np.arange(80, 321)
    top = 120 - bulge_px * np.sin(np.pi * (xs - 80) / 240)
    for x, t in zip(xs, top):
        mask[int(round(t)):180, x] = 1.0
    return mask


def _bend(bulge_px):
    mask = _trunk_mask(bulge_px)
    hip, shoulder, knees = np.array([100.0, 150.0]), np.array([300.0, 150.0]), np.array([110.0, 250.0])
    contour = back_contour(mask, hip, shoulder, knees)
    assert contour is not None and contour.shape == (9, 2)
    return contour_bend_deg(contour, W, H, ventral_hint=knees / [W, H])


def test_flat_back_bends_zero_rounded_positive_sagging_negative():
    assert _bend(0) == pytest.approx(0, abs=1.5)
    assert _bend(20) > 15      # rounded (bulging away from the limbs): flexion
    assert _bend(-20) < -15    # dipping towards the belly: extension / sag
    assert _bend(30) > _bend(15)


def test_no_person_in_the_mask_gives_no_contour():
    empty = np.zeros((H, W), np.float32)
    assert back_contour(empty, np.array([100.0, 150.0]), np.array([300.0, 150.0]), np.array([110.0, 250.0])) is None


def test_degenerate_contour_is_nan():
    assert math.isnan(contour_bend_deg(np.array([[0.5, 0.5], [0.5, 0.5]]), W, H))
