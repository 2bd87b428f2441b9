"""Generation speed: the jitted one-step model with carried LSTM states against a
sliding-window ``model.predict`` loop over the same weights (window 64), per clef, one run.

Run: python bench/bench_generation.py [--models bach] [--events 400]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import Timer, machine  # noqa: E402


def stateful(generator, samplers, start, count: int) -> None:
    """The grandstaff way: one jitted step per event, states carried."""
    (pitch_sampler, banned_p), (duration_sampler, banned_d) = samplers
    p, d = np.array([start[0]]), np.array([start[1]])
    state = generator.initial_state(1)
    for _ in range(count):
        pp, pd, state = generator.step(p, d, state)
        p, d = pitch_sampler.sample(pp, banned_p), duration_sampler.sample(pd, banned_d)


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
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--window-events", type=int, default=40)
    args = parser.parse_args()

    from grandstaff.events import start_token
    from grandstaff.generation import ClefGenerator
    from grandstaff.model import load_models
    from grandstaff.sampling import TopKSampler

    print(f"machine: {machine()}")
    for clef, model in load_models(args.models).items():
        generator = ClefGenerator(model)
        vocab = model.vocab
        samplers = ((TopKSampler(10, seed=0), vocab.pitch.special_ids()),
                    (TopKSampler(5, seed=1), vocab.duration.special_ids()))
        start = (vocab.pitch.id(start_token("major")), vocab.duration.id(start_token("major")))
        stateful(generator, samplers, start, 5)
        windowed(model.model, samplers, start, 3)
        with Timer() as t_state:
            stateful(generator, samplers, start, args.events)
        with Timer() as t_window:
            windowed(model.model, samplers, start, args.window_events)
        state_rate = args.events / t_state.seconds
        window_rate = args.window_events / t_window.seconds
        print(f"{clef:6} stateful step : {state_rate:8.1f} events/s ({args.events} events)")
        print(f"{clef:6} sliding window: {window_rate:8.1f} events/s "
              f"({args.window_events} events, model.predict on the last 64)")
        print(f"{clef:6} ratio         : {state_rate / window_rate:.0f}x")


if __name__ == "__main__":
    main()
