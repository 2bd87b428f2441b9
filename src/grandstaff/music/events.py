"""Events and their tokens: the package's own small types, free of music21 and keras.

An :class:`Event` is one onset in one staff: the MIDI numbers sounding from that onset (empty
for a rest), which of them are held on from the event before rather than struck, and the exact
quarterLength to the staff's next onset. It is written as two tokens; a held pitch carries the
hold marker ``~``:

>>> Event((48, 55, 64), Fraction(3, 2)).tokens()
('48.55.64', '3/2')
>>> Event((60, 64), Fraction(1), held=(60,)).tokens()
('60~.64', '1')
>>> Event.from_tokens("60~.64", "1/3")
Event(pitches=(60, 64), duration=Fraction(1, 3), held=(60,))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from ..errors import BadArgumentError, BadInputError

CLEFS: tuple[str, str] = ("treble", "bass")
#: The notes each staff writes without ledger lines: D4–G♯5 on the treble staff, F2–B3 on the
#: bass staff (a note just outside hangs below or above the staff).
STAFF_RANGE: dict[str, tuple[int, int]] = {"treble": (62, 80), "bass": (41, 59)}
#: Interval classes (semitones mod 12) consonant between the hands: unison/octave, minor and
#: major thirds, perfect fifth, minor and major sixths. The fourth and the tritone count as
#: dissonant, as they do above a bass.
CONSONANT = frozenset({0, 3, 4, 7, 8, 9})
MODES: tuple[str, str] = ("major", "minor")
#: The chromatic notes of the reference keys (C major, A minor) as a key spells them, each
#: against the natural note of the same letter: in major C♯, E♭, F♯, G♯, B♭ against C, E, F,
#: G, B; in minor B♭, C♯, D♯, F♯, G♯ against B, C, D, F, G. (G♯ against A is a leading tone
#: under its tonic, a dissonance like any other, not a clash.)
CHROMATIC_PAIRS = {"major": ((1, 0), (3, 4), (6, 5), (8, 7), (10, 11)),
                   "minor": ((10, 11), (1, 0), (3, 2), (6, 5), (8, 7))}
REST = "rest"
PAD = "<pad>"
#: Written after a MIDI number in a pitch token: that pitch is held on from the event before.
HOLD = "~"


def start_token(mode: str) -> str:
    """The token that opens every sequence of a piece in ``mode``.

    >>> start_token("minor")
    '<minor>'
    """
    if mode not in MODES:
        raise BadArgumentError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    return f"<{mode}>"


SPECIAL_TOKENS: tuple[str, ...] = (PAD, *(start_token(m) for m in MODES))


def is_special(token: str) -> bool:
    """True for the padding and start tokens, which never appear in music."""
    return token.startswith("<")


def _grid() -> tuple[Fraction, ...]:
    plain = [Fraction(4, 2**i) for i in range(6)]  # whole .. 32nd
    dotted = [d * Fraction(3, 2) for d in plain[:5]]  # dotted whole .. dotted 16th
    triplets = [d * Fraction(2, 3) for d in plain[1:5]]  # half-note triplet .. 16th triplet
    return tuple(sorted(set(plain + dotted + triplets)))


#: Every duration an event may have, in quarterLengths: whole note (4) to 32nd (1/8), the dotted
#: values from dotted whole (6) to dotted 16th (3/8), and triplets from the half-note triplet (4/3)
#: to the 16th triplet (1/6).
DURATION_GRID: tuple[Fraction, ...] = _grid()
#: Silences longer than this are written as several rests.
LONGEST: Fraction = Fraction(4)


def snap_duration(value: Fraction | float) -> tuple[Fraction, bool]:
    """The nearest grid duration to ``value`` and whether it differs from it.

    Ties go to the shorter value.

    >>> snap_duration(Fraction(1, 2))
    (Fraction(1, 2), False)
    >>> snap_duration(0.49)
    (Fraction(1, 2), True)
    """
    exact = Fraction(value).limit_denominator(10_000)
    best = min(DURATION_GRID, key=lambda d: (abs(d - exact), d))
    return best, best != exact


_GRID_SET = frozenset(DURATION_GRID)


def split_silence(total: Fraction) -> list[Fraction] | None:
    """Grid durations that add up to ``total`` exactly: the rest events of one silence.

    As many whole notes as leave a remainder that one grid value, or failing that the fewest
    grid values (up to four), can write. ``None`` when no exact split exists (the caller then
    snaps).

    >>> split_silence(Fraction(9))
    [Fraction(4, 1), Fraction(4, 1), Fraction(1, 1)]
    >>> split_silence(Fraction(5, 6))
    [Fraction(2, 3), Fraction(1, 6)]
    """
    total = Fraction(total)
    if total in _GRID_SET:
        return [total]
    for wholes in range(int(total // LONGEST), -1, -1):
        remainder = total - wholes * LONGEST
        if remainder == 0:
            return [LONGEST] * wholes
        found = _fewest_grid_values(remainder)
        if found is not None:
            return [LONGEST] * wholes + found
    return None


def _fewest_grid_values(total: Fraction, most: int = 4) -> list[Fraction] | None:
    if total in _GRID_SET:
        return [total]
    values = sorted(DURATION_GRID, reverse=True)
    frontier: list[tuple[Fraction, list[Fraction]]] = [(total, [])]
    for _ in range(most - 1):
        following = []
        for remaining, chosen in frontier:
            for value in values:
                if value < remaining and (not chosen or value <= chosen[-1]):
                    if remaining - value in _GRID_SET and remaining - value <= value:
                        return chosen + [value, remaining - value]
                    following.append((remaining - value, chosen + [value]))
        frontier = following
    return None


def canonical(events: Iterable[Event]) -> list[Event]:
    """The one way of writing ``events`` that reading a score gives back.

    A silence is one musical fact, so consecutive rests are merged and written as
    :func:`split_silence` splits them. So is a sound: an event that only holds on everything
    the event before sounded is merged into it, and the whole written the same way (the later
    parts held). A pitch can only be held on if it sounded in the event before, so any other
    hold becomes a strike.

    >>> canonical([Event((60,), Fraction(1)), Event((60,), Fraction(1), held=(60,))])
    [Event(pitches=(60,), duration=Fraction(2, 1), held=())]
    """
    runs: list[list[Event]] = []
    for event in events:
        before = runs[-1][-1] if runs else None
        if before is not None and not set(event.held) <= set(before.pitches):
            event = Event(event.pitches, event.duration,
                          tuple(p for p in event.held if p in before.pitches))
        if before is not None and (
                (event.is_rest and before.is_rest)
                or (event.pitches and set(event.held) == set(event.pitches)
                    == set(before.pitches))):
            runs[-1].append(event)
        else:
            runs.append([event])
    result: list[Event] = []
    for run in runs:
        head = run[0]
        total = sum((e.duration for e in run), Fraction(0))
        parts = split_silence(total)
        if parts is None:
            parts = [snap_duration(total)[0]] if head.is_rest else [e.duration for e in run]
        result.append(Event(head.pitches, parts[0], head.held))
        result.extend(Event(head.pitches, part, head.pitches) for part in parts[1:])
    return result


def format_duration(duration: Fraction) -> str:
    """A duration token: the reduced fraction, without ``/1`` for whole numbers."""
    duration = Fraction(duration)
    if duration.denominator == 1:
        return str(duration.numerator)
    return f"{duration.numerator}/{duration.denominator}"


def parse_duration(token: str) -> Fraction:
    """The quarterLength of a duration token (``"3/2"`` → 1.5)."""
    try:
        value = Fraction(token)
    except (ValueError, ZeroDivisionError):
        raise BadInputError(f"duration token {token!r} is not a fraction like '3/2'") from None
    if value <= 0:
        raise BadInputError(f"duration token {token!r} must be positive")
    return value


def format_pitches(pitches: Sequence[int], held: Sequence[int] = ()) -> str:
    """A pitch token: ``rest`` or the sorted MIDI numbers joined by dots, each held one
    followed by :data:`HOLD`.

    >>> format_pitches([64, 60], held=[60])
    '60~.64'
    """
    if not pitches:
        return REST
    held = set(held)
    return ".".join(f"{p}{HOLD}" if p in held else str(p) for p in sorted(set(pitches)))


@lru_cache(maxsize=1 << 16)  # a vocabulary's tokens are parsed again by every table built
def parse_pitch_token(token: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(sounding MIDI numbers, held MIDI numbers) of a pitch token.

    >>> parse_pitch_token("60~.64")
    ((60, 64), (60,))
    """
    if token == REST:
        return (), ()
    try:
        parts = token.split(".")
        values = [int(part.removesuffix(HOLD)) for part in parts]
        held = {int(part[:-1]) for part in parts if part.endswith(HOLD)}
    except ValueError:
        raise BadInputError(f"pitch token {token!r} is neither 'rest' nor MIDI numbers") from None
    if any(not 0 <= v <= 127 for v in values):
        raise BadInputError(f"pitch token {token!r} has a MIDI number outside 0..127")
    return tuple(sorted(set(values))), tuple(sorted(held))


def parse_pitches(token: str) -> tuple[int, ...]:
    """The MIDI numbers sounding in a pitch token, held or struck (``"48.55~.64"`` →
    (48, 55, 64), ``"rest"`` → ())."""
    return parse_pitch_token(token)[0]


@dataclass(frozen=True)
class Event:
    """One onset in one staff: the sounding MIDI numbers (``()`` = rest), the duration, and
    which of the sounding numbers are held on from the event before (the rest are struck)."""

    pitches: tuple[int, ...]
    duration: Fraction
    held: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not set(self.held) <= set(self.pitches):
            raise BadInputError(f"held pitches {self.held} are not all sounding in {self.pitches}")

    @property
    def is_rest(self) -> bool:
        return not self.pitches

    @property
    def struck(self) -> tuple[int, ...]:
        """The pitches attacked at this onset (the sounding ones that are not held)."""
        return tuple(p for p in self.pitches if p not in self.held)

    def tokens(self) -> tuple[str, str]:
        """The (pitch token, duration token) pair of this event."""
        return format_pitches(self.pitches, self.held), format_duration(self.duration)

    @classmethod
    def from_tokens(cls, pitch: str, duration: str) -> Event:
        """The event written by a (pitch token, duration token) pair."""
        pitches, held = parse_pitch_token(pitch)
        return cls(pitches, parse_duration(duration), held)

    def transposed(self, semitones: int) -> Event:
        return Event(tuple(p + semitones for p in self.pitches), self.duration,
                     tuple(p + semitones for p in self.held))


def bar_length(time_signature: str) -> Fraction:
    """The length of one bar in quarters of a time signature such as ``3/4``, ``6/8`` or an
    additive one such as ``3+2/8`` or ``3/4+2/4`` (as music21 writes them).

    >>> bar_length("6/8")
    Fraction(3, 1)
    >>> bar_length("3+2/8")
    Fraction(5, 2)
    """
    total, unit = Fraction(0), 0
    try:
        for term in reversed(str(time_signature).strip().split("+")):
            beats, slash, below = term.partition("/")
            unit = int(below) if slash else unit
            if int(beats) < 1 or unit not in (1, 2, 4, 8, 16, 32):
                raise ValueError
            total += Fraction(4 * int(beats), unit)
    except ValueError:
        total = Fraction(0)
    if not 0 < total <= 32:
        raise BadArgumentError(
            f"time signature {time_signature!r} is not valid; use beats/unit like 4/4, 3/4 "
            "or 6/8")
    return total


def beat_length(time_signature: str) -> Fraction:
    """The beat of a meter in quarters: the dotted unit of 6/8, 9/8, 12/8 (and 6/16...), else
    the meter's unit (a quarter in 3/4, a half in 2/2). Additive meters beat in their unit.

    >>> beat_length("6/8"), beat_length("3/4"), beat_length("2/2")
    (Fraction(3, 2), Fraction(1, 1), Fraction(2, 1))
    """
    bar_length(time_signature)  # refuses what is no meter
    beats, _, unit = str(time_signature).strip().rpartition("/")
    unit_length = Fraction(4, int(unit))
    if "+" not in beats and int(beats) % 3 == 0 and int(beats) >= 6 and int(unit) >= 8:
        return 3 * unit_length
    return unit_length


def total_duration(events: Iterable[Event]) -> Fraction:
    """The summed quarterLength of ``events``."""
    return sum((e.duration for e in events), Fraction(0))


def events_until(events: Iterable[Event], end: Fraction) -> list[Event]:
    """The events that start before ``end`` (quarter notes from the first onset), the one
    sounding across it shortened to end there.

    >>> events_until([Event((60,), Fraction(1)), Event((62,), Fraction(3))], Fraction(2))
    [Event(pitches=(60,), duration=Fraction(1, 1), held=()), \
Event(pitches=(62,), duration=Fraction(1, 1), held=())]
    """
    kept, time = [], Fraction(0)
    for event in events:
        if time >= end:
            break
        kept.append(Event(event.pitches, min(Fraction(event.duration), end - time), event.held))
        time += Fraction(event.duration)
    return kept


def notes_of(events: Iterable[Event]) -> list[tuple[Fraction, Fraction, int]]:
    """(start, end, MIDI number) of every note, a held pitch joined to the note it continues.

    >>> staff = [Event((60, 64), Fraction(1)), Event((60, 65), Fraction(1), held=(60,))]
    >>> [(float(start), float(end), pitch) for start, end, pitch in notes_of(staff)]
    [(0.0, 2.0, 60), (0.0, 1.0, 64), (1.0, 2.0, 65)]
    """
    found: list[tuple[Fraction, Fraction, int]] = []
    open_notes: dict[int, int] = {}
    time = Fraction(0)
    for event in events:
        following = {}
        for pitch in event.pitches:
            index = open_notes.get(pitch) if pitch in event.held else None
            if index is None:
                found.append((time, time + event.duration, pitch))
                index = len(found) - 1
            else:
                start, _, _ = found[index]
                found[index] = (start, time + event.duration, pitch)
            following[pitch] = index
        open_notes = following
        time += event.duration
    return found
