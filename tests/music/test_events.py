from fractions import Fraction

import pytest

from grandstaff.errors import BadArgumentError, BadInputError
from grandstaff.music.events import (
    DURATION_GRID,
    Event,
    bar_length,
    format_duration,
    parse_duration,
    parse_pitches,
    snap_duration,
    start_token,
)


def test_event_tokens_are_sorted_midi_numbers_and_reduced_fractions():
    assert Event((64, 48, 55), Fraction(3, 2)).tokens() == ("48.55.64", "3/2")
    assert Event((), Fraction(1)).tokens() == ("rest", "1")
    assert Event((60,), Fraction(2, 6)).tokens() == ("60", "1/3")


def test_tokens_parse_back_to_the_same_event():
    for event in [Event((48, 55, 64), Fraction(3, 2)), Event((), Fraction(1, 6))]:
        assert Event.from_tokens(*event.tokens()) == event


def test_grid_spans_whole_to_32nd_with_dots_and_triplets():
    assert Fraction(4) in DURATION_GRID and Fraction(1, 8) in DURATION_GRID
    assert Fraction(3, 2) in DURATION_GRID and Fraction(3, 8) in DURATION_GRID
    assert Fraction(1, 3) in DURATION_GRID and Fraction(1, 6) in DURATION_GRID
    assert Fraction(1, 16) not in DURATION_GRID


def test_off_grid_durations_snap_to_nearest_and_say_so():
    assert snap_duration(Fraction(1, 2)) == (Fraction(1, 2), False)
    assert snap_duration(0.49) == (Fraction(1, 2), True)
    assert snap_duration(Fraction(5, 4)) == (Fraction(4, 3), True)
    assert snap_duration(Fraction(7, 4)) == (Fraction(3, 2), True)  # a tie goes to the shorter
    assert snap_duration(9) == (Fraction(6), True)


def test_bad_tokens_are_clear_errors():
    with pytest.raises(BadInputError, match="'x'"):
        parse_pitches("x")
    with pytest.raises(BadInputError, match="outside"):
        parse_pitches("60.200")
    with pytest.raises(BadInputError, match="'0'"):
        parse_duration("0")
    assert format_duration(Fraction(4, 1)) == "4"


def test_start_tokens_name_the_mode():
    assert start_token("major") == "<major>"
    with pytest.raises(ValueError, match="dorian"):
        start_token("dorian")


@pytest.mark.parametrize("signature", ["4/4", "3/4", "2/2", "6/8", "12/8", "5/4", "3/8",
                                       "7/16", "3+2/8", "3/4+2/4", "2+2+3/8"])
def test_bar_length_agrees_with_music21(signature):
    from music21 import meter

    expected = Fraction(meter.TimeSignature(signature).barDuration.quarterLength)
    assert bar_length(signature) == expected


@pytest.mark.parametrize("signature", ["", "4", "4/3", "0/4", "x/4", "4/4/4", "40/4", "3+/8"])
def test_bad_time_signatures_name_the_value(signature):
    with pytest.raises(BadArgumentError, match="time signature"):
        bar_length(signature)
