"""Generating staves: the LSTM states carried from step to step, one model step per event.

A :class:`ClefGenerator` rebuilds a trained clef model as a one-step model (same layer names,
same weights) and compiles its step with ``jax.jit``. :func:`generate_staves` samples several
candidates in one batch, each until it fills exactly the requested length: durations that would
cross the final barline, or leave a remainder no grid value can fill, are never drawn.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from .backend import keras as _keras
from .errors import BadArgumentError
from .events import Event, canonical, parse_duration, parse_pitches, split_silence, start_token
from .model import ClefModel, build_clef_model
from .sampling import TopKSampler

TICKS_PER_QUARTER = 24  # every grid duration is a whole number of 24ths of a quarter


@lru_cache(maxsize=4096)
def _fillable(ticks: int) -> bool:
    return ticks == 0 or split_silence(Fraction(ticks, TICKS_PER_QUARTER)) is not None


def duration_ticks(vocab) -> np.ndarray:
    """Each duration token's length in 24ths of a quarter (special tokens: too long to fit)."""
    return np.array([int(parse_duration(t) * TICKS_PER_QUARTER) if not t.startswith("<")
                     else 10**9 for t in vocab.tokens])


class ClefGenerator:
    """One step of a clef model: (ids, states) → (probabilities of each head, new states)."""

    def __init__(self, clef_model: ClefModel) -> None:
        import jax

        _keras()
        self.clef = clef_model.clef
        self.vocab = clef_model.vocab
        config = clef_model.config
        step = build_clef_model(config, len(self.vocab.pitch), len(self.vocab.duration), step=True)
        for layer in step.layers:
            if layer.weights:
                layer.set_weights(clef_model.model.get_layer(layer.name).get_weights())
        self.units = config.lstm_units
        self._model = step
        self._trainable = [v.value for v in step.trainable_variables]
        self._non_trainable = [v.value for v in step.non_trainable_variables]

        def run(trainable, non_trainable, inputs):
            outputs, _ = step.stateless_call(trainable, non_trainable, inputs, training=False)
            return outputs

        self._run = jax.jit(run)
        self.duration_ticks = duration_ticks(self.vocab.duration)

    def initial_state(self, batch: int) -> list[np.ndarray]:
        return [np.zeros((batch, units), dtype="float32")
                for units in self.units for _ in range(2)]

    def step(self, pitch_ids: np.ndarray, duration_ids: np.ndarray, state: list):
        """Feed one event per row; return (pitch probs, duration probs, next state)."""
        inputs = [np.asarray(pitch_ids, dtype="int32").reshape(-1, 1),
                  np.asarray(duration_ids, dtype="int32").reshape(-1, 1), *state]
        pitch, duration, *new_state = self._run(self._trainable, self._non_trainable, inputs)
        return np.asarray(pitch)[:, 0], np.asarray(duration)[:, 0], new_state


def generate_staves(
    generator: ClefGenerator, *, mode: str, length: Fraction, candidates: int = 1,
    pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
    primer: list[Event] | None = None,
) -> list[list[Event]]:
    """``candidates`` staves of exactly ``length`` quarters each, in the reference key."""
    if candidates < 1:
        raise BadArgumentError(f"candidates={candidates!r} must be 1 or more")
    vocab = generator.vocab
    target = Fraction(length) * TICKS_PER_QUARTER
    if target.denominator != 1 or target <= 0:
        raise BadArgumentError(f"length {length!r} is not a whole number of 24ths of a quarter")
    remaining = np.full(candidates, int(target))
    token = start_token(mode)
    pitch_ids = np.full(candidates, vocab.pitch.id(token))
    duration_ids = np.full(candidates, vocab.duration.id(token))
    state = generator.initial_state(candidates)
    for event in primer or []:  # condition on the primer; none of it is copied out
        pitch_token, duration_token = event.tokens()
        if pitch_token in vocab.pitch and duration_token in vocab.duration:
            _, _, state = generator.step(pitch_ids, duration_ids, state)
            pitch_ids = np.full(candidates, vocab.pitch.id(pitch_token))
            duration_ids = np.full(candidates, vocab.duration.id(duration_token))
    banned_pitch, banned_duration = vocab.pitch.special_ids(), vocab.duration.special_ids()
    pitches = [parse_pitches(t) if not t.startswith("<") else () for t in vocab.pitch.tokens]
    ticks = generator.duration_ticks
    staves: list[list[Event]] = [[] for _ in range(candidates)]
    for _ in range(int(target) + 1):  # each event takes at least one tick
        active = remaining > 0
        if not active.any():
            break
        pitch_probs, duration_probs, state = generator.step(pitch_ids, duration_ids, state)
        left_after = remaining[:, None] - ticks[None, :]
        allowed = (left_after >= 0) & np.vectorize(_fillable)(np.maximum(left_after, 0))
        pitch_ids = pitch_sampler.sample(pitch_probs, banned_pitch)
        duration_ids = duration_sampler.sample(duration_probs, banned_duration, allowed)
        for row in np.flatnonzero(active):
            if not allowed[row].any():  # nothing in the vocabulary fits: close with rest
                rest = split_silence(Fraction(int(remaining[row]), TICKS_PER_QUARTER)) or []
                staves[row].extend(Event((), part) for part in rest)
                remaining[row] = 0
                continue
            staves[row].append(Event(pitches[pitch_ids[row]],
                                     Fraction(int(ticks[duration_ids[row]]), TICKS_PER_QUARTER)))
            remaining[row] -= ticks[duration_ids[row]]
    return [canonical(staff) for staff in staves]
