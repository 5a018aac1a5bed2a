"""Pure, NaN-aware angle kernels.

Angle conventions (all in degrees):
- points are 2D (x right, y down; image or roll-corrected floor frame) or 3D;
- ``joint_angle_deg(a, b, c)`` is the unsigned angle at ``b`` between ``b->a`` and ``b->c``,
  0..180 (180 = straight);
- ``segment_incline_deg(p, q)`` is the angle of the segment ``p->q`` above the floor line,
  -90..90, positive when ``q`` is higher than ``p`` (y down, so "higher" is smaller y);
- ``angle_from_down_deg(p, q)`` is the angle between ``p->q`` and straight down (gravity),
  0..180: 0 hangs down, 90 horizontal, 180 points up;
- ``signed_bend_deg(a, b, c, toward)`` is the deviation of the path a-b-c from straight
  (180 - the joint angle at ``b``), positive when ``b`` lies on the same side of the line ``a->c``
  as the reference point ``toward``, negative on the other side.
Any NaN input gives NaN.
"""
from __future__ import annotations

import math

import numpy as np


def joint_angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    ba = np.asarray(a, float) - np.asarray(b, float)
    bc = np.asarray(c, float) - np.asarray(b, float)
    norm = float(np.linalg.norm(ba) * np.linalg.norm(bc))
    if not np.isfinite(norm) or norm < 1e-12:
        return math.nan
    cosine = float(np.dot(ba, bc)) / norm
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def signed_bend_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray, toward: np.ndarray) -> float:
    """Deviation of the 2D path a-b-c from straight (180 - joint angle), signed.

    Positive when ``b`` lies on the same side of the line a->c as the reference point ``toward``,
    negative on the other side. Used e.g. for a bridge: hips above the shoulder-knee line.
    """
    deviation = 180.0 - joint_angle_deg(a, b, c)
    side_b = _cross_2d(a, c, b)
    side_ref = _cross_2d(a, c, toward)
    if not (np.isfinite(deviation) and np.isfinite(side_b) and np.isfinite(side_ref)) or side_ref == 0:
        return math.nan
    return deviation if side_b * side_ref >= 0 else -deviation


def segment_incline_deg(p: np.ndarray, q: np.ndarray) -> float:
    dx = float(q[0] - p[0])
    dy = float(p[1] - q[1])  # y grows downwards
    if not (np.isfinite(dx) and np.isfinite(dy)) or (dx == 0 and dy == 0):
        return math.nan
    incline = math.degrees(math.atan2(dy, abs(dx)))
    return incline


def angle_from_down_deg(p: np.ndarray, q: np.ndarray) -> float:
    down = np.array([0.0, 1.0])
    return joint_angle_deg(np.asarray(p[:2], float) + down, p[:2], q[:2])


def rotate_2d(points: np.ndarray, angle_deg: float, center: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """Rotate (..., 2) points by ``angle_deg`` counter-clockwise as seen on screen (y down)."""
    theta = math.radians(angle_deg)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    pts = np.asarray(points, float)
    x = pts[..., 0] - center[0]
    y = pts[..., 1] - center[1]
    # On screen (y down), counter-clockwise means x' = x cos + y sin, y' = -x sin + y cos.
    out = np.empty_like(pts)
    out[..., 0] = center[0] + x * cos_t + y * sin_t
    out[..., 1] = center[1] - x * sin_t + y * cos_t
    return out


def _cross_2d(a: np.ndarray, c: np.ndarray, p: np.ndarray) -> float:
    return float((c[0] - a[0]) * (p[1] - a[1]) - (c[1] - a[1]) * (p[0] - a[0]))
