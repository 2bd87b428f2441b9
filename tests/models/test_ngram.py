"""The n-gram baseline checked by hand on toy sequences."""

import math

import numpy as np
import pytest

from grandstaff.errors import BadArgumentError
from grandstaff.models.ngram import NGramModel


def test_unigram_with_a_fixed_discount_is_hand_computable():
    # Targets of [0, 1, 1, 2] are 1, 1, 2 (the first token is the start token).
    model = NGramModel(order=1, vocab_size=4, discount=0.5).fit([[0, 1, 1, 2]])
    # P(w) = max(c(w) - 0.5, 0) / 3 + 0.5 * 2 / 3 * 1/4
    back_off = 0.5 * 2 / 3 / 4
    expected = np.array([back_off, 1.5 / 3 + back_off, 0.5 / 3 + back_off, back_off])
    assert np.allclose(model.distribution([]), expected)
    assert math.isclose(model.distribution([]).sum(), 1.0)


def test_bigram_interpolates_with_continuation_counts():
    model = NGramModel(order=2, vocab_size=3, discount=0.5).fit([[0, 1, 2, 1, 2]])
    # Bigram targets: (0→1), (1→2), (2→1), (1→2). Continuation counts for unigrams:
    # 1 follows {0, 2}, 2 follows {1}: N1+ = {1: 2, 2: 1}, total 3, two types.
    unigram = np.array([0.0, 1.5 / 3, 0.5 / 3]) + 0.5 * 2 / 3 / 3
    # After 1: c(1, 2) = 2 of 2, one type.
    after_one = np.array([0.0, 0.0, 1.5 / 2]) + 0.5 * 1 / 2 * unigram
    assert np.allclose(model.distribution([1]), after_one)
    # An unseen context backs off to the unigram level entirely.
    model_unseen = NGramModel(order=2, vocab_size=3, discount=0.5).fit([[0, 1]])
    assert np.allclose(model_unseen.distribution([2]), model_unseen.distribution([]))


def test_score_reports_nll_perplexity_and_accuracy():
    model = NGramModel(order=2, vocab_size=3, discount=0.5).fit([[0, 1, 2, 1, 2]])
    scores = model.score([[0, 1, 2]])
    p1 = model.distribution([0])[1]
    p2 = model.distribution([1])[2]
    assert math.isclose(scores["nll"], round(-(math.log(p1) + math.log(p2)) / 2, 4))
    assert math.isclose(scores["perplexity"], round(math.exp(scores["nll"]), 3), rel_tol=1e-3)
    assert scores["accuracy"] == 1.0 and scores["events"] == 2


def test_higher_orders_fit_a_repeating_pattern_better():
    pattern = [0] + [1, 2, 3, 1, 2, 4] * 20
    held = [[0] + [1, 2, 3, 1, 2, 4] * 3]
    nll = [NGramModel(order, 5).fit([pattern]).score(held)["nll"] for order in (1, 2, 3, 4)]
    assert nll[0] > nll[1] > nll[3]


def test_bad_orders_are_refused():
    with pytest.raises(BadArgumentError, match="order 0"):
        NGramModel(0, 5)
