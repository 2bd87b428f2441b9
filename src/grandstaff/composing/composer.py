"""``compose``: sample both staves from a model set and assemble a :class:`Piece`.

>>> import grandstaff as gs
>>> piece = gs.compose(bars=16, key="E minor", tempo=84, seed=3, models="bach")  # doctest: +SKIP
>>> piece.write("scores/etude", formats=("musicxml", "midi", "pdf"))             # doctest: +SKIP

The models write in C major or A minor (the corpus's common keys), starting from the start
token of the requested mode; the result is then transposed to the requested key.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..bounds import (
    MAX_BARS,
    MAX_CANDIDATE_BARS,
    MAX_CANDIDATES,
    check_temperature,
    check_tempo,
)
from ..errors import BadArgumentError, GrandstaffWarning
from ..music.events import CLEFS, Event, bar_length
from ..music.hands import check_staff_split
from ..music.keys import Key
from ..music.vocab import TICKS_PER_QUARTER
from ..text import clean_text
from .piece import (
    Piece,
    fit_to_piano,
    planned_shift,
    written_shift,
)
from .sampling import staff_samplers

#: Pieces sampled per call of :func:`compose`; the first in the requested mode is kept.
DEFAULT_CANDIDATES = 8


@lru_cache(maxsize=4)
def _generators(models: str):
    """The generators of a model set: one :class:`CoupledGenerator` for a set whose clefs hear
    each other, else one :class:`ClefGenerator` per clef (a set trained before coupling)."""
    from ..models.stepper import load_steps
    from .coupled import CoupledGenerator
    from .generation import ClefGenerator

    generators = {clef: ClefGenerator(step) for clef, step in load_steps(models).items()}
    if any(g.vocab.coupled for g in generators.values()):
        return CoupledGenerator(generators)
    return generators


def _whole(value: object, what: str, least: int, most: int | None = None) -> int:
    """``value`` as an int if it is a whole number in ``least..most``, else one clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least or (
            most is not None and value > most):
        bound = f" from {least} to {most}" if most is not None else f", {least} or more"
        raise BadArgumentError(f"{what} {value!r} must be a whole number{bound}")
    return int(value)


def check_bars(bars: int) -> int:
    return _whole(bars, "bars", 1, MAX_BARS)


def check_candidates(candidates: int, bars: int) -> int:
    """``candidates`` if one batch of that many ``bars``-bar pieces fits the bounds."""
    candidates = _whole(candidates, "candidates", 1, MAX_CANDIDATES)
    if candidates * bars > MAX_CANDIDATE_BARS:
        raise BadArgumentError(
            f"{candidates} candidates of {bars} bars are {candidates * bars:,} bars at once, "
            f"more than {MAX_CANDIDATE_BARS:,}; ask for fewer --candidates or --bars")
    return candidates


def check_seed(seed: object) -> int:
    """A seed is a whole number ≥ 0 (any size)."""
    return _whole(seed, "seed", 0)


def read_primer(primer: str | os.PathLike, *, timeout: float | None = 60,
                memory_mb: int | None = 2048) -> dict[str, list[Event]]:
    """The events of a primer: a music file, read in a worker process with a budget of
    ``timeout`` seconds and ``memory_mb`` (as ``ingest`` reads each file), or a corpus piece
    as ``bach:NAME``."""
    text = str(primer)
    if text.startswith("bach:"):
        from ..corpus import bach_piece_file
        from ..music.reading import read_file

        try:
            path, index = bach_piece_file(text.split(":", 1)[1])
        except BadArgumentError as exc:
            raise BadArgumentError(f"primer {text!r}: {exc}") from None
        return dict(read_file(path, bach=True)[index].staves)

    path = Path(text)
    if not path.is_file():
        raise BadArgumentError(f"primer {text!r} is neither a file nor 'bach:PIECE'")
    from ..corpus.loading import read_limited
    from ..errors import BadInputError

    try:
        return dict(read_limited(path, timeout=timeout, memory_mb=memory_mb)[0].staves)
    except BadInputError as exc:
        raise BadArgumentError(f"primer {exc}") from None


def compose_many(
    candidates: int, *, bars: int = 16, key: str | Key = "C major", tempo: float = 96,
    time_signature: str = "4/4", seed: int | None = None, models: str = "bach",
    top_k_pitch: int = 10, top_k_duration: int = 5, temperature: float = 1.0,
    primer: str | os.PathLike | None = None, title: str | None = None,
    composer: str | None = None, ending: str = "cadence", rules: bool = True,
    form: str = "auto", staves: str = "piano", phrases: str = "auto", fermatas: bool = True,
    pickup: str = "auto",
) -> list[Piece]:
    """``candidates`` pieces sampled in one batch; see :func:`compose` for the options."""
    from ..music.notation import pickup_length
    from .coupled import ENDINGS
    from .form import auto_form, form_text, is_auto, parse_form
    from .phrasing import AUTO, PhrasePlan, draw_plan, parse_phrases, parse_pickup

    if ending not in ENDINGS:
        raise BadArgumentError(f"ending {ending!r} is not one of {', '.join(ENDINGS)}")
    bars = check_bars(bars)
    staff_split = check_staff_split(staves)
    key = key if isinstance(key, Key) else Key.parse(key)
    tempo = check_tempo(tempo)
    temperature = check_temperature(temperature)
    bar = bar_length(time_signature)
    check_candidates(candidates, bars)
    parse_phrases(phrases, bars)  # a bad plan is refused before any work
    pickup_asked = parse_pickup(pickup, time_signature)
    if primer is not None and pickup_asked not in (AUTO, 0):
        raise BadArgumentError(f"pickup {pickup!r} and a primer: the primer leads into the "
                               "piece; leave out one of them")
    plan = parse_form(form, bars)
    title = clean_text(title, "title") if title is not None else None
    composer = clean_text(composer, "composer") if composer is not None else None
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
    seed = check_seed(seed)
    samplers = staff_samplers(CLEFS, top_k_pitch, top_k_duration, temperature, seed)
    primer_events = read_primer(primer) if primer is not None else {c: None for c in CLEFS}
    generators = _generators(str(models))
    ending = _possible_ending(generators, ending, models, time_signature, key.mode)
    phrase_plan = _phrase_plan(generators, phrases, bars, time_signature, seed)
    if is_auto(form) and hasattr(generators, "cadence_problem"):
        # a form over the phrase plan (four-bar phrases without one); a set whose staves do
        # not hear each other cannot restate a melody and writes straight through
        plan = auto_form(phrase_plan.lengths if phrase_plan
                         else draw_plan(bars, time_signature, None, seed).lengths)
        if phrase_plan:  # a restated phrase ends where its first statement did
            phrase_plan = phrase_plan.restating([letter for letter, *_ in plan])
    elif plan and phrase_plan and parse_phrases(phrases, bars) == AUTO:
        # a form given with the default plan: its phrases are the plan's
        phrase_plan = PhrasePlan(tuple(end - start for *_, start, end in plan),
                                 phrase_plan.position, phrase_plan.lead)
    phrase_ends = (phrase_plan.ends(time_signature, _closing(ending, time_signature))
                   if phrase_plan else None)
    lead = _pickup(generators, phrase_plan, primer_events, pickup_asked, bar)
    # a pickup comes before the bars asked for: the loop writes a bar more, its first the
    # lead's rest and the pickup, and the plan's phrase ends move a bar later
    pickup_bars = 1 if lead else 0  # None (no plan) and 0 open on the downbeat
    length = bar * (bars + pickup_bars)
    if phrase_ends and pickup_bars:
        phrase_ends = [end + int(bar * TICKS_PER_QUARTER) for end in phrase_ends]
    coupled, staves, shifts, skipped = _sample_staves(
        generators, key=key, length=length, time_signature=time_signature,
        samplers=samplers, candidates=candidates, primer=primer_events, ending=ending,
        rules=rules, phrase_ends=phrase_ends, lead=lead)
    if plan and len({letter for letter, *_ in plan}) < len(plan):  # something comes back
        if not coupled:
            raise BadArgumentError(f"model set {models!r} has clefs that do not hear each "
                                   "other; a form needs a coupled set")
        from .form import cadence_bars, form_melody

        free_from = bars - cadence_bars(time_signature) if ending == "cadence" else bars
        melodies = [form_melody(staves["treble"][i], plan, int(bar * TICKS_PER_QUARTER),
                                free_from, pickup_bars) for i in range(candidates)]
        coupled, staves, shifts, skipped = _sample_staves(
            generators, key=key, length=length, time_signature=time_signature,
            samplers=samplers, candidates=candidates, primer=primer_events, ending=ending,
            rules=rules, melody=melodies, phrase_ends=phrase_ends, restating=True, lead=lead)
    held = tuple(Fraction(t, TICKS_PER_QUARTER) for t in phrase_ends or ()) if fermatas else ()
    pieces = []
    for index in range(candidates):
        piece_staves = {c: tuple(fit_to_piano(e.transposed(shifts[index][c]))
                                 for e in staves[c][index]) for c in CLEFS}
        pieces.append(Piece(
            staves=piece_staves, key=key, time_signature=time_signature, tempo=tempo,
            title=title or f"Piece in {key}", composer=composer or f"grandstaff ({models})",
            info={"seed": seed, "candidate": index, "models": str(models),
                  "top_k_pitch": top_k_pitch, "top_k_duration": top_k_duration,
                  "temperature": temperature, "primer": str(primer) if primer else None,
                  "duration_temperatures": {c: samplers[c][1].temperature for c in CLEFS},
                  "shift": shifts[index]["treble"], "bass_shift": shifts[index]["bass"],
                  "ending": ending if coupled else "open", "rules": rules and coupled,
                  "skipped_rules": skipped[index],
                  "form": form_text(plan),
                  "phrases": phrase_plan.text if phrase_plan else "none",
                  "pickup": str(pickup_length(piece_staves, bar)),
                  "phrase_ends": ([str(Fraction(t, TICKS_PER_QUARTER)) for t in phrase_ends]
                                  if phrase_ends else [])},
            staff_split=staff_split, fermatas=held,
        ))
    return pieces


def _phrase_plan(generators, phrases: str, bars: int, time_signature: str, seed: int):
    """The phrase plan of a piece (``None`` for ``"none"``, or where the set was trained
    before its models heard phrases: a plan they cannot hear is not claimed)."""
    from .phrasing import plan_for

    if not getattr(generators, "phrased", False):
        return None
    return plan_for(phrases, bars, time_signature, generators.phrase_statistics, seed)


def _pickup(generators, phrase_plan, primer, asked, bar: Fraction) -> int | None:
    """The ticks both hands rest before the pickup: for ``"auto"`` the plan's lead where every
    staff can write a rest that long (else 0), and ``None`` without a plan (the models
    choose how to open); for a given pickup, the rest before it, refused in one line where
    the set cannot write that rest; ``None`` after a primer, which leads in."""
    from .phrasing import AUTO

    if any(events for events in primer.values()):
        return None
    if asked == AUTO:
        if not phrase_plan:
            return None
        lead = phrase_plan.lead
    else:
        lead = int((bar - asked) * TICKS_PER_QUARTER) if asked else 0
    if not lead:
        return 0
    clefs = getattr(generators, "generators", {})
    if clefs and all(_fillable(lead, g.duration_ticks) for g in clefs.values()):
        return lead
    if asked == AUTO:
        return 0
    raise BadArgumentError(f"pickup {asked} cannot be written by this model set: its "
                           f"durations cannot make the {bar - asked} quarters of rest before "
                           "it (or its staves do not hear each other); try 'auto' or 'none'")


def _fillable(ticks: int, durations) -> bool:
    """True if rests of ``durations`` (ticks) can add up to ``ticks`` exactly."""
    lengths = {int(t) for t in durations if 0 < t <= ticks}
    reached = [True] + [False] * ticks  # reached[t]: t ticks can be written
    for total in range(1, ticks + 1):
        reached[total] = any(reached[total - n] for n in lengths if n <= total)
    return reached[ticks]


def _closing(ending: str, time_signature: str) -> Fraction | None:
    """How long the closing chord of a cadence ending lasts (``None`` for an open end)."""
    from .rules import final_span

    return final_span(time_signature) if ending == "cadence" else None


def _possible_ending(generators, ending: str, models: str, time_signature: str,
                     mode: str) -> str:
    """``ending``, or ``"open"`` with a warning where the set cannot write the cadence."""
    problem = (generators.cadence_problem(time_signature, mode)
               if ending == "cadence" and hasattr(generators, "cadence_problem") else None)
    if problem is None:
        return ending
    warnings.warn(GrandstaffWarning(
        f"model set {models!r} cannot close on a cadence in {time_signature} {mode}: "
        f"{problem}; the piece ends open (as with --ending open)"), stacklevel=3)
    return "open"


def _sample_staves(generators, *, key: Key, length, time_signature: str, samplers,
                   candidates: int, primer, ending: str, rules: bool, melody=None,
                   phrase_ends: list[int] | None = None, restating: bool = False,
                   lead: int | None = None):
    """(coupled, {clef: staves}, each candidate's {clef: shift}, each candidate's skipped
    rules). A coupled set writes the treble for the shift planned before sampling; a set from
    before coupling is placed after, one shift for both staves."""
    from .coupled import CoupledGenerator
    from .generation import generate_staves

    semitones = key.semitones_from_reference()
    if isinstance(generators, CoupledGenerator):
        planned = planned_shift(semitones, generators.centres,  # both hands move together
                                generators.registers)
        shift = {"treble": planned, "bass": planned}
        notes: dict = {}
        staves = generators.generate(mode=key.mode, length=length,
                                     time_signature=time_signature, samplers=samplers,
                                     candidates=candidates, primer=primer, ending=ending,
                                     shift=planned, rules=rules, notes=notes,
                                     melody=melody, phrase_ends=phrase_ends,
                                     restating=restating, lead=lead)
        skipped = [sorted({name for clef in CLEFS for name in notes["skipped_rules"][clef][i]})
                   for i in range(candidates)]
        return True, staves, [shift] * candidates, skipped
    staves = {clef: generate_staves(
        generators[clef], mode=key.mode, length=length, candidates=candidates,
        pitch_sampler=samplers[clef][0], duration_sampler=samplers[clef][1],
        primer=primer[clef], bar=bar_length(time_signature)) for clef in CLEFS}
    shifts = []
    for index in range(candidates):
        placed = written_shift({c: staves[c][index] for c in CLEFS}, semitones)
        shifts.append({c: placed for c in CLEFS})
    return False, staves, shifts, [[] for _ in range(candidates)]


def compose(*, bars: int = 16, key: str | Key = "C major", tempo: float = 96,
            time_signature: str = "4/4", seed: int | None = None, models: str = "bach",
            top_k_pitch: int = 10, top_k_duration: int = 5, temperature: float = 1.0,
            primer: str | os.PathLike | None = None, title: str | None = None,
            composer: str | None = None, candidates: int = DEFAULT_CANDIDATES,
            ending: str = "cadence", rules: bool = True, form: str = "auto",
            staves: str = "piano", phrases: str = "auto", fermatas: bool = True,
            pickup: str = "auto") -> Piece:
    """A new piece: ``bars`` complete bars in both hands, in ``key`` at ``tempo``.

    ``seed`` makes it reproducible (a random one is drawn and kept in ``piece.info`` if
    omitted); ``primer`` (a file or ``"bach:PIECE"``) conditions the models without its events
    being copied into the piece. ``candidates`` pieces are sampled in one batch and the first
    that music21's key analysis hears in the requested mode is returned (the first of all if
    none is); ``piece.info`` records which, and whether the mode matched. ``ending="cadence"``
    closes on the tonic chord with the tonic in the bass; ``"open"`` stops where the last bar
    ends (a model set trained before the staves heard each other always ends open).
    ``rules=False`` samples the models alone under the essential rules only (see
    :mod:`grandstaff.composing.rules`; the cadence still follows ``ending``);
    ``piece.info["rules"]`` says which. A ban that no token could keep at some step is
    skipped there, named in ``piece.info["skipped_rules"]`` and warned about. ``form``: a
    letter per phrase (``"AABA"``, ``"ABAB'"``; see :mod:`grandstaff.composing.form`), a
    repeated letter restating the earlier phrase's melody under new harmony; ``"auto"`` (the
    default) lays one over the phrase plan, restating at most a quarter of the bars;
    ``"none"`` writes straight through. ``staves="piano"`` (the default) writes the
    tenor in the right hand where it fits there (:mod:`grandstaff.music.hands`; the sound is
    the same); ``"as-sampled"`` keeps the models' split, tenor and bass in the left hand.
    ``temperature``: the pitch heads' (above 1 bolder, below 1 safer); the duration heads
    draw at their share of it (:data:`~grandstaff.composing.sampling.DURATION_TEMPERATURE`:
    the right hand's 0.8), recorded in ``piece.info["duration_temperatures"]``.
    ``phrases``: where the piece breathes (:mod:`grandstaff.composing.phrasing`): ``"auto"``
    (the default) draws phrase lengths from the corpus's for the meter, ``"4,4,2,2"`` gives
    bars per phrase, ``"none"`` composes without a plan; ``piece.info["phrases"]`` records
    the plan and ``piece.info["phrase_ends"]`` where each phrase ends (in quarters).
    ``fermatas``: mark each phrase end with a fermata (held a little in the MIDI too).
    ``pickup``: ``"auto"`` (the default) opens with a pickup as often as the corpus's pieces
    in the meter do (most 4/4 chorales: one beat; drawn with the phrase plan, none without
    one), ``"none"`` on the downbeat, ``"1"`` or ``"1/2"`` a pickup that many quarters long,
    written as an anacrusis before the ``bars`` complete bars (the staves then open with the
    rest that completes its bar).
    ``piece.info["pickup"]`` records its length in quarters (``"0"``: none).

    >>> piece = compose(bars=8, key="E minor", seed=3)     # doctest: +SKIP
    >>> piece.info["mode_matched"]                         # doctest: +SKIP
    True
    """
    pieces = compose_many(candidates, bars=bars, key=key, tempo=tempo,
                          time_signature=time_signature, seed=seed, models=models,
                          top_k_pitch=top_k_pitch, top_k_duration=top_k_duration,
                          temperature=temperature, primer=primer, title=title,
                          composer=composer, ending=ending, rules=rules, form=form,
                          staves=staves, phrases=phrases, fermatas=fermatas, pickup=pickup)
    wanted = pieces[0].key.mode
    chosen = next((p for p in pieces if p.analysed_mode() == wanted), None)
    matched = chosen is not None
    chosen = chosen or pieces[0]
    if chosen.info["skipped_rules"]:
        warnings.warn(GrandstaffWarning(
            f"model set {models!r} could not keep the rules "
            f"{', '.join(chosen.info['skipped_rules'])} at every step (its vocabulary has no "
            "token that keeps them there); they were skipped there"
            + (", so the piece may not close on the tonic: try --ending open"
               if "cadence chords" in chosen.info["skipped_rules"] else "")), stacklevel=2)
    return replace(chosen, info={**chosen.info, "candidates": len(pieces),
                                 "mode_matched": matched})
