"""Wall time of a cold ``grandstaff compose`` (16 bars, MusicXML + MIDI + PDF), broken down.

Each run is a fresh Python process, as a user's command is: first without JAX's compilation
cache (every program compiled afresh), then with a cache that one earlier run filled, as the
CLI keeps it in ~/.cache/grandstaff/jax. Run:
python bench/bench_compose.py [--runs 3] [--engraver lilypond]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import grandstaff as gs
if sys.argv[3]:
    from grandstaff.backend import use_compilation_cache
    use_compilation_cache(sys.argv[3])
from grandstaff.composing.composer import _generators, compose
t1 = time.perf_counter()
_generators("bach")
t2 = time.perf_counter()
piece = compose(bars=16, seed=1)
t3 = time.perf_counter()
out = sys.argv[1]
piece.write(out + "/piece", formats=("musicxml", "midi"))
t4 = time.perf_counter()
from grandstaff.output.engrave import engrave
from pathlib import Path
engrave(Path(out) / "piece.musicxml", Path(out) / "piece.pdf", Path(out) / "piece.png",
        engraver=sys.argv[2])
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "model load": t2 - t1, "generation": t3 - t2,
                  "writing": t4 - t3, "engraving": t5 - t4}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engraver", default="lilypond")
    args = parser.parse_args()

    def one_run(cache: str) -> dict[str, float]:
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run([sys.executable, "-c", CHILD, out, args.engraver, cache],
                                  capture_output=True, text=True, check=True)
            return json.loads(done.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory() as cache:
        uncached = [one_run("") for _ in range(args.runs)]
        one_run(cache)  # fills the cache
        cached = [one_run(cache) for _ in range(args.runs)]
    print(f"machine: {machine()}")
    print(f"cold compose, 16 bars, {args.engraver}, median of {args.runs} fresh processes")
    print(f"  {'phase':11} {'no cache':>9} {'cached':>9}")
    totals = [0.0, 0.0]
    for phase in uncached[0]:
        values = [sorted(r[phase] for r in runs)[len(runs) // 2] for runs in (uncached, cached)]
        totals = [t + v for t, v in zip(totals, values)]
        print(f"  {phase:11} {values[0]:8.2f}s {values[1]:8.2f}s")
    print(f"  {'total':11} {totals[0]:8.2f}s {totals[1]:8.2f}s   "
          f"cached is {totals[0] / totals[1]:.2f}x faster")


if __name__ == "__main__":
    main()
