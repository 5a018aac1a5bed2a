"""Signals measured from MediaPipe's 3D world landmarks, for views where a 2D angle is not the
anatomical one (see views.py).

Two kinds:
- joint angles (between two body segments) do not depend on where the camera stands, so an
  oblique camera measures them as a side camera would;
- angles against the floor (an incline, a limb "above hip level") need to know which way is up.
  The world landmarks' axes are the camera's, and a laptop looking down at a mat is pitched, so
  "up" is taken from the floor itself: the plane through the exercise's floor contacts on both
  sides (wrists and knees on all fours, shoulders and hips lying down), at rest at the start of
  each camera angle (``FloorPlane``). Without a floor plane these signals are not measured.

MediaPipe's depth is compressed. Each 3D signal here was compared with its 2D version where the
2D angle is trustworthy (tests/unit/engine/test_views.py keeps the check): on the side views of six real traces
(about 1400 frames), hip flexion reads -0.7 to +6.7 degrees higher in 3D on average (mean absolute
difference 6-7.5, correlation 0.98-0.99), knee flexion +2.6 (5.9), the bird dog's reach +4.8 to
+6.4 (6.4-7.2); the side-lying abduction seen from the front -3.1 (3.2). The bar is a third of the
narrowest rest-to-top band of a rep they count (25 degrees: knee-to-chest, wall squat), 8 degrees
of mean error and of bias, so the 3D versions count reps; no rule limit is applied to them
that a 2D measure would not also cross. Angles of a limb or the trunk against the floor plane do
not pass: the plane fitted through four floor contacts is tilted by the compressed depth, reading
the hips' rise 5-16 degrees low on bridges and the bird dog's thigh 9-13 degrees high (hip_lift,
trunk_incline, leg_above_hip, arm_above_shoulder): within a rule's margin, so in an oblique view
those rules are not checked. The reach is measured against that plane too, but counts with a
30-degree band and a reach of 60-100 degrees. Visibility gating as in signals.py: a landmark the
model is not confident it sees is NaN.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .geometry import joint_angle_deg
from .signals import Body
from .skeleton import INDEX, SIDES, other_side
from .views import body_axes

# Floor contacts must span at least this much (metres) for their plane to have a direction.
MIN_FLOOR_SPAN_M = 0.10
FLOOR_SAMPLES = 30  # about a second of rest at 30 fps, as the 2D roll estimate (signals.RollEstimator)

WorldSignal = Callable[[Body, "np.ndarray | None"], float]


def _w(body: Body, name: str) -> np.ndarray:
    """A world landmark (metres), NaN when the 2D landmark is gated out as not visible."""
    if body.world is None or not np.all(np.isfinite(body.px[INDEX[name]])):
        return np.full(3, np.nan)
    return np.asarray(body.world[INDEX[name]], float)


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return v / n if math.isfinite(n) and n > 1e-6 else None


class FloorPlane:
    """The floor's upward normal in world axes, from the floor contacts of both sides at rest.

    The median of the first FLOOR_SAMPLES good frames, then held (the floor does not move).
    """

    def __init__(self, floor_contacts: tuple[str, str] | None):
        self.contacts = floor_contacts
        self._normals: list[np.ndarray] = []
        self.up: np.ndarray | None = None

    def update(self, body: Body | None, at_rest: bool) -> np.ndarray | None:
        if self.contacts is None or body is None or body.world is None or len(self._normals) >= FLOOR_SAMPLES:
            return self.up
        if at_rest:
            normal = floor_normal(body, self.contacts)
            if normal is not None:
                self._normals.append(normal)
                mean = _unit(np.median(np.array(self._normals), axis=0))
                self.up = mean
        return self.up


def floor_normal(body: Body, contacts: tuple[str, str]) -> np.ndarray | None:
    """Upward unit normal of the plane through both sides' two floor contacts, or None.

    The model's placement of a contact it cannot see (the far wrist or knee) is used too: at rest
    it is on the floor beside its visible twin, and the plane needs all four."""
    a, b = contacts
    world = body.world
    if world is None:
        return None
    points = {f"{s}_{p}": np.asarray(world[INDEX[f"{s}_{p}"]], dtype=np.float64) for s in SIDES for p in (a, b)}
    if not all(np.all(np.isfinite(p)) for p in points.values()):
        return None
    along = (points[f"left_{b}"] + points[f"right_{b}"] - points[f"left_{a}"] - points[f"right_{a}"]) / 2
    across = (points[f"right_{a}"] + points[f"right_{b}"] - points[f"left_{a}"] - points[f"left_{b}"]) / 2
    if min(np.linalg.norm(along), np.linalg.norm(across)) < MIN_FLOOR_SPAN_M:
        return None
    normal = _unit(np.cross(along, across))
    if normal is None:
        return None
    # Up points towards the camera's up (-y): a camera films a mat from above it or level with it.
    return normal if float(normal[1]) <= 0 else -normal


def _elevation_deg(vector: np.ndarray, up: np.ndarray | None) -> float:
    """Angle of a vector above the floor plane (degrees, negative below)."""
    unit = _unit(vector) if np.all(np.isfinite(vector)) else None
    if unit is None or up is None:
        return math.nan
    return math.degrees(math.asin(max(-1.0, min(1.0, float(np.dot(unit, up))))))


# --- joint angles: no floor needed ---------------------------------------------------------

def _hip_flexion(side: str | None) -> WorldSignal:
    def hip_flexion_3d(body: Body, up: np.ndarray | None = None) -> float:
        s = side or body.near_side
        return 180.0 - joint_angle_deg(_w(body, f"{s}_shoulder"), _w(body, f"{s}_hip"), _w(body, f"{s}_knee"))
    return hip_flexion_3d


def hip_flexion_deeper_3d(body: Body, up: np.ndarray | None = None) -> float:
    values = [v for v in (_hip_flexion(side)(body, None) for side in SIDES) if math.isfinite(v)]
    return max(values) if values else math.nan


def knee_flexion_3d(body: Body, up: np.ndarray | None = None) -> float:
    s = body.near_side
    return 180.0 - joint_angle_deg(_w(body, f"{s}_hip"), _w(body, f"{s}_knee"), _w(body, f"{s}_ankle"))


def _hip_abduction(side: str) -> WorldSignal:
    """The leg's angle out to its side in the body's frontal plane (0 = along the trunk's line, 90 =
    straight out sideways), as the 2D angle seen from the front measures it. The 3D joint angle
    would add the leg's forward component (a side-lying body rests with the hips slightly flexed),
    so the forward component is left out: the angle is taken between the leg's projections on the
    trunk's axis and on the left-right axis."""
    def hip_abduction_3d(body: Body, up: np.ndarray | None = None) -> float:
        if body.world is None:
            return math.nan
        axes = body_axes(body.world)
        hip = _w(body, f"{side}_hip")
        leg, down = _w(body, f"{side}_ankle") - hip, _unit(hip - _w(body, f"{side}_shoulder"))
        if axes is None or down is None or not np.all(np.isfinite(leg)):
            return math.nan
        side_axis = axes[0] if side == "right" else -axes[0]
        outward = _unit(side_axis - np.dot(side_axis, down) * down)  # square to that side's trunk line
        if outward is None:
            return math.nan
        return math.degrees(math.atan2(float(np.dot(leg, outward)), float(np.dot(leg, down))))
    return hip_abduction_3d


# --- angles against the floor --------------------------------------------------------------

def _from_down(side: str, joint: str, end: str) -> WorldSignal:
    """As geometry.angle_from_down_deg: 0 hanging straight down, 90 level, 180 straight up."""
    def from_down_3d(body: Body, up: np.ndarray | None = None) -> float:
        return 90.0 + _elevation_deg(_w(body, f"{side}_{end}") - _w(body, f"{side}_{joint}"), up)
    return from_down_3d


def _bird_dog_reach(side: str) -> WorldSignal:
    arm, leg = _from_down(side, "shoulder", "elbow"), _from_down(other_side(side), "hip", "knee")

    def bird_dog_reach_3d(body: Body, up: np.ndarray | None = None) -> float:
        values = [v for v in (arm(body, up), leg(body, up)) if math.isfinite(v)]
        return float(np.mean(values)) if values else math.nan
    return bird_dog_reach_3d


WORLD_SIGNALS: dict[str, WorldSignal] = {
    "hip_flexion_deg": _hip_flexion(None),
    "knee_flexion_deg": knee_flexion_3d,
    "hip_flexion_deeper_deg": hip_flexion_deeper_3d,
}
# The ones measured against the floor plane: not measured without one.
NEEDS_FLOOR: set[str] = set()
for _side in SIDES:
    NEEDS_FLOOR |= {f"bird_dog_reach_{_side}_deg", f"arm_elevation_{_side}_deg", f"thigh_elevation_{_side}_deg"}
    WORLD_SIGNALS[f"hip_flexion_{_side}_deg"] = _hip_flexion(_side)
    WORLD_SIGNALS[f"hip_abduction_{_side}_deg"] = _hip_abduction(_side)
    WORLD_SIGNALS[f"bird_dog_reach_{_side}_deg"] = _bird_dog_reach(_side)
    WORLD_SIGNALS[f"arm_elevation_{_side}_deg"] = _from_down(_side, "shoulder", "elbow")
    WORLD_SIGNALS[f"thigh_elevation_{_side}_deg"] = _from_down(_side, "hip", "knee")
