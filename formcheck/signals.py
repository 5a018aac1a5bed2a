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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .geometry import angle_from_down_deg, joint_angle_deg, rotate_2d, segment_incline_deg, signed_bend_deg
from .lumbar import arm_over_lower_back, lumbar_gap_deg
from .silhouette import frame_back_arc
from .skeleton import INDEX, SIDES, VISIBILITY_FLOOR, near_side, other_side
from .types import PoseFrame

MAX_ROLL_DEG = 25.0  # a larger tilt is more likely a person not lying flat than a tilted camera


@dataclass(frozen=True)
class Body:
    """One pose in isotropic, roll-corrected image units (pixels, y down), with gating."""

    px: np.ndarray  # (33, 2) pixels after roll correction; NaN where not visible enough
    world: np.ndarray | None  # (33, 3) metres, as MediaPipe gives them
    near_side: str  # the side facing the camera (skeleton.near_side)
    back_bend_deg: float  # bend of the back outline (silhouette.back_arc), NaN when not measured
    back_px: np.ndarray | None = None  # the back contour in the same roll-corrected pixels, or None

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
    near = near_side(image)
    px = _behind_the_near_limb(px, image, frame, near, roll_deg)
    bend = frame_back_arc(image, frame.pose.back_contour, frame.width, frame.height).bend_deg
    back_px = None
    if frame.pose.back_contour is not None:
        back_px = frame.pose.back_contour * np.array([frame.width, frame.height], float)
        if roll_deg:
            back_px = rotate_2d(back_px, -roll_deg, center=(frame.width / 2, frame.height / 2))
    return Body(px=px, world=frame.pose.world, near_side=near, back_bend_deg=bend, back_px=back_px)


# A limb the camera cannot see because it lies right behind the near one (a side view of a leg
# resting on the mat beside the other): the model still places it, and where it places it tells
# why it is hidden. Seen from the side, two parallel limbs project as far apart as the two hips
# do; a hidden far landmark the model puts that close to its near twin is behind it, in the same
# pose, and is kept rather than gated out. OCCLUSION_SLACK (of the trunk's length) allows for the
# landmarks' jitter; a far limb placed anywhere else stays missing (it may be out of frame).
OCCLUDABLE_PARTS = ("elbow", "wrist", "knee", "ankle", "heel", "foot_index")
OCCLUSION_SLACK = 0.1


def _behind_the_near_limb(px: np.ndarray, image: np.ndarray, frame: PoseFrame, near: str,
                          roll_deg: float) -> np.ndarray:
    far = "right" if near == "left" else "left"
    raw = image[:, :2] * np.array([frame.width, frame.height], float)
    if roll_deg:
        raw = rotate_2d(raw, -roll_deg, center=(frame.width / 2, frame.height / 2))
    hips_apart = float(np.linalg.norm(raw[INDEX["left_hip"]] - raw[INDEX["right_hip"]]))
    trunk = float(np.linalg.norm(raw[INDEX[f"{near}_shoulder"]] - raw[INDEX[f"{near}_hip"]]))
    if not (math.isfinite(hips_apart) and math.isfinite(trunk) and trunk > 0):
        return px
    out = px
    for part in OCCLUDABLE_PARTS:
        i_far, i_near = INDEX[f"{far}_{part}"], INDEX[f"{near}_{part}"]
        if np.all(np.isfinite(px[i_far])) or not np.all(np.isfinite(px[i_near])):
            continue  # seen, or nothing to be hidden behind
        if float(np.linalg.norm(raw[i_far] - raw[i_near])) <= hips_apart + OCCLUSION_SLACK * trunk:
            out = out.copy() if out is px else out
            out[i_far] = raw[i_far]
    return out


# --- signal functions: Body -> degrees ------------------------------------------------------

def torso_in_frame(frame: PoseFrame) -> tuple[np.ndarray, float] | None:
    """(centre, length) of the tracked trunk, in units of the frame's longer side (so a camera
    changing resolution moves nothing): the mean of both shoulders and both hips, and the distance
    from mid-shoulders to mid-hips. Not gated by visibility (the model places hidden joints too),
    so it follows whoever the model is tracking. None without a pose."""
    if frame.pose is None:
        return None
    scale = np.array([frame.width, frame.height], float) / max(frame.width, frame.height)
    shoulders = frame.pose.image[[INDEX["left_shoulder"], INDEX["right_shoulder"]], :2] * scale
    hips = frame.pose.image[[INDEX["left_hip"], INDEX["right_hip"]], :2] * scale
    mid_shoulder, mid_hip = shoulders.mean(axis=0), hips.mean(axis=0)
    length = float(np.linalg.norm(mid_shoulder - mid_hip))
    if not (np.all(np.isfinite(mid_shoulder)) and np.all(np.isfinite(mid_hip)) and length > 0):
        return None
    return (mid_shoulder + mid_hip) / 2, length


def hip_extension_deg(body: Body) -> float:
    """Shoulder-hip-knee angle on the near side, signed about straight.

    180 is a straight shoulder-hip-knee line; below 180 the hip is flexed (hips below the line,
    towards the floor); above 180 the hips have risen past the line (hyperextension, arching).
    """
    return _signed_hip_extension(body, body.near_side)


def hip_extension_both_sides_deg(body: Body) -> float:
    """Mean of the left and right hip extension (as hip_extension_deg), or the one that is visible.

    For movements of a few degrees the two sides' independent landmark jitter averages out; the far
    side is partly inferred by the model, so large angles use the near side. (The pelvic tilt used
    it before it was measured in the back's outline: lumbar_gap_deg.)
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
    """Incline of the shoulder-hip line lying on the back: positive when the hips are higher than
    the shoulders (hips rolling up off the mat), 0 lying flat."""
    shoulder, hip = body.near("shoulder"), body.near("hip")
    return segment_incline_deg(shoulder, hip) if hip[0] >= shoulder[0] else segment_incline_deg(hip, shoulder) * -1


def head_lift_deg(body: Body) -> float:
    """Incline of the shoulder-ear line above the trunk line, lying on the back (0 = head resting
    in line with the trunk, positive = head and shoulders curling up off the mat)."""
    shoulder, ear, hip = body.near("shoulder"), body.near("ear"), body.near("hip")
    # The ear rising above the line means the shoulder sinks below the hip-ear line, towards the floor.
    return signed_bend_deg(hip, shoulder, ear, toward=shoulder + np.array([0.0, 1000.0]))


def hip_flexion_deg(body: Body) -> float:
    """Hip flexion on the near side: 180 minus the shoulder-hip-knee angle (0 = straight, 90 =
    thigh at a right angle to the trunk, 150 = folded as in child's pose)."""
    return 180.0 - joint_angle_deg(body.near("shoulder"), body.near("hip"), body.near("knee"))


def _hip_flexion(side: str) -> Callable[[Body], float]:
    def hip_flexion_side_deg(body: Body) -> float:
        """Hip flexion of one leg (180 minus that side's shoulder-hip-knee angle)."""
        return 180.0 - joint_angle_deg(body.p(f"{side}_shoulder"), body.p(f"{side}_hip"), body.p(f"{side}_knee"))
    return hip_flexion_side_deg


def thigh_past_level_deg(body: Body) -> float:
    """Depth of a squat: the near thigh's angle past level (hip-knee line against the floor line).

    0 = thigh level with the floor, positive = hips below the knees, -90 = standing. Not the knee's
    flexion: that is 90 plus the shin's forward lean minus the thigh's angle above level, so a
    squat to parallel with the shins leaning 20-30 degrees bends the knee 110-120 degrees.
    """
    return angle_from_down_deg(body.near("hip"), body.near("knee")) - 90.0


def hip_flexion_deeper_deg(body: Body) -> float:
    """The more flexed of the two hips (as hip_flexion_deg), or the one that is visible: in a
    figure-four the thigh drawn to the chest is the deeper one, whichever side faces the camera."""
    values = [v for v in (_hip_flexion(side)(body) for side in SIDES) if math.isfinite(v)]
    return max(values) if values else math.nan


def shin_incline_deg(body: Body) -> float:
    """Forward lean of the near shin from vertical (ankle-knee line); knees past the toes lean it more."""
    return 180.0 - angle_from_down_deg(body.near("ankle"), body.near("knee"))


def trunk_lean_deg(body: Body) -> float:
    """Lean of the trunk from vertical (0 = upright against the wall, 90 = horizontal)."""
    return 90.0 - trunk_incline_deg(body)


def _hip_abduction(side: str) -> Callable[[Body], float]:
    def hip_abduction_deg(body: Body) -> float:
        """Leg lifted sideways, lying on the side and seen from the front: 180 minus the
        shoulder-hip-ankle angle of that side (0 = leg in line with the trunk)."""
        return 180.0 - joint_angle_deg(body.p(f"{side}_shoulder"), body.p(f"{side}_hip"), body.p(f"{side}_ankle"))
    return hip_abduction_deg


def _leg_forward(side: str) -> Callable[[Body], float]:
    def leg_forward_deg(body: Body) -> float:
        """Forward (flexion) component of the leg's direction in 3D, from world landmarks: 0 with the
        leg in the trunk's plane, positive when it drifts in front of it (hip flexion substituting
        for abduction in a side-lying leg lift)."""
        if body.world is None:
            return math.nan
        w = body.world
        down_trunk = w[INDEX[f"{side}_hip"]] - (w[INDEX["left_shoulder"]] + w[INDEX["right_shoulder"]]) / 2
        across = w[INDEX["right_hip"]] - w[INDEX["left_hip"]]
        forward = np.cross(across, down_trunk)
        leg = w[INDEX[f"{side}_ankle"]] - w[INDEX[f"{side}_hip"]]
        norms = [np.linalg.norm(v) for v in (down_trunk, forward, leg)]
        if not all(math.isfinite(n) and n > 1e-6 for n in norms):
            return math.nan
        along = float(np.dot(leg, down_trunk) / norms[0])
        ahead = float(np.dot(leg, forward) / norms[1])
        # The sign of "forward" depends on which side lies down; the nose tells which way is front.
        nose_ahead = float(np.dot(w[INDEX["nose"]] - w[INDEX[f"{side}_shoulder"]], forward))
        if nose_ahead < 0:
            ahead = -ahead
        return math.degrees(math.atan2(ahead, max(along, 1e-6)))
    return leg_forward_deg


def ankle_spread_pct(body: Body) -> float:
    """Horizontal distance between the ankles as a percentage of leg length (hip to ankle): peaks at
    each step when walking past a side camera. Percent, not degrees."""
    left, right = body.p("left_ankle"), body.p("right_ankle")
    leg = float(np.linalg.norm(body.near("hip") - body.near("ankle")))
    if not (np.all(np.isfinite(np.r_[left, right])) and math.isfinite(leg) and leg > 1e-6):
        return math.nan
    return 100.0 * abs(float(left[0] - right[0])) / leg


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
    """How far the higher thigh (hip-knee) rises above hip level: 0 = level, positive = above.

    The thigh, not the hip-ankle line: how far the hip extends (and so the lower back arches) is
    the thigh's angle; a knee bent at the top lifts the foot above hip level with the thigh level
    (correct bird dogs on real footage: thigh within 6 degrees of level, ankle 20-40 above).
    """
    return _limb_above_level_deg(body, "hip", "knee")


def arm_above_shoulder_deg(body: Body) -> float:
    """How far the higher upper arm (shoulder-elbow) rises above shoulder level: 0 = level,
    positive = above, negative = below (-90 hanging straight down). The upper arm, as for the leg:
    it is the shoulder's angle, and the hand often leaves the frame at full reach."""
    return _limb_above_level_deg(body, "shoulder", "elbow")


def _limb_above_level_deg(body: Body, joint: str, end: str) -> float:
    values = [angle_from_down_deg(body.p(f"{side}_{joint}"), body.p(f"{side}_{end}")) - 90.0 for side in SIDES]
    values = [v for v in values if math.isfinite(v)]
    return max(values) if values else math.nan


def pelvis_roll_deg(body: Body) -> float:
    """Tilt of the left-right hip line out of the horizontal plane, from 3D world landmarks.

    A hip hike or trunk rotation lifts one hip above the other. MediaPipe's world y axis points
    down; positive when the right hip is lower (degrees). Its zero depends on the camera, so rules
    use ``trunk_rotation_deg``, the change from the start posture.
    """
    return _world_line_tilt_deg(body, "hip")


def shoulder_roll_deg(body: Body) -> float:
    """Like pelvis_roll_deg for the shoulder line (trunk rotation shows at both ends)."""
    return _world_line_tilt_deg(body, "shoulder")


def _world_line_tilt_deg(body: Body, part: str) -> float:
    if body.world is None:
        return math.nan
    vec = body.world[INDEX[f"right_{part}"]] - body.world[INDEX[f"left_{part}"]]
    length = float(np.linalg.norm(vec))
    if not math.isfinite(length) or length < 1e-6:
        return math.nan
    return math.degrees(math.asin(max(-1.0, min(1.0, vec[1] / length))))


def back_bend_deg(body: Body) -> float:
    """Bend of the back contour (silhouette.py), absolute; the engine makes it relative to the start."""
    return body.back_bend_deg


# Lying on the back, the shoulder-hip line rises a few degrees from the shoulder to the hip (the
# pelvis is thicker than the chest seen from the side: 6-10 degrees on the real recordings), and a
# posterior tilt lifts the buttocks by a degree or so; a bridge lifts the hips 15 cm or more over a
# 50 cm trunk, about 17 degrees and up. Beyond this the hips are off the mat: not a tilt.
MAX_TILT_HIP_LIFT_DEG = 17.0
# Why the lumbar gap is missing (reason, what to change), for the measurement verdict.
NO_BACK_OUTLINE = ("the back's outline was not visible (no segmentation mask in this source, or the back was "
                   "out of view)", "Film from the side with the whole back in view.")
ARM_OVER_LOWER_BACK = ("the arm lies along the lower back, so the camera cannot see the back's outline where "
                       "the tilt shows", "Rest your arms on your chest or out to the side, away from your lower "
                       "back, and film from the side at mat height.")
HIPS_OFF_THE_MAT = ("the hips were lifted off the mat (a bridge, not a tilt)", "Keep your hips on the mat.")
NOT_ON_THE_BACK = ("the body was not lying on its back with the knees bent up",
                   "Lie on your back with your knees bent and your feet flat on the mat.")


def lumbar_gap_problem(body: Body) -> tuple[str, str] | None:
    """Why ``lumbar_gap_deg`` cannot be measured on this pose (reason, what to change), or None."""
    if body.back_px is None:
        return NO_BACK_OUTLINE
    # Lying on the back with the knees bent, the knees point up, above the hips; on all fours or
    # kneeling they are on the mat, below them, and the outline is the back seen from above.
    if not body.mid("knee")[1] < body.mid("hip")[1]:
        return NOT_ON_THE_BACK
    if hip_lift_deg(body) > MAX_TILT_HIP_LIFT_DEG:
        return HIPS_OFF_THE_MAT
    arm = np.array([body.near(part) for part in ("shoulder", "elbow", "wrist")])
    if arm_over_lower_back(body.back_px, body.mid("hip"), body.mid("shoulder"), arm):
        return ARM_OVER_LOWER_BACK
    return None


def lumbar_gap_signal_deg(body: Body) -> float:
    """How far the lower back's outline rises off the mat line, lying on the back (lumbar.py): a
    posterior pelvic tilt makes it smaller, an arch larger. NaN when it cannot be seen (see
    ``lumbar_gap_problem``)."""
    if lumbar_gap_problem(body) is not None:
        return math.nan
    assert body.back_px is not None, "lumbar_gap_problem refuses a pose without a back outline"
    inside = (body.mid("hip") + body.mid("shoulder")) / 2
    return lumbar_gap_deg(body.back_px, inside)


SIGNALS: dict[str, Callable[[Body], float]] = {
    "hip_extension_deg": hip_extension_deg,
    "hip_extension_both_sides_deg": hip_extension_both_sides_deg,
    "knee_flexion_deg": knee_flexion_deg,
    "trunk_incline_deg": trunk_incline_deg,
    "hip_lift_deg": hip_lift_deg,
    "head_lift_deg": head_lift_deg,
    "hip_flexion_deg": hip_flexion_deg,
    "shin_incline_deg": shin_incline_deg,
    "hip_flexion_deeper_deg": hip_flexion_deeper_deg,
    "thigh_past_level_deg": thigh_past_level_deg,
    "trunk_lean_deg": trunk_lean_deg,
    "ankle_spread_pct": ankle_spread_pct,
    "leg_above_hip_deg": leg_above_hip_deg,
    "arm_above_shoulder_deg": arm_above_shoulder_deg,
    "pelvis_roll_deg": pelvis_roll_deg,
    "shoulder_roll_deg": shoulder_roll_deg,
    "back_bend_deg": back_bend_deg,
    "lumbar_gap_deg": lumbar_gap_signal_deg,
}
# Signals read from the back's outline: the pose model must produce its segmentation mask for them,
# and the mask's edge breaks up now and then (single-frame spikes).
OUTLINE_SIGNALS = frozenset({"back_bend_deg", "lumbar_gap_deg"})
# Why a signal is missing on a pose that is otherwise in view: (reason, what to change) or None.
SIGNAL_PROBLEMS: dict[str, Callable[[Body], tuple[str, str] | None]] = {"lumbar_gap_deg": lumbar_gap_problem}


def signal_problem(name: str, body: Body | None) -> tuple[str, str] | None:
    """Why the per-pose signal ``name`` is missing on ``body`` (reason, what to change), if it says."""
    check = SIGNAL_PROBLEMS.get(name)
    return check(body) if check is not None and body is not None else None
for _side in SIDES:
    SIGNALS[f"arm_elevation_{_side}_deg"] = _arm_elevation(_side)
    SIGNALS[f"thigh_elevation_{_side}_deg"] = _thigh_elevation(_side)
    SIGNALS[f"bird_dog_reach_{_side}_deg"] = _bird_dog_reach(_side)
    SIGNALS[f"hip_flexion_{_side}_deg"] = _hip_flexion(_side)
    SIGNALS[f"hip_abduction_{_side}_deg"] = _hip_abduction(_side)
    SIGNALS[f"leg_forward_{_side}_deg"] = _leg_forward(_side)

# Signals measured relative to the patient's own start posture (the median of the first valid
# samples before the first rep). A neutral spine is not a zero bend of the back's outline, and the
# world landmarks' "level" depends on the camera, so only the change from the start is meaningful.
# Declared here, one entry each: what they are the change of, how still the start must be, and
# what the session says when one was watched but never measured. engine/baselines.py computes
# them and gives that warning.


@dataclass(frozen=True)
class RelativeSignal:
    source: str  # the per-pose signal it is the change of
    meaning: str  # its sign convention, for the clinician (exercises/README.md's signal table)
    # How far a start-posture sample may lie from the median of those before it and still be the
    # same still posture (degrees); beyond it the patient has begun to move and sampling stops.
    # Infinite: sampled for the whole first rest.
    still_deg: float = math.inf
    not_measured: str = ""  # the session's warning when a rule watches it and it was never measured


RELATIVE_SIGNALS = {
    # still_deg: rounding into a first cat in the first second is not the start posture; three
    # times the outline's largest SD in a still hold (5.8, README "Spinal flexion").
    "spinal_flexion_deg": RelativeSignal("back_bend_deg", "positive = rounding (flexion), negative = arching/sagging",
                                         still_deg=17.0,
                                         not_measured=f"Spinal flexion was not measured: {NO_BACK_OUTLINE[0]}."),
    "trunk_rotation_deg": RelativeSignal("pelvis_roll_deg", "hip line rolled out of its start position"),
}
RELATIVE_TO_START = {name: signal.source for name, signal in RELATIVE_SIGNALS.items()}  # name: its source


# Any signal's speed is available as "<name>_speed_deg_s" (absolute rate of change of the smoothed
# signal, degrees per second), e.g. to flag jerky movement.
SPEED_SUFFIX = "_speed_deg_s"


def speed_source(name: str) -> str | None:
    """The signal whose speed ``name`` is, or None if ``name`` is not a speed signal."""
    if name.endswith(SPEED_SUFFIX):
        base = name[: -len(SPEED_SUFFIX)] + "_deg"
        if base in SIGNALS or base in RELATIVE_TO_START:
            return base
    return None


def known_signal_names() -> list[str]:
    base = [*SIGNALS, *RELATIVE_TO_START]
    return sorted(base + [n[: -len("_deg")] + SPEED_SUFFIX for n in base if n.endswith("_deg")])


def compute(names: list[str], body: Body | None) -> dict[str, float]:
    """Evaluate the named per-pose signals; all NaN when there is no body."""
    if body is None:
        return {name: math.nan for name in names}
    return {name: float(SIGNALS[name](body)) for name in names}


class RollEstimator:
    """Estimates the camera roll (degrees, counter-clockwise on screen) from floor-contact landmarks.

    Takes the median of the first ``n_frames`` good measurements, then holds it: the floor does not
    move, the patient does. Only frames in the start position count (``at_start``): the floor
    contacts are defined as the landmarks on the mat *in the start position*, and some leave it
    during a rep (a bird dog lifts one hand and the opposite knee; the hidden support limb is then
    placed badly by the model), so a session that begins mid-movement (a camera switched on
    mid-rep, a live stream joining late) would otherwise freeze a roll of 20 degrees or more and
    misread every later angle.
    """

    def __init__(self, floor_contacts: tuple[str, str] | None, n_frames: int = 30):
        self.floor_contacts = floor_contacts
        self.n_frames = n_frames
        self._samples: deque[float] = deque(maxlen=n_frames)
        self.roll_deg = 0.0
        self.frozen = floor_contacts is None

    def update(self, frame: PoseFrame, at_start: bool = True) -> float:
        if self.frozen or frame.pose is None or not at_start:
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
