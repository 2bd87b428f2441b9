"""The measures of a comparison, as pure functions of pieces: each takes the sets of pieces
(held-out corpus pieces, composed pieces, n-gram samples) and returns numbers, with no
sampling, no files and no plots (the shape of muspy's ``metrics``).

All statistics are taken in the reference keys (C major / A minor), where the corpus lives;
mode agreement is judged on the written pieces in their requested keys.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..music.events import CLEFS, Event
from ..music.hands import TENTH, piano_staves
from ..music.keys import Key
from ..music.notation import build_score, ties_per_bar
from . import ensemble as en
from . import quality as q

KEYS = ("C major", "A minor", "G major", "E minor", "F major", "D minor", "Bb major",
        "G minor", "D major", "B minor")
BARS = 16
SETS = ("corpus", "model", "ngram")
LABELS = {"corpus": "held-out Bach", "model": "model", "ngram": "4-gram baseline"}
Staves = dict[str, list[Event]]


@dataclass
class PieceSet:
    """One set of pieces to measure: each in the reference key (``pieces``) and as written
    (``written``), with the mode asked for, its meter and the key it was asked in."""

    pieces: list[Staves] = field(default_factory=list)
    written: list[Staves] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    meters: list[str] = field(default_factory=list)
    keys: list[Key] = field(default_factory=list)


def measure(sets: dict[str, PieceSet], training: dict[str, list[list[Event]]],
            progress: bool = False) -> dict:
    """Every measure of the comparison: per clef, both hands, and novelty against the
    ``training`` pieces of each clef. ``sets`` is keyed by :data:`SETS`."""
    result: dict = {"clefs": {}, "both": {}}
    for clef in CLEFS:
        result["clefs"][clef] = _clef_table({s: [p[clef] for p in sets[s].pieces]
                                             for s in SETS})
    result["both"]["consonance"] = {
        s: _summary([q.consonance(p["treble"], p["bass"]) for p in sets[s].pieces])
        for s in SETS}
    result["both"]["mode_agreement"] = {s: mode_agreement(sets[s]) for s in SETS}
    result["both"].update(_ensemble(sets))
    result["novelty"] = novelty(sets, training, progress)
    return result


def mode_agreement(pieces: PieceSet) -> float:
    """The share of pieces music21's key analysis hears in the mode they were asked in."""
    hits = [_mode_of(p, k) == k.mode for p, k in zip(pieces.pieces, pieces.keys)]
    return round(sum(hits) / len(hits), 3)


def _mode_of(staves: Staves, key: Key) -> str:
    """The mode music21 hears in ``staves`` (reference key) written in ``key``."""
    from ..composing.piece import Piece

    shift = key.semitones_from_reference()
    return Piece({c: tuple(e.transposed(shift) for e in staves[c]) for c in CLEFS},
                 key=key).analysed_mode()


def novelty(sets: dict[str, PieceSet], training: dict[str, list[list[Event]]],
            progress: bool = False) -> dict:
    """The longest verbatim copy (in events) of each staff from a training piece."""
    from tqdm import tqdm

    found = {}
    indexes = {c: q.VerbatimIndex(training[c]) for c in CLEFS}
    for s in SETS:
        copies = [indexes[c].longest(p[c]) for p in tqdm(
            sets[s].pieces, desc=f"novelty ({s})", disable=not progress) for c in CLEFS]
        found[s] = {**_summary(copies), "max": max(copies), "values": sorted(copies)}
    return found


def _ensemble(sets: dict[str, PieceSet]) -> dict:
    """The both-hands measures of :mod:`grandstaff.judging.ensemble` for every set: harmony,
    cadence and voice leading in the reference keys; crossings and ledger lines where the
    notes are written (the requested keys; held-out Bach in its reference key)."""
    found: dict[str, dict] = {name: {} for name in (
        "final tonic", "final V-I", "top ends on tonic", "leading tone resolves",
        "final third in the bass staff", "minor ends major",
        "harmonic fit", "strong beats", "parallels", "crossings",
        "ledger lines", "hands apart", "voice parallels", "crossings by key", "ledger lines by key",
        "hands apart by key", "left-hand ledger lines", "right-hand ledger lines",
        "left-hand ledger lines by key", "wide left hand", "left hand past a tenth",
        "right-hand ties", "left-hand ties",
        "doubled leading tone", "false relations", "pre-dominant", "dominant restrikes",
        "cadence points", "longest without", "top repeats", "top steps")}
    for s in SETS:
        pieces, modes, meters = sets[s].pieces, sets[s].modes, sets[s].meters
        cadences = [en.final_cadence(p["treble"], p["bass"], tonic=_tonic(m), mode=m)
                    for p, m in zip(pieces, modes)]
        found["final tonic"][s] = _share([t for t, _ in cadences])
        found["final V-I"][s] = _share([v for _, v in cadences])
        tops = [en.cadence_top(p["treble"], tonic=_tonic(m))
                for p, m in zip(pieces, modes)]
        found["top ends on tonic"][s] = _share([ends for ends, _ in tops])
        found["leading tone resolves"][s] = _share([up for _, up in tops if up is not None])
        thirds = [en.final_third(p["treble"], p["bass"], tonic=_tonic(m)) for p, m in
                  zip(pieces, modes)]
        found["final third in the bass staff"][s] = _share([below for below, _ in thirds
                                                           if below is not None])
        found["minor ends major"][s] = _share([major for (below, major), m in zip(thirds, modes)
                                               if m == "minor" and below is not None])
        found["harmonic fit"][s] = _summary(
            [en.harmonic_fit(p["treble"], p["bass"], ts) for p, ts in zip(pieces, meters)])
        found["strong beats"][s] = {
            ts: _summary([en.strong_beat_share(p["treble"] + p["bass"], ts)
                          for p, m in zip(pieces, meters) if m == ts])
            for ts in sorted(set(meters))}
        found["parallels"][s] = _summary([en.parallels_per_100_beats(p["treble"], p["bass"], ts)
                                          for p, ts in zip(pieces, meters)])
        doubled = [en.doubled_leading_tones(p["treble"], p["bass"], tonic=_tonic(m))
                   for p, m in zip(pieces, modes)]
        found["doubled leading tone"][s] = (sum(d for d, _ in doubled)
                                            / max(1, sum(t for _, t in doubled)))
        false = [en.false_relations(p["treble"], p["bass"], mode=m)
                 for p, m in zip(pieces, modes)]
        found["false relations"][s] = 100 * (sum(f for f, _ in false)
                                             / max(1, sum(n for _, n in false)))
        approach = [en.cadence_approach(p["treble"], p["bass"], tonic=_tonic(m))
                    for p, m in zip(pieces, modes)]
        found["pre-dominant"][s] = _share([pre for pre, _ in approach if pre is not None])
        found["dominant restrikes"][s] = _share([run > 2 for pre, run in approach
                                                 if pre is not None])
        breaths = [en.breathing(p["treble"], p["bass"], tonic=_tonic(m), mode=m,
                                time_signature=ts) for p, m, ts in zip(pieces, modes, meters)]
        found["cadence points"][s] = _summary([points for points, _ in breaths])
        found["longest without"][s] = _summary([longest for _, longest in breaths])
        motion = [en.top_voice_motion(p["treble"]) for p in pieces]
        found["top repeats"][s] = _summary([repeats for repeats, _ in motion])
        found["top steps"][s] = _summary([steps for _, steps in motion])
        found["voice parallels"][s] = _summary(
            [en.voice_parallels_per_100_moves(p["treble"], p["bass"]) for p in pieces])
        crossings = [en.crossing_share(p["treble"], p["bass"]) for p in sets[s].written]
        ledger = [en.ledger_share(p["treble"]) for p in sets[s].written]
        found["crossings"][s], found["ledger lines"][s] = _summary(crossings), _summary(ledger)
        apart = [en.hands_apart_share(p["treble"], p["bass"], ts)
                 for p, ts in zip(sets[s].written, meters)]
        found["hands apart"][s] = _summary(apart)
        piano = [piano_staves(p) for p in sets[s].written]  # as the page writes them
        left_ledger = [en.left_hand_ledger_share(p["bass"]) for p in piano]
        found["left-hand ledger lines"][s] = _summary(left_ledger)
        found["right-hand ledger lines"][s] = _summary([en.ledger_share(p["treble"])
                                                        for p in piano])
        ties = [ties_per_bar(build_score(p, key=key, time_signature=ts))
                for p, key, ts in zip(piano, sets[s].keys, meters)]
        found["right-hand ties"][s] = _summary([t["treble"] for t in ties])
        found["left-hand ties"][s] = _summary([t["bass"] for t in ties])
        found["wide left hand"][s] = _summary(
            [en.wide_left_hand_share(p["bass"], ts) for p, ts in zip(piano, meters)])
        found["left hand past a tenth"][s] = _summary(
            [en.wide_left_hand_share(p["bass"], ts, widest=TENTH)
             for p, ts in zip(piano, meters)])
        if s != "corpus":
            found["crossings by key"][s] = _by_key(crossings, sets[s].keys)
            found["ledger lines by key"][s] = _by_key(ledger, sets[s].keys)
            found["hands apart by key"][s] = _by_key(apart, sets[s].keys)
            found["left-hand ledger lines by key"][s] = _by_key(left_ledger, sets[s].keys)
    return found


def _by_key(values: Sequence[float], keys: Sequence[Key]) -> dict[str, float]:
    """The mean of ``values`` for each key, in the order the keys first appear."""
    return {str(key): _summary([v for v, k in zip(values, keys) if k == key])["mean"]
            for key in dict.fromkeys(keys)}


def _tonic(mode: str) -> int:
    """The tonic's pitch class in the reference key of ``mode`` (C major, A minor)."""
    return 0 if mode == "major" else 9


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 3) if flags else float("nan")


def _summary(values: Sequence[float]) -> dict:
    clean = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
    if not clean:
        return {"mean": float("nan"), "sd": float("nan"), "median": float("nan"), "values": []}
    return {"mean": round(statistics.fmean(clean), 4),
            "sd": round(statistics.pstdev(clean), 4),
            "median": round(statistics.median(clean), 4),
            "values": [round(float(v), 4) for v in clean]}


def _clef_table(staves: dict[str, list[list[Event]]]) -> dict:
    table: dict[str, dict] = {}
    histograms = {"pitch classes": q.pitch_class_histogram,
                  "chord sizes": q.chord_size_histogram, "durations": q.duration_histogram}
    for name, function in histograms.items():
        pooled = {s: function([e for piece in staves[s] for e in piece]) for s in SETS}
        table[name] = {"histograms": {s: [round(float(x), 4) for x in pooled[s]] for s in SETS},
                       "overlap": {s: round(q.overlap_histograms(pooled[s], pooled["corpus"]), 3)
                                   for s in ("model", "ngram")}}
    scalars = {"pitch range": q.pitch_range, "rest ratio": q.rest_ratio,
               "pitch-class entropy": q.pitch_class_entropy,
               "scale consistency": q.scale_consistency, "longest repeat": q.longest_repeat,
               "re-strike rate": q.restrike_rate}
    for name, function in scalars.items():
        values = {s: _summary([float(function(piece)) for piece in staves[s]]) for s in SETS}
        table[name] = {"summary": values, "overlap": {
            s: round(q.overlap_values(values[s]["values"], values["corpus"]["values"]), 3)
            for s in ("model", "ngram")}}
    return table
