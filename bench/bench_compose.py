"""Wall time of a cold ``grandstaff compose`` (16 bars, MusicXML + MIDI + PDF), broken down,
for two source trees in one run (before / after a change), with the same model set.

Every run is a fresh Python process, as a user's command is, with JAX's compilation cache in a
folder of its own per tree: first an empty one (the very first run on a machine), then the
cache that run filled (every later run, as the CLI keeps it in ~/.cache/grandstaff/jax).
Runs of the two trees alternate, so that drift in the machine's load hits both alike.

Two measures per run: the whole ``grandstaff compose`` command (what a user waits for), and
the same work in phases inside one process.

Run: python bench/bench_compose.py BEFORE_SRC AFTER_SRC [--models clefs/bach] [--runs 5]
       [--before-models OLD/clefs/bach]   (a change that retrained the set: each tree its own)
e.g. git worktree add /tmp/before <commit>; python bench/bench_compose.py /tmp/before/src src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import grandstaff as gs
from grandstaff.backend import use_compilation_cache
use_compilation_cache(sys.argv[3])
from grandstaff.composing.composer import _generators, compose
t1 = time.perf_counter()
_generators(sys.argv[4])
t2 = time.perf_counter()
piece = compose(bars=16, seed=1, models=sys.argv[4])
t3 = time.perf_counter()
out = sys.argv[1]
piece.write(out + "/piece", formats=("musicxml", "midi"), force=True)
t4 = time.perf_counter()
from grandstaff.output.engrave import engrave
from pathlib import Path
engrave(Path(out) / "piece.musicxml", Path(out) / "piece.pdf", Path(out) / "piece.png",
        engraver=sys.argv[2])
t5 = time.perf_counter()
import resource
print(json.dumps({"import": t1 - t0, "model load": t2 - t1,
                  "generation (8 candidates, key analysis)": t3 - t2,
                  "writing MusicXML + MIDI": t4 - t3, "engraving PDF + PNG": t5 - t4,
                  "peak memory (MB)": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _command(src: str, models: str, cache: str, out: str) -> float:
    env = dict(os.environ, PYTHONPATH=src)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grandstaff.cli", "compose", "--seed", "1",
                    "--models", models, "--jax-cache", cache, "--out", f"{out}/piece",
                    "--force"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _phases(src: str, models: str, cache: str, out: str, engraver: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=src)
    done = subprocess.run([sys.executable, "-c", PHASES, out, engraver, cache, models],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--models", default="clefs/bach")
    parser.add_argument("--before-models", default=None,
                        help="the before tree's model set, if not --models")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engraver", default="lilypond")
    args = parser.parse_args()
    models = str(Path(args.models).resolve())
    sets = {"before": str(Path(args.before_models or args.models).resolve()), "after": models}
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    for tree, src in trees.items():  # else both runs would import the installed package
        if not (Path(src) / "grandstaff" / "__init__.py").is_file():
            parser.error(f"{tree} {src} holds no grandstaff package (give a tree's src folder)")
    first, command, phases = {}, {t: [] for t in trees}, {t: [] for t in trees}
    with tempfile.TemporaryDirectory() as work:
        caches = {t: f"{work}/cache-{t}" for t in trees}
        for tree, src in trees.items():  # the very first run: an empty cache
            first[tree] = _command(src, sets[tree], caches[tree], work)
        for _ in range(args.runs):
            for tree, src in trees.items():
                command[tree].append(_command(src, sets[tree], caches[tree], work))
                phases[tree].append(_phases(src, sets[tree], caches[tree], work,
                                            args.engraver))
    print(f"machine: {machine()}")
    print(f"models: {sets['before']} / {models}; {args.engraver}; median of {args.runs} "
          "fresh processes")
    print("| measure | before | after | after / before |\n|---|---|---|---|")

    def row(name: str, before: float, after: float) -> None:
        unit = " MB" if "MB" in name else " s"
        print(f"| {name} | {before:.2f}{unit} | {after:.2f}{unit} | {after / before:.2f} |")

    row("`grandstaff compose`, first run (empty JAX cache)", first["before"], first["after"])
    row("`grandstaff compose`, cache filled", statistics.median(command["before"]),
        statistics.median(command["after"]))
    for phase in phases["after"][0]:
        row(f"phase: {phase}", statistics.median(r[phase] for r in phases["before"]),
            statistics.median(r[phase] for r in phases["after"]))


if __name__ == "__main__":
    main()
