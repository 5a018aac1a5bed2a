"""The back contour from MediaPipe's person segmentation mask.

Two landmarks make a line, not a curve: the spine's shape shows in the outline of the back.
``back_contour`` walks along the shoulder-hip chord and, at each station, steps from the chord
towards the back (the dorsal side, away from the limbs) until it leaves the person mask. The
points found trace the dorsal edge from hip to shoulder. ``contour_bend_deg`` turns that edge
into one number: the total bend of a circular arc with the same chord and sagitta
(``4 * atan(2 * sagitta / chord)``), positive when the back bulges outward (rounded, flexion),
negative when it dips (sagging, extension).

Limits: clothing, hair and the mask's soft edge move the outline by a few pixels; the thorax
is thicker than the waist, so a neutral spine is not a zero bend. The engine therefore reports
flexion relative to the patient's own start posture (see signals.SpinalFlexion).
"""
from __future__ import annotations

import math

import numpy as np

N_STATIONS = 9  # points along the back; odd so that one sits at mid-back


def back_contour(
    mask: np.ndarray,
    hip_px: np.ndarray,
    shoulder_px: np.ndarray,
    ventral_px: np.ndarray,
    threshold: float = 0.5,
) -> np.ndarray | None:
    """Dorsal edge of the trunk as (N_STATIONS, 2) normalized image points, or None.

    mask: (H, W) person probability 0-1. hip_px, shoulder_px: trunk ends in pixels. ventral_px:
    a point on the belly side of the trunk (e.g. the knees' midpoint), which fixes which way is "back".
    """
    h, w = mask.shape[:2]
    chord = np.asarray(shoulder_px, float) - np.asarray(hip_px, float)
    length = float(np.hypot(*chord))
    if not np.all(np.isfinite(chord)) or length < 10:
        return None
    along = chord / length
    normal = np.array([-along[1], along[0]])
    if np.dot(np.asarray(ventral_px, float) - hip_px, normal) > 0:
        normal = -normal  # make the normal point to the back
    steps = np.arange(-int(0.15 * length), int(0.6 * length))
    points = []
    for u in np.linspace(0.1, 0.9, N_STATIONS):
        # Walk from just inside the chord towards the back; the edge is the last pixel of the
        # first run of person pixels (a later run would be an arm or the other leg).
        walk = (hip_px + u * chord) + steps[:, None] * normal
        xi, yi = np.round(walk[:, 0]).astype(int), np.round(walk[:, 1]).astype(int)
        outside = (xi < 0) | (xi >= w) | (yi < 0) | (yi >= h)
        n = int(np.argmax(outside)) if outside.any() else len(walk)  # stop at the frame's edge
        inside = mask[yi[:n], xi[:n]] >= threshold
        if not inside.any():
            return None
        first = int(np.argmax(inside))
        gaps = ~inside[first:]
        last = first + (int(np.argmax(gaps)) if gaps.any() else len(gaps)) - 1
        points.append((walk[last, 0] / w, walk[last, 1] / h))
    return np.array(points)


def contour_bend_deg(contour: np.ndarray, width: int, height: int, ventral_hint: np.ndarray | None = None) -> float:
    """Signed bend of a back contour (degrees); positive = bulging away from ``ventral_hint``.

    contour: (K, 2) normalized points from hip to shoulder; width, height: frame size in pixels
    (angles need isotropic units). ventral_hint: a normalized point on the belly side.
    """
    pts = np.asarray(contour, float) * np.array([width, height], float)
    if len(pts) < 3 or not np.all(np.isfinite(pts)):
        return math.nan
    chord = pts[-1] - pts[0]
    length = float(np.hypot(*chord))
    if length < 1e-6:
        return math.nan
    normal = np.array([-chord[1], chord[0]]) / length
    if ventral_hint is not None:
        hint = np.asarray(ventral_hint, float) * np.array([width, height], float)
        if np.dot(hint - pts[0], normal) > 0:
            normal = -normal
    offsets = (pts[1:-1] - pts[0]) @ normal
    # The mean offset of the interior points is steadier than the single largest one.
    sagitta = float(np.mean(offsets)) * 1.5  # a circular arc's mean interior offset is ~2/3 of its sagitta
    return math.degrees(4 * math.atan2(2 * sagitta, length))
