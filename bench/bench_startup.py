"""Start-up of the package in fresh processes: ``import grandstaff``, ``grandstaff --help`` and
``grandstaff compose --help``, for two source trees in one run (interleaved in random order, so
that drift in the machine's load hits both alike): medians and the ratio after / before.

Run: python bench/bench_startup.py BEFORE_SRC AFTER_SRC [--runs 25]
e.g. git worktree add /tmp/before <commit>; python bench/bench_startup.py /tmp/before/src src
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402


def _seconds(command: list[str], src: str) -> float:
    env = dict(os.environ, PYTHONPATH=src)
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("before", help="src folder of the tree measured first")
    parser.add_argument("after", help="src folder of the tree measured second")
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    script = shutil.which("grandstaff") or "grandstaff"
    commands = {"import grandstaff": [sys.executable, "-c", "import grandstaff"],
                "grandstaff --help": [script, "--help"],
                "grandstaff compose --help": [script, "compose", "--help"]}
    times: dict[tuple[str, str], list[float]] = {(t, c): [] for t in trees for c in commands}
    for _ in range(args.runs):
        order = list(times)
        random.shuffle(order)
        for tree, command in order:
            times[(tree, command)].append(_seconds(commands[command], trees[tree]))
    print(f"machine: {machine()}; {args.runs} runs each")
    print("| command | before | after | after / before |")
    print("|---|---|---|---|")
    for command in commands:
        before, after = (statistics.median(times[(t, command)]) for t in trees)
        print(f"| `{command}` | {before * 1000:.0f} ms | {after * 1000:.0f} ms | "
              f"{after / before:.2f} |")


if __name__ == "__main__":
    main()
