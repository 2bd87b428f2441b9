"""Wall time of a cold ``grandstaff compose`` (16 bars, MusicXML + MIDI + PDF), broken down.

Each run is a fresh Python process, as a user's command is. Run:
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
from grandstaff.composing import _generators, compose
t1 = time.perf_counter()
_generators("bach")
t2 = time.perf_counter()
piece = compose(bars=16, seed=1)
t3 = time.perf_counter()
out = sys.argv[1]
piece.write(out + "/piece", formats=("musicxml", "midi"))
t4 = time.perf_counter()
from grandstaff.engrave import engrave
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
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run([sys.executable, "-c", CHILD, out, args.engraver],
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"machine: {machine()}")
    print(f"cold compose, 16 bars, {args.engraver}, median of {args.runs} fresh processes")
    total = 0.0
    for phase in runs[0]:
        value = sorted(r[phase] for r in runs)[len(runs) // 2]
        total += value
        print(f"  {phase:11} {value:6.2f} s")
    print(f"  {'total':11} {total:6.2f} s")


if __name__ == "__main__":
    main()
