"""The inputs that let a clef model hear the other hand, feel the meter, count toward the
end and breathe at phrase ends, computed for every event from the token lists of both staves.

For the event of one staff that starts at onset ``t``:

- **partner**: the other staff's pitch token sounding at ``t``, its latest event that starts at
  or before ``t``. Onsets that fall together are taken **bass first**: the bass hears the
  treble's event before ``t``, the treble hears the bass's new event at ``t``. Training and
  generation use this one order (:data:`ORDER`).
- **meter and metric position**: the time signature as a token (``"3/4"``) and where ``t``
  falls in its bar, as the beat and the 24ths of a quarter into it (``"2:12"``, the second
  eighth of beat 3 in 4/4; the beat of 6/8 is the dotted quarter).
- **countdown**: how many whole bars follow the bar of ``t``, capped at :data:`COUNTDOWN_CAP`
  (0 in the last bar, where the position tells how far into it ``t`` is).
- **phrase**: how far ``t`` is from the next phrase end (the onset of a fermata in the corpus,
  of a planned phrase end at generation), in whole beats capped at :data:`PHRASE_CAP`, or
  that ``t`` falls on one; the end of the piece always ends a phrase. A piece whose phrase
  ends are unknown (a file without fermatas) reads :data:`PHRASE_UNKNOWN` throughout.

>>> staves = {"treble": (["67", "69", "71"], ["2", "1", "1"]), "bass": (["48", "43"], ["3", "1"])}
>>> found = piece_conditions(staves, "4/4")
>>> found["treble"].partner, found["bass"].partner
(['48', '48', '43'], ['<pad>', '69'])
>>> found["treble"].position, found["treble"].countdown
(['0:0', '2:0', '3:0'], [0, 0, 0])
>>> found["treble"].phrase, piece_conditions(staves, "4/4", fermatas=[2])["treble"].phrase
([1, 1, 1], [5, 2, 4])
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..music.events import CLEFS, PAD, bar_length, beat_length, parse_duration
from ..music.vocab import TICKS_PER_QUARTER

#: The order in which staves take onsets that fall together: the bass first.
ORDER: tuple[str, str] = ("bass", "treble")
#: Whole bars after the current one that the countdown tells apart; more read as this many.
COUNTDOWN_CAP = 8
#: Whole beats to the next phrase end that the phrase input tells apart; more read as this.
PHRASE_CAP = 12
#: The phrase ids: 0 is padding, then "unknown", then "on a phrase end", then
#: ``PHRASE_AHEAD + beats`` for 0..PHRASE_CAP whole beats before the next one.
PHRASE_UNKNOWN, PHRASE_END, PHRASE_AHEAD = 1, 2, 3
#: How many phrase ids there are (the size of the phrase embedding).
PHRASE_IDS = PHRASE_AHEAD + PHRASE_CAP + 1


def ticks_of(duration: str | Fraction) -> int:
    """A duration token (or quarterLength) in 24ths of a quarter."""
    value = parse_duration(duration) if isinstance(duration, str) else Fraction(duration)
    return int(value * TICKS_PER_QUARTER)


def onsets(durations: Sequence[str]) -> list[int]:
    """Each event's onset in ticks from the start of the piece."""
    found, time = [], 0
    for duration in durations:
        found.append(time)
        time += ticks_of(duration)
    return found


def bar_ticks(time_signature: str) -> int:
    return ticks_of(bar_length(time_signature))


def position_token(tick: int, time_signature: str) -> str:
    """Where ``tick`` (from the start of the piece) falls in its bar: ``"beat:ticks"``.

    >>> position_token(36 + 72, "6/8"), position_token(30, "4/4")
    ('1:0', '1:6')
    """
    within = tick % bar_ticks(time_signature)
    beat = ticks_of(beat_length(time_signature))
    return f"{within // beat}:{within % beat}"


def heard_meter(time_signature: str, known: Sequence[str]) -> str:
    """The meter a model hears for ``time_signature``: itself where its corpus had it
    (``known``, the meter vocabulary's tokens), else the first known meter whose bars are as
    long (3/4 for 6/8), else itself (its meter and positions then read as padding).

    The chorales have no 6/8: fed as itself, a meter the models never heard, the models wrote
    37 % of the treble's notes as sixteenths (12 pieces; 2.5 % in 4/4); heard as 3/4, 9 %,
    while `compound beat kept` keeps the notes to the dotted beats.

    >>> known = ("<pad>", "<major>", "12/8", "3/4", "4/4")
    >>> heard_meter("6/8", known), heard_meter("4/4", known), heard_meter("5/4", known)
    ('3/4', '4/4', '5/4')
    """
    if time_signature in known:
        return time_signature
    bar = bar_ticks(time_signature)
    for meter in known:
        try:
            if bar_ticks(meter) == bar:
                return meter
        except ValueError:  # a special token, not a meter
            continue
    return time_signature


def countdown(tick: int, total: int, time_signature: str) -> int:
    """Whole bars after the bar of ``tick`` in a piece of ``total`` ticks, capped.

    >>> [countdown(t * 96, 96 * 10, "4/4") for t in (0, 1, 8, 9)]
    [8, 8, 1, 0]
    """
    bar = bar_ticks(time_signature)
    bars = -(-total // bar)
    return max(0, min(COUNTDOWN_CAP, bars - 1 - tick // bar))


def phrase_ahead(ticks: Sequence[int], ends: Sequence[int] | None, total: int) -> list[int]:
    """Ticks from each onset in ``ticks`` to the next phrase end (0 on one), for phrases
    ending at the onsets ``ends`` (``None``: unknown, read as -1) in a piece of ``total``
    ticks, which ends the last phrase.

    >>> phrase_ahead([0, 30, 48, 200], [48], 192)
    [48, 18, 0, 0]
    """
    if ends is None:
        return [-1] * len(ticks)
    marks = sorted({*(int(e) for e in ends), int(total)})
    found = []
    for tick in ticks:
        index = bisect.bisect_left(marks, tick)
        found.append(marks[index] - tick if index < len(marks) else 0)
    return found


def phrase_id(ahead, beat: int, xp=None):
    """The phrase id of ``ahead`` ticks to the next phrase end (-1: unknown), for a meter
    whose beat lasts ``beat`` ticks; an int, or an array with ``xp`` (numpy or jax.numpy).

    >>> [phrase_id(a, 24) for a in (-1, 0, 23, 24, 1000)]
    [1, 2, 3, 4, 15]
    """
    if xp is None:
        if ahead < 0:
            return PHRASE_UNKNOWN
        return PHRASE_END if ahead == 0 else PHRASE_AHEAD + min(PHRASE_CAP, ahead // beat)
    return xp.where(ahead < 0, PHRASE_UNKNOWN, xp.where(
        ahead == 0, PHRASE_END, PHRASE_AHEAD + xp.minimum(PHRASE_CAP, ahead // beat)))


def phrase_ids(ticks: Sequence[int], ends: Sequence[int] | None, total: int,
               time_signature: str) -> list[int]:
    """The phrase id of each onset in ``ticks``, for phrases ending at the onsets ``ends``
    (ticks; ``None``: unknown) in a piece of ``total`` ticks, which ends the last phrase.

    >>> phrase_ids([0, 24, 48, 72, 96], [48], 192, "4/4")
    [5, 4, 2, 8, 7]
    >>> phrase_ids([0, 96], None, 192, "4/4")
    [1, 1]
    """
    beat = ticks_of(beat_length(time_signature))
    return [phrase_id(a, beat) for a in phrase_ahead(ticks, ends, total)]


def partner_tokens(own: Sequence[int], other: Sequence[int], other_pitches: Sequence[str], *,
                   same_onset: bool) -> list[str]:
    """The other staff's pitch token at each of ``own`` onsets: its latest event starting at
    or before (``same_onset``) or strictly before the onset; :data:`PAD` when it has none."""
    found = []
    for tick in own:
        index = (bisect.bisect_right(other, tick) if same_onset
                 else bisect.bisect_left(other, tick)) - 1
        found.append(other_pitches[index] if index >= 0 else PAD)
    return found


@dataclass(frozen=True)
class Conditions:
    """The inputs for every event of one staff (lists as long as its events)."""

    partner: list[str]
    meter: list[str]
    position: list[str]
    countdown: list[int]
    phrase: list[int]


def piece_conditions(staves: Mapping[str, tuple[Sequence[str], Sequence[str]]],
                     time_signature: str,
                     fermatas: Sequence[Fraction] | None = None) -> dict[str, Conditions]:
    """The inputs of both staves of one piece, from each staff's (pitch tokens, duration
    tokens); the piece lasts as long as its longer staff. ``fermatas``: where its phrases end
    (onsets in quarters), ``None`` where that is unknown."""
    starts = {clef: onsets(staves[clef][1]) for clef in CLEFS}
    total = max(sum(ticks_of(d) for d in staves[clef][1]) for clef in CLEFS)
    ends = None if fermatas is None else [ticks_of(Fraction(f)) for f in fermatas]
    found = {}
    for clef in CLEFS:
        other = CLEFS[1 - CLEFS.index(clef)]
        hears_same_onset = ORDER.index(other) < ORDER.index(clef)
        found[clef] = Conditions(
            partner=partner_tokens(starts[clef], starts[other], list(staves[other][0]),
                                   same_onset=hears_same_onset),
            meter=[time_signature] * len(starts[clef]),
            position=[position_token(t, time_signature) for t in starts[clef]],
            countdown=[countdown(t, total, time_signature) for t in starts[clef]],
            phrase=phrase_ids(starts[clef], ends, total, time_signature))
    return found


def opening_rest(corpus, name: str, bar: int) -> int:
    """The ticks both staves of piece ``name`` rest before either sounds (0 where one sounds
    at once, or where the rest fills a bar or more)."""
    leads = []
    for clef in ("treble", "bass"):
        events = corpus.events(clef, name)
        first = events[0] if len(events) else None
        leads.append(ticks_of(first.duration) if first is not None and first.is_rest else 0)
    lead = min(leads)
    return lead if lead < bar else 0


def phrase_statistics(corpus, pieces: Sequence[str] | None = None) -> dict[str, dict]:
    """How the phrases of ``pieces`` (every piece of ``corpus`` by default) are cut, per meter:
    how many phrases last each number of bars (``lengths``), how many phrase ends fall
    at each tick into their bar (``positions``), and how many pieces open after a rest of
    each length in ticks, both hands silent (``leads``; 0: on the downbeat, 72 in 4/4: a
    one-beat pickup). Only pieces whose files mark fermatas count. Saved with a trained
    model, so that a phrase plan follows its corpus."""
    from collections import Counter

    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"].astype(str)))
    found: dict[str, dict[str, Counter]] = {}
    for name in corpus.piece_names() if pieces is None else pieces:
        fermatas = corpus.fermatas(name)
        if not fermatas:
            continue
        meter = meters[name]
        bar = bar_ticks(meter)
        counts = found.setdefault(meter, {"lengths": Counter(), "positions": Counter(),
                                          "leads": Counter()})
        counts["leads"][str(opening_rest(corpus, name, bar))] += 1
        last_bar = -1
        for onset in sorted(ticks_of(f) for f in fermatas):
            bar_index = onset // bar
            if bar_index > last_bar:
                counts["lengths"][str(bar_index - last_bar)] += 1
                counts["positions"][str(onset % bar)] += 1
                last_bar = bar_index
    return {meter: {part: dict(sorted(counter.items(), key=lambda kv: int(kv[0])))
                    for part, counter in counts.items()}
            for meter, counts in sorted(found.items())}
