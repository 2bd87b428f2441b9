"""Round trips: tokens → score → tokens is the identity, in memory and through files."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grandstaff as gs
from grandstaff.music.codec import events_to_table
from grandstaff.music.events import Event, canonical, total_duration
from grandstaff.output.render import write_midi, write_musicxml

from ..conftest import tokens_of

PLAIN = [Fraction(4), Fraction(2), Fraction(1), Fraction(1, 2), Fraction(1, 4), Fraction(1, 8)]
DOTTED = [Fraction(3), Fraction(3, 2), Fraction(3, 4), Fraction(3, 8)]
TRIPLETS = [Fraction(2, 3), Fraction(1, 3), Fraction(1, 6)]


def pitches(low: int, high: int):
    chord = st.lists(st.integers(low, high), min_size=1, max_size=4, unique=True)
    return st.one_of(st.just(()), chord.map(lambda ps: tuple(sorted(ps))))


def group(low: int, high: int):
    """One event of a plain or dotted value, or a complete triplet group of three."""
    single = st.builds(lambda p, d: [Event(p, d)], pitches(low, high),
                       st.sampled_from(PLAIN + DOTTED))
    triplet = st.builds(lambda ps, d: [Event(p, d) for p in ps],
                        st.lists(pitches(low, high), min_size=3, max_size=3),
                        st.sampled_from(TRIPLETS))
    return st.one_of(single, single, triplet)


def staff(low: int, high: int):
    return st.lists(group(low, high), min_size=1, max_size=12).map(
        lambda groups: [e for g in groups for e in g])


def fill(events: list[Event], length: Fraction) -> list[Event]:
    """Rests up to ``length`` (greedy over plain values; lengths are multiples of 1/8)."""
    missing = length - total_duration(events)
    events = list(events)
    for value in PLAIN:
        while missing >= value:
            events.append(Event((), value))
            missing -= value
    assert missing == 0
    return events


@st.composite
def grand_staff(draw):
    """Two staves of complete bars, each ending on a note: MIDI keeps neither a trailing rest
    nor a track with no note, so a staff of nothing but rest cannot cross a MIDI file."""
    treble, bass = draw(staff(55, 96)), draw(staff(24, 67))
    longest = max(total_duration(treble), total_duration(bass)) + 1
    bars = 4 * -(-longest // 4)  # complete 4/4 bars, as every score has
    treble = fill(treble, bars - 1) + [Event((72,), Fraction(1))]
    bass = fill(bass, bars - 1) + [Event((36, 43), Fraction(1))]
    return {"treble": events_to_table(canonical(treble)), "bass": events_to_table(canonical(bass))}


SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_canonical_form_merges_consecutive_rests():
    rests = [Event((), Fraction(2)), Event((), Fraction(2)), Event((), Fraction(1, 3)),
             Event((60,), Fraction(1)), Event((), Fraction(1, 2))]
    assert canonical(rests) == [Event((), Fraction(4)), Event((), Fraction(1, 3)),
                                Event((60,), Fraction(1)), Event((), Fraction(1, 2))]
    assert canonical(canonical(rests)) == canonical(rests)


@SETTINGS
@given(tables=grand_staff())
def test_tokens_score_tokens_is_identity(tables):
    assert tokens_of(gs.encode(gs.decode(tables))) == tokens_of(tables)


@SETTINGS
@given(tables=grand_staff())
def test_identity_through_a_musicxml_file(tables, tmp_path_factory, assert_valid_musicxml):
    path = tmp_path_factory.mktemp("xml") / "piece.musicxml"
    write_musicxml(gs.decode(tables, title='Quotes " & <tags>'), path)
    assert_valid_musicxml(path)
    assert tokens_of(gs.encode(path)) == tokens_of(tables)


@SETTINGS
@given(tables=grand_staff())
def test_identity_through_a_midi_file(tables, tmp_path_factory):
    path = tmp_path_factory.mktemp("midi") / "piece.mid"
    write_midi(gs.decode(tables), path)
    assert tokens_of(gs.encode(path)) == tokens_of(tables)


def test_minor_piece_round_trips_with_its_key(tmp_path, assert_valid_musicxml):
    events = [Event((57, 60, 64), Fraction(2)), Event((56, 59, 64), Fraction(2)),
              Event((57, 60, 64), Fraction(4))]
    bass = [Event((45,), Fraction(2)), Event((40,), Fraction(2)), Event((33,), Fraction(4))]
    tables = {"treble": events_to_table(events), "bass": events_to_table(bass)}
    score = gs.decode(tables, key="A minor", tempo=72)
    path = write_musicxml(score, tmp_path / "minor.musicxml")
    assert_valid_musicxml(path)
    assert "<mode>minor</mode>" in path.read_text()
    assert tokens_of(gs.encode(path)) == tokens_of(tables)


PIANO_PIECES = ["bach/bwv846", "joplin/maple_leaf_rag", "chopin/mazurka06-2",
                "schoenberg/opus19/movement2", "schumann_clara/polonaise_op1n1",
                "mozart/k545/movement1_exposition"]


def _real_pieces():
    from music21 import corpus

    paths = sorted(p for p in corpus.getComposer("bach") if p.suffix == ".mxl")
    chorales = paths[:: len(paths) // 12][:12]
    return [str(p) for p in chorales] + [str(corpus.getWork(w)) for w in PIANO_PIECES]


@pytest.mark.parametrize("path", _real_pieces(), ids=lambda p: p.split("corpus/")[-1])
def test_real_music_round_trips_through_musicxml(path, tmp_path, assert_valid_musicxml):
    tables = gs.encode(path)
    assert len(tables["treble"]) > 10 and len(tables["bass"]) > 10
    assert tokens_of(gs.encode(gs.decode(tables))) == tokens_of(tables)
    written = write_musicxml(gs.decode(tables), tmp_path / "piece.musicxml")
    assert_valid_musicxml(written)
    assert tokens_of(gs.encode(written)) == tokens_of(tables)


def test_encode_keeps_the_staves_of_a_piano_score():
    from music21 import corpus

    tables = gs.encode(corpus.getWork("bach/bwv846"), transpose=False)
    # The prelude in C opens with middle C in the left hand and G4 in the right, after a rest.
    assert tables["bass"]["pitch"].iloc[0] == "60"
    assert tables["treble"]["pitch"].iloc[:2].tolist() == ["rest", "67"]


def test_decode_refuses_two_pieces_at_once():
    table = events_to_table([Event((60,), Fraction(1))], piece="a")
    two = table.assign(piece=["b"])
    import pandas as pd

    with pytest.raises(gs.errors.BadInputError, match="one piece at a time"):
        gs.decode({"treble": pd.concat([table, two]), "bass": table})
