import math

import numpy as np
import pytest

from formcheck.smoothing import NoFilter, OneEuroFilter, robust_noise_sd


def _run(filt, values, fps=30.0):
    return np.array([filt.update(v, 1000.0 * i / fps) for i, v in enumerate(values)])


def test_one_euro_reduces_jitter_at_rest():
    rng = np.random.default_rng(1)
    noisy = 140 + rng.normal(0, 1.0, 300)
    out = _run(OneEuroFilter(), noisy)
    assert np.std(out[30:]) < 0.5 * np.std(noisy[30:])


def test_one_euro_keeps_the_peak_of_a_real_movement():
    # A 45 degree bridge over 1 s, held 1.5 s: the filtered peak must reach within 1 degree of it.
    t = np.arange(0, 4, 1 / 30)
    angle = 135 + 45 * np.clip(t - 0.5, 0, 1) - 45 * np.clip(t - 3.0, 0, 1)
    out = _run(OneEuroFilter(), angle)
    assert out.max() == pytest.approx(180, abs=1.0)
    # and follows the rise with less than 3 frames of lag at the half-way point
    half_true = np.argmax(angle >= 157.5)
    half_filtered = np.argmax(out >= 157.5)
    assert half_filtered - half_true <= 3


def test_nan_passes_through_and_long_gap_restarts():
    f = OneEuroFilter()
    assert f.update(100.0, 0) == 100.0
    assert math.isnan(f.update(math.nan, 33))
    # after a 2 s dropout the filter does not blend the old value into the new one
    assert f.update(150.0, 2000) == 150.0


def test_no_filter_is_identity():
    assert NoFilter().update(3.5, 0) == 3.5


def test_robust_noise_sd_ignores_the_movement():
    rng = np.random.default_rng(2)
    slow = np.linspace(0, 40, 300)  # a steady movement is not noise
    noisy = slow + rng.normal(0, 0.5, 300)
    assert robust_noise_sd(noisy) == pytest.approx(0.5, rel=0.3)
    assert math.isnan(robust_noise_sd(np.array([1.0, np.nan])))


def test_causal_median_covers_the_same_time_at_any_frame_rate():
    # A two-frame spike of a 30 fps stream is outvoted; the same spike seen at 15 fps is one frame,
    # and the window (a time, not a frame count) still spans the same 133 ms of neighbours.
    from formcheck.smoothing import CausalMedian

    for fps in (15.0, 30.0, 60.0):
        spike_frames = max(1, round(2 * fps / 30.0))
        values = [0.0] * int(fps) + [40.0] * spike_frames + [0.0] * int(fps)
        median = CausalMedian()
        out = [median.update(v, 1000.0 * i / fps) for i, v in enumerate(values)]
        assert max(out) == 0.0, fps
    # the window holds the values of the last MEDIAN_WINDOW_MS (5 frames at 30 fps)
    median = CausalMedian()
    assert [median.update(v, t) for v, t in ((1.0, 0.0), (2.0, 33.3), (9.0, 66.7))] == [1.0, 1.5, 2.0]
