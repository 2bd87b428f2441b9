"""Round trips: tokens → score → tokens is the identity, in memory and through files."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import grandstaff as gs
from grandstaff.music.codec import events_to_table, table_to_events
from grandstaff.music.events import Event, canonical, total_duration
from grandstaff.music.notation import build_performance
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
        lambda groups: [e for g in groups for e in g]).flatmap(with_holds)


def with_holds(events: list[Event]):
    """``events`` with some of the pitches each shares with the event before held on."""
    shared = [sorted(set(e.pitches) & set(before.pitches))
              for before, e in zip([Event((), Fraction(1)), *events], events)]
    choices = st.tuples(*(st.lists(st.sampled_from(s), unique=True) if s else st.just([])
                          for s in shared))
    return choices.map(lambda held: [Event(e.pitches, e.duration, tuple(sorted(h)))
                                     for e, h in zip(events, held)])


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
    """MIDI has no ties: each held pitch is written as one sustained note."""
    path = tmp_path_factory.mktemp("midi") / "piece.mid"
    staves = {clef: table_to_events(table) for clef, table in tables.items()}
    write_midi(build_performance(staves), path)
    assert tokens_of(gs.encode(path)) == tokens_of(tables)


def test_the_strategy_makes_holds():
    """The round trips above see held notes (``find`` fails if the strategy never holds)."""
    found = find(grand_staff(), lambda t: any("~" in p for p in t["treble"].pitch),
                 settings=settings(max_examples=200, database=None))
    assert any(e.held for e in table_to_events(found["treble"]))


def test_a_held_alto_under_a_moving_soprano(tmp_path, assert_valid_musicxml):
    """Alto E4 holds two beats while the soprano moves G4 to A4: written as two voices, the
    alto one half note (stem down) under the soprano's quarters, not a re-struck E."""
    treble = [Event((64, 67), Fraction(1)), Event((64, 69), Fraction(1), held=(64,)),
              Event((65, 71), Fraction(2))]
    bass = [Event((48,), Fraction(3)), Event((43,), Fraction(1))]
    tables = {"treble": events_to_table(treble), "bass": events_to_table(bass)}
    assert tables["treble"]["pitch"].tolist() == ["64.67", "64~.69", "65.71"]
    path = write_musicxml(gs.decode(tables), tmp_path / "held.musicxml")
    assert_valid_musicxml(path)
    notes = re.findall(r"<note>.*?</note>", path.read_text(), re.S)
    alto = [n for n in notes if "<step>E</step>" in n and "<octave>4</octave>" in n]
    assert len(alto) == 1 and "<type>half</type>" in alto[0] and "<voice>2</voice>" in alto[0]
    assert "<stem>down</stem>" in alto[0] and "<tie " not in alto[0]
    soprano = [n for n in notes if "<voice>1</voice>" in n and "<staff>1</staff>" in n]
    assert [re.search(r"<step>(\w)</step>", n).group(1) for n in soprano][:2] == ["G", "A"]
    # voices numbered staff by staff, as notation programs do: 1-4 above, 5-8 below
    for note_text in notes:
        staff = re.search(r"<staff>(\d)</staff>", note_text).group(1)
        voice = int(re.search(r"<voice>(\d+)</voice>", note_text).group(1))
        assert (1 <= voice <= 4) if staff == "1" else (5 <= voice <= 8)
    assert tokens_of(gs.encode(path)) == tokens_of(tables)
    midi = write_midi(build_performance({"treble": treble, "bass": bass}), tmp_path / "held.mid")
    assert tokens_of(gs.encode(midi)) == tokens_of(tables)
    from music21 import converter

    heard = [(float(n.offset), float(n.quarterLength), n.pitch.midi)
             for n in converter.parse(midi).parts[0].flatten().notes if n.isNote]
    assert (0.0, 2.0, 64) in heard  # one sustained E4 in the MIDI file


def test_a_note_that_ends_under_a_held_one_is_an_event():
    """What sounds changes when a note ends, so that is an onset too (the held C goes on)."""
    from grandstaff.music.reading import events_from_notes

    notes = [(Fraction(0), Fraction(2), 60), (Fraction(0), Fraction(1), 64)]
    events, snaps = events_from_notes(notes, Fraction(4))
    assert [e.tokens() for e in events] == [("60.64", "1"), ("60~", "1"), ("rest", "2")]
    assert snaps == 0


def test_canonical_merges_a_pure_continuation_and_drops_impossible_holds():
    events = [Event((60,), Fraction(1)), Event((60,), Fraction(1), held=(60,)),
              Event((62, 65), Fraction(1), held=(62,))]
    assert canonical(events) == [Event((60,), Fraction(2)), Event((62, 65), Fraction(1))]
    long = [Event((60,), Fraction(3)), Event((60,), Fraction(3, 4), held=(60,))]
    assert canonical(long) == long  # 15/4 is no one grid value: it stays two held parts


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


@pytest.mark.parametrize("name", ["bach/bwv1.6", "bach/bwv269", "bach/bwv66.6"])
def test_tied_chorale_voices_are_held_through_musicxml_and_midi(name, tmp_path):
    from music21 import corpus

    tables = gs.encode(corpus.getWork(name))
    held = [p for p in tables["treble"]["pitch"].tolist() + tables["bass"]["pitch"].tolist()
            if "~" in p]
    assert held, "a chorale with tied voices reads as held pitches"
    xml = write_musicxml(gs.decode(tables), tmp_path / "chorale.musicxml")
    assert tokens_of(gs.encode(xml)) == tokens_of(tables)
    staves = {clef: table_to_events(table) for clef, table in tables.items()}
    midi = write_midi(build_performance(staves, key=gs.Key.parse(tables["treble"].attrs["key"])),
                      tmp_path / "chorale.mid")
    # MIDI keeps no silence after the last note: compare up to each staff's last note.
    heard, written = _up_to_last_note(gs.encode(midi)), _up_to_last_note(tables)
    assert heard == written and any("~" in p for p, _ in heard["treble"] + heard["bass"])


def _up_to_last_note(tables):
    tokens = tokens_of(tables)
    return {clef: t[:max(i for i, (p, _) in enumerate(t) if p != "rest") + 1]
            for clef, t in tokens.items()}


@pytest.mark.parametrize("lead, pickup", [(Fraction(3), "1/4"), (Fraction(7, 2), "1/8")])
def test_a_pickup_sounds_at_once_in_the_midi_and_reads_back_as_a_pickup(lead, pickup,
                                                                         tmp_path):
    """The silence before a pickup is left out of the MIDI file (a player does not wait
    three beats), its bar written in a meter of its own; reading the file puts it back."""
    from music21 import converter, meter

    rests = [Event((), Fraction(3))] + ([Event((), lead - 3)] if lead > 3 else [])
    treble = [*rests, Event((67,), 4 - lead), Event((72, 76), Fraction(4)),
              Event((71, 74), Fraction(4))]
    bass = [*rests, Event((55,), 4 - lead), Event((48,), Fraction(4)), Event((43,), Fraction(4))]
    midi = write_midi(build_performance({"treble": treble, "bass": bass}, tempo=96),
                      tmp_path / "pickup.mid")
    score = converter.parse(midi)
    first = min(float(n.offset) for n in score.parts[0].flatten().notes)
    assert first == 0.0  # no silence before the pickup
    signatures = [ts.ratioString for ts in
                  score.parts[0].flatten().getElementsByClass(meter.TimeSignature)]
    assert signatures[:2] == [pickup, "4/4"]
    tables = gs.encode(midi)
    assert tables["treble"].attrs["time_signature"] == "4/4"
    expected = {"treble": events_to_table(treble), "bass": events_to_table(bass)}
    assert _up_to_last_note(tables) == _up_to_last_note(expected)
