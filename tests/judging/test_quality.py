"""Music statistics on hand-made inputs whose answers are known."""

from fractions import Fraction

import numpy as np
import pytest

from grandstaff.judging import quality as q
from grandstaff.music.events import Event

ONE = Fraction(1)


def notes(*pitches, duration=ONE):
    return [Event((p,) if isinstance(p, int) else tuple(p), duration) for p in pitches]


C_MAJOR_SCALE = notes(60, 62, 64, 65, 67, 69, 71, 72)


def test_a_major_scale_has_scale_consistency_one():
    assert q.scale_consistency(C_MAJOR_SCALE) == 1.0
    chromatic = notes(*range(60, 72))
    assert q.scale_consistency(chromatic) == pytest.approx(7 / 12)


def test_pitch_class_entropy_in_bits():
    assert q.pitch_class_entropy(notes(60, 72, 48)) == 0.0
    assert q.pitch_class_entropy(notes(60, 62)) == pytest.approx(1.0)
    assert q.pitch_class_entropy(notes(*range(60, 72))) == pytest.approx(np.log2(12))


def test_a_repeated_note_has_a_run_equal_to_its_length():
    assert q.longest_repeat(notes(60, 60, 60, 60, 60)) == 5
    assert q.longest_repeat(notes(60, 60, 62, 62, 62, 60)) == 3
    # same pitch, other duration: not a repeat of the same event
    assert q.longest_repeat([Event((60,), ONE), Event((60,), Fraction(1, 2))]) == 1


def test_histograms_range_rests_and_chord_sizes():
    events = [Event((60, 64, 67), ONE), Event((), ONE), Event((62,), Fraction(2))]
    assert q.pitch_range(events) == 7
    assert q.rest_ratio(events) == pytest.approx(0.25)
    assert q.chord_size_histogram(events).tolist() == [0.5, 0, 0.5, 0, 0]
    durations = q.duration_histogram(events)
    assert durations[q.DURATION_TOKENS.index("1")] == pytest.approx(2 / 3)


def test_a_piece_compared_with_itself_overlaps_fully():
    histogram = q.pitch_class_histogram(C_MAJOR_SCALE)
    assert q.overlap_histograms(histogram, histogram) == pytest.approx(1.0)
    values = [3.1, 2.5, 2.9, 3.3, 2.2]
    assert q.overlap_values(values, values) == pytest.approx(1.0, abs=1e-3)
    far = [v + 100 for v in values]
    assert q.overlap_values(values, far) < 0.01
    assert q.overlap_histograms([1, 0], [0, 1]) == 0.0


def test_consonance_counts_pairs_on_a_fine_grid():
    treble = notes(64, 65)            # E then F over...
    bass = notes(48, 48)              # ...C: a third (consonant) then a fourth (dissonant)
    assert q.consonance(treble, bass) == pytest.approx(0.5)
    assert q.consonance(notes(67, duration=Fraction(2)), notes(48, 55)) == pytest.approx(1.0)
    assert np.isnan(q.consonance([Event((), ONE)], notes(48)))


def test_longest_copy_finds_the_longest_verbatim_stretch():
    training = [notes(60, 62, 64, 65, 67), notes(72, 71, 69)]
    assert q.longest_copy(notes(50, 62, 64, 65, 51), training) == 3
    assert q.longest_copy(notes(72, 71, 69, 67), training) == 3
    assert q.longest_copy(notes(40, 41), training) == 0
    assert q.longest_copy(training[0], training) == 5
