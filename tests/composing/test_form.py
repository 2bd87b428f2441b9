"""Form: a repeated letter restates the earlier phrase's melody, under new harmony; a primed
letter keeps its first half; the cadence stays free; bad forms are one line."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grandstaff.cli import main
from grandstaff.composing.form import parse_form, recurring_bars
from grandstaff.music.events import Event
from grandstaff.music.melody import soprano


def _bass_between(piece, start: Fraction, end: Fraction) -> list[Event]:
    at, found = Fraction(0), []
    for event in piece.staves["bass"]:
        if start <= at < end:
            found.append(event)
        at += event.duration
    return found


def _phrase_bars(piece, bar=Fraction(4)) -> list[tuple]:
    """:func:`_bars` of the piece's treble from its first complete bar (after a pickup)."""
    bars = _bars(piece.staves["treble"], bar)
    return bars[1:] if piece.info["pickup"] != "0" else bars


def _bars(treble, bar=Fraction(4)) -> list[tuple]:
    """Each bar's top voice: (onset in the bar, pitch) of the notes that start in it."""
    found: dict[int, list] = {}
    at = Fraction(0)
    for pitch, length in soprano(treble):
        found.setdefault(int(at // bar), []).append((at % bar, pitch))
        at += length
    return [tuple(found.get(n, ())) for n in range(int(at // bar))]


@pytest.mark.slow
def test_aaba_restates_the_first_phrase_under_new_harmony():
    import grandstaff as gs

    piece = gs.compose(bars=16, key="G major", seed=3, form="AABA", models="bach")
    assert piece.info["form"] == "AABA" and piece.info["skipped_rules"] == []
    bars = _phrase_bars(piece)
    # the second A and the last (but for its cadence bars, 15-16) restate the first A's notes
    assert bars[4:8] == bars[0:4]
    assert bars[12:14] == bars[0:2]
    # new harmony: the bass under the restated bars is sampled again, not copied
    assert _bass_between(piece, Fraction(4), Fraction(16)) != _bass_between(
        piece, Fraction(20), Fraction(32))
    assert recurring_bars(piece.staves["treble"], Fraction(4)) >= 5 / 16
    plain = gs.compose(bars=16, key="G major", seed=3, models="bach", form="none")
    assert plain.info["form"] == "none"
    assert recurring_bars(plain.staves["treble"], Fraction(4)) < 0.2


@pytest.mark.slow
def test_a_primed_letter_keeps_the_first_half_of_its_phrase():
    import grandstaff as gs

    piece = gs.compose(bars=16, key="D minor", seed=5, form="ABAB'", models="bach")
    bars = _phrase_bars(piece)
    assert bars[8:12] == bars[0:4] and bars[12:14] == bars[4:6]


@pytest.mark.slow
def test_the_bass_plays_under_a_first_phrase_that_is_not_restated():
    """A form whose first letter never comes back (ABCB) leaves the treble free in its first
    phrase; the bass enters with it, not at the first restated note (it used to rest through
    the whole first phrase)."""
    import grandstaff as gs

    piece = gs.compose(bars=16, key="C major", seed=3, form="ABCB", phrases="4,4,4,4",
                       models="bach", pickup="none")
    first = _bass_between(piece, Fraction(0), Fraction(16))
    sounding = sum((e.duration for e in first if not e.is_rest), Fraction(0))
    assert sounding >= 12, [(e.pitches, str(e.duration)) for e in first]


def test_recurring_bars_counts_bars_whose_top_voice_came_before():
    q = Fraction(1)
    tune = [Event((60,), q), Event((62,), q), Event((64,), 2 * q)] * 2 + [
        Event((65,), 4 * q), Event((), 4 * q)]
    assert recurring_bars(tune, Fraction(4)) == pytest.approx(1 / 3)  # bar 2 = bar 1; rests out


def test_a_form_is_checked_before_any_work():
    assert parse_form("none", 7) == []
    with pytest.raises(Exception, match="do not divide into evenly"):
        parse_form("AABA", 14)
    with pytest.raises(Exception, match="B' varies B, which has not come yet"):
        parse_form("AB'", 8)
    with pytest.raises(Exception, match="is not a letter per phrase"):
        parse_form("a-b", 8)


@pytest.mark.parametrize("form, says", [("AABA", "do not divide into evenly"),
                                         ("xyz", "is not a letter per phrase")])
def test_a_bad_form_is_one_line(capsys, tmp_path, form, says):
    code = main(["compose", "--bars", "6", "--form", form, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and says in err, err


def test_the_automatic_form_restates_phrases_of_the_plan(tiny_models):
    """By default a phrase of the plan as long as an earlier one restates its melody, a
    quarter of the bars at most, never the last phrase; the form's letters follow the plan."""
    import grandstaff as gs
    from grandstaff.composing.form import auto_form

    piece = gs.compose(bars=16, key="C major", seed=4, models=str(tiny_models), candidates=1,
                       phrases="2,2,2,2,2,2,4", pickup="none")
    assert piece.info["form"] == "AABACDE"
    bars = _phrase_bars(piece)
    assert bars[2:4] == bars[0:2] and bars[6:8] == bars[0:2]
    assert recurring_bars(piece.staves["treble"], Fraction(4)) >= 4 / 16
    shorter = gs.compose(bars=12, key="C major", seed=4, models=str(tiny_models),
                         candidates=1, phrases="2,2,2,2,4")
    assert shorter.info["form"] == "AABCD"  # a second restatement would pass a quarter
    given = gs.compose(bars=12, key="C major", seed=4, models=str(tiny_models), candidates=1,
                       form="ABA")
    assert given.info["phrases"] == "4+4+4" and given.info["form"] == "ABA"
    for lengths in ([4, 4, 4, 4], [2] * 8, [3, 4, 5, 4, 4], [16]):
        plan = auto_form(lengths)
        restated = sum(end - start for n, (letter, _, start, end) in enumerate(plan)
                       if letter in {p[0] for p in plan[:n]})
        assert restated <= sum(lengths) / 4 and plan[-1][0] not in {p[0] for p in plan[:-1]}
        assert [end - start for *_, start, end in plan] == lengths
