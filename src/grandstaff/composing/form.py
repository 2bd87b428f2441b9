"""Form: material that comes back. A form is a letter per phrase (``AABA``, ``ABAB'``); a
repeated letter restates the earlier phrase's melody (its top voice) under new harmony, a
primed letter (``B'``) keeps the first half of it and ends differently.

``compose(form=...)`` samples a piece twice: the first pass writes the material, the second
writes the piece again with the top voice of each recurring letter kept (by the melody rules of
:mod:`grandstaff.composing.rules`, as ``harmonize`` keeps a given melody) wherever that letter
stands, and everything else free. The bars of the closing cadence always stay free, so a piece
ending on a repeated phrase still closes on its own V–I.

``"auto"`` (the default of ``compose``) lays a form over the phrase plan
(:mod:`grandstaff.composing.phrasing`): a phrase as long as an earlier one restates it, unless
the phrase before it was a restatement, while the restated bars stay within a quarter of the
piece (Bach's chorales restate the melody of
about a fifth of their bars, mostly the second phrase repeating the first), never the last.

>>> parse_form("AABA", 16)
[('A', False, 0, 4), ('A', False, 4, 8), ('B', False, 8, 12), ('A', False, 12, 16)]
>>> "".join(letter for letter, *_ in auto_form([2, 2, 2, 2, 2, 2, 4]))
'AABACDE'

>>> plan = parse_form("ABAB'", 16)
>>> plan[-1]
('B', True, 12, 16)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

from ..errors import BadArgumentError
from ..music.events import Event
from ..music.melody import soprano
from ..music.vocab import TICKS_PER_QUARTER
from .rules import MELODY_FREE

#: What ``form`` may be besides letters: no form, or one laid over the phrase plan.
NO_FORM, AUTO_FORM = "none", "auto"
#: The most of a piece an automatic form restates (Bach's chorales: about a fifth).
AUTO_RESTATED = 0.25
_FORM = re.compile(r"^(?:[A-Z]'?){1,16}$")


def parse_form(form: str, bars: int) -> list[tuple[str, bool, int, int]]:
    """(letter, primed, first bar, end bar) of each phrase of ``form`` over ``bars`` bars,
    which must divide into its phrases evenly; ``"none"`` is an empty plan, and so is
    ``"auto"`` here (it is laid over the phrase plan when there is one: :func:`auto_form`)."""
    text = str(form).strip()
    if text.lower() in (NO_FORM, AUTO_FORM):
        return []
    if not _FORM.match(text):
        raise BadArgumentError(f"form {form!r} is not a letter per phrase, e.g. AABA, ABAB' or "
                               "none")
    phrases = re.findall(r"[A-Z]'?", text)
    if bars % len(phrases):
        raise BadArgumentError(f"form {text!r} has {len(phrases)} phrases, which {bars} bars "
                               f"do not divide into evenly; ask for a multiple of "
                               f"{len(phrases)} bars")
    length = bars // len(phrases)
    seen: set[str] = set()
    plan = []
    for index, phrase in enumerate(phrases):
        letter, primed = phrase[0], phrase.endswith("'")
        if primed and letter not in seen:
            raise BadArgumentError(f"form {text!r}: {phrase} varies {letter}, which has not "
                                   "come yet")
        seen.add(letter)
        plan.append((letter, primed, index * length, (index + 1) * length))
    return plan


def is_auto(form: str) -> bool:
    return str(form).strip().lower() == AUTO_FORM


def auto_form(lengths: Sequence[int]) -> list[tuple[str, bool, int, int]]:
    """A form over phrases of ``lengths`` bars (see the module's notes), as
    :func:`parse_form` gives one."""
    bars, restated, start = sum(lengths), 0, 0
    first: dict[int, str] = {}  # the letter of the first phrase of each length
    plan = []
    before_restated = False
    for index, length in enumerate(lengths):
        last = index == len(lengths) - 1
        if (not last and not before_restated and length in first
                and restated + length <= AUTO_RESTATED * bars):
            letter, before_restated = first[length], True
            restated += length
        else:
            count = len({letter for letter, *_ in plan})
            letter = chr(ord("A") + count % 26) + (str(count // 26) if count >= 26 else "")
            first.setdefault(length, letter)
            before_restated = False
        plan.append((letter, False, start, start + length))
        start += length
    return plan


def form_text(plan: Sequence[tuple[str, bool, int, int]]) -> str:
    """The form as ``piece.info["form"]`` records it ("none" for none)."""
    return "".join(letter + ("'" if primed else "") for letter, primed, *_ in plan) or NO_FORM


def form_melody(treble: Sequence[Event], plan: Sequence[tuple[str, bool, int, int]],
                bar_ticks: int, free_from: int,
                pickup_bars: int = 0) -> list[tuple[int | None, int]]:
    """The melody the second pass keeps, as (MIDI number, ``None`` for a rest or
    ``MELODY_FREE``, ticks) pairs: the first pass's top voice (``treble``, from its first
    occurrence) at every phrase of a letter that recurs, free elsewhere and from bar
    ``free_from`` on. ``pickup_bars``: a bar before the plan's first that holds the pickup
    (bars of ``plan`` and ``free_from`` count from after it); it is kept as written."""
    line = []  # (start tick, end tick, pitch) of the first pass's top voice
    at = 0
    for pitch, length in soprano(treble):
        ticks = int(length * TICKS_PER_QUARTER)
        line.append((at, at + ticks, pitch))
        at += ticks
    first: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    for letter, _, start, end in plan:
        first.setdefault(letter, (start, end))
        counts[letter] = counts.get(letter, 0) + 1
    pairs = _slice(line, 0, pickup_bars * bar_ticks) if pickup_bars else []
    for letter, primed, start, end in plan:
        source = first[letter][0]
        kept_end = end if not primed else start + (end - start) // 2
        kept_end = min(kept_end, free_from)
        if counts[letter] > 1 and kept_end > start:
            restated = _slice(line, (source + pickup_bars) * bar_ticks,
                              (source + pickup_bars + kept_end - start) * bar_ticks)
            if start != source and restated and restated[0][0] is None:
                # the piece's pickup rest is the opening's, not the tune's: restated, the
                # treble writes its own notes there (no hand rests alone mid-piece)
                restated[0] = (MELODY_FREE, restated[0][1])
            pairs += restated
            if kept_end < end:
                pairs.append((MELODY_FREE, (end - kept_end) * bar_ticks))
        else:
            pairs.append((MELODY_FREE, (end - start) * bar_ticks))
    return _join(pairs)


def cadence_bars(time_signature: str) -> int:
    """Bars at the end that the cadence's two spans reach into."""
    from ..music.events import bar_length
    from .rules import final_span

    return math.ceil(2 * final_span(time_signature) / bar_length(time_signature))


def _slice(line, start: int, end: int) -> list[tuple[int | None, int]]:
    """The part of ``line`` from tick ``start`` to ``end``, a note cut at either edge kept."""
    found = []
    for begin, stop, pitch in line:
        lo, hi = max(begin, start), min(stop, end)
        if lo < hi:
            found.append((pitch, hi - lo))
    covered = sum(ticks for _, ticks in found)
    if covered < end - start:  # the first pass ended early (rests closed it)
        found.append((None, end - start - covered))
    return found


def _join(pairs: list[tuple[int | None, int]]) -> list[tuple[int | None, int]]:
    joined: list[tuple[int | None, int]] = []
    for pitch, ticks in pairs:
        if pitch == MELODY_FREE and joined and joined[-1][0] == MELODY_FREE:
            joined[-1] = (MELODY_FREE, joined[-1][1] + ticks)
        else:
            joined.append((pitch, ticks))
    return joined


def recurring_bars(treble: Sequence[Event], bar: Fraction) -> float:
    """Share of bars whose top voice (its notes' onsets in the bar and pitches, and the note
    held into it) is that of an earlier bar; bars that only rest are left out."""
    bars: dict[int, list] = {}
    at = Fraction(0)
    for pitch, length in soprano(treble):
        first, last = int(at // bar), int((at + length - Fraction(1, 10_000)) // bar)
        for number in range(first, last + 1):
            onset = at - number * bar if number == first else Fraction(-1)
            bars.setdefault(number, []).append((onset, pitch))
        at += length
    seen, recurring, counted = set(), 0, 0
    for number in sorted(bars):
        content = tuple(bars[number])
        if all(pitch is None for _, pitch in content):
            continue
        counted += 1
        recurring += content in seen
        seen.add(content)
    return recurring / counted if counted else float("nan")
