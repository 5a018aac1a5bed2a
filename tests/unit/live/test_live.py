"""LiveSession without a browser: real clips through the real model, and fake backends for the
threading, timing and saving rules.

The model tests drive the session with a clock that follows the clip's own timestamps, as if
the frames came from a camera in real time: autosaves and cue holds then happen at the same
moments on a fast or a slow machine.
"""
from __future__ import annotations

import json
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from formcheck.backends import BackendError, make_backend
from formcheck.backends.replay import replay
from formcheck.live import CUE_HOLD_S, CueHolder, LiveRegistry, LiveSession
from formcheck.live.session import PREWARM_S
from formcheck.pipeline import Pipeline
from formcheck.spec import load_exercise
from formcheck.store import open_store
from formcheck.ui.webrtc import webrtc_callback
from tests.support.db import write_lock_held
from tests.support.live_clips import VideoClock, clip_frames


class NoPoseBackend:
    """Finds nobody; records the times it was called with."""

    name = "fake"
    description = "fake backend (no pose)"

    def __init__(self):
        self.times: list[float] = []
        self.closed = False

    def detect(self, frame_bgr, t_ms):
        self.times.append(t_ms)
        return None

    def close(self):
        self.closed = True


class BlockingBackend(NoPoseBackend):
    """detect() blocks until the test releases it: a pose model slower than the camera."""

    def __init__(self):
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def detect(self, frame_bgr, t_ms):
        self.entered.set()
        assert self.release.wait(10), "test never released the backend"
        return super().detect(frame_bgr, t_ms)


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


@pytest.fixture
def patient(store):
    return store.add_patient("Test Patient", "2026-09-01")


def blank(n: int = 0) -> np.ndarray:
    frame = np.zeros((64, 48, 3), np.uint8)
    frame[0, 0] = n % 256  # tell frames apart
    return frame


# -- the real model on real footage ---------------------------------------------------------------


@pytest.mark.model
def test_bird_dog_clip_counts_one_rep_per_side_autosaves_and_stores_the_trace(store, patient):
    spec = load_exercise("bird_dog")
    clock = VideoClock()
    live = LiveSession(spec, lambda: make_backend("mediapipe"), store, patient, pain_before=3,
                       autosave_every_s=5, clock=clock)
    start = clock.now
    saved_mid_session = None
    for t_ms, frame in clip_frames("bird_dog_360.mp4"):
        clock.now = start + t_ms / 1000.0
        out = live.on_frame(frame, t_ms)
        assert out.shape == frame.shape
        if saved_mid_session is None and t_ms >= 10_000:
            # rep 1 (left) ended at 4.9 s; the autosave at about 5 s has it, before any stop()
            saved_mid_session = store.get_session(live.session_id)
    snap = live.snapshot()
    assert (snap.reps, snap.reps_by_side) == (2, {"left": 1, "right": 1})
    assert snap.frames == 427 and snap.dropped == 0

    assert saved_mid_session.status == "live"
    assert saved_mid_session.reps == 1
    assert store.get_reps(live.session_id)[0].side == "left"

    result = live.stop(pain_after=2)
    assert [(r.side, r.complete) for r in result.reps] == [("left", True), ("right", True)]
    row = store.get_session(live.session_id)
    assert (row.status, row.source, row.reps, row.pain_before, row.pain_after) == ("complete", "live", 2, 3, 2)
    assert row.video_path is None
    # The stored trace re-scores to the same reps, at the same session times.
    trace = json.loads(store.get_trace(live.session_id))
    replayed = Pipeline(spec, backend=None, record_trace=False)
    for pose_frame in replay(trace):
        replayed.process_pose_frame(pose_frame)
    again = replayed.finish()
    assert [(r.side, round(r.end_s, 2)) for r in again.complete_reps] == [
        (r.side, round(r.end_s, 2)) for r in result.complete_reps]

    # A second stop (a double click, or the stale sweep racing the button) changes nothing.
    assert live.stop(pain_after=9) is result
    assert store.get_session(live.session_id) == row
    assert live.snapshot().finished


@pytest.mark.model
def test_cat_cow_rounding_shows_the_flat_back_cue_after_its_debounce_and_holds_it(store, patient):
    """Bird dog's spinal-flexion rule on a cat-cow clip (the cat pose rounds the spine)."""
    spec = load_exercise("bird_dog")
    rule = next(r for r in spec.rules if r.code == "spinal_flexion")
    clock = VideoClock()
    live = LiveSession(spec, lambda: make_backend("mediapipe"), store, patient, clock=clock)
    start = clock.now
    shown = []  # (t_s, cue on the page)
    busy_s = []
    for t_ms, frame in clip_frames("cat_cow_360.mp4"):
        clock.now = start + t_ms / 1000.0
        began = time.perf_counter()
        live.on_frame(frame, t_ms)
        busy_s.append(time.perf_counter() - began)
        shown.append((t_ms / 1000.0, live.snapshot().cue))
    result = live.stop()
    flags = [f for f in result.flags if f.code == "spinal_flexion"]
    assert flags, "the cat pose raised no spinal-flexion flag"
    first = flags[0]
    cue_times = [t for t, cue in shown if cue == rule.message]
    assert cue_times, "the cue never reached the page"
    latency_s = cue_times[0] - first.start_s
    # The cue appears once the rounding has lasted the rule's debounce (0.5 s), not before,
    # and not much later (one frame).
    assert rule.min_duration_s - 0.05 <= latency_s <= rule.min_duration_s + 0.1, latency_s
    # It stays up at least CUE_HOLD_S after the rule stops firing, so it can be read from 2 m.
    visible_until = max(t for t in cue_times if t < first.end_s + CUE_HOLD_S + 1.0)
    assert visible_until >= first.end_s + CUE_HOLD_S - 0.1
    print(f"\n[live] spinal-flexion cue {latency_s * 1000:.0f} ms after the rounding began "
          f"(debounce {rule.min_duration_s * 1000:.0f} ms); processing {1000 * np.median(busy_s):.0f} ms "
          f"per frame (median), {1 / np.median(busy_s):.1f} fps possible on this machine")


# -- threading, timing, saving (fake backends) --------------------------------------------------


def test_a_frame_arriving_while_the_previous_is_processed_is_dropped_not_queued(store, patient):
    backend = BlockingBackend()
    live = LiveSession(load_exercise("bird_dog"), backend, store, patient)
    outputs = {}

    def process(name, frame, t_ms):
        outputs[name] = live.on_frame(frame, t_ms)

    first = threading.Thread(target=process, args=("f1", blank(1), 0.0))
    first.start()
    assert backend.entered.wait(10)
    began = time.perf_counter()
    f2 = blank(2)
    out2 = live.on_frame(f2, 33.0)  # the model is busy with f1
    assert time.perf_counter() - began < 0.1, "on_frame waited for the busy model"
    assert out2 is f2  # nothing annotated yet: the frame itself goes back
    backend.release.set()
    first.join(10)

    backend.entered.clear()
    backend.release.clear()
    third = threading.Thread(target=process, args=("f3", blank(3), 66.0))
    third.start()
    assert backend.entered.wait(10)
    out4 = live.on_frame(blank(4), 99.0)
    assert out4 is outputs["f1"]  # the previous annotated frame, while f3 is being processed
    backend.release.set()
    third.join(10)

    assert backend.times == [0.0, 66.0]  # only f1 and f3 reached the model: no queue
    snap = live.snapshot()
    assert (snap.frames, snap.dropped) == (2, 2)
    live.stop()


def test_stop_is_idempotent_and_closes_the_backend(store, patient):
    backend = NoPoseBackend()
    live = LiveSession(load_exercise("glute_bridge"), backend, store, patient, pain_before=4)
    for i in range(5):
        live.on_frame(blank(i), 33.0 * i)
    result = live.stop(pain_after=4)
    assert backend.closed
    assert live.stop() is result
    row = store.get_session(live.session_id)
    assert (row.status, row.frames, row.pain_after) == ("complete", 5, 4)
    assert store.get_trace(live.session_id) is not None
    # Frames after the end pass through untouched and change nothing.
    frame = blank(9)
    assert live.on_frame(frame, 500.0) is frame
    assert store.get_session(live.session_id).frames == 5


def test_a_session_that_never_got_a_frame_stores_nothing(store, patient):
    backend_made = []
    live = LiveSession(load_exercise("bird_dog"), lambda: backend_made.append(1), store, patient)
    result = live.stop(pain_after=1)
    assert result.frames == 0 and live.session_id is None
    assert store.list_sessions(patient) == []
    assert backend_made == []  # the model is only loaded for a first frame


def test_frame_times_start_at_zero_and_survive_a_stream_restart(store, patient):
    backend = NoPoseBackend()
    clock = VideoClock()
    live = LiveSession(load_exercise("bird_dog"), backend, store, patient, clock=clock)
    for t in (5000.0, 5033.0, 5066.0):  # the camera's own clock, any origin
        clock.now += 0.033
        live.on_frame(blank(), t)
    clock.now += 0.040
    live.on_frame(blank(), 12.0)  # the stream restarted with a new clock: continue, never go back
    clock.now += 0.050
    live.on_frame(blank(), None)  # no timestamp: the monotonic clock
    assert backend.times[:3] == [0.0, 33.0, 66.0]
    assert backend.times[3] == pytest.approx(106.0)
    assert backend.times[4] == pytest.approx(156.0)
    live.stop()


def test_autosave_happens_at_most_every_few_seconds_and_when_the_camera_goes_quiet(store, patient, monkeypatch):
    clock = VideoClock()
    live = LiveSession(load_exercise("bird_dog"), NoPoseBackend(), store, patient, autosave_every_s=5, clock=clock)
    saves = []
    real_save = store.save_progress
    monkeypatch.setattr(store, "save_progress", lambda sid, result: (saves.append(result.frames),
                                                                    real_save(sid, result)))
    for i in range(320):  # 10 s at 32 fps (a step exact in binary)
        clock.now += 1 / 32
        live.on_frame(blank(i), None)
    assert saves == [1, 161]  # the first frame, then 5 s later
    assert store.get_session(live.session_id).frames == 161
    # The camera stops; the page keeps polling: the rest is saved once, not again and again.
    clock.now += 2
    live.touch()
    live.touch()
    assert saves == [1, 161, 320]
    assert store.get_session(live.session_id).status == "live"
    live.stop()


def test_an_abandoned_session_is_finished_as_interrupted_with_its_trace(store, patient):
    clock = VideoClock()
    registry = LiveRegistry()
    watched = LiveSession(load_exercise("bird_dog"), NoPoseBackend(), store, patient, clock=clock, stale_after_s=60)
    abandoned = LiveSession(load_exercise("bird_dog"), NoPoseBackend(), store, patient, clock=clock,
                            stale_after_s=60)
    registry.add(watched)
    registry.add(abandoned)
    for i in range(10):
        clock.now += 0.1
        watched.on_frame(blank(i), None)
        abandoned.on_frame(blank(i), None)
    for _ in range(7):  # the camera of both stops; only the first tab is still open
        clock.now += 10
        watched.touch()
    assert registry.sweep() == [abandoned]
    row = store.get_session(abandoned.session_id)
    assert (row.status, row.frames, row.pain_after) == ("interrupted", 10, None)
    assert store.get_trace(abandoned.session_id) is not None
    assert store.get_session(watched.session_id).status == "live"
    assert len(registry) == 1
    watched.stop(pain_after=0)
    assert store.get_session(watched.session_id).status == "complete"
    registry.sweep()
    assert len(registry) == 0


def test_kept_video_is_written_with_the_session_times(store, patient):
    clock = VideoClock()
    live = LiveSession(load_exercise("bird_dog"), NoPoseBackend(), store, patient, keep_video=True, clock=clock)
    for i in range(30):
        clock.now += 0.1  # 10 fps
        live.on_frame(np.full((120, 160, 3), 8 * i, np.uint8), None)
    live.stop()
    path = Path(store.get_session(live.session_id).video_path)
    assert path.is_file() and path.parent == store.data_dir / "videos"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert len(frames) == 30
    assert frames[-1].time == pytest.approx(2.9, abs=0.05)  # 29 frames at 0.1 s: the video clock is the session's


def test_webrtc_callback_turns_a_video_frame_into_an_annotated_one(store, patient):
    backend = NoPoseBackend()
    live = LiveSession(load_exercise("bird_dog"), backend, store, patient)
    callback = webrtc_callback(live)
    frame = av.VideoFrame.from_ndarray(np.zeros((360, 640, 3), np.uint8), format="bgr24")
    frame.pts, frame.time_base = 90_000, Fraction(1, 90_000)  # 1 s into the stream
    out = callback(frame)
    assert (out.width, out.height) == (640, 360)
    assert out.to_ndarray(format="bgr24").any()  # the overlay was drawn (set-up banner, panel)
    assert backend.times == [0.0]
    live.stop()


def test_a_pose_model_that_cannot_start_is_reported_and_the_picture_stays_live(store, patient):
    attempts = []

    def broken_factory():
        attempts.append(1)
        raise BackendError("mediapipe is not installed correctly")

    live = LiveSession(load_exercise("bird_dog"), broken_factory, store, patient)
    frame = blank(1)
    assert live.on_frame(frame, 0.0) is frame  # the camera picture, unannotated
    live.on_frame(blank(2), 33.0)
    assert len(attempts) == 2  # tried again on the next frame
    snap = live.snapshot()
    assert "mediapipe is not installed correctly" in snap.problem
    assert snap.frames == 0
    live.stop()
    assert store.get_session(live.session_id).status == "complete"  # the row made before the model failed


def test_the_most_severe_cue_is_shown_and_held_after_the_fault_ends():
    rules = {r.code: r for r in load_exercise("bird_dog").rules}
    cues = CueHolder(rules.values(), hold_s=2.5)
    flexion, leg = rules["spinal_flexion"], rules["leg_above_hip"]
    steps = [
        # (time s, rules firing, expected cue)
        (0.0, (), ""),  # nothing yet
        (1.0, ("leg_above_hip",), leg.message),  # a warning
        (1.5, ("leg_above_hip", "spinal_flexion"), flexion.message),  # danger outranks the warning
        (2.0, ("leg_above_hip",), leg.message),  # the leg fault is still there (last seen)
        (2.2, (), leg.message),  # fault over: the cue stays up...
        (4.4, (), leg.message),
        (4.6, (), ""),  # ...for 2.5 s after the fault was last seen
        (5.0, ("spinal_flexion",), flexion.message),
    ]
    for t, firing, expected in steps:
        assert cues.update(firing, t)[0] == expected, (t, firing)
    assert cues.started == 3  # the leg fault, flexion joining it, flexion again: one sound each


def test_a_locked_database_is_reported_and_the_next_autosave_catches_up(tmp_path):
    store = open_store(tmp_path / "data", busy_timeout_s=0.2)
    patient = store.add_patient("Test Patient", "2026-09-01")
    clock = VideoClock()
    live = LiveSession(load_exercise("bird_dog"), NoPoseBackend(), store, patient, autosave_every_s=5, clock=clock)
    frame_index = 0

    def stream(seconds):
        nonlocal frame_index
        for _ in range(int(seconds * 32)):
            clock.now += 1 / 32
            live.on_frame(blank(frame_index), None)
            frame_index += 1

    stream(1)  # the session row exists
    with write_lock_held(store.db_path):  # another program holds the write lock
        stream(6)
        assert live.snapshot().problem.startswith("Your progress could not be saved: The database is busy")
        assert live.snapshot().frames == frame_index  # the camera kept being analysed
    stream(5)
    assert live.snapshot().problem == ""
    assert store.get_session(live.session_id).frames >= 6 * 32  # the frames of the locked spell too
    live.stop()
    assert store.get_session(live.session_id).frames == frame_index


@pytest.mark.model
def test_a_camera_changing_resolution_mid_session_keeps_counting(store, patient):
    # WebRTC lowers a webcam's resolution under load: 150 frames come at three quarters size.
    clock = VideoClock()
    live = LiveSession(load_exercise("bird_dog"), lambda: make_backend("mediapipe"), store, patient, clock=clock)
    start = clock.now
    for i, (t_ms, frame) in enumerate(clip_frames("bird_dog_360.mp4")):
        if 100 <= i < 250:
            frame = cv2.resize(frame, (270, 480), interpolation=cv2.INTER_AREA)
        clock.now = start + t_ms / 1000.0
        live.on_frame(frame, t_ms)
    result = live.stop()
    assert [r.side for r in result.complete_reps] == ["left", "right"]
    assert live.snapshot().problem == ""


def test_kept_video_takes_frames_closer_than_a_30_fps_frame_interval(tmp_path):
    """WebRTC frames come with jitter and faster than 30 fps; each keeps its own millisecond time.

    Before the encoder counted in milliseconds, the 12th frame here (two frames in one 1/30 s
    tick) raised av.error.ArgumentError 22 and put a red error on the patient's screen."""
    from formcheck.video import H264Writer

    times_ms = np.cumsum([5, 20, 40, 8, 60, 12, 3, 33, 17, 25] * 6).astype(float)
    writer = H264Writer(tmp_path / "jitter.mp4")
    for i, t in enumerate(times_ms):
        writer.write(np.full((171, 321, 3), 4 * i, np.uint8), t)  # odd sizes too: the encoder wants even
    writer.close()
    with av.open(str(tmp_path / "jitter.mp4")) as container:
        frames = list(container.decode(container.streams.video[0]))
    assert len(frames) == len(times_ms)
    assert [round(f.time * 1000) for f in frames] == [round(t) for t in times_ms]


class BrokenVideoWriter:
    """A kept video whose encoder fails after ``good`` frames, as a full disk or a codec error does."""

    def __init__(self, good: int):
        self.good, self.written, self.closed = good, 0, False

    def write(self, frame_bgr, t_ms):
        if self.written >= self.good:
            raise av.error.ArgumentError(22, "Invalid argument")
        self.written += 1

    def close(self):
        self.closed = True


def test_a_failing_video_writer_stops_the_video_calmly_and_counting_goes_on(store, patient):
    spec = load_exercise("bird_dog")
    live = LiveSession(spec, NoPoseBackend(), store, patient, keep_video=True)
    live.on_frame(blank(0), 0.0)
    broken = BrokenVideoWriter(good=3)
    live._video = broken  # the session's own writer, swapped for one that fails
    for i in range(1, 10):
        live.on_frame(blank(i), 33.0 * i)
    snap = live.snapshot()
    assert snap.problem == ""  # never "the camera picture could not be analysed"
    assert "video stopped recording" in snap.video_note and "still counted" in snap.video_note
    assert snap.frames == 10  # every frame was still analysed
    assert broken.written == 3 and broken.closed  # closed once, with what it had; not tried again
    live.stop()
    assert store.get_session(live.session_id).status == "complete"


# -- the set's go: nothing counted before the 3-2-1 ends (issue 12) ------------------------------


def bridge_session(store, patient, angles, go_at_s=None):
    """A live glute bridge from synthetic poses (30 fps); ``start_counting()`` at ``go_at_s``."""
    from tests.support.live_clips import ScriptedBackend
    from tests.support.synth import supine_pose, with_flat_back

    times = [1000.0 * i / 30.0 for i in range(len(angles))]
    poses = [with_flat_back(supine_pose(angle)) for angle in angles]  # the back's outline seen
    clock = VideoClock()
    live = LiveSession(load_exercise("glute_bridge"), ScriptedBackend(zip(times, poses)), store,
                       patient, clock=clock, wait_for_go=go_at_s is not None)
    start, frame, snaps = clock.now, np.zeros((360, 640, 3), np.uint8), []
    for t in times:
        if go_at_s is not None and not live.counting and t >= 1000.0 * go_at_s:
            live.saved_before_go = store.get_session(live.session_id)  # what a crash now would leave
            live.start_counting()
        clock.now = start + t / 1000.0
        live.on_frame(frame, t)
        snaps.append((t, live.snapshot()))
    return live, snaps


def test_a_session_waiting_for_the_go_counts_nothing_before_it(store, patient):
    from tests.support.synth import bridge_angles

    # A bridge while getting into position, 3 s still in the start position (the 3-2-1), then at
    # "Go" two bridges at once, the first rising from the very first frame of the set.
    warm_up, set_ = bridge_angles(1), bridge_angles(2)[45:]  # bridge_angles starts with 1.5 s of rest
    angles = np.concatenate([warm_up, np.full(90, set_[0]), set_])
    go_s = (len(warm_up) + 90) / 30.0
    everything, _ = bridge_session(store, patient, angles)
    assert everything.stop(pain_after=0).to_dict()["reps"] == 3  # counting from the first frame: all three

    live, snaps = bridge_session(store, patient, angles, go_at_s=go_s)
    before = [s for t, s in snaps if t < 1000.0 * go_s]
    assert not any(s.counting for s in before) and all(s.counting for t, s in snaps if t >= 1000.0 * go_s)
    assert {(s.reps, s.partial_reps, s.last_rep) for s in before} == {(0, 0, None)}  # the first bridge: not counted
    assert any(s.phase == "top" for s in before)  # though the frames were watched
    assert live.saved_before_go.reps == 0  # and nothing of it saved as progress
    assert snaps[-1][1].reps == 2
    result = live.stop(pain_after=0)
    assert [r.complete for r in result.reps] == [True, True]
    assert result.reps[0].start_s >= go_s - 0.05  # session times: the clock runs from the first frame
    assert store.get_session(live.session_id).reps == 2
    # The stored trace starts with the countdown (PREWARM_S) and re-scores to the same reps and times.
    trace = json.loads(store.get_trace(live.session_id))
    assert trace["frames"][0]["t"] == pytest.approx(go_s - PREWARM_S, abs=0.034)
    replayed = Pipeline(load_exercise("glute_bridge"), backend=None, record_trace=False)
    for pose_frame in replay(trace):
        replayed.process_pose_frame(pose_frame)
    assert [round(r.end_s, 2) for r in replayed.finish().reps] == [round(r.end_s, 2) for r in result.reps]


def test_a_session_abandoned_before_the_go_stores_no_reps(store, patient):
    from tests.support.synth import bridge_angles

    live, snaps = bridge_session(store, patient, bridge_angles(2), go_at_s=1e9)  # the 3-2-1 never ended
    assert snaps[-1][1].reps == 0 and not live.counting
    result = live.stop(pain_after=None, status="interrupted")
    assert result.reps == [] and store.get_session(live.session_id).reps == 0
    assert store.get_trace(live.session_id) is None
    live.start_counting()  # after stop(): nothing happens
    assert not live.counting


def test_start_counting_without_waiting_changes_nothing(store, patient):
    live = LiveSession(load_exercise("bird_dog"), NoPoseBackend(), store, patient)
    live.on_frame(blank(0), 0.0)
    pipeline = live._pipeline
    live.start_counting()
    assert live.counting and live._pipeline is pipeline


@pytest.mark.model
def test_a_set_started_at_the_go_measures_from_the_countdowns_start_posture(tmp_path):
    """Real cat-cow footage after 3 s still in the start position (the 3-2-1), the first movement
    right at "Go": the set's engine gets the countdown's poses, so it counts and measures what
    ``analyze`` does on the same frames. (Started at "Go" without them it took its start posture
    from the first movement and read both reps 7 degrees short: 44.5 and 47.7 against 51.8 and 55.1.)"""
    from tests.support.live_clips import analyzed

    spec = load_exercise("cat_cow")
    frames = list(clip_frames("cat_cow_360.mp4"))
    step_ms = frames[1][0] - frames[0][0]
    countdown = [frames[0][1]] * round(1000.0 * PREWARM_S / step_ms)
    camera = countdown + [f for _, f in frames]
    expected = analyzed(spec, camera, step_ms)

    store = open_store(tmp_path / "data")
    clock = VideoClock()
    live = LiveSession(spec, lambda: make_backend("mediapipe", segmentation=spec.needs_back_outline), store,
                       store.add_patient("Go", "2026-09-01"), clock=clock, wait_for_go=True)
    start = clock.now
    for k, image in enumerate(camera):
        if k == len(countdown):
            live.start_counting()
        clock.now = start + k * step_ms / 1000.0
        live.on_frame(image.copy(), k * step_ms)  # a copy: the overlay is drawn on the frame
    result = live.stop(pain_after=0)
    assert len(expected.complete_reps) == 2
    assert [(r.complete, round(r.start_s, 2), round(r.peak_deg, 1)) for r in result.reps] == [
        (r.complete, round(r.start_s, 2), round(r.peak_deg, 1)) for r in expected.reps]
    assert {f.code for f in result.flags} == {f.code for f in expected.flags}
