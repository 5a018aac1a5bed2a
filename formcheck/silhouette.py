"""The back's outline from MediaPipe's person segmentation mask, and its bend.

Two landmarks make a line, not a curve: the spine's shape shows in the outline of the back.
``back_contour`` walks along the shoulder-hip chord and, at each station, steps from the chord
towards the back (the dorsal side) until it leaves the person mask. The points found trace the
dorsal edge from hip to shoulder. ``back_arc`` turns that edge into one number.

Which way is the back: the knees are on the belly side of the trunk whenever the hips are bent
(all fours, lying with knees up, kneeling, sitting); at the top of a bridge, or lying or standing
straight, the knees sit on the trunk's line and say nothing, and the face does: the nose is on
the front of the head (``ventral_normal``). Deciding by the knees alone walked the belly's outline
at the top of every bridge and read it as flexion.

The bend (``back_arc``): the total bend of the circular arc with the outline's end-to-end chord
and sagitta (``4 * atan(2 * sagitta / chord)``), positive when the back bulges away from the body
(rounded, flexion), negative when it dips (extension). Before that, points the outline borrowed
from something else (the head lifted in a cow, a buttock or an arm next to the trunk, a gap in
the mask) are found as the points off the best smooth curve (a cubic through most of them) and
dropped; an outline that steps from one object to another, keeps too few points, or lies on the
belly side is not measured (NaN) rather than guessed.

What it sees: only the stretch of the back between the shoulder and hip joints' levels (the
stations used run from 10 % to 80 % of that chord). The upper thoracic curve above the shoulder
joint, up to C7, is outside it: see the README's spinal-flexion validation for what that costs.

Limits: clothing, hair and the mask's soft edge move the outline by a few pixels; the thorax
is thicker than the waist, so a neutral spine is not a zero bend. The engine therefore reports
flexion relative to the patient's own start posture (signals.RELATIVE_SIGNALS; engine/baselines.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .skeleton import INDEX, VISIBILITY_FLOOR, near_side

N_STATIONS = 9  # points along the back; odd so that one sits at mid-back
# An outline point further than this from the best smooth curve belongs to something else. Share
# of the chord: the mask's soft edge and clothing move the edge by 2-3 px on a trunk of at least
# 77 px (engine/view.py's MIN_TRUNK_FRACTION of a 960 px frame), about 3-4 %; the borrowed points seen on
# real footage lie 8-40 % away.
OUTLIER_FRACTION = 0.04
# Outline points beyond this share of the hip-shoulder chord lie over the shoulder girdle: the
# shoulder blade and trapezius move with a raised arm (bird dog) and the neck with a lifted head
# (cow), not with the spine. Dropping the last station (90 %) took the cow's head off the outline
# (cat_cow_aca's cow hold read -99 degrees with it, -56 without) and changed the agreement with
# hand annotation little (mean error of within-recording changes 19 -> 18 degrees: README).
MAX_SPINE_FRACTION = 0.85
SPINE_SPAN = 0.7  # the stations kept run from 10 % to 80 % of the chord: the bend is of that stretch
# Of the eight stations left at most two may be borrowed (a buttock or an arm beside the trunk, a
# gap in the mask); with more, the outline is mostly something else than the back.
MIN_ARC_POINTS = 6
MIN_ARC_SPAN = 0.5  # the kept points must cover this share of the shoulder-hip chord
# The smooth curve the outline's own points must lie on: a cubic follows a back's S-shape (lumbar
# lordosis below a thoracic kyphosis) that a parabola cannot, so the tolerance need only cover
# the mask's edge.
ARC_DEGREE = 3
# The knees say which side is the belly only when they sit clearly off the trunk's line (share of
# the chord); the nose only when it points clearly across the trunk (share of its distance to the
# ears' midpoint: cos 60 degrees).
KNEE_OFF_LINE_FRACTION = 0.25
FACE_ACROSS_FRACTION = 0.5


@dataclass(frozen=True)
class BackArc:
    """The back outline's bend (degrees, NaN when not measured) and why it was not measured."""

    bend_deg: float
    reason: str = ""  # "" when measured
    points_used: int = 0


def trunk_ends_px(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(hip, shoulder) in pixels on the side facing the camera, or None when either is not visible.

    image: (33, 4) normalized landmarks with visibility. The side facing the camera
    (skeleton.near_side, as for every other signal) is the one whose outline the camera sees.
    """
    vis = image[:, 3]
    side = near_side(image)
    shoulder_i, hip_i = INDEX[f"{side}_shoulder"], INDEX[f"{side}_hip"]
    if min(vis[shoulder_i], vis[hip_i]) < VISIBILITY_FLOOR:
        return None
    scale = np.array([width, height], float)
    return image[hip_i, :2] * scale, image[shoulder_i, :2] * scale


def ventral_normal(image: np.ndarray, width: int, height: int, hip: np.ndarray,
                   shoulder: np.ndarray) -> np.ndarray | None:
    """Unit vector perpendicular to the hip-shoulder chord pointing to the belly side, or None.

    The knees decide when the hips are bent; otherwise the nose (in front of the ears) does; None
    when neither is clear (the outline cannot be attributed to the back).
    """
    scale = np.array([width, height], float)
    chord = np.asarray(shoulder, float) - np.asarray(hip, float)
    length = float(np.hypot(*chord))
    if not np.isfinite(length) or length < 1e-6:
        return None
    normal = np.array([-chord[1], chord[0]]) / length
    knees = image[[INDEX["left_knee"], INDEX["right_knee"]], :2].mean(axis=0) * scale
    knee_side = float(np.dot(knees - hip, normal))
    if abs(knee_side) > KNEE_OFF_LINE_FRACTION * length:
        return normal if knee_side > 0 else -normal
    ears = image[[INDEX["left_ear"], INDEX["right_ear"]], :2].mean(axis=0) * scale
    face = image[INDEX["nose"], :2] * scale - ears
    face_len = float(np.hypot(*face))
    face_side = float(np.dot(face, normal))
    if face_len > 0 and abs(face_side) > FACE_ACROSS_FRACTION * face_len:
        return normal if face_side > 0 else -normal
    return None


def back_contour(
    mask: np.ndarray,
    hip_px: np.ndarray,
    shoulder_px: np.ndarray,
    ventral: np.ndarray,
    threshold: float = 0.5,
) -> np.ndarray | None:
    """Dorsal edge of the trunk as (N_STATIONS, 2) normalized image points, or None.

    mask: (H, W) person probability 0-1. hip_px, shoulder_px: trunk ends in pixels. ventral: a
    direction towards the belly side of the trunk (``ventral_normal``), which fixes which way is "back".
    """
    h, w = mask.shape[:2]
    chord = np.asarray(shoulder_px, float) - np.asarray(hip_px, float)
    length = float(np.hypot(*chord))
    if not np.all(np.isfinite(chord)) or length < 10:
        return None
    along = chord / length
    normal = np.array([-along[1], along[0]])
    if np.dot(np.asarray(ventral, float), normal) > 0:
        normal = -normal  # make the normal point to the back
    steps = np.arange(-int(0.15 * length), int(0.6 * length))
    # At each station walk from just inside the chord towards the back; the edge is the last
    # pixel of the first run of person pixels (a later run would be an arm or the other leg).
    # All stations at once: (stations, steps) arrays.
    walks = (hip_px + np.linspace(0.1, 0.9, N_STATIONS)[:, None] * chord)[:, None, :] + steps[:, None] * normal
    xi, yi = np.round(walks[..., 0]).astype(int), np.round(walks[..., 1]).astype(int)
    outside = (xi < 0) | (xi >= w) | (yi < 0) | (yi >= h)
    # A walk stops at the frame's edge: the steps after its first pixel outside do not count.
    before_edge = np.cumsum(outside, axis=1) == 0
    inside = before_edge & (mask[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)] >= threshold)
    if not inside.any(axis=1).all():
        return None
    first = np.argmax(inside, axis=1)
    # The run ends one step before the first step outside the person after it; a step past the
    # walk's end counts as outside, so a run that reaches the end ends at the last step.
    past_run = np.pad(~inside & (np.arange(len(steps)) >= first[:, None]), ((0, 0), (0, 1)), constant_values=True)
    last = np.argmax(past_run, axis=1) - 1
    edge = walks[np.arange(N_STATIONS), last]
    return edge / np.array([w, h], float)


def back_arc(contour_px: np.ndarray, hip: np.ndarray, shoulder: np.ndarray, ventral: np.ndarray | None) -> BackArc:
    """Bend of the back outline (see the module docstring); all arguments in pixels.

    contour_px: (K, 2) outline points; hip, shoulder: the trunk's ends (landmarks); ventral: a
    direction to the belly side (``ventral_normal``) or None when it is unknown.
    """
    pts = np.asarray(contour_px, float)
    chord = np.asarray(shoulder, float) - np.asarray(hip, float)
    length = float(np.hypot(*chord))
    if len(pts) < MIN_ARC_POINTS or not np.all(np.isfinite(pts)) or not math.isfinite(length) or length < 1e-6:
        return BackArc(math.nan, "no outline")
    if ventral is None:
        return BackArc(math.nan, "cannot tell the back from the belly")
    along = chord / length
    normal = np.array([-along[1], along[0]])
    if np.dot(ventral, normal) > 0:
        normal = -normal  # dorsal
    u = (pts - hip) @ along / length
    offset = (pts - hip) @ normal / length
    spine = u <= MAX_SPINE_FRACTION
    pts, u, offset = pts[spine], u[spine], offset[spine]
    if len(pts) < MIN_ARC_POINTS:
        return BackArc(math.nan, "the outline covers too little of the back", len(pts))
    if np.median(offset) < 0:
        return BackArc(math.nan, "the outline is on the belly side")
    keep = _arc_inliers(u, offset)
    if keep.sum() < MIN_ARC_POINTS:
        return BackArc(math.nan, "the outline is not a smooth curve", int(keep.sum()))
    inside = np.flatnonzero(keep)
    dropped_inside = ~keep[inside[0]:inside[-1] + 1]
    if np.any(dropped_inside[1:] & dropped_inside[:-1]):
        # Two neighbouring stations off the arc in mid-back: the outline steps onto something
        # else (an arm beside the trunk, the mat) and back; which piece is the back is unknown.
        return BackArc(math.nan, "the outline jumps", int(keep.sum()))
    if np.ptp(u[keep]) < MIN_ARC_SPAN:
        return BackArc(math.nan, "the outline covers too little of the back", int(keep.sum()))
    # A circular arc's bend grows with its length: scaled to the full stretch, a dropped end point
    # changes nothing (the "ends moving" of the outline as the hips rise or the head lifts).
    span = float(u[keep].max() - u[keep].min())
    return BackArc(_sagitta_bend_deg(pts[keep], normal) * SPINE_SPAN / span, "", int(keep.sum()))


def _sagitta_bend_deg(points: np.ndarray, dorsal: np.ndarray) -> float:
    """Total bend of the circular arc with the points' end-to-end chord and sagitta (degrees),
    positive when the points bulge towards ``dorsal``. The sagitta comes from the mean offset of
    all interior points (steadier than the single largest one), each weighed by where it lies:
    on an arc of sagitta s a point at fraction x of the chord sits about 4 s x (1 - x) off it."""
    chord = points[-1] - points[0]
    length = float(np.hypot(*chord))
    along = chord / length
    normal = np.array([-along[1], along[0]])
    if np.dot(normal, dorsal) < 0:
        normal = -normal
    interior = points[1:-1] - points[0]
    x = np.clip(interior @ along / length, 0.0, 1.0)
    shape = float(np.mean(4 * x * (1 - x)))
    if shape < 1e-6:
        return math.nan
    sagitta = float(np.mean(interior @ normal)) / shape
    return math.degrees(4 * math.atan2(2 * sagitta, length))


def _arc_inliers(u: np.ndarray, offset: np.ndarray, degree: int = ARC_DEGREE) -> np.ndarray:
    """The largest set of outline points within OUTLIER_FRACTION of one smooth curve (bool mask).

    Every polynomial through degree + 1 of the points is tried (70 cubics for eight points, solved
    at once): a greedy fit to all points is pulled off course by a step in the outline and can keep
    the wrong side of it. The best set is then refitted by least squares until it no longer changes, so a
    clean deep arc keeps all its points. Ties go to the smaller sum of squared residuals.
    """
    n = len(u)
    best = np.zeros(n, bool)
    combos = np.array(list(combinations(range(n), degree + 1)))
    powers = np.arange(degree, -1, -1)
    systems = u[combos][:, :, None] ** powers  # one Vandermonde matrix per choice of points
    solvable = np.abs(np.linalg.det(systems)) > 1e-12
    if not solvable.any():
        return best
    coefs = np.linalg.solve(systems[solvable], offset[combos[solvable]][:, :, None])[:, :, 0]
    residual = np.abs(offset[None, :] - coefs @ (u[:, None] ** powers).T)
    inliers = residual <= OUTLIER_FRACTION
    counts = inliers.sum(axis=1)
    spread = np.where(inliers, residual ** 2, 0.0).sum(axis=1)
    choice = np.lexsort((spread, -counts))[0]  # most inliers, then the smallest squared residuals
    best = inliers[choice]
    for _ in range(3):
        if best.sum() <= degree:
            break
        refit = np.abs(offset - np.polyval(np.polyfit(u[best], offset[best], degree), u)) <= OUTLIER_FRACTION
        if refit.sum() < best.sum() or np.array_equal(refit, best):
            break
        best = refit
    return best


def frame_back_arc(image: np.ndarray, contour: np.ndarray | None, width: int, height: int) -> BackArc:
    """``back_arc`` of one frame's pose: landmarks (33, 4) and outline (K, 2), both normalized."""
    if contour is None:
        return BackArc(math.nan, "no outline")
    ends = trunk_ends_px(image, width, height)
    if ends is None:
        return BackArc(math.nan, "trunk not visible")
    hip, shoulder = ends
    ventral = ventral_normal(image, width, height, hip, shoulder)
    return back_arc(np.asarray(contour, float) * np.array([width, height], float), hip, shoulder, ventral)
