"""The top-k sampler on hand-made distributions."""

import numpy as np
import pytest

from grandstaff.composing.sampling import TopKSampler
from grandstaff.errors import BadArgumentError


def test_top_k_renormalises_over_the_k_most_probable():
    dist = TopKSampler(k=2).filtered(np.array([0.1, 0.5, 0.3, 0.1]))
    assert np.allclose(dist, [[0, 0.625, 0.375, 0]])


def test_k_above_the_vocabulary_is_clipped_and_temperature_flattens():
    probs = np.array([0.7, 0.2, 0.1])
    assert np.allclose(TopKSampler(k=50).filtered(probs), [probs])
    hot = TopKSampler(k=50, temperature=2.0).filtered(probs)[0]
    assert hot[0] < 0.7 and hot[2] > 0.1 and np.isclose(hot.sum(), 1.0)


def test_banned_and_disallowed_ids_are_never_drawn():
    sampler = TopKSampler(k=3, seed=0)
    probs = np.tile([0.6, 0.2, 0.1, 0.1], (2000, 1))
    allowed = np.ones_like(probs, dtype=bool)
    allowed[:, 3] = False
    drawn = sampler.sample(probs, banned=[0], allowed=allowed)
    assert set(drawn.tolist()) == {1, 2}
    share = (drawn == 1).mean()
    assert 0.6 < share < 0.73  # 2/3 expected


def test_a_row_with_nothing_probable_falls_back_to_the_best_allowed_id():
    dist = TopKSampler(k=1).filtered(np.array([[0.9, 0.0, 0.1]]),
                                     allowed=np.array([[False, True, False]]))
    assert dist.tolist() == [[0.0, 1.0, 0.0]]


def test_the_same_seed_draws_the_same_ids():
    probs = np.random.default_rng(1).dirichlet(np.ones(30), size=50)
    assert (TopKSampler(5, seed=7).sample(probs) == TopKSampler(5, seed=7).sample(probs)).all()


@pytest.mark.parametrize("k,temperature", [(0, 1.0), (-3, 1.0), (2, 0.0), (2, -1.0),
                                           (2, float("nan"))])
def test_bad_settings_are_refused(k, temperature):
    with pytest.raises(BadArgumentError):
        TopKSampler(k, temperature)


@pytest.mark.parametrize("temperature", [0.05, 1.0, 5.0])
def test_the_right_hand_durations_are_drawn_cooler_than_asked(temperature):
    """The duration heads take their share of the temperature asked for (the right hand's
    0.8: at the full temperature the shipped models moved it more often than Bach); the
    pitch heads take it whole, and every sampler has a stream of its own."""
    from grandstaff.composing.sampling import DURATION_TEMPERATURE, staff_samplers

    samplers = staff_samplers(("treble", "bass"), 10, 5, temperature, seed=3)
    assert DURATION_TEMPERATURE["treble"] < 1.0
    for clef, (pitch, duration) in samplers.items():
        assert (pitch.k, duration.k) == (10, 5)
        assert pitch.temperature == temperature
        assert duration.temperature == pytest.approx(temperature * DURATION_TEMPERATURE[clef])
    draws = [sampler.rng.random() for pair in samplers.values() for sampler in pair]
    assert len(set(draws)) == 4
    again = staff_samplers(("treble", "bass"), 10, 5, temperature, seed=3)
    assert [s.rng.random() for pair in again.values() for s in pair] == draws
