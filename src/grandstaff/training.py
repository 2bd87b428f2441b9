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

from .backend import keras as _keras
from .corpus import Corpus
from .errors import BadArgumentError, BadInputError
from .events import CLEFS, REST, format_pitches, is_special, parse_pitches
from .model import HEADS, ClefConfig, ClefModel, ClefVocab, build_clef_model
from .vocab import Vocabulary

Sequences = list[tuple[list[str], list[str]]]


def split_pieces(corpus: Corpus, share: float, seed: int) -> tuple[list[str], list[str]]:
    """(training pieces, held-out pieces): a split by piece, never by window."""
    from sklearn.model_selection import GroupShuffleSplit

    names = np.array(corpus.piece_names())
    if len(names) < 2:
        raise BadInputError("training needs at least two pieces (one is held out)")
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    train_index, held_index = next(splitter.split(names, groups=names))
    return sorted(names[train_index].tolist()), sorted(names[held_index].tolist())


def _shifted(token: str, shift: int) -> str | None:
    """A pitch token moved by ``shift`` semitones (None if a note leaves MIDI 0..127)."""
    if is_special(token) or token == REST:
        return token
    moved = [p + shift for p in parse_pitches(token)]
    return format_pitches(moved) if min(moved) >= 0 and max(moved) <= 127 else None


def transposed_copies(sequences: Sequences, transpositions: tuple[int, ...]) -> Sequences:
    """Each piece moved by each number of semitones, *without* its start token.

    Sequences that open with ``<major>`` / ``<minor>`` stay in C major / A minor, so composing
    from a start token still means the reference key; the copies, like the many chunks that
    begin mid-piece, teach the model to read the key from the music itself. A copy that would
    move a note off the MIDI range is left out.
    """
    copies = []
    for shift in transpositions:
        for pitches, durations in sequences:
            moved = [_shifted(t, shift) for t in pitches[1:]]
            if None not in moved:
                copies.append((moved, durations[1:]))
    return copies


def build_vocab(corpus: Corpus, clef: str, transpositions: tuple[int, ...] = ()) -> ClefVocab:
    """Both vocabularies of ``clef`` over every piece of the corpus (the token inventory),
    with the pitch tokens of its transposed copies."""
    table = corpus.tables[clef]
    original = set(table["pitch"].astype(str))
    pitches = set(original)
    for shift in transpositions:
        pitches |= {_shifted(t, shift) for t in original} - {None}
    return ClefVocab(Vocabulary.build(pitches, head="pitch"),
                     Vocabulary.build(table["duration"].astype(str), head="duration"))


def encode_sequences(sequences: Sequences, vocab: ClefVocab) -> list[np.ndarray]:
    """Each piece as an array of shape (2, length): pitch ids and duration ids."""
    return [np.array([vocab.pitch.encode(p), vocab.duration.encode(d)], dtype="int32")
            for p, d in sequences]


def make_chunks(encoded: list[np.ndarray], length: int,
                stride: int | None = None) -> dict[str, np.ndarray]:
    """Chunks of ``length + 1`` ids, padded with 0: inputs, targets, weights.

    With ``stride`` equal to ``length`` (the default) chunks overlap by one id and every event
    of every piece is a target exactly once; a smaller stride makes each event a target in up to
    ``length / stride`` chunks, each time after a different stretch of context.
    """
    stride = stride or length
    rows = []
    for ids in encoded:
        for start in range(0, max(ids.shape[1] - 1, 1), stride):
            piece = ids[:, start:start + length + 1]
            if piece.shape[1] < 2:
                continue
            padded = np.zeros((2, length + 1), dtype="int32")
            padded[:, :piece.shape[1]] = piece
            rows.append(padded)
    if not rows:
        raise BadInputError("no training chunks: the pieces are empty")
    chunks = np.stack(rows)  # (n, 2, length + 1)
    inputs, targets = chunks[:, :, :-1], chunks[:, :, 1:]
    return {
        "pitch_in": inputs[:, 0], "duration_in": inputs[:, 1],
        "pitch": targets[:, 0], "duration": targets[:, 1],
        "weight": (targets[:, 0] != 0).astype("float32"),
    }


def pad_pieces(encoded: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Whole pieces as one padded batch (for scoring held-out pieces with all their context)."""
    longest = max(ids.shape[1] for ids in encoded)
    batch = np.zeros((len(encoded), 2, longest), dtype="int32")
    for row, ids in enumerate(encoded):
        batch[row, :, :ids.shape[1]] = ids
    inputs, targets = batch[:, :, :-1], batch[:, :, 1:]
    return {"pitch_in": inputs[:, 0], "duration_in": inputs[:, 1],
            "pitch": targets[:, 0], "duration": targets[:, 1],
            "weight": (targets[:, 0] != 0).astype("float32")}


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
    x = {"pitch_in": data["pitch_in"], "duration_in": data["duration_in"]}
    y = {"pitch": data["pitch"], "duration": data["duration"]}
    w = {"pitch": data["weight"], "duration": data["weight"]}
    return x, y, w


def train_clef(corpus: Corpus, clef: str, config: ClefConfig, *, seed: int,
               train_pieces: list[str], held_pieces: list[str], verbose: int = 1) -> ClefModel:
    """Train one clef model; the best weights on held-out loss are kept."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    vocab = build_vocab(corpus, clef, config.transpositions)
    sequences = corpus.sequences(clef, train_pieces)
    sequences += transposed_copies(sequences, config.transpositions)
    train_data = make_chunks(encode_sequences(sequences, vocab), config.chunk_length,
                             config.chunk_stride)
    held_data = make_chunks(encode_sequences(corpus.sequences(clef, held_pieces), vocab),
                            config.chunk_length)
    model = build_clef_model(config, len(vocab.pitch), len(vocab.duration))
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

    Returns the trained models with their held-out metrics (see :mod:`grandstaff.evaluate`).
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


__all__ = ["HEADS", "build_vocab", "make_chunks", "pad_pieces", "split_pieces", "train",
           "train_clef"]
