"""Session bundles (formcheck/bundle.py): home -> clinic round trip, de-duplication, newer versions,
and every refusal (not a zip, damaged, altered, unknown version, too large, zip bomb) leaving the
clinic's data untouched."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from formcheck import bundle as bundle_module
from formcheck.backends.replay import load_trace, replay
from formcheck.bundle import BundleError, export_bundle, import_bundle, read_bundle
from formcheck.pipeline import Pipeline
from formcheck.spec import load_exercise
from formcheck.store import BUNDLE_SESSION_COLUMNS, open_store
from tests.support.paths import FIXTURES

REAL_TRACE = FIXTURES / "traces" / "glute_bridge_side_1rep.json"  # one real bridge, side view


def real_session(store, patient_id: int, *, keep_video: bool = False, pain_after: int | None = 1) -> int:
    """A glute-bridge session scored from a real landmark trace, stored as a live session is."""
    spec = load_exercise("glute_bridge")
    pipeline = Pipeline(spec, backend=None, record_trace=True)
    for frame in replay(load_trace(REAL_TRACE)):
        pipeline.process_pose_frame(frame)
    result = pipeline.finish()
    session_id = store.start_session(patient_id, spec.name, spec.title, spec.version, "live", pain_before=3)
    video = None
    if keep_video:
        video = store.data_dir / "videos" / f"session-{session_id}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)  # stands in for H.264
    store.finish_session(session_id, result, pain_after=pain_after, video_path=video,
                         trace_json=pipeline.trace_json(), notes="felt steady")
    return session_id


@pytest.fixture
def home(tmp_path):
    """The patient's machine: one patient, two real sessions (one with a kept video), two red-flag checks."""
    store = open_store(tmp_path / "home")
    patient_id = store.add_patient("Ana Lopez", surgery_date="2026-09-01", notes="L4-L5 microdiscectomy")
    store.record_symptom_check(patient_id, [])
    real_session(store, patient_id)
    store.record_symptom_check(patient_id, ["fever_or_chills"])
    real_session(store, patient_id, keep_video=True)
    return store, patient_id


def session_view(store, patient_id: int) -> list[dict]:
    """What the clinician's review shows of each session: the row, reps, flags, trace and video bytes."""
    out = []
    for s in sorted(store.list_sessions(patient_id), key=lambda s: s.uid):
        out.append({
            "row": {c: getattr(s, c) for c in BUNDLE_SESSION_COLUMNS if hasattr(s, c)},
            "reps": store.get_reps(s.id), "flags": store.get_flags(s.id), "trace": store.get_trace(s.id),
            "video": Path(s.video_path).read_bytes() if s.video_path else None,
        })
    return out


def checks_view(store, patient_id: int) -> list[tuple]:
    return [(c.uid, c.checked_at, c.symptoms, c.outcome, c.released_at) for c in store.list_symptom_checks(patient_id)]


def test_round_trip_gives_the_clinic_the_same_sessions_checks_and_video(home, tmp_path):
    store, patient_id = home
    out = export_bundle(store, patient_id, tmp_path / "ana.formcheck", include_video=True)
    assert (out.sessions, out.symptom_checks, out.videos) == (2, 2, 1)
    assert (out.path.stat().st_mode & 0o777) == 0o600  # health data: the owner's only

    clinic = open_store(tmp_path / "clinic")
    result = import_bundle(clinic, out.path)
    assert result.patient_created and (result.sessions_added, result.symptom_checks_added) == (2, 2)
    here = clinic.get_patient(result.patient_id)
    there = store.get_patient(patient_id)
    assert ((here.uid, here.name, here.surgery_date, here.notes)
            == (there.uid, there.name, there.surgery_date, there.notes))
    assert session_view(clinic, result.patient_id) == session_view(store, patient_id)
    assert checks_view(clinic, result.patient_id) == checks_view(store, patient_id)
    assert [r.complete for r in clinic.get_reps(clinic.list_sessions(result.patient_id)[0].id)] == [True]
    video = next(s.video_path for s in clinic.list_sessions(result.patient_id) if s.video_path)
    assert Path(video).parent == clinic.data_dir / "videos" and (Path(video).stat().st_mode & 0o777) == 0o600


def test_videos_stay_home_unless_the_patient_ticks_them(home, tmp_path):
    store, patient_id = home
    out = export_bundle(store, patient_id, tmp_path / "ana.formcheck")
    assert out.videos == 0
    assert not [n for n in zipfile.ZipFile(out.path).namelist() if n.startswith("videos/")]
    clinic = open_store(tmp_path / "clinic")
    result = import_bundle(clinic, out.path)
    assert all(s.video_path is None for s in clinic.list_sessions(result.patient_id))
    assert all(s["trace"] is not None for s in session_view(clinic, result.patient_id))  # traces always travel


def test_a_second_import_changes_nothing(home, tmp_path):
    store, patient_id = home
    path = export_bundle(store, patient_id, tmp_path / "ana.formcheck", include_video=True).path
    clinic = open_store(tmp_path / "clinic")
    first = import_bundle(clinic, path)
    before = session_view(clinic, first.patient_id), checks_view(clinic, first.patient_id)
    videos_before = sorted((clinic.data_dir / "videos").iterdir())
    again = import_bundle(clinic, path)
    assert (again.patient_id, again.patient_created) == (first.patient_id, False)
    counts = (again.sessions_added, again.sessions_updated, again.sessions_unchanged, again.symptom_checks_added)
    assert counts == (0, 0, 2, 0)
    assert (session_view(clinic, first.patient_id), checks_view(clinic, first.patient_id)) == before
    assert sorted((clinic.data_dir / "videos").iterdir()) == videos_before  # no orphan copy left behind


def test_the_patient_is_matched_by_id_not_by_name(home, tmp_path):
    store, patient_id = home
    path = export_bundle(store, patient_id, tmp_path / "ana.formcheck").path
    clinic = open_store(tmp_path / "clinic")
    namesake = clinic.add_patient("Ana Lopez")  # another patient with the same name
    result = import_bundle(clinic, path)
    assert result.patient_id != namesake and clinic.list_sessions(namesake) == []
    clinic.update_patient(result.patient_id, name="A. Lopez (bed 4)")  # the clinic renames its record
    store.record_symptom_check(patient_id, [])
    later = import_bundle(clinic, export_bundle(store, patient_id, tmp_path / "later.formcheck").path)
    assert later.patient_id == result.patient_id and later.symptom_checks_added == 1
    assert clinic.get_patient(result.patient_id).name == "A. Lopez (bed 4)"


def test_a_session_saved_again_later_replaces_the_older_copy(home, tmp_path):
    store, patient_id = home
    clinic = open_store(tmp_path / "clinic")
    first = import_bundle(clinic, export_bundle(store, patient_id, tmp_path / "1.formcheck", include_video=True).path)
    # At home, the interrupted session is completed later (pain after given): its row is saved anew.
    session = store.list_sessions(patient_id)[-1]
    later = (session.updated_at + timedelta(hours=2)).isoformat(timespec="seconds")
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE sessions SET status = 'complete', pain_after = 4, updated_at = ? WHERE id = ?",
                     (later, session.id))
    second = import_bundle(clinic, export_bundle(store, patient_id, tmp_path / "2.formcheck", include_video=True).path)
    assert (second.sessions_added, second.sessions_updated, second.sessions_unchanged) == (0, 1, 0)
    assert session_view(clinic, first.patient_id) == session_view(store, patient_id)
    assert len(clinic.list_sessions(first.patient_id)) == 2


def test_export_without_a_date_sends_what_is_new_since_the_last_export(home, tmp_path):
    store, patient_id = home
    assert export_bundle(store, patient_id, tmp_path / "1.formcheck").sessions == 2
    assert store.get_patient(patient_id).last_export_at is not None
    assert export_bundle(store, patient_id, tmp_path / "2.formcheck").sessions == 0
    real_session(store, patient_id)
    assert export_bundle(store, patient_id, tmp_path / "3.formcheck").sessions == 1
    since = export_bundle(store, patient_id, tmp_path / "4.formcheck", since=date(2000, 1, 1))
    assert since.sessions == 3 and since.symptom_checks == 2


# --- a clinician's release of a red-flag stop travels too ----------------------------------------

def _stop(store, patient_id: int):
    return next(c for c in store.list_symptom_checks(patient_id) if c.stopped)


def test_a_release_travels_with_its_stop_and_reaches_a_stop_sent_before(home, tmp_path):
    store, patient_id = home
    clinic = open_store(tmp_path / "clinic")
    first = import_bundle(clinic, export_bundle(store, patient_id, tmp_path / "1.formcheck").path)
    assert _stop(clinic, first.patient_id).released_at is None  # sent the day of the stop, not yet released
    store.release_symptom_stop(_stop(store, patient_id).id)  # the clinician releases it at home
    later = export_bundle(store, patient_id, tmp_path / "2.formcheck")  # "since the last export"
    assert (later.sessions, later.symptom_checks) == (0, 1)  # the released stop goes again
    second = import_bundle(clinic, later.path)
    assert (second.symptom_checks_added, second.stops_released) == (0, 1)
    assert second.describe().endswith("1 red-flag stop(s) released.")
    assert checks_view(clinic, first.patient_id) == checks_view(store, patient_id)
    assert _stop(clinic, first.patient_id).released_at == _stop(store, patient_id).released_at is not None
    again = import_bundle(clinic, later.path)  # a second import changes nothing
    assert again.stops_released == 0 and "released" not in again.describe()

    elsewhere = open_store(tmp_path / "elsewhere")  # a clinic that never had the stop gets it released
    fresh = import_bundle(elsewhere, export_bundle(store, patient_id, tmp_path / "3.formcheck",
                                                   since=date(2000, 1, 1)).path)
    assert checks_view(elsewhere, fresh.patient_id) == checks_view(store, patient_id)


def _without_releases(members, manifest):
    data = json.loads(members["data.json"])
    for check in data["symptom_checks"]:
        del check["released_at"]  # as formcheck wrote bundles before releases travelled
    _rewrite_data(members, manifest, data)


def _rewrite_data(members, manifest, data):
    import hashlib
    members["data.json"] = json.dumps(data).encode()
    manifest["members"]["data.json"] = {"sha256": hashlib.sha256(members["data.json"]).hexdigest(),
                                        "bytes": len(members["data.json"])}


def test_an_older_bundle_without_releases_still_imports(home, tmp_path):
    store, patient_id = home
    good = export_bundle(store, patient_id, tmp_path / "new.formcheck").path
    old = _rezip(good, tmp_path / "old.formcheck", _without_releases)
    assert all("released_at" not in c for c in read_bundle(old)["symptom_checks"])
    clinic = open_store(tmp_path / "clinic")
    result = import_bundle(clinic, old)
    assert (result.symptom_checks_added, result.stops_released) == (2, 0)
    assert checks_view(clinic, result.patient_id) == checks_view(store, patient_id)


# --- refusals: one clear BundleError, and the clinic's data folder exactly as it was ---------------

def _rezip(src: Path, dst: Path, change) -> Path:
    """Copy a bundle member by member, letting ``change(name, bytes, manifest)`` alter it."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members = change(members, manifest) or members
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, content in members.items():
            zout.writestr(name, content)
        zout.writestr("manifest.json", json.dumps(manifest))
    return dst


def _tamper_data(members, manifest):
    data = json.loads(members["data.json"])
    data["sessions"][0]["pain_after"] = 0  # a changed pain rating, checksum not updated
    members["data.json"] = json.dumps(data).encode()


def _future_version(members, manifest):
    manifest["version"] = bundle_module.VERSION + 1


def _smuggled_file(members, manifest):
    members["../../outside.txt"] = b"x"


def _bomb(members, manifest):
    zeros = b"\x00" * (50 * 1024**2)  # deflates about 1000 times
    members["traces/" + "0" * 32 + ".json"] = zeros
    import hashlib
    manifest["members"]["traces/" + "0" * 32 + ".json"] = {"sha256": hashlib.sha256(zeros).hexdigest(),
                                                           "bytes": len(zeros)}


def _released_all_clear(members, manifest):
    data = json.loads(members["data.json"])
    cleared = next(c for c in data["symptom_checks"] if c["outcome"] == "cleared")
    cleared["released_at"] = cleared["checked_at"]
    _rewrite_data(members, manifest, data)


def _bad_field(members, manifest):
    data = json.loads(members["data.json"])
    data["sessions"][0]["flag_rows"] = [{"code": "x", "severity": 'danger"><img src=x onerror=alert(1)>', "start_s": 0,
                                     "end_s": 1, "message": "m", "peak_value": None, "rep_index": None}]
    members["data.json"] = json.dumps(data).encode()
    import hashlib
    manifest["members"]["data.json"] = {"sha256": hashlib.sha256(members["data.json"]).hexdigest(),
                                        "bytes": len(members["data.json"])}


@pytest.mark.parametrize("make_bad, says", [
    (lambda good, bad: bad.write_text("just some text"), "not a readable zip"),  # renamed text file
    # cut short
    (lambda good, bad: bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2]), "not a readable zip"),
    (lambda good, bad: _rezip(good, bad, _tamper_data), "does not match its checksum"),  # edited after export
    (lambda good, bad: _rezip(good, bad, _future_version), "version 2"),  # from a newer formcheck
    (lambda good, bad: _rezip(good, bad, _smuggled_file), "unexpected file"),  # path outside the bundle
    (lambda good, bad: _rezip(good, bad, _bomb), "zip bomb"),  # expands 1000 times
    (lambda good, bad: _rezip(good, bad, _bad_field), "severity"),  # checksums fine, a value out of its range
    (lambda good, bad: _rezip(good, bad, _released_all_clear), "released_at"),  # a release of nothing
])
def test_a_bad_bundle_is_refused_and_nothing_is_imported(home, tmp_path, make_bad, says):
    store, patient_id = home
    good = export_bundle(store, patient_id, tmp_path / "good.formcheck", include_video=True).path
    bad = tmp_path / "bad.formcheck"
    make_bad(good, bad)
    clinic = open_store(tmp_path / "clinic")
    clinic.add_patient("Someone already here")
    before = _dump(clinic.db_path), sorted(p.name for p in clinic.data_dir.rglob("*"))
    with pytest.raises(BundleError, match=says):
        import_bundle(clinic, bad)
    assert (_dump(clinic.db_path), sorted(p.name for p in clinic.data_dir.rglob("*"))) == before


def test_a_bundle_over_the_size_limit_is_refused_before_it_is_read(home, tmp_path, monkeypatch):
    store, patient_id = home
    path = export_bundle(store, patient_id, tmp_path / "ana.formcheck", include_video=True).path
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", path.stat().st_size - 1)
    with pytest.raises(BundleError, match="larger than a session bundle may be"):
        read_bundle(path)


def test_a_session_of_another_patient_is_refused_whole(home, tmp_path):
    store, patient_id = home
    path = export_bundle(store, patient_id, tmp_path / "ana.formcheck").path
    clinic = open_store(tmp_path / "clinic")
    import_bundle(clinic, path)
    # A second profile on the home machine claims one of Ana's sessions (a copied database).
    other = store.add_patient("Ben")
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE sessions SET patient_id = ?, updated_at = ? WHERE id = (SELECT MIN(id) FROM sessions)",
                     (other, (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")))
    stolen = export_bundle(store, other, tmp_path / "ben.formcheck").path
    before = _dump(clinic.db_path)
    with pytest.raises(Exception, match="belongs to another patient"):
        import_bundle(clinic, stolen)
    assert _dump(clinic.db_path) == before


def _dump(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}


# --- the command line ------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_export_then_import_and_one_line_refusals(home, tmp_path):
    store, patient_id = home
    bundle = tmp_path / "ana.formcheck"
    done = _cli("export", "--data", str(store.data_dir), "-o", str(bundle))
    assert done.returncode == 0, done.stderr
    assert "2 session(s), 2 red-flag check(s), 0 video(s)" in done.stdout
    done = _cli("import", str(bundle), "--data", str(tmp_path / "clinic"))
    assert done.returncode == 0, done.stderr
    assert ("Ana Lopez (new patient): 2 session(s) added, 0 updated, 0 already here; "
            "2 red-flag check(s) added.") in done.stdout

    not_a_bundle = tmp_path / "notes.formcheck"
    not_a_bundle.write_text("hello")
    refused = _cli("import", str(not_a_bundle), "--data", str(tmp_path / "clinic"))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    store.add_patient("Ben")
    ambiguous = _cli("export", "--data", str(store.data_dir), "-o", str(tmp_path / "x.formcheck"))
    assert ambiguous.returncode == 2 and "choose one with --patient" in ambiguous.stderr
    wrong_name = _cli("export", "--data", str(store.data_dir), "--patient", "1", "-o", str(tmp_path / "x.zip"))
    assert wrong_name.returncode == 2 and ".formcheck" in wrong_name.stderr


# --- re-scoring at scale: formcheck batch over bundles ------------------------------------------------

def _scores(summary: dict) -> tuple:
    """What re-scoring decides: reps (with their times and flags) and flags."""
    return (summary["reps"],
            [(r["start_s"], r["end_s"], r["complete"], tuple(r["flags"])) for r in summary["rep_details"]],
            [(f["code"], f["severity"], f["start_s"], f["end_s"]) for f in summary["flags"]])


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_batch_rescores_a_folder_of_bundles_as_one_by_one(home, tmp_path, engine):
    from formcheck import cli
    from formcheck.bundle import bundle_traces
    from formcheck.pipeline import AnalyzeOptions, analyze

    if engine == "ray":
        pytest.importorskip("ray", reason="the ray engine needs the optional 'cluster' dependency")
    store, patient_id = home
    folder = tmp_path / "bundles"
    export_bundle(store, patient_id, folder / "ana-nov.formcheck")
    real_session(store, patient_id)
    export_bundle(store, patient_id, folder / "ana-dec.formcheck")
    # A new prescription lowers the hyperextension limit below this patient's 187-degree tops.
    prescription = tmp_path / "stricter.toml"
    prescription.write_text('[[exercise]]\nname = "glute_bridge"\nsets = 1\nreps = 10\n'
                            '[exercise.limits.lumbar_hyperextension]\nabove = 180\n')
    out = tmp_path / "out"
    status = cli.main(["batch", str(folder), "--out", str(out), "--prescription", str(prescription),
                       "--engine", engine, "--workers", "2", "--no-video"])
    assert status == 0

    from formcheck.clinic.prescription import parse_prescription
    spec = parse_prescription(prescription.read_text()).exercises[0].spec()
    rescored = 0
    for bundle in sorted(folder.glob("*.formcheck")):
        for session in bundle_traces(bundle):
            alone = tmp_path / "alone" / session.uid
            alone.mkdir(parents=True)
            (alone / "in.json").write_bytes(session.trace)
            one = analyze(alone / "in.json", spec, alone / "out", AnalyzeOptions(write_video=False)).to_dict()
            batched = json.loads((out / bundle.stem / session.uid / "summary.json").read_text())
            assert _scores(batched) == _scores(one)
            assert "lumbar_hyperextension" in [f[0] for f in _scores(batched)[2]]  # the new limit applied
            rescored += 1
    assert rescored == 3
