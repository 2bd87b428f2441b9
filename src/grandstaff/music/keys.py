"""Keys: parsing the usual spellings, key signatures, spelling pitches for a key.

>>> Key.parse("E minor")
Key(tonic='E', mode='minor')
>>> Key.parse("Eb major").sharps, Key.parse("e-").sharps, Key.parse("F# major").sharps
(-3, -6, 6)
>>> str(Key.parse("G# major"))      # eight sharps: written as its enharmonic
'Ab major'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadArgumentError

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_FIFTHS = ["F", "C", "G", "D", "A", "E", "B"]
_PATTERN = re.compile(
    r"^\s*([A-Ga-g])\s*(#|♯|sharp|b|♭|-|flat)?\s*(major|minor|maj|min|m|M)?\s*$"
)
_ENHARMONIC = {"#": "b", "b": "#"}
_SHARP_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_FLAT_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
_PLAIN_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]


@dataclass(frozen=True)
class Key:
    """A major or minor key; ``tonic`` is a letter with an optional ``#`` or ``b``."""

    tonic: str
    mode: str

    @classmethod
    def parse(cls, text: str) -> Key:
        """Read "E minor", "e", "E-", "Eb major", "F# major", "f#m", "Bb"...

        A lone lowercase letter means minor (as in music21), uppercase means major.
        """
        match = _PATTERN.match(str(text))
        if not match:
            raise BadArgumentError(
                f"key {text!r} is not a key name; use a tonic and a mode, "
                "e.g. 'E minor' or 'Bb major'"
            )
        letter, accidental, mode_word = match.groups()
        if mode_word in ("major", "maj", "M"):
            mode = "major"
        elif mode_word in ("minor", "min", "m"):
            mode = "minor"
        else:
            mode = "minor" if letter.islower() else "major"
        accidental = {"♯": "#", "sharp": "#", "♭": "b", "-": "b", "flat": "b"}.get(
            accidental or "", accidental or ""
        )
        key = cls(letter.upper() + accidental, mode)
        if abs(key.sharps) > 7:
            key = key.enharmonic()
        return key

    def __str__(self) -> str:
        return f"{self.tonic} {self.mode}"

    @property
    def pitch_class(self) -> int:
        base = _LETTER_PC[self.tonic[0]]
        return (base + {"#": 1, "b": -1}.get(self.tonic[1:], 0)) % 12

    @property
    def sharps(self) -> int:
        """Sharps (positive) or flats (negative) in the key signature."""
        major_letter_index = _FIFTHS.index(self.tonic[0]) - 1  # C = 0
        count = major_letter_index + 7 * {"#": 1, "b": -1}.get(self.tonic[1:], 0)
        return count - 3 if self.mode == "minor" else count

    def enharmonic(self) -> Key:
        pc = self.pitch_class
        names = _SHARP_NAMES if self.tonic.endswith("b") else _FLAT_NAMES
        return Key(names[pc], self.mode)

    def semitones_from_reference(self) -> int:
        """Semitones from C major (or A minor) up or down to this key, in -6..5."""
        reference = 0 if self.mode == "major" else 9
        shift = (self.pitch_class - reference) % 12
        return shift - 12 if shift >= 6 else shift

    def to_music21(self):
        from music21 import key

        name = self.tonic.replace("b", "-") if len(self.tonic) > 1 else self.tonic
        return key.Key(name if self.mode == "major" else name.lower())

    def diatonic(self) -> dict[int, str]:
        """Pitch class → music21 name of the notes of the scale (and a minor key's leading
        tone): the notes that never need context to be spelled."""
        m21 = self.to_music21()
        scale = list(m21.pitches[:7])
        if self.mode == "minor":
            scale.append(m21.tonic.transpose("-m2"))
        return {p.pitchClass: p.name for p in scale}

    def spelling(self) -> dict[int, str]:
        """Pitch class → pitch name (music21 spelling) for notes written in this key, without
        context: chromatic notes follow the key signature's side (see ``spelling.py`` for the
        spelling by context that scores use)."""
        if self.sharps < 0:
            names = dict(enumerate(_FLAT_NAMES))
        elif self.sharps > 0:
            names = dict(enumerate(_SHARP_NAMES))
        else:
            names = dict(enumerate(_PLAIN_NAMES))
        names = {pc: name.replace("b", "-") if len(name) > 1 and name[1] == "b" else name
                 for pc, name in names.items()}
        names.update(self.diatonic())
        return names
