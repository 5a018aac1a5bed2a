"""formcheck validate: the manifest, the scoring of one clip, the metrics, and the command on real traces."""
import json
from pathlib import Path

import pytest

from formcheck.cli import main
from formcheck.validation import (
    ClipTruth,
    ManifestError,
    failed_clip,
    load_manifest,
    markdown_table,
    match_by_overlap,
    metrics,
    score_clip,
    text_table,
)
from tests.support.paths import FIXTURES

CORPUS = FIXTURES / "validation" / "corpus.toml"


def truth(**fields) -> ClipTruth:
    base = dict(name="clip", input=Path("clip.json"), exercise="glute_bridge", reps=3)
    return ClipTruth(**{**base, **fields})


def summary(reps=(), partial=0, flags=(), measurement=None) -> dict:
    """A summary.json as a dict: reps as (start_s, end_s), flags as (code, severity)."""
    out = {
        "reps": len(reps), "partial_reps": partial, "reps_by_side": {},
        "rep_details": [{"start_s": s, "peak_s": (s + e) / 2, "end_s": e} for s, e in reps],
        "flags": [{"code": c, "severity": sev, "start_s": 0.0, "end_s": 1.0} for c, sev in flags],
    }
    if measurement is not None:
        out["measurement"] = measurement
    return out


THREE = ((1.0, 3.0), (4.0, 6.0), (7.0, 9.0))
THREE_TIMED = ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (7.0, 8.0, 9.0))
NOT_MEASURABLE = {"status": "not_measurable", "reason": "the pelvis is hidden", "signal_to_noise": 0.8}

CASES = [
    # exact: the count matches, no alarm -> pass, timing errors all zero
    ("exact", truth(rep_times=THREE_TIMED), summary(THREE),
     dict(passed=True, count_error=0, fails_run=False, timing=((0, 0),) * 3)),
    # off by one: one rep missed -> a sure clip fails the run, error -1
    ("off by one", truth(), summary(THREE[:2]), dict(passed=False, count_error=-1, fails_run=True)),
    # an acceptable alternative count (reps_ok) is exact
    ("reps_ok", truth(reps_ok=(2,)), summary(THREE[:2]), dict(passed=True, count_error=0)),
    # a likely clip that misses is reported but does not fail the run
    ("likely miss", truth(confidence="likely"), summary(THREE[:1]),
     dict(passed=False, count_error=-2, fails_run=False)),
    # a false alarm: a warning flag on correct form fails even with the count right
    ("false alarm", truth(), summary(THREE, flags=[("too_deep", "warning"), ("too_deep", "warning")]),
     dict(passed=False, fails_run=True, false_alarms=("too_deep", "too_deep"))),
    # info flags (partial_rep, short_hold) are advice, not alarms
    ("info is no alarm", truth(), summary(THREE, flags=[("partial_rep", "info"), ("short_hold", "info")]),
     dict(passed=True, false_alarms=())),
    # a labelled fault that was flagged: found, and its flag is no false alarm
    ("fault found", truth(faults=("spinal_flexion",)), summary(THREE, flags=[("spinal_flexion", "danger")]),
     dict(passed=True, found=("spinal_flexion",), missed=(), false_alarms=())),
    # a missed fault: the clinician saw it, formcheck said nothing
    ("missed fault", truth(faults=("spinal_flexion",)), summary(THREE),
     dict(passed=False, fails_run=True, missed=("spinal_flexion",))),
    # a labelled fault flagged only as info does not count as found
    ("fault as info", truth(faults=("spinal_flexion",)), summary(THREE, flags=[("spinal_flexion", "info")]),
     dict(passed=False, missed=("spinal_flexion",))),
    # a refusal the manifest allows is an honest answer, whatever the count
    ("refusal allowed", truth(cannot_measure_ok=True), summary(measurement=NOT_MEASURABLE),
     dict(passed=True, refused=True, refusal_ok=True, fails_run=False)),
    # a refusal of a clip the manifest says is measurable fails a sure clip, even with the right count
    ("refusal not allowed", truth(), summary(THREE, measurement=NOT_MEASURABLE),
     dict(passed=False, refused=True, refusal_ok=False, fails_run=True)),
    # measured with cannot_measure_ok: the count still has to be right
    ("measured though refusal allowed", truth(cannot_measure_ok=True),
     summary(THREE[:1], measurement={"status": "measured"}), dict(passed=False, refused=False, count_error=-2)),
    # timing: counted reps are matched by overlap, whatever their order; errors per matched truth rep
    ("timing matched by overlap", truth(rep_times=THREE_TIMED), summary(((7.5, 9.5), (0.6, 2.8), (4.0, 6.0))),
     dict(passed=True, timing=((0.4, 0.2), (0.0, 0.0), (0.5, 0.5)))),
    # timing: an extra rep overlapping nothing and a missed truth rep are not matched
    ("timing unmatched", truth(rep_times=THREE_TIMED), summary(((1.0, 3.0), (10.0, 12.0))),
     dict(passed=False, count_error=-1, timing=((0.0, 0.0),))),
]


@pytest.mark.parametrize("name, clip, result, expected", CASES, ids=[c[0] for c in CASES])
def test_score_clip(name, clip, result, expected):
    score = score_clip(clip, result)
    checks = {
        "passed": lambda: score.passed, "fails_run": lambda: score.fails_run,
        "count_error": lambda: score.count_error, "false_alarms": lambda: score.false_alarms,
        "found": lambda: score.faults_found, "missed": lambda: score.faults_missed,
        "refused": lambda: score.refused, "refusal_ok": lambda: score.refusal_ok,
        "timing": lambda: tuple(tuple(round(x, 6) for x in t) for t in score.timing_errors_s),
    }
    for key, want in expected.items():
        assert checks[key]() == want, f"{name}: {key}"
    assert score.verdict.startswith("pass") == score.passed


@pytest.mark.parametrize("found, truth_spans, pairs", [
    # one to one, in time order
    ([(0.0, 1.0), (2.0, 3.0)], [(0.1, 1.1), (2.1, 3.1)], [(0, 0), (1, 1)]),
    # found 0 overlaps truth 1 most, but taking it would leave found 1 unmatched: two pairs win
    ([(0.0, 5.0), (4.5, 6.0)], [(0.0, 1.0), (3.0, 6.0)], [(0, 0), (1, 1)]),
    # two found reps over one truth rep: the larger overlap gets it, the other is an extra rep
    ([(0.0, 1.0), (1.0, 4.0)], [(0.5, 4.0)], [(1, 0)]),
    # touching is not overlapping; nothing found pairs with nothing
    ([(0.0, 1.0)], [(1.0, 2.0)], []),
    ([], [(1.0, 2.0)], []),
])
def test_match_by_overlap(found, truth_spans, pairs):
    assert sorted(match_by_overlap(found, truth_spans)) == pairs


def test_metrics_over_a_run():
    scores = [
        score_clip(truth(name="a", rep_times=THREE_TIMED), summary(THREE)),  # exact
        score_clip(truth(name="b"), summary(THREE[:2], flags=[("too_deep", "warning")])),  # off by one + alarm
        score_clip(truth(name="c", confidence="likely", faults=("spinal_flexion",)), summary(())),  # off by 3, missed
        score_clip(truth(name="d", cannot_measure_ok=True), summary(measurement=NOT_MEASURABLE)),  # honest refusal
        failed_clip(truth(name="e"), "no such file"),
    ]
    m = metrics(scores)
    assert (m.clips, m.exact, m.measured, m.off_by_one) == (5, 1, 3, 1)
    assert m.mae == pytest.approx((0 + 1 + 3) / 3)
    assert (m.false_alarms, m.clips_with_false_alarms, m.missed_faults, m.faults, m.faults_found) == (1, 1, 1, 1, 0)
    assert (m.refused, m.honest_refusals, m.errors) == (1, 1, 1)
    assert (m.sure, m.sure_failed, m.likely_missed) == (4, 2, 1)  # b, and e (an error always fails)
    assert m.line == "clips=5 exact=1 mae=1.33 false_alarms=1 missed_faults=1 refused=1"
    table = text_table(scores)
    assert len(table.splitlines()) == 6 and "FAIL: error: no such file" in table
    assert "yes, allowed: the pelvis is hidden" in table and "pass (honest refusal)" in table
    md = markdown_table(scores)
    assert md.startswith("| clip | exercise |") and "too_deep" in md and "exact counts: 1/5" in md


# -- the manifest ----------------------------------------------------------------------------------------

TRACE = FIXTURES / "traces" / "glute_bridge_side_1rep.json"


def write_manifest(tmp_path, body: str) -> Path:
    (tmp_path / "t.json").write_bytes(TRACE.read_bytes())
    path = tmp_path / "m.toml"
    path.write_text(body)
    return path


GOOD = 'trace = "t.json"\nexercise = "glute_bridge"\nreps = 1\n'


def test_a_minimal_manifest_reads_with_paths_relative_to_it(tmp_path):
    [clip] = load_manifest(write_manifest(tmp_path, "[[clip]]\n" + GOOD + 'sides = { left = 1 }\n'
                                                    'prescription = { target_hold_s = 4 }\n'))
    assert clip.name == "t" and clip.input == (tmp_path / "t.json").resolve() and clip.confidence == "sure"
    assert clip.acceptable_counts == (1,) and clip.sides == {"left": 1} and not clip.cannot_measure_ok
    assert clip.spec().rep.target_hold_s == 4.0


@pytest.mark.parametrize("body, message", [
    ("", "no \\[\\[clip\\]\\] tables"),
    ("[[clips]]\n" + GOOD, "unknown top-level key"),
    ("[[clip]]\nexercise = 'glute_bridge'\nreps = 1\n", "exactly one of the fields 'trace' and 'video'"),
    ("[[clip]]\n" + GOOD.replace("t.json", "missing.json"), "field 'trace': no such file missing.json"),
    ("[[clip]]\n" + GOOD.replace("glute_bridge", "jumping_jack"), "clip 1 \\(t\\): field 'exercise': Unknown exercise"),
    ("[[clip]]\n" + GOOD.replace("reps = 1", "reps = -1"), "field 'reps' must be a whole number"),
    ("[[clip]]\n" + GOOD.replace("reps = 1", "reps = '1'"), "field 'reps' must be a whole number"),
    ("[[clip]]\n" + GOOD + "confidence = 'maybe'\n", "field 'confidence' must be one of sure, likely"),
    ("[[clip]]\n" + GOOD + "rep_times = [[1.0, 0.5, 2.0]]\n", "field 'rep_times'.*in order"),
    ("[[clip]]\n" + GOOD + "rep_times = [[1.0, 2.0]]\n", "field 'rep_times'.*\\[start, peak, end\\]"),
    ("[[clip]]\n" + GOOD + "fault = ['too_deep']\n", "unknown field\\(s\\) \\['fault'\\]"),
    ("[[clip]]\n" + GOOD + "cannot_measure_ok = 'yes'\n", "field 'cannot_measure_ok' must be a bool"),
    ("[[clip]]\n" + GOOD + "[[clip]]\n" + GOOD, "clip 2: name 't' is also clip 1's"),
    ("[[clip]\n", "not valid TOML"),
    ("[[clip]]\n" + GOOD + "prescription = { target_hold_s = -1 }\n", "field 'prescription': .*target_hold_s"),
    ("[[clip]]\n" + GOOD + "prescription = { reps = 3 }\n", "field 'prescription': .*cannot change rep fields"),
])
def test_a_bad_manifest_names_the_file_and_the_field(tmp_path, body, message):
    with pytest.raises(ManifestError, match=message) as caught:
        load_manifest(write_manifest(tmp_path, body))
    assert str(caught.value).startswith(str(tmp_path / "m.toml")) and "\n" not in str(caught.value)


def test_the_shared_labels_file_reads_as_it_is():
    shared = Path("/work/shared/fixtures/validation/labels.toml")
    if not shared.is_file():
        pytest.skip("the shared validation folder is not on this machine (the in-repo corpus is tested below)")
    clips = load_manifest(shared)
    assert len(clips) == 10 and all(c.input.name.endswith(".json.gz") for c in clips)


# -- the command -------------------------------------------------------------------------------------------


def run(capsys, *args):
    code = main(["validate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_on_two_real_traces(tmp_path, capsys):
    # glute_bridge_side_1rep: 1 rep, counted right. bird_dog_fitbod (gzipped, 60 fps, two camera
    # angles joined by a dissolve, 8 reps): marked likely here, so whether today's engine counts all
    # eight or not, it is reported and the run still passes.
    manifest = tmp_path / "m.toml"
    bird_dog = (FIXTURES / "validation" / "traces" / "bird_dog_fitbod.json.gz").resolve()
    manifest.write_text(f'[[clip]]\ntrace = "{TRACE.resolve()}"\nexercise = "glute_bridge"\nreps = 1\n'
                        f'rep_times = [[0.1, 1.6, 3.1]]\n\n'
                        f'[[clip]]\ntrace = "{bird_dog}"\nexercise = "bird_dog"\nreps = 8\nconfidence = "likely"\n')
    code, out, err = run(capsys, manifest, "--out", tmp_path / "out", "--workers", 1, "--markdown", tmp_path / "t.md")
    lines = out.splitlines()
    assert code == 0, out + err
    assert lines[0].split()[:3] == ["clip", "exercise", "truth"]
    assert lines[1].startswith("glute_bridge_side_1rep") and lines[1].endswith("pass")
    assert lines[2].startswith("bird_dog_fitbod") and ("miss (likely)" in lines[2] or lines[2].endswith("pass"))
    assert lines[-1].startswith("clips=2 exact=") and "refused=0" in lines[-1]
    bird_dog_summary = json.loads((tmp_path / "out" / "bird_dog_fitbod" / "summary.json").read_text())
    assert bird_dog_summary["provenance"]["recorded_fps"] == pytest.approx(59.94, abs=0.01)
    assert bird_dog_summary["provenance"]["analysed_fps"] == pytest.approx(30, abs=0.5)  # at most 30 a second
    assert (tmp_path / "t.md").read_text().startswith("| clip |")
    assert "[1/2] glute_bridge_side_1rep: pass" in err


def test_a_failing_sure_clip_exits_1_and_a_bad_manifest_exits_2(tmp_path, capsys):
    manifest = write_manifest(tmp_path, "[[clip]]\n" + GOOD.replace("reps = 1", "reps = 4"))
    code, out, _ = run(capsys, manifest, "--workers", 1)
    assert code == 1 and "FAIL: count 1, truth 4" in out
    code, out, err = run(capsys, tmp_path / "nothing.toml")
    assert code == 2 and out == ""
    assert err.strip() == f"formcheck: error: {tmp_path / 'nothing.toml'}: no such validation manifest file"


@pytest.mark.model  # the six videos go through the bundled MediaPipe model: about 3-4 minutes on 2 cores
def test_validate_runs_on_the_whole_in_repo_corpus(tmp_path, capsys):
    # The whole corpus (tests/fixtures/validation/corpus.toml: the ten validation traces, the three
    # shared traces, the six real videos) through the process pool: every sure clip passes (its
    # count, its faults flagged, no false alarm); likely clips are reported, not failed.
    code, out, err = run(capsys, CORPUS, "--out", tmp_path / "out", "--workers", 2)
    assert code == 0, out + err
    clips = len(load_manifest(CORPUS))
    assert "FAIL: error" not in out, out  # every clip was analysed
    last = out.splitlines()[-1]
    assert last.startswith(f"clips={clips} exact=") and " false_alarms=0 missed_faults=0 " in last, last
