"""Generating both staves together: two coupled clef models stepped in onset order in one
compiled loop (:mod:`grandstaff.composing.loop`), each hearing the other.

At every step each row of the batch advances the staff whose next onset comes first (the bass
when they fall together, :data:`~grandstaff.models.conditioning.ORDER`). That staff's model
reads its own last event and the inputs of the event it writes: the other staff's latest pitch
token, the meter and metric position of the onset, and the countdown to the end. What each
step may draw is decided by the rules of :mod:`grandstaff.composing.rules`, listed there in
the order they apply (``grandstaff compose --list-rules`` prints them): both staves fill
exactly the requested length; with ``ending="cadence"`` (the default) the piece closes V(7)–I
with the closing chord held through the final span; ``ending="open"`` stops wherever the last
bar ends. ``rules=False`` keeps only the rules a valid, ending piece needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..errors import BadArgumentError, ModelMismatchError
from ..models.conditioning import (
    COUNTDOWN_CAP,
    PHRASE_UNKNOWN,
    bar_ticks,
    heard_meter,
    phrase_ahead,
    piece_conditions,
    position_token,
)
from ..music.events import CLEFS, Event, beat_length, start_token
from ..music.vocab import TICKS_PER_QUARTER
from .generation import ClefGenerator, key_seed, on_device
from .loop import LoopCache, Staff, compile_loop, decode_rows
from .rules import (  # noqa: F401  (the cadence's names, as they were imported from here)
    ENDINGS,
    LEDGER_PENALTY,
    LOWEST_BASS,
    MODE_PENALTY,
    Rules,
    default_rules,
    final_span,
    mode_leanings,
)
from .sampling import TopKSampler
from .tables import PitchTable, closing_tokens, dominant_tokens


class CoupledGenerator:
    """Both clefs of a coupled model set, sampled together in onset order."""

    def __init__(self, generators: Mapping[str, ClefGenerator]) -> None:
        if not all(generators[clef].vocab.coupled for clef in CLEFS):
            raise ModelMismatchError("both clef models must hear the other staff to be "
                                     "sampled together; retrain the set with 'grandstaff train'")
        self.generators = dict(generators)
        self.loops = LoopCache()
        self._costs: dict[tuple, np.ndarray] = {}

    @cached_property
    def partners(self) -> dict[str, PitchTable]:
        """Each clef's partner vocabulary (the other staff's tokens) as a table."""
        return {clef: PitchTable.build(self.generators[clef].vocab.partner) for clef in CLEFS}

    @property
    def phrased(self) -> bool:
        """Whether both clefs hear a phrase plan."""
        return all(self.generators[clef].phrased for clef in CLEFS)

    @property
    def phrase_statistics(self) -> dict | None:
        """How the corpus this set learned from cuts its phrases, per meter (``None`` for a
        set trained before phrases)."""
        return self.generators[CLEFS[0]].metrics.get("phrases")

    @cached_property
    def centres(self) -> dict[str, float]:
        """Each clef's register centre (the mean note of its pitch vocabulary), worked out
        once per loaded set."""
        return {clef: self.generators[clef].table.register_centre() for clef in CLEFS}

    @cached_property
    def registers(self) -> dict[str, dict[int, int]] | None:
        """How many notes each clef's training pieces struck on each MIDI number, in the
        reference key (``None`` for a set trained before it was saved)."""
        found = {clef: self.generators[clef].metrics.get("register") for clef in CLEFS}
        if not all(found.values()):
            return None
        return {clef: {int(pitch): int(count) for pitch, count in counts.items()}
                for clef, counts in found.items()}

    def condition_ids(self, clef: str, time_signature: str) -> tuple[int, np.ndarray, str]:
        """The meter id and, for every tick of a bar, the metric position id of ``clef``'s
        model, for the meter it hears (:func:`heard_meter`: 3/4 for 6/8, which the chorales
        lack; a meter or position its corpus lacked reads as padding), and that meter."""
        vocab = self.generators[clef].vocab
        heard = heard_meter(time_signature, vocab.meter.tokens)
        meter = vocab.meter.id(heard) if heard in vocab.meter else 0
        bar = bar_ticks(time_signature)
        positions = np.array([vocab.position.id(token) if token in vocab.position else 0
                              for token in (position_token(t, heard)
                                            for t in range(bar))], dtype="int32")
        return meter, positions, heard

    def cadence_problem(self, time_signature: str, mode: str) -> str | None:
        """Why this set's vocabularies cannot write the cadence ending in ``time_signature``
        and ``mode`` (``None``: they can): a staff with no chord the final or the dominant
        span allows, or with no durations that fill a span exactly (a bass of whole notes
        only cannot close on a half-bar cadence in 4/4)."""
        span = int(final_span(time_signature) * TICKS_PER_QUARTER)
        for clef in CLEFS:
            generator = self.generators[clef]
            for chord, tokens in (("tonic", closing_tokens), ("dominant", dominant_tokens)):
                if not tokens(generator.table, clef, mode).any():
                    return f"its {clef} vocabulary has no {chord} chord the cadence allows"
            ticks = {int(t) for t in generator.duration_ticks if 0 < t <= span}
            if not _fills(ticks, span):
                return (f"its {clef} durations cannot fill the cadence's last "
                        f"{final_span(time_signature)} quarters exactly")
        return None

    def rules(self, clef: str, *, time_signature: str, ending: str, primed: bool,
              rules: bool = True, mode: str = "major", melody: bool = False,
              restating: bool = False,
              spans: tuple[int, int] | None = None, lead: int | None = None) -> Rules:
        """The rules ``clef`` samples under (only the essential ones without ``rules``); see
        :func:`~grandstaff.composing.rules.default_rules` for ``melody`` and ``spans``."""
        chosen = default_rules(time_signature=time_signature, ending=ending, primed=primed,
                               coupled=True, clef=clef, mode=mode, melody=melody, spans=spans,
                               restating=restating, lead=lead, leanings=self.leanings[clef])
        return chosen if rules else chosen.essential()

    @cached_property
    def leanings(self) -> dict[str, tuple[tuple[str, tuple[float, ...]], ...]]:
        """Each clef's :func:`~grandstaff.composing.rules.mode_leanings` from the counts its
        model saved (empty for a set trained before them), worked out once per loaded set."""
        found = {clef: self.generators[clef].metrics.get("modes") for clef in CLEFS}
        return {clef: mode_leanings(counts) if counts else () for clef, counts in found.items()}

    def generate(self, *, mode: str, length: Fraction, time_signature: str,
                 samplers: Mapping[str, tuple[TopKSampler, TopKSampler]], candidates: int = 1,
                 primer: Mapping[str, list[Event]] | None = None,
                 ending: str = "cadence", shift: int | None = None, rules: bool = True,
                 notes: dict | None = None, melody=None,
                 spans: tuple[int, int] | None = None,
                 phrase_ends: list[int] | None = None,
                 restating: bool = False, lead: int | None = None) -> dict[str, list[list[Event]]]:
        """``candidates`` pieces of both staves, each staff exactly ``length`` quarters, in the
        reference key: ``{clef: [staff of each candidate]}``. ``shift``: the semitones the
        piece will be transposed by to be written, so that the treble keeps to its staff
        there; ``None`` leaves the register to the models. ``rules``: every rule of
        :mod:`grandstaff.composing.rules` (``False``: the models alone, as a researcher may
        want to hear them; the cadence still follows ``ending``). ``notes``, if given, gets
        ``"skipped_rules"``: per clef and candidate, the bans that could not be kept at some
        step (they left no token to draw) and were skipped there. ``melody``: (MIDI number
        in the reference key or ``None``, ticks) pairs filling ``length``, kept as the
        treble's top voice (or a list of such, one per candidate); ``spans``: the cadence's final
        and dominant spans in ticks. ``phrase_ends``: the onsets (ticks) where the phrases of
        the plan end, for a set that hears phrases (``None``: no plan, read as unknown).
        ``restating``: ``melody`` holds a form's restated phrases, free elsewhere (see
        :func:`~grandstaff.composing.rules.default_rules`). ``lead``: ticks of rest in both
        hands before a pickup (0: the piece opens on the downbeat; ``None``: as the models
        choose)."""
        drawn = self.sample(mode=mode, length=length, time_signature=time_signature,
                            samplers=samplers, candidates=candidates, primer=primer,
                            ending=ending, shift=shift, rules=rules, melody=melody,
                            spans=spans, phrase_ends=phrase_ends, restating=restating,
                            lead=lead)
        staves = {}
        for clef in CLEFS:
            generator = self.generators[clef]
            staves[clef] = decode_rows(generator.table, generator.duration_ticks,
                                       *(drawn[clef][k] for k in ("pitch", "duration",
                                                                  "count", "left")))
        if notes is not None:
            notes["skipped_rules"] = {clef: drawn[clef]["skipped"] for clef in CLEFS}
        return staves

    def sample(self, *, mode: str, length: Fraction, time_signature: str,
               samplers: Mapping[str, tuple[TopKSampler, TopKSampler]], candidates: int = 1,
               primer: Mapping[str, list[Event]] | None = None,
               ending: str = "cadence", shift: int | None = None,
               rules: bool = True, melody=None,
               spans: tuple[int, int] | None = None,
               phrase_ends: list[int] | None = None,
               restating: bool = False, lead: int | None = None) -> dict[str, dict]:
        """The raw draws of :meth:`generate`, per clef: each row's pitch and duration ids, how
        many it drew, the ticks it left unfilled, the ids of the inputs each draw read
        (``partner``, ``position``, ``countdown``, ``phrase``), the bitmask of pitch bans
        skipped (``emptied``) and their names per row (``skipped``)."""
        target, bar = self._target(length, time_signature)
        if ending not in ENDINGS:
            raise BadArgumentError(f"ending {ending!r} is not one of {', '.join(ENDINGS)}")
        start = {clef: self._primed(clef, mode, candidates, primer, time_signature)
                 for clef in CLEFS}
        heard = {clef: start[CLEFS[1 - CLEFS.index(clef)]]["heard"] for clef in CLEFS}
        primed = _primed_any(primer)
        guided = melody is not None
        chosen = {clef: self.rules(clef, time_signature=time_signature, ending=ending,
                                   primed=primed, rules=rules, mode=mode, melody=guided,
                                   restating=restating and guided,
                                   spans=spans, lead=lead) for clef in CLEFS}
        ks = tuple((min(p.k, len(self.generators[c].vocab.pitch)),
                    min(d.k, len(self.generators[c].vocab.duration)))
                   for c in CLEFS for p, d in [samplers[c]])
        settings = (candidates, target, time_signature, primed, mode, ending, ks,
                    tuple(chosen[c] for c in CLEFS))  # the rules hold guided and spans
        guides = None
        if guided:
            from .loop import Guide, guide_arrays, stack_guides

            if melody and isinstance(melody[0], list):  # a melody per candidate
                found = stack_guides([guide_arrays(row, target) for row in melody])
            else:
                found = guide_arrays(melody, target)
            guide = Guide(*(on_device(x) for x in found))
            guides = (guide, guide)  # the bass hears the melody ahead (see its rules)
        loop = self.loops.get(settings, lambda: self._compile(
            target, bar, time_signature, mode, primed, chosen, ks))
        plans = None
        if self.phrased:
            ahead = phrase_ahead(range(target + 1), phrase_ends, target)
            plans = [on_device(np.asarray(ahead, dtype="int32"))] * len(CLEFS)
        floors = None  # the bass told how low it may go where the piece is written
        if shift is not None:
            floors = [None if clef == "treble" else np.int32(LOWEST_BASS - shift)
                      for clef in CLEFS]
        seeds = [int(s.rng.integers(2**31)) for clef in CLEFS for s in samplers[clef]]
        seed = key_seed(int(np.random.SeedSequence(seeds).generate_state(1)[0]))
        found = loop(
            [self.generators[c].params for c in CLEFS], seed,
            [(start[c]["pitch"], start[c]["duration"], heard[c], start[c]["state"])
             for c in CLEFS],
            [self._token_costs(c, chosen[c], shift, mode) for c in CLEFS],
            [tuple(np.float32(s.temperature) for s in samplers[c]) for c in CLEFS],
            guides, plans, floors)
        names = ("pitch", "duration", "count", "left", "partner", "position", "countdown",
                 "phrase", "emptied")
        drawn = {clef: dict(zip(names, (np.asarray(x) for x in found[index])))
                 for index, clef in enumerate(CLEFS)}
        for clef in CLEFS:  # the names of the bans each row skipped
            drawn[clef]["skipped"] = [chosen[clef].emptied_names("pitch", int(bits))
                                      for bits in drawn[clef]["emptied"]]
        return drawn

    @staticmethod
    def _target(length: Fraction, time_signature: str) -> tuple[int, int]:
        """``length`` in ticks, checked to be whole bars, and the ticks of a bar."""
        target = Fraction(length) * TICKS_PER_QUARTER
        if target.denominator != 1 or target <= 0:
            raise BadArgumentError(
                f"length {length!r} is not a whole number of 24ths of a quarter")
        bar = bar_ticks(time_signature)
        if target % bar:
            raise BadArgumentError(f"length {length!r} is not a whole number of bars of "
                                   f"{time_signature}")
        return int(target), bar

    def _compile(self, target: int, bar: int, time_signature: str, mode: str, primed: bool,
                 chosen: Mapping[str, Rules], ks):
        staves = self.staves(target, bar, time_signature, mode, primed, chosen, ks)
        return compile_loop(staves, target=target, bar=bar)

    def staves(self, target: int, bar: int, time_signature: str, mode: str, primed: bool,
               chosen: Mapping[str, Rules], ks) -> list[Staff]:
        """Both clefs as the loop sees them (:class:`~grandstaff.composing.loop.Staff`), for
        :func:`~grandstaff.composing.loop.compile_loop` or an eager
        :func:`~grandstaff.composing.loop.step`."""
        staves = []
        for index, clef in enumerate(CLEFS):
            generator = self.generators[clef]
            other = self.generators[CLEFS[1 - index]].vocab.partner
            # the phrase input counts the beats of the meter the model hears (quarters of
            # 3/4 for 6/8), as its corpus counted them
            meter, positions, heard = self.condition_ids(clef, time_signature)
            # this clef's pitch ids as the other clef's partner vocabulary numbers them
            as_partner = np.array([_id(other, t) for t in generator.vocab.pitch.tokens],
                                  dtype="int32")
            staves.append(generator.staff(
                chosen[clef], ks[index], target, None if primed else bar, mode=mode,
                partner=self.partners[clef], meter=meter, positions=on_device(positions),
                as_partner=on_device(as_partner),
                beat=int(beat_length(heard) * TICKS_PER_QUARTER)))
        return staves

    def token_penalty(self, clef: str, shift: int | None, mode: str) -> np.ndarray:
        """What each of ``clef``'s pitch tokens loses (in nats) before it is drawn under the
        default rules' token costs (the key kept; in the treble, told the ``shift`` the piece
        will be written at, its staff kept)."""
        return self._token_costs(clef, default_rules(clef=clef, leanings=self.leanings[clef]),
                                 shift, mode)

    def _token_costs(self, clef: str, rules: Rules, shift: int | None, mode: str) -> np.ndarray:
        key = (clef, rules, shift, mode)
        if key not in self._costs:
            self._costs[key] = rules.costs(self.generators[clef].table, clef, mode, shift)
        return self._costs[key]

    def _primed(self, clef: str, mode: str, candidates: int,
                primer: Mapping[str, list[Event]] | None, time_signature: str) -> dict:
        """The last ids and LSTM states of ``clef`` after its start token and any primer, and
        the id of its last pitch token as the other staff's partner vocabulary sees it."""
        generator = self.generators[clef]
        vocab = generator.vocab
        token = start_token(mode)
        pitch = np.full(candidates, vocab.pitch.id(token), dtype="int32")
        duration = np.full(candidates, vocab.duration.id(token), dtype="int32")
        state = generator.initial_state(candidates)
        other = self.generators[CLEFS[1 - CLEFS.index(clef)]].vocab.partner
        heard = np.zeros(candidates, dtype="int32")  # the other staff has played nothing yet
        if not primer or not primer.get(clef):
            return {"pitch": pitch, "duration": duration, "state": state, "heard": heard}
        tokens = {c: ([e.tokens()[0] for e in primer.get(c) or ()],
                      [e.tokens()[1] for e in primer.get(c) or ()]) for c in CLEFS}
        inputs = piece_conditions(tokens, time_signature)[clef]
        for index, (p, d) in enumerate(zip(*tokens[clef])):
            if p not in vocab.pitch or d not in vocab.duration:
                continue
            ids = [_id(vocab.partner, inputs.partner[index]), _id(vocab.meter, inputs.meter[0]),
                   _id(vocab.position, inputs.position[index]), COUNTDOWN_CAP + 1,
                   *([PHRASE_UNKNOWN] if generator.phrased else [])]
            _, _, state = generator.step(pitch, duration, state,
                                         [np.full(candidates, i) for i in ids])
            pitch = np.full(candidates, vocab.pitch.id(p), dtype="int32")
            duration = np.full(candidates, vocab.duration.id(d), dtype="int32")
            heard = np.full(candidates, _id(other, p), dtype="int32")
        return {"pitch": pitch, "duration": duration, "state": state, "heard": heard}



def _fills(ticks: set[int], total: int) -> bool:
    """Whether some sequence of ``ticks`` adds up to exactly ``total``.

    >>> _fills({96}, 48), _fills({24, 96}, 48)
    (False, True)
    """
    reachable = np.zeros(total + 1, dtype=bool)
    reachable[0] = True
    for end in range(1, total + 1):
        reachable[end] = any(reachable[end - t] for t in ticks if t <= end)
    return bool(reachable[total])


def _primed_any(primer: Mapping[str, list[Event]] | None) -> bool:
    return any(primer.get(clef) for clef in CLEFS) if primer else False


def _id(vocab, token: str) -> int:
    """The id of ``token``, or padding where the vocabulary lacks it."""
    return vocab.id(token) if token in vocab else vocab.pad_id


