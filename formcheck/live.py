"""Live sessions: webcam frames in, annotated frames out, results to the page and the database.

A ``LiveSession`` is one patient doing one exercise in front of the webcam. It is made to be
driven from three threads at once, and it owns no Streamlit code, so tests drive it directly:

* the camera thread (streamlit-webrtc's frame callback) calls ``on_frame(frame, t_ms)``, which
  runs the pipeline, draws the overlay and returns the frame to show. It never waits: a frame
  that arrives while the previous one is still being processed gets the previous annotated
  frame back (dropped, never queued), so the picture stays live however slow the machine;
* the page (a Streamlit fragment re-run every half second) reads ``snapshot()``: a frozen
  ``LiveSnapshot`` with the counts, phase, set-up guidance, the cue to show and the fps;
* the page's "Finish" button, or the clean-up of an abandoned session, calls ``stop()``.

Nothing is lost when the tab closes or the camera drops: the session's row is created with its
first frame, ``store.save_progress`` runs at most every ``autosave_every_s`` seconds, and a
session nobody has looked at or sent frames to for ``stale_after_s`` is finished as
'interrupted' by ``finish_if_stale`` (``LiveRegistry.sweep`` does that for every session of the
server process). A server crash leaves the last autosave, which ``store.mark_interrupted_sessions``
closes at the next start.

Times: the engine gets each frame's own timestamp (``t_ms``, e.g. the WebRTC frame's
presentation time) made relative to the first frame; without one, or when the stream restarts
with a different clock, the monotonic clock fills in. Session times therefore match the stored
trace, the reps and the kept video.
"""
from __future__ import annotations

import copy
import io
import logging
import math
import threading
import time
import wave
from collections import deque
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Union

import numpy as np

from .backends import PoseBackend
from .measurable import OutlineWatch
from .outputs import make_private_dir, make_private_file
from .pipeline import Pipeline
from .render import draw
from .spec import ExerciseSpec, Rule
from .store import VIDEO_DIR, Store, StoreError
from .types import FrameResult, Rep, SessionResult

log = logging.getLogger(__name__)

SEVERITY_RANK = {"danger": 0, "warning": 1, "info": 2}  # the most severe cue is shown first
CUE_HOLD_S = 2.5  # a cue stays up at least this long, so it can be read from two metres
STALE_AFTER_S = 60.0  # no frames and no page polls for this long: the tab or camera is gone
FPS_WINDOW_S = 2.0  # the achieved frame rate is measured over this window
CLOCK_JUMP_MS = 2000.0  # frame clock and monotonic clock disagree by more: the stream restarted
# Said once, calmly, when the kept video cannot be written any more: counting is unaffected.
VIDEO_STOPPED_NOTE = ("The video stopped recording, but your reps are still counted and saved. "
                      "The part recorded so far is kept.")

BackendOrFactory = Union[PoseBackend, Callable[[], PoseBackend]]


@dataclass(frozen=True)
class LastRep:
    """What the page says about the rep just finished."""

    number: int  # complete reps so far (0 for a partial rep before any complete one)
    side: str
    complete: bool
    peak_deg: float
    rom_deg: float
    hold_s: float
    feedback: str  # "" or the exercise's partial-rep / short-hold message
    end_s: float = math.nan  # session time the rep ended (compare with LiveSnapshot.seconds)


@dataclass(frozen=True)
class LiveSnapshot:
    """What the page shows, copied out under the session's lock (safe to read on any thread)."""

    session_id: int | None  # None until the first frame created the database row
    frames: int  # frames processed
    dropped: int  # frames returned unprocessed because the previous one was still being processed
    reps: int  # complete reps
    reps_by_side: dict[str, int]
    partial_reps: int
    phase: str  # "waiting" before the first frame, then the engine's phase
    view_ok: bool
    view_message: str  # set-up guidance while view_ok is False
    cue: str  # the form cue to show (held for CUE_HOLD_S after the rule stops firing), or ""
    cue_severity: str  # "danger" | "warning" | "info" | ""
    flag_events: int  # how many times a form cue has started (the page beeps when it grows)
    last_rep: LastRep | None
    fps: float  # frames processed per second over the last FPS_WINDOW_S (0 until measured)
    process_ms: float  # mean processing time per frame (pose model + engine + overlay), recent
    seconds: float  # session time of the last frame
    last_frame_age_s: float | None  # seconds since the last frame arrived (None: none yet)
    finished: bool
    status: str  # "waiting" | "live" | the final status ("complete", "interrupted")
    problem: str  # what went wrong last (autosave, pose model), in words, or ""
    # A check this camera view cannot make (the back's outline unseen), in words for the patient,
    # or "": shown before the set so the view can be changed (see measurable.py).
    not_measured: str = ""
    video_note: str = ""  # the kept video stopped (VIDEO_STOPPED_NOTE), or ""


class LiveSession:
    """One live exercise session: see the module docstring for the threads involved.

    ``backend`` is a pose backend or a factory making one (called on the first frame, on the
    camera thread: MediaPipe keeps tracking state, so every session needs its own). The session's
    database row is created on the first frame, so opening the page without exercising stores
    nothing. ``clock`` is injectable for tests (seconds, monotonic).
    """

    def __init__(
        self,
        spec: ExerciseSpec,
        backend: BackendOrFactory,
        store: Store,
        patient_id: int,
        pain_before: int | None = None,
        keep_video: bool = False,
        autosave_every_s: float = 5.0,
        *,
        stale_after_s: float = STALE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.spec = spec
        self.store = store
        self.patient_id = patient_id
        self.pain_before = pain_before
        self.keep_video = keep_video
        self.autosave_every_s = autosave_every_s
        self.stale_after_s = stale_after_s
        self._clock = clock
        if hasattr(backend, "detect"):
            self._backend, self._backend_factory = backend, None
        elif callable(backend):
            self._backend, self._backend_factory = None, backend
        else:
            raise TypeError("backend must be a pose backend or a function returning one")

        self._busy = threading.Lock()  # held while a frame is processed; never waited for by on_frame
        self._lock = threading.Lock()  # guards the fields the page reads
        self._stop_lock = threading.Lock()  # one stop() at a time

        self._pipeline: Pipeline | None = None
        self._frame_size: tuple[int, int] | None = None  # (width, height) of the first frame: see _same_size
        self._video: _VideoWriter | None = None
        self.session_id: int | None = None
        self.video_path: Path | None = None
        self._result: SessionResult | None = None
        self._saved = False
        self._status = "waiting"

        self._last_activity = clock()  # last frame or page poll (for staleness)
        self._last_frame_at: float | None = None
        self._last_save: float | None = None
        self._problem = ""
        self._video_note = ""
        self._logged: set[type] = set()
        # timestamps
        self._last_t_ms = -math.inf
        self._last_frame_clock_ms: float | None = None
        self._last_mono_ms: float | None = None
        self._offset_ms = 0.0  # session time = frame time + offset
        # what the page sees
        self._latest: FrameResult | None = None
        self._last_annotated: np.ndarray | None = None
        self._frames = 0
        self._dropped = 0
        self._done_times: deque[float] = deque()
        self._process_ms: deque[float] = deque(maxlen=30)
        self._cues = CueHolder(spec.rules)
        self._last_rep: LastRep | None = None
        self._outline = OutlineWatch.for_spec(spec)

    # -- the camera thread ------------------------------------------------------------------------

    def on_frame(self, frame_bgr: np.ndarray, t_ms: float | None = None) -> np.ndarray:
        """Process one camera frame and return it annotated (BGR, drawn in place).

        ``t_ms`` is the frame's own timestamp in milliseconds if the source has one. Never
        blocks: if the previous frame is still being processed this frame is dropped and the
        previous annotated frame is returned. After ``stop()`` frames pass through unchanged.
        """
        arrived = self._clock()
        if not self._busy.acquire(blocking=False):
            with self._lock:
                self._dropped += 1
                self._last_activity = arrived
                previous = self._last_annotated
            return previous if previous is not None else frame_bgr
        try:
            if self._result is not None:
                return frame_bgr
            return self._process(frame_bgr, t_ms, arrived)
        except Exception as exc:  # noqa: BLE001 - the camera thread must survive anything
            if type(exc) not in self._logged:  # once per kind of error, not 30 times a second
                self._logged.add(type(exc))
                log.exception("live session %s: a frame could not be processed", self.session_id)
            with self._lock:  # frames do arrive: say so, not only "no picture from the camera"
                self._problem = self._problem or (
                    "The camera picture could not be analysed. The details are in the app's log.")
            return frame_bgr
        finally:
            self._busy.release()

    def _process(self, frame_bgr: np.ndarray, t_ms: float | None, arrived: float) -> np.ndarray:
        if self._pipeline is None:
            self._begin()
        frame_bgr = self._same_size(frame_bgr)
        t = self._session_time(t_ms, arrived)
        result = self._pipeline.process_image(frame_bgr, t)
        now = self._clock()
        shown = self._update_cue(result, now)
        self._measure_fps(now)  # the page's frame rate (no longer drawn on the patient's picture)
        annotated = draw(frame_bgr, shown, self.spec, plain=True)  # the patient's view: words, not degrees
        if self._video is not None:
            self._keep_frame(annotated, t)
        with self._lock:
            self._latest = result
            self._last_annotated = annotated
            self._frames += 1
            self._last_frame_at = arrived
            self._last_activity = arrived
            self._process_ms.append(1000.0 * (now - arrived))
            self._outline.update(result)
            if result.new_rep is not None:
                self._last_rep = self._describe_rep(result.new_rep, result.rep_count)
        if self._last_save is None or now - self._last_save >= self.autosave_every_s:
            self._autosave(now)
        return annotated

    def _keep_frame(self, annotated: np.ndarray, t_ms: float) -> None:
        """Add the frame to the kept video. A video that cannot be written is closed with what it
        has and not kept any further; it never reads as a failure of the analysis."""
        try:
            self._video.write(annotated, t_ms)
            return
        except Exception:  # noqa: BLE001 - the video is optional; the counting must go on
            log.exception("live session %s: the kept video could not be written; it stops here", self.session_id)
        video, self._video = self._video, None
        try:
            video.close()
        except Exception:  # noqa: BLE001
            log.exception("live session %s: the stopped video could not be finished", self.session_id)
            self.video_path = None
        with self._lock:
            self._video_note = VIDEO_STOPPED_NOTE

    def _begin(self) -> None:
        """First frame: create the session's database row, the backend and the pipeline.

        A failure is reported on the page (``LiveSnapshot.problem``) and retried on the next frame.
        """
        try:
            if self.session_id is None:
                self.session_id = self.store.start_session(
                    self.patient_id, self.spec.name, self.spec.title, self.spec.version, "live", self.pain_before
                )
            if self._backend is None:
                self._backend = self._backend_factory()
        except Exception as exc:
            with self._lock:
                self._problem = str(exc) or type(exc).__name__
            raise
        self._pipeline = Pipeline(self.spec, backend=self._backend, record_trace=True)
        if self.keep_video:
            self.video_path = self.store.data_dir / VIDEO_DIR / f"session-{self.session_id}.mp4"
            self._video = _VideoWriter(self.video_path)
        with self._lock:
            self._status = "live"
            self._problem = ""

    def _same_size(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The frame scaled (and, if its shape differs, padded) to the size of the session's first frame.

        WebRTC lowers the camera resolution when the machine or the network is busy (e.g. two
        live sessions on a small laptop) and raises it again later. MediaPipe's pose graph cannot
        take a change of frame size: its segmentation smoothing fails, and then every later frame
        fails too, so the session would silently stop counting. One size for the whole session
        also keeps the engine's pixel geometry, the trace and the kept video consistent. The
        scale is uniform (letterboxed), so angles are not distorted.
        """
        import cv2

        height, width = frame_bgr.shape[:2]
        if self._frame_size is None:
            self._frame_size = (width, height)
        target_w, target_h = self._frame_size
        if (width, height) == (target_w, target_h):
            return frame_bgr
        scale = min(target_w / width, target_h / height)
        new_w, new_h = min(target_w, max(1, round(width * scale))), min(target_h, max(1, round(height * scale)))
        scaled = cv2.resize(frame_bgr, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if (new_w, new_h) == (target_w, target_h):
            return scaled
        canvas = np.zeros((target_h, target_w, 3), dtype=frame_bgr.dtype)
        top, left = (target_h - new_h) // 2, (target_w - new_w) // 2
        canvas[top:top + new_h, left:left + new_w] = scaled
        return canvas

    def _session_time(self, t_ms: float | None, arrived: float) -> float:
        """The frame's time relative to the first frame (ms), strictly increasing."""
        mono_ms = 1000.0 * arrived
        if t_ms is None or not math.isfinite(t_ms):
            t_ms = mono_ms  # no clock of its own: the monotonic clock is the frame clock
        if self._last_frame_clock_ms is None:
            self._offset_ms = -t_ms
        else:
            by_frame = t_ms - self._last_frame_clock_ms
            by_clock = mono_ms - self._last_mono_ms
            if by_frame <= 0 or abs(by_frame - by_clock) > CLOCK_JUMP_MS:
                # The stream restarted (new clock) or paused: continue from the monotonic clock.
                self._offset_ms = self._last_t_ms + max(by_clock, 1.0) - t_ms
        self._last_frame_clock_ms, self._last_mono_ms = t_ms, mono_ms
        session_t = max(t_ms + self._offset_ms, self._last_t_ms + 1.0, 0.0)
        self._last_t_ms = session_t
        return session_t

    def _update_cue(self, result: FrameResult, now: float) -> FrameResult:
        """Update the held cue; return the FrameResult to draw, with that cue first."""
        with self._lock:
            cue, _ = self._cues.update(result.active_flags, now)
        if cue and (not result.cues or result.cues[0] != cue):
            return replace(result, cues=(cue, *(c for c in result.cues if c != cue)))
        return result

    def _measure_fps(self, now: float) -> float:
        with self._lock:
            self._done_times.append(now)
            while now - self._done_times[0] > FPS_WINDOW_S:
                self._done_times.popleft()
            return _rate(self._done_times)

    def _describe_rep(self, rep: Rep, complete_reps: int) -> LastRep:
        messages = self.spec.messages
        feedback = ""
        if not rep.complete:
            feedback = messages.get("partial_rep", "Almost there: go a little further each time, if it is comfortable.")
        elif "short_hold" in rep.flags:
            feedback = messages.get("short_hold", "Hold the top position a little longer.")
        return LastRep(complete_reps, rep.side, rep.complete, rep.peak_deg, rep.rom_deg, rep.hold_s, feedback,
                       end_s=rep.end_s)

    def _autosave(self, now: float) -> None:
        """Save what a finish right now would give (the engine itself is left untouched)."""
        self._last_save = now
        try:
            self.store.save_progress(self.session_id, self._current_result())
            problem = ""
        except StoreError as exc:
            problem = f"Your progress could not be saved: {exc}"
            log.warning("live session %s: autosave failed: %s", self.session_id, exc)
        except Exception as exc:  # noqa: BLE001 - keep exercising; the final save will tell
            problem = f"Your progress could not be saved ({type(exc).__name__})."
            log.exception("live session %s: autosave failed", self.session_id)
        with self._lock:
            self._problem = problem

    def _current_result(self) -> SessionResult:
        # finish() closes open reps and flags, so it runs on a copy (a few ms every few seconds).
        return copy.deepcopy(self._pipeline.engine).finish()

    # -- the page ---------------------------------------------------------------------------------

    def snapshot(self) -> LiveSnapshot:
        """The latest state for the page; cheap, thread-safe."""
        now = self._clock()
        with self._lock:
            latest = self._latest
            cue, severity = self._cues.current(now)
            return LiveSnapshot(
                session_id=self.session_id,
                frames=self._frames,
                dropped=self._dropped,
                reps=latest.rep_count if latest else 0,
                reps_by_side=dict(latest.rep_count_by_side) if latest else {s: 0 for s in self.spec.rep.sides},
                partial_reps=latest.partial_rep_count if latest else 0,
                phase=latest.phase if latest else "waiting",
                view_ok=latest.view_ok if latest else False,
                view_message=latest.view_message if latest else "",
                cue=cue,
                cue_severity=severity,
                flag_events=self._cues.started,
                last_rep=self._last_rep,
                fps=_rate(self._done_times) if self._done_times and now - self._done_times[-1] < FPS_WINDOW_S else 0.0,
                process_ms=float(np.mean(self._process_ms)) if self._process_ms else 0.0,
                seconds=max(self._last_t_ms, 0.0) / 1000.0,
                last_frame_age_s=None if self._last_frame_at is None else now - self._last_frame_at,
                finished=self._result is not None,
                status=self._status,
                problem=self._problem,
                not_measured=self._outline.message,
                video_note=self._video_note,
            )

    def touch(self) -> None:
        """The page is still showing this session (keeps it from being finished as stale).

        Also saves progress once the camera has gone quiet, so what came after the last
        autosave is not left only in memory.
        """
        with self._lock:
            self._last_activity = self._clock()
        self.flush_if_idle()

    def flush_if_idle(self, idle_s: float = 1.0) -> bool:
        """Autosave now if frames came after the last save and none for ``idle_s``; True if saved."""
        now = self._clock()
        with self._lock:
            quiet = self._last_frame_at is not None and now - self._last_frame_at >= idle_s
            dirty = self._last_frame_at is not None and (self._last_save is None or self._last_frame_at > self._last_save)
        if not (quiet and dirty) or not self._busy.acquire(blocking=False):
            return False
        try:
            if self._result is not None or self._pipeline is None:
                return False
            self._autosave(now)
            return True
        finally:
            self._busy.release()

    @property
    def finished(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> SessionResult | None:
        return self._result

    @property
    def saved(self) -> bool:
        """stop() has run and its result is in the database (or there was nothing to store)."""
        return self._saved

    # -- finishing -------------------------------------------------------------------------------

    def stop(self, pain_after: int | None = None, status: str = "complete") -> SessionResult:
        """Finish the session and store it with its trace (and kept video); return its result.

        Idempotent: later calls return the same result without saving again (unless the first
        save failed, in which case it is retried and its StoreError raised again). A session that
        never received a frame stores nothing and returns an empty result.
        """
        with self._stop_lock:
            if self._result is None:
                with self._busy:  # wait for the frame being processed, then no more frames
                    self._result = self._finish_pipeline()
                    self._close_resources()
                    with self._lock:
                        self._status = status
            if not self._saved:
                self._save_final(pain_after, status)
            return self._result

    def _finish_pipeline(self) -> SessionResult:
        if self._pipeline is None:
            return Pipeline(self.spec, backend=None, record_trace=False).finish()
        return self._pipeline.finish()

    def _close_resources(self) -> None:
        if self._video is not None:
            try:
                self._video.close()
            except Exception:  # noqa: BLE001 - a broken video must not lose the session
                log.exception("live session %s: the video could not be finished", self.session_id)
                self.video_path = None
            self._video = None
        if self._backend is not None:
            try:
                self._backend.close()
            except Exception:  # noqa: BLE001
                log.exception("live session %s: the pose model did not close cleanly", self.session_id)

    def _save_final(self, pain_after: int | None, status: str) -> None:
        if self.session_id is None:
            self._saved = True  # nothing was recorded, nothing to store
            return
        video = self.video_path if self.video_path is not None and self.video_path.is_file() else None
        trace = self._pipeline.trace_json() if self._pipeline is not None else None
        self.store.finish_session(
            self.session_id, self._result, pain_after=pain_after, status=status, video_path=video, trace_json=trace,
        )
        self._saved = True
        if self._pipeline is not None:
            self._pipeline.recorder = None  # the trace is stored; free its memory

    def is_stale(self, now: float | None = None) -> bool:
        """No frame and no page poll for ``stale_after_s`` seconds (tab closed, camera gone)."""
        now = self._clock() if now is None else now
        with self._lock:
            return self._result is None and now - self._last_activity >= self.stale_after_s

    def finish_if_stale(self, now: float | None = None) -> SessionResult | None:
        """Finish the session as 'interrupted' if it is stale; return its result, else None."""
        if not self.is_stale(now):
            return None
        return self.stop(pain_after=None, status="interrupted")


class CueHolder:
    """Which form cue the patient sees: the most severe rule firing now, or the last one for
    ``hold_s`` seconds after it stopped, so a short fault can still be read from two metres.

    Not thread-safe on its own (LiveSession calls it under its lock). Times in seconds.
    """

    def __init__(self, rules: Iterable[Rule], hold_s: float = CUE_HOLD_S):
        self.rules = {rule.code: rule for rule in rules}
        self.hold_s = hold_s
        self.started = 0  # how many times a rule started firing (a sound each time)
        self._active: frozenset[str] = frozenset()
        self._cue, self._severity, self._until = "", "", -math.inf

    def update(self, active_flags: Iterable[str], now: float) -> tuple[str, str]:
        """Take the rules firing on this frame; return (cue, severity) to show, ("", "") for none."""
        active = frozenset(active_flags)
        if active - self._active:
            self.started += 1
        self._active = active
        firing = sorted((self.rules[code] for code in active if code in self.rules),
                        key=lambda rule: (SEVERITY_RANK.get(rule.severity, 3), rule.code))
        if firing:
            self._cue, self._severity, self._until = firing[0].message, firing[0].severity, now + self.hold_s
        return self.current(now)

    def current(self, now: float) -> tuple[str, str]:
        if self._active or now < self._until:
            return self._cue, self._severity
        return "", ""


class LiveRegistry:
    """Every live session of this server process, so one whose tab closed still gets finished.

    The app keeps one (``st.cache_resource``) and calls ``sweep()`` on every page run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: list[LiveSession] = []
        self._sweeper: threading.Thread | None = None

    def start_sweeper(self, every_s: float = 15.0) -> None:
        """Sweep in a background thread too, so an abandoned session is finished (and its trace
        stored) even if nobody opens the app again before the server stops."""
        if self._sweeper is not None:
            return

        def run() -> None:
            while True:
                time.sleep(every_s)
                try:
                    self.sweep()
                except Exception:  # noqa: BLE001 - keep sweeping
                    log.exception("live session sweep failed")

        self._sweeper = threading.Thread(target=run, name="formcheck-live-sweeper", daemon=True)
        self._sweeper.start()

    def add(self, session: LiveSession) -> None:
        with self._lock:
            self._sessions.append(session)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def unfinished(self, store: Store, patient_id: int) -> list[LiveSession]:
        """The patient's sessions (in ``store``'s database) that received frames and are not
        finished, e.g. their tab was reloaded mid-set; newest first, so the page can offer to
        continue or finish them."""
        with self._lock:
            sessions = list(self._sessions)
        return [s for s in reversed(sessions) if s.patient_id == patient_id and s.store.data_dir == store.data_dir
                and s.session_id is not None and not s.finished]

    def sweep(self, now: float | None = None) -> list[LiveSession]:
        """Finish the stale sessions, forget the finished ones; return those finished now."""
        with self._lock:
            sessions = list(self._sessions)
        finished_now = []
        for session in sessions:
            try:
                session.flush_if_idle()
                if session.finish_if_stale(now) is not None:
                    finished_now.append(session)
            except StoreError:
                log.exception("could not save abandoned live session %s; will retry", session.session_id)
                continue
        with self._lock:
            self._sessions = [s for s in self._sessions if not s.saved]
        return finished_now


def webrtc_callback(session: LiveSession) -> Callable:
    """The ``video_frame_callback`` for streamlit-webrtc: av.VideoFrame in and out.

    Runs on streamlit-webrtc's worker thread. The frame's own presentation time is the session
    clock (``frame.time``, seconds, None when the stream has none).
    """
    import av

    def callback(frame: "av.VideoFrame") -> "av.VideoFrame":
        image = frame.to_ndarray(format="bgr24")
        t_ms = frame.time * 1000.0 if frame.time is not None else None
        return av.VideoFrame.from_ndarray(session.on_frame(image, t_ms), format="bgr24")

    return callback


# -- sounds -------------------------------------------------------------------------------------


def tone_wav(frequencies_hz: tuple[float, ...], note_s: float = 0.12, rate: int = 22050,
             volume: float = 0.4) -> bytes:
    """A short WAV (mono, 16 bit) playing the notes one after the other, with soft edges."""
    samples = []
    for freq in frequencies_hz:
        t = np.arange(int(rate * note_s)) / rate
        envelope = np.minimum(1.0, np.minimum(t, note_s - t) / 0.01)  # 10 ms fade in and out
        samples.append(volume * envelope * np.sin(2 * np.pi * freq * t))
    pcm = (np.concatenate(samples) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return out.getvalue()


REP_SOUND = tone_wav((660.0, 880.0))  # a rising two-note chime: rep done
FLAG_SOUND = tone_wav((440.0, 330.0, 440.0, 330.0), note_s=0.1)  # a low alternating buzz: check your form


# -- helpers ------------------------------------------------------------------------------------


def _rate(times: deque[float]) -> float:
    """Events per second from their times (oldest first)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


@dataclass
class _VideoWriter:
    """H.264 mp4 with each frame at its session time (variable frame rate), so the video's
    clock matches the reps' times even when frames were dropped."""

    path: Path
    _container: object = field(default=None, init=False)
    _stream: object = field(default=None, init=False)
    _last_pts: int = field(default=-1, init=False)

    def write(self, frame_bgr: np.ndarray, t_ms: float) -> None:
        import av
        import cv2

        h, w = frame_bgr.shape[:2]
        if self._container is None:
            make_private_dir(self.path.parent)
            make_private_file(self.path)  # the patient's video: owner only, whatever the umask
            self._container = av.open(str(self.path), mode="w")
            self._stream = self._container.add_stream("libx264", rate=30)
            self._stream.width, self._stream.height = w - w % 2, h - h % 2
            self._stream.pix_fmt = "yuv420p"
            # The encoder must count in milliseconds too: with its default 1/30 s (from rate=30)
            # PyAV rescales each frame's millisecond pts to 1/30 s, two frames less than 33 ms
            # apart (a camera faster than 30 fps, or jitter) get the same pts, and libx264
            # rejects the second with EINVAL (av.error.ArgumentError 22).
            self._stream.codec_context.time_base = Fraction(1, 1000)
            self._stream.time_base = Fraction(1, 1000)
            self._stream.options = {"preset": "veryfast", "crf": "28"}
        if (h, w) != (self._stream.height, self._stream.width):  # odd sizes; WebRTC may change the resolution
            frame_bgr = cv2.resize(frame_bgr, (self._stream.width, self._stream.height))
        pts = max(int(round(t_ms)), self._last_pts + 1)
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_bgr), format="bgr24")
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is None:
            return
        container, self._container = self._container, None
        try:
            for packet in self._stream.encode():
                container.mux(packet)
        finally:
            container.close()  # the trailer: what was written stays playable
