"""The engine's hook into the camera's view: shot changes and person switches (shots.py), the
camera's roll (signals.RollEstimator), the view class and what it can measure (view_gate.py), and
whether this frame's body is in position to be counted at all.

shots.py, view_gate.py and views.py stay pure modules of their own (views.py is also read by
spec.py, and no module below the engine imports it); ``ViewCheck`` holds the per-session state
that ties them together and says, per frame, "counting" or what the patient should change.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..shots import PERSON_SWITCH, SHOT_CHANGE, TRANSITION, ShotTracker, ShotUpdate
from ..signals import Body, RollEstimator, body_from_frame, trunk_incline_deg
from ..spec import ExerciseSpec
from ..types import PoseFrame
from ..view_gate import ViewGate, trunk_length_px
from ..views import floor_line_visible, world_trunk_incline_deg
from .messages import messages_for

# Postures whose trunk is roughly level with the floor, and those where it is upright: a
# standing person is not doing a glute bridge, whatever their hip angle says.
LYING_POSTURES = ("supine", "prone", "quadruped", "side_lying")
UPRIGHT_POSTURES = ("standing", "seated")
MAX_LYING_TRUNK_INCLINE_DEG = 50.0
MIN_UPRIGHT_TRUNK_INCLINE_DEG = 45.0
MIN_TRUNK_FRACTION = 0.08  # trunk shorter than this share of the frame's long side: too far away
# When the tracking jumps to another person (see shots.py for how that is told from a camera shot
# change), counting pauses for SWITCH_PAUSE_S so no rep is made of two people's halves.
SWITCH_PAUSE_S = 1.0


class ViewCheck:
    """Per session: the shot, the camera roll, the view, and whether a frame can be counted."""

    def __init__(self, spec: ExerciseSpec):
        self.spec = spec
        self.messages = messages_for(spec)
        self.shots = ShotTracker()
        self.gate = ViewGate(spec)  # the camera's view, and what it can measure (view_gate.py)
        self.roll = RollEstimator(spec.floor_contacts)
        self.person_switches_s: list[float] = []  # when the tracking jumped to another body (seconds)
        self.shot_changes_s: list[float] = []  # when the camera shot changed (cut, dissolve, card; seconds)
        self._paused_until_ms = -math.inf

    def shot(self, frame: PoseFrame) -> ShotUpdate:
        """Follow the shot (shots.py). A settled person switch pauses counting; a shot change
        takes the camera roll again. (The engine ends or drops the movement under way.)"""
        shot = self.shots.update(frame)
        if shot.event == PERSON_SWITCH:
            self.person_switches_s.append(shot.event_t_ms / 1000.0)
            self._paused_until_ms = frame.t_ms + 1000.0 * SWITCH_PAUSE_S
        elif shot.event == SHOT_CHANGE:
            self.shot_changes_s.append(shot.event_t_ms / 1000.0)
            self.roll = RollEstimator(self.spec.floor_contacts)
        return shot

    def body(self, frame: PoseFrame, shot: ShotUpdate, at_start: bool) -> tuple[PoseFrame, Body | None]:
        """The frame as measured (no pose on a card or in a transition) and its roll-corrected body.
        The roll is sampled only ``at_start`` (the start posture: signals.RollEstimator)."""
        if not shot.measurable:
            frame = replace(frame, pose=None)  # a card or a transition: no skeleton, no signal
        view = self.gate.update(frame, new_shot=shot.event == SHOT_CHANGE)
        if self.gate.changed:
            self.roll = RollEstimator(self.spec.floor_contacts)  # a new camera angle: a new floor line
        roll = self.roll.update(frame, at_start=at_start) if floor_line_visible(view) else self.roll.roll_deg
        return frame, body_from_frame(frame, roll)

    def check(self, body: Body | None, frame: PoseFrame, shot: ShotUpdate) -> tuple[bool, str]:
        """(in view and in position, else what to change)."""
        view_ok, message = self._in_position(body, frame)
        if shot.state == TRANSITION:  # (on a card or no pose, the message says what to change)
            message = self.messages["view_changing"]
        if frame.t_ms < self._paused_until_ms:
            view_ok, message = False, self.messages["someone_else"]
        return view_ok, message

    def start_message(self) -> str:
        """What to do to get into the exercise's start position."""
        return self.messages["stand_up"] if self.spec.posture in UPRIGHT_POSTURES else self.messages["lie_down"]

    def _in_position(self, body: Body | None, frame: PoseFrame) -> tuple[bool, str]:
        msg = self.messages
        if body is None:
            return False, msg["not_visible"]
        needed = [body.near(part) for part in self.spec.required_parts]
        if not all(np.all(np.isfinite(p)) for p in needed):
            return False, msg["not_visible"]
        if trunk_length_px(frame, body) < MIN_TRUNK_FRACTION * max(frame.width, frame.height):
            return False, msg["too_far"]
        # The picture foreshortens a lying trunk filmed from the feet or the head: there the world
        # landmarks tell lying from upright.
        incline = (trunk_incline_deg(body) if self.gate.view in ("side", "front", "back", None)
                   else world_trunk_incline_deg(frame.pose))
        if self.spec.posture in LYING_POSTURES and incline > MAX_LYING_TRUNK_INCLINE_DEG:
            return False, msg["lie_down"]
        if self.spec.posture in UPRIGHT_POSTURES and incline < MIN_UPRIGHT_TRUNK_INCLINE_DEG:
            return False, msg["stand_up"]
        placement = self.gate.placement_problem()
        if placement is not None:
            return False, msg[placement]
        return True, ""

    def warnings(self) -> list[str]:
        warnings = []
        if self.person_switches_s:
            warnings.append(f"The tracking jumped between people {len(self.person_switches_s)} time(s) "
                            f"(at {_times_s(self.person_switches_s)}): the movement under way was not counted, "
                            f"and counting paused for {SWITCH_PAUSE_S:.0f} s. Record with only the patient in view.")
        if self.shot_changes_s:
            warnings.append(f"The recording changes camera shot at {_times_s(self.shot_changes_s)}: counting "
                            f"restarted in each new view (camera level and rest position measured again); a "
                            f"movement under way at a change is counted as partial.")
        return warnings + self.gate.warnings()


def _times_s(times: list[float], most: int = 5) -> str:
    """'7.0 s, 8.0 s' (the first ``most``, then '...')."""
    return ", ".join(f"{t:.1f} s" for t in times[:most]) + ("..." if len(times) > most else "")
