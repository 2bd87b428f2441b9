"""``harmonize``: a given melody becomes the top voice of a two-hand piano piece.

The melody is a constraint of the sampling loop (the rules ``melody kept`` and ``melody's
rhythm kept`` of :mod:`grandstaff.composing.rules`): at every treble onset the highest note is
the melody's note, struck where the melody strikes it and held where it holds it, a rest where
it rests, and no treble event crosses a melody onset. The alto under it and the whole bass are
sampled by the coupled models, with every other rule on. Where the melody ends as a cadence
does (its last note the tonic, the one before it a note of the dominant seventh) the piece
closes V(7)–I under it, the spans taken from the melody's last two notes; otherwise it ends
open.

>>> import grandstaff as gs
>>> piece = gs.harmonize([(67, 1), (69, 1), (71, 2), (74, 1), (72, 1), (71, 2)],
...                      key="G major", seed=3)                              # doctest: +SKIP
>>> piece.info["melody_kept"]                                             # doctest: +SKIP
1.0
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import replace
from fractions import Fraction

import numpy as np

from ..bounds import MAX_ABC_CHARACTERS, check_temperature, check_tempo
from ..errors import BadArgumentError
from ..music.events import CLEFS, Event, bar_length, events_until, total_duration
from ..music.hands import check_staff_split
from ..music.keys import Key
from ..music.melody import Melody, note_name
from ..music.vocab import TICKS_PER_QUARTER
from ..text import clean_text
from .composer import (
    DEFAULT_CANDIDATES,
    _generators,
    _possible_ending,
    check_bars,
    check_candidates,
    check_seed,
)
from .piece import Piece, fit_to_piano
from .sampling import staff_samplers


def read_melody_source(source: str | os.PathLike, *, abc: bool = False,
                       timeout: float | None = 60, memory_mb: int | None = 2048) -> Melody:
    """The melody of a music file, or of ABC text with ``abc``, read in a worker process with
    ingest's budget of ``timeout`` seconds and ``memory_mb``."""
    from ..workers import run_jobs

    text = str(source)
    if abc:
        text = text.replace("\\n", "\n")  # typed on one line of a shell
        if len(text) > MAX_ABC_CHARACTERS:
            raise BadArgumentError(f"the ABC tune is {len(text):,} characters long; at most "
                                   f"{MAX_ABC_CHARACTERS:,}")
    elif not os.path.isfile(text):
        raise BadArgumentError(f"melody {text!r} is not a file; give a MIDI, MusicXML, kern "
                               "or ABC file, or the tune itself with --abc")
    (result,) = run_jobs("grandstaff.composing.harmonizing:_read", [(text, abc)],
                         seconds=timeout, memory_mb=memory_mb,
                         preload=("grandstaff.music.reading", "music21"))
    if not result.ok:
        raise BadArgumentError(f"melody {'(ABC)' if abc else os.path.basename(text)}: "
                               f"{result.reason}")
    kind, value = result.value
    if kind == "refused":
        raise BadArgumentError(value if abc else f"melody {os.path.basename(text)}: {value}")
    return value


def _read(text: str, abc: bool):
    """In the worker: ("ok", melody) or ("refused", one line)."""
    from ..errors import GrandstaffError
    from ..music.reading import read_melody

    try:
        return "ok", read_melody(text, abc=abc)
    except GrandstaffError as exc:
        return "refused", str(exc)


def as_melody(melody: Melody | str | os.PathLike | Sequence[tuple[int | None, object]], *,
              key: str | Key | None = None, time_signature: str | None = None,
              abc: bool = False) -> Melody:
    """``melody`` as a :class:`Melody`: one already, a file (or ABC text with ``abc``), or
    (MIDI number or ``None``, quarter notes) pairs; then in ``key`` and ``time_signature``
    where they are given (pairs default to C major, 4/4)."""
    if isinstance(melody, Melody):
        tune = melody
    elif abc or isinstance(melody, (str, os.PathLike)):
        tune = read_melody_source(melody, abc=abc)
    else:
        tune = Melody.of(list(melody), key=key or "C major",
                         time_signature=time_signature or "4/4")
    if time_signature is not None and time_signature != tune.time_signature:
        tune = tune.with_meter(time_signature)
    if key is not None:
        key = key if isinstance(key, Key) else Key.parse(str(key))
        if key != tune.key:
            tune = tune.in_key(key)
    return tune


def harmonize(melody: Melody | str | os.PathLike | Sequence[tuple[int | None, object]], *,
              key: str | Key | None = None, time_signature: str | None = None,
              abc: bool = False, tempo: float = 96, seed: int | None = None,
              models: str = "bach", top_k_pitch: int = 10, top_k_duration: int = 5,
              temperature: float = 1.0, candidates: int = DEFAULT_CANDIDATES,
              rules: bool = True, title: str | None = None,
              composer: str | None = None, staves: str = "piano") -> Piece:
    """A two-hand piece whose treble's top voice is ``melody``: a file (its first part's top
    line), ABC text (``abc=True``), a :class:`~grandstaff.music.melody.Melody`, or
    (MIDI number or ``None``, quarter notes) pairs. ``key`` and ``time_signature`` come from
    the melody unless given (a key moves the melody there). ``candidates`` pieces are sampled
    at once; the first that keeps every melody note and is heard in the melody's mode is
    returned. ``piece.info`` holds ``melody_kept`` (the share of its notes kept, 1.0 unless a
    rule had to give way), the ending and the seed. ``staves``: as in
    :func:`~grandstaff.composing.composer.compose`. The models hear the melody's phrase
    ends (:meth:`~grandstaff.music.melody.Melody.phrase_ends`: its fermatas, else its rests
    and long notes; ``piece.info["phrase_ends"]``), and its fermatas are written. A tune in
    a meter the models never learned whose halved beats they did (4/2) is set at half its
    lengths and written back (:func:`in_learned_meter`; ``piece.info["sampled_meter"]``).
    """
    staff_split = check_staff_split(staves)
    tune = as_melody(melody, key=key, time_signature=time_signature, abc=abc)
    bars = check_bars(tune.bars)
    tempo = check_tempo(tempo)
    temperature = check_temperature(temperature)
    check_candidates(candidates, bars)
    title = clean_text(title, "title") if title is not None else None
    composer = clean_text(composer, "composer") if composer is not None else None
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
    seed = check_seed(seed)
    from .coupled import CoupledGenerator

    generators = _generators(str(models))
    if not isinstance(generators, CoupledGenerator):
        raise BadArgumentError(f"model set {models!r} has clefs that do not hear each other; "
                               "harmonising needs a coupled set (retrain it with "
                               "'grandstaff train')")
    table = generators.generators["treble"].table
    shift = melody_shift(tune, table)
    meters = generators.generators["treble"].vocab.meter
    written, (tune, factor) = tune, in_learned_meter(tune, meters if meters is not None else ())
    ending, spans = melody_ending(tune)
    if ending == "cadence":
        ending = _possible_ending(generators, ending, models, tune.time_signature,
                                  tune.key.mode)
    samplers = staff_samplers(CLEFS, top_k_pitch, top_k_duration, temperature, seed)
    notes: dict = {}
    phrase_ends = tune.phrase_ends()
    staves = generators.generate(
        mode=tune.key.mode, length=bar_length(tune.time_signature) * bars,
        time_signature=tune.time_signature, samplers=samplers, candidates=candidates,
        primer=None, ending=ending, shift=shift, rules=rules, notes=notes,
        melody=tune.ticks(shift), spans=spans if ending == "cadence" else None,
        phrase_ends=[int(f * TICKS_PER_QUARTER) for f in phrase_ends])
    pieces = []
    sampled_meter = tune.time_signature
    tune, phrase_ends = written, written.phrase_ends()  # the melody as it is written
    for index in range(candidates):
        sampled = {c: [replace(e, duration=e.duration / factor) for e in staves[c][index]]
                   for c in CLEFS}
        piece_staves = {c: tuple(fit_to_piano(e.transposed(shift))
                                 for e in silent_from(sampled[c], tune.end_of_sound))
                        for c in CLEFS}
        skipped = sorted({name for clef in CLEFS
                          for name in notes["skipped_rules"][clef][index]})
        pieces.append(Piece(
            staves=piece_staves, key=tune.key, time_signature=tune.time_signature,
            tempo=tempo, title=title or tune.title or f"Melody harmonised in {tune.key}",
            composer=composer or f"harmonised by grandstaff ({models})",
            info={"seed": seed, "candidate": index, "models": str(models),
                  "top_k_pitch": top_k_pitch, "top_k_duration": top_k_duration,
                  "temperature": temperature, "shift": shift, "bass_shift": shift,
                  "duration_temperatures": {c: samplers[c][1].temperature for c in CLEFS},
                  "ending": ending, "rules": rules, "skipped_rules": skipped,
                  "harmonized": True, "melody_notes": len(tune.sounding()),
                  "sampled_meter": sampled_meter,
                  "melody_kept": melody_kept(tune, piece_staves["treble"]),
                  "phrase_ends": ([str(f) for f in phrase_ends] if generators.phrased
                                  else [])},
            staff_split=staff_split, fermatas=tune.fermatas or (),
            spelling=tuple(tune.spelling())))
    kept = [p for p in pieces if p.info["melody_kept"] == 1.0] or pieces
    wanted = tune.key.mode
    chosen = next((p for p in kept if p.analysed_mode() == wanted), None)
    matched = chosen is not None
    chosen = chosen or max(kept, key=lambda p: p.info["melody_kept"])
    return replace(chosen, info={**chosen.info, "candidates": len(pieces),
                                 "mode_matched": matched})


def in_learned_meter(tune: Melody, meters: Collection[str]) -> tuple[Melody, Fraction]:
    """``tune`` in a meter the models learned, and the factor its lengths were multiplied by:
    a tune in a meter they never heard whose beats, halved, make one they did (4/2 is 4/4 in
    half notes) is harmonised halved, at the chorales' quarter-note pulse, and its setting
    doubled back; any other tune as it is (factor 1). Without this the models wrote eighths
    and chromatic notes under the Essen "Hildebrandslied"'s half and whole notes, in a 4/2
    bar they read as unknown.

    >>> tune = Melody.of([(67, 4), (69, 4)], key="G major", time_signature="4/2")
    >>> halved, factor = in_learned_meter(tune, ["4/4", "3/4"])
    >>> halved.time_signature, halved.notes[0], factor
    ('4/4', (67, Fraction(2, 1)), Fraction(1, 2))
    >>> in_learned_meter(halved, ["4/4", "3/4"])[1]
    Fraction(1, 1)
    """
    top, _, bottom = tune.time_signature.partition("/")
    halved = f"{top}/{int(bottom) * 2}" if bottom.isdigit() else ""
    if tune.time_signature in meters or halved not in meters:
        return tune, Fraction(1)
    try:
        return tune.scaled(Fraction(1, 2), halved), Fraction(1, 2)
    except BadArgumentError:  # a length the grid cannot halve: as it is
        return tune, Fraction(1)


def silent_from(events: Sequence[Event], end: Fraction) -> list[Event]:
    """``events`` silent from ``end`` on, as long as before: an event sounding across ``end``
    is cut there and a rest fills the staff after it. Where a melody's last bar ends in a
    rest, the hands let go with its last note, as every voice of a chorale does (the models'
    bass held its closing chord through the rest).

    >>> silent_from([Event((48, 60), Fraction(1)), Event((43,), Fraction(2)),
    ...              Event((43,), Fraction(1), held=(43,))], Fraction(2))
    [Event(pitches=(48, 60), duration=Fraction(1, 1), held=()), \
Event(pitches=(43,), duration=Fraction(1, 1), held=()), \
Event(pitches=(), duration=Fraction(2, 1), held=())]
    """
    kept = events_until(events, end)
    after = total_duration(events) - end
    if after > 0 and kept and not kept[-1].pitches:
        kept[-1] = Event((), kept[-1].duration + after)
    elif after > 0:
        kept.append(Event((), after))
    return kept


def melody_shift(tune: Melody, table) -> int:
    """The semitones from the models' reference key (C major, A minor) up to the melody as
    written: the octave that brings its notes nearest the middle of the treble's top voice
    in the models' vocabulary. A melody that still leaves that range is refused, saying by
    how far.

    Raises :class:`BadArgumentError` naming the lowest or highest note and the distance."""
    tops = table.highest(-1)
    tops = tops[tops >= 0]
    low, high = int(tops.min()), int(tops.max())
    centre = float(np.median(tops))
    notes = tune.sounding()
    mean = float(np.mean(notes))
    base = tune.key.semitones_from_reference() % 12
    shift = min((base + 12 * k for k in range(-5, 6)),
                key=lambda s: (abs(mean - s - centre), abs(s)))
    lowest, highest = min(notes) - shift, max(notes) - shift
    if lowest < low:
        raise BadArgumentError(
            f"the melody's lowest note, {note_name(min(notes))}, lies {low - lowest} "
            f"semitones below what the treble can sing around it ({note_name(low + shift)} to "
            f"{note_name(high + shift)}); its range is too wide, or move it with --key")
    if highest > high:
        raise BadArgumentError(
            f"the melody's highest note, {note_name(max(notes))}, lies {highest - high} "
            f"semitones above what the treble can sing around it ({note_name(low + shift)} to "
            f"{note_name(high + shift)}); its range is too wide, or move it with --key")
    return shift


#: Pitch classes of the dominant seventh above a tonic: 5, 7, 2, 4 (G, B, D, F in C).
_DOMINANT = (7, 11, 2, 5)


def melody_ending(tune: Melody) -> tuple[str, tuple[int, int] | None]:
    """``("cadence", (final span, dominant span) in ticks)`` where the melody ends on the
    tonic after a note of the dominant seventh (the final span from its last note to the end,
    the dominant span its note before), else ``("open", None)``."""
    padded = tune.padded()
    sounding = [i for i, (pitch, _) in enumerate(padded) if pitch is not None]
    if len(sounding) < 2:
        return "open", None
    last, before = sounding[-1], sounding[-2]
    tonic = tune.key.pitch_class
    if (padded[last][0] - tonic) % 12 != 0 or \
            (padded[before][0] - tonic) % 12 not in _DOMINANT:
        return "open", None
    final = sum((length for _, length in padded[last:]), Fraction(0))
    dominant = sum((length for _, length in padded[before:last]), Fraction(0))
    return "cadence", (int(final * TICKS_PER_QUARTER), int(dominant * TICKS_PER_QUARTER))


def melody_kept(tune: Melody, treble: Sequence[Event]) -> float:
    """The share of the melody's notes that are the treble's top voice: struck at their
    onset, the highest note of every treble event until their end, and held there."""
    onsets, at = [], Fraction(0)
    for event in treble:
        onsets.append(at)
        at += event.duration
    onsets.append(at)  # the staff's end
    kept = total = 0
    index, start = 0, Fraction(0)
    for pitch, length in tune.padded():
        end = start + length
        while index < len(treble) and onsets[index] < start:
            index += 1
        first = index
        while index < len(treble) and onsets[index] < end:
            index += 1
        if pitch is not None:
            total += 1
            inside = treble[first:index]
            kept += (bool(inside) and onsets[first] == start and end in (onsets[index],)
                     and all(e.pitches and max(e.pitches) == pitch for e in inside)
                     and pitch not in inside[0].held
                     and all(pitch in e.held for e in inside[1:]))
        start = end
    return kept / total if total else 1.0
