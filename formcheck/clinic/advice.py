"""What the patient is told around a session, and the pain numbers that decide it.

Pure data and functions (no Streamlit): the patient's page shows these.

* ``CLEARANCE_NOTE``: who the exercises are for, shown before the session.
* ``HIGH_PAIN_BEFORE``: a pain rating before the session at or above which the patient is
  asked to check with their physiotherapist first (``high_pain_before``).
* ``PAIN_RISE``: a rise in pain during a session at or above which the patient is asked to
  rest and tell their physiotherapist if it does not settle (``pain_rose``).
"""
from __future__ import annotations

CLEARANCE_NOTE = (
    "**For patients cleared by their surgeon for these exercises.** These gentle floor exercises "
    "are typically started about 8-12 weeks after lumbar (back) surgery. This app counts your "
    "repetitions and reminds you about your form; it does not replace your physiotherapist. "
    "Follow their advice, and stop if an exercise hurts more than usual."
)

# On the 0-10 numeric rating scale, 7 and above is "severe" pain (the usual cut-off: 1-3 mild,
# 4-6 moderate, 7-10 severe); exercising through severe pain after spine surgery is a reason to
# ask the physiotherapist first.
HIGH_PAIN_BEFORE = 7
HIGH_PAIN_ADVICE = ("Your pain is high today. Check with your physiotherapist before exercising, "
                    "and stop if it gets worse.")

# A rise of 2 points on the 0-10 scale is about the smallest change patients with back pain feel
# as a real change (the minimal clinically important difference reported for the NRS is about
# 2 points, or 30 %); a smaller rise is within the scale's noise.
PAIN_RISE = 2
PAIN_ROSE_ADVICE = ("Your pain went up during the session. Rest, and if it has not settled within a few "
                    "hours, tell your physiotherapist before your next session.")


def high_pain_before(pain_before: int | None) -> bool:
    """The pain before the session is severe (``HIGH_PAIN_BEFORE`` or more)."""
    return pain_before is not None and pain_before >= HIGH_PAIN_BEFORE


def pain_rose(pain_before: int | None, pain_after: int | None) -> bool:
    """The pain went up by ``PAIN_RISE`` or more during the session (both ratings given)."""
    return pain_before is not None and pain_after is not None and pain_after - pain_before >= PAIN_RISE
