"""N-gram baselines: interpolated Kneser–Ney over one head's token ids.

The highest order uses raw counts, lower orders continuation counts (how many distinct tokens
precede a context), and the unigram level is interpolated with the uniform distribution over the
vocabulary, so every token keeps a non-zero probability. The discount of each order is the
usual estimate ``n1 / (n1 + 2 n2)`` from its count-of-counts (0.75 when that is undefined).

>>> model = NGramModel(order=2, vocab_size=5).fit([[1, 3, 4, 3, 4]])
>>> round(float(model.distribution((3,))[4]), 3) > 0.5
True
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from ..errors import BadArgumentError

_BOS = -1  # left padding of contexts before a sequence's first token


class NGramModel:
    """Interpolated Kneser–Ney language model over integer ids ``0 .. vocab_size - 1``."""

    def __init__(self, order: int, vocab_size: int, discount: float | None = None) -> None:
        if order < 1:
            raise BadArgumentError(f"n-gram order {order!r} must be 1 or more")
        if vocab_size < 1:
            raise BadArgumentError(f"vocab_size {vocab_size!r} must be 1 or more")
        self.order = order
        self.vocab_size = vocab_size
        self.fixed_discount = discount
        self.counts: list[dict[tuple, Counter]] = []
        self.discounts: list[float] = []
        self._cache: dict[tuple, np.ndarray] = {}

    def fit(self, sequences: Sequence[Sequence[int]]) -> NGramModel:
        """Count every target (each token after the first) of every sequence with its history."""
        top: dict[tuple, Counter] = defaultdict(Counter)
        for sequence in sequences:
            padded = [_BOS] * (self.order - 1) + list(sequence)
            for index in range(self.order, len(padded)):
                context = tuple(padded[index - self.order + 1:index])
                top[context][padded[index]] += 1
        levels = [top]
        for _ in range(self.order - 1):  # continuation counts for each lower order
            higher, lower = levels[-1], defaultdict(Counter)
            for context, following in higher.items():
                for token in following:
                    lower[context[1:]][token] += 1
            levels.append(lower)
        self.counts = list(reversed(levels))  # counts[k] has contexts of length k
        self.discounts = [self._discount(level) for level in self.counts]
        self._cache = {}
        return self

    def _discount(self, level: dict[tuple, Counter]) -> float:
        if self.fixed_discount is not None:
            return self.fixed_discount
        of = Counter(n for following in level.values() for n in following.values())
        n1, n2 = of.get(1, 0), of.get(2, 0)
        return n1 / (n1 + 2 * n2) if n1 and n2 else 0.75

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(next token | context) over the whole vocabulary (uses the last order-1 ids)."""
        if not self.counts:
            raise BadArgumentError("fit the n-gram model before asking for probabilities")
        padded = [_BOS] * (self.order - 1) + list(context)
        return self._level(self.order - 1, tuple(padded[len(padded) - self.order + 1:])
                           if self.order > 1 else ())

    def _level(self, k: int, context: tuple) -> np.ndarray:
        key = (k, context)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        lower = (self._level(k - 1, context[1:]) if k > 0
                 else np.full(self.vocab_size, 1.0 / self.vocab_size))
        following = self.counts[k].get(context)
        if not following:
            result = lower
        else:
            total = sum(following.values())
            discount = self.discounts[k]
            result = lower * (discount * len(following) / total)
            for token, count in following.items():
                result[token] += max(count - discount, 0.0) / total
        self._cache[key] = result
        return result

    def score(self, sequences: Sequence[Sequence[int]]) -> dict[str, float]:
        """Negative log-likelihood per target (nats), perplexity and top-1 accuracy."""
        nll, correct, count = 0.0, 0, 0
        for sequence in sequences:
            for index in range(1, len(sequence)):
                probs = self.distribution(sequence[max(0, index - self.order + 1):index])
                token = sequence[index]
                nll -= float(np.log(max(probs[token], 1e-12)))
                correct += int(np.argmax(probs) == token)
                count += 1
        return summarise(nll, correct, count)


def summarise(nll: float, correct: int, count: int) -> dict[str, float]:
    mean = nll / max(count, 1)
    return {"nll": round(mean, 4), "perplexity": round(float(np.exp(mean)), 3),
            "accuracy": round(correct / max(count, 1), 4), "events": count}


class NGramGenerator:
    """The n-gram baseline as a generator: the same ``step`` interface as
    :class:`grandstaff.composing.generation.ClefGenerator`, one n-gram per head over its own
    history."""

    def __init__(self, vocab, train: Sequence[np.ndarray], order: int = 4,
                 clef: str = "treble") -> None:
        from ..music.vocab import duration_ticks

        self.vocab = vocab
        self.clef = clef  # which staff's rules it samples under
        self.models = [NGramModel(order, len(vocab.pitch)).fit([ids[0].tolist() for ids in train]),
                       NGramModel(order, len(vocab.duration)).fit(
                           [ids[1].tolist() for ids in train])]
        self.duration_ticks = duration_ticks(vocab.duration)

    def initial_state(self, batch: int) -> list[list[list[int]]]:
        return [[[], []] for _ in range(batch)]

    def step(self, pitch_ids, duration_ids, state):
        pitch, duration = [], []
        for row, history in enumerate(state):
            history[0].append(int(np.asarray(pitch_ids).reshape(-1)[row]))
            history[1].append(int(np.asarray(duration_ids).reshape(-1)[row]))
            pitch.append(self.models[0].distribution(history[0][-(self.models[0].order - 1):]))
            duration.append(self.models[1].distribution(history[1][-(self.models[1].order - 1):]))
        return np.array(pitch), np.array(duration), state


def ngram_generators(corpus, train: Sequence[str]) -> dict[str, NGramGenerator]:
    """The 4-gram baseline of each clef, fitted on the ``train`` pieces of ``corpus``."""
    from ..music.events import CLEFS
    from .sequences import build_vocab, encode_sequences

    generators = {}
    for clef in CLEFS:
        vocab = build_vocab(corpus, clef)
        generators[clef] = NGramGenerator(
            vocab, encode_sequences(corpus.sequences(clef, train), vocab), clef=clef)
    return generators
