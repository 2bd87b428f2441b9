"""Spelling pitches by context: a chromatic note is named by where it goes.

Notes of the scale (and the leading tone of a minor key) keep the scale's names. A chromatic
note that moves by a step (a semitone or a tone) to the next onset is a second away from it, so
it takes the letter next to that note's: below it when it rises (F♯ between F and G in B♭
major, C♯ rising to D), above it when it falls (A♭ between A and G; C♯ falling a tone to B in
E minor, not D♭). With no step after it, a note that came down a step is a second below the
note it left (A to G♯). Else, or where that letter would need a double accidental, a
chromatic note rising is the raised degree below and one falling the lowered degree above,
relative to the key signature (B♮, not C♭, rising from B♭); with no step either side, the
key's side of the circle decides. On the first 60 chorales music21 ships, read voice by
voice, this names 99.87 % of the notes as Bach did (15,498 of 15,518; 700 of 720 chromatic
ones), against 98.78 % (530 of 720) for the raised-below / lowered-above rule alone.

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


def _by_step(pitch: int, before: Sequence[int], after: Sequence[int],
             named: dict[int, str]) -> str | None:
    """The name of a chromatic ``pitch`` a second from the note it steps to (or, with none,
    from the note above it that it came down from): the letter next to that note's, with a
    single accidental, or ``None``."""
    steps = [n for n in after if 1 <= abs(n - pitch) <= 2]
    if not steps:  # came down by a step: a second below that note (A to G sharp)
        steps = [n for n in before if 1 <= n - pitch <= 2]
    if not steps or len({n > pitch for n in steps}) > 1:
        return None
    neighbour = min(steps, key=lambda n: abs(n - pitch))
    letters = list(_LETTERS)
    # a second from it: the letter below the neighbour's when it lies above, else above
    offset = -1 if neighbour > pitch else 1
    chosen = letters[(letters.index(named[neighbour % 12][0]) + offset) % 7]
    alter = (pitch % 12 - _LETTERS[chosen] + 6) % 12 - 6
    return chosen + _ALTER_NAMES[alter] if abs(alter) <= 1 else None


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
                name = _by_step(pitch, before, after, {**default, **diatonic})
            if name is None:
                direction = _direction(pitch, before, after)
                if direction:
                    name = _candidate(pitch_class, signature, direction)
                name = name or default[pitch_class]
            event.append(name)
        names.append(event)
    return names
