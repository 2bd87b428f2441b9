"""Honest evaluation: held-out likelihood of the clef models beside n-gram baselines.

Both are scored on the same held-out pieces (the model's stored split), on every event after
each piece's start token, with the whole piece as context.

>>> import grandstaff as gs
>>> report = gs.evaluate(models="bach")          # doctest: +SKIP
>>> print(format_report(report))                 # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ..corpus import Corpus, load_corpus
from ..errors import BadInputError
from ..music.events import CLEFS
from .model import HEADS, ClefModel, load_models
from .ngram import NGramModel, summarise
from .sequences import corpus_sequences, encode_sequences, model_inputs, pad_pieces

NGRAM_ORDERS: tuple[int, ...] = (1, 2, 3, 4)


def model_scores(clef_model: ClefModel, encoded: list[np.ndarray],
                 batch_size: int = 16) -> dict[str, dict[str, float]]:
    """NLL per event (nats), perplexity and top-1 accuracy of each head on whole pieces."""

    totals = {head: [0.0, 0, 0] for head in HEADS}
    for start in range(0, len(encoded), batch_size):
        batch = pad_pieces(encoded[start:start + batch_size])
        outputs = clef_model.model.predict_on_batch(model_inputs(batch))
        weight = batch["weight"].astype(bool)
        for head in HEADS:
            probs = np.asarray(outputs[head], dtype="float64")
            target = batch[head]
            picked = np.take_along_axis(probs, target[..., None], axis=-1)[..., 0]
            totals[head][0] -= float(np.log(np.maximum(picked[weight], 1e-12)).sum())
            totals[head][1] += int((probs.argmax(-1) == target)[weight].sum())
            totals[head][2] += int(weight.sum())
    return {head: summarise(*totals[head]) for head in HEADS}


def ngram_scores(train: list[np.ndarray], held: list[np.ndarray], sizes: dict[str, int],
                 orders: tuple[int, ...] = NGRAM_ORDERS) -> dict[str, dict[int, dict]]:
    """Scores of interpolated Kneser–Ney n-grams fitted per head on the training pieces."""
    result: dict[str, dict[int, dict]] = {}
    for row, head in enumerate(HEADS):
        train_ids = [ids[row].tolist() for ids in train]
        held_ids = [ids[row].tolist() for ids in held]
        result[head] = {order: NGramModel(order, sizes[head]).fit(train_ids).score(held_ids)
                        for order in orders}
    return result


def evaluate_clef(clef_model: ClefModel, corpus: Corpus, train_pieces: list[str],
                  held_pieces: list[str]) -> dict:
    """Model and n-gram scores for one clef on the held-out pieces."""

    vocab, coupled = clef_model.vocab, clef_model.config.coupled
    train = encode_sequences(corpus.sequences(clef_model.clef, train_pieces), vocab)
    held = encode_sequences(corpus_sequences(corpus, clef_model.clef, held_pieces,
                                             coupled=coupled,
                                             phrases=clef_model.config.phrased), vocab)
    model = model_scores(clef_model, held)
    ngrams = ngram_scores(train, held, {"pitch": len(vocab.pitch),
                                        "duration": len(vocab.duration)})
    heads = {}
    for head in HEADS:
        best_order = min(ngrams[head], key=lambda order: ngrams[head][order]["nll"])
        best = ngrams[head][best_order]
        heads[head] = {
            "model": model[head],
            "ngram": {str(order): scores for order, scores in ngrams[head].items()},
            "best_ngram_order": best_order,
            "margin_nats": round(best["nll"] - model[head]["nll"], 4),
            "beats_best_ngram": model[head]["nll"] < best["nll"],
        }
    return {"held_out_pieces": len(held_pieces), "heads": heads}


def evaluate(models: str = "bach", corpus: Corpus | None = None) -> dict:
    """Evaluate a model set on its own held-out pieces (the split stored at training time)."""
    loaded = load_models(models)
    report = {"models": models, "clefs": {}}
    for clef in CLEFS:
        clef_model = loaded[clef]
        metrics = clef_model.metrics
        if corpus is None:
            corpus = load_corpus(metrics.get("source", "bach"), progress=False)
        trained_on = metrics.get("corpus_fingerprint")
        if trained_on and trained_on != corpus.fingerprint:
            raise BadInputError(
                f"model set {models!r} was trained on another corpus (fingerprint "
                f"{trained_on}, this one {corpus.fingerprint}); evaluate it "
                "on the corpus it was trained on")
        held = [p for p in metrics.get("held_out_pieces", []) if p in set(corpus.piece_names())]
        if not held:
            raise BadInputError(f"model set {models!r} records no held-out pieces of this corpus")
        train = [p for p in corpus.piece_names() if p not in set(held)]
        report["clefs"][clef] = evaluate_clef(clef_model, corpus, train, held)
    return report


def format_report(report: dict) -> str:
    """The evaluation as a plain-text table: one row per clef, head and scorer."""
    lines = [f"held-out evaluation of model set {report['models']!r} "
             "(NLL in nats per event; lower is better)",
             f"{'clef':7}{'head':10}{'scorer':12}{'NLL':>8}{'perplexity':>12}{'top-1':>8}"]
    for clef, result in report["clefs"].items():
        for head, scores in result["heads"].items():
            rows = [("model", scores["model"])] + [
                (f"{order}-gram", s) for order, s in scores["ngram"].items()]
            for scorer, s in rows:
                lines.append(f"{clef:7}{head:10}{scorer:12}{s['nll']:8.3f}"
                             f"{s['perplexity']:12.2f}{s['accuracy']:8.3f}")
            verdict = "beats" if scores["beats_best_ngram"] else "does NOT beat"
            lines.append(f"{'':17}model {verdict} the best n-gram "
                         f"({scores['best_ngram_order']}-gram): margin "
                         f"{scores['margin_nats']:+.3f} nats")
    return "\n".join(lines)
