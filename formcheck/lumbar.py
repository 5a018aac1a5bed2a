"""The lower back's gap above the mat, from the back's outline: what a posterior pelvic tilt changes.

Lying on the back with the knees bent, the lumbar spine curves away from the mat (lordosis): the
buttocks and the upper back touch it, the lower back does not. A posterior pelvic tilt rolls the
pelvis back and flattens that curve onto the mat; an anterior tilt (arching) lifts it further; a
bridge lifts the hips off the mat altogether. The pose landmarks barely move in a tilt (the hip
joint is close to the axis the pelvis turns about), but the back's outline does.

``lumbar_gap_deg`` measures the outline (silhouette.back_contour: stations from the hip end to the
shoulder end) against the line through its two ends, the sacrum and the upper back, which rest on
the mat: the mean height of the lumbar stations above that line, as the bend of a circular arc with
that chord and that sagitta (``4 * atan(2 * height / chord)``, the same measure silhouette.py uses
for the whole back), so it does not depend on the camera's distance. Positive: the lower back is
lifted off the mat line; a posterior tilt makes it smaller.

The outline is only the back's where nothing lies over it: an arm resting along the trunk on the
mat hides the lower back from a side camera (its outline is the arm's, or the mat's), so
``arm_over_lower_back`` says when the near arm lies in that band, and the measurement is refused
rather than guessed.
"""
from __future__ import annotations

import math

import numpy as np

# The lumbar spine spans roughly the second fifth to the middle of the hip-to-shoulder distance:
# the sacrum (with the hip joint at its level) takes the first 15-20 %, the thoracic spine the
# upper half. The outline's stations in this range (as fractions of the hip-shoulder chord) are
# the lower back.
LUMBAR_FROM, LUMBAR_TO = 0.15, 0.55
# The outline's stations sit evenly from 10 % to 90 % of the hip-shoulder chord (silhouette.py).
STATIONS_FROM, STATIONS_TO = 0.1, 0.9
# A forearm is about 7 cm thick against a 45-55 cm hip-to-shoulder distance: an arm whose centre
# line lies up to 0.1 chord beyond the outline still forms (or shadows) the outline's edge.
ARM_MARGIN = 0.1


def _stations_u(n: int) -> np.ndarray:
    return np.linspace(STATIONS_FROM, STATIONS_TO, n)


def _mat_frame(contour_px: np.ndarray, body_px: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(origin, unit normal pointing into the body, chord length) of the outline's end-to-end line."""
    pts = np.asarray(contour_px, float)
    if len(pts) < 3 or not np.all(np.isfinite(pts)) or not np.all(np.isfinite(body_px)):
        return None
    chord = pts[-1] - pts[0]
    length = float(np.hypot(*chord))
    if length < 1e-6:
        return None
    normal = np.array([-chord[1], chord[0]]) / length
    if np.dot(np.asarray(body_px, float) - pts[0], normal) < 0:
        normal = -normal
    return pts[0], normal, length


def lumbar_gap_deg(contour_px: np.ndarray, body_px: np.ndarray) -> float:
    """Height of the lower back's outline above the sacrum-to-upper-back line, as an arc bend (degrees).

    contour_px: (K, 2) outline from the hip end to the shoulder end, isotropic pixels. body_px: a
    point inside the trunk (e.g. between the hip and shoulder landmarks), which says which side
    of the outline is the body. NaN when the outline is unusable.
    """
    frame = _mat_frame(contour_px, body_px)
    if frame is None:
        return math.nan
    origin, into_body, length = frame
    u = _stations_u(len(contour_px))
    lumbar = (u > LUMBAR_FROM) & (u < LUMBAR_TO)
    height = float(np.mean((np.asarray(contour_px, float)[lumbar] - origin) @ into_body))
    return math.degrees(4 * math.atan2(2 * height, length))


def arm_over_lower_back(contour_px: np.ndarray, hip_px: np.ndarray, shoulder_px: np.ndarray,
                        arm_px: np.ndarray) -> bool:
    """True when the arm (shoulder-elbow-wrist, (3, 2) pixels, NaN where not visible) lies between
    the trunk's centre line and the back's outline (or just beyond it) at the lower back."""
    hip, shoulder = np.asarray(hip_px, float), np.asarray(shoulder_px, float)
    axis = shoulder - hip
    length = float(np.hypot(*axis))
    pts = np.asarray(contour_px, float)
    if length < 1e-6 or len(pts) < 3 or not np.all(np.isfinite(np.r_[hip, shoulder, pts.ravel()])):
        return False
    along = axis / length
    to_back = np.array([-along[1], along[0]])
    if np.mean((pts - hip) @ to_back) < 0:
        to_back = -to_back
    outline_u = (pts - hip) @ along / length
    outline_depth = (pts - hip) @ to_back
    arm = np.asarray(arm_px, float)
    samples = [a + f * (b - a) for a, b in zip(arm[:-1], arm[1:]) for f in np.linspace(0, 1, 11)
               if np.all(np.isfinite(a)) and np.all(np.isfinite(b))]
    for q in samples:
        u = float((q - hip) @ along / length)
        if not LUMBAR_FROM <= u <= LUMBAR_TO:
            continue
        depth = float((q - hip) @ to_back)
        edge = (float(np.interp(u, outline_u, outline_depth)) if np.all(np.diff(outline_u) > 0)
                else float(np.max(outline_depth)))
        if 0 < depth <= edge + ARM_MARGIN * length:
            return True
    return False
