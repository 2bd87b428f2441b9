"""Training across devices, and the cost of a growing corpus, each in fresh processes.

1. **Devices.** Training targets per second of the default coupled bass model (ema off, as in
   bench_training) on 1 and 2 devices at the same global batch. On a machine without two
   accelerators the devices are JAX host devices (XLA_FLAGS=--xla_force_host_platform_device_
   count=2), which share the same CPU cores: the figure then shows the cost of splitting, not a
   speed-up. On a GPU machine pass --platform gpu.
2. **Corpus size.** Ingest time (reading the Bach files 1, 2 and 4 times over, as copies with
   other names, no cache) and training time per target (the corpus plus 0, 1 and 3 transposed
   copies), with the peak memory of each process.

Run: python bench/bench_scale.py [--batches 30] [--skip-ingest]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

FIT = r"""
import json, resource, sys, time
import numpy as np
from grandstaff.corpus import load_corpus
from grandstaff.models.model import (ClefConfig, build_clef_model, condition_sizes,
                                     set_partner_pitches)
from grandstaff.models.sequences import (build_vocab, corpus_sequences, encode_sequences,
                                         make_chunks, split_pieces, transposed_copies)
from grandstaff.models.training import (_fit_arrays, compile_model, data_parallel,
                                        pad_to_batches)
devices, copies, batches = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
config = ClefConfig(ema_momentum=0.0)
corpus = load_corpus("bach", progress=False)
train_pieces, _ = split_pieces(corpus, config.validation_share, 0)
vocab = build_vocab(corpus, "bass", config.transpositions, coupled=True)
sequences = corpus_sequences(corpus, "bass", train_pieces, coupled=True)
sequences += transposed_copies(sequences, config.transpositions[:copies])
started = time.perf_counter()
encoded = encode_sequences(sequences, vocab)
data = pad_to_batches(make_chunks(encoded, config.chunk_length), config.batch_size)
prepare = time.perf_counter() - started
events = int(sum(ids.shape[1] for ids in encoded))
distribution = data_parallel(devices if devices > 1 else None, config.batch_size)

def fit():
    model = build_clef_model(config, len(vocab.pitch), len(vocab.duration),
                             conditions=condition_sizes(vocab))
    set_partner_pitches(model, vocab.partner)
    compile_model(model, config)
    x, y, w = _fit_arrays(data)
    if batches:  # a fixed number of batches: throughput
        n = batches * config.batch_size
        pick = np.arange(n) % len(data["weight"])
        x, y, w = ({k: v[pick] for k, v in d.items()} for d in (x, y, w))
    first = {k: v[:config.batch_size] for k, v in x.items()}, \
        {k: v[:config.batch_size] for k, v in y.items()}, \
        {k: v[:config.batch_size] for k, v in w.items()}
    model.fit(*first[:2], sample_weight=first[2], batch_size=config.batch_size, epochs=1,
              verbose=0)  # compiles the training step
    started = time.perf_counter()
    model.fit(x, y, sample_weight=w, batch_size=config.batch_size, epochs=1, verbose=0)
    return time.perf_counter() - started, float(w["pitch"].sum())

if distribution is None:
    seconds, targets = fit()
else:
    with distribution.scope():
        seconds, targets = fit()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "targets": targets, "prepare": prepare,
                  "events": events, "peak_mb": peak}))
"""

INGEST = r"""
import json, resource, sys, time
from grandstaff.corpus import load_corpus
started = time.perf_counter()
corpus = load_corpus(sys.argv[1], cache_dir=None, progress=False)
seconds = time.perf_counter() - started
events = sum(len(t) for t in corpus.tables.values())
print(json.dumps({"seconds": seconds, "pieces": len(corpus.pieces), "events": events,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(script: str, *args: str, env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})})
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--platform", default="cpu")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    host = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"} \
        if args.platform == "cpu" else {}

    print("\n| devices | targets/s | seconds | ratio to 1 device |\n|---|---|---|---|")
    base = None
    for devices in (1, 2):
        found = _child(FIT, str(devices), "0", str(args.batches), env=host)
        rate = found["targets"] / found["seconds"]
        base = base or rate
        print(f"| {devices} | {rate:,.0f} | {found['seconds']:.2f} | {rate / base:.2f} |")

    print("\n| corpus | events | one epoch | seconds per 1k events | peak memory |"
          "\n|---|---|---|---|---|")
    first, runs = None, []
    for scale, copies in ((1, 0), (2, 1), (4, 3)):
        found = _child(FIT, "1", str(copies), "0")
        runs.append(found)
        per = found["seconds"] / found["events"] * 1000
        first = first or per
        print(f"| {scale}× | {found['events']:,} | {found['seconds']:.1f} s | {per:.3f} s "
              f"({per / first:.2f}×) | {found['peak_mb']:,.0f} MB |")
    grown = (runs[-1]["peak_mb"] - runs[0]["peak_mb"]) / (runs[-1]["events"] - runs[0]["events"])
    print(f"training memory grows by {grown * 10_000:.1f} MB per 10k events")

    if args.skip_ingest:
        return
    from music21 import corpus as m21

    files = sorted(p for p in m21.getComposer("bach") if p.suffix == ".mxl")
    print("\n| corpus | files | events | ingest | seconds per 10k events | peak memory |"
          "\n|---|---|---|---|---|---|")
    first = None
    for scale in (1, 2, 4):
        with tempfile.TemporaryDirectory() as folder:
            for copy in range(scale):
                for path in files:
                    shutil.copy(path, Path(folder) / f"{path.stem}-{copy}{path.suffix}")
            found = _child(INGEST, folder)
        per = found["seconds"] / found["events"] * 10_000
        first = first or per
        print(f"| {scale}× | {len(files) * scale} | {found['events']:,} | "
              f"{found['seconds']:.1f} s | {per:.2f} s ({per / first:.2f}×) | "
              f"{found['peak_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()
