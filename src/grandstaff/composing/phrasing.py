"""Phrase plans: where a piece breathes.

A plan is the number of bars of each phrase; the phrases fill the piece, and the last ends
with it. Each phrase but the last ends in its last bar at a place where the corpus's phrases
end in that meter, drawn as often as the fermatas fall there (in 4/4 two in three on beat 3,
a chord held a beat before the next phrase's pickup; about three in ten on the downbeat, mostly
held three beats); a plan of the user's own ends every phrase where they end most often. The
last ends where the closing chord begins. A model that hears phrases (see
:mod:`grandstaff.models.conditioning`) reads, at every onset, how far the next phrase end is.

``"auto"`` draws the lengths from the corpus's own phrases in that meter (saved with the
model as ``metrics["phrases"]``), fitted to the bars asked for; ``"4,4,2,2"`` is the user's
own plan; ``"none"`` composes without one (the models read "unknown", as for a file without
fermatas).

>>> plan = parse_phrases("4,4,8", 16)
>>> plan.lengths, plan.text
((4, 4, 8), '4+4+8')
>>> plan.end_bars()
[4, 8, 16]
>>> parse_phrases("none", 16) is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from ..bounds import MAX_BARS
from ..errors import BadArgumentError
from ..models.conditioning import bar_ticks, heard_meter, phrase_ids, ticks_of

#: What ``phrases`` may be besides bars per phrase.
AUTO, NO_PHRASES = "auto", "none"
#: Phrase lengths (bars) a drawn plan takes from the corpus; longer or shorter ones there are
#: mostly a fermata the file lacks or a short phrase across a barline.
DRAWN_LENGTHS = range(2, 9)
#: Phrases of this many bars where the model set carries no statistics for the meter.
DEFAULT_LENGTH = 4
#: The longest plan text taken (a plan of one-bar phrases for the most bars fits).
MAX_PLAN_CHARACTERS = 4 * MAX_BARS
_LIST = re.compile(r"^\s*\d+(\s*[,+]\s*\d+)*\s*$")


@dataclass(frozen=True)
class PhrasePlan:
    """Bars per phrase, where in its last bar each phrase but the last ends (ticks: the same
    ``position`` for all, or one of ``positions`` each), and the rest in both hands before the
    first note (``lead`` ticks: a pickup; 0 opens on the downbeat). The first bar holds the
    pickup, so the first phrase is that much shorter."""

    lengths: tuple[int, ...]
    position: int = 0
    lead: int = 0
    positions: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        """The plan as ``piece.info["phrases"]`` records it: ``"4+4+2+2"``."""
        return "+".join(str(n) for n in self.lengths)

    def end_bars(self) -> list[int]:
        """The bar (counted from 1) in which each phrase ends."""
        return np.cumsum(self.lengths).tolist()

    def ends(self, time_signature: str, closing: Fraction | None = None) -> list[int]:
        """The onset (ticks from the start) of each phrase's last chord: ``position`` into its
        last bar, and for the last phrase ``closing`` quarters before the end (the closing
        chord's span; its last bar's downbeat when ``None``).

        >>> PhrasePlan((2, 2), position=48).ends("4/4", Fraction(2))
        [144, 336]
        >>> PhrasePlan((2, 2, 2), positions=(0, 48)).ends("4/4")
        [96, 336, 480]
        """
        bar = bar_ticks(time_signature)
        inner = self.end_bars()[:-1]
        positions = self.positions or (self.position,) * len(inner)
        found = [(end - 1) * bar + (position if position < bar else 0)
                 for end, position in zip(inner, positions)]
        total = sum(self.lengths) * bar
        found.append(total - ticks_of(closing) if closing else total - bar)
        return found

    def restating(self, letters: Sequence[str]) -> PhrasePlan:
        """The plan with each phrase whose letter (one per phrase, see
        :mod:`grandstaff.composing.form`) came before ending where that one did, so that a
        restated melody keeps its phrase end.

        >>> PhrasePlan((2, 2, 2, 2), positions=(0, 48, 24)).restating("ABAB").positions
        (0, 48, 0)
        """
        if not self.positions:
            return self
        first: dict[str, int] = {}
        positions = tuple(first.setdefault(letter, position)
                          for letter, position in zip(letters, self.positions))
        return replace(self, positions=positions)

    def ids(self, time_signature: str, closing: Fraction | None = None) -> np.ndarray:
        """The phrase id of every tick of the piece and one past its end, as the loop reads
        them (:func:`~grandstaff.models.conditioning.phrase_ids`)."""
        total = sum(self.lengths) * bar_ticks(time_signature)
        return np.array(phrase_ids(range(total + 1), self.ends(time_signature, closing),
                                   total, time_signature), dtype="int32")


def unknown_ids(bars: int, time_signature: str) -> np.ndarray:
    """Phrase ids that say "unknown" at every tick (composing without a plan)."""
    total = bars * bar_ticks(time_signature)
    return np.array(phrase_ids(range(total + 1), None, total, time_signature), dtype="int32")


def parse_phrases(phrases: str | None, bars: int) -> PhrasePlan | str | None:
    """``"auto"`` (drawn later, :func:`draw_plan`), ``None`` for ``"none"``, or the plan of
    bars per phrase (``"4,4,2,2"``), which must add up to ``bars``."""
    text = NO_PHRASES if phrases is None else str(phrases).strip().lower()
    if text == AUTO:
        return AUTO
    if text == NO_PHRASES:
        return None
    shown = repr(text if len(text) <= 40 else text[:40] + "…")
    if len(text) > MAX_PLAN_CHARACTERS or not _LIST.match(text):
        raise BadArgumentError(f"phrases {shown} must be 'auto', 'none' or bars per phrase "
                               f"such as 4,4,2,2 (at most {MAX_PLAN_CHARACTERS} characters)")
    lengths = tuple(int(n) for n in re.split(r"[,+]", text))
    if min(lengths) < 1:
        raise BadArgumentError(f"phrases {shown}: every phrase needs at least one bar")
    if sum(lengths) != bars:
        total = sum(lengths) if sum(lengths) < 10**6 else "more than a million"
        raise BadArgumentError(f"phrases {shown} add up to {total} bars, not the "
                               f"{bars} asked for; make them add up to {bars}")
    return PhrasePlan(lengths)


#: What ``pickup`` may be besides a length in quarters.
PICKUPS = (AUTO, NO_PHRASES)


def parse_pickup(pickup: str | Fraction | int | None, time_signature: str) -> str | Fraction:
    """``"auto"`` (drawn with the phrase plan), ``Fraction(0)`` for ``"none"``, or the
    pickup's length in quarters (``"1"``, ``"1/2"``), shorter than a bar and a whole number of
    24ths of a quarter.

    >>> parse_pickup("1", "4/4"), parse_pickup("none", "4/4"), parse_pickup("auto", "3/4")
    (Fraction(1, 1), Fraction(0, 1), 'auto')
    """
    text = AUTO if pickup is None else str(pickup).strip().lower()
    if text == AUTO:
        return AUTO
    if text == NO_PHRASES:
        return Fraction(0)
    bar = Fraction(bar_ticks(time_signature), 24)
    shown = repr(text if len(text) <= 20 else text[:20] + "…")
    try:
        length = Fraction(text) if len(text) <= 20 else None
    except (ValueError, ZeroDivisionError):
        length = None
    if length is None or not 0 < length < bar or (length * 24).denominator != 1:
        raise BadArgumentError(f"pickup {shown} must be 'auto', 'none' or quarters before the "
                               f"first downbeat, more than 0 and less than a bar of "
                               f"{time_signature} ({bar}), such as 1 or 1/2")
    return length


def meter_statistics(statistics: Mapping[str, Mapping] | None,
                     time_signature: str) -> Mapping | None:
    """The corpus's phrase statistics for ``time_signature``, or for a meter with bars as long
    (3/4 for 6/8), or ``None``."""
    if not statistics:
        return None
    return statistics.get(heard_meter(time_signature, sorted(statistics)))


def draw_plan(bars: int, time_signature: str, statistics: Mapping[str, Mapping] | None,
              seed: int) -> PhrasePlan:
    """A plan for ``bars`` bars with phrase lengths drawn from ``statistics`` (the corpus's,
    :func:`~grandstaff.models.conditioning.phrase_statistics`) for the meter, the last
    phrase cut to fit (a remainder under two bars joins the phrase before it).

    Whether it opens with a pickup is drawn too, from how the corpus's pieces in that very
    meter open (``leads``; none where the meter has no statistics of its own, as 6/8 has
    none in the chorales: a 3/4 pickup is no 6/8 pickup), and then where in its last bar
    each phrase but the last ends (``positions``, as often as the corpus's fermatas fall
    there in that very meter; ``position`` is the most frequent, and the only one where the
    meter has no statistics of its own: beat 3 of 3/4 is off 6/8's dotted beat).

    >>> stats = {"4/4": {"lengths": {"2": 3, "4": 1}, "positions": {"48": 5, "0": 2},
    ...                  "leads": {"72": 1}}}
    >>> plan = draw_plan(16, "4/4", stats, seed=1)
    >>> sum(plan.lengths), plan.position, set(plan.lengths) <= {2, 4}, plan.lead
    (16, 48, True, 72)
    >>> len(plan.positions) == len(plan.lengths) - 1, set(plan.positions) <= {0, 48}
    (True, True)
    >>> draw_plan(16, "6/8", stats, seed=1).lead
    0
    """
    found = meter_statistics(statistics, time_signature)
    lengths = {int(n): c for n, c in (found or {}).get("lengths", {}).items()
               if int(n) in DRAWN_LENGTHS and c > 0}
    positions = {int(t): c for t, c in (found or {}).get("positions", {}).items()}
    position = max(positions, key=lambda t: (positions[t], -t)) if positions else 0
    if not lengths:
        lengths = {DEFAULT_LENGTH: 1}
    rng = np.random.default_rng(np.random.SeedSequence([seed, 25]))
    drawn: list[int] = []
    while sum(drawn) < bars:
        drawn.append(int(_draw(rng, lengths)))
    drawn[-1] -= sum(drawn) - bars
    if drawn[-1] < 2 and len(drawn) > 1:
        remainder = drawn.pop()
        drawn[-1] += remainder
    bar = bar_ticks(time_signature)
    own = (statistics or {}).get(time_signature) or {}  # this very meter's, never borrowed
    leads, places = _in_bar(own.get("leads", {}), bar), _in_bar(own.get("positions", {}), bar)
    lead = int(_draw(rng, leads)) if leads else 0
    drawn_positions = (tuple(int(t) for t in _draw(rng, places, size=len(drawn) - 1))
                       if places else ())
    return PhrasePlan(tuple(drawn), position if position < bar else 0, lead, drawn_positions)


def _in_bar(counts: Mapping, bar: int) -> dict[int, int]:
    """The places (ticks into a bar of ``bar`` ticks) of ``counts`` that were counted at all."""
    return {int(t): c for t, c in counts.items() if 0 <= int(t) < bar and c > 0}


def _draw(rng: np.random.Generator, counts: Mapping[int, float], size: int | None = None):
    """A value of ``counts`` (or ``size`` of them), each drawn as often as it was counted."""
    values = np.array(sorted(counts))
    weights = np.array([counts[v] for v in values], dtype=float)
    return rng.choice(values, size=size, p=weights / weights.sum())


def plan_for(phrases: str | None, bars: int, time_signature: str,
             statistics: Mapping[str, Mapping] | None, seed: int) -> PhrasePlan | None:
    """The plan ``phrases`` asks for (see :func:`parse_phrases`); a given plan's phrases end
    where the corpus's end in that meter."""
    parsed = parse_phrases(phrases, bars)
    if parsed == AUTO:
        return draw_plan(bars, time_signature, statistics, seed)
    if parsed is None:
        return None
    drawn = draw_plan(bars, time_signature, statistics, seed)
    return PhrasePlan(parsed.lengths, drawn.position, drawn.lead)
