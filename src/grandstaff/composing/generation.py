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

import numpy as np

from ..errors import BadArgumentError
from ..models.model import ClefModel
from ..models.stepper import ClefStep
from ..music.events import Event, start_token
from ..music.vocab import TICKS_PER_QUARTER, duration_ticks
from .loop import LoopCache, Staff, compile_loop, decode_staff
from .rules import DURATION, PITCH, Rules, StaffArrays, StepView, default_rules
from .sampling import TopKSampler
from .tables import DurationTable, PitchTable


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


class ClefGenerator:
    """One step of a clef model: (ids, states) → (probabilities of each head, new states)."""

    def __init__(self, model: ClefStep | ClefModel) -> None:
        import jax

        step = model if isinstance(model, ClefStep) else ClefStep.from_model(model)
        self.clef = step.clef
        self.vocab = step.vocab
        self.units = step.config.lstm_units
        self.phrased = step.config.phrased
        self.metrics = step.metrics or {}
        self.apply = step.apply
        self.params = jax.tree.map(on_device, step.params)
        self._run = jax.jit(self.apply)
        self._loops = LoopCache()
        self.duration_ticks = duration_ticks(self.vocab.duration)
        self.table = PitchTable.build(self.vocab.pitch)

    def sample_loop(self, pitch_ids, duration_ids, state, target: int,
                    pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
                    bar: int | None = None):
        """The whole sampling loop, compiled (:func:`~grandstaff.composing.loop.compile_loop`
        with this staff alone, under :func:`~grandstaff.composing.rules.default_rules`).
        Returns (ids of each row's events, each row's unfilled ticks)."""
        batch = len(pitch_ids)
        ks = (min(pitch_sampler.k, len(self.vocab.pitch)),
              min(duration_sampler.k, len(self.vocab.duration)))
        rules = default_rules(coupled=False)
        loop = self._loops.get((ks, target, batch, bar), lambda: compile_loop(
            [self.staff(rules, ks, target, bar)], target=target, bar=bar or target))
        seed = int(pitch_sampler.rng.integers(2**31)), int(duration_sampler.rng.integers(2**31))
        key = key_seed(seed[0] * 2**31 + seed[1])
        temperatures = [(np.float32(pitch_sampler.temperature),
                         np.float32(duration_sampler.temperature))]
        start = (np.asarray(pitch_ids, dtype="int32"), np.asarray(duration_ids, dtype="int32"),
                 np.zeros(batch, dtype="int32"), [np.asarray(x) for x in state])
        costs = [rules.costs(self.table, self.clef, "major", None)]
        ((out_p, out_d, count, left, *_),) = loop([self.params], key, [start], costs,
                                                  temperatures)
        out_p, out_d, count = np.asarray(out_p), np.asarray(out_d), np.asarray(count)
        rows = [list(zip(out_p[r, :count[r]].tolist(), out_d[r, :count[r]].tolist()))
                for r in range(batch)]
        return rows, np.asarray(left)

    def staff(self, rules: Rules, ks: tuple[int, int], target: int, bar: int | None,
              **coupling) -> Staff:
        """This clef as the loop sees it, for pieces of ``target`` ticks (``bar``: the ticks
        of a bar where an opening rest must be shorter than one, else ``None``);
        ``coupling``: for a coupled model, its ``clef``-specific ``mode``, ``partner`` table,
        ``meter``, ``positions`` and ``as_partner`` ids."""
        durations = DurationTable.build(self.vocab.duration, self.duration_ticks, target, bar)
        partner = coupling.pop("partner", None)
        arrays = StaffArrays.build(self.clef, coupling.pop("mode", "major"), self.table,
                                   partner, durations)
        return Staff(self.apply, rules, StaffArrays(*(on_device(a) for a in arrays)), ks,
                     durations.longest, conditioned=bool(coupling),
                     phrased=bool(coupling) and self.phrased, **coupling)

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


def generate_staves(
    generator, *, mode: str, length: Fraction, candidates: int = 1,
    pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
    primer: list[Event] | None = None, bar: Fraction | None = None,
    melody: list[tuple[int | None, int]] | None = None, rules: bool = True,
) -> list[list[Event]]:
    """``candidates`` staves of exactly ``length`` quarters each, in the reference key.

    ``generator`` is a :class:`ClefGenerator` (its whole sampling loop runs compiled) or any
    object with the same ``vocab``, ``duration_ticks``, ``initial_state`` and ``step`` (the
    n-gram baseline), sampled step by step here. ``melody``: (MIDI number or ``None``, ticks)
    pairs this staff keeps as its top voice (the step-by-step loop only: the baseline under
    the constraint a harmonised melody puts on the treble); ``rules=False`` keeps only the
    essential rules there.
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
    if melody is not None and loop is not None:
        raise BadArgumentError("a compiled clef model keeps a melody through "
                               "composing.harmonizing.harmonize")
    if loop is None:
        rows, left = _python_loop(generator, pitch_ids, duration_ids, state, int(target),
                                  pitch_sampler, duration_sampler, bar_ticks, melody, rules)
    else:
        rows, left = loop(pitch_ids, duration_ids, state, int(target),
                          pitch_sampler, duration_sampler, bar_ticks)
    table = getattr(generator, "table", None) or PitchTable.build(vocab.pitch)
    return [decode_staff(table, generator.duration_ticks, events, leftover)
            for events, leftover in zip(rows, left)]


def _python_loop(generator, pitch_ids, duration_ids, state, target: int,
                 pitch_sampler: TopKSampler, duration_sampler: TopKSampler,
                 bar: int | None = None, melody=None, every_rule: bool = True):
    """The step-by-step loop, under the same rules read through NumPy: (ids of each row's
    events, each row's unfilled ticks)."""
    from .loop import guide_arrays

    vocab = generator.vocab
    durations = DurationTable.build(vocab.duration, generator.duration_ticks, target, bar)
    clef = getattr(generator, "clef", "treble")
    arrays = StaffArrays.build(clef, "major", PitchTable.build(vocab.pitch), None, durations)
    rules = default_rules(coupled=False, melody=melody is not None, clef=clef)
    rules = rules if every_rule else rules.essential()
    guide = guide_arrays(melody, target) if melody is not None else None
    rows = len(pitch_ids)
    remaining, elapsed = np.full(rows, target), np.zeros(rows, dtype=int)
    count, sounded = np.zeros(rows, dtype=int), np.zeros(rows, dtype=bool)
    drawn: list[list[tuple[int, int]]] = [[] for _ in range(rows)]
    left = np.zeros(rows, dtype=int)
    for _ in range(target + 1):  # each event takes at least one tick
        active = remaining > 0
        if not active.any():
            break
        pitch_probs, duration_probs, state = generator.step(pitch_ids, duration_ids, state)
        view = StepView.alone(np.asarray(pitch_ids), elapsed, remaining, count, sounded)
        if guide is not None:
            at = np.clip(elapsed, 0, target)
            view = view._replace(melody=guide.note[at], melody_struck=guide.struck[at],
                                 melody_room=guide.room[at],
                                 melody_before=guide.note[np.maximum(at - 1, 0)],
                                 melody_opening=guide.opening[at])
        allowed, penalty, _ = rules.narrow(PITCH, view, arrays, np)
        pitch_ids = pitch_sampler.sample(_penalised(pitch_probs, penalty), allowed=allowed)
        allowed, penalty, _ = rules.narrow(DURATION, view._replace(pitch=pitch_ids), arrays,
                                           np)
        duration_ids = duration_sampler.sample(_penalised(duration_probs, penalty),
                                               allowed=allowed)
        for row in np.flatnonzero(active):
            if not allowed[row].any():
                left[row], remaining[row] = remaining[row], 0
                continue
            drawn[row].append((int(pitch_ids[row]), int(duration_ids[row])))
            ticks = durations.ticks[duration_ids[row]]
            remaining[row] -= ticks
            elapsed[row] += ticks
            count[row] += 1
            sounded[row] |= not arrays.rest[pitch_ids[row]]
    return drawn, left


def _penalised(probs, penalty):
    """``probs`` with ``penalty`` (nats per id, or ``None``) taken off their logarithms, as the
    compiled draw does."""
    if penalty is None:
        return probs
    return np.asarray(probs) * np.exp(-np.asarray(penalty))
