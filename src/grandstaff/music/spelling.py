"""Spelling pitches by context: a chromatic note is named by where it goes.

Notes of the scale (and the leading tone of a minor key) keep the scale's names. A chromatic
note that rises by a step to the next onset is spelled as the raised scale degree below it
(F♯ between F and G in B♭ major), one that falls as the lowered degree above it (A♭ between A and
G), always relative to the key signature (B♮, not C♭, rising to C in B♭ major). With no step
after it, the step that led to it decides; with neither, the key's side of the circle does.
Double sharps and flats are used only where no single accidental reads the same way.

>>> from grandstaff.music.keys import Key
>>> spell_staff([(65,), (66,), (67,)], Key("Bb", "major"))
[['F'], ['F#'], ['G']]
>>> spell_staff([(69,), (68,), (67,)], Key("Bb", "major"))
[['A'], ['A-'], ['G']]
"""

from __future__ import annotations

from collections.abc import Sequence

from .keys import Key

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ALTER_NAMES = {-2: "--", -1: "-", 0: "", 1: "#", 2: "##"}


def _key_alterations(key: Key) -> dict[str, int]:
    """Each letter's alteration in the key signature (B: -1 in F major)."""
    signature = dict.fromkeys(_LETTERS, 0)
    for pitch in key.to_music21().alteredPitches:
        signature[pitch.step] = int(pitch.alter)
    return signature


def _candidate(pitch_class: int, signature: dict[str, int], relation: int) -> str | None:
    """The name of ``pitch_class`` whose letter is raised (+1) or lowered (-1) from the key."""
    found = []
    for letter, base in _LETTERS.items():
        alter = (pitch_class - base + 6) % 12 - 6
        if abs(alter) <= 2 and alter - signature[letter] == relation:
            found.append((abs(alter), letter + _ALTER_NAMES[alter]))
    return min(found)[1] if found and min(found)[0] <= 1 else None


def _direction(pitch: int, before: Sequence[int], after: Sequence[int]) -> int:
    """+1 if ``pitch`` moves up by a step to ``after`` (or came up from ``before``), -1 down."""
    for neighbours, sign in ((after, 1), (before, -1)):
        up = any(1 <= (n - pitch) * sign <= 2 for n in neighbours)
        down = any(1 <= (pitch - n) * sign <= 2 for n in neighbours)
        if up != down:
            return 1 if up else -1
    return 0


def spell_staff(pitch_sets: Sequence[Sequence[int]], key: Key,
                held: Sequence[Sequence[int]] | None = None) -> list[list[str]]:
    """music21 pitch names (``F#``, ``B-``) for every pitch of every event of one staff.

    A pitch in ``held`` (per event, the pitches held on from the event before) keeps the name
    it had there, so that a tie never joins two spellings.

    >>> spell_staff([(66,), (66, 71)], Key("C", "major"), held=[(), (66,)])
    [['F#'], ['F#', 'B']]
    """
    diatonic = key.diatonic()
    default = key.spelling()
    signature = _key_alterations(key)
    names: list[list[str]] = []
    for index, pitches in enumerate(pitch_sets):
        before = pitch_sets[index - 1] if index else ()
        after = pitch_sets[index + 1] if index + 1 < len(pitch_sets) else ()
        kept = dict(zip(before, names[-1])) if index and held is not None else {}
        holding = set(held[index]) if held is not None else set()
        event = []
        for pitch in pitches:
            pitch_class = pitch % 12
            name = kept.get(pitch) if pitch in holding else None
            name = name or diatonic.get(pitch_class)
            if name is None:
                direction = _direction(pitch, before, after)
                if direction:
                    name = _candidate(pitch_class, signature, direction)
                name = name or default[pitch_class]
            event.append(name)
        names.append(event)
    return names
