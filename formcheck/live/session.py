"""A live session: webcam frames in, annotated frames out, results to the page and the database.

A ``LiveSession`` is one patient doing one exercise in front of the webcam. It is made to be
driven from three threads at once, and it owns no Streamlit code, so tests drive it directly:

* the camera thread (streamlit-webrtc's frame callback) calls ``on_frame(frame, t_ms)``, which
  runs the pipeline, draws the overlay and returns the frame to show. It never waits: a frame
  that arrives while the previous one is still being processed gets the previous annotated
  frame back (dropped, never queued), so the picture stays live however slow the machine;
* the page (a Streamlit fragment re-run every half second) reads ``snapshot()``: a frozen
  ``LiveSnapshot`` with the counts, phase, set-up guidance, the cue to show and the fps;
* the page's "Finish" button, or the clean-up of an abandoned session, calls ``stop()``.

A session made with ``wait_for_go=True`` counts nothing until the page's 3-2-1 has ended and
the page calls ``start_counting()``: until then frames only check the view and the start
position (``LiveSnapshot.view_ok``, ``phase``, the form cues), and no rep, trace or progress is
kept. The set's engine, trace and autosaves start at the go, with the patient in position: the
engine is first given the poses of the countdown (``PREWARM_S``), so it has the start posture
and counts a movement that begins at "Go".

Nothing is lost when the tab closes or the camera drops: the session's row is created with its
first frame, ``store.save_progress`` runs at most every ``autosave_every_s`` seconds, and a
session nobody has looked at or sent frames to for ``stale_after_s`` is finished as
'interrupted' by ``finish_if_stale`` (``LiveRegistry.sweep`` does that for every session of the
server process). A server crash leaves the last autosave, which ``store.mark_interrupted_sessions``
closes at the next start.

Times: the engine gets each frame's own timestamp (``t_ms``, e.g. the WebRTC frame's
presentation time) made relative to the first frame; without one, or when the stream restarts
with a different clock, the monotonic clock fills in (``SessionClock``). Session times therefore
match the stored trace, the reps and the kept video.

The session's parts, each a small unit of this module: ``SessionClock`` (frame times),
``letterboxed`` (one frame size for the whole session), ``FrameRate`` (the fps the page shows),
``Autosave`` (when progress is saved). The form cues are in ``cues.py``.
"""
from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np

from ..backends import PoseBackend
from ..pipeline import Pipeline
from ..render import draw
from ..spec import ExerciseSpec
from ..store import VIDEO_DIR, Store, StoreError
from ..types import FrameResult, PoseFrame, Rep, SessionResult
from ..video import H264Writer
from .cues import CueHolder, rep_feedback, with_cue_first
from .measurable import OutlineWatch
from .setup_guide import COUNTDOWN_S

log = logging.getLogger(__name__)

STALE_AFTER_S = 60.0  # no frames and no page polls for this long: the tab or camera is gone
FPS_WINDOW_S = 2.0  # the achieved frame rate is measured over this window
# Before the go, the poses of the last this many seconds are kept to start the set's engine with:
# the countdown itself, during which the page saw the patient still in the start position (leaving
# it restarts the set-up), more than the engine's one second of start posture (engine.BASELINE_S).
PREWARM_S = float(COUNTDOWN_S)
CLOCK_JUMP_MS = 2000.0  # frame clock and monotonic clock disagree by more: the stream restarted
# Said once, calmly, when the kept video cannot be written any more: counting is unaffected.
VIDEO_STOPPED_NOTE = ("The video stopped recording, but your reps are still counted and saved. "
                      "The part recorded so far is kept.")

BackendOrFactory = PoseBackend | Callable[[], PoseBackend]


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
    cue: str  # the form cue to show (held for cues.CUE_HOLD_S after the rule stops firing), or ""
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
    counting: bool = True  # False while a ``wait_for_go`` session waits for ``start_counting()``


class LiveSession:
    """One live exercise session: see the module docstring for the threads involved.

    ``backend`` is a pose backend or a factory making one (called on the first frame, on the
    camera thread: MediaPipe keeps tracking state, so every session needs its own). The session's
    database row is created on the first frame, so opening the page without exercising stores
    nothing. ``clock`` is injectable for tests (seconds, monotonic). ``wait_for_go``: count
    nothing until ``start_counting()`` (see the module docstring).
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
        wait_for_go: bool = False,
    ):
        self.spec = spec
        self.store = store
        self.patient_id = patient_id
        self.pain_before = pain_before
        self.keep_video = keep_video
        self._autosave_plan = Autosave(autosave_every_s)
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._backend: PoseBackend | None
        self._backend_factory: Callable[[], PoseBackend] | None
        if hasattr(backend, "detect"):  # a backend (mypy cannot narrow on hasattr: the cast says it)
            self._backend, self._backend_factory = cast(PoseBackend, backend), None
        elif callable(backend):
            self._backend, self._backend_factory = None, backend
        else:
            raise TypeError("backend must be a pose backend or a function returning one")

        self._busy = threading.Lock()  # held while a frame is processed; never waited for by on_frame
        self._lock = threading.Lock()  # guards the fields the page reads
        self._stop_lock = threading.Lock()  # one stop() at a time

        self._pipeline: Pipeline | None = None
        self._frame_size: tuple[int, int] | None = None  # (width, height) of the first frame: see _same_size
        self._video: H264Writer | None = None
        self.session_id: int | None = None
        self.video_path: Path | None = None
        self._result: SessionResult | None = None
        self._saved = False
        self._status = "waiting"
        self._counting = not wait_for_go  # reps, trace and autosaves are kept (see start_counting)
        self._before_go: deque[PoseFrame] = deque()  # the last PREWARM_S of poses while waiting

        self._last_activity = clock()  # last frame or page poll (for staleness)
        self._last_frame_at: float | None = None
        self._problem = ""
        self._video_note = ""
        self._logged: set[type] = set()
        self._session_clock = SessionClock()
        # what the page sees
        self._latest: FrameResult | None = None
        self._last_annotated: np.ndarray | None = None
        self._frames = 0
        self._dropped = 0
        self._fps = FrameRate()
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
        except Exception as exc:  # the camera thread must survive anything
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
        pipeline = self._pipeline
        assert pipeline is not None, "_begin() made it (or raised)"
        frame_bgr = self._same_size(frame_bgr)
        t = self._session_clock.session_ms(t_ms, arrived)
        if self._counting:
            result = pipeline.process_image(frame_bgr, t)
        else:
            result = uncounted(self._watch(frame_bgr, t))
        now = self._clock()
        shown = self._update_cue(result, now)
        with self._lock:
            self._fps.tick(now)  # the page's frame rate (no longer drawn on the patient's picture)
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
        if self._counting and self._autosave_plan.due(now):
            self._autosave(now)
        return annotated

    def _keep_frame(self, annotated: np.ndarray, t_ms: float) -> None:
        """Add the frame to the kept video. A video that cannot be written is closed with what it
        has and not kept any further; it never reads as a failure of the analysis."""
        video = self._video
        assert video is not None, "called only while a video is kept"
        try:
            video.write(annotated, t_ms)
            return
        except Exception:  # the video is optional; the counting must go on
            log.exception("live session %s: the kept video could not be written; it stops here", self.session_id)
        self._video = None
        try:
            video.close()
        except Exception:
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
                assert self._backend_factory is not None, "__init__ keeps a backend or its factory"
                self._backend = self._backend_factory()
        except Exception as exc:
            with self._lock:
                self._problem = str(exc) or type(exc).__name__
            raise
        self._pipeline = self._new_pipeline()
        if self.keep_video:
            self.video_path = self.store.data_dir / VIDEO_DIR / f"session-{self.session_id}.mp4"
            # Each frame at its session time (a variable frame rate), so the video's clock matches
            # the reps' times even when frames were dropped; the patient's video: owner only.
            self._video = H264Writer(self.video_path, private=True)
        with self._lock:
            self._status = "live"
            self._problem = ""

    def _new_pipeline(self) -> Pipeline:
        """The set's pipeline (recording the trace), or before the go one that only watches."""
        return Pipeline(self.spec, backend=self._backend, record_trace=self._counting)

    def _watch(self, frame_bgr: np.ndarray, t_ms: float) -> FrameResult:
        """Before the go: the frame through the watching pipeline, its pose kept for the set's engine."""
        pipeline = self._pipeline
        assert pipeline is not None, "_process() began the session"
        pose_frame = pipeline.detect(frame_bgr, self._frames, t_ms)
        self._before_go.append(pose_frame)
        while t_ms - self._before_go[0].t_ms > 1000.0 * PREWARM_S:
            self._before_go.popleft()
        return pipeline.process_pose_frame(pose_frame)

    def start_counting(self) -> None:
        """The set starts now (the page's 3-2-1 has ended): from the next frame reps are counted,
        the trace recorded and progress saved, by an engine that starts with the patient in the
        start position. Waits for the frame being processed; does nothing when the session
        counts already or is finished."""
        with self._busy:
            if self._counting or self._result is not None:
                return
            self._counting = True
            if self._pipeline is not None:
                self._pipeline = self._new_pipeline()  # the same pose model, tracking on
                for index, pose_frame in enumerate(self._before_go):  # the countdown: the start posture
                    self._pipeline.process_pose_frame(replace(pose_frame, index=index))
            self._before_go.clear()

    @property
    def counting(self) -> bool:
        return self._counting

    def _same_size(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The frame scaled (and, if its shape differs, padded) to the size of the session's first frame.

        WebRTC lowers the camera resolution when the machine or the network is busy (e.g. two
        live sessions on a small laptop) and raises it again later. MediaPipe's pose graph cannot
        take a change of frame size: its segmentation smoothing fails, and then every later frame
        fails too, so the session would silently stop counting. One size for the whole session
        also keeps the engine's pixel geometry, the trace and the kept video consistent. The
        scale is uniform (letterboxed), so angles are not distorted.
        """
        if self._frame_size is None:
            self._frame_size = (frame_bgr.shape[1], frame_bgr.shape[0])
        return letterboxed(frame_bgr, *self._frame_size)

    def _update_cue(self, result: FrameResult, now: float) -> FrameResult:
        """Update the held cue; return the FrameResult to draw, with that cue first."""
        with self._lock:
            cue, _ = self._cues.update(result.active_flags, now)
        return with_cue_first(result, cue)

    def _describe_rep(self, rep: Rep, complete_reps: int) -> LastRep:
        return LastRep(complete_reps, rep.side, rep.complete, rep.peak_deg, rep.rom_deg, rep.hold_s,
                       rep_feedback(rep, self.spec.messages), end_s=rep.end_s)

    def _autosave(self, now: float) -> None:
        """Save what a finish right now would give (the engine itself is left untouched)."""
        self._autosave_plan.last_save = now
        session_id = self.session_id
        assert session_id is not None, "the first frame started the session"
        try:
            self.store.save_progress(session_id, self._current_result())
            problem = ""
        except StoreError as exc:
            problem = f"Your progress could not be saved: {exc}"
            log.warning("live session %s: autosave failed: %s", self.session_id, exc)
        except Exception as exc:  # keep exercising; the final save will tell
            problem = f"Your progress could not be saved ({type(exc).__name__})."
            log.exception("live session %s: autosave failed", self.session_id)
        with self._lock:
            self._problem = problem

    def _current_result(self) -> SessionResult:
        # finish() closes open reps and flags, so it runs on a copy (a few ms every few seconds).
        assert self._pipeline is not None, "autosaved only after the first frame"
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
                fps=self._fps.per_second(now),
                process_ms=float(np.mean(self._process_ms)) if self._process_ms else 0.0,
                seconds=self._session_clock.seconds,
                last_frame_age_s=None if self._last_frame_at is None else now - self._last_frame_at,
                finished=self._result is not None,
                status=self._status,
                problem=self._problem,
                not_measured=self._outline.message,
                video_note=self._video_note,
                counting=self._counting,
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
            dirty = self._autosave_plan.behind(self._last_frame_at)
        if not (quiet and dirty) or not self._busy.acquire(blocking=False):
            return False
        try:
            if self._result is not None or self._pipeline is None or not self._counting:
                return False
            self._autosave(now)
            return True
        finally:
            self._busy.release()

    @property
    def autosave_every_s(self) -> float:
        return self._autosave_plan.every_s

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
        if self._pipeline is None or not self._counting:  # no frame, or none of the set: nothing counted
            return Pipeline(self.spec, backend=None, record_trace=False).finish()
        return self._pipeline.finish()

    def _close_resources(self) -> None:
        if self._video is not None:
            try:
                self._video.close()
            except Exception:  # a broken video must not lose the session
                log.exception("live session %s: the video could not be finished", self.session_id)
                self.video_path = None
            self._video = None
        if self._backend is not None:
            try:
                self._backend.close()
            except Exception:
                log.exception("live session %s: the pose model did not close cleanly", self.session_id)

    def _save_final(self, pain_after: int | None, status: str) -> None:
        if self.session_id is None:
            self._saved = True  # nothing was recorded, nothing to store
            return
        video = self.video_path if self.video_path is not None and self.video_path.is_file() else None
        trace = self._pipeline.trace_json() if self._pipeline is not None else None
        assert self._result is not None, "stop() finished the pipeline first"
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


# -- the session's parts --------------------------------------------------------------------------


def uncounted(result: FrameResult) -> FrameResult:
    """A frame's result before the set's go: what the view check and the phase say, no count."""
    return replace(result, rep_count=0, rep_count_by_side={side: 0 for side in result.rep_count_by_side},
                   partial_rep_count=0, new_rep=None)


class SessionClock:
    """Session time (ms) from each frame's own timestamp: relative to the first frame and strictly
    increasing. A frame without a time of its own takes the monotonic clock's; when the two clocks
    disagree by more than ``CLOCK_JUMP_MS`` (the stream restarted with a new clock, or paused) the
    session time continues from the monotonic clock."""

    def __init__(self) -> None:
        self.last_ms = -math.inf  # the session time of the last frame (-inf before the first)
        self._last_frame_clock_ms: float | None = None
        self._last_mono_ms: float | None = None
        self._offset_ms = 0.0  # session time = frame time + offset

    @property
    def seconds(self) -> float:
        """Session time of the last frame in seconds (0 before the first)."""
        return max(self.last_ms, 0.0) / 1000.0

    def session_ms(self, t_ms: float | None, arrived: float) -> float:
        """The session time (ms) of a frame stamped ``t_ms`` (or None) that arrived at ``arrived``
        (monotonic clock, seconds)."""
        mono_ms = 1000.0 * arrived
        if t_ms is None or not math.isfinite(t_ms):
            t_ms = mono_ms  # no clock of its own: the monotonic clock is the frame clock
        if self._last_frame_clock_ms is None or self._last_mono_ms is None:  # (both set together)
            self._offset_ms = -t_ms
        else:
            by_frame = t_ms - self._last_frame_clock_ms
            by_clock = mono_ms - self._last_mono_ms
            if by_frame <= 0 or abs(by_frame - by_clock) > CLOCK_JUMP_MS:
                # The stream restarted (new clock) or paused: continue from the monotonic clock.
                self._offset_ms = self.last_ms + max(by_clock, 1.0) - t_ms
        self._last_frame_clock_ms, self._last_mono_ms = t_ms, mono_ms
        session_t = max(t_ms + self._offset_ms, self.last_ms + 1.0, 0.0)
        self.last_ms = session_t
        return session_t


def letterboxed(frame_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """The frame scaled uniformly (angles undistorted) to fit ``width`` x ``height`` pixels,
    centred on black where its shape differs; the frame itself when it has that size already."""
    import cv2

    frame_h, frame_w = frame_bgr.shape[:2]
    if (frame_w, frame_h) == (width, height):
        return frame_bgr
    scale = min(width / frame_w, height / frame_h)
    new_w, new_h = min(width, max(1, round(frame_w * scale))), min(height, max(1, round(frame_h * scale)))
    scaled = cv2.resize(frame_bgr, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if (new_w, new_h) == (width, height):
        return scaled
    canvas = np.zeros((height, width, 3), dtype=frame_bgr.dtype)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = scaled
    return canvas


class FrameRate:
    """Frames processed per second over the last ``window_s`` seconds (monotonic clock)."""

    def __init__(self, window_s: float = FPS_WINDOW_S):
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float) -> None:
        """A frame was processed at ``now``."""
        self._times.append(now)
        while now - self._times[0] > self.window_s:
            self._times.popleft()

    def per_second(self, now: float) -> float:
        """The rate over the window; 0 until two frames were seen, and once none came for ``window_s``."""
        times = self._times
        if not times or now - times[-1] >= self.window_s or len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])


@dataclass
class Autosave:
    """When the session saves its progress: at most every ``every_s`` seconds while frames come
    (``due``), and once more after the camera went quiet if frames came after the last save
    (``behind``, see ``LiveSession.flush_if_idle``). Monotonic clock, seconds."""

    every_s: float
    last_save: float | None = None

    def due(self, now: float) -> bool:
        return self.last_save is None or now - self.last_save >= self.every_s

    def behind(self, last_frame_at: float | None) -> bool:
        """Frames arrived after the last save (or there was none yet)."""
        return last_frame_at is not None and (self.last_save is None or last_frame_at > self.last_save)
