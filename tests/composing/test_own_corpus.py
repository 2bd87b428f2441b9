"""A model set trained on a corpus unlike the chorales: folk-like tunes over a bass of whole
notes. Its bass cannot write a half-bar cadence in 4/4, so compose says so in one warning and
ends open, never with a silent last bar."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grandstaff.music.events import CLEFS, Event, bar_length


def _tune(seed: int, bars: int = 8) -> dict[str, list[Event]]:
    """A tune in C major of quarter and half notes, over whole notes on C, F and G."""
    rng = np.random.default_rng(seed)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    treble, bass, step = [], [], 2
    for bar in range(bars):
        left = Fraction(4)
        while left:
            length = Fraction(2) if left >= 2 and rng.random() < 0.3 else Fraction(1)
            step = int(np.clip(step + rng.integers(-2, 3), 0, len(scale) - 1))
            treble.append(Event((scale[step],), length))
            left -= length
        bass.append(Event(((48, 53, 55)[rng.integers(3)] if bar < bars - 1 else 48,),
                          Fraction(4)))
    return {"treble": treble, "bass": bass}


@pytest.fixture(scope="module")
def folk_set(tmp_path_factory):
    from grandstaff.composing.piece import Piece
    from grandstaff.corpus import load_corpus
    from grandstaff.models.model import ClefConfig
    from grandstaff.models.training import train
    from grandstaff.music.keys import Key
    from tests.conftest import TINY

    folder = tmp_path_factory.mktemp("folk")
    for seed in range(8):
        staves = {c: tuple(events) for c, events in _tune(seed).items()}
        Piece(staves, key=Key("C", "major")).write(folder / f"tune{seed}", formats=("midi",))
    corpus = load_corpus(folder, cache_dir=None, workers=1, progress=False)
    out = tmp_path_factory.mktemp("clefs")
    train(corpus, name="folk", seed=0, config=ClefConfig(**TINY), out=out, source=str(folder),
          verbose=0)
    return out / "folk"


@pytest.mark.slow
def test_a_set_that_cannot_cadence_says_so_and_ends_open(folk_set):
    import grandstaff as gs
    from grandstaff.errors import GrandstaffWarning

    with pytest.warns(GrandstaffWarning, match="cannot close on a cadence in 4/4 major: its "
                                               "bass durations cannot fill"):
        piece = gs.compose(bars=4, seed=11, models=str(folk_set), candidates=2)
    assert piece.info["ending"] == "open"
    last_bar = bar_length("4/4")
    for clef in CLEFS:
        sounding, start = False, Fraction(0)
        for event in piece.staves[clef]:
            if start >= 3 * last_bar and event.pitches:
                sounding = True
            start += event.duration
        assert sounding, f"the {clef} is silent in the last bar"
