"""Training clef models on every position of every chunk, split by piece.

>>> import grandstaff as gs
>>> corpus = gs.load_corpus("bach")                          # doctest: +SKIP
>>> models = gs.train(corpus, name="mine", epochs=30, seed=0)  # doctest: +SKIP

Each piece's sequence (its mode's start token, then its events) is cut into chunks of
``chunk_length + 1`` tokens that overlap by one; the model reads ``ids[:-1]`` and predicts
``ids[1:]`` at every step, padding masked out of the loss.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..backend import keras as _keras
from ..corpus import Corpus
from ..errors import BadArgumentError
from ..music.events import CLEFS
from .model import (
    HEADS,
    ClefConfig,
    ClefModel,
    build_clef_model,
    condition_sizes,
    set_partner_pitches,
)
from .sequences import (
    build_vocab,
    corpus_sequences,
    encode_sequences,
    hide_meter,
    make_chunks,
    model_inputs,
    split_pieces,
    transposed_copies,
)


def compile_model(model, config: ClefConfig, steps_per_epoch: int | None = None) -> None:
    """Adam (AdamW with weight decay) with gradient clipping, a loss per head.

    With ``config.ema_momentum`` the optimizer keeps an exponential moving average of the
    weights and writes it into the model at the end of every epoch, so that validation, early
    stopping and the saved model all see the averaged weights.
    """
    keras = _keras()
    averaging = {}
    if config.ema_momentum:
        averaging = dict(use_ema=True, ema_momentum=config.ema_momentum,
                         ema_overwrite_frequency=steps_per_epoch)
    model.compile(
        optimizer=(keras.optimizers.AdamW(config.learning_rate, weight_decay=config.weight_decay,
                                          clipnorm=config.clipnorm, **averaging)
                   if config.weight_decay else
                   keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm,
                                         **averaging)),
        loss={"pitch": "sparse_categorical_crossentropy",
              "duration": "sparse_categorical_crossentropy"},
        weighted_metrics={"pitch": ["sparse_categorical_accuracy"],
                          "duration": ["sparse_categorical_accuracy"]},
    )


def _fit_arrays(data: dict[str, np.ndarray]):
    x = model_inputs(data)
    y = {"pitch": data["pitch"], "duration": data["duration"]}
    w = {"pitch": data["weight"], "duration": data["weight"]}
    return x, y, w


def train_clef(corpus: Corpus, clef: str, config: ClefConfig, *, seed: int,
               train_pieces: list[str], held_pieces: list[str], verbose: int = 1) -> ClefModel:
    """Train one clef model; the best weights on held-out loss are kept."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    vocab = build_vocab(corpus, clef, config.transpositions, coupled=config.coupled)
    sequences = corpus_sequences(corpus, clef, train_pieces, coupled=config.coupled)
    sequences += transposed_copies(sequences, config.transpositions)
    train_data = hide_meter(make_chunks(encode_sequences(sequences, vocab), config.chunk_length,
                                        config.chunk_stride), config.meter_dropout, seed)
    held_data = make_chunks(encode_sequences(
        corpus_sequences(corpus, clef, held_pieces, coupled=config.coupled), vocab),
        config.chunk_length)
    model = build_clef_model(config, len(vocab.pitch), len(vocab.duration),
                             conditions=condition_sizes(vocab))
    if config.coupled:
        set_partner_pitches(model, vocab.partner)
    compile_model(model, config, -(-len(train_data["weight"]) // config.batch_size))
    x, y, w = _fit_arrays(train_data)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                      restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                          patience=max(1, config.patience // 3), min_lr=1e-5),
    ]
    started = time.perf_counter()
    history = model.fit(x, y, sample_weight=w, validation_data=_fit_arrays(held_data),
                        epochs=config.epochs, batch_size=config.batch_size, shuffle=True,
                        callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    metrics = {
        "clef": clef,
        "seed": seed,
        "corpus_fingerprint": corpus.fingerprint,
        "train_pieces": len(train_pieces),
        "held_out_pieces": held_pieces,
        "train_events": int(train_data["weight"].sum()),
        "held_out_events": int(held_data["weight"].sum()),
        "train_seconds": round(seconds, 2),
        "epochs_run": len(history.history.get("loss", [])),
        "history": {k: [round(float(v), 5) for v in vals]
                    for k, vals in history.history.items()},
        "versions": versions(),
    }
    return ClefModel(clef=clef, model=model, vocab=vocab, config=config, metrics=metrics)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("grandstaff", "keras", "jax", "jaxlib", "music21", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def train(corpus: Corpus, *, name: str, epochs: int | None = None, seed: int = 0,
          config: ClefConfig | None = None, out: str | os.PathLike = "clefs",
          source: str = "bach", verbose: int = 1) -> dict[str, ClefModel]:
    """Train both clefs on ``corpus`` and save them to ``<out>/<name>/<clef>/``.

    Returns the trained models with their held-out metrics (see
    :mod:`grandstaff.models.evaluation`).
    """
    from .evaluation import evaluate_clef

    if not name or "/" in name or name.startswith("."):
        raise BadArgumentError(f"model name {name!r} must be a plain folder name, e.g. 'mine'")
    config = config or ClefConfig()
    if epochs is not None:
        if epochs < 1:
            raise BadArgumentError(f"epochs={epochs!r} must be 1 or more")
        config = replace(config, epochs=epochs)
    train_pieces, held_pieces = split_pieces(corpus, config.validation_share, seed)
    models = {}
    for clef in CLEFS:
        if verbose:
            print(f"training the {clef} model on {len(train_pieces)} pieces "
                  f"({len(held_pieces)} held out)")
        model = train_clef(corpus, clef, config, seed=seed, train_pieces=train_pieces,
                           held_pieces=held_pieces, verbose=verbose)
        model.metrics["source"] = source
        model.metrics["evaluation"] = evaluate_clef(model, corpus, train_pieces, held_pieces)
        model.save(Path(out) / name / clef)
        models[clef] = model
    return models


__all__ = ["HEADS", "compile_model", "train", "train_clef", "versions"]
