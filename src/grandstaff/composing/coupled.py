"""Generating both staves together: two coupled clef models stepped in onset order in one
compiled loop, each hearing the other.

At every step each row of the batch advances the staff whose next onset comes first (the bass
when they fall together, :data:`~grandstaff.models.conditioning.ORDER`). That staff's model
reads its own last event and the inputs of the event it writes: the other staff's latest pitch
token, the meter and metric position of the onset, and the countdown to the end. Both staves
fill exactly the requested length under the same bar rules as a single staff (see
:mod:`grandstaff.composing.generation`).

With ``ending="cadence"`` (the default) the piece closes with an authentic cadence, V(7)–I:
no note may cross into the **final span** (the last half bar of a meter with an even number of
beats, else the last bar), and every event in it sounds only notes of the tonic triad (a major
third too in minor, the Picardy third): the bass with the tonic lowest and below the treble,
the treble with one third and above the bass. Each staff holds its closing chord through the
whole final span (a half note in 4/4, a dotted half in 3/4, a dotted quarter in 6/8) where its
vocabulary has that duration, rather than ending on a short note. The span of the same length
before it is the
**dominant span**: no note crosses into it either, and every event in it sounds only notes of
the dominant seventh chord, the bass with the dominant lowest, the treble with the leading tone.
``ending="open"`` stops wherever the last bar ends, as pieces did before.

Unless ``rules=False``, these rules of good piano writing hold wherever some token allowed at
that step keeps them (a rest always keeps the first two; the last three are
preferences, not bans):

- **the hands in order**: the bass never sounds above the treble's lowest note;
- **no parallel fifths or octaves** between the treble's top note and the bass's lowest, which
  only the staff moving second at a shared onset can make;
- **a compound beat kept** (6/8, 9/8, 12/8, which the chorales lack): a note that crosses a
  dotted beat starts and ends on one;
- **the treble on its staff**: told the ``shift`` the piece will be written at, each struck
  treble note off the treble staff there costs :data:`LEDGER_PENALTY`;
- **consonance between the hands preferred**: each dissonant pitch-class pair a token makes
  with the other staff's sounding notes costs :data:`DISSONANCE_PENALTY`;
- **the key kept**: each struck note that leads toward the relative key costs
  :data:`MODE_PENALTY`.

And a piece without a primer opens with at most one rest, shorter than a bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..errors import BadArgumentError, ModelMismatchError
from ..models.conditioning import (
    COUNTDOWN_CAP,
    ORDER,
    bar_ticks,
    piece_conditions,
    position_token,
)
from ..music.events import (
    CLEFS,
    CONSONANT,
    Event,
    bar_length,
    beat_length,
    canonical,
    is_special,
    parse_pitch_token,
    split_silence,
    start_token,
)
from ..music.vocab import TICKS_PER_QUARTER, holds_allowed, pitch_matrices
from .generation import BarRules, ClefGenerator, draw, key_seed, on_device
from .piece import STAFF_RANGE
from .sampling import TopKSampler

ENDINGS: tuple[str, ...] = ("cadence", "open")
#: The tonic and the triad pitch classes of the reference keys (C major, A minor with C♯ too).
TONIC = {"major": (0, frozenset({0, 4, 7})), "minor": (9, frozenset({9, 0, 1, 4}))}


def final_span(time_signature: str) -> Fraction:
    """The stretch at the end that a cadence fills: the last half bar when the bar has an
    even number of beats (4/4, 2/4, 6/8, 12/8), else the whole last bar (3/4, 9/8).

    >>> final_span("4/4"), final_span("3/4"), final_span("6/8")
    (Fraction(2, 1), Fraction(3, 1), Fraction(3, 2))
    """
    bar = bar_length(time_signature)
    beats = bar / beat_length(time_signature)
    return bar / 2 if beats.denominator == 1 and beats % 2 == 0 else bar


def ending_tokens(vocab, clef: str, mode: str) -> np.ndarray:
    """Which pitch tokens may sound in the final span of a cadence: notes of the tonic triad
    only (no rest); in the bass with the tonic lowest, in the treble with one third. In minor
    the treble chooses between the minor and the Picardy third, so the bass takes neither."""
    tonic, triad = TONIC[mode]
    thirds = triad - {tonic, (tonic + 7) % 12}
    bass_notes = triad if mode == "major" else triad - thirds
    if clef == "bass":
        return _sounding_tokens(vocab, lambda pitches, classes: (
            classes <= bass_notes and min(pitches) % 12 == tonic))
    return _sounding_tokens(vocab, lambda pitches, classes: (
        classes <= triad and len(classes & thirds) == 1))


def dominant_tokens(vocab, clef: str, mode: str) -> np.ndarray:
    """Which pitch tokens may sound in the dominant span of a cadence: notes of the dominant
    seventh chord only (no rest); in the bass with the dominant lowest, in the treble with the
    leading tone (the raised seventh degree in minor).

    >>> from grandstaff.music.vocab import Vocabulary
    >>> vocab = Vocabulary.build(["67", "71", "67.71", "60", "43", "43.62"])
    >>> def allowed(clef):
    ...     return [t for t, ok in zip(vocab.tokens, dominant_tokens(vocab, clef, "major")) if ok]
    >>> allowed("treble"), allowed("bass")
    (['67.71', '71'], ['43', '43.62', '67', '67.71'])
    """
    tonic, _ = TONIC[mode]
    dominant, leading = (tonic + 7) % 12, (tonic + 11) % 12
    chord = {dominant, leading, (dominant + 7) % 12, (dominant + 10) % 12}
    if clef == "bass":
        return _sounding_tokens(vocab, lambda pitches, classes: (
            classes <= chord and min(pitches) % 12 == dominant))
    return _sounding_tokens(vocab, lambda pitches, classes: (
        classes <= chord and leading in classes))


def _sounding_tokens(vocab, fits) -> np.ndarray:
    """Which tokens sound notes (no rest, no special token) for which ``fits(pitches,
    pitch classes)`` holds."""
    allowed = []
    for token in vocab.tokens:
        pitches = () if is_special(token) else parse_pitch_token(token)[0]
        allowed.append(bool(pitches) and fits(pitches, {p % 12 for p in pitches}))
    return np.array(allowed)


#: What a silent partner's lowest note counts as in the "hands in order" rule of the final
#: span: below every note for the treble to stay above, above every note for the bass to stay
#: below, so that silence bounds nothing.
SILENT_BELOW, SILENT_ABOVE = -1, 128


def lowest_notes(vocab, silent: int) -> np.ndarray:
    """Each pitch token's lowest MIDI number (``silent``, :data:`SILENT_BELOW` or
    :data:`SILENT_ABOVE`, for rests and special tokens)."""
    return _edge_notes(vocab, min, silent)


def highest_notes(vocab, silent: int) -> np.ndarray:
    """Each pitch token's highest MIDI number (``silent`` for rests and special tokens)."""
    return _edge_notes(vocab, max, silent)


def _edge_notes(vocab, edge, silent: int) -> np.ndarray:
    return np.array([edge(parse_pitch_token(t)[0], default=silent) if not is_special(t)
                     else silent for t in vocab.tokens], dtype="int32")


#: How much less likely (in nats, before the temperature) each struck treble note becomes for
#: lying off the treble staff where the piece will be written: one such note makes a token
#: e^-2.5 ≈ 0.08 times as likely, so a melody may still climb a ledger line when the model is
#: sure of it. Measured on single samples (share of treble notes on ledger lines, worst key;
#: held-out Bach 0.091): 1.0 left 0.14 in G major (100 samples); 2.0 left 0.137 in G minor in
#: the quality report's 50 (five per key); 2.5 leaves 0.044 at worst over 100.
LEDGER_PENALTY = 2.5


#: How much less likely (in nats, before the temperature) a pitch token becomes for each
#: dissonant pitch-class pair it makes with the other staff's sounding notes. Measured on 100
#: single samples (consonant pairs / harmonic fit; held-out Bach 0.787 / 0.842): 0 gives
#: 0.741 / 0.749, 0.3 gives 0.777 / 0.788, 0.6 gives 0.806 / 0.810. Passing dissonances stay
#: possible: a token with one dissonant pair is e^-0.6 ≈ 0.55 times as likely.
DISSONANCE_PENALTY = 0.6


#: How much less likely (in nats, before the temperature) a pitch token becomes for each note
#: it strikes that leads toward the relative key: in major the raised fifth (G♯ in C, the
#: relative minor's leading tone), in minor the lowered seventh (G in A minor, the relative
#: major's dominant). Every single sample music21 heard in the wrong mode (27 of 100) was
#: heard in the relative key; with this at 1.0 it heard 90 of 100 in the requested mode (minor
#: 50 of 50, major 40 of 50), without it 79.
MODE_PENALTY = 1.0
#: The pitch class of that note in the reference keys (C major, A minor).
RELATIVE_KEY_NOTE = {"major": 8, "minor": 7}


def struck_notes(vocab, classes: set[int]) -> np.ndarray:
    """How many notes of ``classes`` (pitch classes) each pitch token strikes (held ones not).

    >>> from grandstaff.music.vocab import Vocabulary
    >>> vocab = Vocabulary.build(["55.67", "55~.60", "rest"])
    >>> dict(zip(vocab.tokens[-3:], struck_notes(vocab, {7}).tolist()[-3:]))
    {'rest': 0, '55~.60': 0, '55.67': 2}
    """
    return _count_struck(vocab, lambda pitch: pitch % 12 in classes)


def ledger_notes(vocab, staff: tuple[int, int]) -> np.ndarray:
    """How many struck notes of each pitch token lie outside ``staff`` (lowest, highest MIDI
    number written without ledger lines, counted in the reference key).

    >>> from grandstaff.music.vocab import Vocabulary
    >>> ledger_notes(Vocabulary.build(["rest", "60.64", "60~.84", "67"]), (62, 80)).tolist()
    [0, 0, 0, 0, 1, 1, 0]
    """
    return _count_struck(vocab, lambda pitch: not staff[0] <= pitch <= staff[1])


def _count_struck(vocab, counts) -> np.ndarray:
    """For each pitch token, how many of the notes it strikes (not those it holds) ``counts``
    (a test of one MIDI number)."""
    found = []
    for token in vocab.tokens:
        pitches, held = ((), ()) if is_special(token) else parse_pitch_token(token)
        found.append(sum(bool(counts(p)) for p in set(pitches) - set(held)))
    return np.array(found, dtype="int32")


def pitch_classes(vocab) -> np.ndarray:
    """(tokens, 12): 1 where a pitch token sounds that pitch class (held or struck)."""
    classes = np.zeros((len(vocab), 12), dtype="float32")
    for index, token in enumerate(vocab.tokens):
        for pitch in () if is_special(token) else parse_pitch_token(token)[0]:
            classes[index, pitch % 12] = 1
    return classes


def dissonance_weights(vocab, clef: str) -> np.ndarray:
    """(tokens, 12): how many of each token's pitch classes are dissonant against a partner
    pitch class (:data:`~grandstaff.music.events.CONSONANT` names the rest), counted from
    the bass up; times the partner's pitch classes, the dissonant pairs of a sonority.

    >>> from grandstaff.music.vocab import Vocabulary
    >>> weights = dissonance_weights(Vocabulary.build(["60.64"]), "treble")
    >>> weights[-1, [0, 5, 2]].tolist()  # C–E above C: none; above F: the fourth; above D: 2
    [0.0, 1.0, 2.0]
    """
    up = 1 if clef == "treble" else -1
    dissonant = np.array([[(up * (own - other)) % 12 not in CONSONANT for other in range(12)]
                          for own in range(12)], dtype="float32")
    return pitch_classes(vocab) @ dissonant


def register_centre(vocab) -> float:
    """The mean MIDI number of the notes in a pitch vocabulary: where its staff was learned
    (68, A♭4, for the treble of the Bach chorales; the corpus's own mean is 68.3)."""
    notes = [p for t in vocab.tokens if not is_special(t) for p in parse_pitch_token(t)[0]]
    return float(np.mean(notes)) if notes else 60.0


class CoupledGenerator:
    """Both clefs of a coupled model set, sampled together in onset order."""

    def __init__(self, generators: Mapping[str, ClefGenerator]) -> None:
        if not all(generators[clef].vocab.coupled for clef in CLEFS):
            raise ModelMismatchError("both clef models must hear the other staff to be "
                                     "sampled together; retrain the set with 'grandstaff train'")
        self.generators = dict(generators)
        self._loops: dict[tuple, object] = {}
        self._penalties: dict[tuple, np.ndarray] = {}

    @cached_property
    def centres(self) -> dict[str, float]:
        """Each clef's :func:`register_centre`, worked out once per loaded set."""
        return {clef: register_centre(self.generators[clef].vocab.pitch) for clef in CLEFS}

    def condition_ids(self, clef: str, time_signature: str) -> tuple[int, np.ndarray]:
        """The meter id and, for every tick of a bar, the metric position id of ``clef``'s
        model (a meter or position its corpus lacked reads as padding)."""
        vocab = self.generators[clef].vocab
        meter = vocab.meter.id(time_signature) if time_signature in vocab.meter else 0
        bar = bar_ticks(time_signature)
        positions = np.array([vocab.position.id(token) if token in vocab.position else 0
                              for token in (position_token(t, time_signature)
                                            for t in range(bar))], dtype="int32")
        return meter, positions

    def generate(self, *, mode: str, length: Fraction, time_signature: str,
                 samplers: Mapping[str, tuple[TopKSampler, TopKSampler]], candidates: int = 1,
                 primer: Mapping[str, list[Event]] | None = None,
                 ending: str = "cadence", shift: int | None = None, rules: bool = True
                 ) -> dict[str, list[list[Event]]]:
        """``candidates`` pieces of both staves, each staff exactly ``length`` quarters, in the
        reference key: ``{clef: [staff of each candidate]}``. ``shift``: the semitones the
        piece will be transposed by to be written, so that the treble keeps to its staff
        there (see :data:`LEDGER_PENALTY`); ``None`` leaves the register to the models.
        ``rules``: keep the hands in order and the outer voices free of parallel fifths and
        octaves, and hold the treble to its staff (``False``: the models alone, as a
        researcher may want to hear them; the cadence still follows ``ending``)."""
        drawn = self.sample(mode=mode, length=length, time_signature=time_signature,
                            samplers=samplers, candidates=candidates, primer=primer,
                            ending=ending, shift=shift, rules=rules)
        return {clef: self._staves(clef, drawn[clef]) for clef in CLEFS}

    def sample(self, *, mode: str, length: Fraction, time_signature: str,
               samplers: Mapping[str, tuple[TopKSampler, TopKSampler]], candidates: int = 1,
               primer: Mapping[str, list[Event]] | None = None,
               ending: str = "cadence", shift: int | None = None,
               rules: bool = True) -> dict[str, dict]:
        """The raw draws of :meth:`generate`, per clef: each row's pitch and duration ids, how
        many it drew, the ticks it left unfilled, and the ids of the inputs each draw read
        (``partner``, ``position``, ``countdown``)."""

        target = Fraction(length) * TICKS_PER_QUARTER
        if target.denominator != 1 or target <= 0:
            raise BadArgumentError(
                f"length {length!r} is not a whole number of 24ths of a quarter")
        bar = bar_ticks(time_signature)
        if target % bar:
            raise BadArgumentError(f"length {length!r} is not a whole number of bars of "
                                   f"{time_signature}")
        start = {clef: self._primed(clef, mode, candidates, primer, time_signature)
                 for clef in CLEFS}
        heard = {clef: start[CLEFS[1 - CLEFS.index(clef)]]["heard"] for clef in CLEFS}
        if ending not in ENDINGS:
            raise BadArgumentError(f"ending {ending!r} is not one of {', '.join(ENDINGS)}")
        primed = any(primer.get(clef) for clef in CLEFS) if primer else False
        settings = (candidates, int(target), time_signature, primed, mode, ending,
                    bool(rules),
                    tuple((s.k, s.temperature) for clef in CLEFS for s in samplers[clef]))
        if settings not in self._loops:
            self._loops[settings] = self._compile(*settings[:7], samplers)
        penalties = [self.token_penalty(clef, shift, mode) if rules
                     else np.zeros(len(self.generators[clef].vocab.pitch), dtype="float32")
                     for clef in CLEFS]
        seeds = [int(s.rng.integers(2**31)) for clef in CLEFS for s in samplers[clef]]
        seed = key_seed(int(np.random.SeedSequence(seeds).generate_state(1)[0]))
        found = self._loops[settings](
            [self.generators[c].params for c in CLEFS], seed,
            [(start[c]["pitch"], start[c]["duration"], heard[c], start[c]["state"])
             for c in CLEFS], penalties)
        names = ("pitch", "duration", "count", "left", "partner", "position", "countdown")
        return {clef: dict(zip(names, (np.asarray(x) for x in found[index])))
                for index, clef in enumerate(CLEFS)}

    def token_penalty(self, clef: str, shift: int | None, mode: str) -> np.ndarray:
        """What each of ``clef``'s pitch tokens loses (in nats) before it is drawn: for each
        struck note of :data:`RELATIVE_KEY_NOTE` (the mode's), :data:`MODE_PENALTY`; in the
        treble, told the ``shift`` the piece will be written at, :data:`LEDGER_PENALTY` for
        each struck note off the treble staff there."""
        if (clef, shift, mode) not in self._penalties:
            vocab = self.generators[clef].vocab.pitch
            penalty = MODE_PENALTY * struck_notes(vocab, {RELATIVE_KEY_NOTE[mode]})
            if clef == "treble" and shift is not None:
                staff = tuple(n - shift for n in STAFF_RANGE[clef])
                penalty = penalty + LEDGER_PENALTY * ledger_notes(vocab, staff)
            self._penalties[clef, shift, mode] = penalty.astype("float32")
        return self._penalties[clef, shift, mode]

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
                   _id(vocab.position, inputs.position[index]), COUNTDOWN_CAP + 1]
            _, _, state = generator.step(pitch, duration, state,
                                         [np.full(candidates, i) for i in ids])
            pitch = np.full(candidates, vocab.pitch.id(p), dtype="int32")
            duration = np.full(candidates, vocab.duration.id(d), dtype="int32")
            heard = np.full(candidates, _id(other, p), dtype="int32")
        return {"pitch": pitch, "duration": duration, "state": state, "heard": heard}

    def _compile(self, batch: int, target: int, time_signature: str, primed: bool, mode: str,
                 ending: str, guided: bool, samplers):
        import jax
        import jax.numpy as jnp

        bar = bar_ticks(time_signature)
        bars = target // bar
        span = int(final_span(time_signature) * TICKS_PER_QUARTER) if ending == "cadence" else 0
        # the chorales have no compound meter, so there the beat is kept by a rule
        beat = beat_length(time_signature)
        compound = int(beat * TICKS_PER_QUARTER) if guided and beat.denominator == 2 else 0
        staff = []
        for clef in CLEFS:
            generator = self.generators[clef]
            vocab = generator.vocab
            meter, positions = self.condition_ids(clef, time_signature)
            tables = BarRules.build(vocab, generator.duration_ticks, target,
                                    None if primed else bar)
            rules = BarRules(*(on_device(t) for t in tables))
            sounding, held = (on_device(m) for m in pitch_matrices(vocab.pitch))
            (pitch_sampler, duration_sampler) = samplers[clef]
            # in the final span the treble stays above the bass's lowest note, the bass below
            # the treble's (a silent partner bounds nothing)
            silent = SILENT_BELOW if clef == "treble" else SILENT_ABOVE
            above = clef == "treble"
            lowest = lowest_notes(vocab.pitch, SILENT_ABOVE)
            staff.append(dict(
                closing=on_device(ending_tokens(vocab.pitch, clef, mode)),
                dominant=on_device(dominant_tokens(vocab.pitch, clef, mode)),
                lowest=on_device(lowest),
                heard_lowest=on_device(lowest_notes(vocab.partner, silent)),
                # everywhere the hands keep their order: the treble's lowest note at or above
                # the bass's highest, the bass's highest at or below the treble's lowest
                edge=on_device(lowest if above else highest_notes(vocab.pitch, SILENT_BELOW)),
                heard_edge=on_device(highest_notes(vocab.partner, SILENT_BELOW) if above
                                       else lowest_notes(vocab.partner, SILENT_ABOVE)),
                # the outer voices: the treble's top note, the bass's lowest (-1: silence)
                outer=on_device(highest_notes(vocab.pitch, -1) if above
                                  else lowest_notes(vocab.pitch, -1)),
                heard_outer=on_device(lowest_notes(vocab.partner, -1) if above
                                        else highest_notes(vocab.partner, -1)),
                above=above,
                # dissonant pairs with the partner's sounding notes, per token
                dissonance=on_device(dissonance_weights(vocab.pitch, clef)),
                heard_classes=on_device(pitch_classes(vocab.partner)),
                apply=generator.apply, rules=rules, ticks=on_device(tables.ticks.astype("int32")),
                sounding=sounding, held=held, meter=meter, positions=on_device(positions),
                pitch_mask=on_device([not is_special(t) for t in vocab.pitch.tokens]),
                k=(min(pitch_sampler.k, len(vocab.pitch)),
                   min(duration_sampler.k, len(vocab.duration))),
                t=(pitch_sampler.temperature, duration_sampler.temperature),
                longest=target // int(tables.ticks.min()) + 1))
        longest = sum(s["longest"] for s in staff)
        rows = on_device(np.arange(batch))
        # each clef's pitch ids as the other clef's partner vocabulary numbers them
        as_partner = [on_device(np.array([_id(self.generators[other].vocab.partner, t)
                                          for t in self.generators[clef].vocab.pitch.tokens],
                                         dtype="int32"))
                      for clef, other in zip(CLEFS, reversed(CLEFS))]

        def advance(s, params, key, lane, heard, heard_before, partner_onset, partner_end,
                    chosen, penalty):
            p, d, state, elapsed, remaining, out_p, out_d, count, left, fed, sounded = lane
            position = s["positions"][elapsed % bar]
            countdown = jnp.clip(bars - 1 - elapsed // bar, 0, COUNTDOWN_CAP) + 1
            inputs = [x[:, None].astype("int32") for x in (
                p, d, heard, jnp.full((batch,), s["meter"]), position, countdown)]
            outputs = s["apply"](params, [*inputs, *state])
            key_p, key_d = jax.random.split(key)
            may_hold = holds_allowed(jnp, s["sounding"], s["held"], p)
            allowed_p = s["pitch_mask"][None, :] & may_hold
            if not primed:  # a piece opens with at most one rest (shorter than a bar)
                allowed_p &= ~((elapsed > 0) & ~sounded)[:, None] | ~s["rules"].is_rest[None, :]
            wishes = []  # kept where any allowed token meets them, in this order
            if guided:
                wishes = [_in_order(s, heard, partner_end >= elapsed),
                          ~_parallel(s, p, heard, heard_before, partner_onset == elapsed)]
            # in the cadence's spans the treble's lowest note stays above the bass's lowest
            partner_low = s["heard_lowest"][heard][:, None]
            in_place = ((s["lowest"][None, :] > partner_low) if s["above"]
                        else (s["lowest"][None, :] < partner_low))
            pitch_mask = jnp.where(
                (remaining <= span)[:, None],
                _prefer(allowed_p & s["closing"][None, :], *wishes, in_place),
                jnp.where((remaining <= 2 * span)[:, None],
                          _prefer(allowed_p & s["dominant"][None, :], *wishes, in_place),
                          _prefer(allowed_p, *wishes)))
            if guided:  # against the partner's notes still sounding after this onset
                heard_classes = jnp.where((partner_end > elapsed)[:, None],
                                          s["heard_classes"][heard], 0)
                penalty = penalty[None, :] + DISSONANCE_PENALTY * jnp.einsum(
                    "vk,bk->bv", s["dissonance"], heard_classes)
            new_p = draw(key_p, outputs[0][:, 0], pitch_mask, s["k"][0], s["t"][0], penalty)
            opening_rest = (count == 0) & s["rules"].is_rest[new_p]
            allowed = (s["rules"].allowed(jnp, remaining, opening_rest, barrier=span)
                       & s["rules"].allowed(jnp, remaining, opening_rest, barrier=2 * span))
            if span:  # the closing chord is held through the final span, not cut short
                allowed = _prefer(allowed, (remaining > span)[:, None]
                                  | (s["ticks"][None, :] == remaining[:, None]))
            if compound:  # a note that crosses a dotted beat runs from beat to beat
                start = (elapsed % compound)[:, None]
                end = start + s["ticks"][None, :]
                allowed = _prefer(allowed, (end <= compound) | ((start == 0)
                                                                & (end % compound == 0)))
            new_d = draw(key_d, outputs[1][:, 0], allowed, s["k"][1], s["t"][1])
            stuck = chosen & ~allowed.any(axis=1)
            take = chosen & ~stuck
            keep = take[:, None]
            state = [jnp.where(keep, new, old) for new, old in zip(outputs[2:], state)]
            out_p = out_p.at[rows, count].set(jnp.where(take, new_p, out_p[rows, count]))
            out_d = out_d.at[rows, count].set(jnp.where(take, new_d, out_d[rows, count]))
            fed = [record.at[rows, count].set(jnp.where(take, value, record[rows, count]))
                   for record, value in zip(fed, (heard, position, countdown))]
            left = jnp.where(stuck, remaining, left)
            step_ticks = jnp.where(take, s["ticks"][new_d], 0)
            remaining = jnp.where(stuck, 0, remaining - step_ticks)
            sounded = sounded | (take & ~s["rules"].is_rest[new_p])
            return (jnp.where(take, new_p, p), jnp.where(take, new_d, d), state,
                    elapsed + step_ticks, remaining, out_p, out_d,
                    count + take.astype("int32"), left, fed, sounded)

        def run(params, seed, starts, penalties):
            key = jax.random.key(seed)
            lanes = []
            for s, (p, d, _, state) in zip(staff, starts):
                zeros = jnp.zeros((batch, s["longest"]), dtype="int32")
                lanes.append((p, d, list(state), jnp.zeros((batch,), "int32"),
                              jnp.full((batch,), target, "int32"), zeros, zeros,
                              jnp.zeros((batch,), "int32"), jnp.zeros((batch,), "int32"),
                              [zeros, zeros, zeros], jnp.zeros((batch,), bool)))
            heard = [starts[0][2], starts[1][2]]
            onsets = [jnp.full((batch,), -1, "int32")] * 2  # each staff's latest onset

            def body(carry):
                i, key, lanes, heard, before, onsets = carry
                treble, bass = lanes
                active = [lane[4] > 0 for lane in lanes]
                # the staff whose next onset comes first; on a tie the one first in ORDER
                ahead = ((bass[3] <= treble[3]) if ORDER[0] == "bass"
                         else (bass[3] < treble[3]))
                bass_turn = active[1] & (~active[0] | ahead)
                turns = [active[0] & ~bass_turn, bass_turn]
                key, *keys = jax.random.split(key, 3)
                ends = [lane[3] for lane in lanes]
                lanes = [advance(s, params[n], keys[n], lanes[n], heard[n], before[n],
                                 onsets[1 - n], ends[1 - n], turns[n], penalties[n])
                         for n, s in enumerate(staff)]
                onsets = [jnp.where(turns[n], ends[n], onsets[n]) for n in range(2)]
                # each staff now hears the other's newest event (and remembers the one before)
                before = [jnp.where(turns[1], heard[0], before[0]),
                          jnp.where(turns[0], heard[1], before[1])]
                heard = [jnp.where(turns[1], as_partner[1][lanes[1][0]], heard[0]),
                         jnp.where(turns[0], as_partner[0][lanes[0][0]], heard[1])]
                return i + 1, key, lanes, heard, before, onsets

            def going(carry):
                i, _, lanes, *_ = carry
                return (i < longest) & ((lanes[0][4] > 0) | (lanes[1][4] > 0)).any()

            _, _, lanes, *_ = jax.lax.while_loop(
                going, body, (0, key, lanes, heard, list(heard), onsets))
            return [(lane[5], lane[6], lane[7], lane[8], *lane[9]) for lane in lanes]

        return jax.jit(run)

    def _staves(self, clef: str, drawn: dict) -> list[list[Event]]:
        out_p, out_d, count, left = (drawn[k] for k in ("pitch", "duration", "count", "left"))
        generator = self.generators[clef]
        vocab = generator.vocab
        tokens = [((), ()) if is_special(t) else parse_pitch_token(t)
                  for t in vocab.pitch.tokens]
        ticks = generator.duration_ticks
        staves = []
        for row in range(len(count)):
            staff = [Event(tokens[p][0], Fraction(int(ticks[d]), TICKS_PER_QUARTER), tokens[p][1])
                     for p, d in zip(out_p[row, :count[row]], out_d[row, :count[row]])]
            if left[row]:
                rest = split_silence(Fraction(int(left[row]), TICKS_PER_QUARTER)) or []
                staff.extend(Event((), part) for part in rest)
            staves.append(canonical(staff))
        return staves


def _prefer(allowed, *wishes):
    """``allowed`` narrowed by each wish in turn, in the rows where some token meets it."""
    import jax.numpy as jnp

    for wish in wishes:
        met = allowed & wish
        allowed = jnp.where(met.any(axis=1, keepdims=True), met, allowed)
    return allowed


def _in_order(s: dict, heard, bounded):
    """Which tokens keep the hands in order against the partner's sounding notes (rows where
    ``bounded``): the treble's lowest note at or above the bass's highest, the bass's highest
    at or below the treble's lowest. A rest always does."""
    import jax.numpy as jnp

    silent = SILENT_BELOW if s["above"] else SILENT_ABOVE
    bound = jnp.where(bounded, s["heard_edge"][heard], silent)[:, None]
    return (s["edge"][None, :] >= bound) if s["above"] else (s["edge"][None, :] <= bound)


def _parallel(s: dict, previous, heard, heard_before, together):
    """Which tokens would make parallel fifths or octaves (or unisons) between the outer
    voices, the treble's top note and the bass's lowest: in rows where the partner moved at
    this same onset (``together``), from (own ``previous``, partner ``heard_before``) to
    (token, partner ``heard``) both move the same way and keep the same perfect interval.
    Only the staff that moves second at an onset can make one: a staff that moves alone
    leaves the other's note where it was."""
    own_before, new = s["outer"][previous], s["outer"][None, :]
    partner_before, partner = s["heard_outer"][heard_before], s["heard_outer"][heard]
    sign = 1 if s["above"] else -1
    interval = (sign * (own_before - partner_before)) % 12
    after = (sign * (new - partner[:, None])) % 12
    sounding = together & (own_before >= 0) & (partner_before >= 0) & (partner >= 0)
    moving = (new - own_before[:, None]) * (partner - partner_before)[:, None] > 0
    perfect = sounding & ((interval == 0) | (interval == 7))
    return perfect[:, None] & moving & (new >= 0) & (after == interval[:, None])


def _id(vocab, token: str) -> int:
    """The id of ``token``, or padding where the vocabulary lacks it."""
    return vocab.id(token) if token in vocab else vocab.pad_id


