"""What sampling rules know about a pitch vocabulary, as arrays built once per vocabulary.

Every array is worked out from :func:`~grandstaff.music.vocab.pitch_matrices` (which notes
each token sounds and which it holds), never by parsing token strings again, and
:class:`PitchTable` keeps them together, frozen, for the rules of
:mod:`grandstaff.composing.rules` to read.

>>> from grandstaff.music.vocab import Vocabulary
>>> table = PitchTable.build(Vocabulary.build(["rest", "60.64", "60~.67", "43"]))
>>> table.tokens[3:], table.lowest(-1)[3:].tolist(), table.highest(-1)[3:].tolist()
(('rest', '43', '60.64', '60~.67'), [-1, 43, 60, 60], [-1, 43, 64, 67])
>>> table.struck_count(lambda pitch: pitch % 12 == 0)[3:].tolist()  # the held C is not struck
[0, 0, 1, 0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..music.events import CONSONANT, DURATION_GRID, LONGEST, REST, is_special
from ..music.vocab import TICKS_PER_QUARTER, Vocabulary, pitch_matrices

#: The tonic and the triad pitch classes of the reference keys (C major, A minor with C♯ too).
TONIC = {"major": (0, frozenset({0, 4, 7})), "minor": (9, frozenset({9, 0, 1, 4}))}

#: (128, 12) float32: each MIDI number's pitch class, one-hot (notes times it: pitch classes).
OCTAVE_FOLD = np.eye(12, dtype="float32")[np.arange(128) % 12]

#: What a silent token's lowest or highest note counts as where a bound is wanted: below every
#: note (the treble stays above silence) or above every note (the bass stays below it).
SILENT_BELOW, SILENT_ABOVE = -1, 128


@dataclass(frozen=True, eq=False)
class PitchTable:
    """One pitch vocabulary as arrays, one row per token: which MIDI numbers sound (``sounding``)
    and which are held from the event before (``held``), which tokens are special (padding,
    start) and which is the rest."""

    tokens: tuple[str, ...]
    sounding: np.ndarray  # (tokens, 128) booleans
    held: np.ndarray      # (tokens, 128) booleans
    special: np.ndarray   # (tokens,) booleans
    rest: np.ndarray      # (tokens,) booleans

    @classmethod
    def build(cls, vocab: Vocabulary) -> PitchTable:
        sounding, held = pitch_matrices(vocab)
        return cls(tuple(vocab.tokens), sounding, held,
                   np.array([is_special(t) for t in vocab.tokens]),
                   np.array([t == REST for t in vocab.tokens]))

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def struck(self) -> np.ndarray:
        """(tokens, 128): the notes each token strikes (sounds and does not hold)."""
        return self.sounding & ~self.held

    @cached_property
    def classes(self) -> np.ndarray:
        """(tokens, 12) float32: 1 where a token sounds that pitch class (held or struck)."""
        return (self.sounding.astype("float32") @ OCTAVE_FOLD > 0).astype("float32")

    @cached_property
    def struck_classes(self) -> np.ndarray:
        """(tokens, 12) float32: 1 where a token strikes a note of that pitch class."""
        return (self.struck.astype("float32") @ OCTAVE_FOLD > 0).astype("float32")

    @cached_property
    def voices_from_top(self) -> np.ndarray:
        """(tokens, most notes of a token) int32: each token's notes as voices in pitch order
        from the highest down (the treble's soprano first); -1 where a token has fewer."""
        return self._voices(descending=True)

    @cached_property
    def voices_from_bottom(self) -> np.ndarray:
        """As :attr:`voices_from_top`, from the lowest note up (the bass staff's bass first)."""
        return self._voices(descending=False)

    def _voices(self, descending: bool) -> np.ndarray:
        counts = self.sounding.sum(axis=1)
        voices = np.full((len(self), max(1, int(counts.max(initial=0)))), -1, dtype="int32")
        for row in np.flatnonzero(counts):
            notes = np.flatnonzero(self.sounding[row])
            voices[row, :len(notes)] = notes[::-1] if descending else notes
        return voices

    def lowest(self, silent: int) -> np.ndarray:
        """Each token's lowest MIDI number (``silent`` where it sounds nothing)."""
        sounds = self.sounding.any(axis=1)
        return np.where(sounds, self.sounding.argmax(axis=1), silent).astype("int32")

    def highest(self, silent: int) -> np.ndarray:
        """Each token's highest MIDI number (``silent`` where it sounds nothing)."""
        sounds = self.sounding.any(axis=1)
        return np.where(sounds, 127 - self.sounding[:, ::-1].argmax(axis=1),
                        silent).astype("int32")

    def struck_count(self, counts: Callable[[int], bool]) -> np.ndarray:
        """For each token, how many of the notes it strikes ``counts`` (a test of a MIDI
        number)."""
        chosen = np.array([bool(counts(pitch)) for pitch in range(128)])
        return (self.struck & chosen).sum(axis=1).astype("int32")

    def sounding_where(self, fits: Callable[[np.ndarray, np.ndarray], np.ndarray]
                       ) -> np.ndarray:
        """Which tokens sound notes and satisfy ``fits(lowest, classes)`` (arrays over the
        tokens: each one's lowest MIDI number and its (tokens, 12) pitch classes)."""
        sounds = self.sounding.any(axis=1)
        return sounds & fits(self.lowest(SILENT_ABOVE), self.classes > 0)

    def dissonance(self, clef: str) -> np.ndarray:
        """(tokens, 12): how many of each token's pitch classes are dissonant against a partner
        pitch class (:data:`~grandstaff.music.events.CONSONANT` names the rest), counted from
        the bass up; times the partner's pitch classes, the dissonant pairs of a sonority."""
        return self.classes @ dissonant_classes(clef)

    def register_centre(self) -> float:
        """The mean MIDI number of the notes of the vocabulary's tokens: where its staff was
        learned (68, A♭4, for the treble of the Bach chorales)."""
        notes = np.nonzero(self.sounding)[1]
        return float(notes.mean()) if len(notes) else 60.0


def dissonant_classes(clef: str) -> np.ndarray:
    """(12, 12) float32: 1 where a pitch class of ``clef``'s staff is dissonant against one of
    the other staff's, counted from the bass up (a fourth above the bass is dissonant)."""
    up = 1 if clef == "treble" else -1
    return np.array([[(up * (own - other)) % 12 not in CONSONANT for other in range(12)]
                     for own in range(12)], dtype="float32")


def _within(classes: np.ndarray, allowed: frozenset[int]) -> np.ndarray:
    """Which rows of (tokens, 12) pitch-class booleans use only ``allowed`` classes."""
    outside = np.ones(12, dtype=bool)
    outside[list(allowed)] = False
    return ~(classes & outside).any(axis=1)


def closing_tokens(table: PitchTable, clef: str, mode: str) -> np.ndarray:
    """Which pitch tokens may sound in the final span of a cadence: notes of the tonic triad
    only (no rest), at most one third; in the bass with the tonic lowest. In minor the bass
    staff's third is the Picardy third (all 11 held-out 4/4 minor chorales that close on their
    tonic end on it), and the treble chooses between the minor and the Picardy third (`the
    final chord's third` picks which staff sounds it, and which third)."""
    tonic, triad = TONIC[mode]
    thirds = triad - {tonic, (tonic + 7) % 12}
    if clef == "bass":
        bass_notes = triad - {(tonic + 3) % 12}  # no minor third below the treble's choice
        return table.sounding_where(lambda lowest, classes: (
            _within(classes, bass_notes) & (lowest % 12 == tonic)))
    return table.sounding_where(lambda lowest, classes: (
        _within(classes, triad) & (classes[:, sorted(thirds)].sum(axis=1) <= 1)))


def dominant_tokens(table: PitchTable, clef: str, mode: str) -> np.ndarray:
    """Which pitch tokens may sound in the dominant span of a cadence: notes of the dominant
    seventh chord only (no rest); in the bass with the dominant lowest and without the leading
    tone, which the treble must hold (the raised seventh degree in minor): the bass moves
    first, so a leading tone in its tenor was doubled in the final V of 15 of 20 pieces.

    >>> from grandstaff.music.vocab import Vocabulary
    >>> table = PitchTable.build(Vocabulary.build(["67", "71", "67.71", "60", "43", "43.62"]))
    >>> def allowed(clef):
    ...     return [t for t, ok in zip(table.tokens, dominant_tokens(table, clef, "major")) if ok]
    >>> allowed("treble"), allowed("bass")
    (['67.71', '71'], ['43', '43.62', '67'])
    """
    tonic, _ = TONIC[mode]
    dominant, leading = (tonic + 7) % 12, (tonic + 11) % 12
    chord = frozenset({dominant, leading, (dominant + 7) % 12, (dominant + 10) % 12})
    if clef == "bass":
        return table.sounding_where(lambda lowest, classes: (
            _within(classes, chord - {leading}) & (lowest % 12 == dominant)))
    return table.sounding_where(lambda lowest, classes: (
        _within(classes, chord) & classes[:, leading]))


def fillable_table(target: int) -> np.ndarray:
    """``table[t]``: whether ``t`` ticks can be written exactly with grid durations, as
    :func:`~grandstaff.music.events.split_silence` writes a silence: whole notes, then one to
    four grid values (a table built at once, rather than a search per length).

    >>> [int(t) for t in np.flatnonzero(fillable_table(12))]
    [0, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    """
    grid = {int(d * TICKS_PER_QUARTER) for d in DURATION_GRID}
    sums, layer = set(grid), set(grid)
    for _ in range(3):  # sums of two, three and four grid values
        layer = {a + b for a in layer for b in grid if a + b <= target}
        sums |= layer
    table = np.zeros(target + 1, dtype=bool)
    table[0] = True
    table[[t for t in sums if t <= target]] = True
    whole = int(LONGEST * TICKS_PER_QUARTER)
    for t in range(whole, target + 1):  # whole notes first, then the rest
        table[t] |= table[t - whole]
    return table


class DurationTable(NamedTuple):
    """What the bar-filling rule needs to know of a duration vocabulary in one piece."""

    ticks: np.ndarray      # each duration token's ticks, capped at target + 1
    fits: np.ndarray       # fits[t]: t ticks can be filled with grid durations
    usable: np.ndarray     # duration tokens that are real durations
    whole_bar: np.ndarray  # durations of a bar or more (an opening rest may not take them)

    @classmethod
    def build(cls, vocab: Vocabulary, ticks: np.ndarray, target: int,
              bar: int | None) -> DurationTable:
        """``ticks``: each token's length (:func:`~grandstaff.music.vocab.duration_ticks`);
        ``bar``: the ticks of a bar, or ``None`` where an opening rest may be of any length
        (after a primer)."""
        ticks = np.minimum(ticks, target + 1)
        return cls(ticks.astype("int32"), fillable_table(target),
                   np.array([not is_special(t) for t in vocab.tokens]),
                   ticks >= (bar if bar else target + 2))

    @property
    def longest(self) -> int:
        """The most events a staff of the target's length can hold."""
        return (len(self.fits) - 1) // int(self.ticks.min()) + 1
