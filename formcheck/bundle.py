"""Session bundles: one file that carries a patient's sessions from home to the clinic.

The patient exercises on their own laptop; the clinician reviews on another machine. A bundle
(``*.formcheck``) is a zip the patient chooses to send, holding:

- ``data.json``: the patient's profile (with the stable ``uid`` made when the profile was created),
  the finished sessions (reps, flags, pain before and after, notes, the summary) and the red-flag
  checks, with a clinician's release of a stop (``released_at``; bundles written before it was
  carried lack the key and still import);
- ``traces/<session uid>.json``: each session's landmark trace, so the clinic can re-score it;
- ``videos/<session uid>.mp4``: a kept video, only when the patient ticked "include videos";
- ``manifest.json``: the format and version and the SHA-256 and size of every other member.

Importing matches the patient by uid (never by name), adds a session once (a second import of the
same bundle changes nothing), replaces a session whose bundled copy was saved later (an interrupted
session completed afterwards), adds each red-flag check once, and records a release of a stop that
reached the clinic before it was released. A bundle that is not a zip, is
damaged, was altered after export (a checksum differs), has an unknown format version, is too large,
or would expand far beyond its size (a zip bomb) is refused with one ``BundleError`` line, checked
in full before anything is written: nothing is ever half-imported.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .clinic.red_flags import CHECK_OUTCOMES, RED_FLAG_SYMPTOMS
from .days import local_midnight
from .limits import SEVERITIES
from .private_files import make_private_dir
from .store import (
    BUNDLE_FLAG_COLUMNS,
    BUNDLE_REP_COLUMNS,
    BUNDLE_SESSION_COLUMNS,
    FINAL_STATUSES,
    PAIN_MAX,
    PAIN_MIN,
    SOURCES,
    VIDEO_DIR,
    Store,
)

FORMAT = "formcheck-bundle"
VERSION = 1
SUFFIX = ".formcheck"

# Limits, checked from the zip's directory before anything is read, then again while reading
# (a directory can lie). A bundle of a month of sessions without video is a few MB; with kept
# videos (each upload is at most 500 MB) it stays well under the bundle limit.
MAX_BUNDLE_BYTES = 2 * 1024**3
MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = {"data.json": 64 * 1024**2, "traces/": 512 * 1024**2, "videos/": 1024**3}
MAX_EXPANDED_BYTES = 4 * 1024**3
# Landmark JSON deflates about 3-10 times; kept H.264 video not at all. Zeros or a repeated pattern
# deflate 1000 times: a member expanding over 100 times its stored size is a zip bomb, not a session.
MAX_EXPANSION_RATIO = 100
_RATIO_APPLIES_FROM_BYTES = 1024**2  # tiny members (an empty list) may compress better, harmlessly

_UID = re.compile(r"[0-9a-f]{32}")
_MEMBER = re.compile(r"(data\.json|traces/[0-9a-f]{32}\.json|videos/[0-9a-f]{32}\.mp4)")
# Timestamps as the store writes them (UTC, to the second), so that they compare as text.
_UTC_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
EVERYTHING = datetime(1970, 1, 1, tzinfo=UTC)  # export_bundle(since=EVERYTHING): every session
_CHUNK = 1024**2


class BundleError(ValueError):
    """A bundle cannot be written or read; the message says why, in one line."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    patient_name: str
    sessions: int
    symptom_checks: int
    videos: int
    size_bytes: int


@dataclass(frozen=True)
class ImportResult:
    patient_id: int
    patient_name: str
    patient_created: bool
    sessions_added: int
    sessions_updated: int
    sessions_unchanged: int
    symptom_checks_added: int
    stops_released: int = 0  # red-flag stops already here that the bundle says a clinician released

    def describe(self) -> str:
        """One line for the person importing."""
        who = f"{self.patient_name} ({'new patient' if self.patient_created else 'known patient'})"
        released = f" {self.stops_released} red-flag stop(s) released." if self.stops_released else ""
        return (f"{who}: {self.sessions_added} session(s) added, {self.sessions_updated} updated, "
                f"{self.sessions_unchanged} already here; {self.symptom_checks_added} red-flag check(s) added."
                + released)


# --- export --------------------------------------------------------------------------------------

def export_bundle(store: Store, patient_id: int, out_path: str | Path, *, since: date | datetime | None = None,
                  include_video: bool = False) -> ExportResult:
    """Write the patient's sessions into ``out_path`` (a ``.formcheck`` file, replaced atomically).

    Without ``since``: every session saved since the patient's last export (all of them the first
    time). Videos go in only with ``include_video``: the patient decides what leaves the machine.
    """
    patient = store.get_patient(patient_id)
    if since is None or isinstance(since, datetime):
        start = since
    else:
        start = local_midnight(since)
    rows = store.bundle_rows(patient_id, since=start, after_last_export=since is None)
    out = Path(out_path)
    if out.suffix != SUFFIX:
        raise BundleError(f"{out}: a session bundle's name ends in {SUFFIX}")
    data: dict[str, Any] = {"patient": _pick(rows["patient"], ("uid", "name", "surgery_date", "notes", "created_at")),
            "sessions": [], "symptom_checks": [_check_out(c) for c in rows["symptom_checks"]]}
    members: dict[str, bytes | Path] = {}
    for s in rows["sessions"]:
        session = _pick(s, BUNDLE_SESSION_COLUMNS)
        session["rep_rows"] = [_pick(r, BUNDLE_REP_COLUMNS) for r in s["rep_rows"]]
        session["flag_rows"] = [_pick(f, BUNDLE_FLAG_COLUMNS) for f in s["flag_rows"]]
        session["trace"] = s["trace_zlib"] is not None
        if session["trace"]:
            members[f"traces/{s['uid']}.json"] = zlib.decompress(s["trace_zlib"])
        video = Path(s["video_path"]) if s["video_path"] else None
        if include_video and video is not None and video.is_file():
            session["video"] = True
            members[f"videos/{s['uid']}.mp4"] = video
        else:
            session["video"] = False
        data["sessions"].append(session)
    members = {"data.json": json.dumps(data, indent=1, allow_nan=False).encode("utf-8"), **members}
    size = _write_zip(out, members)
    store.mark_exported(patient_id, {s["uid"]: s["updated_at"] for s in data["sessions"]},
                        [c["uid"] for c in data["symptom_checks"]])
    return ExportResult(out, patient.name, len(data["sessions"]), len(data["symptom_checks"]),
                        sum(s["video"] for s in data["sessions"]), size)


def _pick(row: dict, columns) -> dict:
    return {c: row[c] for c in columns}


def _check_out(row: dict) -> dict:
    return {"uid": row["uid"], "checked_at": row["checked_at"], "symptoms": json.loads(row["symptoms"]),
            "outcome": row["outcome"], "released_at": row["released_at"]}


def _write_zip(out: Path, members: dict[str, bytes | Path]) -> int:
    """The zip with a manifest of checksums, written to a temporary name, synced, then renamed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                checksums: dict[str, dict[str, object]] = {}
                manifest = {"format": FORMAT, "version": VERSION, "formcheck": __version__, "members": checksums}
                for name, content in members.items():
                    digest, size = hashlib.sha256(), 0
                    # Video is stored as it is: H.264 does not deflate, and storing keeps the ratio check honest.
                    method = zipfile.ZIP_STORED if name.startswith("videos/") else zipfile.ZIP_DEFLATED
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = method
                    with zf.open(info, "w", force_zip64=True) as dst:
                        chunks = [content] if isinstance(content, bytes) else _file_chunks(content)
                        for chunk in chunks:
                            digest.update(chunk)
                            size += len(chunk)
                            dst.write(chunk)
                    checksums[name] = {"sha256": digest.hexdigest(), "bytes": size}
                zf.writestr("manifest.json", json.dumps(manifest, indent=1))
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o600)  # health data: readable by its owner only
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out.stat().st_size


def _file_chunks(path: Path):
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


# --- import --------------------------------------------------------------------------------------

def import_bundle(store: Store, path: str | Path) -> ImportResult:
    """Check the whole bundle, then add it to ``store`` in one transaction (see the module docstring)."""
    path = Path(path)
    video_dir = store.data_dir / VIDEO_DIR
    with _open_checked(path) as bundle:
        data = bundle.data
        sessions = {s["uid"]: s for s in data["sessions"]}
        for s in data["sessions"]:  # compressed here, not while the database is locked
            s["trace_zlib"] = zlib.compress(bundle.read(f"traces/{s['uid']}.json")) if s["trace"] else None
        videos: dict[str, str] = {}
        try:
            for uid, s in sessions.items():
                if s["video"]:
                    make_private_dir(video_dir)
                    target = video_dir / f"import-{uid}-{os.urandom(4).hex()}.mp4"
                    bundle.extract_to(f"videos/{uid}.mp4", target)
                    videos[uid] = str(target)
            merge = store.merge_bundle_rows(data, videos)
        except BaseException:
            for video in videos.values():
                Path(video).unlink(missing_ok=True)
            raise
    for uid, video in videos.items():  # a session already here, unchanged, keeps its own copy
        if uid not in merge.written_uids:
            Path(video).unlink(missing_ok=True)
    for stale in merge.stale_videos:
        if Path(stale).resolve().is_relative_to(store.data_dir.resolve()):
            Path(stale).unlink(missing_ok=True)
    return ImportResult(merge.patient_id, data["patient"]["name"], merge.patient_created, merge.sessions_added,
                        merge.sessions_updated, merge.sessions_unchanged, merge.checks_added, merge.stops_released)


@dataclass(frozen=True)
class BundledSession:
    """One session of a bundle, as re-scoring needs it."""

    uid: str
    exercise: str
    started_at: str  # ISO 8601, UTC
    trace: bytes | None  # the landmark trace (formcheck-trace/v1 JSON), None when the session has none


def bundle_traces(path: str | Path) -> list[BundledSession]:
    """Every session of a (fully checked) bundle with its landmark trace, oldest first."""
    with _open_checked(Path(path)) as bundle:
        return [BundledSession(s["uid"], s["exercise"], s["started_at"],
                               bundle.read(f"traces/{s['uid']}.json") if s["trace"] else None)
                for s in bundle.data["sessions"]]


def read_bundle(path: str | Path) -> dict:
    """The bundle's ``data.json`` after every check (limits, checksums, fields); BundleError otherwise."""
    with _open_checked(Path(path)) as bundle:
        return bundle.data


class _CheckedBundle:
    """An open bundle whose directory, manifest, checksums and data have all been checked."""

    def __init__(self, path: Path):
        self.path = path
        if not path.is_file():
            raise BundleError(f"{path}: no such file")
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise BundleError(f"{path}: {size / 1024**3:.1f} GB is larger than a session bundle may be "
                              f"({MAX_BUNDLE_BYTES // 1024**3} GB)")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BundleError(f"{path}: not a formcheck session bundle (not a readable zip: {exc})") from None
        try:
            self._check_directory()
            self.manifest = self._read_manifest()
            for name in self.manifest["members"]:
                self.read(name, keep=False)  # every checksum, before anything is used
            self.data = _checked_data(json.loads(self.read("data.json")), self.manifest, path)
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> _CheckedBundle:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def _check_directory(self) -> None:
        infos = self.zip.infolist()
        names = [i.filename for i in infos]
        if len(infos) > MAX_MEMBERS:
            raise BundleError(f"{self.path}: {len(infos)} files inside; a session bundle has at most {MAX_MEMBERS}")
        if len(set(names)) != len(names):
            raise BundleError(f"{self.path}: a file appears twice inside; the bundle was altered")
        if "manifest.json" not in names:
            raise BundleError(f"{self.path}: not a formcheck session bundle (no manifest.json)")
        total = 0
        for info in infos:
            if info.filename != "manifest.json" and not _MEMBER.fullmatch(info.filename):
                raise BundleError(f"{self.path}: unexpected file {info.filename!r} inside; the bundle was altered")
            if info.flag_bits & 0x1:
                raise BundleError(f"{self.path}: encrypted files inside; not a formcheck session bundle")
            limit = _member_limit(info.filename)
            if info.file_size > limit:
                raise BundleError(f"{self.path}: {info.filename} would expand to {info.file_size} bytes, "
                                  f"more than the {limit} allowed")
            if (info.file_size > _RATIO_APPLIES_FROM_BYTES
                    and info.file_size > MAX_EXPANSION_RATIO * max(info.compress_size, 1)):
                ratio = info.file_size // max(info.compress_size, 1)
                raise BundleError(f"{self.path}: {info.filename} would expand {ratio} times its size "
                                  "(a zip bomb); refused")
            total += info.file_size
        if total > MAX_EXPANDED_BYTES:
            raise BundleError(f"{self.path}: would expand to {total / 1024**3:.1f} GB, more than the "
                              f"{MAX_EXPANDED_BYTES // 1024**3} GB a session bundle may hold")

    def _read_manifest(self) -> dict:
        try:
            manifest = json.loads(self._read_raw("manifest.json", 1024**2))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BundleError(f"{self.path}: manifest.json is damaged ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise BundleError(f"{self.path}: not a formcheck session bundle (format {found!r})")
        version = manifest.get("version")
        if version != VERSION:
            raise BundleError(f"{self.path}: session bundle version {version!r}; this formcheck reads version "
                              f"{VERSION} (update formcheck to read newer bundles)")
        members = manifest.get("members")
        names = set(self.zip.namelist()) - {"manifest.json"}
        if not isinstance(members, dict) or set(members) != names or "data.json" not in names:
            raise BundleError(f"{self.path}: the files inside do not match its manifest; the bundle was altered")
        for name, entry in members.items():
            if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                    and isinstance(entry.get("bytes"), int)):
                raise BundleError(f"{self.path}: manifest entry for {name} is damaged")
        return manifest

    def _read_raw(self, name: str, limit: int) -> bytes:
        return b"".join(self._chunks(name, limit))

    def _chunks(self, name: str, limit: int):
        read = 0
        try:
            with self.zip.open(name) as src:
                while chunk := src.read(_CHUNK):
                    read += len(chunk)
                    if read > limit:
                        raise BundleError(f"{self.path}: {name} expands past its limit ({limit} bytes); refused")
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise BundleError(f"{self.path}: {name} is damaged ({exc})") from None

    def read(self, name: str, keep: bool = True) -> bytes:
        """A member's bytes, checked against the manifest's size and SHA-256."""
        entry = self.manifest["members"][name]
        digest, size, parts = hashlib.sha256(), 0, []
        for chunk in self._chunks(name, min(entry["bytes"], _member_limit(name))):
            digest.update(chunk)
            size += len(chunk)
            if keep:
                parts.append(chunk)
        if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
            raise BundleError(f"{self.path}: {name} does not match its checksum; the bundle was altered or damaged")
        return b"".join(parts)

    def extract_to(self, name: str, target: Path) -> None:
        """Copy a (checked) member to ``target``, checking it again on the way (the file may change)."""
        entry = self.manifest["members"][name]
        digest = hashlib.sha256()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as dst:
                for chunk in self._chunks(name, entry["bytes"]):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if digest.hexdigest() != entry["sha256"]:
                raise BundleError(f"{self.path}: {name} does not match its checksum; the bundle was altered")
        except BaseException:
            target.unlink(missing_ok=True)
            raise


def _open_checked(path: Path) -> _CheckedBundle:
    return _CheckedBundle(path)


def _member_limit(name: str) -> int:
    for prefix, limit in MAX_MEMBER_BYTES.items():
        if name.startswith(prefix):
            return limit
    return 1024**2  # manifest.json


# --- checking data.json: every field a type and a range, named in the error ------------------------

class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, what: str):
        raise BundleError(f"{self.path}: data.json: {where} {what}; the bundle is damaged or was not made by formcheck")

    def obj(self, value, where: str, keys) -> dict:
        if not isinstance(value, dict):
            self.fail(where, "is not an object")
        missing = [k for k in keys if k not in value]
        if missing:
            self.fail(where, f"lacks {missing[0]!r}")
        return value

    def text(self, value, where: str, max_len: int = 10_000, pattern: re.Pattern | None = None,
             empty: bool = True) -> str:
        if not isinstance(value, str) or len(value) > max_len or (not empty and not value.strip()):
            self.fail(where, "is not a valid text")
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(where, f"has an unexpected value {value[:40]!r}")
        return value

    def opt_text(self, value, where: str, **kwargs) -> str | None:
        return None if value is None else self.text(value, where, **kwargs)

    def number(self, value, where: str, low: float = -1e6, high: float = 1e6, whole: bool = False,
               optional: bool = False) -> float | None:
        if value is None and optional:
            return None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not low <= value <= high or (whole and value != int(value)):
            self.fail(where, f"is {value!r}, not a {'whole ' if whole else ''}number from {low:g} to {high:g}")
        return value

    def choice(self, value, where: str, choices) -> str:
        if value not in choices:
            self.fail(where, f"is {value!r}; expected one of {', '.join(choices)}")
        return value


def _checked_data(data, manifest: dict, path: Path) -> dict:
    c = _Checker(path)
    c.obj(data, "the file", ("patient", "sessions", "symptom_checks"))
    p = c.obj(data["patient"], "patient", ("uid", "name", "surgery_date", "notes", "created_at"))
    c.text(p["uid"], "patient.uid", pattern=_UID)
    c.text(p["name"], "patient.name", max_len=200, empty=False)
    c.opt_text(p["surgery_date"], "patient.surgery_date", pattern=re.compile(r"\d{4}-\d\d-\d\d"))
    c.text(p["notes"], "patient.notes")
    c.text(p["created_at"], "patient.created_at", pattern=_UTC_TIMESTAMP)
    if not isinstance(data["sessions"], list) or not isinstance(data["symptom_checks"], list):
        c.fail("sessions or symptom_checks", "is not a list")
    seen: set[str] = set()
    members = manifest["members"]
    for i, s in enumerate(data["sessions"]):
        where = f"sessions[{i}]"
        c.obj(s, where, (*BUNDLE_SESSION_COLUMNS, "rep_rows", "flag_rows", "trace", "video"))
        uid = c.text(s["uid"], f"{where}.uid", pattern=_UID)
        if uid in seen:
            c.fail(f"{where}.uid", "appears twice")
        seen.add(uid)
        c.text(s["exercise"], f"{where}.exercise", pattern=_CODE)
        c.text(s["exercise_title"], f"{where}.exercise_title", max_len=200)
        c.text(s["spec_version"], f"{where}.spec_version", max_len=40)
        c.choice(s["source"], f"{where}.source", SOURCES)
        c.choice(s["status"], f"{where}.status", FINAL_STATUSES)
        for key in ("started_at", "updated_at"):
            c.text(s[key], f"{where}.{key}", pattern=_UTC_TIMESTAMP)
        c.opt_text(s["ended_at"], f"{where}.ended_at", pattern=_UTC_TIMESTAMP)
        c.number(s["duration_s"], f"{where}.duration_s", 0, 24 * 3600)
        for key in ("frames", "frames_with_pose", "reps", "partial_reps"):
            c.number(s[key], f"{where}.{key}", 0, 1e8, whole=True)
        for key in ("pain_before", "pain_after"):
            c.number(s[key], f"{where}.{key}", PAIN_MIN, PAIN_MAX, whole=True, optional=True)
        c.text(s["notes"], f"{where}.notes")
        if s["summary_json"] is not None:
            c.text(s["summary_json"], f"{where}.summary_json", max_len=16 * 1024**2)
            try:
                json.loads(s["summary_json"])
            except ValueError:
                c.fail(f"{where}.summary_json", "is not JSON")
        for flag_name, member in (("trace", f"traces/{uid}.json"), ("video", f"videos/{uid}.mp4")):
            if not isinstance(s[flag_name], bool) or s[flag_name] != (member in members):
                c.fail(f"{where}.{flag_name}", "does not match the files inside")
        if not isinstance(s["rep_rows"], list) or not isinstance(s["flag_rows"], list):
            c.fail(where, "has rep_rows or flag_rows that are not lists")
        for j, r in enumerate(s["rep_rows"]):
            w = f"{where}.rep_rows[{j}]"
            c.obj(r, w, BUNDLE_REP_COLUMNS)
            c.number(r["rep_index"], f"{w}.rep_index", 0, 1e6, whole=True)
            c.choice(r["side"], f"{w}.side", ("", "left", "right"))
            for key in ("start_s", "peak_s", "end_s", "hold_s"):
                c.number(r[key], f"{w}.{key}", 0, 24 * 3600)
            for key in ("peak_deg", "rom_deg", "low_deg"):
                c.number(r[key], f"{w}.{key}", -1e4, 1e4, optional=True)
            c.choice(r["complete"], f"{w}.complete", (0, 1))
            try:
                codes = json.loads(c.text(r["flags_json"], f"{w}.flags_json", max_len=4096))
            except ValueError:
                codes = None
            if not isinstance(codes, list) or not all(isinstance(x, str) and _CODE.fullmatch(x) for x in codes):
                c.fail(f"{w}.flags_json", "is not a list of flag codes")
        for j, f in enumerate(s["flag_rows"]):
            w = f"{where}.flag_rows[{j}]"
            c.obj(f, w, BUNDLE_FLAG_COLUMNS)
            c.text(f["code"], f"{w}.code", pattern=_CODE)
            c.choice(f["severity"], f"{w}.severity", SEVERITIES)
            c.number(f["start_s"], f"{w}.start_s", 0, 24 * 3600)
            c.number(f["end_s"], f"{w}.end_s", 0, 24 * 3600)
            c.text(f["message"], f"{w}.message", max_len=1000)
            c.number(f["peak_value"], f"{w}.peak_value", -1e6, 1e6, optional=True)
            c.number(f["rep_index"], f"{w}.rep_index", 0, 1e6, whole=True, optional=True)
    for i, check in enumerate(data["symptom_checks"]):
        where = f"symptom_checks[{i}]"
        c.obj(check, where, ("uid", "checked_at", "symptoms", "outcome"))
        c.text(check["uid"], f"{where}.uid", pattern=_UID)
        c.text(check["checked_at"], f"{where}.checked_at", pattern=_UTC_TIMESTAMP)
        if not isinstance(check["symptoms"], list) or not all(x in RED_FLAG_SYMPTOMS for x in check["symptoms"]):
            c.fail(f"{where}.symptoms", "is not a list of red-flag symptom codes")
        c.choice(check["outcome"], f"{where}.outcome", CHECK_OUTCOMES)
        if (check["outcome"] == "stopped") != bool(check["symptoms"]):
            c.fail(f"{where}.outcome", "does not follow from its symptoms")
        # Optional: bundles written before releases travelled lack it (the same format version).
        released = c.opt_text(check.get("released_at"), f"{where}.released_at", pattern=_UTC_TIMESTAMP)
        if released is not None and check["outcome"] != "stopped":
            c.fail(f"{where}.released_at", "is set on a check that stopped nothing")
    unused = set(members) - {"data.json"} - {f"traces/{u}.json" for u in seen} - {f"videos/{u}.mp4" for u in seen}
    if unused:
        c.fail("sessions", f"do not account for {sorted(unused)[0]}")
    return data


