"""Music statistics: how generated pieces compare with the corpus they learned from.

Every measure takes the package's own events (sounding MIDI numbers and durations) and knows
neither keras nor music21 (mode agreement, which needs music21's key analysis, lives in
:mod:`grandstaff.judging`).

>>> from fractions import Fraction
>>> scale = [Event((p,), Fraction(1)) for p in (60, 62, 64, 65, 67, 69, 71, 72)]
>>> scale_consistency(scale)
1.0
>>> longest_repeat([Event((60,), Fraction(1))] * 5)
5
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

import numpy as np

from ..music.events import CONSONANT, DURATION_GRID, Event, format_duration

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)  # natural minor, as MusPy
GRID = Fraction(1, 24)  # the fine time grid of the consonance measure, in quarters
CHORD_SIZES = (1, 2, 3, 4, 5)  # the last bin holds 5 and more
DURATION_TOKENS = tuple(format_duration(d) for d in DURATION_GRID)


def pitch_class_histogram(events: Iterable[Event]) -> np.ndarray:
    """Share of each pitch class among the sounding pitches of all events (12 bins)."""
    counts = np.zeros(12)
    for event in events:
        for pitch in event.pitches:
            counts[pitch % 12] += 1
    return counts / counts.sum() if counts.sum() else counts


def pitch_class_entropy(events: Iterable[Event]) -> float:
    """Entropy in bits of the pitch-class histogram (MusPy's ``pitch_class_entropy``)."""
    histogram = pitch_class_histogram(events)
    nonzero = histogram[histogram > 0]
    return float(-(nonzero * np.log2(nonzero)).sum()) if nonzero.size else 0.0


def scale_consistency(events: Iterable[Event]) -> float:
    """Largest share of pitches inside one major or (natural) minor scale (MusPy's measure)."""
    pitches = [p for event in events for p in event.pitches]
    if not pitches:
        return float("nan")
    best = 0
    for root in range(12):
        for steps in (MAJOR_STEPS, MINOR_STEPS):
            scale = {(root + s) % 12 for s in steps}
            best = max(best, sum(1 for p in pitches if p % 12 in scale))
    return best / len(pitches)


def pitch_range(events: Iterable[Event]) -> int:
    """Highest minus lowest MIDI number (0 with no notes)."""
    pitches = [p for event in events for p in event.pitches]
    return max(pitches) - min(pitches) if pitches else 0


def chord_size_histogram(events: Iterable[Event]) -> np.ndarray:
    """Share of sounding events with 1, 2, 3, 4 and 5+ notes."""
    counts = np.zeros(len(CHORD_SIZES))
    for event in events:
        if event.pitches:
            counts[min(len(event.pitches), CHORD_SIZES[-1]) - 1] += 1
    return counts / counts.sum() if counts.sum() else counts


def duration_histogram(events: Iterable[Event]) -> np.ndarray:
    """Share of events with each grid duration."""
    index = {token: i for i, token in enumerate(DURATION_TOKENS)}
    counts = np.zeros(len(DURATION_TOKENS))
    for event in events:
        position = index.get(format_duration(event.duration))
        if position is not None:
            counts[position] += 1
    return counts / counts.sum() if counts.sum() else counts


def rest_ratio(events: Sequence[Event]) -> float:
    """Share of the staff's time that is rest."""
    total = sum(e.duration for e in events)
    return float(sum(e.duration for e in events if e.is_rest) / total) if total else 0.0


def longest_repeat(events: Sequence[Event]) -> int:
    """Length of the longest run of one event repeated (same pitches and duration)."""
    best = run = 0
    previous = None
    for event in events:
        run = run + 1 if event == previous else 1
        best = max(best, run)
        previous = event
    return best


def restrike_rate(events: Sequence[Event]) -> float:
    """Share of sounding events, after a sounding one, that strike again a pitch that sounded
    in the event before (a held pitch is not struck); ``nan`` with no such event.

    >>> held = [Event((60, 64), Fraction(1)), Event((60, 65), Fraction(1), held=(60,))]
    >>> restrike_rate(held), restrike_rate([Event(e.pitches, e.duration) for e in held])
    (0.0, 1.0)
    """
    struck = total = 0
    for before, event in zip(events, events[1:]):
        if before.pitches and event.pitches:
            total += 1
            struck += bool(set(event.struck) & set(before.pitches))
    return struck / total if total else float("nan")


def _sounding_on_grid(events: Sequence[Event]) -> list[tuple[int, ...]]:
    slots: list[tuple[int, ...]] = []
    for event in events:
        slots.extend([event.pitches] * int(event.duration / GRID))
    return slots


def consonance(treble: Sequence[Event], bass: Sequence[Event]) -> float:
    """Share of simultaneous (treble, bass) pitch pairs a consonant interval apart, sampled on a
    grid of 1/24 quarter; ``nan`` when the hands never sound together."""
    good = total = 0
    for upper, lower in zip(_sounding_on_grid(treble), _sounding_on_grid(bass)):
        for high in upper:
            for low in lower:
                total += 1
                good += abs(high - low) % 12 in CONSONANT
    return good / total if total else float("nan")


class VerbatimIndex:
    """Every stretch of consecutive events of some training sequences, by length, to find the
    longest stretch of a new sequence that appears verbatim in one of them."""

    def __init__(self, training: Sequence[Sequence[Event]]) -> None:
        self.training = [tuple(piece) for piece in training]
        self._windows: dict[int, set[tuple[Event, ...]]] = {}

    def _of_length(self, length: int) -> set[tuple[Event, ...]]:
        if length not in self._windows:
            self._windows[length] = {piece[i:i + length] for piece in self.training
                                     for i in range(len(piece) - length + 1)}
        return self._windows[length]

    def longest(self, events: Sequence[Event]) -> int:
        """Binary search on the length (a stretch found implies every shorter one is)."""
        events = tuple(events)
        low, high = 0, len(events)
        while low < high:
            middle = (low + high + 1) // 2
            known = self._of_length(middle)
            if any(events[i:i + middle] in known for i in range(len(events) - middle + 1)):
                low = middle
            else:
                high = middle - 1
        return low


def longest_copy(events: Sequence[Event], training: Sequence[Sequence[Event]]) -> int:
    """The longest stretch of consecutive events of ``events`` found verbatim in one of the
    ``training`` sequences."""
    return VerbatimIndex(training).longest(events)


def overlap_histograms(p: np.ndarray, q: np.ndarray) -> float:
    """Overlapping area of two discrete distributions: the sum of their minima (1 = same)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(np.minimum(p / p.sum(), q / q.sum()).sum())


def overlap_values(a: Sequence[float], b: Sequence[float]) -> float:
    """Overlapping area of the kernel density estimates of two samples of a per-piece value
    (MGEval's measure, Yang & Lerch 2018); 1 when the samples are the same."""
    from scipy.stats import gaussian_kde

    a = np.asarray([x for x in a if not math.isnan(x)], float)
    b = np.asarray([x for x in b if not math.isnan(x)], float)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0
    span = float(np.ptp(np.concatenate([a, b])))

    def kde(sample: np.ndarray):
        if np.ptp(sample) == 0:  # a constant sample: a narrow bump at its value
            sample = sample + np.random.default_rng(0).normal(0, span * 1e-3, len(sample))
        return gaussian_kde(sample)

    ka, kb = kde(a), kde(b)
    reach = 6 * max(float(np.sqrt(ka.covariance[0, 0])), float(np.sqrt(kb.covariance[0, 0])))
    grid = np.linspace(min(a.min(), b.min()) - reach, max(a.max(), b.max()) + reach, 4000)
    da, db = ka(grid), kb(grid)
    return float(np.trapezoid(np.minimum(da, db), grid))

