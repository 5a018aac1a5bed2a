"""Exercise definitions: TOML files read into validated dataclasses.

Each file in ``exercises/`` describes one exercise for clinicians and for the engine: the camera
view it needs, the signal whose rise and fall makes a repetition (or a hold), its thresholds, the
target, and the form rules with the message a patient reads. ``exercises/README.md`` documents
every field; the files themselves are commented.

A bad file raises ``SpecError`` naming the file and the field, never a bare KeyError.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from . import limits
from .limits import SEVERITIES, Range, range_problem
from .signals import OUTLINE_SIGNALS, RELATIVE_TO_START, SIGNALS, known_signal_names, speed_source
from .skeleton import SIDES
from .views import VIEW_CLASSES

VIEWS = ("side", "front", "any")  # the camera set-up the patient is told to use
# The views an exercise can be measured in (see views.py); the default follows ``view``.
DEFAULT_VIEWS = {"side": ("side",), "front": ("front", "back"), "any": VIEW_CLASSES}
POSTURES = ("supine", "prone", "quadruped", "kneeling", "standing", "side_lying", "seated")
RULE_PHASES = ("any", "rep", "top")
REP_KINDS = ("reps", "hold", "steps")
LANDMARK_PARTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index", "ear")
MAX_SPEC_BYTES = 64 * 1024
_CODE = re.compile(r"[a-z][a-z0-9_]*")  # rule codes name CSS classes, TOML keys and CSV cells


class SpecError(ValueError):
    """An exercise definition is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class RepSpec:
    """How one repetition is recognised from a signal (degrees).

    The movement goes from the rest zone to the top zone and back. ``top_deg`` above ``rest_deg``
    means the signal rises during a rep; below it, the signal falls (e.g. a knee bending).
    """

    signal: str  # may contain "{side}" when the exercise has sides
    rest_deg: float  # the rep starts when the signal leaves the rest zone and ends when it returns
    top_deg: float  # reaching this counts the rep as complete
    min_duration_s: float = 0.8  # shorter excursions are noise
    min_rest_s: float = 0.4  # the signal must stay back in the rest zone this long to end a rep
    min_rom_deg: float = 5.0  # smaller excursions are noise, not even a partial rep
    target_hold_s: float = 0.0  # prescribed time in the top zone; 0 = no hold required
    sides: tuple[str, ...] = ()  # ("left", "right") for exercises done one side at a time
    baseline_window_s: float = 0.0  # > 0: measure relative to the rest level over this window
    min_snr: float = 0.0  # > 0: a rep must exceed this many times the signal's noise
    # "reps": movements counted when complete; "hold": time in the position counts, complete when held
    # at least target_hold_s; "steps": every excursion is one step (walking), cadence is reported.
    kind: str = "reps"

    @property
    def rising(self) -> bool:
        return self.top_deg > self.rest_deg

    def signal_for(self, side: str) -> str:
        return self.signal.replace("{side}", side) if side else self.signal


@dataclass(frozen=True)
class Rule:
    """A form check: flag when ``signal`` is beyond ``above``/``below`` for ``min_duration_s``."""

    code: str
    signal: str
    message: str  # what the patient reads, in plain words
    severity: str = "warning"
    above: float = math.nan
    below: float = math.nan
    min_duration_s: float = 0.3  # debounce: a one-frame landmark jump is not a fault
    during: str = "any"  # "any" frame, only while a "rep" is under way, or only at the "top"
    title: str = ""  # clinician-facing name


@dataclass(frozen=True)
class ExerciseSpec:
    name: str  # file stem, e.g. "glute_bridge"
    title: str  # e.g. "Glute bridge"
    version: str
    description: str
    view: str
    posture: str
    floor_contacts: tuple[str, str] | None  # landmark parts on the floor at rest, for camera roll
    required_parts: tuple[str, ...]  # must be visible on the near side to count
    rep: RepSpec
    rules: tuple[Rule, ...] = ()
    messages: dict[str, str] = field(default_factory=dict)
    source_path: str = ""
    # The weeks after surgery in which this exercise is usually done (from the rehab guide);
    # outside them the app shows a caution a clinician can acknowledge. None: any time.
    usual_weeks: tuple[float, float] | None = None
    # The camera views this exercise can be measured in (views.VIEW_CLASSES); in any other view
    # nothing is counted and the patient is asked to move the camera.
    views: tuple[str, ...] = ("side",)

    def signal_names(self) -> list[str]:
        """Per-pose signals this exercise needs (rep signals for every side and rule signals)."""
        names = {speed_source(n) or n for n in self.all_signal_names()}
        names |= {RELATIVE_TO_START[n] for n in names if n in RELATIVE_TO_START}
        return sorted(n for n in names if n in SIGNALS)

    @property
    def needs_back_outline(self) -> bool:
        """True when a signal comes from the back's outline, so the pose model must produce its
        segmentation mask; the other exercises skip that work (a quarter of the model's time)."""
        return bool(OUTLINE_SIGNALS & set(self.signal_names()))

    def all_signal_names(self) -> list[str]:
        """Every signal the rep and the rules refer to, per-pose, relative or speed."""
        names = [self.rep.signal_for(s) for s in (self.rep.sides or ("",))] + [r.signal for r in self.rules]
        return sorted(set(names))

    def with_rep_targets(self, **changes: float) -> ExerciseSpec:
        """A copy with the rep's targets changed (a prescription): ``target_hold_s``, ``top_deg``, ``rest_deg``."""
        allowed = {"target_hold_s", "top_deg", "rest_deg"}
        unknown = set(changes) - allowed
        if unknown:
            raise SpecError(f"{self.name}: cannot change rep fields {sorted(unknown)}; allowed: {sorted(allowed)}")
        for key, value in changes.items():
            problem = range_problem(value, limits.HOLD_S if key == "target_hold_s" else limits.ANGLE_DEG)
            if problem:
                raise SpecError(f"{self.name}: {key} {problem}")
        rep_fields: dict[str, Any] = {k: float(v) for k, v in changes.items()}  # RepSpec's fields vary in type
        rep = replace(self.rep, **rep_fields)
        if rep.top_deg == rep.rest_deg or (rep.top_deg > rep.rest_deg) != self.rep.rising:
            raise SpecError(f"{self.name}: the target must stay on the movement's side of the rest zone")
        if rep.target_hold_s < 0 or (rep.kind == "hold" and rep.target_hold_s <= 0):
            raise SpecError(f"{self.name}: target_hold_s must be positive")
        return replace(self, rep=rep)

    def with_overrides(self, limits: dict[str, dict]) -> ExerciseSpec:
        """A copy with rule limits replaced, e.g. ``{"spinal_flexion": {"above": 15}}`` (a prescription)."""
        rules = []
        for rule in self.rules:
            change = limits.get(rule.code, {})
            unknown = set(change) - {"above", "below", "min_duration_s", "severity"}
            if unknown:
                raise SpecError(f"{self.name}: override of rule {rule.code!r} has unknown fields {sorted(unknown)}")
            rule_fields: dict[str, Any] = {k: _override(self.name, rule, k, v) for k, v in change.items()}
            rules.append(replace(rule, **rule_fields))
        unknown_codes = set(limits) - {r.code for r in self.rules}
        if unknown_codes:
            raise SpecError(f"{self.name}: no rule named {sorted(unknown_codes)}; "
                            f"rules are {[r.code for r in self.rules]}")
        return replace(self, rules=tuple(rules))


def threshold_range(signal: str) -> Range:
    """The clinical range of a rule's ``above``/``below`` on ``signal``: a speed or an angle."""
    return limits.SPEED_DEG_S if speed_source(signal) else limits.ANGLE_DEG


def _override(exercise: str, rule: Rule, key: str, value: object) -> float | str:
    """One prescribed change to a rule, checked like the definition's own value."""
    where = f"{exercise}: limits.{rule.code}.{key}"
    if key == "severity":
        if value not in SEVERITIES:
            raise SpecError(f"{where} is {value!r}; expected one of {', '.join(SEVERITIES)}")
        return value
    problem = range_problem(value, limits.DEBOUNCE_S if key == "min_duration_s" else threshold_range(rule.signal))
    if problem:
        raise SpecError(f"{where} {problem}")
    assert isinstance(value, (int, float)), "range_problem passes numbers only"
    return float(value)


# --- loading ---------------------------------------------------------------------------------

def exercises_dir() -> Path:
    """The built-in definitions: the repo's ``exercises/`` (editable install) or the wheel's copy."""
    try:
        packaged = Path(str(resources.files("formcheck.exercises")))
        if any(packaged.glob("*.toml")):
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "exercises"


def list_exercises(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or exercises_dir()).glob("*.toml"))


def load_exercise(name: str, directory: Path | None = None) -> ExerciseSpec:
    """Load a built-in (or ``directory``'s) definition by file stem, or a path to a .toml file."""
    if name.endswith(".toml") or "/" in name:
        return load_spec(Path(name))
    known = list_exercises(directory)
    if name not in known:
        raise SpecError(f"Unknown exercise {name!r}; expected one of {', '.join(known)}")
    return load_spec((directory or exercises_dir()) / f"{name}.toml")


def load_spec(path: Path) -> ExerciseSpec:
    path = Path(path)
    data = read_toml(path, MAX_SPEC_BYTES, SpecError, "exercise definition")
    return parse_spec(data, name=path.stem, source=str(path))


def read_toml(path: Path, max_bytes: int, error: type[Exception], what: str) -> dict:
    """A small TOML file's contents; a missing, oversized or malformed file raises ``error``
    with one line naming the file (``what`` says what the file should be)."""
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    if path.stat().st_size > max_bytes:
        article = "an" if what[0] in "aeiou" else "a"
        raise error(f"{path}: larger than {max_bytes // 1024} KiB; not {article} {what}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None


def parse_spec(data: dict, name: str, source: str = "<memory>") -> ExerciseSpec:
    where = _Where(source)
    _only_keys(where, "", data, {"title", "version", "description", "view", "views", "posture", "floor_contacts",
                                 "required_parts", "rep", "rules", "messages", "usual_weeks"})
    rep_data = _require(where, "rep", data.get("rep"), dict)
    _only_keys(where, "rep.", rep_data, {f for f in RepSpec.__dataclass_fields__})
    sides = tuple(_opt(where, "rep.sides", rep_data.get("sides", []), list))
    for side in sides:
        if side not in SIDES:
            raise SpecError(f"{where}: rep.sides: {side!r} is not one of {SIDES}")
    rep_signal = _signal(where, "rep.signal", _require(where, "rep.signal", rep_data.get("signal"), str), sides)
    rep = RepSpec(
        signal=rep_signal,
        rest_deg=_number(where, "rep.rest_deg", rep_data.get("rest_deg"), threshold_range(rep_signal)),
        top_deg=_number(where, "rep.top_deg", rep_data.get("top_deg"), threshold_range(rep_signal)),
        min_duration_s=_number(where, "rep.min_duration_s", rep_data.get("min_duration_s", 0.8), limits.DEBOUNCE_S),
        min_rom_deg=_number(where, "rep.min_rom_deg", rep_data.get("min_rom_deg", 5.0), limits.ROM_DEG),
        min_rest_s=_number(where, "rep.min_rest_s", rep_data.get("min_rest_s", 0.4), limits.DEBOUNCE_S),
        target_hold_s=_number(where, "rep.target_hold_s", rep_data.get("target_hold_s", 0.0), limits.HOLD_S),
        sides=sides,
        baseline_window_s=_number(where, "rep.baseline_window_s", rep_data.get("baseline_window_s", 0.0),
                                  limits.DEBOUNCE_S),
        min_snr=_number(where, "rep.min_snr", rep_data.get("min_snr", 0.0), limits.SNR),
        kind=_choice(where, "rep.kind", rep_data.get("kind", "reps"), REP_KINDS),
    )
    if rep.top_deg == rep.rest_deg:
        raise SpecError(f"{where}: rep.top_deg must differ from rep.rest_deg")
    if rep.kind == "hold" and rep.target_hold_s <= 0:
        raise SpecError(f"{where}: rep.target_hold_s must be > 0 for a hold")
    rules = []
    for i, rule_data in enumerate(_opt(where, "rules", data.get("rules", []), list)):
        key = f"rules[{i}]"
        rule_data = _require(where, key, rule_data, dict)
        _only_keys(where, key + ".", rule_data, {f for f in Rule.__dataclass_fields__})
        signal = _signal(where, f"{key}.signal", _require(where, f"{key}.signal", rule_data.get("signal"), str), ())
        code = _require(where, f"{key}.code", rule_data.get("code"), str)
        if not _CODE.fullmatch(code):
            raise SpecError(f"{where}: field {key}.code must be lower-case letters, digits and _, got {code!r}")
        rule = Rule(
            code=code,
            signal=signal,
            message=_require(where, f"{key}.message", rule_data.get("message"), str),
            severity=_choice(where, f"{key}.severity", rule_data.get("severity", "warning"), SEVERITIES),
            above=_optional_threshold(where, f"{key}.above", rule_data.get("above"), signal),
            below=_optional_threshold(where, f"{key}.below", rule_data.get("below"), signal),
            min_duration_s=_number(where, f"{key}.min_duration_s", rule_data.get("min_duration_s", 0.3),
                                   limits.DEBOUNCE_S),
            during=_choice(where, f"{key}.during", rule_data.get("during", "any"), RULE_PHASES),
            title=str(rule_data.get("title", "")),
        )
        if math.isnan(rule.above) and math.isnan(rule.below):
            raise SpecError(f"{where}: {key} ({rule.code}) needs 'above' or 'below'")
        rules.append(rule)
    codes = [r.code for r in rules]
    if len(set(codes)) != len(codes):
        raise SpecError(f"{where}: rules: duplicate codes {codes}")
    contacts = data.get("floor_contacts")
    if contacts is not None:
        contacts = tuple(_opt(where, "floor_contacts", contacts, list))
        if len(contacts) != 2 or any(c not in LANDMARK_PARTS for c in contacts):
            raise SpecError(f"{where}: floor_contacts must be two of {LANDMARK_PARTS}, got {list(contacts)}")
    required = tuple(_opt(where, "required_parts", data.get("required_parts", ["shoulder", "hip", "knee"]), list))
    for part in required:
        if part not in LANDMARK_PARTS:
            raise SpecError(f"{where}: required_parts: {part!r} is not one of {LANDMARK_PARTS}")
    messages = _messages(where, _opt(where, "messages", data.get("messages", {}), dict))
    weeks = data.get("usual_weeks")
    if weeks is not None:
        weeks = _opt(where, "usual_weeks", weeks, list)
        if len(weeks) != 2:
            raise SpecError(f"{where}: usual_weeks must be [first week, last week], got {weeks}")
        weeks = tuple(_number(where, "usual_weeks", w, limits.WEEKS) for w in weeks)
        if weeks[0] > weeks[1]:
            raise SpecError(f"{where}: usual_weeks: the first week comes after the last")
    view = _choice(where, "view", data.get("view", "side"), VIEWS)
    views = tuple(_opt(where, "views", data.get("views", list(DEFAULT_VIEWS[view])), list))
    for v in views:
        _choice(where, "views", v, VIEW_CLASSES)
    if not views or len(set(views)) != len(views):
        raise SpecError(f"{where}: views must list each view once, from {', '.join(VIEW_CLASSES)}")
    if view != "any" and not set(DEFAULT_VIEWS[view]) & set(views):
        raise SpecError(f"{where}: views {list(views)} must include the set-up view {view!r}")
    return ExerciseSpec(
        name=name,
        title=_require(where, "title", data.get("title"), str),
        version=str(data.get("version", "1")),
        description=str(data.get("description", "")).strip(),
        view=view,
        views=views,
        posture=_choice(where, "posture", data.get("posture"), POSTURES),
        floor_contacts=contacts,
        required_parts=required,
        rep=rep,
        rules=tuple(rules),
        messages=messages,
        source_path=source,
        usual_weeks=weeks,
    )


@dataclass(frozen=True)
class _Where:
    source: str

    def __str__(self) -> str:
        return self.source


def _only_keys(where: _Where, prefix: str, data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field {prefix}{unknown[0]}; expected one of {sorted(allowed)}")


def _require(where: _Where, key: str, value, kind):
    if value is None:
        raise SpecError(f"{where}: missing field {key}")
    return _opt(where, key, value, kind)


def _opt(where: _Where, key: str, value, kind):
    if not isinstance(value, kind):
        raise SpecError(f"{where}: field {key} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _messages(where: _Where, table: dict) -> dict[str, str]:
    """A ``[messages]`` table: each key one of the engine's messages, each value a non-empty text.
    A misspelt key would otherwise leave the default in place without a word."""
    # Imported here: the engine package imports this module, so a top-level import would be circular.
    from .engine.messages import DEFAULT_MESSAGES

    for key, text in table.items():
        if key not in DEFAULT_MESSAGES:
            raise SpecError(f"{where}: [messages] has no message called {key!r}; "
                            f"the messages are {', '.join(DEFAULT_MESSAGES)}")
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"{where}: [messages] {key} must be a non-empty text")
    return dict(table)


def _number(where: _Where, key: str, value, allowed: Range) -> float:
    """A finite number inside its clinical range (limits.py), or a SpecError naming the field."""
    if value is None:
        raise SpecError(f"{where}: missing field {key}")
    problem = range_problem(value, allowed)
    if problem:
        raise SpecError(f"{where}: field {key} {problem}")
    return float(value)


def _optional_threshold(where: _Where, key: str, value, signal: str) -> float:
    """A rule's ``above``/``below``: NaN when absent (no limit that way), else a checked number."""
    return math.nan if value is None else _number(where, key, value, threshold_range(signal))


def _choice(where: _Where, key: str, value, choices) -> str:
    if value not in choices:
        raise SpecError(f"{where}: field {key} is {value!r}; expected one of {', '.join(choices)}")
    return value


def _signal(where: _Where, key: str, name: str, sides: tuple[str, ...]) -> str:
    candidates = [name.replace("{side}", s) for s in sides] if "{side}" in name else [name]
    if "{side}" in name and not sides:
        raise SpecError(f"{where}: {key} uses {{side}} but rep.sides is empty")
    for candidate in candidates:
        if candidate not in known_signal_names():
            raise SpecError(f"{where}: {key}: unknown signal {candidate!r}; "
                            f"known signals: {', '.join(known_signal_names())}")
    return name
