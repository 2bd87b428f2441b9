"""Generation speed: compose's compiled sampling loop (one model step per event, LSTM states
carried) against a sliding-window ``model.predict`` loop over the same weights (window 64),
one candidate at a time, per clef, in one run.

Run: python bench/bench_generation.py [--models bach] [--bars 256]
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import Timer, machine  # noqa: E402


def stateful(generator, bars: int, seed: int, candidates: int = 1) -> int:
    """The grandstaff way (compose's own code): the compiled sampling loop, states carried,
    one model step per event. Returns the number of events written."""
    from grandstaff.composing.generation import generate_staves
    from grandstaff.composing.sampling import TopKSampler

    staves = generate_staves(generator, mode="major", length=Fraction(4 * bars),
                             candidates=candidates, pitch_sampler=TopKSampler(10, seed=seed),
                             duration_sampler=TopKSampler(5, seed=seed + 1))
    return sum(len(staff) for staff in staves)


def windowed(model, samplers, start, count: int, window: int = 64) -> None:
    """The naive way: model.predict over the last 64 events for every new event."""
    (pitch_sampler, banned_p), (duration_sampler, banned_d) = samplers
    ps, ds = [start[0]] * window, [start[1]] * window  # a full window from the start
    for _ in range(count):
        x = {"pitch_in": np.array([ps[-window:]]), "duration_in": np.array([ds[-window:]])}
        out = model.predict(x, verbose=0)
        ps.append(int(pitch_sampler.sample(out["pitch"][:, -1], banned_p)[0]))
        ds.append(int(duration_sampler.sample(out["duration"][:, -1], banned_d)[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="bach")
    parser.add_argument("--bars", type=int, default=256)
    parser.add_argument("--window-events", type=int, default=40)
    args = parser.parse_args()

    from grandstaff.composing.generation import ClefGenerator
    from grandstaff.composing.sampling import TopKSampler
    from grandstaff.models.model import load_models
    from grandstaff.music.events import start_token

    print(f"machine: {machine()}")
    for clef, model in load_models(args.models).items():
        generator = ClefGenerator(model)
        vocab = model.vocab
        samplers = ((TopKSampler(10, seed=0), vocab.pitch.special_ids()),
                    (TopKSampler(5, seed=1), vocab.duration.special_ids()))
        start = (vocab.pitch.id(start_token("major")), vocab.duration.id(start_token("major")))
        stateful(generator, args.bars, seed=0)  # compile
        windowed(model.model, samplers, start, 3)
        with Timer() as t_state:
            events = stateful(generator, args.bars, seed=2)
        with Timer() as t_window:
            windowed(model.model, samplers, start, args.window_events)
        state_rate = events / t_state.seconds
        window_rate = args.window_events / t_window.seconds
        print(f"{clef:6} stateful step : {state_rate:8.1f} events/s ({events} events, "
              f"{args.bars} bars)")
        print(f"{clef:6} sliding window: {window_rate:8.1f} events/s "
              f"({args.window_events} events, model.predict on the last 64)")
        print(f"{clef:6} ratio         : {state_rate / window_rate:.0f}x")
        stateful(generator, args.bars // 8, seed=0, candidates=8)  # compile for a batch of 8
        with Timer() as t_batch:
            events = stateful(generator, args.bars // 8, seed=3, candidates=8)
        print(f"{clef:6} 8 candidates  : {events / t_batch.seconds:8.1f} events/s in all "
              f"({events} events, {args.bars // 8} bars each)")


if __name__ == "__main__":
    main()
