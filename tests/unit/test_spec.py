from pathlib import Path

import pytest

from formcheck.spec import SpecError, exercises_dir, list_exercises, load_exercise, load_spec

MINIMAL = """
title = "Test bridge"
posture = "supine"
[rep]
signal = "hip_extension_deg"
rest_deg = 150
top_deg = 170
"""


def _write(tmp_path: Path, text: str, name="ex.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_builtin_definitions_load_and_are_listed():
    names = list_exercises()
    for required in ("glute_bridge", "bird_dog", "pelvic_tilt"):
        assert required in names
    for name in names:
        spec = load_exercise(name)
        assert spec.title and spec.rep.signal and spec.description


def test_bird_dog_has_sides_and_glute_bridge_has_hold():
    assert load_exercise("bird_dog").rep.sides == ("left", "right")
    assert load_exercise("glute_bridge").rep.target_hold_s > 0


def test_minimal_file_gets_defaults(tmp_path):
    spec = load_spec(_write(tmp_path, MINIMAL))
    assert spec.name == "ex" and spec.view == "side" and spec.rep.rising
    assert spec.required_parts == ("shoulder", "hip", "knee")


@pytest.mark.parametrize("text, field", [
    (MINIMAL.replace('title = "Test bridge"', ""), "title"),                        # missing title
    (MINIMAL.replace("rest_deg = 150", 'rest_deg = "low"'), "rep.rest_deg"),        # not a number
    (MINIMAL.replace('"hip_extension_deg"', '"hip_angel_deg"'), "rep.signal"),      # typo in a signal
    (MINIMAL.replace('posture = "supine"', 'posture = "upside_down"'), "posture"),  # unknown choice
    (MINIMAL + "\nmin_rep = 3\n", "min_rep"),                                       # unknown field
    (MINIMAL + '[[rules]]\ncode = "x"\nsignal = "hip_extension_deg"\nmessage = "m"\n', "rules[0]"),  # no limit
    (MINIMAL.replace("top_deg = 170", "top_deg = 150"), "top_deg"),                 # no movement
    (MINIMAL + "min_duration_s = -1\n", "rep.min_duration_s"),                      # negative time
    (MINIMAL + '[messages]\npartial_reps = "Go further"\n', "partial_reps"),        # misspelt message key
    (MINIMAL + '[messages]\npartial_rep = ""\n', "partial_rep"),                    # empty message
    (MINIMAL + "[messages]\nshort_hold = 3\n", "short_hold"),                       # not a text
])
def test_bad_files_name_file_and_field(tmp_path, text, field):
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_a_message_of_the_exercise_replaces_the_default(tmp_path):
    from formcheck.engine.messages import DEFAULT_MESSAGES, messages_for

    spec = load_spec(_write(tmp_path, MINIMAL + '[messages]\npartial_rep = "A little higher."\n'))
    messages = messages_for(spec)
    assert messages["partial_rep"] == "A little higher."
    assert messages["short_hold"] == DEFAULT_MESSAGES["short_hold"]


def test_invalid_toml_and_unknown_exercise(tmp_path):
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(_write(tmp_path, "title = [unclosed"))
    with pytest.raises(SpecError, match="expected one of .*glute_bridge"):
        load_exercise("jumping_jacks")


def test_overrides_tighten_a_limit():
    spec = load_exercise("glute_bridge").with_overrides({"spinal_flexion": {"above": 10}})
    assert {r.code: r.above for r in spec.rules}["spinal_flexion"] == 10
    with pytest.raises(SpecError, match="no rule named"):
        load_exercise("glute_bridge").with_overrides({"nope": {"above": 1}})


def test_exercises_dir_is_the_repo_folder_or_the_packaged_copy():
    assert (exercises_dir() / "glute_bridge.toml").is_file()
