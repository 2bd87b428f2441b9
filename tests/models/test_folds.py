"""Held-out likelihood over folds by piece: every piece held out once, margins from real
trainings on each fold."""

from __future__ import annotations

import json

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


def test_two_folds_train_score_and_compare_a_few_models_at_a_time(small_corpus, tmp_path):
    store = tmp_path / "folds.json"
    config = ClefConfig(**TINY)
    part = cross_validate(small_corpus, folds=2, seed=0, config=config, epochs=1,
                          progress=False, store=store, max_runs=3)
    assert part["runs"] == {"done": 3, "of": 8, "trained_now": 3, "folds_done": [],
                            "interrupted": False}
    assert not part["complete"]
    kept = json.loads(store.read_text())["runs"]
    assert sorted(kept) == ["0/bass/coupled", "0/treble/coupled", "0/treble/independent"]
    # the coupled models of the first fold are compared with the n-grams already; the bass
    # has no independent model yet
    assert [f["fold"] for f in part["clefs"]["bass"]["pitch"]["per_fold"]] == [0]
    assert part["clefs"]["bass"]["pitch"]["vs_independent"] is None
    assert len(part["clefs"]["treble"]["pitch"]["vs_independent"]["values"]) == 1
    assert "not finished: 3 of 8 models trained" in format_folds(part)
    assert "– (not trained yet)" in format_folds(part)

    result = cross_validate(small_corpus, folds=2, seed=0, config=config, epochs=1,
                            progress=False, store=store)
    assert result["runs"]["trained_now"] == 5 and result["runs"]["folds_done"] == [0, 1]
    assert result["complete"] and result["folds"] == 2 and result["epochs"] == 1
    again = json.loads(store.read_text())["runs"]
    assert len(again) == 8 and all(again[key] == kept[key] for key in kept)  # not retrained
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
    assert "not finished" not in table

    with pytest.raises(BadInputError, match="holds folds of other settings"):
        cross_validate(small_corpus, folds=2, seed=1, config=config, epochs=1,
                       progress=False, store=store)
    store.write_text("{not json")
    with pytest.raises(BadInputError, match="is not a cross-validation store"):
        cross_validate(small_corpus, folds=2, seed=0, config=config, epochs=1,
                       progress=False, store=store)


@pytest.mark.parametrize("argv, says", [
    (["evaluate", "--folds", "1"], "folds 1 must be a whole number, 2 or more"),
    (["evaluate", "--epochs", "3"], "--epochs needs --folds"),
    (["evaluate", "--runs", "2"], "--runs needs --folds"),
    (["evaluate", "--store", "folds.json"], "--store needs --folds"),
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


def test_the_cli_cross_validates_a_few_models_at_a_time(tiny_models, small_corpus, tmp_path,
                                                        monkeypatch, capsys):
    """`evaluate --folds` keeps each model's scores as it finishes; the same command again
    continues where the last one stopped."""
    import shutil
    from pathlib import Path

    from grandstaff.cli import main

    models = tmp_path / "tiny"
    shutil.copytree(tiny_models, models)
    folder = Path(small_corpus.pieces["source"].iloc[0]).parent  # the set's own corpus
    for clef in ("treble", "bass"):
        path = models / clef / "metrics.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "source": str(folder)}))
    monkeypatch.chdir(tmp_path)
    argv = ["evaluate", "--models", str(models), "--folds", "2", "--epochs", "1", "--runs", "1"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "not finished: 1 of 8 models trained, folds none whole" in out
    assert "| treble | pitch |" in out and "– (not trained yet)" in out
    stores = list((tmp_path / "data").glob("folds-*.json"))
    assert len(stores) == 1 and f"kept in {Path('data') / stores[0].name}" in err
    assert list(json.loads(stores[0].read_text())["runs"]) == ["0/treble/coupled"]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    assert "not finished: 2 of 8 models trained, folds none whole" in out
    assert sorted(json.loads(stores[0].read_text())["runs"]) == ["0/bass/coupled",
                                                                "0/treble/coupled"]
    # --runs 0 trains nothing and reports what the store holds
    assert main([*argv[:-1], "0"]) == 0
    out, _ = capsys.readouterr()
    assert "not finished: 2 of 8 models trained" in out
    assert len(json.loads(stores[0].read_text())["runs"]) == 2
