"""Piano staves: which hand plays which note, decided for the page only.

The models write a chorale split in two: soprano and alto on the treble staff, tenor and bass
on the bass staff. A pianist reads it otherwise. Where the tenor climbs above the bass staff
(C4 and up, on ledger lines) or leaves the left hand stretched wider than a ninth, and the
right hand can take it within an octave, it is written in the right hand; where an inner treble
note sinks below middle C (B3 and down, where the bass staff needs no ledger line) and the left
hand can take it within an octave, it is written in the left. A C4 or C♯4 stays in the right
hand: the bass staff would write it on the same ledger line. The top note of the right hand
and the lowest of the left never move, so the melody and the bass stay where they are. Only
the page changes: what sounds, and so the MIDI and the WAV, is the same note for note.

>>> from fractions import Fraction
>>> treble = [Event((67, 72), Fraction(4))]          # G4 C5
>>> bass = [Event((48, 64), Fraction(4))]            # C3 and a tenor E4 on ledger lines
>>> written = piano_staves({"treble": treble, "bass": bass})
>>> written["treble"][0].pitches, written["bass"][0].pitches
((64, 67, 72), (48,))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from ..errors import BadArgumentError
from .events import CLEFS, STAFF_RANGE, Event, notes_of, total_duration

#: How the staves are written: "piano" (this module) or "as-sampled" (tenor and bass on the bass
#: staff, soprano and alto on the treble, as the models wrote them).
STAFF_SPLITS = ("piano", "as-sampled")
#: The widest one hand takes (an octave), and the stretch of the left hand that is too wide
#: (more than a ninth: a tenth is past most hands).
HAND_SPAN, TOO_WIDE = 12, 14
#: A major tenth in semitones: a left hand stretched wider is past most hands.
TENTH = 16

Note = tuple[Fraction, Fraction, int]


def check_staff_split(split: str) -> str:
    """``split`` if it is one of :data:`STAFF_SPLITS`, else one line saying which are.

    >>> check_staff_split("as-sampled")
    'as-sampled'
    """
    if split not in STAFF_SPLITS:
        raise BadArgumentError(
            f"staves {split!r} is not one of {', '.join(STAFF_SPLITS)}; piano (the default) "
            "gives the tenor to the right hand where it fits, as-sampled keeps the models' split")
    return split


def piano_staves(staves: Mapping[str, Sequence[Event]]) -> dict[str, list[Event]]:
    """The staves as a pianist would read them (see the module's text); a staff where no note
    moves is given back as it was."""
    treble, bass = notes_of(staves["treble"]), notes_of(staves["bass"])
    up = _movable(bass, treble, upward=True)
    bass = [n for n in bass if n not in up]
    down = _movable(treble, bass, upward=False)
    if not up and not down:
        return {clef: list(staves[clef]) for clef in CLEFS}
    treble = [n for n in treble if n not in down] + up
    bass = bass + down
    from .reading import events_from_notes

    end = total_duration(staves["treble"])
    return {"treble": events_from_notes(treble, end)[0], "bass": events_from_notes(bass, end)[0]}


def _movable(source: list[Note], target: list[Note], *, upward: bool) -> list[Note]:
    """The notes of ``source`` to write on the other staff: each needs ledger lines on its own
    staff (going down, and none on the other; going up, or it leaves the left hand wider than
    a ninth), has a note of its own staff beyond it (below when going up, above when going
    down) for its whole length, and lands at the edge of the other hand's chord (its lowest
    going up, its highest going down) within an octave of that hand's far note, all the while
    that it sounds."""
    moved: list[Note] = []
    order = sorted(range(len(source)), key=lambda i: -source[i][2] if upward else source[i][2])
    gone: set[int] = set()
    for index in order:
        start, end, pitch = source[index]
        staying = [n for i, n in enumerate(source) if i != index and i not in gone
                   and n[0] < end and n[1] > start]
        other = _overlapping(target, start, end) + _overlapping(moved, start, end)
        slices = _slices(start, end, staying, other)
        if not all(_fits(pitch, _sounding(staying, s), _sounding(other, s), upward)
                   for s in slices):
            continue
        if upward and pitch <= STAFF_RANGE["bass"][1] and not any(
                pitch - min(_sounding(staying, s)) > TOO_WIDE for s in slices):
            continue
        if not upward and pitch > STAFF_RANGE["bass"][1]:  # as many ledger lines on either staff
            continue
        moved.append(source[index])
        gone.add(index)
    return moved


def _overlapping(staff: list[Note], start: Fraction, end: Fraction) -> list[Note]:
    return [n for n in staff if n[0] < end and n[1] > start]


def _fits(pitch: int, own: Sequence[int], other: Sequence[int], upward: bool) -> bool:
    """True if ``pitch`` keeps a note of its own staff beyond it and joins the other hand's
    chord at its near edge, within an octave of its far note."""
    if not own or not other:
        return False
    if upward:
        return min(own) < pitch < min(other) and max(other) - pitch <= HAND_SPAN
    return max(own) > pitch > max(other) and pitch - min(other) <= HAND_SPAN


def _slices(start: Fraction, end: Fraction, *staves: list[Note]) -> list[Fraction]:
    """Every time from ``start`` until ``end`` at which what sounds may change."""
    times = {start} | {t for staff in staves for s, e, _ in staff for t in (s, e)
                       if start < t < end}
    return sorted(times)


def _sounding(staff: list[Note], time: Fraction) -> list[int]:
    return [pitch for start, end, pitch in staff if start <= time < end]
