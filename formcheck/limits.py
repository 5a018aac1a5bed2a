"""Every bound formcheck puts on what it reads, in one place: clinical ranges and input limits.

Clinical ranges bound the numbers in exercise definitions and prescriptions. A number outside
them (or NaN, or infinity) is a typing slip or a tampered file, never a clinical choice: a
limit of ``nan`` or ``inf`` would switch a safety rule off for good, a negative duration would
make it fire on every landmark jump. Each range says why it has the width it has.

Input limits bound what the analysis accepts before any work starts, so a hostile or broken
file costs a clear one-line refusal, not gigabytes of memory or a traceback. README's
"Security and privacy" section lists them.

Pure: no I/O. Callers turn ``range_problem``'s text into their own error (SpecError,
PrescriptionError, TraceError, VideoError) naming the field.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    unit: str

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


# -- clinical ranges ----------------------------------------------------------------------------
# Angles: every signal is an angle between segments or against the vertical, so a full turn
# either way bounds any threshold or target (signals.py reports -180..360 at most).
ANGLE_DEG = Range(-360.0, 360.0, "degrees")
# Angular speeds (signals "*_speed_deg_s"): the fastest human joint rotations measured
# (a baseball pitch's shoulder, about 7000 deg/s) lie well inside; a rehab limit is far lower.
SPEED_DEG_S = Range(0.0, 10000.0, "degrees per second")
# A range of motion or a noise floor in degrees: a non-negative part of a full turn.
ROM_DEG = Range(0.0, 360.0, "degrees")
# Debounces and minimum durations of a rule or a rep: beyond a minute a rule could never fire
# within one repetition, and a rep would never count.
DEBOUNCE_S = Range(0.0, 60.0, "seconds")
# A prescribed hold: child's pose and stretches hold 30-60 s; ten minutes is beyond any program.
HOLD_S = Range(0.0, 600.0, "seconds")
# Rest between sets: up to 15 minutes (the rehab guides give 30 s to 2 min).
REST_S = Range(0.0, 900.0, "seconds")
# Tempo guidance, seconds per rep: from a brisk half second to a one-minute slow rep.
TEMPO_S = Range(0.5, 60.0, "seconds")
# Signal-to-noise multiples: 100x noise is already far beyond any real rep.
SNR = Range(0.0, 100.0, "times the noise")
# The weeks after surgery an exercise is usually done in: up to ten years.
WEEKS = Range(0.0, 520.0, "weeks")
# Counts in a prescription: sets a session, reps a set, sessions a week (three a day at most).
SETS = Range(1, 10, "sets")
REPS = Range(1, 100, "reps")
SESSIONS_PER_WEEK = Range(1, 21, "sessions")
SEVERITIES = ("info", "warning", "danger")  # the only values a rule's severity may take, mildest first


def most_severe_first(severity: str) -> int:
    """Sort key putting the most severe first (danger, warning, info; anything else after them):
    the live cue shown and the patient's summary lines come in this order."""
    return SEVERITIES[::-1].index(severity) if severity in SEVERITIES else len(SEVERITIES)


def range_problem(value: object, allowed: Range, whole: bool = False) -> str | None:
    """None when ``value`` is a finite number inside ``allowed``; else what is wrong, in words."""
    kinds = (int,) if whole else (int, float)
    kind = "whole number" if whole else "number"
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) or value not in allowed:
        return f"must be a {kind} from {allowed.low:g} to {allowed.high:g} {allowed.unit}, got {value!r}"
    return None


# -- input limits -------------------------------------------------------------------------------
# Video: 4096 pixels on the longer side covers 4K (3840 x 2160) and DCI 4K phone clips; the pose
# model sees a 256-pixel crop anyway, and an 8192 x 8192 frame alone is 200 MB decoded.
MAX_VIDEO_SIDE_PX = 4096
# A home exercise session lasts minutes; three hours covers a whole program recorded in one go,
# with room to spare (memory stays flat however long the video: frames are streamed).
MAX_DURATION_S = 3 * 60 * 60
# Frames: three hours at 60 fps (phones record at most 60 fps in their usual modes; 120/240 fps
# slow motion clips are a few seconds long).
MAX_FRAMES = MAX_DURATION_S * 60
MAX_FPS = 1000.0  # a frame rate above this is not a recording
# Traces: about 2.2 KB a frame with world landmarks and back outlines (the validation traces),
# so 512 MB is about two hours at 30 fps: for full traces the size binds before MAX_FRAMES, and
# parsing that much JSON already takes a few GB of memory. A trace's JSON nests five deep
# (document, frames, frame, landmarks, landmark); nesting beyond Python's recursion limit
# (about a thousand) is refused as not a trace.
MAX_TRACE_BYTES = 512 * 1024 * 1024
