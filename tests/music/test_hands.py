"""Piano staves: the tenor written in the right hand where it fits, the sound untouched."""

from __future__ import annotations

from fractions import Fraction

import pytest

import grandstaff as gs
from grandstaff.errors import BadArgumentError
from grandstaff.music.codec import events_to_table
from grandstaff.music.events import Event, notes_of
from grandstaff.music.hands import check_staff_split, piano_staves

from ..conftest import tokens_of

Q = Fraction(1)


def _pitches(staff):
    return [e.pitches for e in staff]


def test_a_high_tenor_joins_the_right_hand_only_within_an_octave():
    treble = [Event((67, 72), Q), Event((74, 79), Q)]  # G4 C5, then D5 G5
    bass = [Event((48, 64), Q), Event((43, 64), Q, (64,))]  # a tenor E4 held over C3, G2
    written = piano_staves({"treble": treble, "bass": bass})
    # E4 sounds across both beats; under D5–G5 the right hand would span 15: it stays down
    assert written == {"treble": treble, "bass": bass}
    written = piano_staves({"treble": treble[:1], "bass": bass[:1]})
    assert _pitches(written["treble"]) == [(64, 67, 72)] and _pitches(written["bass"]) == [(48,)]


def test_the_bass_and_the_melody_never_change_hands():
    alone = {"treble": [Event((67, 72), Q)], "bass": [Event((64,), Q)]}  # E4 is the bass
    assert piano_staves(alone) == alone
    low_tune = {"treble": [Event((59,), Q)], "bass": [Event((43, 50), Q)]}  # B3 is the tune
    assert piano_staves(low_tune) == low_tune
    inner = {"treble": [Event((59, 67), Q)], "bass": [Event((48, 55), Q)]}  # alto B3 sinks
    written = piano_staves(inner)
    assert _pitches(written["treble"]) == [(67,)] and _pitches(written["bass"]) == [(48, 55, 59)]
    # a C4 needs its ledger line on either staff: it stays with the hand that has it
    middle = {"treble": [Event((60, 67), Q)], "bass": [Event((48, 55), Q)]}
    assert piano_staves(middle) == middle


def test_a_left_hand_wider_than_a_ninth_gives_its_upper_note_away():
    treble = [Event((64, 67), Q)]
    wide = {"treble": treble, "bass": [Event((40, 56), Q)]}    # E2 + G#3: a tenth apart
    assert _pitches(piano_staves(wide)["bass"]) == [(40,)]
    narrow = {"treble": treble, "bass": [Event((40, 52), Q)]}  # an octave: stays
    assert piano_staves(narrow) == narrow


def test_a_moved_note_that_outlasts_its_neighbours_is_held_on_the_new_staff():
    treble = [Event((69, 72), Q), Event((67, 71), Q)]
    bass = [Event((48, 62), 2 * Q), ]                       # tenor D4 held two beats
    written = piano_staves({"treble": treble, "bass": bass})
    assert [(e.pitches, e.held) for e in written["treble"]] == [
        ((62, 69, 72), ()), ((62, 67, 71), (62,))]
    assert sorted(notes_of(written["treble"]) + notes_of(written["bass"])) == sorted(
        notes_of(treble) + notes_of(bass))


def test_a_composed_piece_reads_as_piano_music_and_sounds_the_same(tmp_path):
    """Over four pieces in keys where the tenor sits high: far fewer left-hand ledger lines, the
    same notes, the same MIDI file, every note named as before, and the MusicXML reads back
    as the written staves."""
    ledger = {"piano": 0, "as-sampled": 0}
    for number, key in enumerate(["D major", "Eb major", "C minor", "E major"]):
        pieces = {split: gs.compose(bars=4, key=key, seed=109 + number, candidates=1,
                                    staves=split) for split in ledger}
        piano, sampled = pieces["piano"], pieces["as-sampled"]
        assert piano.staves == sampled.staves and piano.info == sampled.info
        for split, piece in pieces.items():
            ledger[split] += sum(p >= 60 for e in piece.written_staves["bass"] for p in e.struck)
        heard = sorted(n for c in gs.CLEFS for n in notes_of(piano.written_staves[c]))
        assert heard == sorted(n for c in gs.CLEFS for n in notes_of(piano.staves[c]))
        names = {}
        for split, piece in pieces.items():
            written = piece.write(tmp_path / f"{split}{number}", ["musicxml", "midi"])
            names[split] = {(float(n.offset), m.pitch.midi): m.pitch.name
                            for part in piece.score.parts for n in part.flatten().notes
                            for m in (n.notes if n.isChord else [n])
                            if m.tie is None or m.tie.type == "start"}  # struck notes
            read = gs.encode(written["musicxml"], transpose=False)
            assert tokens_of(read) == tokens_of(
                {c: events_to_table(piece.written_staves[c]) for c in gs.CLEFS})
        assert names["piano"] == names["as-sampled"]
        assert (tmp_path / f"piano{number}.mid").read_bytes() == (
            tmp_path / f"as-sampled{number}.mid").read_bytes()
    assert ledger["piano"] < 0.7 * ledger["as-sampled"], ledger  # 30 of 54 when written


def test_an_unknown_split_is_refused_in_one_line():
    with pytest.raises(BadArgumentError, match="'organ' is not one of piano, as-sampled"):
        check_staff_split("organ")
    with pytest.raises(BadArgumentError, match="organ"):
        gs.compose(bars=2, staves="organ")
