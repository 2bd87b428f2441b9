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
from .conditioning import phrase_statistics
from .model import (
    HEADS,
    ClefConfig,
    ClefModel,
    build_clef_model,
    condition_sizes,
    set_partner_pitches,
    user_models_folder,
)
from .sequences import (
    build_vocab,
    corpus_sequences,
    encode_sequences,
    hide_meter,
    hide_phrases,
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


def data_parallel(devices: int | str | None, batch_size: int):
    """The ``keras.distribution.DataParallel`` over the first ``devices`` accelerators
    (``"all"``: every one, on every host that joined, see :func:`~grandstaff.backend.join_hosts`),
    or None for one device. Each batch of ``batch_size`` chunks is split evenly across them, so
    the batch must divide.

    >>> data_parallel(1, 32) is None
    True
    """
    if devices is None:
        return None
    import jax

    available = jax.devices()  # every host's, when several joined
    if devices == "all":
        count = len(available)
    elif isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1:
        count = devices
    else:
        raise BadArgumentError(f"devices {devices!r} must be a whole number, 1 or more, "
                               "or 'all'")
    if count > len(available):
        raise BadArgumentError(
            f"devices {count}: this machine has {len(available)} "
            f"{available[0].platform.upper()} device{'s' if len(available) > 1 else ''}; "
            "ask for fewer or for 'all'")
    if count == 1:
        return None
    if batch_size % count:
        raise BadArgumentError(
            f"a batch of {batch_size} chunks cannot be split evenly across {count} devices; "
            f"choose a batch size that {count} divides")
    distribution = _keras().distribution.DataParallel(devices=available[:count])
    distribution.auto_shard_dataset = False  # each host feeds its own share (_this_hosts_share)
    return distribution


def pad_to_batches(data: dict[str, np.ndarray], batch_size: int) -> dict[str, np.ndarray]:
    """``data`` with all-padding chunks (weight 0) added so that every batch is whole: a batch
    split across devices must divide evenly, the last one too.

    >>> pad_to_batches({"weight": np.ones((5, 3))}, 4)["weight"].sum(axis=1)
    array([3., 3., 3., 3., 3., 0., 0., 0.])
    """
    missing = -len(data["weight"]) % batch_size
    if not missing:
        return data
    return {name: np.concatenate([array, np.zeros((missing, *array.shape[1:]), array.dtype)])
            for name, array in data.items()}


def _this_hosts_share(train_data: dict, held_data: dict, batch_size: int):
    """On several hosts each feeds its own rows (every n-th chunk) in batches of its share;
    keras assembles the global batch. On one host: everything, unchanged."""
    import jax

    hosts, index = jax.process_count(), jax.process_index()
    if hosts == 1:
        return train_data, held_data, batch_size
    if batch_size % hosts:
        raise BadArgumentError(f"a batch of {batch_size} chunks cannot be shared by {hosts} "
                               "hosts; choose a batch size they divide")
    share = [{name: array[index::hosts] for name, array in data.items()}
             for data in (train_data, held_data)]
    return share[0], share[1], batch_size // hosts


def _on_this_host(model: ClefModel) -> ClefModel:
    """A model trained across several hosts, with its weights copied into a plain local model
    (each host holds a whole replica), so that it can be evaluated and saved alone."""
    import jax

    if jax.process_count() == 1:
        return model
    local = build_clef_model(model.config, len(model.vocab.pitch), len(model.vocab.duration),
                             conditions=condition_sizes(model.vocab))
    local.set_weights([np.asarray(v.value.addressable_data(0)) for v in model.model.weights])
    return replace(model, model=local)


def train_clef(corpus: Corpus, clef: str, config: ClefConfig, *, seed: int,
               train_pieces: list[str], held_pieces: list[str], verbose: int = 1,
               devices: int | str | None = None) -> ClefModel:
    """Train one clef model; the best weights on held-out loss are kept.

    With ``devices`` (a number, or ``"all"``) each batch is split across that many local
    accelerators (:func:`data_parallel`), and the last batch of the training and held-out
    chunks is completed with empty chunks (:func:`pad_to_batches`) so that it splits too. Any
    ``devices`` does that, 1 as well, so every device count gives the same result within float
    tolerance; without ``devices`` the last batch stays short, as before."""
    distribution = data_parallel(devices, config.batch_size)
    if distribution is None:
        return _train_clef(corpus, clef, config, seed=seed, train_pieces=train_pieces,
                           held_pieces=held_pieces, verbose=verbose,
                           whole_batches=devices is not None)
    with distribution.scope():
        model = _train_clef(corpus, clef, config, seed=seed, train_pieces=train_pieces,
                            held_pieces=held_pieces, verbose=verbose, whole_batches=True)
    model.metrics["devices"] = len(distribution.device_mesh.devices.flat)
    return _on_this_host(model)


def _train_clef(corpus: Corpus, clef: str, config: ClefConfig, *, seed: int,
                train_pieces: list[str], held_pieces: list[str], verbose: int,
                whole_batches: bool) -> ClefModel:
    keras = _keras()
    keras.utils.set_random_seed(seed)
    vocab = build_vocab(corpus, clef, config.transpositions, coupled=config.coupled)
    sequences = corpus_sequences(corpus, clef, train_pieces, coupled=config.coupled,
                                 phrases=config.phrased)
    sequences += transposed_copies(sequences, config.transpositions)
    train_data = make_chunks(encode_sequences(sequences, vocab), config.chunk_length,
                             config.chunk_stride)
    train_data = hide_phrases(hide_meter(train_data, config.meter_dropout, seed),
                              config.phrase_dropout, seed)
    held_data = make_chunks(encode_sequences(
        corpus_sequences(corpus, clef, held_pieces, coupled=config.coupled,
                         phrases=config.phrased), vocab),
        config.chunk_length)
    batch_size = config.batch_size
    if whole_batches:
        train_data = pad_to_batches(train_data, config.batch_size)
        held_data = pad_to_batches(held_data, config.batch_size)
        train_data, held_data, batch_size = _this_hosts_share(train_data, held_data, batch_size)
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
                        epochs=config.epochs, batch_size=batch_size, shuffle=True,
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
        "devices": 1,
        "epochs_run": len(history.history.get("loss", [])),
        "history": {k: [round(float(v), 5) for v in vals]
                    for k, vals in history.history.items()},
        "versions": versions(),
        "phrases": phrase_statistics(corpus, train_pieces),
        "register": {str(pitch): count
                     for pitch, count in corpus.register(clef, train_pieces).items()},
        "modes": corpus.mode_classes(clef, train_pieces),
    }
    return ClefModel(clef=clef, model=model, vocab=vocab, config=config, metrics=metrics)


def _first_host() -> bool:
    import jax

    return jax.process_index() == 0


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("grandstaff", "keras", "jax", "jaxlib", "music21", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def check_set_name(name: str) -> str:
    """``name`` if it can name a model set folder: plain, not hidden, no separator.

    >>> check_set_name("../evil")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    grandstaff.errors.BadArgumentError: model name '../evil' must be a plain folder name, ...
    """
    if (not name or "/" in name or "\\" in name or name.startswith(".")
            or len(name.encode()) > 200 or "\0" in name):
        raise BadArgumentError(f"model name {name!r} must be a plain folder name, e.g. 'mine'")
    return name


def train(corpus: Corpus, *, name: str, epochs: int | None = None, seed: int = 0,
          config: ClefConfig | None = None, out: str | os.PathLike | None = None,
          source: str = "bach", verbose: int = 1,
          devices: int | str | None = None) -> dict[str, ClefModel]:
    """Train both clefs on ``corpus`` and save them to ``<out>/<name>/<clef>/`` (``out`` by
    default the user's folder of model sets, :func:`~grandstaff.models.model.user_models_folder`).

    ``devices`` (a number or ``"all"``) splits every batch across that many local accelerators
    with ``keras.distribution.DataParallel``; the default trains on one. Returns the trained
    models with their held-out metrics (see :mod:`grandstaff.models.evaluation`).

    >>> import grandstaff as gs
    >>> gs.train(gs.load_corpus("bach"), name="mine", devices="all")   # doctest: +SKIP
    """
    from .evaluation import evaluate_clef

    check_set_name(name)
    config = config or ClefConfig()
    if epochs is not None:
        if epochs < 1:
            raise BadArgumentError(f"epochs={epochs!r} must be 1 or more")
        config = replace(config, epochs=epochs)
    data_parallel(devices, config.batch_size)  # a bad count is refused before any work
    train_pieces, held_pieces = split_pieces(corpus, config.validation_share, seed)
    models = {}
    for clef in CLEFS:
        if verbose:
            print(f"training the {clef} model on {len(train_pieces)} pieces "
                  f"({len(held_pieces)} held out)")
        model = train_clef(corpus, clef, config, seed=seed, train_pieces=train_pieces,
                           held_pieces=held_pieces, verbose=verbose, devices=devices)
        model.metrics["source"] = source
        models[clef] = model
        if not _first_host():
            continue  # on several hosts the first one evaluates and saves
        model.metrics["evaluation"] = evaluate_clef(model, corpus, train_pieces, held_pieces)
        model.save(Path(out if out is not None else user_models_folder()) / name / clef)
    return models


__all__ = ["HEADS", "compile_model", "data_parallel", "train", "train_clef", "versions"]
