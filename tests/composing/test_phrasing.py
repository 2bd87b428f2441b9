"""Phrase plans: parsed and drawn from the corpus's phrases, heard by the models, and written
as fermatas over the phrase ends (held a little in the MIDI)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grandstaff.composing.phrasing import PhrasePlan, draw_plan, parse_phrases, plan_for
from grandstaff.errors import BadArgumentError
from grandstaff.music.events import CLEFS, Event


@pytest.mark.parametrize("text,message", [
    ("4,4", "add up to 8 bars, not the 16"),
    ("4,x,4", "must be 'auto', 'none' or bars per phrase"),
    ("0,16", "at least one bar"),
    ("", "must be 'auto', 'none'"),
])
def test_a_bad_plan_is_refused_with_the_fix(text, message):
    with pytest.raises(BadArgumentError, match=message):
        parse_phrases(text, 16)


def test_a_given_plan_ends_its_phrases_where_the_corpus_does():
    stats = {"4/4": {"lengths": {"2": 10}, "positions": {"48": 9, "0": 3}}}
    plan = plan_for("4+4+8", 16, "4/4", stats, seed=0)
    assert plan == PhrasePlan((4, 4, 8), position=48)
    # beat 3 of bars 4 and 8; the last where a two-beat closing chord begins
    assert plan.ends("4/4", Fraction(2)) == [3 * 96 + 48, 7 * 96 + 48, 16 * 96 - 48]
    assert plan_for("none", 16, "4/4", stats, seed=0) is None


@pytest.mark.parametrize("bars", [1, 2, 3, 7, 16, 33])
def test_a_drawn_plan_fills_the_bars_with_the_corpus_lengths(bars):
    stats = {"3/4": {"lengths": {"1": 50, "3": 2, "4": 5, "53": 1}, "positions": {"0": 7}}}
    for seed in range(20):
        plan = draw_plan(bars, "3/4", stats, seed)
        assert sum(plan.lengths) == bars
        # one-bar and very long lengths in the statistics are never drawn; the last
        # phrase may be cut short, and a remainder under two bars joins the one before
        assert set(plan.lengths[:-1]) <= {3, 4, 5, 6, 7}
        assert plan.position == 0
    # 6/8 is not in the statistics: it borrows the meter with bars as long (3/4)
    assert set(draw_plan(40, "6/8", stats, 1).lengths[:-1]) <= {3, 4, 5, 6, 7}
    assert draw_plan(16, "4/4", None, 0).lengths == (4, 4, 4, 4)


def test_a_composed_piece_hears_its_plan_and_writes_its_fermatas(tiny_models, tmp_path,
                                                                  assert_valid_musicxml):
    import grandstaff as gs
    from grandstaff.music.reading import read_file

    piece = gs.compose(bars=6, key="E minor", seed=2, models=str(tiny_models), candidates=1,
                       phrases="2,2,2")
    assert piece.info["phrases"] == "2+2+2"
    ends = [Fraction(t) for t in piece.info["phrase_ends"]]
    assert piece.fermatas == tuple(ends) and len(ends) == 3
    written = piece.write(tmp_path / "p", formats=("musicxml", "midi"))
    assert_valid_musicxml(written["musicxml"])
    text = written["musicxml"].read_text()
    assert 'fermata type="upright"' in text or 'fermata type="inverted"' in text
    struck = _struck(piece.written_staves)
    (back,) = read_file(written["musicxml"], transpose=False)
    assert back.fermatas == tuple(f for f in ends if f in struck)
    assert {c: list(back.staves[c]) for c in CLEFS} == piece.written_staves

    import mido  # the MIDI file's own tempo changes (music21's reader copies them oddly)

    from grandstaff.music.notation import FERMATA_TEMPO, fermata_spans

    midi = mido.MidiFile(written["midi"])
    changes, at = [], 0
    for message in midi.tracks[0]:
        at += message.time
        if message.type == "set_tempo":
            changes.append((Fraction(at, midi.ticks_per_beat),
                            round(mido.tempo2bpm(message.tempo), 1)))
    expected = [(Fraction(0), piece.tempo)]
    for start, end in fermata_spans(piece.staves, piece.fermatas):
        expected += [(start, round(piece.tempo * FERMATA_TEMPO, 1)), (end, piece.tempo)]
    assert changes == expected and len(expected) > 1
    assert {start for start, _ in expected[1::2]} == {f for f in ends if f in struck}

    plain = gs.compose(bars=6, key="E minor", seed=2, models=str(tiny_models), candidates=1,
                       phrases="2,2,2", fermatas=False)
    assert plain.fermatas == () and plain.staves == piece.staves
    assert "fermata" not in plain.write(tmp_path / "q", formats=("musicxml",))[
        "musicxml"].read_text()
    unplanned = gs.compose(bars=6, key="E minor", seed=2, models=str(tiny_models),
                           candidates=1, phrases="none")
    assert unplanned.info["phrases"] == "none" and unplanned.fermatas == ()


def test_a_set_from_before_phrases_claims_no_plan(tiny_independent_models):
    import grandstaff as gs

    piece = gs.compose(bars=2, key="C major", seed=1, models=str(tiny_independent_models),
                       candidates=1)
    assert piece.info["phrases"] == "none" and piece.fermatas == ()


def _struck(staves) -> set[Fraction]:
    """The onsets where a note is struck in some staff."""
    found = set()
    for events in staves.values():
        at = Fraction(0)
        for event in events:
            if not event.is_rest:
                found.add(at)
            at += event.duration
    return found


def test_fermata_spans_run_to_the_next_onset():
    from grandstaff.music.notation import fermata_spans

    staves = {"treble": [Event((72,), Fraction(3)), Event((71,), Fraction(1))],
              "bass": [Event((), Fraction(1)), Event((43,), Fraction(3))]}
    assert fermata_spans(staves, [Fraction(0), Fraction(1), Fraction(3)]) == [
        (Fraction(0), Fraction(1)), (Fraction(1), Fraction(3)), (Fraction(3), Fraction(4))]
