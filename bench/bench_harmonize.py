"""Harmonising a 16-bar melody against composing 16 bars, side by side in one process with the
same model set: the first call of each (its sampling loop compiled) and the median of the warm
calls after it. The melody is the soprano of a held-out chorale's first 16 bars (4/4).

Run: python bench/bench_harmonize.py [--models bach] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="bach")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from fractions import Fraction

    from grandstaff.composing.composer import _generators, compose
    from grandstaff.composing.harmonizing import harmonize
    from grandstaff.corpus import load_corpus
    from grandstaff.models.model import load_models
    from grandstaff.music.keys import Key
    from grandstaff.music.melody import Melody, soprano

    metrics = load_models(args.models)["treble"].metrics
    corpus = load_corpus(metrics.get("source", "bach"), progress=False)
    meters = dict(zip(corpus.pieces["piece"], corpus.pieces["time_signature"]))
    modes = dict(zip(corpus.pieces["piece"], corpus.pieces["mode"]))
    name = next(n for n in metrics["held_out_pieces"] if meters.get(n) == "4/4"
                and modes[n] == "major" and sum(
                    (e.duration for e in corpus.events("treble", n)), Fraction(0)) >= 64)
    line, total = [], Fraction(0)
    for pitch, length in soprano(corpus.events("treble", name)):
        if total + length > 64:
            length = 64 - total
        if length > 0:
            line.append((pitch, length))
            total += length
    tune = Melody.of(line, key=Key("C", "major"), time_signature="4/4")
    _generators(args.models)
    times: dict[str, list[float]] = {"compose 16 bars": [], "harmonize 16 bars": []}
    for run in range(args.runs + 1):
        for label, call in (("compose 16 bars",
                             lambda s: compose(bars=16, seed=s, models=args.models)),
                            ("harmonize 16 bars",
                             lambda s: harmonize(tune, seed=s, models=args.models))):
            started = time.perf_counter()
            call(run)
            times[label].append(time.perf_counter() - started)
    print(f"machine: {machine()}; models {args.models}; melody: soprano of {name}, "
          f"{tune.bars} bars; 8 candidates each")
    print("| call | first (compiles) | warm, median of "
          f"{args.runs} |\n|---|---|---|")
    for label, found in times.items():
        print(f"| {label} | {found[0]:.2f} s | {statistics.median(found[1:]):.2f} s |")
    ratio = statistics.median(times["harmonize 16 bars"][1:]) / statistics.median(
        times["compose 16 bars"][1:])
    print(f"\nharmonize / compose (warm): {ratio:.2f}")


if __name__ == "__main__":
    main()
