"""The three coupling inputs on hand-made staves whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from grandstaff.models.conditioning import (
    COUNTDOWN_CAP,
    countdown,
    piece_conditions,
    position_token,
)
from grandstaff.models.sequences import corpus_sequences, encode_sequences, make_chunks
from grandstaff.music.events import Event


def test_the_bass_takes_simultaneous_onsets_first():
    # treble onsets 0, 2, 3; bass onsets 0, 3: both staves start together at 0 and at 3
    staves = {"treble": (["72", "74", "76"], ["2", "1", "1"]),
              "bass": (["48", "43"], ["3", "1"])}
    found = piece_conditions(staves, "4/4")
    # the treble hears the bass that starts with it; the bass hears the treble before it
    assert found["treble"].partner == ["48", "48", "43"]
    assert found["bass"].partner == ["<pad>", "74"]


def test_a_rest_in_the_other_staff_is_heard_as_rest():
    staves = {"treble": (["rest", "72"], ["1", "3"]), "bass": (["48", "rest", "43"],
                                                                 ["1", "1", "2"])}
    found = piece_conditions(staves, "4/4")
    assert found["treble"].partner == ["48", "rest"]
    assert found["bass"].partner == ["<pad>", "rest", "72"]


@pytest.mark.parametrize("meter,ticks,expected", [
    ("4/4", [0, 12, 24, 60, 96], ["0:0", "0:12", "1:0", "2:12", "0:0"]),
    ("3/4", [0, 48, 72, 84], ["0:0", "2:0", "0:0", "0:12"]),
    ("6/8", [0, 12, 36, 60, 72], ["0:0", "0:12", "1:0", "1:24", "0:0"]),
])
def test_metric_positions_by_meter(meter, ticks, expected):
    assert [position_token(t, meter) for t in ticks] == expected


def test_the_countdown_counts_whole_bars_after_this_one():
    bar = 72  # 3/4
    total = 12 * bar
    assert [countdown(b * bar + 30, total, "3/4") for b in (0, 2, 3, 10, 11)] == \
        [COUNTDOWN_CAP, COUNTDOWN_CAP, COUNTDOWN_CAP, 1, 0]
    staves = {"treble": (["72", "74"], ["3", "3"]), "bass": (["48"], ["6"])}
    found = piece_conditions(staves, "3/4")
    assert found["treble"].countdown == [1, 0] and found["bass"].countdown == [1]
    assert found["treble"].meter == ["3/4", "3/4"]


def test_training_rows_line_up_with_the_events_they_predict(small_corpus):
    """Each step reads the event before and the inputs of the event it predicts."""
    from grandstaff.models.sequences import build_vocab

    vocab = build_vocab(small_corpus, "treble", coupled=True)
    name = small_corpus.piece_names()[0]
    sequence = corpus_sequences(small_corpus, "treble", [name], coupled=True)[0]
    encoded = encode_sequences([sequence], vocab)[0]
    assert encoded.shape[0] == 6 and encoded[2:, 0].tolist() == [0, 0, 0, 0]  # start token
    chunks = make_chunks([encoded], length=8)
    first = 3  # the target at step 3 is event 4 of the sequence
    assert chunks["pitch"][0, first] == encoded[0, first + 1]
    assert chunks["partner_in"][0, first] == encoded[2, first + 1]
    assert vocab.partner.tokens[chunks["partner_in"][0, first]] == sequence[2][first + 1]
    assert chunks["countdown_in"][0, first] == sequence[5][first + 1] + 1
    assert np.all(chunks["meter_in"][0][chunks["weight"][0] > 0] > 0)


def test_transposed_copies_move_the_partner_too(small_corpus):
    from grandstaff.models.sequences import transposed_copies

    name = small_corpus.piece_names()[0]
    sequence = corpus_sequences(small_corpus, "treble", [name], coupled=True)[0]
    (copy,) = transposed_copies([sequence], (2,))
    original = [t for t in sequence[2][1:] if t not in ("<pad>", "rest")][0]
    index = sequence[2][1:].index(original)
    moved = Event.from_tokens(original, "1").transposed(2).tokens()[0]
    assert copy[2][index] == moved and copy[3:] == tuple(row[1:] for row in sequence[3:])
