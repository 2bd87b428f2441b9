"""The three inputs that let a clef model hear the other hand, feel the meter and count
toward the end, computed for every event from the token lists of both staves.

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

>>> staves = {"treble": (["67", "69", "71"], ["2", "1", "1"]), "bass": (["48", "43"], ["3", "1"])}
>>> found = piece_conditions(staves, "4/4")
>>> found["treble"].partner, found["bass"].partner
(['48', '48', '43'], ['<pad>', '69'])
>>> found["treble"].position, found["treble"].countdown
(['0:0', '2:0', '3:0'], [0, 0, 0])
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


def countdown(tick: int, total: int, time_signature: str) -> int:
    """Whole bars after the bar of ``tick`` in a piece of ``total`` ticks, capped.

    >>> [countdown(t * 96, 96 * 10, "4/4") for t in (0, 1, 8, 9)]
    [8, 8, 1, 0]
    """
    bar = bar_ticks(time_signature)
    bars = -(-total // bar)
    return max(0, min(COUNTDOWN_CAP, bars - 1 - tick // bar))


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
    """The three inputs for every event of one staff (lists as long as its events)."""

    partner: list[str]
    meter: list[str]
    position: list[str]
    countdown: list[int]


def piece_conditions(staves: Mapping[str, tuple[Sequence[str], Sequence[str]]],
                     time_signature: str) -> dict[str, Conditions]:
    """The inputs of both staves of one piece, from each staff's (pitch tokens, duration
    tokens); the piece lasts as long as its longer staff."""
    starts = {clef: onsets(staves[clef][1]) for clef in CLEFS}
    total = max(sum(ticks_of(d) for d in staves[clef][1]) for clef in CLEFS)
    found = {}
    for clef in CLEFS:
        other = CLEFS[1 - CLEFS.index(clef)]
        hears_same_onset = ORDER.index(other) < ORDER.index(clef)
        found[clef] = Conditions(
            partner=partner_tokens(starts[clef], starts[other], list(staves[other][0]),
                                   same_onset=hears_same_onset),
            meter=[time_signature] * len(starts[clef]),
            position=[position_token(t, time_signature) for t in starts[clef]],
            countdown=[countdown(t, total, time_signature) for t in starts[clef]])
    return found
