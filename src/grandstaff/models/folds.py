"""Held-out likelihood over k folds by piece: how far the clef models beat the n-grams, and the
staves that hear each other beat staves that do not, with the spread across folds.

One split can mislead (the bass pitch head won on one split and lost on another), so each
piece is held out exactly once: the corpus is cut into ``folds`` groups of pieces, and for
each group both clefs are trained on the rest, as a coupled set and, unless told otherwise, as
an independent one, then scored on the group beside Kneser–Ney n-grams fitted on the same
training pieces (:func:`~grandstaff.models.evaluation.evaluate_clef`). Margins are relative:
``(baseline NLL - model NLL) / baseline NLL``, so 0.10 means 10 % fewer nats per event.

>>> from grandstaff.corpus import load_corpus
>>> result = cross_validate(load_corpus("bach"), folds=5, epochs=20)   # doctest: +SKIP
>>> print(format_folds(result))                                          # doctest: +SKIP
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import BadArgumentError, BadInputError
from ..music.events import CLEFS
from .model import HEADS, ClefConfig

if TYPE_CHECKING:
    from ..corpus import Corpus

VARIANTS: tuple[str, ...] = ("coupled", "independent")


def check_folds(folds: int) -> int:
    """``folds`` if it is a whole number, 2 or more, else :class:`BadArgumentError`.

    >>> check_folds(5)
    5
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise BadArgumentError(f"folds {folds!r} must be a whole number, 2 or more, e.g. 5")
    return folds


def fold_splits(pieces: list[str], folds: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """(training pieces, held-out pieces) for each of ``folds`` folds: every piece is held
    out exactly once, the groups shuffled by ``seed``.

    >>> splits = fold_splits([f"p{i}" for i in range(5)], 2, seed=0)
    >>> sorted(p for _, held in splits for p in held)
    ['p0', 'p1', 'p2', 'p3', 'p4']
    """
    from sklearn.model_selection import KFold

    check_folds(folds)
    if len(pieces) < folds:
        raise BadInputError(f"{folds} folds need at least {folds} pieces; the corpus has "
                            f"{len(pieces)}")
    names = sorted(pieces)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return [([names[i] for i in train], [names[i] for i in held])
            for train, held in splitter.split(names)]


def cross_validate(corpus: Corpus, *, folds: int = 5, seed: int = 0,
                   config: ClefConfig | None = None, epochs: int | None = None,
                   independent: bool = True, verbose: int = 0, progress: bool = True) -> dict:
    """Train and score both clefs on each fold; see the module's docstring.

    ``config`` is the coupled set's configuration (the default one if omitted; the
    independent set uses the same with ``coupled=False``), ``epochs`` caps training.
    """
    from tqdm import tqdm

    from .evaluation import evaluate_clef
    from .training import train_clef

    config = config or ClefConfig()
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise BadArgumentError(f"epochs {epochs!r} must be a whole number, 1 or more")
        config = replace(config, epochs=epochs)
    splits = fold_splits(corpus.piece_names(), folds, seed)
    variants = VARIANTS if independent else VARIANTS[:1]
    configs = {"coupled": replace(config, coupled=True),
               "independent": replace(config, coupled=False)}
    runs = [(index, clef, variant) for index in range(folds) for clef in CLEFS
            for variant in variants]
    scores: dict = {}
    for index, clef, variant in tqdm(runs, desc="folds", disable=not progress):
        train_pieces, held_pieces = splits[index]
        model = train_clef(corpus, clef, configs[variant], seed=seed,
                           train_pieces=train_pieces, held_pieces=held_pieces,
                           verbose=verbose)
        evaluation = evaluate_clef(model, corpus, train_pieces, held_pieces)
        for head, found in evaluation["heads"].items():
            entry = scores.setdefault(clef, {}).setdefault(head, {}).setdefault(index, {})
            entry[variant] = found["model"]["nll"]
            entry[f"{variant} epochs"] = model.metrics["epochs_run"]
            if variant == "coupled":
                order = found["best_ngram_order"]
                entry["ngram"] = found["ngram"][str(order)]["nll"]
                entry["ngram order"] = order
    result = {"folds": folds, "seed": seed, "pieces": len(corpus.piece_names()),
              "epochs": config.epochs, "variants": list(variants), "clefs": {}}
    for clef in CLEFS:
        result["clefs"][clef] = {}
        for head in HEADS:
            per_fold = [scores[clef][head][index] for index in range(folds)]
            row = {"per_fold": per_fold,
                   "vs_ngram": _spread([_margin(f["ngram"], f["coupled"]) for f in per_fold])}
            if independent:
                row["vs_independent"] = _spread(
                    [_margin(f["independent"], f["coupled"]) for f in per_fold])
                row["independent_vs_ngram"] = _spread(
                    [_margin(f["ngram"], f["independent"]) for f in per_fold])
            result["clefs"][clef][head] = row
    return result


def _margin(baseline: float, model: float) -> float:
    """How much lower ``model``'s NLL is than ``baseline``'s, as a share of the baseline."""
    return (baseline - model) / baseline


def _spread(values: list[float]) -> dict:
    return {"mean": round(statistics.fmean(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": round(min(values), 4), "max": round(max(values), 4),
            "values": [round(v, 4) for v in values]}


def format_folds(result: dict) -> str:
    """A Markdown table of the margins: mean ± standard deviation over the folds, and the
    worst fold."""
    def cell(spread: dict) -> str:
        return (f"{100 * spread['mean']:+.1f} % ± {100 * spread['sd']:.1f} "
                f"(worst {100 * spread['min']:+.1f} %)")

    independent = "independent" in result["variants"]
    lines = [
        f"Held-out NLL over {result['folds']} folds by piece ({result['pieces']} pieces, seed "
        f"{result['seed']}, at most {result['epochs']} epochs): the margin of the coupled "
        "models, as a share of the baseline's nats per event (positive: the model is better).",
        "",
        "| clef | head | vs best n-gram | " + ("vs independent models | independent vs "
                                               "best n-gram |" if independent else ""),
        "|---|---|---|" + ("---|---|" if independent else ""),
    ]
    for clef, heads in result["clefs"].items():
        for head, row in heads.items():
            cells = [cell(row["vs_ngram"])]
            if independent:
                cells += [cell(row["vs_independent"]), cell(row["independent_vs_ngram"])]
            lines.append(f"| {clef} | {head} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = ["cross_validate", "fold_splits", "format_folds"]
