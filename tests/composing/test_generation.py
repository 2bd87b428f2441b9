"""The bar-filling rules hold for both loops: the compiled one of the clef models and the
step-by-step one the n-gram baseline uses."""

from fractions import Fraction

import numpy as np
import pytest

from grandstaff.composing.generation import ClefGenerator, generate_staves
from grandstaff.composing.sampling import TopKSampler
from grandstaff.composing.tables import fillable_table
from grandstaff.models.model import load_models
from grandstaff.models.ngram import NGramGenerator
from grandstaff.models.sequences import build_vocab, encode_sequences
from grandstaff.music.events import CLEFS, bar_length, split_silence, total_duration


@pytest.fixture(scope="module")
def generators(tiny_independent_models, small_corpus):
    models = load_models(str(tiny_independent_models))
    found = {}
    for clef in CLEFS:
        vocab = build_vocab(small_corpus, clef)
        found[("ngram", clef)] = NGramGenerator(
            vocab, encode_sequences(small_corpus.sequences(clef), vocab), clef=clef)
        found[("model", clef)] = ClefGenerator(models[clef])
    return found


@pytest.mark.parametrize("kind", ["model", "ngram"])
@pytest.mark.parametrize("time_signature,bars", [("4/4", 2), ("3/4", 3), ("6/8", 2),
                                                 ("2/4", 4)])
def test_every_staff_fills_whole_bars_and_never_opens_with_a_silent_bar(
        generators, kind, time_signature, bars):
    bar = bar_length(time_signature)
    rng = np.random.default_rng(7)
    for clef in CLEFS:
        staves = generate_staves(
            generators[(kind, clef)], mode="minor", length=bars * bar, candidates=6, bar=bar,
            pitch_sampler=TopKSampler(20, temperature=1.5, seed=rng.spawn(1)[0]),
            duration_sampler=TopKSampler(8, temperature=1.5, seed=rng.spawn(1)[0]))
        assert len(staves) == 6
        for staff in staves:
            assert total_duration(staff) == bars * bar
            assert staff[0].pitches or staff[0].duration < bar
            assert all(event.duration > 0 for event in staff)


def test_both_loops_refuse_a_length_off_the_grid(generators):
    for kind in ("model", "ngram"):
        with pytest.raises(Exception, match="24ths of a quarter"):
            generate_staves(generators[(kind, "treble")], mode="major",
                            length=Fraction(1, 25), pitch_sampler=TopKSampler(5, seed=0),
                            duration_sampler=TopKSampler(5, seed=0))


@pytest.mark.parametrize("kind", ["model", "ngram"])
def test_a_hold_is_drawn_only_for_a_pitch_that_sounds_in_the_event_before(generators, kind):
    """Hot sampling over the whole vocabulary draws many hold tokens; each must hold only
    pitches of the event before (checked on the raw draws, before any clean-up)."""
    from grandstaff.composing.generation import _python_loop
    from grandstaff.music.events import parse_pitch_token, start_token

    generator = generators[(kind, "treble")]
    vocab = generator.vocab
    assert any("~" in t for t in vocab.pitch.tokens)
    rows = 8
    start = [np.full(rows, head.id(start_token("major"))) for head in (vocab.pitch,
                                                                        vocab.duration)]
    samplers = (TopKSampler(len(vocab.pitch), temperature=3.0, seed=1),
                TopKSampler(len(vocab.duration), temperature=3.0, seed=2))
    loop = getattr(generator, "sample_loop", None) or (
        lambda *args: _python_loop(generator, *args))
    drawn, _ = loop(*start, generator.initial_state(rows), 16 * 24, *samplers, None)
    holds = 0
    for row in drawn:
        before: tuple[int, ...] = ()
        for pitch_id, _ in row:
            pitches, held = parse_pitch_token(vocab.pitch.tokens[pitch_id])
            assert set(held) <= set(before), (vocab.pitch.tokens[pitch_id], before)
            holds += bool(held)
            before = pitches
    assert holds > 0


def test_the_fillable_table_agrees_with_how_a_silence_is_split():
    """The table the loops read is built at once; a silence is split by a search per length.
    Both must say the same of every length up to 40 bars of 4/4 (ticks of 1/24 quarter)."""
    table = fillable_table(40 * 96)
    searched = [t == 0 or split_silence(Fraction(t, 24)) is not None for t in range(len(table))]
    assert table.tolist() == searched
    assert not table[1] and not table[2] and table[3]  # a 32nd is the shortest value
