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

import hashlib
import json
import os
import statistics
from dataclasses import replace
from pathlib import Path
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
                   independent: bool = True, verbose: int = 0, progress: bool = True,
                   store: str | os.PathLike | None = None,
                   max_runs: int | None = None) -> dict:
    """Train and score both clefs on each fold; see the module's docstring.

    ``config`` is the coupled set's configuration (the default one if omitted; the
    independent set uses the same with ``coupled=False``), ``epochs`` caps training.

    Each fold trains two models per variant (one per clef), coupled first. With ``store`` (a
    JSON file), every trained model's scores are written there as soon as it finishes, and a
    later call with the same store and settings trains only what the file lacks, so hours of
    folds can be run a piece at a time. ``max_runs`` trains at most that many models in this
    call (0: none, only report what the store holds); Ctrl-C stops between two models'
    scores as well. Either way the result compares the coupled models with the n-grams on
    every fold where they are done, and with the independent ones where those are too;
    ``result["runs"]`` says how many models of how many are done and which folds are whole,
    and ``result["complete"]`` is true only when every fold is.

    >>> part = cross_validate(corpus, folds=5, store="folds.json", max_runs=2)  # doctest: +SKIP
    >>> part["runs"]                                                            # doctest: +SKIP
    {'done': 2, 'of': 20, 'trained_now': 2, 'folds_done': [], 'interrupted': False}
    """
    from tqdm import tqdm

    from .evaluation import evaluate_clef
    from .training import train_clef

    config = config or ClefConfig()
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise BadArgumentError(f"epochs {epochs!r} must be a whole number, 1 or more")
        config = replace(config, epochs=epochs)
    if max_runs is not None and (isinstance(max_runs, bool) or not isinstance(max_runs, int)
                                 or max_runs < 0):
        raise BadArgumentError(f"max_runs {max_runs!r} must be a whole number, 0 or more")
    splits = fold_splits(corpus.piece_names(), folds, seed)
    variants = VARIANTS if independent else VARIANTS[:1]
    configs = {"coupled": replace(config, coupled=True),
               "independent": replace(config, coupled=False)}
    settings = fold_settings(corpus, folds=folds, seed=seed, config=config)
    done = read_store(store, settings) if store is not None else {}
    runs = [(index, clef, variant) for index in range(folds) for variant in variants
            for clef in CLEFS]
    todo = [run for run in runs if _run_key(*run) not in done]
    trained = 0
    interrupted = False
    try:
        for index, clef, variant in tqdm(todo[:max_runs], desc="fold models",
                                         disable=not progress):
            train_pieces, held_pieces = splits[index]
            model = train_clef(corpus, clef, configs[variant], seed=seed,
                               train_pieces=train_pieces, held_pieces=held_pieces,
                               verbose=verbose)
            evaluation = evaluate_clef(model, corpus, train_pieces, held_pieces)
            found = {"epochs": model.metrics["epochs_run"]}
            for head, scores in evaluation["heads"].items():
                order = scores["best_ngram_order"]
                found[head] = {"nll": scores["model"]["nll"],
                               "ngram": scores["ngram"][str(order)]["nll"],
                               "ngram order": order}
            done[_run_key(index, clef, variant)] = found
            trained += 1
            if store is not None:
                write_store(store, settings, done)
    except KeyboardInterrupt:
        interrupted = True
    return _summarise(done, settings, variants, trained=trained, interrupted=interrupted)


def fold_settings(corpus: Corpus, *, folds: int, seed: int, config: ClefConfig) -> dict:
    """What a fold's scores depend on: the corpus, the split and the configuration. A store
    written under other settings is not read."""
    return {"corpus": corpus.fingerprint, "pieces": len(corpus.piece_names()),
            "folds": folds, "seed": seed, "config": config.to_dict()}


def default_store(settings: dict, folder: str | os.PathLike = "data") -> Path:
    """Where the CLI keeps the scores of a cross-validation with ``settings``: beside the
    corpus cache, named by a hash of the settings, so the same command finds them again."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return Path(folder) / f"folds-{digest}.json"


def read_store(store: str | os.PathLike, settings: dict) -> dict:
    """The scores kept in ``store`` (none if it does not exist yet), keyed by fold, clef and
    variant; a store of other settings, or not a store at all, is a :class:`BadInputError`."""
    path = Path(store)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise BadInputError(f"{path} is not a cross-validation store ({error}); move it away "
                            "or give another file") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), dict):
        raise BadInputError(f"{path} is not a cross-validation store; move it away or give "
                            "another file")
    if data.get("settings") != json.loads(json.dumps(settings)):
        raise BadInputError(f"{path} holds folds of other settings (corpus, folds, seed or "
                            "model configuration); give another file or remove it to start "
                            "again")
    return dict(data["runs"])


def write_store(store: str | os.PathLike, settings: dict, runs: dict) -> None:
    """Write every finished model's scores to ``store`` at once (atomically)."""
    from ..files import write_text_atomic

    write_text_atomic(Path(store), json.dumps({"settings": settings, "runs": runs},
                                              indent=1, sort_keys=True) + "\n")


def _run_key(index: int, clef: str, variant: str) -> str:
    return f"{index}/{clef}/{variant}"


def _summarise(done: dict, settings: dict, variants: tuple[str, ...], *, trained: int,
               interrupted: bool) -> dict:
    """The margins over the folds that have them: the coupled models against the n-grams
    wherever that clef's coupled model is done, against the independent ones where both are."""
    folds = settings["folds"]
    finished = [index for index in range(folds)
                if all(_run_key(index, clef, variant) in done
                       for clef in CLEFS for variant in variants)]
    result = {"folds": folds, "seed": settings["seed"], "pieces": settings["pieces"],
              "epochs": settings["config"]["epochs"], "variants": list(variants),
              "complete": len(finished) == folds,
              "runs": {"done": sum(_run_key(i, c, v) in done for i in range(folds)
                                   for c in CLEFS for v in variants),
                       "of": folds * len(CLEFS) * len(variants), "trained_now": trained,
                       "folds_done": finished, "interrupted": interrupted},
              "clefs": {}}
    for clef in CLEFS:
        result["clefs"][clef] = {}
        for head in HEADS:
            per_fold = []
            for index in range(folds):
                coupled = done.get(_run_key(index, clef, "coupled"))
                if coupled is None:
                    continue
                fold = {"fold": index, "coupled": coupled[head]["nll"],
                        "coupled epochs": coupled["epochs"],
                        "ngram": coupled[head]["ngram"],
                        "ngram order": coupled[head]["ngram order"]}
                other = done.get(_run_key(index, clef, "independent"))
                if "independent" in variants and other is not None:
                    fold["independent"] = other[head]["nll"]
                    fold["independent epochs"] = other["epochs"]
                per_fold.append(fold)
            paired = [f for f in per_fold if "independent" in f]
            row = {"per_fold": per_fold,
                   "vs_ngram": _spread([_margin(f["ngram"], f["coupled"]) for f in per_fold])}
            if "independent" in variants:
                row["vs_independent"] = _spread(
                    [_margin(f["independent"], f["coupled"]) for f in paired])
                row["independent_vs_ngram"] = _spread(
                    [_margin(f["ngram"], f["independent"]) for f in paired])
            result["clefs"][clef][head] = row
    return result


def _margin(baseline: float, model: float) -> float:
    """How much lower ``model``'s NLL is than ``baseline``'s, as a share of the baseline."""
    return (baseline - model) / baseline


def _spread(values: list[float]) -> dict | None:
    """Mean, standard deviation, extremes and the values themselves (None for no values)."""
    if not values:
        return None
    return {"mean": round(statistics.fmean(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": round(min(values), 4), "max": round(max(values), 4),
            "values": [round(v, 4) for v in values]}


def format_folds(result: dict) -> str:
    """A Markdown table of the margins: mean ± standard deviation over the folds, and the
    worst fold."""
    def cell(spread: dict | None) -> str:
        if spread is None:
            return "– (not trained yet)"
        count = len(spread["values"])
        folds = "" if result.get("complete", True) else f" [{count} fold{'s' * (count != 1)}]"
        return (f"{100 * spread['mean']:+.1f} % ± {100 * spread['sd']:.1f} "
                f"(worst {100 * spread['min']:+.1f} %){folds}")

    independent = "independent" in result["variants"]
    runs = result.get("runs")
    partial = "" if result.get("complete", True) else (
        f"; not finished: {runs['done']} of {runs['of']} models trained, folds "
        f"{', '.join(str(i) for i in runs['folds_done']) or 'none'} whole, so far")
    lines = [
        f"Held-out NLL over {result['folds']} folds by piece ({result['pieces']} pieces, seed "
        f"{result['seed']}, at most {result['epochs']} epochs{partial}): the margin of the coupled "
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


__all__ = ["cross_validate", "default_store", "fold_settings", "fold_splits", "format_folds",
           "read_store", "write_store"]
