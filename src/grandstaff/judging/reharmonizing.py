"""Reharmonisation as a measure: the soprano of each held-out chorale harmonised by the model
set and by the 4-gram baseline under the same constraint, measured beside Bach's own setting.

>>> from grandstaff.judging.reharmonizing import reharmonize, format_reharmonization
>>> result = reharmonize(models="bach", seed=0)        # doctest: +SKIP
>>> print(format_reharmonization(result))               # doctest: +SKIP

Everything is measured in the reference keys (C major / A minor), where the corpus lives.
The soprano is the treble staff's top note at each onset (held notes joined), its pickup the
leading rest the corpus keeps. Bass agreement compares the lowest bass note's pitch class
with Bach's at every strong beat where both sound.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from ..music.events import CLEFS, Event, bar_length
from ..music.melody import soprano
from . import quality as q
from .ensemble import (
    STRONG_BEATS,
    cadences_on,
    harmonic_fit,
    sounding_at,
    voice_parallels_per_100_moves,
)
from .two_sample import classifier_auc, piece_features

#: The sets a reharmonisation compares, and how the report names them.
REHARMONIZED = {"model": "model set", "ngram": "4-gram", "bach": "Bach's own setting"}


def bass_agreement(bass: Sequence[Event], reference: Sequence[Event],
                   time_signature: str) -> float:
    """Share of strong beats (both sounding) whose lowest bass pitch class is the reference's."""
    bar = bar_length(time_signature)
    strong = [Fraction(x) for x in STRONG_BEATS.get(time_signature, (0,))]
    end = min(sum((e.duration for e in bass), Fraction(0)),
              sum((e.duration for e in reference), Fraction(0)))
    same = total = 0
    start = Fraction(0)
    while start < end:
        for beat in strong:
            time = start + beat
            ours, theirs = sounding_at(bass, time), sounding_at(reference, time)
            if ours and theirs:
                total += 1
                same += min(ours) % 12 == min(theirs) % 12
        start += bar
    return same / total if total else float("nan")


def reharmonize(models: str = "bach", seed: int = 0, corpus=None, progress: bool = True,
                rules: bool = True, limit: int | None = None) -> dict:
    """Harmonise the soprano of each held-out piece of ``models``'s split (at most ``limit``)
    with the model set (one sample each, seed ``seed + i``) and with the 4-gram baseline
    under the same melody rules, and measure both beside the pieces themselves."""
    from tqdm import tqdm

    from ..composing.harmonizing import harmonize, melody_kept
    from ..corpus import load_corpus
    from ..models.model import load_models
    from ..models.ngram import ngram_generators
    from ..music.keys import Key
    from ..music.melody import Melody

    metrics = load_models(models)["treble"].metrics
    corpus = corpus or load_corpus(metrics.get("source", "bach"), progress=False)
    names = [p for p in metrics.get("held_out_pieces", []) if p in set(corpus.piece_names())]
    names = names[:limit] if limit else names
    modes = dict(zip(corpus.pieces["piece"], corpus.pieces["mode"]))
    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))
    train = [p for p in corpus.piece_names() if p not in set(names)]
    ngram = ngram_generators(corpus, train)
    rows: dict[str, list[dict]] = {name: [] for name in REHARMONIZED}
    features: dict[str, list[dict]] = {name: [] for name in REHARMONIZED}
    refused: list[str] = []
    for index, name in enumerate(tqdm(names, desc="reharmonising", disable=not progress)):
        bach = {c: corpus.events(c, name) for c in CLEFS}
        meter, mode = meters[name], modes[name]
        key = Key("C", "major") if mode == "major" else Key("A", "minor")
        try:
            tune = Melody.of(soprano(bach["treble"]), key=key, time_signature=meter,
                             fermatas=corpus.fermatas(name))
            piece = harmonize(tune, seed=seed + index, models=models, candidates=1,
                              rules=rules)
        except Exception as exc:  # a meter or melody the set cannot take: said, not hidden
            refused.append(f"{name}: {exc}")
            continue
        ours = {c: [e.transposed(-piece.info["shift"]) for e in piece.staves[c]] for c in CLEFS}
        fermatas = corpus.fermatas(name) or []
        theirs = _ngram_setting(ngram, tune, seed + index, rules)
        for kind, staves, kept in (("model", ours, piece.info["melody_kept"]),
                                   ("ngram", theirs, melody_kept(tune, theirs["treble"])),
                                   ("bach", bach, 1.0)):
            rows[kind].append({**_measures(staves, bach, meter, kept), "fermata_cadences":
                               cadences_on(staves["treble"], staves["bass"], fermatas,
                                           tonic=key.pitch_class, mode=mode,
                                           time_signature=meter)})
        for kind, staves in (("model", ours), ("ngram", theirs), ("bach", bach)):
            features[kind].append(piece_features(staves, meter))
    summary = {kind: {measure: _mean([row[measure] for row in found])
                      for measure in (found[0] if found else {})}
               for kind, found in rows.items()}
    two_sample = ({kind: classifier_auc(features[kind], features["bach"], seed=seed)
                   for kind in ("model", "ngram")} if len(features["bach"]) >= 4 else {})
    return {"models": models, "seed": seed, "rules": rules, "pieces": len(rows["model"]),
            "refused": refused, "summary": summary, "two_sample": two_sample}


def _measures(staves, bach, meter: str, kept: float) -> dict[str, float]:
    treble, bass = staves["treble"], staves["bass"]
    return {"melody_kept": kept,
            "harmonic_fit": harmonic_fit(treble, bass, meter),
            "consonance": q.consonance(treble, bass),
            "voice_parallels": voice_parallels_per_100_moves(treble, bass),
            "bass_agreement": bass_agreement(bass, bach["bass"], meter)}


def _mean(values: Sequence[float]) -> float:
    values = [v for v in values if v == v]  # nan: not measurable in that piece
    return float(np.mean(values)) if values else float("nan")


def _ngram_setting(generators: dict, tune, seed: int,
                   rules: bool = True) -> dict[str, list[Event]]:
    """The 4-gram's treble under the melody (its top voice kept by the same rules), and its
    bass, which hears the melody ahead as the set's bass does (the 4-gram hears no alto)."""
    from ..composing.generation import generate_staves
    from ..composing.sampling import TopKSampler

    rng = np.random.default_rng(seed)
    bar = bar_length(tune.time_signature)
    length = bar * tune.bars
    staves = {}
    for clef in CLEFS:
        staves[clef] = generate_staves(
            generators[clef], mode=tune.key.mode, length=length,
            pitch_sampler=TopKSampler(10, seed=rng.spawn(1)[0]),
            duration_sampler=TopKSampler(5, seed=rng.spawn(1)[0]), bar=bar,
            melody=tune.ticks(0), rules=rules)[0]
    return staves


def format_reharmonization(result: dict) -> str:
    """The reharmonisation as a Markdown section."""
    summary = result["summary"]
    names = {"melody_kept": "melody notes kept on top (share)",
             "harmonic_fit": "harmonic fit (beats that fit one triad or V7)",
             "consonance": "consonant treble/bass pairs (share)",
             "voice_parallels": "parallel fifths/octaves between any two voices (per 100 "
                                "moves)",
             "bass_agreement": "bass pitch class = Bach's on strong beats (share)",
             "fermata_cadences": "a cadence (I, V or vi held a beat) on the chorale's "
                                 "fermatas (share)"}
    lines = ["## Reharmonising the held-out chorales", "",
             f"The soprano of each of the {result['pieces']} held-out pieces harmonised by "
             f"`{result['models']}` (one sample each, seeds from {result['seed']}"
             f"{'' if result['rules'] else ', the models alone'}) and by the 4-gram baseline "
             "under the same melody rules (its bass hears the melody as the set's does, but "
             "not the alto), beside Bach's own setting. Reproduce with `grandstaff evaluate "
             f"--models {result['models']} --samples 50 --seed {result['seed']} "
             f"{'' if result['rules'] else '--no-rules '}--reharmonize`.", "",
             "| measure | " + " | ".join(REHARMONIZED.values()) + " |",
             "|---|" + "---|" * len(REHARMONIZED)]
    for measure, label in names.items():
        lines.append(f"| {label} | " + " | ".join(
            f"{summary.get(kind, {}).get(measure, float('nan')):.3f}"
            for kind in REHARMONIZED) + " |")
    for kind, test in result.get("two_sample", {}).items():
        lines.append(f"| classifier two-sample AUC against Bach's settings, {REHARMONIZED[kind]} "
                     f"(logistic / boosted; 0.5: cannot be told apart) | "
                     + " | ".join(f"{test['logistic']['auc']:.3f} / {test['boosted']['auc']:.3f}"
                                  if k == kind else "–" for k in REHARMONIZED) + " |")
    if result["refused"]:
        lines += ["", f"Not harmonised ({len(result['refused'])}): "
                  + "; ".join(result["refused"]) + "."]
    return "\n".join(lines)
