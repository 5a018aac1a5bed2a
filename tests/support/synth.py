"""Carefully synthesized poses for unit tests: a side view of a person lying on their back.

The geometry is exact, so tests know the true angle: shoulder and hip on the floor line,
the knee placed so that the shoulder-hip-knee angle is what the test asks for.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from formcheck.skeleton import INDEX
from formcheck.types import Pose, PoseFrame

WIDTH, HEIGHT = 640, 360


def supine_pose(hip_angle_deg: float, lift: float = 0.0, visibility: float = 0.99, roll_deg: float = 0.0) -> Pose:
    """Lying on the back, facing screen-right; ``hip_angle_deg`` = shoulder-hip-knee angle.

    Above 180 the hips rise above the shoulder-knee line. ``lift`` raises the hip (normalized).
    ``roll_deg`` tilts the whole picture counter-clockwise, as a tilted camera would.
    """
    px = np.zeros((33, 2))
    floor_y = 250.0
    shoulder = np.array([200.0, floor_y])
    # Hip sits so that the trunk rises at ``lift``; the thigh goes up and to the right.
    trunk_len, thigh_len, shin_len = 180.0, 150.0, 140.0
    trunk_angle = math.asin(min(lift, 0.9))
    hip = shoulder + trunk_len * np.array([math.cos(trunk_angle), -math.sin(trunk_angle)])
    # Direction hip->shoulder, then rotate by the hip angle (towards the ceiling side) for the thigh.
    to_shoulder = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    theta = math.radians(hip_angle_deg)
    # Rotate clockwise on screen (y down) so the knee ends up above the line for angles < 180.
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    thigh_dir = rot @ to_shoulder
    knee = hip + thigh_len * thigh_dir
    # The foot stays flat on the floor below and in front of the knee.
    drop = min(abs(floor_y - knee[1]), shin_len)
    ankle = np.array([knee[0] + math.sqrt(shin_len ** 2 - drop ** 2), floor_y])
    for side in ("left", "right"):
        offset = np.array([0.0, 4.0 if side == "right" else 0.0])
        px[INDEX[f"{side}_shoulder"]] = shoulder + offset
        px[INDEX[f"{side}_hip"]] = hip + offset
        px[INDEX[f"{side}_knee"]] = knee + offset
        px[INDEX[f"{side}_ankle"]] = ankle + offset
        px[INDEX[f"{side}_heel"]] = ankle + np.array([-8.0, 0.0]) + offset
        px[INDEX[f"{side}_foot_index"]] = ankle + np.array([20.0, 0.0]) + offset
        px[INDEX[f"{side}_elbow"]] = shoulder + np.array([60.0, 0.0]) + offset
        px[INDEX[f"{side}_wrist"]] = shoulder + np.array([120.0, 0.0]) + offset
        px[INDEX[f"{side}_ear"]] = shoulder + np.array([-50.0, -10.0]) + offset
    head = shoulder + np.array([-70.0, -12.0])
    for name in ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
                 "right_eye_outer", "mouth_left", "mouth_right"):
        px[INDEX[name]] = head
    for name in ("left_pinky", "left_index", "left_thumb", "right_pinky", "right_index", "right_thumb"):
        px[INDEX[name]] = px[INDEX[name.split("_")[0] + "_wrist"]]
    if roll_deg:
        center = np.array([WIDTH / 2, HEIGHT / 2])
        t = math.radians(roll_deg)
        rel = px - center
        px = center + np.stack([rel[:, 0] * math.cos(t) + rel[:, 1] * math.sin(t),
                                -rel[:, 0] * math.sin(t) + rel[:, 1] * math.cos(t)], axis=1)
    image = np.zeros((33, 4))
    image[:, 0] = px[:, 0] / WIDTH
    image[:, 1] = px[:, 1] / HEIGHT
    image[:, 3] = visibility
    return Pose(image=image)


def frames_from_angles(angles_deg, fps: float = 30.0, **kwargs) -> list[PoseFrame]:
    """One PoseFrame per angle; NaN gives a frame with no pose (a dropout)."""
    frames = []
    for i, angle in enumerate(angles_deg):
        pose = None if not np.isfinite(angle) else supine_pose(float(angle), **kwargs)
        frames.append(PoseFrame(index=i, t_ms=1000.0 * i / fps, width=WIDTH, height=HEIGHT, pose=pose))
    return frames


def bridge_angles(reps: int, fps: float = 30.0, rest_deg: float = 135.0, top_deg: float = 180.0,
                  rise_s: float = 1.0, hold_s: float = 1.5, lower_s: float = 1.0, rest_s: float = 1.5,
                  noise_deg: float = 0.0, seed: int = 0) -> np.ndarray:
    """Hip angle over time for ``reps`` bridges: rest, smooth rise, hold, smooth lowering."""
    rng = np.random.default_rng(seed)

    def ramp(a, b, seconds):
        n = max(int(seconds * fps), 1)
        return a + (b - a) * (1 - np.cos(np.linspace(0, np.pi, n))) / 2

    parts = [np.full(int(rest_s * fps), rest_deg)]
    for _ in range(reps):
        parts += [ramp(rest_deg, top_deg, rise_s), np.full(int(hold_s * fps), top_deg),
                  ramp(top_deg, rest_deg, lower_s), np.full(int(rest_s * fps), rest_deg)]
    angles = np.concatenate(parts)
    return angles + rng.normal(0, noise_deg, len(angles)) if noise_deg else angles


# --- more postures, built from named points (pixels in a WIDTH x HEIGHT frame) -----------------

def pose_from_points(points: dict[str, tuple[float, float]], visibility: float = 0.99) -> Pose:
    """A Pose with the given landmarks (both sides when a name has no side); the rest invisible."""
    image = np.zeros((33, 4))
    for name, (x, y) in points.items():
        names = [name] if name in INDEX else [f"left_{name}", f"right_{name}"]
        for full in names:
            image[INDEX[full]] = (x / WIDTH, y / HEIGHT, 0.0, visibility)
    return Pose(image=image)


def _polar(origin, length, angle_deg):
    """Point at ``length`` from ``origin``, ``angle_deg`` counter-clockwise from screen-right (y down)."""
    a = math.radians(angle_deg)
    return (origin[0] + length * math.cos(a), origin[1] - length * math.sin(a))


def supine_two_legs(left_flexion_deg: float, right_flexion_deg: float, head_lift_deg: float = 0.0,
                    hip_lift_deg: float = 0.0) -> Pose:
    """Lying on the back, head screen-left; each leg's hip flexion (0 = straight, 90 = thigh vertical)."""
    shoulder = (200.0, 250.0)
    hip = _polar(shoulder, 180.0, hip_lift_deg)
    pts = {"shoulder": shoulder, "hip": hip,
           "ear": _polar(shoulder, 50.0, 180.0 - head_lift_deg - 5.0),
           "heel": (520.0, 252.0), "wrist": (320.0, 250.0), "elbow": (260.0, 250.0)}
    for side, flexion in (("left", left_flexion_deg), ("right", right_flexion_deg)):
        knee = _polar(hip, 150.0, hip_lift_deg + flexion)
        pts[f"{side}_knee"] = knee
        pts[f"{side}_ankle"] = _polar(knee, 140.0, -60.0 if flexion < 100 else 200.0)
    return pose_from_points(pts)


def standing_side(knee_flexion_deg: float, shin_incline_deg: float = 10.0, trunk_lean_deg: float = 5.0) -> Pose:
    """Standing side-on, facing screen-right; knee flexion 0 = straight legs."""
    ankle = (300.0, 340.0)
    knee = _polar(ankle, 110.0, 90.0 - shin_incline_deg)
    thigh_angle = 90.0 - shin_incline_deg + knee_flexion_deg  # the thigh folds back from the shin
    hip = _polar(knee, 110.0, thigh_angle)
    shoulder = _polar(hip, 130.0, 90.0 - trunk_lean_deg)
    pts = {"ankle": ankle, "heel": (290.0, 342.0), "foot_index": (330.0, 342.0), "knee": knee, "hip": hip,
           "shoulder": shoulder, "ear": (shoulder[0] + 5.0, shoulder[1] - 30.0)}
    return pose_from_points(pts)


def side_lying(top_leg_abduction_deg: float, top: str = "right") -> Pose:
    """Lying on one side, seen from the front; the top leg lifted by the given angle."""
    bottom = "left" if top == "right" else "right"
    shoulder, hip = (150.0, 250.0), (330.0, 250.0)
    pts = {"shoulder": shoulder, "hip": hip, "ear": (110.0, 245.0),
           f"{bottom}_knee": (420.0, 260.0), f"{bottom}_ankle": (500.0, 255.0),
           f"{top}_knee": _polar(hip, 110.0, top_leg_abduction_deg),
           f"{top}_ankle": _polar(hip, 220.0, top_leg_abduction_deg)}
    return pose_from_points(pts)


def walking(t_s: float, cadence_spm: float = 100.0) -> Pose:
    """Walking past a side camera at the given cadence (steps per minute)."""
    step_s = 60.0 / cadence_spm
    hip_x = 150.0 + 60.0 * t_s
    swing = 55.0 * math.sin(math.pi * t_s / step_s)  # ankles cross once per step
    pts = {"hip": (hip_x, 170.0), "shoulder": (hip_x + 5, 60.0), "ear": (hip_x + 10, 35.0),
           "left_knee": (hip_x + swing / 2, 255.0), "right_knee": (hip_x - swing / 2, 255.0),
           "left_ankle": (hip_x + swing, 340.0), "right_ankle": (hip_x - swing, 340.0)}
    return pose_from_points(pts)


def frames_of(poses, fps: float = 30.0) -> list[PoseFrame]:
    return [PoseFrame(i, 1000.0 * i / fps, WIDTH, HEIGHT, p) for i, p in enumerate(poses)]


def ramp_hold(low: float, high: float, reps: int, fps: float = 30.0, move_s: float = 1.0, hold_s: float = 2.0,
              rest_s: float = 1.5) -> np.ndarray:
    """low -> high -> hold -> low, ``reps`` times, with rests between."""
    n_move = int(move_s * fps)
    up = low + (high - low) * (1 - np.cos(np.linspace(0, np.pi, n_move))) / 2
    parts = [np.full(int(rest_s * fps), low)]
    for _ in range(reps):
        parts += [up, np.full(int(hold_s * fps), high), up[::-1], np.full(int(rest_s * fps), low)]
    return np.concatenate(parts)


# --- camera and tracking events: shot changes, dissolves, cards, jittery live timing ------------

def reframed(pose: Pose, scale: float, shift: tuple[float, float] = (0.0, 0.0)) -> Pose:
    """The same pose seen by another camera framing: zoomed by ``scale`` about the picture's centre
    and shifted by ``shift`` (normalized image units). The body's own geometry is unchanged."""
    image = pose.image.copy()
    image[:, 0] = 0.5 + scale * (image[:, 0] - 0.5) + shift[0]
    image[:, 1] = 0.5 + scale * (image[:, 1] - 0.5) + shift[1]
    return replace(pose, image=image)


def dissolve_frames(a: Pose, b: Pose, weights, seed: int = 0, noise: float = 0.01) -> list[Pose]:
    """What the pose model returns on the frames of a cross-dissolve from ``a`` to ``b``: on the
    blended picture it snaps between the two bodies and mixtures of them, with extra jitter.
    ``weights`` (0 = a, 1 = b) give the mixture per frame; visibility drops in the blend."""
    rng = np.random.default_rng(seed)
    out = []
    for w in weights:
        image = (1 - w) * a.image + w * b.image
        image[:, :2] += rng.normal(0, noise, (len(image), 2))
        image[:, 3] = np.minimum(image[:, 3], 0.6 + 0.4 * abs(2 * w - 1))
        out.append(replace(a, image=image))
    return out


def card_pose(seed: int = 0) -> Pose:
    """A skeleton the model places on a graphic: landmarks anywhere, trunk barely visible."""
    rng = np.random.default_rng(seed)
    image = np.c_[rng.uniform(0.2, 0.8, (33, 2)), np.zeros(33), rng.uniform(0.0, 0.3, 33)]
    return Pose(image=image)


def jittery_times_ms(n: int, fps: float, seed: int = 0) -> list[float]:
    """Timestamps of a live webcam analysed at about ``fps``: irregular gaps (half to twice the
    period), an occasional frame 1 ms after the previous one (two frames stamped together),
    strictly increasing."""
    rng = np.random.default_rng(seed)
    period = 1000.0 / fps
    t, out = 0.0, []
    for _ in range(n):
        out.append(t)
        t += 1.0 if rng.random() < 0.05 else period * rng.uniform(0.5, 2.0)
    return out


# --- 3D poses seen from any angle (world landmarks and their picture) ---------------------------

def pose_3d(points: dict[str, tuple[float, float, float]], yaw_deg: float = 0.0, visibility: float = 0.99,
            hidden: tuple[str, ...] = (), px_per_m: float = 300.0) -> Pose:
    """A Pose from named 3D points (metres; camera axes of a side view: x right, y down, z away).

    The body turns by ``yaw_deg`` about the vertical axis through the mid-hip (the camera walking
    round it): 0 = the side view the points describe, 45 = oblique. The picture is the orthographic
    projection (``px_per_m`` pixels per metre, hips at the frame's centre); the world landmarks are
    the rotated points about the mid-hip, as MediaPipe gives them. A name without a side sets both
    sides; landmarks not given sit at the mid-hip, invisible; ``hidden`` ones have visibility 0.1.
    """
    full: dict[str, np.ndarray] = {}
    for name, xyz in points.items():
        for n in ([name] if name in INDEX else [f"left_{name}", f"right_{name}"]):
            full[n] = np.asarray(xyz, float)
    mid_hip = (full["left_hip"] + full["right_hip"]) / 2
    a = math.radians(yaw_deg)
    rot = np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])
    world = np.zeros((33, 3))
    image = np.zeros((33, 4))
    for n, i in INDEX.items():
        p = rot @ (full.get(n, mid_hip) - mid_hip)
        world[i] = p
        image[i] = ((WIDTH / 2 + px_per_m * p[0]) / WIDTH, (HEIGHT / 2 + px_per_m * p[1]) / HEIGHT, p[2],
                    0.0 if n not in full else (0.1 if n in hidden else visibility))
    return Pose(image=image, world=world)


def _leg_points(side: str, z: float, flexion_deg: float) -> dict:
    """A supine leg from the hip at (0.25, 0, z): thigh raised ``flexion_deg`` from the floor line
    towards the ceiling, the foot back down on the floor (knee-to-chest: shin along the thigh's fold)."""
    hip = np.array([0.25, 0.0, z])
    t = math.radians(flexion_deg)
    knee = hip + 0.45 * np.array([math.cos(t), -math.sin(t), 0.0])
    drop = min(0.42, abs(knee[1]))
    ankle = knee + np.array([math.sqrt(0.42 ** 2 - drop ** 2), drop, 0.0]) if flexion_deg < 100 else \
        knee + 0.42 * np.array([-math.cos(t - math.pi / 2), 0.0, 0.0])
    return {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle,
            f"{side}_heel": ankle + np.array([-0.05, 0.0, 0.0]),
            f"{side}_foot_index": ankle + np.array([0.1, 0.0, 0.0])}


def supine_3d(left_flexion_deg: float, right_flexion_deg: float, yaw_deg: float = 0.0,
              hidden: tuple[str, ...] = ()) -> Pose:
    """Lying on the back, head screen-left in the side view, the left side nearer the camera; each
    leg's hip flexion (0 = straight, 90 = thigh vertical). Shoulders and hips 0.3 m apart in depth."""
    points = {"left_shoulder": (-0.25, 0.0, -0.15), "right_shoulder": (-0.25, 0.0, 0.15),
              "left_ear": (-0.45, -0.05, -0.08), "right_ear": (-0.45, -0.05, 0.08), "nose": (-0.5, -0.12, 0.0),
              "left_elbow": (-0.05, 0.0, -0.2), "right_elbow": (-0.05, 0.0, 0.2),
              "left_wrist": (0.15, 0.0, -0.2), "right_wrist": (0.15, 0.0, 0.2)}
    points.update(_leg_points("left", -0.15, left_flexion_deg))
    points.update(_leg_points("right", 0.15, right_flexion_deg))
    return pose_3d(points, yaw_deg, hidden=hidden)


def quadruped_3d(reach_side: str = "left", arm_deg: float = -90.0, leg_deg: float = -90.0,
                 yaw_deg: float = 0.0) -> Pose:
    """On all fours, facing screen-left in the side view, trunk level 0.5 m above the floor.

    ``arm_deg``: the ``reach_side`` arm's angle above the horizontal, reaching forward (-90 =
    hanging straight down to the floor, 0 = level with the shoulder, +25 = above it); ``leg_deg``:
    the opposite leg's thigh, reaching back (-90 = thigh straight down, 0 = level)."""
    other = "right" if reach_side == "left" else "left"
    pts: dict = {}
    for side, z in (("left", -0.18), ("right", 0.18)):
        pts[f"{side}_shoulder"] = (-0.3, -0.5, z)
        pts[f"{side}_hip"] = (0.3, -0.5, z)
        pts[f"{side}_elbow"] = (-0.3, -0.25, z)
        pts[f"{side}_wrist"] = (-0.3, 0.0, z)
        pts[f"{side}_knee"] = (0.3, 0.0, z)
        pts[f"{side}_ankle"] = (0.7, 0.0, z)
        pts[f"{side}_ear"] = (-0.5, -0.6, z / 2)
    pts["nose"] = (-0.58, -0.55, 0.0)
    a = math.radians(arm_deg)
    shoulder = np.array(pts[f"{reach_side}_shoulder"])
    pts[f"{reach_side}_elbow"] = shoulder + 0.25 * np.array([-math.cos(a), -math.sin(a), 0.0])
    pts[f"{reach_side}_wrist"] = shoulder + 0.5 * np.array([-math.cos(a), -math.sin(a), 0.0])
    g = math.radians(leg_deg)
    hip = np.array(pts[f"{other}_hip"])
    pts[f"{other}_knee"] = hip + 0.5 * np.array([math.cos(g), -math.sin(g), 0.0])
    shin = np.array([1.0, 0.0, 0.0]) if leg_deg < -45 else np.array([math.cos(g), -math.sin(g), 0.0])
    pts[f"{other}_ankle"] = pts[f"{other}_knee"] + 0.4 * shin  # on the floor until the leg reaches back
    return pose_3d(pts, yaw_deg)


def standing_3d(yaw_deg: float = 0.0) -> Pose:
    """Standing upright facing screen-left in the side view (yaw 0); yaw -90 turns the front to the
    camera, +90 the back."""
    pts = {}
    for side, z in (("left", -0.18), ("right", 0.18)):
        pts.update({f"{side}_shoulder": (0.0, -0.5, z), f"{side}_hip": (0.0, 0.0, z), f"{side}_knee": (0.0, 0.45, z),
                    f"{side}_ankle": (0.0, 0.9, z), f"{side}_elbow": (0.0, -0.2, z * 1.3),
                    f"{side}_ear": (-0.05, -0.7, z / 2)})
    pts["nose"] = (-0.12, -0.68, 0.0)
    return pose_3d(pts, yaw_deg)


# --- pelvic tilt: lying on the back with the back's outline ---------------------------------

TILT_TRUNK_THICKNESS_PX = 25.0  # the back's outline on the mat lies this far below the trunk line


def supine_tilt_pose(lumbar_gap_px: float, arms: str = "chest", lift: float = 0.0,
                     outline_noise_px: float = 0.0, rng: np.random.Generator | None = None) -> Pose:
    """Lying on the back, knees bent, with the back's outline (segmentation mask edge) on the mat.

    ``lumbar_gap_px``: how far the lower back's outline rises off the mat at its highest (a smooth
    bump over the lumbar region, 10-60 % of the way from the hip to the shoulder; about 8 px lying
    relaxed, 3-4 px with a posterior tilt, more when arching). ``arms``: "chest" (folded on the
    chest, clear of the back) or "side" (lying on the mat along the trunk, in front of the lower
    back as the camera sees it). ``lift`` as in supine_pose (a bridge). ``outline_noise_px``: the
    mask edge's jitter.
    """
    base = supine_pose(130.0, lift=lift)
    image = base.image.copy()
    scale = np.array([WIDTH, HEIGHT], float)
    shoulder = image[INDEX["left_shoulder"], :2] * scale
    hip = image[INDEX["left_hip"], :2] * scale
    if arms == "chest":
        elbow, wrist = shoulder + np.array([70.0, -35.0]), shoulder + np.array([110.0, -45.0])
    elif arms == "side":
        elbow, wrist = shoulder + np.array([80.0, 12.0]), shoulder + np.array([150.0, 14.0])
    else:
        raise ValueError(arms)
    for side in ("left", "right"):
        image[INDEX[f"{side}_elbow"], :2] = elbow / scale
        image[INDEX[f"{side}_wrist"], :2] = wrist / scale
        for finger in ("pinky", "index", "thumb"):
            image[INDEX[f"{side}_{finger}"], :2] = wrist / scale
    # The outline: stations from 10 % to 90 % of the hip-shoulder line, pushed to the dorsal side
    # (away from the knees), lifted off the mat over the lumbar region.
    u = np.linspace(0.1, 0.9, 9)
    along = shoulder - hip
    dorsal = np.array([along[1], -along[0]]) / np.linalg.norm(along)
    if dorsal[1] < 0:
        dorsal = -dorsal  # towards the mat (screen-down when lying flat)
    bump = np.where((u > 0.1) & (u < 0.6), np.sin(np.pi * (u - 0.1) / 0.5), 0.0)
    points = hip + u[:, None] * along + (TILT_TRUNK_THICKNESS_PX - lumbar_gap_px * bump)[:, None] * dorsal
    if outline_noise_px:
        points = points + (rng or np.random.default_rng(0)).normal(0, outline_noise_px, points.shape)
    return Pose(image=image, back_contour=points / scale)


def tilt_gaps(tilts: int, rest_px: float = 8.0, tilt_px: float = 3.5, fps: float = 30.0, move_s: float = 1.0,
              hold_s: float = 3.0, rest_s: float = 3.0) -> np.ndarray:
    """The lumbar gap over time for ``tilts`` tilts (or arches, with tilt_px > rest_px)."""
    def ramp(a, b):
        n = max(int(move_s * fps), 1)
        return a + (b - a) * (1 - np.cos(np.linspace(0, np.pi, n))) / 2

    parts = [np.full(int(rest_s * fps), rest_px)]
    for _ in range(tilts):
        parts += [ramp(rest_px, tilt_px), np.full(int(hold_s * fps), tilt_px), ramp(tilt_px, rest_px),
                  np.full(int(rest_s * fps), rest_px)]
    return np.concatenate(parts)


def quadruped_reach(left_reach_deg: float, right_reach_deg: float, far_visibility: float = 0.3) -> Pose:
    """On all fours, side view facing screen-left, left side nearest the camera; a bird dog.

    ``left_reach_deg``: elevation (0 = hanging down, 90 = level) of the left arm and the right
    thigh; ``right_reach_deg``: of the right arm and the left thigh. The far (right) side is
    hidden behind the body (``far_visibility``), as in a real side view: the model's far-side
    points are then gated out, so a reach is read from its near limb alone.
    """
    shoulder, hip = (220.0, 170.0), (400.0, 170.0)
    pts: dict[str, tuple[float, float]] = {"shoulder": shoulder, "hip": hip, "ear": (180.0, 150.0)}
    vis = {}
    for side, arm_deg, leg_deg in (("left", left_reach_deg, right_reach_deg),
                                   ("right", right_reach_deg, left_reach_deg)):
        down_forward = math.radians(arm_deg)  # forward is screen-left
        down_x, down_y = -math.sin(down_forward), math.cos(down_forward)
        pts[f"{side}_elbow"] = (shoulder[0] + 45.0 * down_x, shoulder[1] + 45.0 * down_y)
        pts[f"{side}_wrist"] = (shoulder[0] + 90.0 * down_x, shoulder[1] + 90.0 * down_y)
        back = math.radians(leg_deg)  # the thigh swings back (screen-right); the shin stays horizontal
        knee = (hip[0] + 90.0 * math.sin(back), hip[1] + 90.0 * math.cos(back))
        pts[f"{side}_knee"], pts[f"{side}_ankle"] = knee, (knee[0] + 90.0, knee[1])
        for part in ("elbow", "wrist", "knee", "ankle"):
            vis[f"{side}_{part}"] = 0.99 if side == "left" else far_visibility
    pose = pose_from_points(pts)
    for name, v in vis.items():
        pose.image[INDEX[name], 3] = v
    return pose


def bird_dog_joined_mid_reach(fps: float = 30.0) -> list[PoseFrame]:
    """A bird-dog session whose camera starts while the left reach is held at 85 degrees: the
    hold's end, a rest, a whole right rep and a whole left rep (85 degrees each)."""
    hold, move, rest = int(1.5 * fps), int(1.0 * fps), int(1.5 * fps)
    ramp = 85.0 * (1 - np.cos(np.linspace(0, np.pi, move))) / 2
    left = np.concatenate([np.full(hold, 85.0), ramp[::-1], np.zeros(rest + 2 * move + 2 * hold + rest),
                           ramp, np.full(2 * hold, 85.0), ramp[::-1], np.zeros(rest)])
    right = np.concatenate([np.zeros(hold + move + rest), ramp, np.full(2 * hold, 85.0), ramp[::-1],
                            np.zeros(rest + 2 * move + 2 * hold + rest)])
    return frames_of([quadruped_reach(arm, leg) for arm, leg in zip(left, right)], fps)


def with_flat_back(pose: Pose) -> Pose:
    """The pose with a straight back outline from hip to shoulder (no flexion), 8 px on the back's
    side of the shoulder-hip line (away from the knees), as a segmentation mask would give."""
    image = pose.image
    scale = np.array([WIDTH, HEIGHT], float)
    hip, shoulder, knee = (image[INDEX[f"left_{p}"], :2] * scale for p in ("hip", "shoulder", "knee"))
    along = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    normal = np.array([-along[1], along[0]])
    if np.dot(knee - hip, normal) > 0:
        normal = -normal
    points = hip + np.linspace(0.0, 1.0, 9)[:, None] * (shoulder - hip) + 8.0 * normal
    return Pose(image=image, world=pose.world, back_contour=points / scale)


def bridge_after_lying_down_with_straight_legs(reps: int = 2, fps: float = 30.0) -> list[PoseFrame]:
    """A live glute-bridge session as a patient starts it: lying down with the legs straight (hip
    angle 180, the bridge's "top"), then bending the knees into the start position (135), then
    ``reps`` bridges; the back stays flat throughout."""
    n = int(1.5 * fps)
    bend = 180.0 + (135.0 - 180.0) * (1 - np.cos(np.linspace(0, np.pi, int(1.0 * fps)))) / 2
    angles = np.concatenate([np.full(n, 180.0), bend, bridge_angles(reps, fps)])
    return [PoseFrame(i, 1000.0 * i / fps, WIDTH, HEIGHT, with_flat_back(supine_pose(float(a))))
            for i, a in enumerate(angles)]
