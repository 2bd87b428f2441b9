"""Generating staves: the LSTM states carried from step to step, one model step per event.

A :class:`ClefGenerator` runs one step of a trained clef model (a
:class:`~grandstaff.models.stepper.ClefStep`: the model's arithmetic in ``jax.numpy``, no keras)
and the whole sampling loop as one compiled ``jax.lax.while_loop``.
:func:`generate_staves` samples several candidates in one batch, each until it fills exactly
the requested length: durations that would cross the final barline, or leave a remainder no
grid value can fill, are never drawn, and neither is a hold of a pitch that does not sound in the
event before. Other generators with the same ``step`` interface (the
n-gram baseline) are sampled by a plain Python loop under the same rules.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np

from ..errors import BadArgumentError
from ..models.model import ClefModel
from ..models.stepper import ClefStep
from ..music.events import (
    DURATION_GRID,
    LONGEST,
    REST,
    Event,
    canonical,
    is_special,
    parse_pitch_token,
    split_silence,
    start_token,
)
from ..music.vocab import TICKS_PER_QUARTER, duration_ticks, holds_allowed, pitch_matrices
from .sampling import TopKSampler


def on_device(array):
    """``array`` as a JAX array, copied to the device without compiling anything.

    (``jnp.asarray`` of a NumPy array outside a trace compiles a small program per shape and
    dtype in JAX 0.10: dozens of them, a third of a second, at every start.)
    """
    import jax

    return jax.device_put(np.asarray(array))


def key_seed(seed: int) -> np.ndarray:
    """``seed`` as the compiled loops take it, to make ``jax.random.key`` inside the trace: its
    low 32 bits, all that ``jax.random.key`` keeps of a Python int without x64, so the draws are
    those of ``jax.random.key(seed)`` (made outside, it would compile a program of its own).

    >>> int(key_seed(2**40 + 7))
    7
    """
    return np.uint32(seed % 2**32)


def draw(key, probs, mask, k: int, temperature: float, penalty=None):
    """One id per row from the ``k`` most probable allowed ids after ``temperature``, inside
    a compiled loop (the JAX twin of :class:`~grandstaff.composing.sampling.TopKSampler`).
    ``penalty`` (per id, in nats) is taken off the log-probabilities before the temperature."""
    import jax
    import jax.numpy as jnp

    log = jnp.log(probs) if penalty is None else jnp.log(probs) - penalty
    logits = jnp.where(mask & (probs > 0), log / temperature, -jnp.inf)
    values, index = jax.lax.top_k(logits, k)
    choice = jax.random.categorical(key, values, axis=-1)
    return jnp.take_along_axis(index, choice[:, None], axis=1)[:, 0]


class ClefGenerator:
    """One step of a clef model: (ids, states) → (probabilities of each head, new states)."""

    def __init__(self, model: ClefStep | ClefModel) -> None:
        import jax

        step = model if isinstance(model, ClefStep) else ClefStep.from_model(model)
        self.clef = step.clef
        self.vocab = step.vocab
        self.units = step.config.lstm_units
        self.apply = step.apply
        self.params = jax.tree.map(on_device, step.params)
        self._run = jax.jit(self.apply)
        self._loops: dict[tuple, object] = {}
        self.duration_ticks = duration_ticks(self.vocab.duration)

    def sample_loop(self, pitch_ids, duration_ids, state, target: int,
                    pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
                    bar: int | None = None):
        """The whole sampling loop as one compiled ``jax.lax.while_loop``: top-k and
        temperature per head, banned special tokens, holds only of pitches that sound in the
        event before, durations that must fit before the final barline. Returns (ids of each
        row's events, each row's unfilled ticks)."""

        batch = len(pitch_ids)
        settings = (pitch_sampler.k, duration_sampler.k, pitch_sampler.temperature,
                    duration_sampler.temperature, target, batch, bar)
        if settings not in self._loops:
            self._loops[settings] = self._compile_loop(*settings)
        seed = int(pitch_sampler.rng.integers(2**31)), int(duration_sampler.rng.integers(2**31))
        key = key_seed(seed[0] * 2**31 + seed[1])
        out_p, out_d, count, left = self._loops[settings](
            self.params, key,
            np.asarray(pitch_ids, dtype="int32"), np.asarray(duration_ids, dtype="int32"),
            [np.asarray(x) for x in state])
        out_p, out_d, count = np.asarray(out_p), np.asarray(out_d), np.asarray(count)
        rows = [list(zip(out_p[r, :count[r]].tolist(), out_d[r, :count[r]].tolist()))
                for r in range(batch)]
        return rows, np.asarray(left)

    def _compile_loop(self, k_pitch, k_duration, t_pitch, t_duration, target, batch, bar):
        import jax
        import jax.numpy as jnp

        apply = self.apply
        tables = BarRules.build(self.vocab, self.duration_ticks, target, bar)
        longest = target // int(tables.ticks.min()) + 1
        rules = BarRules(*(on_device(table) for table in tables))
        ticks = on_device(tables.ticks.astype("int32"))
        pitch_mask = on_device([not is_special(t) for t in self.vocab.pitch.tokens])
        sounding, held = (on_device(m) for m in pitch_matrices(self.vocab.pitch))
        k_pitch = min(k_pitch, len(self.vocab.pitch))
        k_duration = min(k_duration, len(self.vocab.duration))

        def run(params, seed, p, d, state):
            key = jax.random.key(seed)
            def body(carry):
                i, key, p, d, state, remaining, out_p, out_d, count, left = carry
                outputs = apply(params, [p[:, None], d[:, None], *state])
                probs_p, probs_d, state = outputs[0][:, 0], outputs[1][:, 0], list(outputs[2:])
                key, key_p, key_d = jax.random.split(key, 3)
                may_hold = holds_allowed(jnp, sounding, held, p)
                p = draw(key_p, probs_p, pitch_mask[None, :] & may_hold, k_pitch, t_pitch)
                allowed = rules.allowed(jnp, remaining, (i == 0) & rules.is_rest[p])
                d = draw(key_d, probs_d, allowed, k_duration, t_duration)
                active = remaining > 0
                stuck = active & ~allowed.any(axis=1)
                take = active & ~stuck
                rows = jnp.arange(batch)
                out_p = out_p.at[rows, count].set(jnp.where(take, p, out_p[rows, count]))
                out_d = out_d.at[rows, count].set(jnp.where(take, d, out_d[rows, count]))
                left = jnp.where(stuck, remaining, left)
                remaining = jnp.where(take, remaining - ticks[d], jnp.where(stuck, 0, remaining))
                count = count + take.astype("int32")
                return i + 1, key, p, d, state, remaining, out_p, out_d, count, left

            zeros = jnp.zeros((batch, longest), dtype="int32")
            carry = (0, key, p, d, state, jnp.full((batch,), target, dtype="int32"), zeros,
                     zeros, jnp.zeros((batch,), dtype="int32"), jnp.zeros((batch,), "int32"))
            carry = jax.lax.while_loop(
                lambda c: (c[0] < longest) & (c[5] > 0).any(), body, carry)
            return carry[6], carry[7], carry[8], carry[9]

        return jax.jit(run)

    def initial_state(self, batch: int) -> list[np.ndarray]:
        return [np.zeros((batch, units), dtype="float32")
                for units in self.units for _ in range(2)]

    def step(self, pitch_ids: np.ndarray, duration_ids: np.ndarray, state: list,
             conditions: list[np.ndarray] = ()):
        """Feed one event per row (and, to a coupled model, the ids of its inputs for the
        event it predicts); return (pitch probs, duration probs, next state)."""
        inputs = [np.asarray(ids, dtype="int32").reshape(-1, 1)
                  for ids in (pitch_ids, duration_ids, *conditions)]
        pitch, duration, *new_state = self._run(self.params, [*inputs, *state])
        return np.asarray(pitch)[:, 0], np.asarray(duration)[:, 0], new_state


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


class BarRules(NamedTuple):
    """What the bar-filling rules need to know of a vocabulary, as arrays."""

    ticks: np.ndarray        # each duration token's ticks, capped at target + 1
    fits: np.ndarray         # fits[t]: t ticks can be filled with grid durations
    usable: np.ndarray       # duration tokens that are real durations
    whole_bar: np.ndarray    # durations of a bar or more (an opening rest may not take them)
    is_rest: np.ndarray      # pitch tokens that are the rest

    @classmethod
    def build(cls, vocab, ticks: np.ndarray, target: int, bar: int | None) -> BarRules:
        ticks = np.minimum(ticks, target + 1)
        return cls(ticks, fillable_table(target),
                   np.array([not is_special(t) for t in vocab.duration.tokens]),
                   ticks >= (bar if bar else target + 2),
                   np.array([t == REST for t in vocab.pitch.tokens]))

    def allowed(self, xp, remaining, opening_rest, barrier: int = 0):
        """Which durations each row may take next: (rows, durations) booleans.

        A duration must end at or before the final barline, leave a remainder that grid
        durations can fill, be a real duration, and not make an opening rest a whole bar.
        With a ``barrier`` (ticks before the end) no duration may cross it either, and the
        stretch left before it must be fillable too. ``xp`` is numpy or jax.numpy, so the
        compiled and the Python loop share one rule.
        """
        top = len(self.fits) - 1
        after = remaining[:, None] - self.ticks[None, :]
        allowed = ((after >= 0) & self.fits[xp.clip(after, 0, top)] & self.usable[None, :])
        if barrier:
            before = after - barrier
            allowed &= ((remaining[:, None] <= barrier)
                        | ((before >= 0) & self.fits[xp.clip(before, 0, top)]))
        return allowed & ~(opening_rest[:, None] & self.whole_bar[None, :])


def generate_staves(
    generator, *, mode: str, length: Fraction, candidates: int = 1,
    pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
    primer: list[Event] | None = None, bar: Fraction | None = None,
) -> list[list[Event]]:
    """``candidates`` staves of exactly ``length`` quarters each, in the reference key.

    ``generator`` is a :class:`ClefGenerator` (its whole sampling loop runs compiled) or any
    object with the same ``vocab``, ``duration_ticks``, ``initial_state`` and ``step`` (the
    n-gram baseline), sampled step by step here.
    """
    if candidates < 1:
        raise BadArgumentError(f"candidates={candidates!r} must be 1 or more")
    vocab = generator.vocab
    if getattr(vocab, "coupled", False):
        raise BadArgumentError("a coupled clef model writes both staves together: use "
                               "composing.coupled.CoupledGenerator")
    target = Fraction(length) * TICKS_PER_QUARTER
    if target.denominator != 1 or target <= 0:
        raise BadArgumentError(f"length {length!r} is not a whole number of 24ths of a quarter")
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
    # The corpus's pickups are leading rests; a piece may open with one, but not with a whole
    # silent bar. After a primer anything may follow.
    bar_ticks = int(Fraction(bar) * TICKS_PER_QUARTER) if bar and not primer else None
    loop = getattr(generator, "sample_loop", None)
    if loop is None:
        rows, left = _python_loop(generator, pitch_ids, duration_ids, state, int(target),
                                  pitch_sampler, duration_sampler, bar_ticks)
    else:
        rows, left = loop(pitch_ids, duration_ids, state, int(target),
                          pitch_sampler, duration_sampler, bar_ticks)
    pitches = [((), ()) if is_special(t) else parse_pitch_token(t) for t in vocab.pitch.tokens]
    ticks = generator.duration_ticks
    staves = []
    for events, leftover in zip(rows, left):
        staff = [Event(pitches[p][0], Fraction(int(ticks[d]), TICKS_PER_QUARTER), pitches[p][1])
                 for p, d in events]
        if leftover:  # nothing in the vocabulary fitted the last gap: close with rest
            rest = split_silence(Fraction(int(leftover), TICKS_PER_QUARTER)) or []
            staff.extend(Event((), part) for part in rest)
        staves.append(canonical(staff))
    return staves


def _python_loop(generator, pitch_ids, duration_ids, state, target: int,
                 pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
                 bar: int | None = None):
    """The step-by-step loop: (ids of each row's events, each row's unfilled ticks)."""
    vocab = generator.vocab
    banned_pitch = vocab.pitch.special_ids()
    rules = BarRules.build(vocab, generator.duration_ticks, target, bar)  # bans special durations
    ticks = rules.ticks
    sounding, held = pitch_matrices(vocab.pitch)
    remaining = np.full(len(pitch_ids), target)
    rows: list[list[tuple[int, int]]] = [[] for _ in range(len(pitch_ids))]
    left = np.zeros(len(pitch_ids), dtype=int)
    for step in range(target + 1):  # each event takes at least one tick
        active = remaining > 0
        if not active.any():
            break
        pitch_probs, duration_probs, state = generator.step(pitch_ids, duration_ids, state)
        pitch_ids = pitch_sampler.sample(
            pitch_probs, banned_pitch, allowed=holds_allowed(np, sounding, held, pitch_ids))
        allowed = rules.allowed(np, remaining, (step == 0) & rules.is_rest[pitch_ids])
        duration_ids = duration_sampler.sample(duration_probs, allowed=allowed)
        for row in np.flatnonzero(active):
            if not allowed[row].any():
                left[row], remaining[row] = remaining[row], 0
                continue
            rows[row].append((int(pitch_ids[row]), int(duration_ids[row])))
            remaining[row] -= ticks[duration_ids[row]]
    return rows, left
