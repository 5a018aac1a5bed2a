"""What the live page says: the finished set, the big box's message and the spoken lines (formcheck.live.coaching)."""
from __future__ import annotations

from formcheck.live.coaching import GOOD, Announcer, main_message, set_finished_message, set_progress, speech_html

SEEN = dict(frames=100, last_frame_age_s=0.1, cue="", cue_severity="", view_ok=True, view_message="")


def test_a_set_at_its_target_is_finished_and_the_rest_timer_runs():
    assert not set_progress(9, 10, None, 50.0, 60.0).finished
    done = set_progress(10, 10, 40.0, 50.0, 60.0)
    assert done.finished and done.rest_left_s == 50.0 and done.headline == "10 of 10 done"
    text = set_finished_message(done, more_sets=True)
    assert text == "Set finished: 10 of 10. Well done! Rest now: 50 s."
    rested = set_progress(11, 10, 40.0, 101.0, 60.0)
    assert rested.rest_left_s == 0 and "start the next set" in set_finished_message(rested, more_sets=True)
    assert "Press Finish" in set_finished_message(rested, more_sets=False)


def test_keep_going_is_never_said_at_the_end_of_a_set_but_a_danger_cue_still_comes_first():
    finished = "Set finished: 10 of 10. Well done!"
    assert main_message(**SEEN, set_message=finished).text == finished
    assert main_message(**SEEN, set_message=finished).kind == "done"
    danger = dict(SEEN, cue="Keep your back straight", cue_severity="danger")
    assert main_message(**danger, set_message=finished).kind == "danger"
    assert main_message(**SEEN).text == GOOD


def test_a_try_that_was_not_counted_is_explained_not_praised():
    message = main_message(**SEEN, last_try_advice="Lift a little higher.", last_try_age_s=1.0)
    assert message.text == "Not counted. Lift a little higher." and message.kind == "info"
    assert main_message(**SEEN, last_try_advice="Lift a little higher.", last_try_age_s=9.0).text == GOOD


def spoken(events, gap_s=1.5):
    """Drive an Announcer with polls every 0.5 s: events maps poll time -> (reps, cue_events, cue, set_finished)."""
    announcer, state, lines = Announcer(min_gap_s=gap_s), (0, 0, "", False), []
    for tick in range(0, 200):
        now = tick * 0.5
        state = events.get(now, state)
        reps, cues, cue, finished = state
        line = announcer.update(reps=reps, cue_events=cues, cue=cue, set_finished=finished,
                                set_end_line="Set finished.", now_s=now)
        if line:
            lines.append((now, line))
    return lines


def test_each_rep_and_each_cue_is_said_once_and_lines_are_spaced():
    events = {2.0: (1, 0, "", False), 5.0: (2, 0, "", False), 6.0: (2, 1, "Lower your leg", False),
              9.0: (3, 1, "Lower your leg", False), 12.0: (3, 2, "Keep your back flat", False),
              12.5: (4, 2, "Keep your back flat", False)}
    lines = spoken(events)
    assert [text for _, text in lines] == ["1", "2", "Lower your leg", "3", "Keep your back flat", "4"]
    times = [t for t, _ in lines]
    assert all(b - a >= 1.5 for a, b in zip(times, times[1:]))


def test_the_set_end_is_said_once_with_its_last_count():
    lines = spoken({2.0: (1, 0, "", False), 6.0: (2, 0, "", True)})
    assert [text for _, text in lines] == ["1", "2. Set finished."]


def test_a_count_waiting_for_its_turn_is_replaced_by_the_newer_one():
    lines = spoken({2.0: (1, 0, "", False), 2.5: (2, 0, "", False), 3.0: (3, 0, "", False)})
    assert [text for _, text in lines] == ["1", "3"]  # never behind the patient


def test_the_speech_snippet_says_the_text_once_by_id_and_cannot_be_broken_out_of():
    snippet = speech_html(7, 'Keep your back "straight" </script><script>alert(1)</script>')
    assert "const w = window, id = 7" in snippet
    assert snippet.count("</script>") == 1  # only its own end tag


def test_before_the_set_starts_the_box_asks_for_the_start_position_then_counts_down():
    assert main_message(**SEEN, in_position=False).kind == "setup"
    assert "start position" in main_message(**SEEN, in_position=False).text
    off = dict(SEEN, view_ok=False, view_message="Move so that your whole body is in view.")
    assert main_message(**off, in_position=False).text == "Move so that your whole body is in view."
    assert main_message(**SEEN, countdown_s=2).text == "Starting in 2…"


def test_a_once_line_is_said_once_and_before_the_count():
    announcer = Announcer()
    announcer.once("countdown", "Three. Two. One. Go!")
    announcer.once("countdown", "Three. Two. One. Go!")
    assert announcer.update(reps=0, cue_events=0, cue="", set_finished=False, set_end_line="", now_s=0.0) \
        == "Three. Two. One. Go!"
    assert announcer.update(reps=0, cue_events=0, cue="", set_finished=False, set_end_line="", now_s=5.0) == ""
