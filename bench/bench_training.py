"""Training throughput: a target at every position against one target per sliding window.

Both use the same layers (the default ClefConfig), windows of 64 events, batches of 64, on the
Bach corpus, measured in one run on one machine. Throughput is counted in target events per
second of training. Run: python bench/bench_training.py [--batches 20]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import Timer, machine  # noqa: E402


def sliding_model(config, pitch_size, duration_size):
    """The same layers, but the last LSTM returns only its final step: one target per window."""
    from grandstaff.backend import keras

    keras = keras()
    layers = keras.layers
    pitch_in = keras.Input((None,), dtype="int32", name="pitch_in")
    duration_in = keras.Input((None,), dtype="int32", name="duration_in")
    x = layers.Concatenate()([layers.Embedding(pitch_size, config.pitch_embedding)(pitch_in),
                              layers.Embedding(duration_size, config.duration_embedding)(
                                  duration_in)])
    x = layers.SpatialDropout1D(config.spatial_dropout)(x)
    x = layers.LayerNormalization()(x)
    for index, units in enumerate(config.lstm_units):
        last = index == len(config.lstm_units) - 1
        x = layers.LSTM(units, return_sequences=not last, dropout=config.lstm_dropout)(x)
    x = layers.Dense(config.dense_units, activation="relu")(x)
    return keras.Model({"pitch_in": pitch_in, "duration_in": duration_in}, {
        "pitch": layers.Dense(pitch_size, activation="softmax", name="pitch")(x),
        "duration": layers.Dense(duration_size, activation="softmax", name="duration")(x)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()

    from grandstaff.corpus import load_corpus
    from grandstaff.models.model import ClefConfig, build_clef_model
    from grandstaff.models.sequences import build_vocab, encode_sequences, make_chunks
    from grandstaff.models.training import compile_model

    window, batch = 64, 64
    corpus = load_corpus(progress=False)
    vocab = build_vocab(corpus, "treble")
    encoded = encode_sequences(corpus.sequences("treble"), vocab)
    # weight averaging left out: fitting twice with use_ema fails in Keras 3.15 on JAX
    config = ClefConfig(chunk_length=window, batch_size=batch, ema_momentum=0.0)
    n = args.batches * batch

    chunks = make_chunks(encoded, window)
    pick = np.resize(np.arange(len(chunks["pitch_in"])), n)
    every = build_clef_model(config, len(vocab.pitch), len(vocab.duration))
    compile_model(every, config)
    x = {"pitch_in": chunks["pitch_in"][pick], "duration_in": chunks["duration_in"][pick]}
    y = {"pitch": chunks["pitch"][pick], "duration": chunks["duration"][pick]}
    w = {"pitch": chunks["weight"][pick], "duration": chunks["weight"][pick]}
    every.fit(x, y, sample_weight=w, batch_size=batch, epochs=1, verbose=0)  # compile
    with Timer() as t_every:
        every.fit(x, y, sample_weight=w, batch_size=batch, epochs=1, verbose=0)
    every_targets = float(w["pitch"].sum())

    # Sliding windows: 64 events in, the next event out.
    rows = []
    for ids in encoded:
        for start in range(0, ids.shape[1] - window):
            rows.append(ids[:, start:start + window + 1])
    windows = np.stack(rows)[np.resize(np.arange(len(rows)), n)]
    sliding = sliding_model(config, len(vocab.pitch), len(vocab.duration))
    compile_model(sliding, config)
    xs = {"pitch_in": windows[:, 0, :-1], "duration_in": windows[:, 1, :-1]}
    ys = {"pitch": windows[:, 0, -1], "duration": windows[:, 1, -1]}
    sliding.fit(xs, ys, batch_size=batch, epochs=1, verbose=0)
    with Timer() as t_sliding:
        sliding.fit(xs, ys, batch_size=batch, epochs=1, verbose=0)
    sliding_targets = float(n)

    every_rate = every_targets / t_every.seconds
    sliding_rate = sliding_targets / t_sliding.seconds
    print(f"machine: {machine()}")
    print(f"{args.batches} batches of {batch} windows of {window} events, default layers")
    print(f"every position : {every_targets:9.0f} targets in {t_every.seconds:6.2f} s = "
          f"{every_rate:9.0f} targets/s")
    print(f"sliding window : {sliding_targets:9.0f} targets in {t_sliding.seconds:6.2f} s = "
          f"{sliding_rate:9.0f} targets/s")
    print(f"ratio          : {every_rate / sliding_rate:.1f}x")


if __name__ == "__main__":
    main()
