"""The classifier two-sample test on real chorales: the same music cannot be told apart, the
same music moved a tritone away (other pitch classes) always can."""

from __future__ import annotations

from fractions import Fraction

import pytest

import grandstaff as gs
from grandstaff.judging.two_sample import classifier_auc, cut, piece_features, shared_bars
from grandstaff.music.codec import table_to_events


@pytest.fixture(scope="module")
def chorales(chorale_paths):
    pieces = []
    for path in chorale_paths[:60]:
        tables = gs.encode(path)
        if tables["treble"].attrs["time_signature"] == "4/4":
            pieces.append({c: table_to_events(tables[c]) for c in gs.CLEFS})
        if len(pieces) == 30:
            break
    return pieces


@pytest.mark.slow
def test_chorales_against_chorales_come_out_near_a_half_and_moved_ones_near_one(chorales):
    features = [piece_features(cut(p, 16)) for p in chorales]
    same = classifier_auc(features[::2], features[1::2], repeats=3)
    assert 0.25 <= same["logistic"]["auc"] <= 0.75 and 0.25 <= same["boosted"]["auc"] <= 0.75
    moved = [piece_features(cut({c: [e.transposed(6) for e in p[c]] for c in gs.CLEFS}, 16))
             for p in chorales[1::2]]
    apart = classifier_auc(features[::2], moved, repeats=3)
    assert apart["logistic"]["auc"] >= 0.9 and apart["boosted"]["auc"] >= 0.9
    assert apart["pieces"] == [15, 15]
    assert any("pitch class" in name for name, _ in apart["telling"])


def test_a_piece_is_cut_to_its_first_bars_and_measured_per_bar():
    piece = {"treble": [], "bass": []}
    for clef, pitch in (("treble", 72), ("bass", 48)):
        piece[clef] = [gs.Event((pitch,), Fraction(1)) for _ in range(40)]
    short = cut(piece, 4)
    assert sum(e.duration for e in short["treble"]) == 16
    features = piece_features(short)
    assert features["treble events per bar"] == 4.0 and features["bass mean pitch"] == 48.0
    assert features["treble longest repeat"] == 16.0


def test_the_shared_cut_leaves_out_every_chorales_last_bar(chorales):
    lengths = [sum(e.duration for e in p["treble"]) for p in chorales]
    assert min(lengths) < 64 < max(lengths)  # shorter and longer than 16 bars, as they come
    bars = shared_bars(chorales)
    assert bars < 16
    for piece, length in zip(chorales, lengths):
        assert length > 4 * bars  # the last bar is not in the cut
        short = cut(piece, bars)
        assert all(sum(e.duration for e in short[c]) == 4 * bars for c in gs.CLEFS)
    assert shared_bars(chorales, most=4) == 4
