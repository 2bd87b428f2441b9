"""The both-hands measures on hand-made pieces whose answer is known."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from grandstaff.judging import ensemble as en
from grandstaff.music.events import Event


def staff(*chords, length=Fraction(4)):
    return [Event(tuple(c), length) for c in chords]


C_MAJOR = (60, 64, 67)
G7 = (59, 65, 67)
D_MINOR = (62, 65, 69)


def test_a_piece_ending_c_g7_c_has_a_final_cadence():
    treble, bass = staff(C_MAJOR, G7, C_MAJOR), staff((48,), (43,), (36,))
    assert en.final_cadence(treble, bass, tonic=0, mode="major") == (True, True)


def test_tonic_notes_moving_over_the_last_chord_are_still_v_i():
    """G7, then C major whose upper notes move (C-E-G, then C-E, then C-E-G): the harmony
    before the last onset is still I, so the cadence is V7-I; a D minor chord there is not."""
    treble = [Event(G7, Fraction(2)), Event(C_MAJOR, Fraction(1)), Event((60, 64), Fraction(1) / 2),
              Event(C_MAJOR, Fraction(1) / 2)]
    bass = [Event((43,), Fraction(2)), Event((36,), Fraction(2))]
    assert en.final_cadence(treble, bass, tonic=0, mode="major") == (True, True)
    treble[1] = Event(D_MINOR, Fraction(1))
    bass = [Event((43,), Fraction(2)), Event((38,), Fraction(1)), Event((36,), Fraction(1))]
    assert en.final_cadence(treble, bass, tonic=0, mode="major") == (True, False)


def test_a_piece_ending_on_d_minor_has_none():
    treble, bass = staff(C_MAJOR, G7, D_MINOR), staff((48,), (43,), (50,))
    assert en.final_cadence(treble, bass, tonic=0, mode="major") == (False, False)


def test_the_tonic_must_be_in_the_bass_and_a_plagal_close_is_no_v_i():
    inverted = en.final_cadence(staff(G7, C_MAJOR), staff((43,), (40,)), tonic=0, mode="major")
    plagal = en.final_cadence(staff((60, 65, 69), C_MAJOR), staff((41,), (48,)), tonic=0,
                              mode="major")
    assert inverted == (False, False)
    assert plagal == (True, False)


def test_a_picardy_third_counts_in_minor_but_not_a_minor_third_in_major():
    a_major, e_major = (57, 61, 64), (56, 59, 64)
    assert en.final_cadence(staff(e_major, a_major), staff((40,), (33,)), tonic=9,
                            mode="minor") == (True, True)
    c_minor = (60, 63, 67)
    assert en.final_cadence(staff(G7, c_minor), staff((43,), (36,)), tonic=0,
                            mode="major") == (False, False)


def test_trailing_rests_do_not_hide_the_last_chord():
    treble = staff(G7, C_MAJOR) + [Event((), Fraction(4))]
    bass = staff((43,), (36,)) + [Event((), Fraction(4))]
    assert en.final_cadence(treble, bass, tonic=0, mode="major") == (True, True)


def test_harmonic_fit_counts_beats_that_one_chord_explains():
    # beat 1: C E G (fits); beat 2: C D E (no chord); beats 3-4: rest (left out)
    treble = [Event((64, 67), Fraction(1)), Event((62, 64), Fraction(1)),
              Event((), Fraction(2))]
    bass = [Event((48,), Fraction(2)), Event((), Fraction(2))]
    assert en.harmonic_fit(treble, bass) == 0.5
    assert math.isnan(en.harmonic_fit([Event((), Fraction(4))], [Event((), Fraction(4))]))


def test_harmonic_fit_takes_the_dotted_beat_of_six_eight():
    # the beats of 6/8 are at 0 and 3/2: C major, then B-F (a dominant seventh's shell)
    treble = [Event((60, 64), Fraction(1, 2)), Event((62, 65), Fraction(1)),
              Event((65, 71), Fraction(3, 2))]
    bass = [Event((48,), Fraction(3, 2)), Event((43,), Fraction(3, 2))]
    assert en.harmonic_fit(treble, bass, "6/8") == 1.0  # G B F: a dominant seventh's shell
    assert en.harmonic_fit(treble, [Event((48,), Fraction(3))], "6/8") == 0.5  # C B F: none


@pytest.mark.parametrize("meter,starts,expected", [
    ("4/4", [0, 1, 2, 3], 0.5),       # beats 1 and 3 are strong
    ("3/4", [0, 1, 2], 1 / 3),        # only the downbeat
    ("6/8", [0, Fraction(3, 2)], 1.0),  # both dotted beats
])
def test_strong_beats_by_meter(meter, starts, expected):
    events = [Event((60 + i,), Fraction(1) if meter != "6/8" else Fraction(3, 2))
              for i, _ in enumerate(starts)]
    assert en.strong_beat_share(events, meter) == pytest.approx(expected)


def test_a_note_held_over_the_barline_counts_from_its_start():
    # an offbeat half note tied over: one long note that starts on beat 4, not strong
    events = [Event((60,), Fraction(3)), Event((62,), Fraction(1)),
              Event((62,), Fraction(3), held=(62,)), Event((64,), Fraction(1))]
    # C on beat 1 (strong), D from beat 4 held on (weak), E on beat 4 of bar 2 (weak)
    assert en.strong_beat_share(events, "4/4") == pytest.approx(1 / 3)
    assert len(en.notes(events)) == 3


def test_parallel_fifths_and_octaves_are_counted_per_100_beats():
    # outer voices G4/C3 -> A4/D3 -> B4/E3: two parallel steps (fifth, fifth)
    treble = staff((67,), (69,), (71,), length=Fraction(1))
    bass = staff((48,), (50,), (52,), length=Fraction(1))
    assert en.parallels_per_100_beats(treble + [Event((), Fraction(1))],
                                      bass + [Event((), Fraction(1))]) == 50.0
    # contrary motion into the same fifths is no parallel
    contrary = staff((67,), (62,), length=Fraction(2))
    assert en.parallels_per_100_beats(contrary, staff((48,), (55,), length=Fraction(2))) == 0.0


def test_crossings_and_ledger_lines():
    treble = [Event((55, 67), Fraction(2)), Event((72,), Fraction(2))]
    bass = [Event((48, 60), Fraction(2)), Event((48,), Fraction(2))]
    assert en.crossing_share(treble, bass) == 0.5  # C4 in the bass above G3 in the treble
    assert en.ledger_share(treble) == pytest.approx(1 / 3)  # G3 of G3, G4, C5
    held = [Event((84,), Fraction(1)), Event((84, 72), Fraction(1), held=(84,))]
    assert en.ledger_share(held) == 0.5  # the held C6 is struck once


def test_a_note_struck_thrice_in_the_final_v_is_found_in_an_inner_voice():
    """The alto strikes B3 three times in the V while the top voice moves: the run is 3, in
    the treble's inner voice; holding the B the second time breaks the run."""
    q = Fraction(1)
    iv, i_chord = Event((65, 69, 72), q), Event((60, 64, 67, 72), 2 * q)
    v = [Event((59, 62, 67), q), Event((59, 65, 69), q), Event((59, 62, 71), q)]
    bass = [Event((41,), q), Event((43,), 3 * q), Event((36,), 2 * q)]
    assert en.cadence_approach([iv, *v, i_chord], bass, tonic=0) == (True, 3)
    held = [v[0], Event((59, 65, 69), q, held=(59,)), v[2]]
    assert en.cadence_approach([iv, *held, i_chord], bass, tonic=0) == (True, 1)
