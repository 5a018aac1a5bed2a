"""exercises/README.md's generated sections match the code (scripts/gen_exercise_docs.py), the
ranges the script states are the ones spec.py enforces, and the hand-written prose names every field."""
from __future__ import annotations

import copy
import importlib.util
import re

import pytest

from formcheck import limits
from formcheck.spec import SpecError, parse_spec
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
_loader = importlib.util.spec_from_file_location("gen_exercise_docs", ROOT / "scripts" / "gen_exercise_docs.py")
assert _loader is not None and _loader.loader is not None
gen = importlib.util.module_from_spec(_loader)
_loader.loader.exec_module(gen)


def test_the_committed_readme_is_what_the_script_generates():
    current = gen.README.read_text(encoding="utf-8")
    assert gen.render(current) == current, (
        f"exercises/README.md is out of date with the code: run {gen.COMMAND} and commit the result")


def test_check_mode_fails_on_a_stale_readme(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "README.md"
    stale.write_text(gen.README.read_text(encoding="utf-8").replace("0 (off)", "1 (off)", 1),
                     encoding="utf-8")
    monkeypatch.setattr(gen, "README", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert gen.COMMAND in capsys.readouterr().err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0  # written, then up to date


def _with(key: str, value: float, signal: str = "hip_extension_deg") -> dict:
    """The script's minimal definition with one number field (``rep.x``, ``rules.x``, top level) set."""
    data = copy.deepcopy(gen.MINIMAL)
    table, _, field = key.rpartition(".")
    if table == "rep":
        data["rep"][field] = value
        data["rep"]["signal"] = signal
    elif table == "rules":
        data["rules"][0][field] = value
        data["rules"][0]["signal"] = signal
    else:
        data[field] = [0, value]  # usual_weeks
    return data


@pytest.mark.parametrize("key", sorted(gen.RANGES))
def test_every_documented_range_is_the_one_spec_enforces(key):
    stated = gen.RANGES[key]
    cases = ([(limits.ANGLE_DEG, "hip_extension_deg"), (limits.SPEED_DEG_S, "hip_extension_speed_deg_s")]
             if stated == gen.ANGLE_OR_SPEED else [(stated, "hip_extension_deg")])
    for allowed, signal in cases:
        with pytest.raises(SpecError) as refused:
            parse_spec(_with(key, 1e9, signal), name="example")
        field = key.rpartition(".")[2]
        assert field in str(refused.value)
        assert f"from {allowed.low:g} to {allowed.high:g} {allowed.unit}" in str(refused.value)


def test_the_hand_written_tables_name_every_field():
    text = gen.README.read_text(encoding="utf-8")
    prose = re.sub(r"<!-- BEGIN GENERATED.*?<!-- END GENERATED \w+ -->", "", text, flags=re.S)
    for table, rows in gen.field_rows().items():
        for key, *_ in rows:
            named = any(f"`{form}`" in prose for form in (key, f"[{key}]", f"[[{key}]]"))  # a field or a table
            assert named, f"exercises/README.md: say what {table} field `{key}` means"


def test_every_signal_an_exercise_may_name_has_a_row():
    from formcheck.signals import SPEED_SUFFIX, known_signal_names

    listed = {name for row in gen.signal_rows() for name in re.findall(r"`([a-z_]+)`", row[0])}
    assert listed == {n for n in known_signal_names() if not n.endswith(SPEED_SUFFIX)}
