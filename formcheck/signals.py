"""Named body signals (angles in degrees) computed from one pose.

Exercise definitions refer to signals by these names; adding an exercise that needs a new kind
of measurement means adding one function to ``SIGNALS`` here, nothing else.

Every 2D signal is computed in a frame corrected for the camera's roll: a phone propped against
a wall is rarely level, so "down" in the image is not gravity. ``RollEstimator`` takes the
line through the landmarks that rest on the floor in the exercise's start position (e.g.
shoulder and heel when lying on the back, wrist and knee on all fours) as the floor.

Visibility gating: a landmark whose visibility is below ``VISIBILITY_FLOOR`` is missing, and so
is every signal that needs it (NaN, never 0).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .geometry import angle_from_down_deg, joint_angle_deg, rotate_2d, segment_incline_deg, signed_bend_deg
from .silhouette import contour_bend_deg
from .skeleton import INDEX, SIDES, other_side
from .types import PoseFrame

VISIBILITY_FLOOR = 0.5
MAX_ROLL_DEG = 25.0  # a larger tilt is more likely a person not lying flat than a tilted camera


@dataclass(frozen=True)
class Body:
    """One pose in isotropic, roll-corrected image units (pixels, y down), with gating."""

    px: np.ndarray  # (33, 2) pixels after roll correction; NaN where not visible enough
    world: np.ndarray | None  # (33, 3) metres, as MediaPipe gives them
    near_side: str  # the side facing the camera (higher visibility)
    back_bend_deg: float  # bend of the back contour (see silhouette.py), NaN without a mask

    def p(self, name: str) -> np.ndarray:
        return self.px[INDEX[name]]

    def near(self, part: str) -> np.ndarray:
        return self.p(f"{self.near_side}_{part}")

    def mid(self, part: str) -> np.ndarray:
        """Midpoint of the left and right landmark, or the visible one."""
        left, right = self.p(f"left_{part}"), self.p(f"right_{part}")
        if np.all(np.isfinite(left)) and np.all(np.isfinite(right)):
            return (left + right) / 2
        return left if np.all(np.isfinite(left)) else right


def body_from_frame(frame: PoseFrame, roll_deg: float = 0.0) -> Body | None:
    """Gate, scale to pixels and de-rotate a frame's pose. None when nobody was detected."""
    if frame.pose is None:
        return None
    image = frame.pose.image
    px = image[:, :2] * np.array([frame.width, frame.height], float)
    visible = image[:, 3] >= VISIBILITY_FLOOR
    px = np.where(visible[:, None], px, np.nan)
    if roll_deg:
        px = rotate_2d(px, -roll_deg, center=(frame.width / 2, frame.height / 2))
    left_vis = image[[INDEX[f"left_{p}"] for p in ("shoulder", "hip", "knee", "ankle")], 3].sum()
    right_vis = image[[INDEX[f"right_{p}"] for p in ("shoulder", "hip", "knee", "ankle")], 3].sum()
    near = "left" if left_vis >= right_vis else "right"
    bend = math.nan
    if frame.pose.back_contour is not None:
        knees = image[[INDEX["left_knee"], INDEX["right_knee"]], :2].mean(axis=0)
        bend = contour_bend_deg(frame.pose.back_contour, frame.width, frame.height, ventral_hint=knees)
    return Body(px=px, world=frame.pose.world, near_side=near, back_bend_deg=bend)


# --- signal functions: Body -> degrees ------------------------------------------------------

def hip_extension_deg(body: Body) -> float:
    """Shoulder-hip-knee angle on the near side, signed about straight.

    180 is a straight shoulder-hip-knee line; below 180 the hip is flexed (hips below the line,
    towards the floor); above 180 the hips have risen past the line (hyperextension, arching).
    """
    return _signed_hip_extension(body, body.near_side)


def hip_extension_both_sides_deg(body: Body) -> float:
    """Mean of the left and right hip extension (as hip_extension_deg), or the one that is visible.

    For movements of a few degrees (pelvic tilt) the two sides' independent landmark jitter
    averages out; the far side is partly inferred by the model, so large angles use the near side.
    """
    values = [_signed_hip_extension(body, side) for side in SIDES]
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else math.nan


def _signed_hip_extension(body: Body, side: str) -> float:
    shoulder, hip, knee = (body.p(f"{side}_{part}") for part in ("shoulder", "hip", "knee"))
    floor_point = (shoulder + knee) / 2 + np.array([0.0, 1000.0])
    return 180.0 - signed_bend_deg(shoulder, hip, knee, toward=floor_point)


def knee_flexion_deg(body: Body) -> float:
    """0 = straight knee; 90 = right angle (near side)."""
    return 180.0 - joint_angle_deg(body.near("hip"), body.near("knee"), body.near("ankle"))


def trunk_incline_deg(body: Body) -> float:
    """Absolute angle of the hip-shoulder line to the floor (0 = trunk level)."""
    return abs(segment_incline_deg(body.mid("hip"), body.mid("shoulder")))


def hip_lift_deg(body: Body) -> float:
    """How far the hips have risen, as the incline of the knee-hip line's complement.

    Used lying on the back: the angle of the shoulder-hip line above the floor, positive when the
    hips are higher than the shoulders.
    """
    shoulder, hip = body.near("shoulder"), body.near("hip")
    return float(math.degrees(math.atan2(shoulder[1] - hip[1], abs(hip[0] - shoulder[0])))) if np.all(
        np.isfinite(np.r_[shoulder, hip])) else math.nan


def _arm_elevation(side: str) -> Callable[[Body], float]:
    def arm_elevation_deg(body: Body) -> float:
        """Upper arm (shoulder-elbow) angle from hanging straight down: 90 = horizontal."""
        return angle_from_down_deg(body.p(f"{side}_shoulder"), body.p(f"{side}_elbow"))
    return arm_elevation_deg


def _thigh_elevation(side: str) -> Callable[[Body], float]:
    def thigh_elevation_deg(body: Body) -> float:
        """Thigh (hip-knee) angle from straight down: 0 on all fours, 90 = leg level with the hip."""
        return angle_from_down_deg(body.p(f"{side}_hip"), body.p(f"{side}_knee"))
    return thigh_elevation_deg


def _bird_dog_reach(side: str) -> Callable[[Body], float]:
    arm = _arm_elevation(side)
    leg = _thigh_elevation(other_side(side))

    def bird_dog_reach_deg(body: Body) -> float:
        """Mean elevation of the ``side`` arm and the opposite thigh (0 on all fours, 90 fully extended).

        Either limb alone is used when the other is out of view: at full reach a hand or a foot
        often leaves the frame.
        """
        values = [v for v in (arm(body), leg(body)) if math.isfinite(v)]
        return float(np.mean(values)) if values else math.nan
    return bird_dog_reach_deg


def leg_above_hip_deg(body: Body) -> float:
    """How far the higher leg (hip-ankle, or hip-knee when the ankle is hidden) rises above hip level.

    0 = level with the hip; positive = above it. The largest of the two legs.
    """
    best = math.nan
    for side in SIDES:
        hip = body.p(f"{side}_hip")
        end = body.p(f"{side}_ankle")
        if not np.all(np.isfinite(end)):
            end = body.p(f"{side}_knee")
        elevation = angle_from_down_deg(hip, end) - 90.0
        if math.isfinite(elevation) and not (math.isfinite(best) and best >= elevation):
            best = elevation
    return best


def pelvis_roll_deg(body: Body) -> float:
    """Tilt of the left-right hip line out of the horizontal plane, from 3D world landmarks.

    A hip hike or trunk rotation lifts one hip above the other. MediaPipe's world y axis points
    down; positive when the right hip is lower (degrees). Its zero depends on the camera, so rules
    use ``trunk_rotation_deg``, the change from the start posture.
    """
    if body.world is None:
        return math.nan
    vec = body.world[INDEX["right_hip"]] - body.world[INDEX["left_hip"]]
    length = float(np.linalg.norm(vec))
    if not math.isfinite(length) or length < 1e-6:
        return math.nan
    return math.degrees(math.asin(max(-1.0, min(1.0, vec[1] / length))))


def shoulder_roll_deg(body: Body) -> float:
    """Like pelvis_roll_deg for the shoulder line (trunk rotation shows at both ends)."""
    if body.world is None:
        return math.nan
    vec = body.world[INDEX["right_shoulder"]] - body.world[INDEX["left_shoulder"]]
    length = float(np.linalg.norm(vec))
    if not math.isfinite(length) or length < 1e-6:
        return math.nan
    return math.degrees(math.asin(max(-1.0, min(1.0, vec[1] / length))))


def back_bend_deg(body: Body) -> float:
    """Bend of the back contour (silhouette.py), absolute; the engine makes it relative to the start."""
    return body.back_bend_deg


SIGNALS: dict[str, Callable[[Body], float]] = {
    "hip_extension_deg": hip_extension_deg,
    "hip_extension_both_sides_deg": hip_extension_both_sides_deg,
    "knee_flexion_deg": knee_flexion_deg,
    "trunk_incline_deg": trunk_incline_deg,
    "hip_lift_deg": hip_lift_deg,
    "leg_above_hip_deg": leg_above_hip_deg,
    "pelvis_roll_deg": pelvis_roll_deg,
    "shoulder_roll_deg": shoulder_roll_deg,
    "back_bend_deg": back_bend_deg,
}
for _side in SIDES:
    SIGNALS[f"arm_elevation_{_side}_deg"] = _arm_elevation(_side)
    SIGNALS[f"thigh_elevation_{_side}_deg"] = _thigh_elevation(_side)
    SIGNALS[f"bird_dog_reach_{_side}_deg"] = _bird_dog_reach(_side)

# Signals measured relative to the patient's own start posture (the median of the first valid
# samples before the first rep): the engine derives them from the per-pose signal named here.
# A neutral spine is not a zero bend of the back's outline, and the world landmarks' "level"
# depends on the camera, so only the change from the start is meaningful.
RELATIVE_TO_START = {
    "spinal_flexion_deg": "back_bend_deg",  # positive = rounding (flexion), negative = arching/sagging
    "trunk_rotation_deg": "pelvis_roll_deg",  # hip line rolled out of its start position
}


def known_signal_names() -> list[str]:
    return sorted([*SIGNALS, *RELATIVE_TO_START])


def compute(names: list[str], body: Body | None) -> dict[str, float]:
    """Evaluate the named per-pose signals; all NaN when there is no body."""
    if body is None:
        return {name: math.nan for name in names}
    return {name: float(SIGNALS[name](body)) for name in names}


class RollEstimator:
    """Estimates the camera roll (degrees, counter-clockwise on screen) from floor-contact landmarks.

    Takes the median of the first ``n_frames`` good measurements, then holds it: the floor does not
    move, the patient does.
    """

    def __init__(self, floor_contacts: tuple[str, str] | None, n_frames: int = 30):
        self.floor_contacts = floor_contacts
        self.n_frames = n_frames
        self._samples: deque[float] = deque(maxlen=n_frames)
        self.roll_deg = 0.0
        self.frozen = floor_contacts is None

    def update(self, frame: PoseFrame) -> float:
        if self.frozen or frame.pose is None:
            return self.roll_deg
        body = body_from_frame(frame)
        assert body is not None and self.floor_contacts is not None
        a, b = (body.near(part) for part in self.floor_contacts)
        if np.all(np.isfinite(np.r_[a, b])) and abs(a[0] - b[0]) > 1e-6:
            left, right = (a, b) if a[0] < b[0] else (b, a)
            roll = math.degrees(math.atan2(left[1] - right[1], right[0] - left[0]))
            if abs(roll) <= MAX_ROLL_DEG:
                self._samples.append(roll)
        if self._samples:
            self.roll_deg = float(np.median(self._samples))
        if len(self._samples) >= self.n_frames:
            self.frozen = True
        return self.roll_deg
