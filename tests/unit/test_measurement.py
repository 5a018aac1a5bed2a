"""The measurement verdict (measurement.py): one function, fed by the engine's counts."""
import math

from formcheck.measurement import MEASURED, NOT_MEASURABLE, Measurement, MeasurementEvidence, verdict

START = "Get into the start position on the mat to begin."


def evidence(**changes):
    base = dict(frames=300, frames_with_pose=300, frames_in_view=300, settled=True, start_message=START,
                signal_frames=300, reps=3, complete_reps=3, largest_movement_deg=8.0, noise_deg=0.5, min_snr=4.0,
                complete_rep_deg=4.0)
    return MeasurementEvidence(**{**base, **changes})


def test_reps_seen_clearly_are_measured_with_their_signal_to_noise():
    m = verdict(evidence())
    assert m.status == MEASURED and m.reason is None and m.signal_to_noise == 16.0
    assert m.to_dict() == {"status": "measured", "reason": None, "advice": None, "signal_to_noise": 16.0}
    assert m.sentence("Pelvic tilt") == ""


def test_a_quiet_steady_recording_is_measured_zero_not_refused():
    m = verdict(evidence(reps=0, largest_movement_deg=math.nan))
    assert m.status == MEASURED and m.signal_to_noise is None


def test_refusals_and_their_reasons():
    assert verdict(evidence(frames_with_pose=0, reps=0)).reason == "no person was found in it"
    arm = ("the arm lies along the lower back", "Rest your arms on your chest.")
    m = verdict(evidence(reps=0, signal_frames=20, signal_problems={arm: 280}))
    assert (m.status, m.reason, m.advice) == (NOT_MEASURABLE, arm[0], arm[1])
    assert m.sentence("Pelvic tilt") == ("This recording cannot measure the pelvic tilt: the arm lies along the "
                                         "lower back. Rest your arms on your chest.")
    # a problem on a minority of frames, or reps counted anyway: measured
    assert verdict(evidence(reps=0, signal_frames=200, signal_problems={arm: 100})).measured
    assert verdict(evidence(signal_frames=20, signal_problems={arm: 280})).measured
    never = verdict(evidence(reps=0, settled=False, frames_in_view=0, view_problems={START: 300}))
    assert (never.reason, never.advice) == ("the body was never in the exercise's start position", START)
    away = verdict(evidence(reps=0, settled=False, frames_in_view=50,
                            view_problems={"Turn side-on to the camera.": 250}))
    assert away.reason.startswith("the body was not in view") and away.advice == "Turn side-on to the camera."
    noisy = verdict(evidence(reps=0, discarded_for_noise=2, largest_movement_deg=3.0, noise_deg=1.5))
    assert noisy.status == NOT_MEASURABLE and "within the measurement noise" in noisy.reason
    assert noisy.signal_to_noise == 2.0
    # no movement at all, but the noise would hide even a complete rep
    hidden = verdict(evidence(reps=0, largest_movement_deg=math.nan, noise_deg=2.0))
    assert hidden.status == NOT_MEASURABLE and "larger than a whole repetition" in hidden.reason
    # without a noise gate, noise alone refuses nothing
    assert verdict(evidence(reps=0, min_snr=0.0, noise_deg=2.0)).measured


def test_stored_summaries_read_back_and_old_ones_were_measured():
    m = Measurement(NOT_MEASURABLE, "why", "what to do", 2.345)
    assert Measurement.from_dict(m.to_dict()) == Measurement(NOT_MEASURABLE, "why", "what to do", 2.3)
    assert Measurement.from_dict(None).measured and Measurement.from_dict({"status": "?"}).measured


def test_a_partial_kept_against_its_last_seconds_noise_is_still_within_the_sessions_noise():
    # The counter judged the one long excursion against the noise of the recording's last 3 s and
    # kept it as a partial; by the session's typical noise it is 3.9 times the noise, under the
    # gate of 4: no complete rep, so the recording did not measure the exercise.
    within = evidence(reps=1, complete_reps=0, largest_movement_deg=19.5, noise_deg=5.0, min_snr=4.0)
    m = verdict(within)
    assert m.status == NOT_MEASURABLE and "3.9 times the measurement noise" in m.reason
    # A complete rep counted: measured, whatever the largest movement's ratio.
    assert verdict(evidence(reps=1, complete_reps=1, largest_movement_deg=19.5, noise_deg=5.0, min_snr=4.0)).measured
