"""Property-based tests of the engine: arbitrary landmark streams never crash it, counts never go
down, and every rep's start < peak < end."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formcheck.engine import STANDARD_FILTERS, ExerciseEngine
from formcheck.spec import list_exercises, load_exercise
from formcheck.types import Pose, PoseFrame
from tests.support.synth import HEIGHT, WIDTH, supine_pose

coordinate = st.one_of(st.floats(-0.5, 1.5), st.just(math.nan))
visibility = st.one_of(st.floats(0, 1), st.just(math.nan))


@st.composite
def random_pose(draw):
    image = np.array([[draw(coordinate), draw(coordinate), draw(st.floats(-1, 1)), draw(visibility)]
                      for _ in range(33)])
    world = None
    if draw(st.booleans()):
        world = np.array([[draw(coordinate), draw(coordinate), draw(coordinate)] for _ in range(33)])
    contour = None
    if draw(st.booleans()):
        contour = np.array([[draw(coordinate), draw(coordinate)] for _ in range(draw(st.integers(1, 9)))])
    return Pose(image=image, world=world, back_contour=contour)


@st.composite
def stream(draw):
    """A stream mixing random poses, missing frames and plausible bridges, with jittery time steps."""
    n = draw(st.integers(1, 120))
    frames, t_ms = [], 0.0
    for i in range(n):
        kind = draw(st.sampled_from(["random", "none", "bridge"]))
        if kind == "random":
            pose = draw(random_pose())
        elif kind == "none":
            pose = None
        else:
            pose = supine_pose(draw(st.floats(100, 220)), visibility=draw(st.floats(0, 1)))
        frames.append(PoseFrame(i, t_ms, WIDTH, HEIGHT, pose))
        t_ms += draw(st.floats(-50.0, 200.0))  # out of order, repeated, irregular and long gaps
    return frames


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames=stream(), exercise=st.sampled_from(list_exercises()))
def test_any_stream_is_handled(frames, exercise):
    engine = ExerciseEngine(load_exercise(exercise), STANDARD_FILTERS)
    counts = []
    for frame in frames:
        result = engine.process(frame)
        counts.append((result.rep_count, result.partial_rep_count))
    session = engine.finish()
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(counts, counts[1:]))  # counts never decrease
    for rep in session.complete_reps:
        assert rep.start_s < rep.peak_s < rep.end_s
    for rep in session.partial_reps:
        # a movement already under way when the stream began may peak on its first frame
        assert rep.start_s <= rep.peak_s <= rep.end_s and rep.start_s < rep.end_s
    for rep in session.reps:
        assert rep.hold_s >= 0 and (math.isnan(rep.rom_deg) or rep.rom_deg >= 0)
    for flag in session.flags:
        assert flag.start_s <= flag.end_s
    session.to_dict()  # serialisable whatever happened
