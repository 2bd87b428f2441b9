"""Phrase plans: parsed and drawn from the corpus's phrases, heard by the models, and written
as fermatas over the phrase ends (held a little in the MIDI)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grandstaff.composing.phrasing import (
    PhrasePlan,
    draw_plan,
    meter_statistics,
    parse_phrases,
    plan_for,
)
from grandstaff.errors import BadArgumentError
from grandstaff.music.events import CLEFS, Event, bar_length


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


def test_a_meter_the_corpus_lacks_takes_the_phrases_of_the_meter_the_models_hear():
    stats = {"4/4": {"lengths": {"4": 1}}, "3/4": {"lengths": {"2": 1}}}
    # 6/8 is heard as 3/4 (bars as long), so it phrases as 3/4 does; 5/4 has no partner
    assert meter_statistics(stats, "6/8") is stats["3/4"]
    assert meter_statistics(stats, "4/4") is stats["4/4"]
    assert meter_statistics(stats, "5/4") is None
    assert meter_statistics(None, "4/4") is None


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


def test_a_drawn_plan_opens_with_a_pickup_as_often_as_the_corpus_does():
    stats = {"4/4": {"lengths": {"2": 10}, "positions": {"48": 9},
                     "leads": {"0": 1, "72": 3, "96": 5}}}  # a whole bar's rest is no pickup
    leads = [draw_plan(16, "4/4", stats, seed).lead for seed in range(200)]
    assert set(leads) == {0, 72} and 0.6 < leads.count(72) / len(leads) < 0.9
    # the lead is drawn after the lengths: the plans' phrases are those drawn without it
    plain = {"4/4": {k: v for k, v in stats["4/4"].items() if k != "leads"}}
    assert all(draw_plan(16, "4/4", stats, s).lengths == draw_plan(16, "4/4", plain, s).lengths
               for s in range(20))
    assert plan_for("4+4+8", 16, "4/4", stats, seed=1).lead in (0, 72)
    # a meter without statistics of its own borrows lengths, never a pickup
    assert {draw_plan(16, "6/8", {"3/4": {"leads": {"48": 1}}}, s).lead for s in range(9)} == {0}


def test_phrases_end_where_the_corpus_fermatas_fall_as_often_as_they_fall_there():
    stats = {"4/4": {"lengths": {"2": 10}, "positions": {"48": 2, "0": 1, "200": 5}}}
    plans = [draw_plan(16, "4/4", stats, seed) for seed in range(100)]
    drawn = [p for plan in plans for p in plan.positions]
    assert all(len(plan.positions) == len(plan.lengths) - 1 for plan in plans)
    assert set(drawn) == {0, 48} and 0.55 < drawn.count(48) / len(drawn) < 0.8  # 2 in 3
    plan = next(plan for plan in plans if plan.positions[:2] == (0, 48))
    assert plan.ends("4/4")[:2] == [1 * 96, 3 * 96 + 48]  # the downbeat of bar 2, beat 3 of 4
    # the lengths and the pickup are those drawn before positions were
    plain = {"4/4": {k: v for k, v in stats["4/4"].items() if k != "positions"}}
    assert [p.lengths for p in plans[:20]] == [draw_plan(16, "4/4", plain, s).lengths
                                               for s in range(20)]
    # a restated phrase ends where its first statement did
    assert PhrasePlan((2, 2, 2, 2), positions=(0, 48, 48)).restating("ABAC").positions == (
        0, 48, 0)
    # a meter without statistics of its own ends every phrase at the one borrowed place
    borrowed = draw_plan(16, "6/8", {"3/4": {"lengths": {"4": 1}, "positions": {"0": 9,
                                                                                 "48": 1}}}, 0)
    assert borrowed.positions == () and borrowed.position == 0


def test_the_corpus_statistics_count_how_pieces_open(small_corpus):
    """Eight real chorales: each piece with fermatas counts once, by the rest both staves
    open with (72 ticks in 4/4: a one-beat pickup)."""
    from grandstaff.models.conditioning import opening_rest, phrase_statistics

    stats = phrase_statistics(small_corpus)
    meters = dict(zip(small_corpus.pieces["piece"], small_corpus.pieces["time_signature"]))
    expected: dict[str, dict[str, int]] = {}
    for name in small_corpus.piece_names():
        if small_corpus.fermatas(name):
            meter = str(meters[name])
            lead = str(opening_rest(small_corpus, name, int(bar_length(meter) * 24)))
            expected.setdefault(meter, {}).setdefault(lead, 0)
            expected[meter][lead] += 1
    assert {m: s["leads"] for m, s in stats.items()} == expected
    assert any(lead != "0" for leads in expected.values() for lead in leads)
    for name in small_corpus.piece_names():
        first = {c: small_corpus.events(c, name)[0] for c in CLEFS}
        lead = opening_rest(small_corpus, name, 96)
        assert lead == 0 or all(e.is_rest and e.duration * 24 >= lead for e in first.values())


@pytest.mark.slow
def test_a_pickup_is_composed_and_written_as_an_anacrusis(tmp_path):
    """The shipped set draws a pickup for most 4/4 plans (as most chorales open): both
    hands rest three beats and enter together; the score writes a one-beat anacrusis before
    the eight bars asked for."""
    from music21 import converter

    import grandstaff as gs

    pieces = [gs.compose(bars=8, key="G major", seed=seed, models="bach", candidates=1)
              for seed in range(6)]
    with_pickup = [p for p in pieces if p.info["pickup"] != "0"]
    assert with_pickup and len(with_pickup) < len(pieces)
    piece = with_pickup[0]
    assert piece.info["pickup"] == "1" and piece.pickup == 1
    for clef in CLEFS:
        first, second = piece.staves[clef][:2]
        assert first.is_rest and first.duration == 3 and not second.is_rest
    path = piece.write(tmp_path / "p", formats=("musicxml",))["musicxml"]
    measures = converter.parse(path).parts[0].getElementsByClass("Measure")
    assert measures[0].duration.quarterLength == 1  # the pickup, before eight whole bars
    assert [m.duration.quarterLength for m in measures[1:]] == [4] * 8 and piece.bars == 8
    # the plan's phrases count from the first whole bar: the first ends on beat 3 of bar 2
    assert Fraction(piece.info["phrase_ends"][0]) == 4 + 4 + 2
    plain = gs.compose(bars=8, key="G major", seed=piece.info["seed"], models="bach",
                       candidates=1, pickup="none")
    assert plain.info["pickup"] == "0" and not plain.staves["treble"][0].is_rest
    assert plain.pickup == 0 and plain.bars == 8
    assert plain.info["phrases"] == piece.info["phrases"]  # the same plan, on the downbeat
    given = gs.compose(bars=4, key="G major", seed=1, models="bach", candidates=1,
                       pickup="1/2")
    assert given.info["pickup"] == "1/2" and given.pickup == Fraction(1, 2) and given.bars == 4


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
    lead = 4 - piece.pickup if piece.pickup else 0  # the MIDI starts with the pickup
    expected = [(Fraction(0), piece.tempo)]
    for start, end in fermata_spans(piece.staves, piece.fermatas):
        expected += [(start - lead, round(piece.tempo * FERMATA_TEMPO, 1)),
                     (end - lead, piece.tempo)]
    assert changes == expected and len(expected) > 1
    assert {start + lead for start, _ in expected[1::2]} == {f for f in ends if f in struck}

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
