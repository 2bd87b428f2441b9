"""Judging the music: generated pieces against held-out corpus pieces and the n-gram baseline.
This module samples the sets; :mod:`~grandstaff.judging.measures` measures them and
:mod:`~grandstaff.judging.report` writes the report.

>>> import grandstaff as gs
>>> from grandstaff.judging import judge, write_report
>>> result = judge(models="bach", samples=50, seed=0)       # doctest: +SKIP
>>> write_report(result, "docs/quality.md")                 # doctest: +SKIP

All statistics are taken in the reference keys (C major / A minor), where the corpus lives;
mode agreement is judged on the written pieces in their requested keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..composing.piece import written_shift
from ..errors import BadArgumentError
from ..music.events import CLEFS
from ..music.keys import Key
from .measures import BARS, KEYS, SETS, PieceSet, Staves, measure
from .report import format_quality, write_report

__all__ = ["BARS", "KEYS", "format_quality", "judge", "write_report"]

def _sample_ngram(corpus, train_pieces, keys, seed, top_k=(10, 5)) -> list[Staves]:
    from ..composing.generation import generate_staves
    from ..composing.sampling import TopKSampler
    from ..models.ngram import ngram_generators

    rng = np.random.default_rng(seed)
    generators = ngram_generators(corpus, train_pieces)
    pieces = []
    for key in keys:
        staves = {}
        for clef in CLEFS:
            staves[clef] = generate_staves(
                generators[clef], mode=key.mode, length=4 * BARS,
                pitch_sampler=TopKSampler(top_k[0], seed=rng.spawn(1)[0]),
                duration_sampler=TopKSampler(top_k[1], seed=rng.spawn(1)[0]), bar=4)[0]
        pieces.append(staves)
    return pieces


def judge(models: str = "bach", samples: int = 50, seed: int = 0, corpus=None,
          progress: bool = True, rules: bool = True, phrase_samples: int | None = None) -> dict:
    """Compose ``samples`` pieces (both modes, several keys), sample as many from the n-gram
    baseline, and measure them (:func:`~grandstaff.judging.measures.measure`) beside the model
    set's held-out corpus pieces; then ``phrase_samples`` pieces (default
    :data:`PHRASE_SAMPLES`) in each meter of :data:`PHRASE_METERS` for how the music breathes
    (:func:`breathing_by_meter`). ``rules=False`` composes with the models alone (see
    :func:`~grandstaff.composing.compose`)."""
    from ..composing.composer import DEFAULT_CANDIDATES
    from ..corpus import load_corpus
    from ..models.model import load_models

    if samples < 2:
        raise BadArgumentError(f"samples {samples!r} must be 2 or more to compare distributions")
    metrics = load_models(models)["treble"].metrics
    source = metrics.get("source", "bach")
    corpus = corpus or load_corpus(source, progress=False)
    held = [p for p in metrics.get("held_out_pieces", []) if p in set(corpus.piece_names())]
    train = [p for p in corpus.piece_names() if p not in set(held)]
    keys = [Key.parse(KEYS[i % len(KEYS)]) for i in range(samples)]
    sets = {"corpus": held_out_set(corpus, held)}
    sets["model"], chosen_in_mode = composed_set(models, keys, seed, rules, progress)
    sets["ngram"] = ngram_set(corpus, train, keys, seed)
    training = {c: [corpus.events(c, name) for name in train] for c in CLEFS}
    result = {"models": models, "samples": samples, "seed": seed, "bars": BARS, "rules": rules,
              "held_out_pieces": len(held), "source": str(source),
              **measure(sets, training, progress)}
    result["two_sample"] = two_sample_tests(sets, corpus, train, seed)
    result["phrases"] = breathing_by_meter(
        models, corpus, held, seed, rules, progress=progress,
        samples=PHRASE_SAMPLES if phrase_samples is None else phrase_samples)
    result["both"]["mode_agreement_chosen"] = round(sum(chosen_in_mode) / len(keys), 3)
    result["both"]["candidates"] = DEFAULT_CANDIDATES
    result["examples"] = {s: sets[s].pieces[0] for s in SETS}
    return result


def two_sample_tests(sets: dict[str, PieceSet], corpus, train: list[str], seed: int) -> dict:
    """The classifier two-sample test (:mod:`~grandstaff.judging.two_sample`) of the model's
    and the 4-gram's pieces against the held-out chorales in 4/4, and the control: as many
    training chorales in 4/4 (each longer than the cut) against the same held-out ones (near
    0.5 if the test is sound). Every piece is cut to the bars all of them hold before their
    last (:func:`~grandstaff.judging.two_sample.shared_bars`, at most :data:`BARS`), so that
    neither length nor ending tells; ``bars`` in the result says how many."""
    from .two_sample import classifier_auc, cut, piece_features, shared_bars

    held = [p for p, ts in zip(sets["corpus"].pieces, sets["corpus"].meters) if ts == "4/4"]
    bars = shared_bars([*held, *sets["model"].pieces, *sets["ngram"].pieces], "4/4", BARS)

    def features(pieces: Sequence[Staves]) -> list[dict]:
        return [piece_features(cut(p, bars)) for p in pieces]

    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))
    in_meter = {name: {c: corpus.events(c, name) for c in CLEFS}
                for name in train if meters[name] == "4/4"}
    pool = sorted(name for name, piece in in_meter.items() if shared_bars([piece]) >= bars)
    chosen = np.random.default_rng(seed).choice(pool, size=min(len(held), len(pool)),
                                                replace=False)
    training = [in_meter[name] for name in chosen]
    bach = features(held)
    return {"bars": bars,
            "model": classifier_auc(features(sets["model"].pieces), bach, seed=seed),
            "ngram": classifier_auc(features(sets["ngram"].pieces), bach, seed=seed),
            "control": classifier_auc(features(training), bach, seed=seed)}


#: The meters the phrase measures compose in, and the pieces composed in each.
PHRASE_METERS: tuple[str, ...] = ("4/4", "3/4", "6/8")
PHRASE_SAMPLES = 10


def breathing_by_meter(models: str, corpus, held: list[str], seed: int, rules: bool, *,
                       samples: int = PHRASE_SAMPLES, progress: bool = True) -> dict:
    """How the music breathes in each meter of :data:`PHRASE_METERS`: ``samples`` pieces of
    :data:`BARS` bars composed in it with the default phrase plan (single samples, keys taken
    in turn), and the held-out pieces in that meter, each with its cadence points per 16
    bars and its longest stretch without one (from the notes alone: a fermata earns
    nothing), and for the composed pieces the share of their planned phrase ends (the last
    excepted: the closing cadence is a rule) heard as a cadence, and for the held-out pieces
    the same share of their fermatas."""
    from fractions import Fraction

    from tqdm import tqdm

    from ..composing.composer import compose
    from .ensemble import breathing, cadences_on
    from .measures import _tonic

    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))
    modes = dict(zip(corpus.pieces["piece"], corpus.pieces["mode"]))
    found: dict = {}
    jobs = [(m, i) for m in PHRASE_METERS for i in range(samples)]
    rows: dict[str, list] = {m: [] for m in PHRASE_METERS}
    for meter, index in tqdm(jobs, desc="phrases by meter", disable=not progress):
        key = Key.parse(KEYS[index % len(KEYS)])
        piece = compose(bars=BARS, key=key, time_signature=meter, seed=seed + index,
                        models=models, candidates=1, rules=rules)
        staves = {c: [e.transposed(-piece.info["shift"]) for e in piece.staves[c]]
                  for c in CLEFS}
        tonic, mode = _tonic(key.mode), key.mode
        points, longest = breathing(staves["treble"], staves["bass"], tonic=tonic, mode=mode,
                                    time_signature=meter)
        ends = [Fraction(t) for t in piece.info.get("phrase_ends", [])]
        heard = cadences_on(staves["treble"], staves["bass"], ends[:-1], tonic=tonic,
                            mode=mode, time_signature=meter)
        counted = breathing(staves["treble"], staves["bass"], tonic=tonic, mode=mode,
                            time_signature=meter, fermatas=piece.fermatas)
        rows[meter].append((points, longest, heard, *counted,
                            piece.info.get("phrases", "none")))
    for meter in PHRASE_METERS:
        bach = []
        for name in held:
            if meters[name] != meter:
                continue
            treble, bass = corpus.events("treble", name), corpus.events("bass", name)
            mode = modes[name]
            points, longest = breathing(treble, bass, tonic=_tonic(mode), mode=mode,
                                        time_signature=meter)
            fermatas = corpus.fermatas(name) or []
            heard = cadences_on(treble, bass, fermatas[:-1], tonic=_tonic(mode), mode=mode,
                                time_signature=meter)
            counted = breathing(treble, bass, tonic=_tonic(mode), mode=mode,
                                time_signature=meter, fermatas=fermatas)
            bach.append((points, longest, heard, *counted))
        found[meter] = {"model": _breath_summary(rows[meter]), "bach": _breath_summary(bach),
                        "plans": [row[-1] for row in rows[meter]]}
    return found


def _breath_summary(rows: list[tuple]) -> dict:
    def mean(values) -> float | None:
        values = [v for v in values if v == v]  # NaN: a piece with no phrase end to judge
        return round(float(np.mean(values)), 3) if values else None

    return {"pieces": len(rows), "cadence_points": mean(r[0] for r in rows),
            "longest_without": mean(r[1] for r in rows),
            "phrase_ends_heard": mean(r[2] for r in rows),
            "with_fermatas": mean(r[3] for r in rows),
            "longest_with_fermatas": mean(r[4] for r in rows)}


def held_out_set(corpus, names: list[str]) -> PieceSet:
    """The held-out corpus pieces, in their reference keys (where they are also written)."""
    modes = dict(zip(corpus.pieces["piece"], corpus.pieces["mode"]))
    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))
    pieces = [{c: corpus.events(c, name) for c in CLEFS} for name in names]
    return PieceSet(pieces, pieces, [modes[n] for n in names], [meters[n] for n in names],
                    [Key("C", "major") if modes[n] == "major" else Key("A", "minor")
                     for n in names])


def composed_set(models: str, keys: Sequence[Key], seed: int, rules: bool,
                 progress: bool) -> tuple[PieceSet, list[bool]]:
    """One single sample per key (the measures take single samples, as the n-gram's are),
    and whether ``compose``'s default choice among candidates was heard in the mode."""
    from tqdm import tqdm

    from ..composing.composer import compose

    found, chosen_in_mode = PieceSet(), []
    for index, key in enumerate(tqdm(keys, desc="composing", disable=not progress)):
        piece = compose(bars=BARS, key=key, seed=seed + index, models=models, candidates=1,
                        rules=rules)
        back = {"treble": -piece.info["shift"], "bass": -piece.info["bass_shift"]}
        found.pieces.append({c: [e.transposed(back[c]) for e in piece.staves[c]]
                             for c in CLEFS})
        found.written.append({c: list(piece.staves[c]) for c in CLEFS})
        found.modes.append(key.mode)
        found.meters.append("4/4")
        found.keys.append(key)
        chosen = compose(bars=BARS, key=key, seed=seed + index, models=models, rules=rules)
        chosen_in_mode.append(chosen.info["mode_matched"])
    return found, chosen_in_mode


def ngram_set(corpus, train: list[str], keys: Sequence[Key], seed: int) -> PieceSet:
    """One 4-gram sample per key, written the way ``compose`` writes a set from before
    coupling."""
    pieces = _sample_ngram(corpus, train, keys, seed)
    written = []
    for staves, key in zip(pieces, keys):
        shift = written_shift(staves, key.semitones_from_reference())
        written.append({c: [e.transposed(shift) for e in staves[c]] for c in CLEFS})
    return PieceSet(pieces, written, [k.mode for k in keys], ["4/4"] * len(keys), list(keys))
