"""Top-k / temperature sampling on probability arrays. Knows neither keras nor music21.

The sampler never sees a model: it takes probabilities and owns its random generator.

>>> sampler = TopKSampler(k=2, seed=0)
>>> probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
>>> sampler.sample(probs, banned=[0]).tolist()  # id 0 is never drawn; row 2 only has id 2 left
[1, 2]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import BadArgumentError


class TopKSampler:
    """Draw ids from the ``k`` most probable, renormalised, after a temperature.

    ``k`` above the vocabulary size is clipped; ``k < 1`` or a temperature ≤ 0 is refused.
    """

    def __init__(self, k: int, temperature: float = 1.0,
                 seed: int | np.random.Generator | None = None) -> None:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise BadArgumentError(f"top-k {k!r} must be a whole number, 1 or more")
        if not temperature > 0 or not np.isfinite(temperature):
            raise BadArgumentError(f"temperature {temperature!r} must be a number above 0")
        self.k = int(k)
        self.temperature = float(temperature)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def filtered(self, probs: np.ndarray, banned: Sequence[int] = (),
                 allowed: np.ndarray | None = None) -> np.ndarray:
        """The distributions actually sampled from: banned ids removed, temperature, top k.

        ``allowed`` (same shape as ``probs``, booleans) removes ids per row too. A row with
        nothing left keeps the most probable allowed id (or, with none, id of maximum ``probs``).
        """
        probs = np.asarray(probs, dtype="float64")
        if probs.ndim == 1:
            probs = probs[None, :]
        mask = np.ones_like(probs, dtype=bool)
        if len(banned):
            mask[:, list(banned)] = False
        if allowed is not None:
            mask &= np.asarray(allowed, dtype=bool)
        probs = np.where(mask & np.isfinite(probs), np.clip(probs, 0.0, None), 0.0)
        with np.errstate(divide="ignore"):
            logits = np.where(probs > 0, np.log(probs) / self.temperature, -np.inf)
        k = min(self.k, probs.shape[-1])
        kth = -np.sort(-logits, axis=-1)[:, k - 1:k]
        logits = np.where(logits >= kth, logits, -np.inf)
        peak = logits.max(axis=-1, keepdims=True)
        empty = ~np.isfinite(peak[:, 0])
        weights = np.exp(np.where(np.isfinite(logits), logits - np.where(empty[:, None], 0, peak),
                                  -np.inf))
        if empty.any():  # nothing allowed is probable: fall back to the best allowed id
            for row in np.flatnonzero(empty):
                candidates = np.flatnonzero(mask[row]) if mask[row].any() else np.arange(
                    probs.shape[-1])
                weights[row] = 0.0
                weights[row, candidates[np.argmax(probs[row, candidates])]] = 1.0
        return weights / weights.sum(axis=-1, keepdims=True)

    def sample(self, probs: np.ndarray, banned: Sequence[int] = (),
               allowed: np.ndarray | None = None) -> np.ndarray:
        """One id per row of ``probs``."""
        dist = self.filtered(probs, banned, allowed)
        cumulative = np.cumsum(dist, axis=-1)
        draws = self.rng.random((dist.shape[0], 1)) * cumulative[:, -1:]
        return np.minimum((cumulative <= draws).sum(axis=-1), dist.shape[-1] - 1)


#: Each clef's duration head samples at this share of the temperature asked for. At the
#: asked temperature the shipped models' right hand moved more often than Bach's (first 8
#: bars of 100 pieces: 5.04 events per bar against 4.55, eighths 51 % of its notes against
#: 43 %), which a classifier told the pieces from held-out chorales by first; at 0.8 of it,
#: 4.80 events per bar and 48 % eighths (see the CHANGELOG). The bass samples as asked.
DURATION_TEMPERATURE = {"treble": 0.8, "bass": 1.0}


def staff_samplers(clefs: Sequence[str], top_k_pitch: int, top_k_duration: int,
                   temperature: float, seed: int) -> dict[str, tuple[TopKSampler, TopKSampler]]:
    """A (pitch, duration) sampler pair per clef, each with its own random stream from
    ``seed``; the duration heads at :data:`DURATION_TEMPERATURE` of ``temperature``.

    >>> pitch, duration = staff_samplers(["treble", "bass"], 10, 5, 1.0, seed=0)["treble"]
    >>> pitch.temperature, duration.temperature
    (1.0, 0.8)
    """
    streams = np.random.default_rng(seed).spawn(2 * len(clefs))
    return {clef: (TopKSampler(top_k_pitch, temperature, streams[2 * index]),
                   TopKSampler(top_k_duration,
                               temperature * DURATION_TEMPERATURE.get(clef, 1.0),
                               streams[2 * index + 1]))
            for index, clef in enumerate(clefs)}


def draw(key, probs, mask, k: int, temperature, penalty=None):
    """One id per row from the ``k`` most probable allowed ids after ``temperature``, inside
    a compiled loop (the JAX twin of :class:`TopKSampler`). ``penalty`` (per id, in nats) is
    taken off the log-probabilities before the temperature, which may be a traced value.

    A row whose allowed ids all have probability 0 draws among its allowed ids evenly, as
    :meth:`TopKSampler.filtered` keeps an allowed id, rather than an id the mask forbids.

    >>> import jax
    >>> probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.5, 0.0]], dtype="float32")
    >>> mask = np.array([[False, True, True], [False, False, True]])
    >>> draw(jax.random.key(0), probs, mask, 1, 1.0).tolist()  # row 2: only id 2, though 0
    [1, 2]
    """
    import jax
    import jax.numpy as jnp

    log = jnp.log(probs) if penalty is None else jnp.log(probs) - penalty
    usable = mask & (probs > 0)
    logits = jnp.where(usable, log / temperature, -jnp.inf)
    logits = jnp.where(~usable.any(axis=1, keepdims=True) & mask, 0.0, logits)
    values, index = jax.lax.top_k(logits, k)
    choice = jax.random.categorical(key, values, axis=-1)
    return jnp.take_along_axis(index, choice[:, None], axis=1)[:, 0]
