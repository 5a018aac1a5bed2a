"""What the live page says to the patient, decided without Streamlit: the big message box, the
set's end and rest timer, and the spoken lines.

The live page (formcheck.ui.live_view) polls ``LiveSession.snapshot()`` twice a second and calls these pure
functions with it; they hold no clock of their own (``now_s`` is passed in), so the rules are
tested without a browser:

* ``set_progress``: reps of the set under way against its target; once the target is reached the
  set is announced as finished and the rest timer runs (``rest_s`` from the prescription), so a
  patient is never told "keep going" at 10 of 10;
* ``main_message``: the one message in the big box, in order of importance: a danger cue, the
  finished set, any other form cue, the set-up guidance, the last try that was not counted (with
  its advice, never next to a green "Good"), then "Good";
* ``Announcer``: the lines spoken aloud (browser speech synthesis) for a patient on the floor who
  cannot read the screen: each new form cue once, the count after each rep, the set's end. One
  line at a time and at most one per ``MIN_GAP_S``; a count waiting for its turn is replaced by
  the newer count, so the voice never falls behind the patient.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# A set when no prescription says otherwise takes the prescription's own defaults: one source.
from ..clinic.prescription import DEFAULT_REPS, DEFAULT_REST_S

# Spoken lines start at least this far apart: a two-word count takes about 0.6 s to say and a
# cue about 2-3 s; the browser queues nothing (the page speaks only when the voice is idle), so
# this only keeps the voice from chattering at every half-second poll.
MIN_GAP_S = 1.5
LAST_TRY_SHOWN_S = 4.0  # a try that was not counted is explained for this long after it ended

GOOD = "Good. Keep going at your own pace."


@dataclass(frozen=True)
class SetPlan:
    """The set the patient is about to do: from the prescription, or the patient's own number."""

    reps: int = DEFAULT_REPS  # reps (or holds) in the set
    rest_s: float = DEFAULT_REST_S  # rest after it
    more_sets: bool = False  # another set of this exercise follows today
    label: str = "This set"


@dataclass(frozen=True)
class SetProgress:
    """The set under way, as the page shows it."""

    reps: int  # complete reps in this set
    target: int  # reps (or holds) the set asks for
    finished: bool  # the target is reached
    rest_left_s: float  # seconds of rest still to take (0 when not finished or rested)
    headline: str  # e.g. "8 of 10" or "10 of 10 done"


def set_progress(reps: int, target: int, finished_at_s: float | None, now_s: float, rest_s: float) -> SetProgress:
    """Where the set stands; ``finished_at_s`` is when the page first saw the target reached (or None)."""
    finished = target > 0 and reps >= target
    rest_left = 0.0
    if finished and finished_at_s is not None:
        rest_left = max(0.0, rest_s - (now_s - finished_at_s))
    headline = f"{reps} of {target} done" if finished else f"{reps} of {target}"
    return SetProgress(reps, target, finished, rest_left, headline)


def set_finished_message(progress: SetProgress, more_sets: bool) -> str:
    """The big box once the set is finished (short: it sits beside the camera on a laptop screen)."""
    done = f"Set finished: {progress.reps} of {progress.target}."
    if progress.rest_left_s > 0:
        return f"{done} Well done! Rest now: {math.ceil(progress.rest_left_s)} s."
    if more_sets:
        return f"{done} Rest is over: press Finish, then start the next set."
    return f"{done} Press Finish when you are ready."


@dataclass(frozen=True)
class Message:
    text: str
    kind: str  # css kind: danger | warning | info | good | setup | waiting | done


# No frame for this long: the camera picture is lost (stopped, unplugged, tab hidden). The camera
# sends 15-30 frames a second and a busy machine delays one by well under a second, so 3 s of
# silence is a stopped camera, not a slow one.
CAMERA_LOST_AFTER_S = 3


def camera_seen(frames: int, last_frame_age_s: float | None) -> bool:
    """Frames are arriving: at least one came, and the last one within ``CAMERA_LOST_AFTER_S``."""
    return frames > 0 and (last_frame_age_s or 0) <= CAMERA_LOST_AFTER_S


def main_message(*, frames: int, last_frame_age_s: float | None, cue: str, cue_severity: str, view_ok: bool,
                 view_message: str, set_message: str = "", last_try_advice: str = "",
                 last_try_age_s: float | None = None, countdown_s: int = 0, in_position: bool = True) -> Message:
    """The one message of the big box (see the module docstring for the order).

    Before the set starts (``setup_guide.Readiness``): ``in_position`` False asks the patient to
    get into the start position (with the view check's advice when it has one); ``countdown_s``
    3, 2, 1 is the countdown.
    """
    if frames == 0:
        return Message("Waiting for the camera picture. If the camera is off, press START under the video.", "waiting")
    if last_frame_age_s is not None and last_frame_age_s > CAMERA_LOST_AFTER_S:
        return Message("No picture from the camera. Press START to continue, or finish the session below.", "waiting")
    if not in_position:
        return Message(view_message if not view_ok and view_message else
                       "Get into the start position and keep still: counting starts after 3, 2, 1.", "setup")
    if countdown_s > 0:
        return Message(f"Starting in {countdown_s}…", "countdown")
    if cue and cue_severity == "danger":
        return Message(cue, "danger")
    if set_message:
        return Message(set_message, "done")
    if cue:
        return Message(cue, cue_severity or "warning")
    if not view_ok and view_message:
        return Message(view_message, "setup")
    if last_try_advice and last_try_age_s is not None and last_try_age_s < LAST_TRY_SHOWN_S:
        return Message(f"Not counted. {last_try_advice}", "info")
    return Message(GOOD, "good")


@dataclass
class Announcer:
    """Decides the spoken lines from successive page polls (one per tab and live session).

    ``update`` returns the line to say now, or "" (nothing new, the voice is still busy, or the
    last line started less than ``min_gap_s`` ago). Each event is said once: the rep count and
    the number of form cues started are remembered, and a line that had to wait is said later
    unless something newer of its kind replaced it.
    """

    min_gap_s: float = MIN_GAP_S
    heard_reps: int = 0
    heard_cues: int = 0
    said_set_end: bool = False
    last_said_at: float = -math.inf
    _pending_cue: str = ""
    _pending_count: str = ""
    _pending_set_end: str = ""
    _said_once: set = field(default_factory=set)
    _pending_once: str = ""

    def once(self, key: str, text: str) -> None:
        """Queue a line said once per ``key`` in this set (e.g. the 3-2-1 before counting)."""
        if key not in self._said_once:
            self._said_once.add(key)
            self._pending_once = text

    def update(self, *, reps: int, cue_events: int, cue: str, set_finished: bool, set_end_line: str,
               now_s: float, voice_busy: bool = False) -> str:
        if cue_events > self.heard_cues:
            self.heard_cues = cue_events
            if cue:
                self._pending_cue = cue  # the newest cue replaces one not said yet
        if reps > self.heard_reps:
            self.heard_reps = reps
            self._pending_count = str(reps)
        elif reps < self.heard_reps:  # a new set (counts restart)
            self.heard_reps, self._pending_count = reps, ""
        if set_finished and not self.said_set_end:
            self.said_set_end = True
            self._pending_set_end = set_end_line
        if voice_busy or now_s - self.last_said_at < self.min_gap_s:
            return ""
        # A form cue first (safety); a count joined with the set's end it completes.
        line = ""
        if self._pending_once:
            line, self._pending_once = self._pending_once, ""
        elif self._pending_cue:
            line, self._pending_cue = self._pending_cue, ""
        elif self._pending_count and self._pending_set_end:
            line, self._pending_count, self._pending_set_end = f"{self._pending_count}. {self._pending_set_end}", "", ""
        elif self._pending_count:
            line, self._pending_count = self._pending_count, ""
        elif self._pending_set_end:
            line, self._pending_set_end = self._pending_set_end, ""
        if line:
            self.last_said_at = now_s
        return line


# The page's voice: the browser's own speech synthesis (offline, the system's voices). Each line
# has an id; the script runs again whenever the page redraws it, so it remembers the ids it has
# taken (on ``window``) and says each line once. It never interrupts itself: a line that comes
# while the voice is busy waits, and only the newest waiting line is kept. Without speech
# synthesis (or without any voice) it does nothing, and the page's tones remain.
_SPEECH_JS = """<script>
(() => {
  const w = window, id = %(id)d, text = %(text)s;
  const synth = w.speechSynthesis;
  if (!synth || typeof w.SpeechSynthesisUtterance !== "function") return;
  w.fcSpeech = w.fcSpeech || {taken: new Set(), waiting: null, busy: false};
  const st = w.fcSpeech;
  if (st.taken.has(id)) return;
  st.taken.add(id);
  const say = (line) => {
    st.busy = true;
    const u = new w.SpeechSynthesisUtterance(line);
    u.lang = %(lang)s; u.rate = 0.95;
    u.onend = u.onerror = () => {
      st.busy = false;
      if (st.waiting) { const next = st.waiting; st.waiting = null; say(next); }
    };
    synth.speak(u);
  };
  if (st.busy || synth.speaking) { st.waiting = text; } else { say(text); }
})();
</script>"""


def speech_html(line_id: int, text: str, lang: str = "en") -> str:
    """The snippet that says ``text`` once (see _SPEECH_JS); ``line_id`` increases with each new line."""
    import json

    return _SPEECH_JS % {"id": int(line_id), "text": json.dumps(text).replace("</", "<\\/"), "lang": json.dumps(lang)}
