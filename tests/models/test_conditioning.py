"""The coupling inputs (partner, meter, position, countdown, phrase) on hand-made staves
whose answer is known, and on real chorales."""

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


def test_the_phrase_input_counts_beats_to_the_next_fermata(small_corpus):
    """A piece read from a chorale's file hears its fermatas: the events that start on one
    read 'phrase end', the others the whole beats to the next; the rows line up with the
    other inputs and reach the chunks as ``phrase_in``."""
    from fractions import Fraction

    from grandstaff.models.conditioning import PHRASE_AHEAD, PHRASE_CAP, PHRASE_END
    from grandstaff.models.sequences import build_vocab

    name = next(n for n in small_corpus.piece_names() if small_corpus.fermatas(n))
    fermatas = small_corpus.fermatas(name)
    sequence = corpus_sequences(small_corpus, "treble", [name], coupled=True, phrases=True)[0]
    assert len(sequence) == 7 and len(sequence[6]) == len(sequence[0])
    lengths = [Fraction(d) for d in sequence[1][1:]]
    onsets, total = np.cumsum([0] + lengths[:-1]), sum(lengths)
    beat = Fraction(1)  # the chorales here are in 4/4 or 3/4
    for onset, phrase in zip(onsets, sequence[6][1:]):
        if onset in fermatas:
            assert phrase == PHRASE_END
            continue
        following = [f for f in fermatas if f > onset] or [total]
        assert PHRASE_AHEAD <= phrase <= PHRASE_AHEAD + PHRASE_CAP
        if following[0] - onset < PHRASE_CAP:
            assert phrase == PHRASE_AHEAD + int((following[0] - onset) // beat)
    assert sum(p == PHRASE_END for p in sequence[6]) >= len(fermatas) - 1
    vocab = build_vocab(small_corpus, "treble", coupled=True)
    chunks = make_chunks(encode_sequences([sequence], vocab), length=8)
    assert chunks["phrase_in"][0, 3] == sequence[6][4]
    unphrased = corpus_sequences(small_corpus, "treble", [name], coupled=True)[0]
    assert unphrased == sequence[:6]


def test_hidden_phrases_read_as_unknown_and_padding_stays():
    from grandstaff.models.conditioning import PHRASE_UNKNOWN
    from grandstaff.models.sequences import hide_phrases

    data = {"phrase_in": np.array([[3, 2, 5, 0]] * 400), "weight": np.ones((400, 4))}
    hidden = hide_phrases(data, 0.25, seed=0)["phrase_in"]
    share = (hidden[:, 0] == PHRASE_UNKNOWN).mean()
    assert 0.18 < share < 0.32
    assert (hidden[:, 3] == 0).all()
    assert ((hidden == data["phrase_in"]).all(axis=1) | (hidden[:, :3] == PHRASE_UNKNOWN).all(
        axis=1)).all()
    assert hide_phrases(data, 0.0, seed=0) is data


def test_phrase_statistics_count_bars_between_fermatas(small_corpus):
    from grandstaff.models.conditioning import bar_ticks, phrase_statistics, ticks_of

    found = phrase_statistics(small_corpus)
    meters = dict(zip(small_corpus.pieces["piece"], small_corpus.pieces["time_signature"]))
    expected_ends = 0
    for name in small_corpus.piece_names():
        fermatas = small_corpus.fermatas(name)
        if fermatas:
            bar = bar_ticks(meters[name])
            expected_ends += len({ticks_of(f) // bar for f in fermatas})
    assert sum(sum(m["lengths"].values()) for m in found.values()) == expected_ends
    for meter, counts in found.items():
        assert sum(counts["positions"].values()) == sum(counts["lengths"].values())
        assert all(0 <= int(t) < bar_ticks(meter) for t in counts["positions"])
