"""A melody to harmonise: one line of notes and rests with its key and meter.

The package's own small type between reading a tune (:func:`grandstaff.music.reading.
read_melody`, the only place that knows music21) and harmonising it
(:func:`grandstaff.harmonize`). A melody may open with a pickup: ``lead`` is the rest that
completes its first bar, so the piece keeps the pickup's place in the bar.

>>> from fractions import Fraction
>>> tune = Melody.of([(67, 1), (72, 2), (None, 1), (71, 1), (72, 3)], key="C major",
...                  time_signature="4/4", lead=3)
>>> tune.bars, tune.padded()[0], tune.padded()[-1]
(3, (None, Fraction(3, 1)), (None, Fraction(1, 1)))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..errors import BadArgumentError
from .events import Event, bar_length, beat_length
from .keys import Key
from .spelling import transposed_name
from .vocab import TICKS_PER_QUARTER

#: Note names for messages.
_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def note_name(midi: int) -> str:
    """``60`` → ``"C4"``.

    >>> note_name(60), note_name(70)
    ('C4', 'Bb4')
    """
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}"


@dataclass(frozen=True)
class Melody:
    """One line of (MIDI number or ``None`` for a rest, quarter notes) pairs, in ``key`` and
    ``time_signature``; ``lead``: the rest before its first note in the first bar (a pickup's
    missing part, 0 when it starts on a downbeat); ``fermatas``: the onsets of its notes that
    carry one, in quarters from the start of its first bar (``None``: it marks none);
    ``names``: each note's spelling as written (music21's names without octave, e.g. ``F#``,
    ``B-``; ``None`` for a rest or a note to be spelled in the key), or ``None`` for all."""

    notes: tuple[tuple[int | None, Fraction], ...]
    key: Key
    time_signature: str = "4/4"
    lead: Fraction = Fraction(0)
    title: str | None = None
    fermatas: tuple[Fraction, ...] | None = None
    names: tuple[str | None, ...] | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[int | None, object]], *, key: str | Key,
           time_signature: str = "4/4", lead: object = 0, title: str | None = None,
           fermatas: Iterable[object] | None = None,
           names: Sequence[str | None] | None = None) -> Melody:
        """A melody from (MIDI number or ``None``, quarter notes) pairs, checked: at least one
        note, whole MIDI numbers from 0 to 127, durations above zero on grandstaff's grid of
        1/24 of a quarter; consecutive rests are joined. ``fermatas``: onsets (quarters from
        the start of the first bar) of the notes that carry one; others are left out.
        ``names``: one spelling per pair (see :class:`Melody`)."""
        key = key if isinstance(key, Key) else Key.parse(str(key))
        try:
            bar = bar_length(time_signature)
        except (ValueError, ZeroDivisionError, BadArgumentError):
            raise BadArgumentError(f"time signature {time_signature!r} is not one grandstaff "
                                   "writes; e.g. 4/4, 3/4, 6/8") from None
        pairs = list(pairs)
        if names is not None and len(names) != len(pairs):
            raise ValueError(f"{len(names)} names for {len(pairs)} notes")
        given = list(names) if names is not None else [None] * len(pairs)
        notes: list[tuple[int | None, Fraction]] = []
        spelled: list[str | None] = []
        at = Fraction(0)
        for number, ((pitch, length), name) in enumerate(zip(pairs, given), 1):
            length = _duration(length, number)
            if pitch is not None and (isinstance(pitch, bool) or not isinstance(pitch, int)
                                      or not 0 <= pitch <= 127):
                raise BadArgumentError(f"note {number} of the melody, {pitch!r}, is not a MIDI "
                                       "number from 0 to 127 (or None for a rest)")
            if pitch is None and notes and notes[-1][0] is None:
                notes[-1] = (None, notes[-1][1] + length)
            else:
                notes.append((pitch, length))
                spelled.append(None if pitch is None else name)
            at += length
        if not any(pitch is not None for pitch, _ in notes):
            raise BadArgumentError("the melody has no notes")
        lead = _duration(lead, 0, zero=True)
        if lead >= bar:
            raise BadArgumentError(f"a pickup's lead {lead} must be shorter than a bar of "
                                   f"{time_signature} ({bar} quarters)")
        marked = None
        if fermatas is not None:
            onsets, at = set(), lead
            for pitch, length in notes:
                if pitch is not None:
                    onsets.add(at)
                at += length
            marked = tuple(sorted({Fraction(f) for f in fermatas} & onsets)) or None
        return cls(tuple(notes), key, time_signature, lead, title, marked,
                   tuple(spelled) if any(spelled) else None)

    @property
    def length(self) -> Fraction:
        """Quarter notes from its first note (or rest) to its end."""
        return sum((length for _, length in self.notes), Fraction(0))

    @property
    def bars(self) -> int:
        """Whole bars it fills, its lead and a last bar completed with rest included."""
        return math.ceil((self.lead + self.length) / bar_length(self.time_signature))

    def padded(self) -> list[tuple[int | None, Fraction]]:
        """Its notes in whole bars: the lead as a rest before them, and a rest after them to
        the end of the last bar."""
        total = self.bars * bar_length(self.time_signature)
        notes = list(self.notes)
        if self.lead:
            notes = _join_rests([(None, self.lead), *notes])
        tail = total - self.lead - self.length
        if tail:
            notes = _join_rests([*notes, (None, tail)])
        return notes

    @property
    def end_of_sound(self) -> Fraction:
        """Quarter notes from the start of its first bar to the end of its last note (the
        rest that completes the last bar left out)."""
        padded = self.padded()
        last = max((i for i, (pitch, _) in enumerate(padded) if pitch is not None), default=-1)
        return sum((length for _, length in padded[:last + 1]), Fraction(0))

    def ticks(self, shift: int = 0) -> list[tuple[int | None, int]]:
        """:meth:`padded` in ticks, every note moved down by ``shift`` semitones (into the
        models' reference key)."""
        return [(None if pitch is None else pitch - shift, int(length * TICKS_PER_QUARTER))
                for pitch, length in self.padded()]

    def sounding(self) -> list[int]:
        """The MIDI numbers of its notes, in order."""
        return [pitch for pitch, _ in self.notes if pitch is not None]

    def in_key(self, key: str | Key) -> Melody:
        """The same melody moved to ``key`` (the same mode) the shorter way, up or down."""
        key = key if isinstance(key, Key) else Key.parse(str(key))
        if key.mode != self.key.mode:
            raise BadArgumentError(f"the melody is in {self.key}; it can move to another "
                                   f"{self.key.mode} key, not to {key}")
        semitones = (key.pitch_class - self.key.pitch_class + 6) % 12 - 6
        names = None if self.names is None else tuple(
            None if name is None else transposed_name(name, self.key, key) for name in self.names)
        return Melody(tuple((None if p is None else p + semitones, d) for p, d in self.notes),
                      key, self.time_signature, self.lead, self.title, self.fermatas, names)

    def with_meter(self, time_signature: str) -> Melody:
        """The same notes read in another meter (the lead kept if it still fits a bar)."""
        lead = self.lead if self.lead < bar_length(time_signature) else Fraction(0)
        moved = (None if self.fermatas is None
                 else [f - self.lead + lead for f in self.fermatas])
        return Melody.of(self.notes, key=self.key, time_signature=time_signature, lead=lead,
                         title=self.title, fermatas=moved, names=self.names)

    def scaled(self, factor: Fraction, time_signature: str) -> Melody:
        """The same notes with every length, the lead and the fermatas times ``factor``,
        read in ``time_signature`` (a 4/2 tune halved is a 4/4 tune). Raises
        :class:`BadArgumentError` where a length leaves grandstaff's grid.

        >>> tune = Melody.of([(67, 2), (70, 4), (72, 2)], key="G minor", time_signature="4/2",
        ...                  lead=6, fermatas=[12])
        >>> half = tune.scaled(Fraction(1, 2), "4/4")
        >>> half.notes[1], half.lead, half.fermatas, half.bars == tune.bars
        ((70, Fraction(2, 1)), Fraction(3, 1), (Fraction(6, 1),), True)
        """
        return Melody.of([(pitch, length * factor) for pitch, length in self.notes],
                         key=self.key, time_signature=time_signature, lead=self.lead * factor,
                         title=self.title, names=self.names,
                         fermatas=(None if self.fermatas is None
                                   else [f * factor for f in self.fermatas]))

    def spelling(self) -> list[tuple[Fraction, int, str]]:
        """(onset in quarters from the start of its first bar, MIDI number, name) of every
        note whose spelling it gives.

        >>> Melody.of([(68, 1), (None, 1), (71, 2)], key="C major", lead=1,
        ...           names=["A-", None, None]).spelling()
        [(Fraction(1, 1), 68, 'A-')]
        """
        found, at = [], self.lead
        for (pitch, length), name in zip(self.notes, self.names or [None] * len(self.notes)):
            if pitch is not None and name is not None:
                found.append((at, pitch, name))
            at += length
        return found

    def phrase_ends(self) -> list[Fraction]:
        """Where its phrases end (quarters from the start of its first bar): its fermatas
        where it marks them; otherwise each note that a rest follows or that lasts at least
        twice the middle note length and a beat (of two within two bars, the one a rest
        follows, else the longer), two bars or more before the last note, which always ends
        a phrase.

        >>> tune = Melody.of([(67, 1), (69, 1), (71, 2), (72, 1), (71, 1), (69, 4), (None, 1),
        ...                   (67, 1), (69, 1), (71, 1), (67, 4)], key="G major")
        >>> tune.phrase_ends(), tune.fermatas
        ([Fraction(6, 1), Fraction(14, 1)], None)
        >>> Melody.of(tune.notes, key="G major", fermatas=[2, 3, 6, 14]).phrase_ends()
        [Fraction(2, 1), Fraction(6, 1), Fraction(14, 1)]
        """
        if self.fermatas:
            return list(self.fermatas)
        beat = beat_length(self.time_signature)
        lengths = sorted(length for pitch, length in self.notes if pitch is not None)
        long = max(2 * lengths[len(lengths) // 2], beat)
        bar = bar_length(self.time_signature)
        ends: list[tuple[Fraction, tuple]] = []  # (onset, strength)
        at, last = self.lead, self.lead
        for index, (pitch, length) in enumerate(self.notes):
            following = self.notes[index + 1][0] if index + 1 < len(self.notes) else None
            if pitch is not None:
                last = at
                strength = (following is None, length)
                if following is None or length >= long:
                    if not ends or at - ends[-1][0] >= 2 * bar:
                        ends.append((at, strength))
                    elif strength > ends[-1][1]:  # two close together: the stronger ends
                        ends[-1] = (at, strength)
            at += length
        kept = [onset for onset, _ in ends if last - onset >= 2 * bar]
        return [*kept, last]


def _duration(value: object, number: int, zero: bool = False) -> Fraction:
    what = "the pickup's lead" if number == 0 else f"note {number} of the melody"
    try:
        length = Fraction(value).limit_denominator(10_000) if not isinstance(value, Fraction) \
            else value
    except (TypeError, ValueError):
        raise BadArgumentError(f"{what} lasts {value!r}, which is not a number of quarter "
                               "notes") from None
    if length < 0 or (length == 0 and not zero):
        raise BadArgumentError(f"{what} lasts {value!r} quarter notes; it must last longer "
                               "than nothing")
    if (length * TICKS_PER_QUARTER).denominator != 1:
        raise BadArgumentError(f"{what} lasts {length} quarter notes, off grandstaff's grid "
                               f"of 1/{TICKS_PER_QUARTER} of a quarter")
    return length


def _join_rests(notes: list[tuple[int | None, Fraction]]) -> list[tuple[int | None, Fraction]]:
    joined: list[tuple[int | None, Fraction]] = []
    for pitch, length in notes:
        if pitch is None and joined and joined[-1][0] is None:
            joined[-1] = (None, joined[-1][1] + length)
        else:
            joined.append((pitch, length))
    return joined


def soprano(treble: Sequence[Event]) -> list[tuple[int | None, Fraction]]:
    """The top voice of a treble staff: its highest note at each event, a held top joined to
    the note before, rests as rests.

    >>> q = Fraction(1)
    >>> soprano([Event((), q), Event((64, 67), q), Event((62, 67), q, (67,)), Event((65,), q)])
    [(None, Fraction(1, 1)), (67, Fraction(2, 1)), (65, Fraction(1, 1))]
    """
    line: list[tuple[int | None, Fraction]] = []
    for event in treble:
        top = max(event.pitches) if event.pitches else None
        joined = line and (top is None and line[-1][0] is None
                           or top is not None and top in event.held and line[-1][0] == top)
        if joined:
            line[-1] = (line[-1][0], line[-1][1] + event.duration)
        else:
            line.append((top, event.duration))
    return line
