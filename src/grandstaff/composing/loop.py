"""The one sampling loop: one or two staves stepped event by event in a compiled
``jax.lax.while_loop`` (the shape of keras-hub's samplers: the loop kept apart from the token
choice, the model step passed in; every state field named, as in flax's lm1b sampler).

With two staves each row advances, at every step, the staff whose next onset comes first
(:data:`~grandstaff.models.conditioning.ORDER` breaks ties), and each staff's model hears the
other's newest event; with one staff every unfinished row advances. Each step asks the
:class:`~grandstaff.composing.rules.Rules` of its staff which tokens it may draw and what each
costs (see :mod:`grandstaff.composing.rules`), then draws with
:func:`~grandstaff.composing.sampling.draw`. Top-k is part of the compiled program; the
temperatures are traced, so a new temperature reuses it, and :class:`LoopCache` keeps only
the few programs used last.

:func:`step` runs one step without ``jit`` too, which is how a rule is debugged.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from ..models.conditioning import COUNTDOWN_CAP, ORDER, phrase_id
from ..music.events import Event, canonical, split_silence
from ..music.vocab import TICKS_PER_QUARTER
from .rules import DURATION, PITCH, Rules, StaffArrays, StepView
from .sampling import draw
from .tables import PitchTable


@dataclass(frozen=True, eq=False)
class Staff:
    """What the loop knows of one staff: its model step, its rules and their arrays (on the
    device), top-k per head, and, for a coupled model, the meter and metric-position ids it
    reads beside each event (``conditioned``), and whether it hears the phrase plan
    (``phrased``)."""

    apply: Callable
    rules: Rules
    arrays: StaffArrays
    k: tuple[int, int]
    longest: int                 # the most events the staff can hold
    conditioned: bool = False
    meter: int = 0
    positions: Any = None        # (ticks of a bar,) metric position ids
    as_partner: Any = None       # own pitch ids as the other staff's partner ids
    phrased: bool = False
    beat: int = TICKS_PER_QUARTER  # ticks of the meter's beat (the phrase input counts them)


class Fed(NamedTuple):
    """The inputs each draw read beside its own last event, one column per event."""

    partner: Any
    position: Any
    countdown: Any
    phrase: Any


class Lane(NamedTuple):
    """One staff's sampling state, one value (or row) per row of the batch."""

    pitch: Any          # the last pitch id
    duration: Any       # the last duration id
    state: list         # the LSTM states
    elapsed: Any        # ticks written
    remaining: Any      # ticks left
    out_pitch: Any      # (rows, longest) pitch ids drawn
    out_duration: Any   # (rows, longest) duration ids drawn
    count: Any          # events drawn
    left: Any           # ticks that nothing fitted (closed with rests)
    fed: Fed
    sounded: Any        # whether a note has sounded
    emptied: Any        # bitmask of pitch bans skipped because they left nothing


class Partner(NamedTuple):
    """What one staff hears of the other at a step."""

    heard: Any          # the other staff's newest pitch token, as a partner id
    before: Any         # the one before it
    onset: Any          # where the other staff's newest event began
    end: Any            # where it ends


class Guide(NamedTuple):
    """A given melody as the loop reads it (see :func:`guide_arrays`): one value per tick of
    the piece, and one past its end."""

    note: Any      # the melody's note sounding at each tick (MELODY_REST, MELODY_FREE)
    struck: Any    # whether a melody note starts at the tick
    room: Any      # ticks from the tick to the melody's next onset
    opening: Any   # whether the melody's first note is still to come (a pickup's lead)


def guide_arrays(notes: Sequence[tuple[int | None, int]], target: int) -> Guide:
    """The :class:`Guide` of a melody given as (MIDI number, ``None`` for a rest or
    ``MELODY_FREE`` for a stretch the staff writes freely, ticks) pairs that fill ``target``
    ticks exactly. Guides of several rows stack into (rows, ticks) arrays
    (:func:`stack_guides`): each row of a batch may keep a melody of its own.

    >>> guide = guide_arrays([(None, 1), (60, 2), (None, 1), (62, 1)], 5)
    >>> guide.note.tolist(), guide.struck.tolist(), guide.room.tolist()
    ([-1, 60, 60, -1, 62, -2], [False, True, False, False, True, False], [1, 2, 1, 1, 1, 1])
    >>> guide.opening.tolist()
    [True, False, False, False, False, False]
    >>> from grandstaff.composing.rules import MELODY_FREE
    >>> guide_arrays([(None, 1), (MELODY_FREE, 2), (62, 1)], 4).opening.tolist()
    [True, False, False, False, False]
    """
    from .rules import MELODY_FREE, MELODY_REST

    note = np.full(target + 1, MELODY_FREE, dtype="int32")
    struck = np.zeros(target + 1, dtype=bool)
    room = np.ones(target + 1, dtype="int32")
    at = 0
    for pitch, ticks in notes:
        note[at:at + ticks] = MELODY_REST if pitch is None else pitch
        struck[at] = pitch is not None and pitch >= 0
        room[at:at + ticks] = np.arange(ticks, 0, -1)
        at += ticks
    if at != target:
        raise ValueError(f"the melody fills {at} ticks, not {target}")
    # the lead ends where the melody first strikes or leaves the staff free (a form's first
    # phrase that is not restated: the bass enters at once)
    entered = struck | (note == MELODY_FREE)
    entered[target] = False
    begins = int(np.argmax(entered)) if entered[:target].any() else target
    opening = np.arange(target + 1) < begins
    return Guide(note, struck, room, opening)


def stack_guides(guides: Sequence[Guide]) -> Guide:
    """One :class:`Guide` of (rows, ticks) arrays from one guide per row."""
    return Guide(*(np.stack(column) for column in zip(*guides)))


class Pair(NamedTuple):
    """The carry of the loop: the step, the random key, the lanes and what each hears."""

    step: Any
    key: Any
    lanes: tuple
    heard: tuple
    before: tuple
    onsets: tuple


def step(staff: Staff, params, keys, lane: Lane, partner: Partner, chosen, costs,
         temperatures, *, bar: int, bars: int, check: bool = False,
         guide: Guide | None = None, plan=None, floor=None) -> Lane:
    """One event for the rows that are ``chosen``: the model step, the rules of each head,
    the draws, the bookkeeping. Runs compiled inside the loop, or eagerly (with ``check``, a
    ban that empties a row raises :class:`~grandstaff.composing.rules.RuleEmptiedError`).
    ``guide``: a melody this staff's top voice keeps (read by the melody rules); ``plan``:
    for every tick of the piece and one past its end, the ticks to the next phrase end (see
    :func:`~grandstaff.models.conditioning.phrase_ahead`; ``None``: unknown throughout),
    which a staff that hears phrases reads as its phrase id and the phrase rules read as
    it is. ``floor``: the lowest note this staff may strike, in the reference key (read by
    the register rules; ``None``: any)."""
    import jax.numpy as jnp

    rows = lane.remaining.shape[0]
    position = staff.positions[lane.elapsed % bar] if staff.conditioned else lane.elapsed
    countdown = jnp.clip(bars - 1 - lane.elapsed // bar, 0, COUNTDOWN_CAP) + 1
    ahead = (jnp.full((rows,), -1, "int32") if plan is None
             else plan[jnp.clip(lane.elapsed, 0, plan.shape[-1] - 1)])
    phrase = phrase_id(ahead, staff.beat, jnp)
    inputs = [lane.pitch, lane.duration]
    if staff.conditioned:
        inputs += [partner.heard, jnp.full((rows,), staff.meter), position, countdown]
        if staff.phrased:
            inputs.append(phrase)
    outputs = staff.apply(params, [*(x[:, None].astype("int32") for x in inputs), *lane.state])
    earlier = jnp.where(lane.count >= 2, lane.out_pitch[jnp.arange(rows),
                                                      jnp.maximum(lane.count - 2, 0)], -1)
    previous_onset = jnp.where(lane.count >= 1,
                               lane.elapsed - staff.arrays.ticks[lane.duration], -1)
    view = StepView(lane.pitch, lane.pitch, partner.heard, partner.before, partner.onset,
                    partner.end, lane.elapsed, lane.remaining, lane.count, lane.sounded,
                    phrase_ahead=ahead, earlier=earlier, floor=floor,
                    previous_onset=previous_onset)
    if guide is not None:
        at = jnp.clip(lane.elapsed, 0, guide.note.shape[-1] - 1)
        if guide.note.ndim == 1:  # one melody for every row
            def pick(values, ticks):
                return values[ticks]
        else:  # a melody per row
            def pick(values, ticks):
                return values[jnp.arange(rows), ticks]
        view = view._replace(melody=pick(guide.note, at), melody_struck=pick(guide.struck, at),
                             melody_room=pick(guide.room, at),
                             melody_before=pick(guide.note, jnp.maximum(at - 1, 0)),
                             melody_opening=pick(guide.opening, at))
    allowed, penalty, emptied = staff.rules.narrow(PITCH, view, staff.arrays, jnp,
                                                   penalty=costs, check=check)
    new_p = draw(keys[0], outputs[0][:, 0], allowed, staff.k[0], temperatures[0], penalty)
    allowed, penalty, _ = staff.rules.narrow(DURATION, view._replace(pitch=new_p),
                                             staff.arrays, jnp, check=check)
    new_d = draw(keys[1], outputs[1][:, 0], allowed, staff.k[1], temperatures[1], penalty)
    stuck = chosen & ~allowed.any(axis=1)
    take = chosen & ~stuck
    return _record(staff, lane, take, stuck, new_p, new_d, list(outputs[2:]),
                   Fed(partner.heard, position, countdown, phrase), emptied)


def _record(staff: Staff, lane: Lane, take, stuck, new_p, new_d, state, fed: Fed,
            emptied) -> Lane:
    """``lane`` after the rows that ``take`` their draws have written them."""
    import jax.numpy as jnp

    rows = jnp.arange(lane.remaining.shape[0])
    at = lane.count

    def put(record, value):
        return record.at[rows, at].set(jnp.where(take, value, record[rows, at]))

    ticks = jnp.where(take, staff.arrays.ticks[new_d], 0)
    return Lane(
        pitch=jnp.where(take, new_p, lane.pitch), duration=jnp.where(take, new_d, lane.duration),
        state=[jnp.where(take[:, None], new, old) for new, old in zip(state, lane.state)],
        elapsed=lane.elapsed + ticks, remaining=jnp.where(stuck, 0, lane.remaining - ticks),
        out_pitch=put(lane.out_pitch, new_p), out_duration=put(lane.out_duration, new_d),
        count=lane.count + take.astype("int32"), left=jnp.where(stuck, lane.remaining, lane.left),
        fed=Fed(*(put(old, new) for old, new in zip(lane.fed, fed))),
        sounded=lane.sounded | (take & ~staff.arrays.rest[new_p]),
        emptied=lane.emptied | jnp.where(take, emptied, 0))


def start_lane(staff: Staff, pitch, duration, state, target: int) -> Lane:
    """A lane about to draw its first event after ``pitch`` and ``duration`` ids."""
    import jax.numpy as jnp

    rows = pitch.shape[0]
    zeros = jnp.zeros((rows, staff.longest), dtype="int32")
    none = jnp.zeros((rows,), "int32")
    return Lane(pitch, duration, list(state), none, jnp.full((rows,), target, "int32"), zeros,
                zeros, none, none, Fed(zeros, zeros, zeros, zeros), jnp.zeros((rows,), bool), none)


def compile_loop(staves: Sequence[Staff], *, target: int, bar: int) -> Callable:
    """The whole loop for one or two ``staves``, compiled: ``run(params, seed, starts, costs,
    temperatures, guides=None, plans=None, floors=None)`` with per staff its parameters, its
    start (pitch ids, duration ids, ids of the other staff's last pitch as heard, LSTM
    states), its token costs, its (pitch, duration) temperatures, in ``guides`` its
    :class:`Guide` or ``None``, in ``plans`` its phrase ids per tick or ``None`` and in
    ``floors`` its lowest note or ``None`` (see :func:`step`). Returns each
    lane's (pitch ids, duration ids, count, left, partner ids, position ids, countdowns,
    phrase ids, emptied)."""
    import jax
    import jax.numpy as jnp

    bars = target // bar
    longest = sum(staff.longest for staff in staves)

    def run(params, seed, starts, costs, temperatures, guides=None, plans=None, floors=None):
        guides = tuple(guides) if guides is not None else (None,) * len(staves)
        plans = tuple(plans) if plans is not None else (None,) * len(staves)
        floors = tuple(floors) if floors is not None else (None,) * len(staves)
        lanes = tuple(start_lane(staff, p, d, state, target)
                      for staff, (p, d, _, state) in zip(staves, starts))
        heard = tuple(start[2] for start in starts)
        none = jnp.full_like(heard[0], -1)
        pair = Pair(0, jax.random.key(seed), lanes, heard, heard, (none,) * len(staves))

        def body(pair: Pair) -> Pair:
            return _advance(staves, pair, params, costs, temperatures, bar, bars, guides,
                            plans, floors)

        def going(pair: Pair):
            unfinished = jnp.stack([lane.remaining > 0 for lane in pair.lanes]).any()
            return (pair.step < longest) & unfinished

        pair = jax.lax.while_loop(going, body, pair)
        return [(lane.out_pitch, lane.out_duration, lane.count, lane.left, *lane.fed,
                 lane.emptied) for lane in pair.lanes]

    return jax.jit(run)


def _advance(staves, pair: Pair, params, costs, temperatures, bar: int, bars: int,
             guides, plans, floors) -> Pair:
    """One step of the loop: who moves, their draws, what each staff now hears."""
    import jax
    import jax.numpy as jnp

    lanes = pair.lanes
    active = [lane.remaining > 0 for lane in lanes]
    if len(staves) == 1:
        key, key_p, key_d = jax.random.split(pair.key, 3)
        partner = Partner(pair.heard[0], pair.before[0], pair.onsets[0], lanes[0].elapsed * 0)
        lane = step(staves[0], params[0], (key_p, key_d), lanes[0], partner, active[0],
                    costs[0], temperatures[0], bar=bar, bars=bars, guide=guides[0],
                    plan=plans[0], floor=floors[0])
        return pair._replace(step=pair.step + 1, key=key, lanes=(lane,))
    treble, bass = lanes
    # the staff whose next onset comes first; on a tie the one first in ORDER
    ahead = (bass.elapsed <= treble.elapsed) if ORDER[0] == "bass" else (
        bass.elapsed < treble.elapsed)
    bass_turn = active[1] & (~active[0] | ahead)
    turns = (active[0] & ~bass_turn, bass_turn)
    key, *keys = jax.random.split(pair.key, 3)
    ends = [lane.elapsed for lane in lanes]
    lanes = tuple(
        step(staff, params[n], jax.random.split(keys[n]), lanes[n],
             Partner(pair.heard[n], pair.before[n], pair.onsets[1 - n], ends[1 - n]),
             turns[n], costs[n], temperatures[n], bar=bar, bars=bars, guide=guides[n],
             plan=plans[n], floor=floors[n])
        for n, staff in enumerate(staves))
    onsets = tuple(jnp.where(turns[n], ends[n], pair.onsets[n]) for n in range(2))
    # each staff now hears the other's newest event (and remembers the one before)
    before = (jnp.where(turns[1], pair.heard[0], pair.before[0]),
              jnp.where(turns[0], pair.heard[1], pair.before[1]))
    heard = (jnp.where(turns[1], staves[1].as_partner[lanes[1].pitch], pair.heard[0]),
             jnp.where(turns[0], staves[0].as_partner[lanes[0].pitch], pair.heard[1]))
    return Pair(pair.step + 1, key, lanes, heard, before, onsets)


class LoopCache:
    """The compiled loops used last, at most ``size`` of them (each holds its program and
    its constant arrays for as long as it is kept)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._loops: OrderedDict[Hashable, Callable] = OrderedDict()
        self.compiled = 0  # how many loops this cache has built

    def __len__(self) -> int:
        return len(self._loops)

    def get(self, settings: Hashable, build: Callable[[], Callable]) -> Callable:
        if settings in self._loops:
            self._loops.move_to_end(settings)
        else:
            self._loops[settings] = build()
            self.compiled += 1
            while len(self._loops) > self.size:
                self._loops.popitem(last=False)
        return self._loops[settings]


def decode_rows(table: PitchTable, ticks: np.ndarray, pitch_ids, duration_ids, counts,
                left) -> list[list[Event]]:
    """The staff of each row from its drawn ids (``counts[row]`` of them), closed with rests
    for the ticks ``left[row]`` that nothing fitted."""
    pitch_ids, duration_ids = np.asarray(pitch_ids), np.asarray(duration_ids)
    return [decode_staff(table, ticks, zip(pitch_ids[row, :count].tolist(),
                                           duration_ids[row, :count].tolist()), left[row])
            for row, count in enumerate(np.asarray(counts))]


def decode_staff(table: PitchTable, ticks: np.ndarray, drawn, left: int = 0) -> list[Event]:
    """One staff from its (pitch id, duration id) pairs, then rests for ``left`` ticks that
    nothing in the vocabulary fitted, in canonical form."""
    staff = []
    for pitch, duration in drawn:
        sounding = tuple(np.flatnonzero(table.sounding[pitch]).tolist())
        held = tuple(np.flatnonzero(table.held[pitch]).tolist())
        staff.append(Event(sounding, Fraction(int(ticks[duration]), TICKS_PER_QUARTER), held))
    if left:
        rest = split_silence(Fraction(int(left), TICKS_PER_QUARTER)) or []
        staff.extend(Event((), part) for part in rest)
    return canonical(staff)
