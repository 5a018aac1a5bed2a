"""Which way the camera looks at the body, and what that view can measure.

A 2D angle is the anatomical angle only when the movement happens in the picture's plane: a
side view for movements of the sagittal plane (bridges, knee-to-chest, squats, bird dogs), a
front view for the frontal plane (a side-lying leg lift seen from the front). Many people place
a laptop about 45 degrees from the feet or the head; there the picture foreshortens the trunk and
the limbs, and a 2D angle can be wrong by 10-20 degrees.

The view is classified from MediaPipe's world landmarks (metres, camera-aligned axes, origin
between the hips): the body's left-right axis (hip and shoulder lines) and its front (the cross
product of the trunk's long axis and the left-right axis) are compared with the direction to
the camera, which is -z in those axes. Without world landmarks the 2D shoulder width relative to
the trunk length is used (as the engine always did).

- ``side``: the camera looks along the left-right axis (within SIDE_MAX_OFF_DEG);
- ``front`` / ``back``: it looks at the body's front or back (within FRONT_MAX_OFF_DEG);
- ``oblique``: anything in between (about 45 degrees from the feet, the head or the front).

An exercise declares the views it can measure (``views`` in its TOML). In an ``oblique`` view,
joint angles are taken from the world landmarks (``world_signals.py``): an angle between two body
segments does not depend on where the camera stands. Signals measured against gravity or the
floor (an incline, a limb "above hip level") depend on the camera's pitch, which one camera
cannot know, so in an oblique view they are not measured and their rules are not checked.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .skeleton import INDEX, VISIBILITY_FLOOR
from .types import Pose

VIEW_CLASSES = ("side", "oblique", "front", "back")
# Off-axis angle up to which a 2D angle is taken as the anatomical one. A segment at 45 degrees in
# the sagittal plane, seen 30 degrees off side, appears at atan(tan 45 / cos 30) = 49 degrees: 4
# degrees of error, inside the landmark noise. At 45 degrees off it is 55 degrees: 10 of error.
# MediaPipe's world depth is compressed (a true side view reads 15-25 degrees off side on real
# footage), which errs towards calling a view "side"; 30 still separates the real 45-degree
# recordings (38-50 degrees read) from the side ones (5-27).
SIDE_MAX_OFF_DEG = 30.0
FRONT_MAX_OFF_DEG = 30.0
# The camera does not move during a take: the view is the median over the last two seconds, so a
# rep's arm or leg movement (which shifts the shoulder and hip lines for a second) changes nothing.
VIEW_WINDOW_S = 2.0
HYSTERESIS_DEG = 5.0  # about the frame-to-frame scatter of the 2-s median on a still camera
# Without world landmarks: shoulder width / trunk length in the picture (the engine's long-standing
# side/front check): about 0.1-0.3 from the side, 0.6-0.9 from the front.
SIDE_MAX_SHOULDER_RATIO_2D = 0.55
FRONT_MIN_SHOULDER_RATIO_2D = 0.45
MIN_AXIS_M = 0.05  # a hip or shoulder line shorter than this (metres) gives no direction

TO_CAMERA = np.array([0.0, 0.0, -1.0])  # world axes are the camera's; the camera looks along +z

PLACEMENT_MESSAGES = {
    "side": "turn_side_on",
    "front": "turn_to_face",
    "back": "turn_to_face",
}


@dataclass(frozen=True)
class ViewAngles:
    """Where the camera is, seen from the body (degrees)."""

    off_side_deg: float  # 0 = camera exactly on the body's left-right axis (a pure side view)
    off_front_deg: float  # 0 = camera straight in front of the body, 180 = straight behind


def body_axes(world: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(across, up, front) unit vectors of the body in world axes: across = left to right (mean of
    the hip and shoulder lines), up = hips to shoulders, front = the way the chest faces."""
    w = np.asarray(world, float)
    hips = w[INDEX["right_hip"]] - w[INDEX["left_hip"]]
    shoulders = w[INDEX["right_shoulder"]] - w[INDEX["left_shoulder"]]
    up = ((w[INDEX["left_shoulder"]] + w[INDEX["right_shoulder"]]) / 2
          - (w[INDEX["left_hip"]] + w[INDEX["right_hip"]]) / 2)
    if not all(np.all(np.isfinite(v)) and np.linalg.norm(v) > MIN_AXIS_M for v in (hips, shoulders, up)):
        return None
    across = hips / np.linalg.norm(hips) + shoulders / np.linalg.norm(shoulders)
    up = up / np.linalg.norm(up)
    across = across - np.dot(across, up) * up  # perpendicular to the trunk
    if np.linalg.norm(across) < 1e-6:
        return None
    across = across / np.linalg.norm(across)
    # Right-handed body frame: with x right, y down, z away (MediaPipe), up x across points to the front.
    front = np.cross(up, across)
    return across, up, front


def view_angles(pose: Pose | None) -> ViewAngles | None:
    """The camera's direction in the body's frame, from world landmarks; None without them."""
    if pose is None or pose.world is None:
        return None
    axes = body_axes(pose.world)
    if axes is None:
        return None
    across, _, front = axes
    off_side = math.degrees(math.acos(min(1.0, abs(float(np.dot(TO_CAMERA, across))))))
    off_front = math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(TO_CAMERA, front))))))
    return ViewAngles(off_side, off_front)


def classify(angles: ViewAngles, current: str | None = None) -> str:
    """The view class; ``current`` (the class so far) is kept until the angles leave it by
    HYSTERESIS_DEG, so a view near a boundary does not flicker between two ways of measuring."""
    margin = {view: (HYSTERESIS_DEG if view == current else -HYSTERESIS_DEG) for view in VIEW_CLASSES} if current else \
        dict.fromkeys(VIEW_CLASSES, 0.0)
    if angles.off_side_deg <= SIDE_MAX_OFF_DEG + margin["side"]:
        return "side"
    if angles.off_front_deg <= FRONT_MAX_OFF_DEG + margin["front"]:
        return "front"
    if angles.off_front_deg >= 180.0 - FRONT_MAX_OFF_DEG - margin["back"]:
        return "back"
    return "oblique"


def placement_2d(pose: Pose, width: int, height: int, set_up_view: str) -> str | None:
    """Without world landmarks: the picture's shoulder width / trunk length, the engine's
    long-standing check. The placement message key, or None when the view is acceptable."""
    image = pose.image
    scale = np.array([width, height], float)
    shoulder_gap = float(np.linalg.norm(
        (image[INDEX["left_shoulder"], :2] - image[INDEX["right_shoulder"], :2]) * scale))
    mid_shoulder = (image[INDEX["left_shoulder"], :2] + image[INDEX["right_shoulder"], :2]) / 2
    mid_hip = (image[INDEX["left_hip"], :2] + image[INDEX["right_hip"], :2]) / 2
    trunk = float(np.linalg.norm((mid_shoulder - mid_hip) * scale))
    if not (math.isfinite(trunk) and trunk > 0 and math.isfinite(shoulder_gap)):
        return None
    ratio = shoulder_gap / trunk
    both_seen = (image[INDEX["left_shoulder"], 3] >= VISIBILITY_FLOOR
                 and image[INDEX["right_shoulder"], 3] >= VISIBILITY_FLOOR)
    if set_up_view == "side" and ratio > SIDE_MAX_SHOULDER_RATIO_2D and both_seen:
        return "turn_side_on"
    if set_up_view == "front" and ratio < FRONT_MIN_SHOULDER_RATIO_2D:
        return "turn_to_face"
    return None


def world_trunk_incline_deg(pose: Pose | None) -> float:
    """The trunk's angle to the camera's horizontal plane from world landmarks (0 = level, 90 =
    upright). Depends on the camera's pitch, but a lying trunk stays well below an upright one."""
    if pose is None or pose.world is None:
        return math.nan
    axes = body_axes(pose.world)
    if axes is None:
        return math.nan
    return math.degrees(math.asin(min(1.0, abs(float(axes[1][1])))))


class ViewTracker:
    """The current view, steadied over VIEW_WINDOW_S (the median of the off-axis angles)."""

    def __init__(self, window_s: float = VIEW_WINDOW_S):
        self.window_ms = 1000.0 * window_s
        self._samples: deque[tuple[float, float, float]] = deque()  # (t_ms, off_side, off_front)
        self.view: str | None = None  # None until a pose has been seen
        self.angles: ViewAngles | None = None
        self.seconds_by_view: dict[str, float] = {}
        self._last_ms = math.nan

    def update(self, t_ms: float, pose: Pose | None) -> str | None:
        angles = view_angles(pose)
        if angles is not None:
            self._samples.append((t_ms, angles.off_side_deg, angles.off_front_deg))
        while self._samples and t_ms - self._samples[0][0] > self.window_ms:
            self._samples.popleft()
        if self._samples:
            arr = np.array([(s, f) for _, s, f in self._samples])
            self.angles = ViewAngles(float(np.median(arr[:, 0])), float(np.median(arr[:, 1])))
            self.view = classify(self.angles, self.view)
        else:
            self.angles, self.view = None, None  # no world landmarks: the view is not known
        if self.view is not None and math.isfinite(self._last_ms) and t_ms > self._last_ms:
            self.seconds_by_view[self.view] = self.seconds_by_view.get(self.view, 0.0) + (t_ms - self._last_ms) / 1000.0
        self._last_ms = t_ms
        return self.view

    def reset(self) -> None:
        """A new shot or a new person: the old view no longer holds."""
        self._samples.clear()
        self.view = None
        self.angles = None


# --- what each view can measure ----------------------------------------------------------------

# The views in which a signal's own version (signals.SIGNALS) measures what it says. Movements of
# the sagittal plane (flexion, extension, inclines against the floor, the back's outline) are seen
# true from the side; a side-lying leg lift's abduction is in the frontal plane, seen true from the
# front or back. The pelvis' and shoulders' roll are world-landmark tilts used relative to the
# start posture (trunk_rotation_deg), so a constant error of the view cancels: any view. The leg's
# forward drift (leg_forward_*) is from world landmarks too, but absolute: from 45 degrees off the
# head end it reads 22-31 degrees with the leg at rest in line with the body (real footage; the
# compressed depth runs along the body there), 0-7 from the front: front and back only. The ankles'
# spread (walking steps) counts crossings, which an oblique camera still sees (the spread shrinks by
# cos 45 = 0.7, from 40-70% of leg length to 28-50%, still past the step's 30%); from the front it
# is the step's width, not its length.
SAGITTAL_2D = ("side",)
FRONTAL_2D = ("front", "back")
ANY_VIEW = VIEW_CLASSES


def views_measuring(signal: str) -> tuple[str, ...]:
    """The views in which ``signal`` (a per-pose signal name in signals.SIGNALS) measures what it says."""
    if signal.startswith(("hip_abduction_", "leg_forward_")):
        return FRONTAL_2D
    if signal.startswith(("pelvis_roll", "shoulder_roll")):
        return ANY_VIEW
    if signal == "ankle_spread_pct":
        return ("side", "oblique")
    return SAGITTAL_2D


def floor_line_visible(view: str | None) -> bool:
    """Only from the side is a line between two floor contacts seen as the floor: the camera's roll
    is estimated there and nowhere else (an oblique view shows the floor in perspective). None: the
    view is not known (no world landmarks), and the 2D check has already asked for a side view."""
    return view in ("side", None)
