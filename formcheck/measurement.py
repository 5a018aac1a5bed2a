"""The measurement verdict: could this recording measure the exercise at all?

A count of 0 means "no rep was done" only when a rep would have been seen. ``verdict`` decides,
from what the engine counted while it ran (``MeasurementEvidence``), whether the recording was
``measured`` or ``not_measurable``, and why, in words a patient can act on. It is the one place
this is decided: summary.json, the reports, the CLI and the app all show its answer.

Not measurable, in this order:
- nobody was found in the recording;
- the rep signal could not be read on most of the frames where the body was in view, for a
  reason the signal itself gives (e.g. an arm over the lower back hides the pelvic tilt), and no
  rep was counted;
- the body never settled in the exercise's start position (posture, view and the rep signal's
  rest zone) for a moment, so nothing could count;
- the signal's movements were within its noise (``min_snr``) and no complete rep was counted, or
  the noise is so large that even a complete rep could not be told from it.
Otherwise: measured (which includes "measured, and no rep was done").

``signal_to_noise`` is the largest movement of the rep signal seen (counted or not) divided by its
typical frame-to-frame noise, when both are known.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

MEASURED = "measured"
NOT_MEASURABLE = "not_measurable"


@dataclass(frozen=True)
class Measurement:
    status: str  # MEASURED | NOT_MEASURABLE
    reason: str | None = None  # why it could not be measured (lower case, no final full stop)
    advice: str | None = None  # what to change in the next recording (a sentence)
    signal_to_noise: float | None = None

    @property
    def measured(self) -> bool:
        return self.status == MEASURED

    def to_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "advice": self.advice,
                "signal_to_noise": None if self.signal_to_noise is None else round(self.signal_to_noise, 1)}

    @classmethod
    def from_dict(cls, data: dict | None) -> Measurement:
        """Read back a stored summary's verdict; a summary from before verdicts existed was measured."""
        if not isinstance(data, dict) or data.get("status") not in (MEASURED, NOT_MEASURABLE):
            return cls(MEASURED)
        snr = data.get("signal_to_noise")
        return cls(data["status"], data.get("reason"), data.get("advice"),
                   float(snr) if isinstance(snr, (int, float)) else None)

    def sentence(self, exercise_title: str) -> str:
        """"This recording cannot measure the pelvic tilt: <reason>. <advice>" (empty when measured)."""
        if self.measured:
            return ""
        text = f"This recording cannot measure the {exercise_title.lower()}: {self.reason}."
        return f"{text} {self.advice}" if self.advice else text


@dataclass(frozen=True)
class MeasurementEvidence:
    """What the engine counted over a session (all sides of the rep signal together)."""

    frames: int
    frames_with_pose: int
    frames_in_view: int
    view_problems: dict[str, int] = field(default_factory=dict)  # patient message -> frames
    settled: bool = False  # the body was in the start position at least once (a counter left set-up)
    start_message: str = ""  # what the patient is told to get into the start position
    signal_frames: int = 0  # frames in view with a valid rep signal
    signal_problems: dict[tuple[str, str], int] = field(default_factory=dict)  # (reason, advice) -> frames
    reps: int = 0  # complete and partial reps counted
    complete_reps: int = 0
    discarded_for_noise: int = 0
    largest_movement_deg: float = math.nan  # largest excursion of the rep signal, counted or not
    noise_deg: float = math.nan  # typical frame-to-frame noise of the rep signal
    min_snr: float = 0.0  # the exercise's noise gate (0: none)
    complete_rep_deg: float = math.nan  # how far the signal must move from rest for a complete rep


def verdict(e: MeasurementEvidence) -> Measurement:
    snr = None
    if math.isfinite(e.largest_movement_deg) and math.isfinite(e.noise_deg) and e.noise_deg > 0:
        snr = e.largest_movement_deg / e.noise_deg

    def refuse(reason: str, advice: str | None) -> Measurement:
        return Measurement(NOT_MEASURABLE, reason, advice, snr)

    if e.frames_with_pose == 0:
        return refuse("no person was found in it", "Make sure your whole body is in view.")
    problem_frames = sum(e.signal_problems.values())
    if e.reps == 0 and problem_frames > e.signal_frames:
        reason, advice = max(e.signal_problems, key=e.signal_problems.__getitem__)
        return refuse(reason, advice)
    if not e.settled:
        worst = max(e.view_problems, key=e.view_problems.__getitem__) if e.view_problems else None
        if worst is not None and worst != e.start_message and e.frames_in_view < e.frames_with_pose / 2:
            return refuse("the body was not in view as the exercise needs it for most of the recording", worst)
        return refuse("the body was never in the exercise's start position", e.start_message or None)
    noisy_advice = "Film from the side, closer, with the body well lit and nothing in front of it."
    if e.min_snr > 0 and e.complete_reps == 0 and snr is not None and snr < e.min_snr and e.reps:
        # A partial kept against the noise of its last seconds, while even the largest movement is
        # within the session's typical noise: the two estimates differ, the recording is not measured.
        return refuse(f"its largest movement was only {snr:.1f} times the measurement noise "
                      f"({e.min_snr:g} needed)", noisy_advice)
    if e.min_snr > 0 and e.reps == 0:
        if e.discarded_for_noise:
            return refuse(f"its {e.discarded_for_noise} movement(s) were within the measurement noise", noisy_advice)
        if (math.isfinite(e.noise_deg) and math.isfinite(e.complete_rep_deg)
                and e.complete_rep_deg < e.min_snr * e.noise_deg):
            return refuse("the measurement noise is larger than a whole repetition", noisy_advice)
    return Measurement(MEASURED, None, None, snr)
