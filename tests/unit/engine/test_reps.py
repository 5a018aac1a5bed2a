"""The repetition state machine on synthetic streams (degrees, 30 fps)."""
import math

import numpy as np
import pytest

from formcheck.reps import SETTLE_SAMPLES, RepCounter
from formcheck.spec import RepSpec

BRIDGE = RepSpec(signal="hip_extension_deg", rest_deg=150, top_deg=168, min_duration_s=1.0, min_rom_deg=10)


def _feed(counter, values, fps=30.0, noise=math.nan):
    reps = []
    for i, v in enumerate(values):
        rep = counter.update(1000.0 * i / fps, float(v), noise)
        if rep:
            reps.append(rep)
    end = counter.flush(1000.0 * len(values) / fps, noise)
    return reps + ([end] if end else [])


def _cycle(low, high, rise_s=1.0, hold_s=1.0, fps=30):
    up = np.linspace(low, high, int(rise_s * fps))
    return np.concatenate([np.full(15, low), up, np.full(int(hold_s * fps), high), up[::-1], np.full(15, low)])


def test_two_clean_reps():
    reps = _feed(RepCounter(BRIDGE), np.concatenate([_cycle(135, 180), _cycle(135, 180)]))
    assert [r.complete for r in reps] == [True, True]
    first = reps[0]
    assert first.start_s < first.peak_s < first.end_s
    assert first.peak_deg == pytest.approx(180)
    assert first.rom_deg == pytest.approx(45)
    assert first.hold_s == pytest.approx(1.0 + 16 / 30, abs=0.1)  # the hold plus 8 ramp frames above 168 each way


def test_jitter_at_the_top_counts_once():
    # oscillates across the top threshold during the hold: one rep, not three
    values = np.concatenate([np.full(15, 135), np.linspace(135, 170, 20), [166, 170, 166, 171, 165, 170],
                             np.linspace(170, 135, 20), np.full(15, 135)])
    assert len(_feed(RepCounter(BRIDGE), values)) == 1


def test_jitter_at_rest_counts_nothing():
    rng = np.random.default_rng(0)
    assert _feed(RepCounter(BRIDGE), 148 + rng.normal(0, 2, 600)) == []


def test_partial_rep_is_reported_separately():
    reps = _feed(RepCounter(BRIDGE), _cycle(135, 160))  # never reaches 168
    assert len(reps) == 1 and not reps[0].complete and reps[0].rom_deg == pytest.approx(25)


def test_too_quick_or_too_small_is_not_a_rep():
    assert _feed(RepCounter(BRIDGE), _cycle(135, 180, rise_s=0.2, hold_s=0.0)) == []   # 0.4 s flick
    small = RepSpec(signal="x", rest_deg=150, top_deg=168, min_rom_deg=30)
    assert _feed(RepCounter(small), _cycle(140, 165)) == []                             # 25 deg < 30


def test_started_mid_movement_is_setting_up_and_cut_off_is_partial():
    # The recording starts at the top and ends half-way up. The first movement was never seen
    # starting from the start position: it is setting up, not a rep (not even a partial one). The
    # second started from rest and was cut off by the end: partial.
    values = np.concatenate([np.full(20, 178), np.linspace(178, 135, 30), np.full(30, 135), np.linspace(135, 180, 45)])
    counter = RepCounter(BRIDGE)
    reps = _feed(counter, values)
    assert [r.complete for r in reps] == [False]
    assert reps[0].start_s == pytest.approx(80 / 30, abs=0.2)
    assert counter.settled


def test_nothing_counts_until_the_body_settles_in_the_start_position():
    counter = RepCounter(BRIDGE)
    # A body seen only outside the rest zone (a child's pose analysed as a bridge: hip "extension"
    # far beyond the top) is waiting for the start position; a long excursion there is no rep.
    assert _feed(counter, np.full(900, 300.0)) == []
    assert counter.waiting_for_start and counter.phase == "setup" and not counter.settled
    # A frame or two in the rest zone (a landmark glitch) does not settle it.
    glitch = RepCounter(BRIDGE)
    values = np.concatenate([np.full(30, 300.0), np.full(SETTLE_SAMPLES - 1, 140.0), np.full(60, 300.0)])
    assert _feed(glitch, values) == [] and not glitch.settled
    # Settled, then a full rep: counted, and no longer waiting.
    settled = RepCounter(BRIDGE)
    reps = _feed(settled, np.concatenate([np.full(30, 300.0), _cycle(140, 180)]))
    assert [r.complete for r in reps] == [True] and not settled.waiting_for_start


def test_a_lost_body_must_settle_again():
    counter = RepCounter(BRIDGE)
    values = np.concatenate([_cycle(135, 180), np.full(60, np.nan), np.full(10, 175.0), np.linspace(175, 135, 20),
                             _cycle(135, 180)])
    # the body lost for 2 s at rest and found again at the top: that lowering is not a rep
    assert [r.complete for r in _feed(counter, values)] == [True, True]


def test_dropout_mid_rep_is_tolerated_if_short_and_abandoned_if_long():
    rep = _cycle(135, 180, hold_s=2.0)
    short_gap = rep.copy()
    short_gap[60:75] = np.nan  # 0.5 s
    assert [r.complete for r in _feed(RepCounter(BRIDGE), short_gap)] == [True]
    long_gap = rep.copy()
    long_gap[50:110] = np.nan  # 2 s: the body was not visible, so no guess
    assert all(not r.complete for r in _feed(RepCounter(BRIDGE), long_gap))


def test_falling_signal():
    knee = RepSpec(signal="knee_flexion_deg", rest_deg=20, top_deg=-10, min_rom_deg=10)  # top below rest
    assert [r.complete for r in _feed(RepCounter(knee), _cycle(30, -20))] == [True]


def test_noise_gate():
    tilt = RepSpec(signal="x", rest_deg=1.2, top_deg=2.5, min_rom_deg=2.0, min_snr=4.0, min_duration_s=1.0)
    counter = RepCounter(tilt)
    assert _feed(counter, _cycle(0, 3.0), noise=1.5) == []  # 3 deg against 1.5 deg noise: not measurable
    assert counter.discarded_for_noise == 1
    assert len(_feed(RepCounter(tilt), _cycle(0, 3.0), noise=0.3)) == 1


def test_after_a_cut_the_second_half_of_a_broken_rep_is_partial_and_nothing_else_is_followed():
    counter = RepCounter(BRIDGE)
    first_half = np.concatenate([np.full(15, 135), np.linspace(135, 160, 15)])
    assert _feed_no_flush(counter, first_half) == [] and counter.moving
    counter.flush(1000.0 * len(first_half) / 30, math.nan)  # the cut ends the first half (too short)
    counter.continue_after_cut()
    second_half = np.concatenate([np.linspace(165, 180, 10), np.full(30, 180), np.linspace(180, 135, 20),
                                  np.full(20, 135)])
    reps = _feed_no_flush(counter, second_half, start_s=1.0)
    assert [r.complete for r in reps] == [False] and reps[0].peak_deg == pytest.approx(180)
    assert counter.phase == "rest"
    # Without a broken rep, a movement under way after a cut is setting up, as at the start.
    fresh = RepCounter(BRIDGE)
    fresh.flush(0.0)
    assert _feed_no_flush(fresh, second_half) == []


def _feed_no_flush(counter, values, fps=30.0, start_s=0.0):
    reps = []
    for i, v in enumerate(values):
        rep = counter.update(1000.0 * (start_s + i / fps), float(v))
        if rep:
            reps.append(rep)
    return reps


@pytest.mark.parametrize("fps, phase_ms", [(30, 0), (15, 0), (15, 40), (10, 0), (10, 55), (7.5, 90)])
def test_the_hold_is_the_same_whichever_frames_are_analysed(fps, phase_ms):
    # A live page analyses 10-20 of the camera's 30 frames a second, at no fixed phase. The signal
    # rises linearly 135 -> 180 over 1 s, holds 1 s, falls over 1 s: it is at or above the top
    # (168) for 1 + 2 * 12/45 s. Whole frame intervals at the crossings would miss or add up to a
    # frame interval each time (a 100-133 ms error at 7.5-10 fps); the crossings are interpolated.
    def signal(t_s):
        if t_s < 1.0:
            return 135.0
        if t_s < 2.0:
            return 135.0 + 45.0 * (t_s - 1.0)
        if t_s < 3.0:
            return 180.0
        if t_s < 4.0:
            return 180.0 - 45.0 * (t_s - 3.0)
        return 135.0

    counter = RepCounter(BRIDGE)
    times = np.arange(phase_ms, 5500.0, 1000.0 / fps)
    reps = [r for r in (counter.update(t, signal(t / 1000.0)) for t in times) if r]
    assert len(reps) == 1 and reps[0].complete
    assert reps[0].hold_s == pytest.approx(1.0 + 2 * 12 / 45, abs=0.005)
