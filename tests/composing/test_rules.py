"""Each sampling rule alone, through the eager path, on a hand-made vocabulary of a few tokens:
the case it forbids or penalises, and a case it leaves alone."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

from grandstaff.composing import rules as r
from grandstaff.composing.rules import (
    ALL_RULES,
    DURATION,
    PITCH,
    RuleEmptiedError,
    Rules,
    StaffArrays,
    StepView,
    default_rules,
)
from grandstaff.composing.tables import DurationTable, PitchTable
from grandstaff.music.events import Event
from grandstaff.music.hands import piano_staves
from grandstaff.music.vocab import Vocabulary, duration_ticks

TREBLE = ["rest", "60", "62", "64", "67", "71", "72", "79", "84", "64.67", "64.67.72",
          "62.67.71", "60~.64", "68"]
BASS = ["rest", "36", "43", "48", "55", "60", "67", "43.55", "47", "50", "53"]
DURATIONS = ["1/4", "1/3", "1/2", "3/4", "1", "3/2", "2", "3", "4"]


def _vocab(tokens, head="pitch"):
    return Vocabulary.build(tokens, head=head)


@pytest.fixture(scope="module")
def tables():
    treble, bass = _vocab(TREBLE), _vocab(BASS)
    durations = _vocab(DURATIONS, head="duration")
    target = 4 * 24 * 4  # four bars of 4/4

    def arrays(clef, mode="major", bar=96):
        own, partner = (treble, bass) if clef == "treble" else (bass, treble)
        table = DurationTable.build(durations, duration_ticks(durations), target, bar)
        return StaffArrays.build(clef, mode, PitchTable.build(own), PitchTable.build(partner),
                                 table)

    return {"treble": treble, "bass": bass, "duration": durations, "arrays": arrays}


def view(vocab, partner, *, previous="60", heard="48", heard_before="48", partner_onset=0,
         partner_end=24, elapsed=0, remaining=384, count=1, sounded=True, pitch=None):
    """A one-row step view from token names."""
    def one(value, dtype="int32"):
        return np.array([value], dtype=dtype)

    previous_id = vocab.id(previous)
    return StepView(one(previous_id), one(vocab.id(pitch) if pitch else previous_id),
                    one(partner.id(heard)), one(partner.id(heard_before)), one(partner_onset),
                    one(partner_end), one(elapsed), one(remaining), one(count),
                    one(sounded, bool))


def allowed(rule, step, arrays, vocab):
    """The tokens ``rule`` allows in the one row of ``step``."""
    mask = np.asarray(rule(step, arrays, np))[0]
    return {token for token, ok in zip(vocab.tokens, mask) if ok}


def test_no_special_tokens(tables):
    arrays, vocab = tables["arrays"]("treble"), tables["treble"]
    kept = allowed(r.NoSpecialTokens(), view(vocab, tables["bass"]), arrays, vocab)
    assert kept == set(TREBLE)


def test_a_hold_needs_the_note_in_the_event_before(tables):
    arrays, vocab, bass = tables["arrays"]("treble"), tables["treble"], tables["bass"]
    assert "60~.64" not in allowed(r.HoldsSound(), view(vocab, bass, previous="62"), arrays,
                                   vocab)
    assert "60~.64" in allowed(r.HoldsSound(), view(vocab, bass, previous="60"), arrays, vocab)


def test_one_opening_rest(tables):
    arrays, vocab, bass = tables["arrays"]("treble"), tables["treble"], tables["bass"]
    after_rest = view(vocab, bass, previous="rest", elapsed=24, sounded=False)
    assert "rest" not in allowed(r.OpeningRest(), after_rest, arrays, vocab)
    assert "rest" in allowed(r.OpeningRest(), view(vocab, bass, elapsed=0, sounded=False),
                             arrays, vocab)
    assert "rest" in allowed(r.OpeningRest(), view(vocab, bass, elapsed=24), arrays, vocab)


def test_cadence_chords(tables):
    rule = r.CadenceSpans(span=48)
    treble, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")
    final = allowed(rule, view(treble, bass, remaining=48), arrays, treble)
    # the tonic triad, at most one third (`the final chord's third` decides which staff)
    assert final == {"60", "64", "67", "72", "79", "84", "64.67", "64.67.72", "60~.64"}
    dominant = allowed(rule, view(treble, bass, remaining=96), arrays, treble)
    assert dominant == {"71", "62.67.71"}  # the leading tone in the treble
    assert allowed(rule, view(treble, bass, remaining=97), arrays, treble) == set(
        treble.tokens)
    bass_final = allowed(rule, view(bass, treble, heard="64", heard_before="64", remaining=48),
                         tables["arrays"]("bass"), bass)
    assert bass_final == {"36", "48", "60"}  # the tonic lowest


def _closing_arrays(clef, mode, own, partner):
    durations = _vocab(DURATIONS, head="duration")
    table = DurationTable.build(durations, duration_ticks(durations), 384, 96)
    return StaffArrays.build(clef, mode, PitchTable.build(own), PitchTable.build(partner), table)


def test_the_final_chords_third_sounds_once_and_major(tables):
    """In the final span the treble sounds the third only where the bass staff does not, and
    then the major one (a Picardy third in minor); the bass staff, moving first, takes no
    Picardy third under a melody that ends on the minor one; before the span all is free."""
    treble = _vocab(["rest", "60", "64", "67.72", "64.67.72", "60.69", "61.69", "64.69"])
    bass = _vocab(["rest", "36", "48.52", "48.55", "45.49", "45.52", "45.48"])
    rule, major = r.ClosingThird(span=48, above=True, tonic=0), {"64", "64.67.72"}
    arrays = _closing_arrays("treble", "major", treble, bass)

    def kept(rule, heard, arrays, remaining=48):
        step = view(treble, bass, previous="60", heard=heard, heard_before=heard,
                    remaining=remaining)
        return allowed(rule, step, arrays, treble)

    assert kept(rule, "48.52", arrays) == set(treble.tokens) - major - {"64.69"}
    assert kept(rule, "48.55", arrays) == major | {"64.69"}
    assert kept(rule, "48.55", arrays, remaining=96) == set(treble.tokens)
    minor = r.ClosingThird(span=48, above=True, tonic=9)
    arrays = _closing_arrays("treble", "minor", treble, bass)
    assert kept(minor, "45.52", arrays) == {"61.69"}  # C sharp, not C
    assert kept(minor, "45.49", arrays) == set(treble.tokens) - {"60", "60.69", "61.69",
                                                                  "64.67.72", "67.72"}
    below = r.ClosingThird(span=48, above=False, tonic=9)
    bass_arrays = _closing_arrays("bass", "minor", bass, treble)
    step = view(bass, treble, previous="36", heard="60", heard_before="60", remaining=48)
    assert allowed(below, step, bass_arrays, bass) == set(bass.tokens)  # no melody
    under_c = step._replace(melody=np.array([72], dtype="int32"))
    assert allowed(below, under_c, bass_arrays, bass) == set(bass.tokens) - {"45.49"}
    under_a = step._replace(melody=np.array([69], dtype="int32"))
    assert allowed(below, under_a, bass_arrays, bass) == set(bass.tokens)


def test_the_tenor_takes_the_final_third(tables):
    """In the final span a bass-staff token without the major third costs
    TENOR_THIRD_PENALTY; before it, or under a melody that sounds the third, nothing."""
    treble = _vocab(["rest", "60", "64", "72"])
    bass = _vocab(["rest", "36", "48.52", "48.55", "36.52~"])
    arrays = _closing_arrays("bass", "major", bass, treble)
    rule = r.TenorTakesThird(span=48, tonic=0)
    step = view(bass, treble, previous="36", heard="72", heard_before="72", remaining=48)

    def costs(step):
        return dict(zip(bass.tokens, np.asarray(rule(step, arrays, np))[0].tolist()))

    found = costs(step)
    assert found["48.52"] == found["36.52~"] == 0  # a held third is the tenor's too
    assert found["36"] == found["48.55"] == found["rest"] == r.TENOR_THIRD_PENALTY > 0
    assert not any(costs(step._replace(remaining=np.array([96], dtype="int32"))).values())
    under_e = step._replace(melody=np.array([76], dtype="int32"))
    assert not any(costs(under_e).values())
    assert r.TenorTakesThird(48, 0) in r.default_rules(clef="bass", ending="cadence").rules
    assert not any(isinstance(rule, r.TenorTakesThird)
                   for rule in r.default_rules(clef="treble", ending="cadence").rules)


def test_hands_in_order(tables):
    treble, bass = tables["treble"], tables["bass"]
    step = view(treble, bass, heard="67", partner_end=24, elapsed=0)
    kept = allowed(r.HandsInOrder(above=True), step, tables["arrays"]("treble"), treble)
    assert "62" not in kept and "64.67" not in kept and {"67", "72", "rest"} <= kept
    ended = view(treble, bass, heard="67", partner_end=0, elapsed=24)  # bass note over
    assert "62" in allowed(r.HandsInOrder(above=True), ended, tables["arrays"]("treble"),
                           treble)
    below = allowed(r.HandsInOrder(above=False),
                    view(bass, treble, heard="62", heard_before="62"),
                    tables["arrays"]("bass"), bass)
    assert "67" not in below and "60" in below


def test_no_parallel_fifths_or_octaves(tables):
    """The bass moved C3→G2 at this onset; the treble had C5 over C3 (octaves): C5→G4
    would be parallel octaves, C5→B4 is not."""
    treble, bass = tables["treble"], tables["bass"]
    step = view(treble, bass, previous="72", heard="43", heard_before="48", partner_onset=24,
                elapsed=24)
    kept = allowed(r.NoParallels(above=True), step, tables["arrays"]("treble"), treble)
    assert "67" not in kept and {"71", "79"} <= kept  # G4 octaves; B4, G5 (contrary) fine
    apart = step._replace(partner_onset=np.array([0]))  # the bass moved earlier: no pair
    assert "67" in allowed(r.NoParallels(above=True), apart, tables["arrays"]("treble"),
                           treble)


@pytest.fixture(scope="module")
def voiced():
    """Two-note tokens, so that inner voices can move in parallel."""
    treble = _vocab(["rest", "60.67", "62.69", "62.71", "64.67", "62", "79", "81"])
    bass = _vocab(["rest", "48", "50", "48.55", "50.57", "45.57", "43.55"])
    durations = _vocab(DURATIONS, head="duration")
    table = DurationTable.build(durations, duration_ticks(durations), 384, 96)

    def arrays(clef):
        own, partner = (treble, bass) if clef == "treble" else (bass, treble)
        return StaffArrays.build(clef, "major", PitchTable.build(own), PitchTable.build(partner),
                                 table)

    return {"treble": treble, "bass": bass, "arrays": arrays}


def test_voices_are_a_tokens_notes_in_pitch_order(voiced):
    treble = PitchTable.build(voiced["treble"])
    row = voiced["treble"].id("60.67")
    assert treble.voices_from_top[row].tolist() == [67, 60]
    assert treble.voices_from_bottom[row].tolist() == [60, 67]
    assert treble.voices_from_top[voiced["treble"].id("62")].tolist() == [62, -1]
    assert treble.voices_from_top[voiced["treble"].id("rest")].tolist() == [-1, -1]


def test_no_parallels_between_any_two_voices(voiced):
    """Within a staff: C4–G4 to D4–A4 is parallel fifths. Across the staves, where the bass
    moved C3→D3 first at this onset: the treble's inner C4 rising to D4 makes octaves with it,
    even though the top voice does not."""
    treble, bass, rule = voiced["treble"], voiced["bass"], r.VoiceParallels()
    arrays = voiced["arrays"]("treble")
    alone = view(treble, bass, previous="60.67", heard="48", heard_before="48",
                 partner_onset=0, elapsed=24)  # the bass holds: only the staff's own pairs
    kept = allowed(rule, alone, arrays, treble)
    assert "62.69" not in kept and {"62.71", "64.67", "62"} <= kept
    moved = view(treble, bass, previous="60.67", heard="50", heard_before="48",
                 partner_onset=24, elapsed=24)
    kept = allowed(rule, moved, arrays, treble)
    assert "62.71" not in kept  # the inner C4→D4 over C3→D3
    assert "62" in kept  # a single note is the top voice: G4 falls to D4, against the bass
    assert "64.67" in kept  # E4 over D3: no octave; G4 held
    assert "62.71" in allowed(r.NoParallels(above=True), moved, arrays, treble)  # top: B4
    # the bass's own voices: C3–G3 to D3–A3 is parallel fifths; to a single D3 it is not
    low = allowed(rule, view(bass, treble, previous="48.55", heard="79", heard_before="79"),
                  voiced["arrays"]("bass"), bass)
    assert "50.57" not in low and {"50", "45.57"} <= low


def test_no_parallels_between_any_bass_voice_and_the_melody(voiced):
    """The melody rises G5→A5 over C3–G3: the tenor rising G3→A3 makes octaves with it even
    where the bass below falls to A2, and only the lowest voice was checked before."""
    bass, treble = voiced["bass"], voiced["treble"]
    step = _guided(view(bass, treble, previous="48.55", heard="79", heard_before="79"), 81)
    step = step._replace(melody_before=np.array([79], "int32"))
    kept = allowed(r.MelodyParallels(), step, voiced["arrays"]("bass"), bass)
    assert "45.57" not in kept and "50.57" not in kept
    assert {"43.55", "48"} <= kept  # contrary, or the bass held
    assert "50" not in kept  # C3→D3 under G5→A5: fifths with the lowest voice too


def test_the_cadence_top_voice(tables):
    """In the final span the top voice ends on the tonic, and a leading tone on top rises a
    semitone to it; into the dominant span it does not leap more than a sixth."""
    treble, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")
    rule = r.CadenceTop(span=48, tonic=0)
    final = allowed(rule, view(treble, bass, previous="67", remaining=48), arrays, treble)
    assert {"64.67.72", "72", "60", "84"} <= final and "64.67" not in final
    resolving = allowed(rule, view(treble, bass, previous="62.67.71", remaining=48), arrays,
                        treble)
    assert "64.67.72" in resolving and "60" not in resolving and "84" not in resolving
    leap = allowed(rule, view(treble, bass, previous="60", remaining=96), arrays, treble)
    assert "84" not in leap and "79" not in leap and "67" in leap  # C4 -> G5: a twelfth
    earlier = view(treble, bass, previous="60", remaining=200)
    assert allowed(rule, earlier, arrays, treble) == set(treble.tokens)


def test_the_cadence_top_voice_takes_no_seventh_over_the_v(tables):
    """Over the V the top voice does not take the seventh (F in C major, D in A minor), which
    could only leap to the tonic (D minor 4/4 seed 5, bar 16: G4 to D4); inner voices may,
    and before the dominant span the top voice may too."""
    treble = _vocab(["rest", "62.67.71", "59.65", "65.71", "59.67.74", "67.77", "71.74"])
    arrays = _closing_arrays("treble", "major", treble, tables["bass"])
    rule = r.CadenceTop(span=48, tonic=0)
    for remaining in (96, 72):  # into the dominant span, and within it
        kept = allowed(rule, view(treble, tables["bass"], previous="62.67.71",
                                  remaining=remaining), arrays, treble)
        assert kept == set(treble.tokens) - {"59.65", "67.77"}  # F5 and F4 on top
    before = view(treble, tables["bass"], previous="62.67.71", remaining=144)
    assert {"59.65", "67.77"} <= allowed(rule, before, arrays, treble)
    minor = _vocab(["rest", "62.68", "64.68.71", "56.62", "68.74"])
    arrays = _closing_arrays("treble", "minor", minor, tables["bass"])
    kept = allowed(r.CadenceTop(span=48, tonic=9), view(
        minor, tables["bass"], previous="64.68.71", remaining=72), arrays, minor)
    assert kept == set(minor.tokens) - {"56.62", "68.74"}  # D on top: the seventh of E7


def test_cadence_voicing(tables):
    treble, bass = tables["treble"], tables["bass"]
    rule = r.CadenceVoicing(span=48, above=True)
    in_span = view(treble, bass, heard="67", remaining=48)
    assert "64" not in allowed(rule, in_span, tables["arrays"]("treble"), treble)
    before = view(treble, bass, heard="67", remaining=200)
    assert "64" in allowed(rule, before, tables["arrays"]("treble"), treble)
    # the bass keeps to C4 and below there, under the treble's lowest note
    low = r.CadenceVoicing(span=48, above=False)
    kept = allowed(low, view(bass, treble, heard="72", heard_before="72", remaining=96),
                   tables["arrays"]("bass"), bass)  # the dominant span
    assert {"36", "48", "60", "43.55"} <= kept and "67" not in kept
    # into the closing chord from G2 the bass takes C3 (up a fourth) or C2 (down a fifth),
    # not C4 an octave and a fourth above
    closing = view(bass, treble, previous="43", heard="72", heard_before="71", remaining=48)
    kept = allowed(low, closing, tables["arrays"]("bass"), bass)
    assert {"48", "36"} <= kept and "60" not in kept
    # the closing chord's major third may rise to E4, a tenth over C3 (as Bach voices it);
    # nothing else above C4, and not in the V
    tenor = _vocab(["rest", "43", "48", "48.60", "48.64", "48.67", "48.65"])
    arrays = _closing_arrays("bass", "major", tenor, treble)
    voiced = r.CadenceVoicing(span=48, above=False, tonic=0)
    closing = view(tenor, treble, previous="43", heard="72", heard_before="71", remaining=48)
    kept = allowed(voiced, closing, arrays, tenor)
    assert {"48", "48.60", "48.64"} <= kept and not {"48.67", "48.65"} & kept
    in_v = view(tenor, treble, previous="43", heard="72", heard_before="71", remaining=96)
    assert "48.64" not in allowed(voiced, in_v, arrays, tenor)


def test_the_key_kept(tables):
    table = PitchTable.build(tables["treble"])
    major = dict(zip(table.tokens, r.KeyKept().costs(table, "treble", "major", None)))
    minor = dict(zip(table.tokens, r.KeyKept().costs(table, "treble", "minor", None)))
    assert major["68"] == r.MODE_PENALTY["major"] and major["67"] == 0  # G sharp in C major
    assert minor["67"] == r.MODE_PENALTY["minor"] and minor["68"] == 0  # G natural in A minor
    # with a set's own counts: what a mode's pieces strike less often than all costs more
    counts = {"major": [30, 0, 10, 0, 20, 10, 0, 30, 1, 10, 0, 10],
              "minor": [10, 0, 10, 0, 30, 10, 0, 10, 20, 30, 0, 10]}
    rule = r.KeyKept(r.mode_leanings(counts))
    major = dict(zip(table.tokens, rule.costs(table, "treble", "major", None)))
    minor = dict(zip(table.tokens, rule.costs(table, "treble", "minor", None)))
    assert major["68"] > 0.5 > 0 > major["67"]  # G sharp in C major costs, G gains
    assert minor["68"] < 0 < minor["67"]
    assert major["64.67"] == pytest.approx(major["64"] + major["67"])  # per struck note
    assert major["60~.64"] == pytest.approx(major["64"])  # a held note costs nothing
    assert major["rest"] == 0
    # a set with no minor pieces charges a minor piece the fixed cost, not leanings that
    # would favour every note its major pieces seldom strike
    major_only = r.KeyKept(r.mode_leanings({**counts, "minor": [0] * 12}))
    assert [mode for mode, _ in major_only.leanings] == ["major"]
    fixed = dict(zip(table.tokens, major_only.costs(table, "treble", "minor", None)))
    assert fixed["67"] == r.MODE_PENALTY["minor"] and fixed["68"] == 0


def test_the_upper_voices_within_an_octave():
    """A right hand of C4 and E5 (a tenth) costs SPACING_PENALTY; an octave, a closer chord,
    one note or a rest costs nothing, and the bass staff's wide chords nothing either."""
    table = PitchTable.build(_vocab(["rest", "60.76", "60.72", "64.67.72", "79"]))
    costs = dict(zip(table.tokens, r.UpperVoicesClose().costs(table, "treble", "major", 0)))
    assert costs["60.76"] == r.SPACING_PENALTY
    assert sum(costs.values()) == r.SPACING_PENALTY  # every other token, specials too, is free
    assert not r.UpperVoicesClose().costs(table, "bass", "major", 0).any()


def test_the_treble_on_its_staff(tables):
    table = PitchTable.build(tables["treble"])
    costs = dict(zip(table.tokens, r.TrebleOnStaff().costs(table, "treble", "major", 0)))
    assert costs["84"] == r.LEDGER_PENALTY and costs["60"] == r.LEDGER_PENALTY
    assert costs["67"] == 0 and costs["64.67.72"] == 0
    assert not r.TrebleOnStaff().costs(table, "treble", "major", None).any()  # not told
    assert not r.TrebleOnStaff().costs(table, "bass", "major", 0).any()


def test_a_low_alto_costs_less_than_a_low_top_and_a_lone_note_costs(voiced):
    """The top voice off the staff costs the full penalty, an alto under the staff less; a
    treble of one note pays for the voice it dropped."""
    table = PitchTable.build(voiced["treble"])
    costs = dict(zip(table.tokens, r.TrebleOnStaff().costs(table, "treble", "major", 0)))
    assert costs["60.67"] == r.INNER_LEDGER_PENALTY < r.LEDGER_PENALTY  # C4 under G4
    assert costs["81"] == r.LEDGER_PENALTY and costs["79"] == 0  # A5 above, G5 on it
    assert costs["64.67"] == 0
    lone = dict(zip(table.tokens, r.InnerVoicesKept().costs(table, "treble", "major", 0)))
    assert lone["62"] == lone["79"] == r.LONE_NOTE_PENALTY["treble"] > 0
    assert lone["60.67"] == lone["rest"] == 0
    bass = PitchTable.build(voiced["bass"])
    lone = dict(zip(bass.tokens, r.InnerVoicesKept().costs(bass, "bass", "major", 0)))
    singles = [token for token in bass.tokens if token.isdigit()]
    assert singles and all(lone[t] == r.LONE_NOTE_PENALTY["bass"] > 0 for t in singles)
    assert lone["rest"] == 0 and all(lone[t] == 0 for t in bass.tokens if "." in t)


def test_the_same_chord_struck_again_costs(tables):
    treble, bass = tables["treble"], tables["bass"]
    rule = r.ChordNotRepeated(penalty=1.5)
    costs = dict(zip(treble.tokens, np.asarray(rule(view(treble, bass, previous="64.67"),
                                                    tables["arrays"]("treble"), np))[0]))
    assert costs["64.67"] == 1.5  # the whole chord again
    assert costs["64"] == costs["64.67.72"] == costs["60~.64"] == 0  # a voice moves or holds
    after_rest = np.asarray(rule(view(treble, bass, previous="rest"),
                                 tables["arrays"]("treble"), np))[0]
    assert not after_rest.any()  # a rest after a rest is not a struck chord
    assert r.REPEAT_PENALTY["bass"] >= r.REPEAT_PENALTY["treble"] > 0


def test_the_top_note_struck_again_costs(tables):
    treble, bass = tables["treble"], tables["bass"]
    rule = r.TopVoiceMoves(penalty=1.5)
    costs = dict(zip(treble.tokens, np.asarray(rule(view(treble, bass, previous="64.67"),
                                                    tables["arrays"]("treble"), np))[0]))
    assert costs["67"] == costs["64.67"] == 1.5  # G4 on top again
    assert costs["64.67.72"] == costs["64"] == costs["rest"] == 0  # the top moves, or rests
    held = dict(zip(treble.tokens, np.asarray(rule(view(treble, bass, previous="60"),
                                                   tables["arrays"]("treble"), np))[0]))
    assert held["60~.64"] == 0 and held["60"] == 1.5  # C4 held under E4; C4 struck again


def test_a_chord_on_the_beat(tables):
    """Over C3, on a beat: E4–G4 (C major) and B4 (C–B, no chord) differ; between beats, or
    over a bass that has ended, nothing costs. (C–D fits D7.)"""
    treble, bass = tables["treble"], tables["bass"]
    arrays, rule = tables["arrays"]("treble"), r.ChordOnTheBeat(beat=24)
    on_beat = view(treble, bass, heard="48", partner_end=48, elapsed=24)
    costs = dict(zip(treble.tokens, np.asarray(rule(on_beat, arrays, np))[0]))
    assert costs["64.67"] == costs["67"] == costs["64.67.72"] == 0  # C major
    assert costs["71"] == r.CHORD_PENALTY and costs["62"] == 0  # C–B fits nothing; C–D: D7
    assert costs["62.67.71"] == r.CHORD_PENALTY and costs["rest"] == 0
    between = on_beat._replace(elapsed=np.array([36]))
    assert not np.asarray(rule(between, arrays, np)).any()
    ended = on_beat._replace(partner_end=np.array([24]))  # the bass moves here too, first
    assert dict(zip(treble.tokens, np.asarray(rule(ended, arrays, np))[0]))["71"] == 0
    assert r.chord_templates().sum(axis=1).tolist() == [3] * 24 + [4] * 12


def test_hands_more_than_an_octave_apart_cost(tables):
    """Over G2–G3 the treble's lowest note may reach G4 (an octave), not B4; under E4–G4 the
    bass's highest note must reach E3."""
    treble, bass = tables["treble"], tables["bass"]
    over = view(treble, bass, heard="43.55", partner_end=48, elapsed=24)
    costs = dict(zip(treble.tokens, np.asarray(r.HandsClose(above=True)(
        over, tables["arrays"]("treble"), np))[0]))
    assert costs["64"] == costs["67"] == costs["64.67.72"] == costs["rest"] == 0
    assert costs["71"] == costs["79"] == r.HANDS_APART_PENALTY
    ended = over._replace(partner_end=np.array([24]))  # the bass moves here too, first
    assert not np.asarray(r.HandsClose(above=True)(ended, tables["arrays"]("treble"),
                                                   np)).any()
    under = view(bass, treble, heard="64.67", heard_before="64.67", partner_end=48,
                 elapsed=24)
    low = dict(zip(bass.tokens, np.asarray(r.HandsClose(above=False)(
        under, tables["arrays"]("bass"), np))[0]))
    assert low["60"] == low["43.55"] == low["55"] == 0
    assert low["48"] == low["36"] == r.HANDS_APART_PENALTY


def test_consonance_between_the_hands(tables):
    treble, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")
    step = view(treble, bass, previous="rest", heard="48", partner_end=24, elapsed=0)
    cost = dict(zip(treble.tokens, np.asarray(r.Consonance()(step, arrays, np))[0]))
    assert cost["62"] == pytest.approx(r.DISSONANCE_PENALTY)  # D over C: a second
    assert cost["64"] == 0 and cost["67"] == 0
    # shared among the token's notes: D–G–B over C has two dissonant notes (D, B) of three,
    # so keeping the voices costs less than dropping to the lone D would
    assert cost["62.67.71"] == pytest.approx(2 * r.DISSONANCE_PENALTY / 3)  # D and B
    assert cost["62.67.71"] < cost["62"]
    silent = step._replace(partner_end=np.array([0]))  # the bass note has ended
    assert not np.asarray(r.Consonance()(silent, arrays, np)).any()


def test_a_passing_note_or_a_suspension_pays_less_than_a_leap_into_dissonance(tables):
    treble, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")

    def cost_of_d_after(previous):
        step = view(treble, bass, previous=previous, heard="48", partner_end=24)
        return dict(zip(treble.tokens, np.asarray(r.Consonance()(step, arrays, np))[0]))["62"]

    full = r.DISSONANCE_PENALTY
    relieved = full * (1 - r.STEPWISE_RELIEF)
    assert r.STEPWISE_RELIEF > 0
    assert cost_of_d_after("60") == pytest.approx(relieved)  # C4 to D4 over C: passing
    assert cost_of_d_after("62") == pytest.approx(relieved)  # D4 again: prepared
    assert cost_of_d_after("67") == pytest.approx(full)      # a leap down from G4


def test_a_chromatic_semitone_against_the_other_hand_costs(tables):
    treble, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")

    def cost(heard, **changes):
        step = view(treble, bass, heard=heard, partner_end=24, elapsed=0)._replace(**changes)
        return dict(zip(treble.tokens, np.asarray(r.ChromaticClash()(step, arrays, np))[0]))

    over_g = cost("55")  # G3: A♭ beside it clashes, the diatonic notes do not
    assert r.CLASH_PENALTY > 0 and over_g["68"] == pytest.approx(r.CLASH_PENALTY)
    assert over_g["67"] == over_g["64"] == over_g["62"] == over_g["71"] == 0
    assert cost("43.55")["68"] == pytest.approx(r.CLASH_PENALTY)  # one pitch class, once
    assert cost("60")["68"] == 0  # A♭ over C: a third, no clash
    assert cost("47")["72"] == 0  # C over B: a diatonic semitone is only a dissonance
    assert not any(cost("55", partner_end=np.array([0])).values())  # the G has ended
    major, minor = r.chromatic_clashes("major"), r.chromatic_clashes("minor")
    assert major[3, 4] == major[4, 3] == 1 and major[3, 2] == 0  # E♭ against E, not D
    assert minor[8, 7] == 1 and minor[8, 9] == 0  # in A minor G♯ clashes with G, not with A
    assert minor[3, 2] == 1 and major[10, 11] == minor[10, 11] == 1  # D♯ / D; B♭ / B


def test_a_false_relation_between_the_hands_costs(tables):
    """In A minor, G in the bass and then G♯ in the treble at the next onset is a false
    relation; the same inflection within the treble's own voice is not, and neither is a G♯
    against a G that still sounds (that is a clash, another rule's)."""
    treble, bass = tables["treble"], tables["bass"]
    rule = r.NoCrossRelation(minor=True)

    def cost(vocab, partner, clef, **fields):
        step = view(vocab, partner, **fields)
        return dict(zip(vocab.tokens, np.asarray(rule(step, tables["arrays"](clef, "minor"),
                                                      np))[0]))

    # the bass moved first at this onset, from G3 to C3
    after_g = cost(treble, bass, "treble", previous="60", heard="48", heard_before="55",
                   partner_onset=24, partner_end=48, elapsed=24)
    assert r.CROSS_RELATION_PENALTY > 0 and after_g["68"] == pytest.approx(
        r.CROSS_RELATION_PENALTY)
    assert after_g["67"] == after_g["64"] == after_g["72"] == 0
    own_g = cost(treble, bass, "treble", previous="67", heard="48", heard_before="55",
                 partner_onset=24, partner_end=48, elapsed=24)
    assert own_g["68"] == 0  # the treble's own G rises to G♯
    held_g = cost(treble, bass, "treble", previous="60", heard="55", heard_before="48",
                  partner_onset=0, partner_end=48, elapsed=24)
    assert not any(held_g.values())  # the G still sounds: a clash, not a false relation
    # the bass moves first, the treble's G♯4 ending here: the G in either bass token, once
    bass_after = cost(bass, treble, "bass", previous="48", heard="68", heard_before="64",
                      partner_onset=0, partner_end=24, elapsed=24)
    assert bass_after["55"] == bass_after["43.55"] == pytest.approx(r.CROSS_RELATION_PENALTY)
    assert bass_after["48"] == bass_after["53"] == 0
    assert r.NoCrossRelation(minor=False) in r.default_rules(clef="bass").rules
    assert r.NoCrossRelation(minor=True) in r.default_rules(clef="treble", mode="minor").rules
    harmonising = r.default_rules(clef="bass", melody=True).rules
    assert r.NoCrossRelation() not in harmonising  # the tune's own inflections stand
    assert r.NoCrossRelation() in r.default_rules(clef="treble", melody=True,
                                                  restating=True).rules


def test_a_left_hand_past_a_tenth_costs_unless_the_right_hand_takes_its_upper_note():
    """D2 under A3 (a twelfth) costs where the treble's top note lies more than an octave above
    the A3, the treble sounds the A3 too or is silent, and is free where the piano staves give
    the A3 to the right hand (below the treble's notes, its top note an octave above at most)."""
    bass = _vocab(["rest", "38", "38.50", "38.57", "38~.57", "50.57"])
    treble = _vocab(["rest", "65.69", "72.79", "57.65"])
    durations = _vocab(DURATIONS, head="duration")
    table = DurationTable.build(durations, duration_ticks(durations), 384, 96)
    arrays = StaffArrays.build("bass", "major", PitchTable.build(bass), PitchTable.build(treble),
                               table)
    rule = r.LeftHandWithinTenth()

    def cost(heard):
        step = view(bass, treble, previous="38", heard=heard, heard_before=heard)
        return dict(zip(bass.tokens, np.asarray(rule(step, arrays, np))[0]))

    far, silent, near = cost("72.79"), cost("rest"), cost("65.69")
    assert r.LEFT_HAND_SPAN_PENALTY > 0
    assert far["38.57"] == far["38~.57"] == silent["38.57"] == pytest.approx(
        r.LEFT_HAND_SPAN_PENALTY)
    assert far["38"] == far["38.50"] == far["50.57"] == far["rest"] == 0  # within a tenth
    assert not any(near.values())
    assert cost("57.65")["38.57"] == pytest.approx(r.LEFT_HAND_SPAN_PENALTY)  # the alto's A3
    quarter = Fraction(1)
    written = piano_staves({"treble": [Event((65, 69), quarter)],
                            "bass": [Event((38, 57), quarter)]})
    assert written["bass"][0].pitches == (38,)  # the right hand takes the A3, as the rule says
    assert r.LeftHandWithinTenth() in r.default_rules(clef="bass").rules
    assert r.LeftHandWithinTenth() not in r.default_rules(clef="treble").rules
    assert r.LeftHandWithinTenth() not in r.default_rules(clef="bass", melody=True).rules
    assert r.LeftHandWithinTenth() in r.default_rules(clef="bass", melody=True,
                                                      restating=True).rules


def test_a_bass_leap_past_an_octave_costs(tables):
    bass, treble = tables["bass"], tables["treble"]
    step = view(bass, treble, previous="55", heard="72", heard_before="72")  # from G3
    cost = dict(zip(bass.tokens, np.asarray(
        r.BassLeapsWithinOctave()(step, tables["arrays"]("bass"), np))[0]))
    assert r.LEAP_PENALTY > 0 and cost["36"] == pytest.approx(r.LEAP_PENALTY)  # down to C2
    assert cost["43"] == cost["43.55"] == cost["67"] == 0  # an octave down or up is fine
    assert cost["48"] == cost["rest"] == 0
    after_rest = view(bass, treble, previous="rest", heard="72", heard_before="72")
    assert not np.asarray(r.BassLeapsWithinOctave()(after_rest, tables["arrays"]("bass"),
                                                    np)).any()


def test_bars_filled(tables):
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    rule = r.BarFilling(barriers=(48, 96))
    near_end = allowed(rule, view(vocab, tables["bass"], remaining=120, pitch="60"), arrays,
                       durations)
    # 5 quarters left: nothing may cross into the dominant span, a quarter before the end
    assert near_end == {"1/4", "1/3", "1/2", "3/4", "1"}
    opening = view(vocab, tables["bass"], count=0, pitch="rest")
    assert "4" not in allowed(r.BarFilling(), opening, arrays, durations)
    assert "4" in allowed(r.BarFilling(), opening._replace(count=np.array([1])), arrays,
                          durations)


def test_the_closing_chord_held(tables):
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    rule = r.ClosingHold(span=48)
    assert allowed(rule, view(vocab, tables["bass"], remaining=48), arrays, durations) == {"2"}
    assert "1" in allowed(rule, view(vocab, tables["bass"], remaining=200), arrays, durations)


def test_the_compound_beat_kept(tables):
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    rule = r.CompoundBeat(beat=36)
    inside = allowed(rule, view(vocab, tables["bass"], elapsed=12), arrays, durations)
    assert "3/2" not in inside and "1" in inside  # 1/2 into the beat, 3/2 would cross it
    assert "3" in allowed(rule, view(vocab, tables["bass"], elapsed=36), arrays, durations)


def test_no_note_struck_off_the_dotted_beat_is_held_across_it(tables):
    """6/8: an eighth struck on the third eighth (tick 24) is not tied into the next dotted
    beat (tick 36), which is how a hemiola, 3/4 in 6/8, was written; a note struck on the
    beat may be held on, and inside the beat anything may."""
    vocab, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")
    rule = r.CompoundHold(beat=36)

    def at(elapsed, previous_onset):
        step = view(vocab, bass, elapsed=elapsed)._replace(
            previous_onset=np.array([previous_onset], dtype="int32"))
        return allowed(rule, step, arrays, vocab)

    every = set(vocab.tokens)
    assert at(36, 24) == every - {"60~.64"}
    assert at(36, 0) == every  # a dotted quarter held on from the beat
    assert at(48, 36) == every  # inside the beat
    assert at(36, -1) == every  # nothing drawn before
    assert "no hold across the dotted beat" in default_rules(time_signature="6/8").names
    assert "no hold across the dotted beat" not in default_rules(time_signature="3/4").names


def test_the_eighth_note_grid(tables):
    """On the grid a note may last any number of eighths or a sixteenth; a sixteenth off the
    grid must be followed by the sixteenth that brings it back; no triplet, no dotted
    eighth leaves the grid, but that the bass staff (in a meter of quarter beats) may strike
    a dotted eighth on the beat."""
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    rule = r.EighthGrid()
    on = allowed(rule, view(vocab, tables["bass"], elapsed=24), arrays, durations)
    assert on == {"1/4", "1/2", "1", "3/2", "2", "3", "4"}  # no 1/3, no 3/4
    off = allowed(rule, view(vocab, tables["bass"], elapsed=30), arrays, durations)
    assert off == {"1/4"}
    dotted = r.EighthGrid(dotted=True)  # the bass staff: a dotted eighth struck on the beat
    assert allowed(dotted, view(vocab, tables["bass"], elapsed=24), arrays, durations) == \
        on | {"3/4"}
    assert "3/4" not in allowed(dotted, view(vocab, tables["bass"], elapsed=36), arrays,
                                durations)  # not from the eighth after the beat
    assert allowed(dotted, view(vocab, tables["bass"], elapsed=42), arrays, durations) == off
    assert r.default_rules(clef="bass").rules[-1] == dotted
    assert r.default_rules(clef="treble").rules[-1] == rule
    assert r.default_rules(clef="bass", time_signature="6/8").rules[-1] == rule


def test_the_bass_above_c2(tables):
    table = PitchTable.build(tables["bass"])
    at = dict(zip(table.tokens, r.BassAboveC2().costs(table, "bass", "major", 0)))
    assert at["36"] == 0 and at["43.55"] == 0
    lower = dict(zip(table.tokens, r.BassAboveC2().costs(table, "bass", "major", -2)))
    assert lower["36"] == r.LOW_BASS_PENALTY and lower["43.55"] == 0  # B♭1 is below C2
    assert not r.BassAboveC2().costs(PitchTable.build(tables["treble"]), "treble", "major",
                                     -24).any()


def test_no_bass_below_its_floor(tables):
    """Told the floor (C2 where written, in the reference key), the bass refuses a token that
    sounds below it; a rest and the notes above it stay; untold, nothing is refused."""
    bass, arrays = tables["bass"], tables["arrays"]("bass")
    rule = r.BassFloor()
    step = view(bass, tables["treble"], previous="48", heard="60", heard_before="60")
    assert allowed(rule, step, arrays, bass) == set(bass.tokens)
    low = allowed(rule, step._replace(floor=np.int32(38)), arrays, bass)  # written 2 lower
    assert low == set(bass.tokens) - {"36"}
    assert allowed(rule, step._replace(floor=np.int32(44)), arrays, bass) == \
        set(bass.tokens) - {"36", "43", "43.55"}
    assert "rest" in low
    assert r.BassFloor() in r.default_rules(clef="bass").rules
    assert r.BassFloor() not in r.default_rules(clef="treble").rules


def test_the_hands_enter_within_a_beat_of_each_other(tables):
    """The bass rests three beats: the treble's opening rest ends within a beat of the bass's
    entry; under a bass that sounds at once it lasts a beat at most; later rests are free."""
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    rule = r.EntriesTogether(beat=24)
    waiting = view(vocab, tables["bass"], pitch="rest", heard="rest", partner_end=72,
                   elapsed=0, count=0, sounded=False)
    assert allowed(rule, waiting, arrays, durations) == {"2", "3", "4"}
    at_once = waiting._replace(heard=np.array([tables["bass"].id("48")]))
    assert allowed(rule, at_once, arrays, durations) == {"1/4", "1/3", "1/2", "3/4", "1"}
    later = waiting._replace(elapsed=np.array([48]))
    assert allowed(rule, later, arrays, durations) == set(durations.tokens)


def test_a_rest_mid_piece_lasts_a_beat_at_most(tables):
    """Mid-piece a rest lasts a beat at most (a dotted quarter in 6/8); an opening rest, a
    rest that fills the end and a note are left alone."""
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    resting = view(vocab, tables["bass"], pitch="rest", elapsed=96)
    kept = allowed(r.ShortRests(24), resting, arrays, durations)
    assert {t for t in kept if not t.startswith("<")} == {"1/4", "1/3", "1/2", "3/4", "1"}
    assert "3/2" in allowed(r.ShortRests(36), resting, arrays, durations)
    assert "2" not in allowed(r.ShortRests(36), resting, arrays, durations)
    at_end = resting._replace(remaining=np.array([96]))
    assert {"1", "4"} <= allowed(r.ShortRests(24), at_end, arrays, durations)
    assert "3" not in allowed(r.ShortRests(24), at_end, arrays, durations)
    opening = resting._replace(elapsed=np.array([0]))
    assert allowed(r.ShortRests(24), opening, arrays, durations) == set(durations.tokens)
    note = resting._replace(pitch=np.array([vocab.id("60")]))
    assert allowed(r.ShortRests(24), note, arrays, durations) == set(durations.tokens)


def test_a_planned_pickup_opens_with_a_rest_of_the_lead_in_both_hands(tables):
    """Until the lead only rests, ending there (three beats: a one-beat pickup), then a
    note; later onsets, and a note's duration, are left alone."""
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    opening = view(vocab, tables["bass"], pitch="rest", heard="rest", partner_end=72,
                   elapsed=0, count=0, sounded=False)
    assert allowed(r.PickupRest(72), opening, arrays, vocab) == {"rest"}
    at_pickup = opening._replace(elapsed=np.array([72]))
    assert allowed(r.PickupRest(72), at_pickup, arrays, vocab) == set(vocab.tokens) - {"rest"}
    later = opening._replace(elapsed=np.array([96]))
    assert allowed(r.PickupRest(72), later, arrays, vocab) == set(vocab.tokens)
    # rests up to the pickup, in one or more (an eighth's pickup: 3 + 1/2 quarters of rest)
    assert allowed(r.PickupLength(72), opening, arrays, durations) == {
        "1/4", "1/3", "1/2", "3/4", "1", "3/2", "2", "3"}
    part_way = opening._replace(elapsed=np.array([48]))
    assert allowed(r.PickupLength(72), part_way, arrays, durations) == {
        "1/4", "1/3", "1/2", "3/4", "1"}
    note = opening._replace(pitch=np.array([vocab.id("60")]))
    assert allowed(r.PickupLength(72), note, arrays, durations) == set(durations.tokens)
    assert allowed(r.PickupLength(72), later, arrays, durations) == set(durations.tokens)
    names = default_rules(ending="cadence", lead=72).names
    assert "pickup" in names and "pickup length" in names
    assert "pickup" not in default_rules(ending="cadence").names  # no plan: the models choose
    assert "pickup" not in default_rules(ending="cadence", lead=72, primed=True).names
    # planned without a pickup: a note at once, in both hands
    downbeat = default_rules(ending="cadence", lead=0)
    assert "pickup" in downbeat.names and "pickup length" not in downbeat.names
    assert allowed(r.PickupRest(0), opening, arrays, vocab) == set(vocab.tokens) - {"rest"}


def test_the_leading_tone_is_not_doubled_in_a_dominant(tables):
    treble, bass = tables["treble"], tables["bass"]
    rule, arrays = r.LeadingToneOnce(leading=11, root=7), tables["arrays"]("treble")
    over_b = allowed(rule, view(treble, bass, heard="47", partner_end=24), arrays, treble)
    assert "62.67.71" not in over_b and {"71", "64.67.72"} <= over_b  # B4 alone: no G
    over_g = allowed(rule, view(treble, bass, heard="43", partner_end=24), arrays, treble)
    assert {"62.67.71", "71"} <= over_g
    ended = view(treble, bass, heard="47", partner_end=0, elapsed=24)  # the B has ended
    assert "62.67.71" in allowed(rule, ended, arrays, treble)


def test_the_top_voice_moves_in_the_v_and_a_pre_dominant_comes_before_it(tables):
    treble, bass = tables["treble"], tables["bass"]
    moves = r.DominantTopMoves(span=48, dominant=48)
    inside = allowed(moves, view(treble, bass, previous="67", remaining=96),
                     tables["arrays"]("treble"), treble)
    assert "67" not in inside and "64.67" not in inside and {"71", "64.67.72"} <= inside
    before = view(treble, bass, previous="67", remaining=120)
    assert allowed(moves, before, tables["arrays"]("treble"), treble) == set(treble.tokens)
    drum = r.DominantBassMoves(span=48, dominant=48)  # the bass on G2 in the V
    in_v = allowed(drum, view(bass, treble, previous="43", heard="71", heard_before="71",
                        remaining=96),
                   tables["arrays"]("bass"), bass)
    assert "43" not in in_v and "43.55" not in in_v and {"47", "55", "50"} <= in_v
    assert allowed(drum, view(bass, treble, previous="43", heard="72",
                                           heard_before="72", remaining=48),  # the final span
                   tables["arrays"]("bass"), bass) == set(bass.tokens)
    low = r.PreDominant(span=48, dominant=48, beat=24, above=False, tonic=0)
    bass_kept = allowed(low, view(bass, treble, previous="48", heard="72", heard_before="72",
                             remaining=120),
                        tables["arrays"]("bass"), bass)
    assert bass_kept == {"50", "53"}  # D3 (ii), F3 (IV or ii6/5); not G, C or B
    high = r.PreDominant(span=48, dominant=48, beat=24, above=True, tonic=0)
    treble_kept = allowed(high, view(treble, bass, remaining=120), tables["arrays"]("treble"),
                          treble)
    assert "71" not in treble_kept and "62.67.71" not in treble_kept and "72" in treble_kept
    in_v = view(bass, treble, heard="72", heard_before="72", remaining=96)
    assert allowed(low, in_v, tables["arrays"]("bass"), bass) == set(bass.tokens)  # free


def test_no_voice_strikes_one_note_three_times_in_the_v(tables):
    treble, bass, arrays = tables["treble"], tables["bass"], tables["arrays"]("treble")
    rule = r.DominantVoicesMove(span=48, dominant=48)

    def kept(earlier, remaining=96):
        step = view(treble, bass, previous="62.67.71", remaining=remaining)
        step = step._replace(earlier=np.array([treble.id(earlier) if earlier else -1]))
        return allowed(rule, step, arrays, treble)

    # G4 (the inner voice) struck twice already: a third strike of it is refused, the top
    # voice's B4 (struck once) may come again, and the G may be held
    assert kept("64.67") == set(treble.tokens) - {"67", "64.67", "64.67.72", "62.67.71"}
    assert kept("62.67.71") == set(treble.tokens) - {"62", "67", "71", "64.67", "64.67.72",
                                                "62.67.71"}
    assert kept("64.67", remaining=120) == set(treble.tokens)  # before the V
    assert kept(None) == set(treble.tokens)  # no event before the one before


def test_fewer_re_strikes(tables):
    """After C4–E4–G4, striking E4 again costs; holding it, or moving, does not."""
    treble, bass = tables["treble"], tables["bass"]
    rule = r.FewerRestrikes(penalty=0.5)
    costs = dict(zip(treble.tokens, np.asarray(rule(view(treble, bass, previous="64.67.72"),
                                                    tables["arrays"]("treble"), np))[0]))
    assert costs["64.67"] == costs["64"] == costs["62.67.71"] == 0.5
    assert costs["60"] == costs["71"] == costs["rest"] == 0.0
    assert costs["60~.64"] == 0.5  # E4 struck again (the held C4 is not in the chord before)
    # the right hand, whose chords last longer, is charged more than the bass staff
    assert r.RESTRIKE_PENALTY["treble"] > r.RESTRIKE_PENALTY["bass"] > 0
    for clef in ("treble", "bass"):
        chosen = [rule for rule in default_rules(clef=clef) if rule.name == "fewer re-strikes"]
        assert [rule.penalty for rule in chosen] == [r.RESTRIKE_PENALTY[clef]]


def test_every_rule_is_in_the_default_list_in_order():
    """A composed piece's treble takes every rule but the melody's; a harmonised melody's
    treble takes the melody's instead of its own opening and cadence top voice, and its bass
    those that hear the melody ahead."""
    order = [rule.name for rule in ALL_RULES]
    melody_only = {"melody kept", "melody's rhythm kept", "no parallels with the melody",
                   "bass sounds with the melody", "consonance with the melody",
                   "bass enters with the melody", "alto moves with the melody"}
    composed = default_rules(time_signature="6/8", ending="cadence", lead=72).names
    # a planned opening replaces the models' own (one opening rest, when there is no plan)
    not_in_treble = {"one opening rest", "the V's bass moves", "bass leaps within an octave",
                     "left hand within a tenth", "no bass below C2",
                     "the tenor takes the final third"}
    assert composed == tuple(name for name in order if name not in melody_only | not_in_treble)
    composed_bass = default_rules(time_signature="6/8", ending="cadence", lead=72,
                                  clef="bass").names
    assert "the V's bass moves" in composed_bass and "the V's top voice moves" not in composed_bass
    assert "one opening rest" in default_rules(ending="cadence").names
    treble = default_rules(time_signature="6/8", ending="cadence", melody=True).names
    bass = default_rules(time_signature="6/8", ending="cadence", melody=True, clef="bass").names
    for names in (treble, bass):
        assert list(names) == sorted(names, key=order.index)
    assert (set(composed) | set(composed_bass) | set(treble) | set(bass) | {"one opening rest"}
            == set(order))
    assert {"melody kept", "melody's rhythm kept", "alto moves with the melody"} <= (
        set(treble) - set(bass))
    assert {"one opening rest", "cadence top voice"}.isdisjoint(treble)
    assert "one opening rest" not in bass  # it rests until the melody begins instead
    assert melody_only - {"melody kept", "melody's rhythm kept",
                          "alto moves with the melody"} <= set(bass) - set(treble)
    essential = default_rules(time_signature="6/8", ending="cadence", lead=72).essential().names
    assert essential == tuple(rule.name for rule in ALL_RULES if rule.essential and rule.name
                              not in melody_only | {"one opening rest"})
    assert "hands in order" not in default_rules(coupled=False).names
    # a form's restated phrases: the melody's rules and the piece's own opening and cadence
    restating = default_rules(time_signature="4/4", ending="cadence", melody=True,
                              restating=True).names
    assert {"melody kept", "melody's rhythm kept", "cadence top voice", "one opening rest",
            "pre-dominant before the V", "the V's top voice moves"} <= set(restating)
    assert "alto moves with the melody" not in restating  # as in the phrases it restates
    assert list(restating) == sorted(restating, key=order.index)


def _guided(step, note, struck=True, room=96, opening=False):
    return step._replace(melody=np.array([note], "int32"),
                         melody_struck=np.array([struck]), melody_room=np.array([room], "int32"),
                         melody_opening=np.array([opening]))


def test_a_given_melody_is_the_treble_top_struck_or_held(tables):
    arrays, vocab, bass = tables["arrays"]("treble"), tables["treble"], tables["bass"]
    rule = r.MelodyKept()
    struck = allowed(rule, _guided(view(vocab, bass), 67), arrays, vocab)
    assert struck == {"67", "64.67"}  # G on top, struck (not 62.67.71: B above it)
    # held: the top must carry the hold marker (only 60~.64 holds, and its top is struck)
    assert allowed(rule, _guided(view(vocab, bass), 64, struck=False), arrays, vocab) == set()
    assert allowed(rule, _guided(view(vocab, bass), 64), arrays, vocab) == {"64", "60~.64"}
    assert allowed(rule, _guided(view(vocab, bass), r.MELODY_REST), arrays, vocab) == {"rest"}
    assert allowed(rule, _guided(view(vocab, bass), r.MELODY_FREE), arrays, vocab) == set(
        vocab.tokens)


def test_no_treble_event_crosses_the_melody_s_next_onset(tables):
    vocab, durations = tables["treble"], tables["duration"]
    arrays = tables["arrays"]("treble")
    inside = allowed(r.MelodyRhythm(), _guided(view(vocab, tables["bass"]), 67, room=36),
                     arrays, durations)
    assert inside == {"1/4", "1/3", "1/2", "3/4", "1", "3/2"}


def test_under_a_melody_the_alto_moving_inside_a_melody_note_costs(tables):
    vocab, durations = tables["treble"], tables["duration"]
    arrays, rule = tables["arrays"]("treble"), r.AltoMovesWithMelody(penalty=1.5)
    step = _guided(view(vocab, tables["bass"]), 67, room=48)  # a half note of the melody

    def costs(step):
        return dict(zip(durations.tokens, np.asarray(rule(step, arrays, np))[0]))

    under = costs(step)
    # ending with the melody's next onset is free (past it is the rhythm rule's ban);
    # ending inside the half note costs
    assert under["2"] == under["4"] == 0
    assert under["1"] == under["1/2"] == 1.5
    free = costs(_guided(view(vocab, tables["bass"]), r.MELODY_FREE, room=48))
    assert not any(free.values())  # where the staff writes freely nothing costs


def test_a_ban_that_empties_a_row_is_named_in_the_eager_path(tables):
    treble, bass = tables["treble"], tables["bass"]
    arrays = tables["arrays"]("treble")._replace(closing=np.zeros(len(treble), dtype=bool))
    rules = Rules((r.NoSpecialTokens(), r.CadenceSpans(span=48)))
    step = view(treble, bass, remaining=48)
    with pytest.raises(RuleEmptiedError, match="cadence chords"):
        rules.narrow(PITCH, step, arrays, np, check=True)
    # compiled, the ban is skipped in that row and recorded instead of drawing padding
    mask, _, emptied = rules.narrow(PITCH, step, arrays, np)
    assert np.asarray(mask)[0].sum() == len(TREBLE)
    assert rules.emptied_names(PITCH, int(emptied[0])) == ["cadence chords"]
    assert rules.narrow(DURATION, step, arrays, np)[2].tolist() == [0]


def test_the_list_of_rules_is_printed_from_the_module():
    table = r.rules_table()
    for rule in ALL_RULES:
        assert f"| {rule.name} |" in table
    assert table in r.__doc__


def test_the_token_costs_in_the_table_are_the_constants():
    assert (f"({r.MODE_PENALTY['major']:g} nat in major, "
            f"{r.MODE_PENALTY['minor']:g} in minor)") in r.KeyKept.describe()
    assert f"({r.LEDGER_PENALTY:g} nats)" in r.TrebleOnStaff.describe()
    assert f"({r.SPACING_PENALTY:g} nats)" in r.UpperVoicesClose.describe()
    assert f"({r.INNER_LEDGER_PENALTY:g} nats)" in r.TrebleOnStaff.describe()
    assert (f"({r.LONE_NOTE_PENALTY['treble']:g} nats in the treble, "
            f"{r.LONE_NOTE_PENALTY['bass']:g} in the bass)") in r.InnerVoicesKept.describe()
    assert f"({r.DISSONANCE_PENALTY:g} nats)" in r.Consonance.describe()
    assert f"({r.CLASH_PENALTY:g} nats)" in r.ChromaticClash.describe()
    assert f"({r.ALTO_MOTION_PENALTY:g} nats)" in r.AltoMovesWithMelody.describe()


def test_under_a_pickup_the_bass_waits_and_enters_with_the_melody(tables):
    arrays, vocab, treble = tables["arrays"]("bass"), tables["bass"], tables["treble"]
    step = view(vocab, treble, previous="48", heard="60", heard_before="60")
    assert allowed(r.MelodyEntry(), _guided(step, r.MELODY_REST, opening=True), arrays,
                   vocab) == {"rest"}
    sounding = allowed(r.MelodyEntry(), _guided(step, 67), arrays, vocab)
    assert "43" in sounding and "rest" not in sounding  # no rest under a melody note
    assert "rest" in allowed(r.MelodyEntry(), _guided(step, r.MELODY_REST), arrays, vocab)
    durations = tables["duration"]
    entering = allowed(r.MelodyEntryRhythm(), _guided(step, r.MELODY_REST, room=48,
                                                      opening=True), arrays, durations)
    assert entering == {"1/4", "1/3", "1/2", "3/4", "1", "3/2", "2"}


def test_the_bass_hears_the_melody_ahead(tables):
    """Dissonance with the melody's note costs the bass; parallel octaves with it are
    avoided."""
    arrays, vocab, treble = tables["arrays"]("bass"), tables["bass"], tables["treble"]
    step = _guided(view(vocab, treble, previous="48", heard="60", heard_before="60"), 71)
    costs = dict(zip(vocab.tokens, np.asarray(r.MelodyHeard()(step, arrays, np))[0]))
    assert costs["43"] == 0 and costs["48"] > 0  # G under B, C under B (a seventh)
    parallel = step._replace(melody_before=np.array([72], "int32"),
                             melody=np.array([74], "int32"))  # C5 -> D5 over C3
    kept = allowed(r.MelodyParallels(), parallel, arrays, vocab)
    assert "43" in kept and "48" in kept  # G or C stays; only a rising octave is refused
    rising = step._replace(melody_before=np.array([72], "int32"),
                           melody=np.array([79], "int32"))  # C5 -> G5: octave to octave?
    assert "55" not in allowed(r.MelodyParallels(), rising, arrays, vocab)  # C3-G3 under it


def test_a_planned_phrase_end_arrives_on_i_v_or_vi_and_holds(tables):
    """On a phrase end the bass takes the root of I, V or vi, its tenor and the treble the
    notes of that chord; no event crosses the end, and the one on it lasts a beat; without a plan
    (or away from its ends) nothing is narrowed."""
    treble, bass, durations = tables["treble"], tables["bass"], tables["duration"]
    low = r.PhraseEndChord(above=False, tonic=0, hands=False)
    on_end = view(bass, treble, heard="72", heard_before="72")._replace(
        phrase_ahead=np.array([0]))
    assert allowed(low, on_end, tables["arrays"]("bass"), bass) == {
        "36", "43", "48", "55", "60", "67", "43.55"}  # C and G roots; no A in the list
    # both hands make one chord: under the treble's C5 the bass takes C (I), not G (V)...
    both = r.PhraseEndChord(above=False, tonic=0)
    assert allowed(both, on_end, tables["arrays"]("bass"), bass) == {"36", "48", "60"}
    # ...unless the treble's C5 has ended there
    ended = on_end._replace(partner_end=np.array([0]))
    assert allowed(both, ended, tables["arrays"]("bass"), bass) == allowed(
        low, on_end, tables["arrays"]("bass"), bass)
    away = on_end._replace(phrase_ahead=np.array([30]))
    assert allowed(low, away, tables["arrays"]("bass"), bass) == set(bass.tokens)
    high = r.PhraseEndChord(above=True, tonic=0)
    over_c = view(treble, bass, heard="48")._replace(phrase_ahead=np.array([0]))
    assert allowed(high, over_c, tables["arrays"]("treble"), treble) == {
        "60", "64", "67", "72", "79", "84", "64.67", "64.67.72", "60~.64"}
    over_g = over_c._replace(heard=np.array([bass.id("43")]))
    assert allowed(high, over_g, tables["arrays"]("treble"), treble) == {
        "62", "67", "71", "79", "62.67.71"}
    over_f = over_c._replace(heard=np.array([bass.id("53")]))  # not a phrase-end root: free
    assert allowed(high, over_f, tables["arrays"]("treble"), treble) == set(treble.tokens)
    # the bass's last note ends at the phrase end (it strikes after): the treble takes the
    # notes of I, V or vi, not those of the chord over the bass's old note, nor others
    first = over_f._replace(partner_end=np.array([0]))
    kept = allowed(high, first, tables["arrays"]("treble"), treble)
    assert {"60", "62", "64.67", "62.67.71"} <= kept and "65" not in kept
    assert kept < set(treble.tokens)
    unplanned = view(treble, bass)
    assert allowed(high, unplanned, tables["arrays"]("treble"), treble) == set(treble.tokens)
    minor = r.PhraseEndChord(above=False, tonic=9, minor=True)  # i, V, VI: A, E, F
    assert allowed(minor, on_end, tables["arrays"]("bass"), bass) == {"53"}
    # under a given melody's B4 the bass takes only the root of V (G), not of I
    under_b = on_end._replace(melody=np.array([71], "int32"))
    assert allowed(low, under_b, tables["arrays"]("bass"), bass) == {"43", "55", "67", "43.55"}
    resting = on_end._replace(melody=np.array([r.MELODY_REST], "int32"))
    assert allowed(low, resting, tables["arrays"]("bass"), bass) == allowed(
        low, on_end, tables["arrays"]("bass"), bass)
    # the tenor too: in A minor E2 under A3 and B3 is no V (A minor 3/4 seed 31, bar 8); over
    # the tonic the Picardy third C#3 may sound (the close gives it the tenor), over E it may not
    tenors = _vocab(["40.45.47", "40.47", "40.44.47", "45.52", "45.50", "45.49", "45.48",
                     "40.49"])
    arrays = StaffArrays.build("bass", "minor", PitchTable.build(tenors),
                               PitchTable.build(treble), DurationTable.build(
                                   durations, duration_ticks(durations), 384, 96))
    at_end = view(tenors, treble, previous="40.47", heard="72", heard_before="72",
                  partner_end=0)._replace(phrase_ahead=np.array([0]))  # the treble's C5 ended
    assert allowed(minor, at_end, arrays, tenors) == {
        "40.47", "40.44.47", "45.52", "45.49", "45.48"}
    free_tenor = r.PhraseEndChord(above=False, tonic=9, minor=True, tenor=False)
    assert {"40.45.47", "40.47", "40.44.47"} <= allowed(free_tenor, at_end, arrays, tenors)
    assert r.PhraseEndChord(False, 0, False, tenor=False, hands=False) in r.default_rules(
        clef="bass", melody=True).rules  # under a given melody Bach's fermatas range wider
    assert r.PhraseEndChord(False, 0, False) in r.default_rules(clef="bass").rules
    arrives = r.PhraseEndArrives(beat=24)
    before = view(treble, bass, pitch="64")._replace(phrase_ahead=np.array([36]))
    assert allowed(arrives, before, tables["arrays"]("treble"), durations) == {
        "1/4", "1/3", "1/2", "3/4", "1", "3/2"}
    landing = before._replace(phrase_ahead=np.array([0]))
    assert allowed(arrives, landing, tables["arrays"]("treble"), durations) == {
        "1", "3/2", "2", "3", "4"}
    assert allowed(arrives, view(treble, bass, pitch="64"), tables["arrays"]("treble"),
                   durations) == set(durations.tokens)


def test_every_cost_a_rule_names_is_the_one_it_charges():
    """A rule's text (``--list-rules``) that names a constant with its cost in nats says the
    constant's value (the melody's dissonance said 3 nats after it came to cost 2)."""
    named = 0
    for rule in ALL_RULES:
        for constant, said in re.findall(r"([A-Z][A-Z_]+) \(([\d.]+) nats\)", rule.__doc__):
            value = getattr(r, constant)
            if isinstance(value, (int, float)):
                assert float(said) == pytest.approx(value), (rule.name, constant)
                named += 1
    assert named >= 5
