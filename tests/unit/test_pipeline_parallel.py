"""The overlapped analysis (decode, pose model and writing in three threads) against the
sequential one: same outputs, byte for byte; errors and early stops leave no thread behind."""
import dataclasses
import threading

import numpy as np
import pytest

from formcheck import pipeline
from formcheck.backends import ReadyPose, infer
from formcheck.backends.replay import TraceRecorder, load_trace, replay
from formcheck.framerate import FrameRateLimit
from formcheck.pipeline import AnalyzeOptions, Pipeline, TraceFile, analyze
from formcheck.spec import load_exercise
from formcheck.types import Pose
from formcheck.video import ReadAhead, read_frames
from tests.support.paths import FIXTURES

CLIP = FIXTURES / "video" / "bird_dog_360.mp4"
OUTPUTS = ("summary.json", "reps.csv", "frames.csv", "trace.json", "annotated.mp4")


# The read-ahead threads these tests start (other modules' threads, such as the live page's
# sweeper, may legitimately still run in the same test process).
READ_AHEAD_THREADS = ("formcheck-decode", "formcheck-pose", "formcheck-test")


def _threads_left() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(READ_AHEAD_THREADS)]


# -- ReadAhead ------------------------------------------------------------------------------------


def test_read_ahead_keeps_order_and_items():
    assert list(ReadAhead(range(100), depth=2)) == list(range(100))


def test_read_ahead_reraises_after_the_items_before_the_error():
    def items():
        yield 1
        yield 2
        raise ValueError("broken at 3")

    seen = []
    with pytest.raises(ValueError, match="broken at 3"):
        for item in ReadAhead(items(), depth=4):
            seen.append(item)
    assert seen == [1, 2]


def test_read_ahead_runs_at_most_depth_items_ahead():
    produced = []
    ahead = ReadAhead((produced.append(i) or i for i in range(1000)), depth=3)
    assert next(ahead) == 0
    threading.Event().wait(0.2)  # give the producer time to run ahead as far as it can
    # 1 taken + 3 queued + 1 in hand waiting for room
    assert len(produced) <= 5
    ahead.close()


def test_closing_early_stops_the_thread_and_runs_the_generators_finally():
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    with ReadAhead(endless(), depth=2, name="formcheck-test") as ahead:
        assert [next(ahead) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert closed.is_set() and _threads_left() == []


def test_a_read_ahead_closed_before_its_first_item_starts_no_thread():
    closed = threading.Event()

    def items():
        try:
            yield 1
        finally:
            closed.set()

    source = items()
    next(source)  # started, so that closing it runs its finally
    ReadAhead(source, depth=2, name="formcheck-test").close()
    assert closed.is_set() and _threads_left() == []


def test_read_ahead_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        ReadAhead([], depth=0)


def test_decoded_frames_are_not_reused_buffers():
    # ReadAhead holds several frames at once: each must be its own array, not a reused buffer.
    ahead = list(ReadAhead(read_frames(CLIP), depth=4))
    direct = list(read_frames(CLIP))
    assert len(ahead) == len(direct) == 427
    for (i, t, a), (j, u, b) in zip(ahead[::40], direct[::40]):
        assert (i, t) == (j, u) and np.array_equal(a, b)


# -- the trace file -----------------------------------------------------------------------------


def test_trace_file_is_the_recorders_json_byte_for_byte(tmp_path):
    frames = list(replay(load_trace(FIXTURES / "traces" / "bird_dog_synthetic_2ext.json")))
    in_memory = TraceRecorder(model="m", label="bird dog")
    spooled = TraceFile(TraceRecorder(model="m", label="bird dog"), tmp_path)
    for frame in frames:
        in_memory.add(frame)
        spooled.add(frame)
    spooled.write(tmp_path / "trace.json")
    assert (tmp_path / "trace.json").read_text(encoding="utf-8") == in_memory.to_json()
    assert [p.name for p in tmp_path.iterdir()] == ["trace.json"]  # the spool is gone


# -- analyze with a stand-in model: errors and cleanup ---------------------------------------------------


class FailingBackend:
    """Finds a fixed pose, then fails on frame ``fail_at`` (as a broken model would)."""

    name = "failing"
    description = "test backend"

    def __init__(self, fail_at: int):
        self.fail_at = fail_at
        self.calls = 0
        self.closed = False

    def detect(self, frame_bgr, t_ms):
        assert not self.closed, "detect() after close()"
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("model failed")
        image = np.tile([0.5, 0.5, 0.0, 0.9], (33, 1))
        return Pose(image=image)

    def close(self):
        self.closed = True


@pytest.mark.parametrize("overlap", [True, False])
def test_a_model_error_reaches_the_caller_and_stops_every_thread(tmp_path, monkeypatch, overlap):
    backend = FailingBackend(fail_at=30)
    monkeypatch.setattr(pipeline, "make_backend", lambda *a, **k: backend)
    with pytest.raises(RuntimeError, match="model failed"):
        analyze(CLIP, load_exercise("bird_dog"), tmp_path, AnalyzeOptions(overlap=overlap))
    assert backend.closed and backend.calls == 30
    assert _threads_left() == []


def test_a_failing_progress_callback_stops_the_threads_too(tmp_path, monkeypatch):
    backend = FailingBackend(fail_at=-1)
    monkeypatch.setattr(pipeline, "make_backend", lambda *a, **k: backend)

    def progress(done, total):
        if done == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze(CLIP, load_exercise("bird_dog"), tmp_path, AnalyzeOptions(write_video=False), progress)
    assert backend.closed and backend.calls < 20  # stopped a few frames ahead, not at the end
    assert _threads_left() == []


# -- the pose thread runs the model only ------------------------------------------------------------


class StagedBackend:
    """Records which thread runs the model (infer) and which finishes its answers (pose())."""

    name = "staged"
    description = "test backend"

    def __init__(self):
        self.model_threads: list[str] = []
        self.finish_threads: list[str] = []

    def infer(self, frame_bgr, t_ms):
        self.model_threads.append(threading.current_thread().name)
        return self

    def pose(self):
        self.finish_threads.append(threading.current_thread().name)
        return Pose(image=np.tile([0.5, 0.5, 0.0, 0.9], (33, 1)))

    def detect(self, frame_bgr, t_ms):
        return self.infer(frame_bgr, t_ms).pose()

    def close(self):
        pass


def test_the_pose_thread_runs_the_model_and_the_consumer_finishes_its_answers():
    # The model is the one stage that cannot run ahead (each frame starts from the last one's
    # landmarks): everything else, the landmarks' conversion and the back's outline, runs in the
    # thread that writes the outputs.
    backend = StagedBackend()
    frames = pipeline._detect_frames(CLIP, Pipeline(load_exercise("bird_dog"), backend=backend),
                                     FrameRateLimit(0), overlap=True)
    got = [pose_frame for pose_frame, _ in frames]
    assert len(got) == 427 and all(pf.pose is not None for pf in got)
    assert [pf.index for pf in got] == list(range(427))
    assert set(backend.model_threads) == {"formcheck-pose"}
    assert set(backend.finish_threads) == {threading.current_thread().name}
    assert _threads_left() == []


def test_a_backend_with_detect_only_is_finished_in_the_model_thread():
    backend = FailingBackend(fail_at=-1)
    pending = infer(backend, np.zeros((4, 4, 3), np.uint8), 0.0)
    assert isinstance(pending, ReadyPose) and backend.calls == 1
    assert pending.pose() is pending.pose() and backend.calls == 1


# -- the real model: overlapped == sequential --------------------------------------------------------------


@pytest.mark.model
def test_overlapped_and_sequential_analysis_write_identical_outputs(tmp_path):
    spec = load_exercise("bird_dog")
    results = {}
    for overlap in (False, True):
        out = tmp_path / f"overlap_{overlap}"
        results[overlap] = analyze(CLIP, spec, out, AnalyzeOptions(overlap=overlap)).to_dict()
    assert results[True] == results[False]
    assert results[True]["reps"] == 2
    for name in OUTPUTS:
        sequential = (tmp_path / "overlap_False" / name).read_bytes()
        assert (tmp_path / "overlap_True" / name).read_bytes() == sequential, name
    assert _threads_left() == []


@pytest.mark.model
def test_an_exercise_without_outline_signals_skips_the_mask_and_gets_the_same_reps(tmp_path, monkeypatch):
    # A bird dog without its outline rule (spinal flexion) uses landmarks only: no segmentation
    # mask is asked of the model, and the result is what it would be with one. (This used the
    # pelvic tilt, which now reads the back's outline.)
    bird_dog = load_exercise("bird_dog")
    spec = dataclasses.replace(bird_dog, rules=tuple(r for r in bird_dog.rules if r.signal != "spinal_flexion_deg"))
    assert not spec.needs_back_outline and bird_dog.needs_back_outline
    assert load_exercise("pelvic_tilt").needs_back_outline
    clip = FIXTURES / "video" / "bird_dog_360.mp4"
    made = []
    real_make = pipeline.make_backend
    monkeypatch.setattr(pipeline, "make_backend", lambda *a, **kw: made.append(kw) or real_make(*a, **kw))
    skipped = analyze(clip, spec, tmp_path / "skipped", AnalyzeOptions(write_video=False))
    monkeypatch.setattr(pipeline, "make_backend", lambda *a, **kw: real_make(*a, **{**kw, "segmentation": True}))
    with_mask = analyze(clip, spec, tmp_path / "with_mask", AnalyzeOptions(write_video=False))
    assert made[0]["segmentation"] is False
    assert len(skipped.reps) == 2 and skipped.reps == with_mask.reps and skipped.flags == with_mask.flags
