"""Ingestion of the Bach corpus, in one run: cold in this process (``workers=0``, the baseline),
cold with one worker process, cold with one worker per core (the default), and the warm load
from the checksummed Parquet cache.

Run: python bench/bench_ingest.py
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import Timer, machine  # noqa: E402


def main() -> None:
    from grandstaff.corpus import load_corpus

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as cache:
        with Timer() as inline:
            load_corpus(cache_dir=None, workers=0, progress=False)
        with Timer() as serial:
            load_corpus(cache_dir=None, workers=1, progress=False)
        with Timer() as pooled:
            corpus = load_corpus(cache_dir=cache, workers=cores, progress=False)
        warm = []
        for _ in range(3):
            with Timer() as timer:
                load_corpus(cache_dir=cache, progress=False)
            warm.append(timer.seconds)
    print(f"machine: {machine()}")
    print(f"Bach corpus: {len(corpus.pieces)} pieces, "
          f"{sum(len(t) for t in corpus.tables.values())} events")
    print(f"cold, in this process: {inline.seconds:6.2f} s (baseline)")
    print(f"cold, 1 worker       : {serial.seconds:6.2f} s "
          f"({inline.seconds / serial.seconds:.2f}x)")
    print(f"cold, {cores} workers      : {pooled.seconds:6.2f} s "
          f"({inline.seconds / pooled.seconds:.2f}x)")
    print(f"warm (cache), median : {sorted(warm)[1]:6.2f} s")


if __name__ == "__main__":
    main()
