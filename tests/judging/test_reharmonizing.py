"""The reharmonisation measure's parts on hand-made staves, and the 4-gram under a melody."""

from __future__ import annotations

import math
from fractions import Fraction

from grandstaff.judging.reharmonizing import bass_agreement
from grandstaff.music.events import Event
from grandstaff.music.melody import soprano

Q = Fraction(1)


def test_the_soprano_joins_held_tops_and_rests_and_keeps_repeated_notes():
    treble = [Event((), Q), Event((), Q), Event((64, 67), Q), Event((62, 67), Q, (67,)),
              Event((64, 67), Q), Event((60,), 2 * Q)]
    assert soprano(treble) == [(None, 2 * Q), (67, 2 * Q), (67, Q), (60, 2 * Q)]


def test_bass_agreement_counts_strong_beats_where_both_sound():
    bach = [Event((48,), 2 * Q), Event((43,), 2 * Q), Event((48,), 4 * Q)]
    same = [Event((36, 48), 2 * Q), Event((55,), 2 * Q), Event((), 2 * Q), Event((48,), 2 * Q)]
    # beats 0, 2, 4, 6 of 4/4: C = C, G = G, rest (not counted), C = C
    assert bass_agreement(same, bach, "4/4") == 1.0
    other = [Event((45,), 8 * Q)]
    assert bass_agreement(other, bach, "4/4") == 0.0
    assert math.isnan(bass_agreement([Event((), 8 * Q)], bach, "4/4"))


def test_the_4gram_keeps_a_melody_on_top_under_the_same_rules(small_corpus):
    """The baseline's step-by-step loop reads the melody rules as the compiled loop does."""
    from grandstaff.composing.generation import generate_staves
    from grandstaff.composing.harmonizing import melody_kept
    from grandstaff.composing.sampling import TopKSampler
    from grandstaff.models.ngram import ngram_generators
    from grandstaff.music.melody import Melody

    generators = ngram_generators(small_corpus, small_corpus.piece_names())
    notes = [pitch for pitch in (67, 69, 71, 72, 71, 69, 67) if any(
        max(e.pitches, default=0) == pitch for e in small_corpus.events(
            "treble", small_corpus.piece_names()[0]))]
    tune = Melody.of([(pitch, 1) for pitch in notes] + [(None, 1)], key="C major")
    treble = generate_staves(generators["treble"], mode="major", length=4 * tune.bars,
                             pitch_sampler=TopKSampler(10, seed=1),
                             duration_sampler=TopKSampler(5, seed=2), bar=4,
                             melody=tune.ticks(0))[0]
    assert melody_kept(tune, treble) == 1.0
