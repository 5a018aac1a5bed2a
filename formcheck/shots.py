"""Discontinuities in the pose stream: a camera shot change, another person, a card, a glitch.

Edited footage (a cut to another camera angle, a fade or a dissolve, title and end cards, a camera
that reframes) and a tracker that jumps to someone else both make the tracked body leap in the
picture. They need different answers: after a shot change the same patient goes on in a new view
(re-take the camera roll and the rest levels, a movement broken by the cut is partial); after a
jump to another person the patient must be told to clear the view. A single landmark placed wrong
for a frame or two is neither, and a real fast movement filmed at 10-15 frames a second with
irregular gaps must be none of them.

``ShotTracker.update(frame)`` is causal (one frame in, one ``ShotUpdate`` out, no look-ahead), so
the live page runs the same code as ``analyze``:

1. **Continuity.** The trunk (mid-shoulders and mid-hips, as ``signals.torso_in_frame``) of a real
   body moves at most ``MAX_TRUNKS_PER_S`` trunk lengths a second and changes its size in the
   picture at most ``MAX_LOG_SIZE_PER_S`` a second, plus a floor for landmark jitter that does not
   shrink with the gap (two frames 1 ms apart on a jittery webcam clock are still allowed their
   jitter). A frame beyond that starts a *candidate* discontinuity.
2. **Persistence.** A candidate becomes an event only when the new placement holds still enough to
   be a body (consecutive frames consistent with each other) for ``SETTLE_S`` and ``SETTLE_FRAMES``
   (``PERSON_SETTLE_S`` before it is called another person).
   If the old body comes back first, it was a glitch: nothing happens except that those frames are
   not measured. So a single misplaced landmark, however far, never pauses counting.
3. **Classification** of a settled discontinuity:
   - reached through a *transition* (frames with no pose, a card, or frames that did not hold still:
     the blended, unstable poses of a fade or a dissolve, a graphic sliding faster than a body can
     move): a **shot change**. Editing makes transitions; one person handing over to another in
     the same camera does not;
   - an instantaneous jump with the *posture preserved* (the view-invariant joint angles of the new
     body match the old one's): the same body seen by another camera, a **shot change** (a hard
     cut, a zoom, a camera knocked);
   - an instantaneous jump to a *different posture*: **another person**.
   Body proportions (3D segment-length ratios) were tried and rejected: MediaPipe's world
   landmarks vary as much within one recording (inter-quartile range of thigh/trunk 0.02-0.16 across
   views and movement) as between ten different people of the validation corpus (0.63-0.84), so they
   cannot tell two people apart.
4. **Cards.** A frame with no pose, or whose trunk landmarks are all below ``VISIBILITY_FLOOR`` (a
   logo, a title over a blur), or that is part of an unsettled transition, is *not measurable*:
   no skeleton is drawn on it and no signal is computed there.

What the engine does with them (engine/view.py, and ``ExerciseEngine._after_discontinuity`` in
engine/core.py): on a shot change the camera roll, the rolling rest levels and the start posture
(spinal flexion, trunk rotation) are taken again in the new view, finished reps are kept, and a rep
under way is never completed across the cut: the part before it ends there (a partial rep, if long
and large enough to be one), and the new shot's part is followed as a movement already under way
(partial). In edited footage the two sides of a cut are different takes (every join in the
validation corpus is between takes, at rest), so what the second shot shows cannot be taken for the
rest of the first shot's rep; the truth counts reps per take, and a rep seen whole inside one shot
is counted. A hold that had reached its target time before the cut counts, as at the end of a
recording. On another person the movement under way is dropped and counting pauses for a second.

What landmarks cannot tell, written down rather than hidden:
- a still graphic of a human figure (a logo) looks like a person holding still; its frame-to-frame
  landmark jitter is the same as a real hold's (both about 0.1 % of a trunk length);
- a gradual dissolve between two takes framed alike, with no leap of the trunk, is not seen as a
  change (the same body keeps being followed; nothing is paused);
- someone walking in front of the camera and blocking it fully before the tracker picks them up
  reads as a transition, hence as a shot change: the count is protected the same way (the movement
  under way is not counted complete), but the message names a camera change, not another person;
- another person in the same posture as the patient at the moment of the jump (a mirrored copy of
  the same clip is the extreme case) is a second view of the same body.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .signals import VISIBILITY_FLOOR, torso_in_frame
from .skeleton import INDEX
from .types import PoseFrame

# A trunk (mid-shoulders to mid-hips, about 0.5 m) moves at most about 4 of its lengths a second:
# a brisk walk across a side camera is 1.5 m/s, 3 trunk lengths; rehab floor movements are far
# slower (a bridge lifts the hips about 0.3 trunk lengths in half a second).
MAX_TRUNKS_PER_S = 4.0
# Landmark jitter allowed between any two frames, however close in time (two frames stamped 1 ms
# apart on a jittery webcam clock are still allowed it): 0.15 trunk lengths is twice the largest
# frame-to-frame move of the trunk's centre in the ten validation traces and the shared traces
# outside their transitions (0.07; 99th percentile 0.01-0.07). A grossly misplaced hip or shoulder
# moves the 4-point centre more (a point off by a trunk length moves it 0.25): persistence, not this
# floor, dismisses such glitches.
JITTER_TRUNKS = 0.15
# The trunk's length in the picture: a 20 % change at once is three times the largest
# frame-to-frame change in the same traces outside transitions (0.06 in log units), plus a rate of
# 0.5 per second (walking towards the camera at 1 m/s from 2 m away changes it by 0.5 per second).
JITTER_LOG_SIZE = math.log(1.2)
MAX_LOG_SIZE_PER_S = 0.5
# During a dropout (no pose, a card) the allowance grows for a quarter of a second only: a patient
# on a mat is where they were when the model finds them again. A body reappearing further away or
# at another size after a card is a new framing; if it was the patient who moved, calling it a
# shot change costs only a re-taken baseline.
MAX_MOTION_S = 0.25
# A new placement must hold this long (and this many frames) to be an event: MediaPipe's single
# misplaced frames last 1-3 frames at 30 fps; 0.2 s is 3 frames at the live page's 15 fps.
SETTLE_S = 0.2
SETTLE_FRAMES = 3
# Telling the patient someone else is in view, and dropping the movement under way, needs more:
# the other body must hold half a second. A tracker locked for a few frames on a wrong region of
# the picture (the live page's 320-pixel frames make that likelier) lets go sooner, and while it
# waits the frames are only not measured: a rep survives a 1.5 s gap (reps.MAX_GAP_MS).
PERSON_SETTLE_S = 0.5
# View-invariant posture (3D joint angles, trunk and thigh inclines): the same body seen by two
# cameras in the validation corpus' cross-dissolves differs by a mean of 5-10 degrees over these
# components (MediaPipe's depth guess changes with the view); a body moving fast changes them by a
# few degrees in a frame. A mean difference above 25 degrees is another posture.
SAME_POSTURE_DEG = 25.0
POSTURE_FRAMES = 5  # frames of posture before the jump (median: one noisy frame does not decide)
# A body followed for less than this before a discontinuity was itself part of a transition (a
# graphic sliding in, the first frames of a fade): taking over from it is no event to report.
MIN_SHOT_S = 0.5

STEADY, NO_POSE, CARD, TRANSITION = "steady", "no_pose", "card", "transition"
SHOT_CHANGE, PERSON_SWITCH = "shot_change", "person_switch"


@dataclass(frozen=True)
class Placement:
    """Where the tracked trunk is and how big, in units of the frame's longer side."""

    t_ms: float
    centre: np.ndarray
    size: float


@dataclass(frozen=True)
class ShotUpdate:
    """What the tracker concluded for one frame."""

    state: str  # STEADY | NO_POSE | CARD | TRANSITION
    event: str | None = None  # SHOT_CHANGE | PERSON_SWITCH, on the frame it is settled
    event_t_ms: float = math.nan  # when the discontinuity began (the first frame of it)

    @property
    def measurable(self) -> bool:
        """False: no skeleton may be drawn and no signal computed on this frame."""
        return self.state == STEADY


def consistent(a: Placement, b: Placement) -> bool:
    """True when one body could have moved from ``a`` to ``b`` in the time between them."""
    dt_s = min(max((b.t_ms - a.t_ms) / 1000.0, 0.0), MAX_MOTION_S)
    moved = float(np.linalg.norm(b.centre - a.centre)) / max(a.size, b.size)
    log_size = abs(math.log(b.size / a.size))
    return moved <= JITTER_TRUNKS + MAX_TRUNKS_PER_S * dt_s and log_size <= JITTER_LOG_SIZE + MAX_LOG_SIZE_PER_S * dt_s


def placement(frame: PoseFrame) -> Placement | None:
    torso = torso_in_frame(frame)
    return None if torso is None else Placement(frame.t_ms, torso[0], torso[1])


def is_card(frame: PoseFrame) -> bool:
    """A pose whose trunk is not really seen: all four trunk landmarks below the visibility floor
    (the model placing a skeleton on a graphic, a blur or an empty frame)."""
    if frame.pose is None:
        return False
    trunk = [INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    return bool(np.all(frame.pose.image[trunk, 3] < VISIBILITY_FLOOR))


def posture_deg(frame: PoseFrame) -> np.ndarray:
    """View-invariant posture: knee and hip angles of both legs, the trunk's and thighs' inclines
    from vertical (degrees). From the 3D world landmarks when there are any (a camera cut changes
    the 2D picture, not these), else from the image (no depth: same camera only)."""
    assert frame.pose is not None
    if frame.pose.world is not None:
        p = np.asarray(frame.pose.world, float)
    else:
        image = frame.pose.image
        p = np.c_[image[:, 0] * frame.width, image[:, 1] * frame.height, np.zeros(len(image))]
    i = INDEX
    out = []
    for side in ("left", "right"):
        shoulder, hip, knee, ankle = (p[i[f"{side}_{n}"]] for n in ("shoulder", "hip", "knee", "ankle"))
        out += [_angle(hip, knee, ankle), _angle(shoulder, hip, knee), _incline(hip, knee)]
    mid_hip = (p[i["left_hip"]] + p[i["right_hip"]]) / 2
    mid_shoulder = (p[i["left_shoulder"]] + p[i["right_shoulder"]]) / 2
    out.append(_incline(mid_hip, mid_shoulder))
    return np.array(out)


def posture_change_deg(before: np.ndarray, after: np.ndarray) -> float:
    """Mean absolute difference of the posture components both have (degrees)."""
    diff = np.abs(before - after)
    diff = diff[np.isfinite(diff)]
    return float(diff.mean()) if diff.size else math.nan


class ShotTracker:
    """Follows the tracked body frame by frame and reports shot changes and person switches."""

    def __init__(self) -> None:
        self._body: Placement | None = None  # the body being followed (last steady frame)
        self._body_since_ms = math.nan  # when the body being followed was first seen
        self._postures: deque[np.ndarray] = deque(maxlen=POSTURE_FRAMES)
        self._lost_since_ms = math.nan  # first frame without a usable pose since the last steady one
        self._onset_ms = math.nan  # first frame of the pending discontinuity
        self._run: list[tuple[Placement, np.ndarray]] = []  # the candidate's latest self-consistent frames
        self._unsettled = 0  # candidate frames that did not hold still (a blend, a slide)
        self._after_gap = False  # the candidate came right after frames with no usable pose

    def update(self, frame: PoseFrame) -> ShotUpdate:
        now = placement(frame)
        if now is None or is_card(frame):
            if math.isnan(self._lost_since_ms):
                self._lost_since_ms = frame.t_ms
            if self._run:
                self._after_gap = True  # a card in the middle of a transition is part of it
            return ShotUpdate(NO_POSE if frame.pose is None else CARD)
        if self._body is None:  # the first body seen: nothing to compare with
            self._body_since_ms = now.t_ms
            return self._steady(now, frame)
        if not self._run and consistent(self._body, now):
            return self._steady(now, frame)
        if self._run and consistent(self._body, now) and not consistent(self._run[-1][0], now):
            # The old body is back and the candidate was not: a glitch (or a flicker), no event.
            self._reset_candidate()
            return self._steady(now, frame)
        return self._candidate(now, frame)

    # --- internals ---------------------------------------------------------------------------

    def _steady(self, now: Placement, frame: PoseFrame) -> ShotUpdate:
        self._body = now
        self._postures.append(posture_deg(frame))
        self._lost_since_ms = math.nan
        return ShotUpdate(STEADY)

    def _reset_candidate(self) -> None:
        self._run, self._unsettled, self._after_gap, self._onset_ms = [], 0, False, math.nan

    def _candidate(self, now: Placement, frame: PoseFrame) -> ShotUpdate:
        if not self._run:
            self._after_gap = math.isfinite(self._lost_since_ms)
            self._onset_ms = self._lost_since_ms if self._after_gap else now.t_ms
        elif not (consistent(self._run[-1][0], now) and consistent(self._run[0][0], now)):
            self._unsettled += len(self._run)  # the new placement did not hold: start the run again
            self._run = []
        self._run.append((now, posture_deg(frame)))
        first = self._run[0][0]
        if len(self._run) < SETTLE_FRAMES or now.t_ms - first.t_ms < 1000.0 * SETTLE_S:
            return ShotUpdate(TRANSITION)
        followed_s = (self._body.t_ms - self._body_since_ms) / 1000.0 if self._body is not None else 0.0
        event = self._classify() if followed_s >= MIN_SHOT_S else None
        if event == PERSON_SWITCH and now.t_ms - first.t_ms < 1000.0 * PERSON_SETTLE_S:
            return ShotUpdate(TRANSITION)
        onset = self._onset_ms if event else math.nan
        postures = [p for _, p in self._run]
        self._reset_candidate()
        self._body, self._body_since_ms = now, first.t_ms
        self._postures.clear()
        self._postures.extend(postures[-POSTURE_FRAMES:])
        self._lost_since_ms = math.nan
        return ShotUpdate(STEADY, event, onset)

    def _classify(self) -> str:
        if self._after_gap or self._unsettled >= 2:
            return SHOT_CHANGE
        if not self._postures:
            return SHOT_CHANGE
        before = np.nanmedian(np.array(self._postures), axis=0)
        after = np.nanmedian(np.array([p for _, p in self._run]), axis=0)
        change = posture_change_deg(before, after)
        return PERSON_SWITCH if math.isfinite(change) and change > SAME_POSTURE_DEG else SHOT_CHANGE


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    u, v = a - b, c - b
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    if not math.isfinite(norm) or norm < 1e-9:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(u, v)) / norm))))


def _incline(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the segment a-b from vertical (the y axis, down in both the image and MediaPipe's
    world frame), 0-90 degrees."""
    v = b - a
    norm = float(np.linalg.norm(v))
    if not math.isfinite(norm) or norm < 1e-9:
        return math.nan
    return math.degrees(math.acos(min(1.0, abs(float(v[1])) / norm)))
