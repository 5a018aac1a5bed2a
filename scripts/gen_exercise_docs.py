"""Write the generated sections of exercises/README.md from the code; the prose around them is
hand-written and kept.

Two sections, each between a BEGIN and an END marker line:
- ``fields``: every field an exercise TOML file may have, with its type, allowed values and default.
  Defaults are read back from ``spec.parse_spec`` on a minimal definition, choices from spec.py's
  tuples (``VIEWS``, ``POSTURES``, ...), number ranges from limits.py. Which range each number
  field has is the one fact stated here (in ``RANGES``); tests/unit/test_exercise_docs.py checks every
  one of them against the error ``parse_spec`` gives for a value outside it.
- ``signals``: every signal an exercise may use (signals.SIGNALS and RELATIVE_TO_START), with its
  unit, what it measures (the function's docstring), the views it is measured in from the picture
  (views.views_measuring) and whether it has a 3D version (world_signals.WORLD_SIGNALS).

Usage: .venv/bin/python scripts/gen_exercise_docs.py [--check]
(--check writes nothing and exits 1 when the README differs from what would be written.)
"""
from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "exercises" / "README.md"
COMMAND = ".venv/bin/python scripts/gen_exercise_docs.py"
if str(ROOT) not in sys.path:  # run as a script from anywhere: import the repo's formcheck
    sys.path.insert(0, str(ROOT))

from formcheck import limits, signals, spec  # noqa: E402 - after the sys.path line above
from formcheck.engine import DEFAULT_MESSAGES  # noqa: E402 - as formcheck
from formcheck.limits import Range  # noqa: E402 - as formcheck
from formcheck.skeleton import SIDES  # noqa: E402 - as formcheck
from formcheck.views import VIEW_CLASSES, views_measuring  # noqa: E402 - as formcheck
from formcheck.world_signals import NEEDS_FLOOR, WORLD_SIGNALS  # noqa: E402 - as formcheck

# The smallest definition parse_spec accepts: everything else takes its default.
MINIMAL_RULE: dict[str, Any] = {"code": "example", "signal": "hip_extension_deg", "message": "Example.", "above": 190}
MINIMAL: dict[str, Any] = {"title": "Example", "posture": "supine",
           "rep": {"signal": "hip_extension_deg", "rest_deg": 150, "top_deg": 168}, "rules": [MINIMAL_RULE]}

ANGLE_OR_SPEED = "threshold"  # angles (limits.ANGLE_DEG), or limits.SPEED_DEG_S on a *_speed_deg_s signal
# Number fields and the range parse_spec holds them to (TOML key as in error messages).
RANGES: dict[str, Range | str] = {
    "usual_weeks": limits.WEEKS,
    "rep.rest_deg": ANGLE_OR_SPEED,
    "rep.top_deg": ANGLE_OR_SPEED,
    "rep.min_duration_s": limits.DEBOUNCE_S,
    "rep.min_rest_s": limits.DEBOUNCE_S,
    "rep.min_rom_deg": limits.ROM_DEG,
    "rep.target_hold_s": limits.HOLD_S,
    "rep.baseline_window_s": limits.DEBOUNCE_S,
    "rep.min_snr": limits.SNR,
    "rules.above": ANGLE_OR_SPEED,
    "rules.below": ANGLE_OR_SPEED,
    "rules.min_duration_s": limits.DEBOUNCE_S,
}


def _code(values) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _range(r: Range | str) -> str:
    if r == ANGLE_OR_SPEED:
        a, s = limits.ANGLE_DEG, limits.SPEED_DEG_S
        return (f"number, {a.low:g} to {a.high:g} {a.unit} ({s.low:g} to {s.high:g} {s.unit} on a "
                f"`*{signals.SPEED_SUFFIX}` signal)")
    assert isinstance(r, Range)
    return f"number, {r.low:g} to {r.high:g} {r.unit}"


def _default(value: object) -> str:
    if value is None or value == "" or value == () or value == {}:
        return "none"
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"  # as written in TOML
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _accepted_keys(data: dict, prefix: str) -> list[str]:
    """The keys parse_spec accepts at one level, read from its refusal of an unknown one."""
    try:
        spec.parse_spec(data, name="example")
    except spec.SpecError as exc:
        found = re.search(r"unknown field " + re.escape(prefix) + r"zzz_unknown; expected one of (\[.*\])", str(exc))
        if found:
            return sorted(ast.literal_eval(found.group(1)))
        raise RuntimeError(f"parse_spec's refusal of an unknown {prefix or 'top-level '}field changed: {exc}") from None
    raise RuntimeError(f"parse_spec accepted an unknown {prefix or 'top-level '}field")


def field_rows() -> dict[str, list[tuple[str, str, str, str]]]:
    """Per TOML table: (field, required, allowed values, default) rows."""
    parsed = spec.parse_spec(MINIMAL, name="example")
    rep, rule = parsed.rep, parsed.rules[0]
    views_default = "; ".join(f"{_code([v])}: {_default(spec.DEFAULT_VIEWS[v])}" for v in spec.VIEWS)
    top: dict[str, tuple[str, str, str]] = {
        "title": ("yes", "text", "-"),
        "version": ("", "text (bump it when a threshold changes: it is stored with every session)",
                    _default(parsed.version)),
        "description": ("", "text", _default(parsed.description)),
        "view": ("", "one of " + _code(spec.VIEWS), _default(parsed.view)),
        "views": ("", "a list of " + _code(VIEW_CLASSES) + ", each once, including the set-up view", views_default),
        "posture": ("yes", "one of " + _code(spec.POSTURES), "-"),
        "floor_contacts": ("", "two of " + _code(spec.LANDMARK_PARTS), _default(parsed.floor_contacts)),
        "required_parts": ("", "a list of " + _code(spec.LANDMARK_PARTS), _default(parsed.required_parts)),
        "usual_weeks": ("", "[first week, last week], " + _range(RANGES["usual_weeks"]) + ", first <= last",
                        "none (any time)"),
        "rep": ("yes", "a table: `[rep]` below", "-"),
        "rules": ("", "an array of tables: `[[rules]]` below (codes unique)", "none"),
        "messages": ("", "a table of texts: `[messages]` below", "none (the defaults below)"),
    }
    rep_rows: dict[str, tuple[str, str, str]] = {
        "signal": ("yes", "a signal name (below); may contain `{side}` when `sides` is set", "-"),
        "sides": ("", "a list of " + _code(SIDES), _default(rep.sides)),
        "kind": ("", "one of " + _code(spec.REP_KINDS), _default(rep.kind)),
        "rest_deg": ("yes", _range(RANGES["rep.rest_deg"]), "-"),
        "top_deg": ("yes", _range(RANGES["rep.top_deg"]) + "; not equal to `rest_deg`", "-"),
    }
    for key in ("min_duration_s", "min_rest_s", "min_rom_deg", "target_hold_s", "baseline_window_s", "min_snr"):
        allowed = _range(RANGES[f"rep.{key}"])
        if key == "target_hold_s":
            allowed += "; above 0 when `kind` is `hold`"
        value = getattr(rep, key)
        rep_rows[key] = ("", allowed, _default(value) + (" (off)" if value == 0 and key != "target_hold_s" else ""))
    rule_rows: dict[str, tuple[str, str, str]] = {
        "code": ("yes", f"lower-case letters, digits and `_` (`{spec._CODE.pattern}`), unique in the file", "-"),
        "title": ("", "text", _default(rule.title)),
        "signal": ("yes", "a signal name (below), without `{side}`", "-"),
        "above": ("one of the two", _range(RANGES["rules.above"]), "none"),
        "below": ("one of the two", _range(RANGES["rules.below"]), "none"),
        "min_duration_s": ("", _range(RANGES["rules.min_duration_s"]), _default(rule.min_duration_s)),
        "during": ("", "one of " + _code(spec.RULE_PHASES), _default(rule.during)),
        "severity": ("", "one of " + _code(limits.SEVERITIES), _default(rule.severity)),
        "message": ("yes", "text", "-"),
    }
    accepted = {
        "top": _accepted_keys({**MINIMAL, "zzz_unknown": 1}, ""),
        "rep": _accepted_keys({**MINIMAL, "rep": {**MINIMAL["rep"], "zzz_unknown": 1}}, "rep."),
        "rules": _accepted_keys({**MINIMAL, "rules": [{**MINIMAL_RULE, "zzz_unknown": 1}]}, "rules[0]."),
    }
    tables = {"top": top, "rep": rep_rows, "rules": rule_rows}
    out = {}
    for name, rows in tables.items():
        if sorted(rows) != accepted[name]:
            raise RuntimeError(f"{name}: parse_spec accepts {accepted[name]}, this script documents {sorted(rows)}: "
                               "describe the new field in scripts/gen_exercise_docs.py")
        out[name] = [(key, *rows[key]) for key in rows]
    return out


def fields_section() -> str:
    rows = field_rows()
    titles = {"top": "Top level", "rep": "`[rep]`", "rules": "`[[rules]]`"}
    lines = []
    for name, title in titles.items():
        lines += [f"#### {title}", "", "| field | required | allowed values | default |", "|---|---|---|---|"]
        lines += [f"| `{key}` | {req or 'no'} | {allowed} | {default} |" for key, req, allowed, default in rows[name]]
        lines.append("")
    lines += ["#### `[messages]`", "",
              "Any of these keys, each a non-empty text; a key not set keeps the default. Any other key is "
              "refused (a misspelt key would leave the default in place without a word).", "",
              "| key | default |", "|---|---|"]
    lines += [f"| `{key}` | {_cell(text)} |" for key, text in DEFAULT_MESSAGES.items()]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Prose for a table cell: one line, reStructuredText's ``code`` as Markdown's, no bare pipes."""
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace("``", "`").replace("|", "\\|")


def _unit(name: str) -> str:
    if name.endswith(signals.SPEED_SUFFIX):
        return "degrees per second"
    if name.endswith("_pct"):
        return "percent"
    if name.endswith("_deg"):
        return "degrees"
    raise RuntimeError(f"signal {name!r}: no unit suffix (_deg, _pct, {signals.SPEED_SUFFIX})")


def _views(name: str) -> str:
    base = signals.RELATIVE_TO_START.get(name, name)
    in_picture = views_measuring(base)
    return "all" if set(in_picture) == set(VIEW_CLASSES) else ", ".join(in_picture)


def _three_d(name: str) -> str:
    if name not in WORLD_SIGNALS:
        return "no"
    return "yes, with `floor_contacts`" if name in NEEDS_FLOOR else "yes"


def signal_rows() -> list[tuple[str, str, str, str, str, str]]:
    """(names, unit, source, measured from the picture in, 3D version, what it measures) per signal;
    the two sides of a signal share a row."""
    rows: dict[str, list] = {}
    for name in [*signals.SIGNALS, *signals.RELATIVE_TO_START]:
        if name in signals.RELATIVE_TO_START:
            base = signals.RELATIVE_TO_START[name]
            source = f"change of `{base}` from the start posture"
            what = signals.RELATIVE_SIGNALS[name].meaning
            what = f"{what[:1].upper()}{what[1:]}. " if what else ""
            what += _cell(_doc(signals.SIGNALS[base]))
        else:
            base = name
            source = "back outline" if name in signals.OUTLINE_SIGNALS else "landmarks"
            what = _cell(_doc(signals.SIGNALS[name]))
        key = re.sub(r"_(left|right)_", "_{side}_", name)
        row = rows.setdefault(key, [[], _unit(name), source, _views(name), _three_d(name), what])
        row[0].append(name)
    return [(", ".join(f"`{n}`" for n in names), *rest) for names, *rest in rows.values()]


def _doc(function: Callable) -> str:
    doc = inspect.getdoc(function)
    if not doc:
        raise RuntimeError(f"signals.py: {function.__name__} has no docstring; say what it measures")
    return doc


def signals_section() -> str:
    lines = ["| signal | unit | computed from | measured from the picture in | 3D version in other views | "
             "what it measures |", "|---|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in sorted(signal_rows(), key=lambda r: r[0])]
    lines += ["", f"Every `*_deg` signal also has a speed, `*{signals.SPEED_SUFFIX}` (e.g. "
              f"`hip_extension{signals.SPEED_SUFFIX}`): how fast it changes, in degrees per second, "
              "measured in the same views."]
    return "\n".join(lines)


SECTIONS: dict[str, Callable[[], str]] = {"fields": fields_section, "signals": signals_section}


def begin(name: str) -> str:
    return f"<!-- BEGIN GENERATED {name}: do not edit by hand; run {COMMAND} -->"


def end(name: str) -> str:
    return f"<!-- END GENERATED {name} -->"


def render(text: str) -> str:
    """``text`` with every generated section replaced by what the code says now."""
    for name, make in SECTIONS.items():
        pattern = re.compile(re.escape(begin(name)) + r"\n.*?" + re.escape(end(name)), re.S)
        found = pattern.findall(text)
        if len(found) != 1:
            raise RuntimeError(f"{README}: needs exactly one pair of lines\n{begin(name)}\n{end(name)}")
        text = text.replace(found[0], f"{begin(name)}\n{make()}\n{end(name)}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the README is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if current != wanted:
            print(f"{README.relative_to(ROOT)} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
        print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
