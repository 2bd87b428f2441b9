"""Held-out likelihood over folds by piece: every piece held out once, margins from real
trainings on each fold."""

from __future__ import annotations

import pytest

from grandstaff.errors import BadArgumentError, BadInputError
from grandstaff.models.folds import cross_validate, fold_splits, format_folds
from grandstaff.models.model import ClefConfig

from ..conftest import TINY


def test_every_piece_is_held_out_exactly_once():
    pieces = [f"piece{i}" for i in range(11)]
    splits = fold_splits(pieces, 5, seed=3)
    held = [p for _, group in splits for p in group]
    assert sorted(held) == sorted(pieces)
    for train, group in splits:
        assert not set(train) & set(group) and set(train) | set(group) == set(pieces)
    assert fold_splits(pieces, 5, seed=3) == splits != fold_splits(pieces, 5, seed=4)
    with pytest.raises(BadArgumentError, match="folds 1 must be .* 2 or more"):
        fold_splits(pieces, 1, seed=0)
    with pytest.raises(BadInputError, match="5 folds need at least 5 pieces"):
        fold_splits(pieces[:3], 5, seed=0)


def test_two_folds_train_score_and_compare(small_corpus):
    result = cross_validate(small_corpus, folds=2, seed=0, config=ClefConfig(**TINY),
                            epochs=1, progress=False)
    assert result["folds"] == 2 and result["epochs"] == 1
    for clef in ("treble", "bass"):
        for head in ("pitch", "duration"):
            row = result["clefs"][clef][head]
            assert len(row["per_fold"]) == 2
            for fold, margin in zip(row["per_fold"], row["vs_ngram"]["values"]):
                assert fold["coupled"] > 0 and fold["independent"] > 0 and fold["ngram"] > 0
                assert fold["coupled epochs"] == 1
                assert margin == pytest.approx((fold["ngram"] - fold["coupled"])
                                               / fold["ngram"], abs=1e-4)
            values = row["vs_independent"]["values"]
            assert row["vs_independent"]["mean"] == pytest.approx(sum(values) / 2, abs=1e-4)
    table = format_folds(result)
    assert "| bass | pitch |" in table and "over 2 folds by piece" in table


@pytest.mark.parametrize("argv, says", [
    (["evaluate", "--folds", "1"], "folds 1 must be a whole number, 2 or more"),
    (["evaluate", "--epochs", "3"], "--epochs needs --folds"),
    (["evaluate", "--folds", "5", "--samples", "10"], "not allowed with argument --folds"),
    (["evaluate", "--folds", "5", "--no-rules"], "--no-rules needs --samples"),
    (["evaluate", "--no-rules"], "--no-rules needs --samples"),
])
def test_the_cli_refuses_bad_fold_arguments_in_one_line(capsys, argv, says):
    from grandstaff.cli import main

    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and says in err, err
    assert "Traceback" not in err
