"""Carefully synthesized poses for unit tests: a side view of a person lying on their back.

The geometry is exact, so tests know the true angle: shoulder and hip on the floor line,
the knee placed so that the shoulder-hip-knee angle is what the test asks for.
"""
from __future__ import annotations

import math

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
