"""Composing at four temperatures in one process (as ``grandstaff serve`` does when a user moves
the temperature control), for two source trees: the loop compiled once per temperature
(before) or once for all (after, temperatures traced).

Each tree runs in a fresh process with an empty JAX compilation cache; the four composes
(16 bars, 8 candidates, the same seed) are timed one by one.

Run: python bench/bench_temperatures.py BEFORE_SRC AFTER_SRC [--models clefs/bach]
e.g. git worktree add /tmp/before <commit>; python bench/bench_temperatures.py /tmp/before/src src
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

TEMPERATURES = (0.7, 0.9, 1.1, 1.3)
SCRIPT = f"""
import json, sys, time
import grandstaff as gs
times = []
for temperature in {TEMPERATURES!r}:
    started = time.perf_counter()
    gs.compose(bars=16, seed=3, temperature=temperature, models=sys.argv[1])
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def _run(src: str, models: str, cache: str) -> list[float]:
    env = dict(os.environ, PYTHONPATH=src, KERAS_BACKEND="jax", XDG_CACHE_HOME=cache)
    done = subprocess.run([sys.executable, "-c", SCRIPT, models], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--models", default="clefs/bach")
    args = parser.parse_args()
    models = str(Path(args.models).resolve())
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    for tree, src in trees.items():
        if not (Path(src) / "grandstaff" / "__init__.py").is_file():
            parser.error(f"{tree} {src} holds no grandstaff package (give a tree's src folder)")
    times = {}
    with tempfile.TemporaryDirectory() as work:
        for tree, src in trees.items():
            times[tree] = _run(src, models, f"{work}/{tree}")
    print(machine())
    print("| temperature | before | after | after / before |\n|---|---|---|---|")
    for index, temperature in enumerate(TEMPERATURES):
        before, after = times["before"][index], times["after"][index]
        print(f"| {temperature} | {before:.2f} s | {after:.2f} s | {after / before:.2f} |")
    total = {tree: sum(values) for tree, values in times.items()}
    print(f"| all four | {total['before']:.2f} s | {total['after']:.2f} s | "
          f"{total['after'] / total['before']:.2f} |")


if __name__ == "__main__":
    main()
