"""Clef models: training on every position, save/load, refusing mismatched folders."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from grandstaff.errors import BadArgumentError, BadInputError, MissingFileError, ModelMismatchError
from grandstaff.models.evaluation import evaluate_clef
from grandstaff.models.model import ClefConfig, ClefModel, build_clef_model
from grandstaff.models.sequences import make_chunks, split_pieces
from grandstaff.models.training import train_clef

from ..conftest import TINY


def test_chunks_make_every_event_a_target_once():
    pieces = [np.array([[1, 5, 6, 7, 8], [1, 3, 3, 4, 3]]), np.array([[2, 9, 9], [2, 4, 4]])]
    chunks = make_chunks(pieces, length=3)
    # Piece one (4 targets) needs two chunks of 3 steps, piece two (2 targets) one chunk.
    assert chunks["pitch_in"].shape == (3, 3)
    assert chunks["weight"].sum() == 4 + 2
    assert chunks["pitch_in"][0].tolist() == [1, 5, 6] and chunks["pitch"][0].tolist() == [5, 6, 7]
    assert chunks["pitch_in"][1].tolist() == [7, 8, 0] and chunks["pitch"][1].tolist() == [8, 0, 0]


def test_the_split_is_by_piece(small_corpus):
    train, held = split_pieces(small_corpus, 0.25, seed=0)
    assert set(train).isdisjoint(held)
    assert sorted(train + held) == sorted(small_corpus.piece_names())
    assert split_pieces(small_corpus, 0.25, seed=0) == (train, held)


def test_the_reference_layers_are_built_with_named_heads():
    model = build_clef_model(ClefConfig(), pitch_size=40, duration_size=9,
                             conditions={"partner": 50, "meter": 5, "position": 20})
    names = [layer.name for layer in model.layers]
    for name in ("spatial_dropout", "layer_norm", "lstm_1", "lstm_2", "lstm_3", "dense",
                 "pitch", "duration", "partner_embedding", "meter_embedding",
                 "position_embedding", "countdown_embedding", "phrase_embedding"):
        assert name in names
    assert model.get_layer("embed").output.shape[-1] == 128 + 32 + 64 + 8 + 16 + 8 + 8
    unphrased = build_clef_model(ClefConfig(phrases=False), pitch_size=40, duration_size=9,
                                 conditions={"partner": 50, "meter": 5, "position": 20})
    assert "phrase_in" not in [i.name for i in unphrased.inputs]
    assert unphrased.get_layer("embed").output.shape[-1] == 128 + 32 + 64 + 8 + 16 + 8
    with pytest.raises(BadArgumentError, match="needs the sizes"):
        build_clef_model(ClefConfig(), pitch_size=40, duration_size=9)
    alone = build_clef_model(ClefConfig(coupled=False), pitch_size=40, duration_size=9)
    assert "partner_embedding" not in [layer.name for layer in alone.layers]
    assert [model.get_layer(f"lstm_{i}").units for i in (1, 2, 3)] == [256, 128, 128]
    assert model.get_layer("pitch_embedding").output_dim == 128
    assert model.get_layer("duration_embedding").output_dim == 32


def test_a_coupled_model_hears_the_partner_through_a_fixed_pitch_table(tiny_models):
    from grandstaff.models.model import partner_table

    loaded = ClefModel.load(tiny_models / "bass")
    layer = loaded.model.get_layer("partner_pitches")
    assert not layer.trainable
    table = np.asarray(layer.get_weights()[0])
    assert np.array_equal(table, partner_table(loaded.vocab.partner))
    token = next(t for t in loaded.vocab.partner.tokens if t.count(".") == 2)
    row = table[loaded.vocab.partner.id(token)]
    pitches = [int(p.rstrip("~")) for p in token.split(".")]
    assert row[:128].nonzero()[0].tolist() == pitches
    assert sorted(row[128:].nonzero()[0].tolist()) == sorted({p % 12 for p in pitches})
    for name in ("partner_embedding", "meter_embedding", "position_embedding",
                 "countdown_embedding"):
        assert loaded.model.get_layer(name).trainable


def test_a_config_from_before_coupling_reads_as_independent():
    old = ClefConfig().to_dict()
    for name in ("coupled", "partner_embedding", "meter_embedding", "position_embedding",
                 "countdown_embedding", "meter_dropout"):
        old.pop(name)
    assert ClefConfig.from_dict(old).coupled is False
    assert ClefConfig.from_dict({**old, "coupled": True}).coupled is True
    with pytest.raises(BadInputError, match="'coupled' must be true or false"):
        ClefConfig.from_dict({**old, "coupled": 1})


def test_a_tiny_model_learns_and_is_reproducible(small_corpus):
    train, held = split_pieces(small_corpus, 0.25, seed=0)
    config = ClefConfig(**{**TINY, "epochs": 6, "patience": 6})
    first = train_clef(small_corpus, "treble", config, seed=1, train_pieces=train,
                       held_pieces=held, verbose=0)
    losses = first.metrics["history"]["loss"]
    assert losses[-1] < losses[0]
    again = train_clef(small_corpus, "treble", config, seed=1, train_pieces=train,
                       held_pieces=held, verbose=0)
    assert again.metrics["history"] == first.metrics["history"]
    one = evaluate_clef(first, small_corpus, train, held)
    assert evaluate_clef(again, small_corpus, train, held) == one
    assert one["heads"]["pitch"]["model"]["events"] == first.metrics["held_out_events"]
    # where the staff's training notes lie, for the octave a transposition takes
    register = {int(p): n for p, n in first.metrics["register"].items()}
    assert register == small_corpus.register("treble", train)
    # what each mode sounds like, for the key the rules keep
    assert first.metrics["modes"] == small_corpus.mode_classes("treble", train)


def test_a_model_folder_holds_everything_and_loads_identically(tiny_models, small_corpus):
    folder = tiny_models / "treble"
    assert {p.name for p in folder.iterdir()} == {"model.keras", "vocab.json", "config.json",
                                                  "metrics.json"}
    metrics = json.loads((folder / "metrics.json").read_text())
    assert {"history", "evaluation", "corpus_fingerprint", "seed", "versions",
            "held_out_pieces"} <= set(metrics)
    assert metrics["versions"]["keras"].split(".")[0] == "3"
    loaded = ClefModel.load(folder)
    reloaded = ClefModel.load(folder)
    ids = {"pitch_in": np.array([[1, 5, 6, 7]]), "duration_in": np.array([[1, 4, 4, 5]]),
           "partner_in": np.array([[0, 6, 6, 9]]), "meter_in": np.array([[3, 3, 3, 3]]),
           "position_in": np.array([[3, 4, 5, 3]]), "countdown_in": np.array([[9, 9, 9, 8]]),
           "phrase_in": np.array([[1, 7, 6, 2]])}
    a = loaded.model.predict_on_batch(ids)
    b = reloaded.model.predict_on_batch(ids)
    for head in ("pitch", "duration"):
        assert np.allclose(a[head], b[head])
        assert np.allclose(np.asarray(a[head]).sum(-1), 1.0, atol=1e-4)


@pytest.mark.parametrize("swapped,message", [("vocab.json", "does not belong"),
                                              ("model.keras", "outputs")])
def test_a_file_from_another_model_is_refused(tiny_models, tmp_path, swapped, message):
    folder = tmp_path / "treble"
    shutil.copytree(tiny_models / "treble", folder)
    shutil.copy(tiny_models / "bass" / swapped, folder / swapped)
    with pytest.raises(ModelMismatchError, match=message):
        ClefModel.load(folder)


def test_corrupt_and_missing_files_are_clear_errors(tiny_models, tmp_path):
    folder = tmp_path / "treble"
    shutil.copytree(tiny_models / "treble", folder)
    (folder / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(BadInputError, match="cannot be loaded"):
        ClefModel.load(folder)
    (folder / "model.keras").unlink()
    with pytest.raises(MissingFileError, match="model.keras"):
        ClefModel.load(folder)
    with pytest.raises(MissingFileError, match="does not exist"):
        ClefModel.load(tmp_path / "nothing")


def test_a_saved_model_carries_no_optimizer_state(tiny_models):
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(tiny_models / "treble" / "model.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        names: list[str] = []
        weights.visit(names.append)
    assert names and not [n for n in names if n.startswith("optimizer")]


def test_overlapping_chunks_repeat_targets_with_other_context():
    pieces = [np.array([[1, 5, 6, 7, 8], [1, 3, 3, 4, 3]])]
    chunks = make_chunks(pieces, length=3, stride=2)
    assert chunks["pitch_in"][:, 0].tolist() == [1, 6]
    assert chunks["weight"].sum() == 3 + 2


def test_transposed_copies_drop_the_start_token_and_stay_on_the_keyboard():
    from grandstaff.models.sequences import transposed_copies

    sequences = [(["<minor>", "57.60", "rest", "127"], ["<minor>", "1", "1", "2"]),
                 (["<major>", "60.64"], ["<major>", "4"])]
    copies = transposed_copies(sequences, (-1, 2))
    assert (["56.59", "rest", "126"], ["1", "1", "2"]) in copies
    assert (["62.66"], ["4"]) in copies
    assert len(copies) == 3  # 127 + 2 leaves the MIDI range: that copy is left out
    assert all(not p[0].startswith("<") for p, _ in copies)


def test_validation_and_the_saved_weights_see_the_averaged_weights(small_corpus):
    train, held = split_pieces(small_corpus, 0.25, seed=0)

    def val_losses(momentum: float) -> list[float]:
        config = ClefConfig(**{**TINY, "epochs": 4, "patience": 4, "ema_momentum": momentum})
        model = train_clef(small_corpus, "bass", config, seed=2, train_pieces=train,
                           held_pieces=held, verbose=0)
        return model.metrics["history"]["val_loss"]

    plain = val_losses(0.0)
    frozen = val_losses(0.999999)  # an average that barely leaves the initial weights
    assert plain[-1] < plain[0]
    assert abs(frozen[-1] - frozen[0]) < 0.01 * frozen[0]
    assert frozen[-1] > plain[-1]


@pytest.mark.parametrize("momentum", [1.0, -0.1])
def test_a_weight_average_needs_a_momentum_below_one(momentum):
    from grandstaff.errors import BadArgumentError

    with pytest.raises(BadArgumentError, match="ema_momentum"):
        ClefConfig(ema_momentum=momentum)


def test_a_user_s_model_sets_live_in_their_data_folder(tmp_path, monkeypatch):
    """Sets trained by the user go to $XDG_DATA_HOME/grandstaff/clefs (never a checkout's
    clefs/) and are found there by name, by compose and by the web page."""
    import shutil

    from grandstaff.cli import build_parser
    from grandstaff.models.model import models_root, user_models_folder
    from grandstaff.serving.studio import model_sets

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert user_models_folder() == tmp_path / "data" / "grandstaff" / "clefs"
    shutil.copytree(models_root("bach"), user_models_folder() / "mine")
    assert models_root("mine") == user_models_folder() / "mine"
    assert "mine" in model_sets()
    args = build_parser().parse_args(["train", "--name", "mine"])
    assert args.out is None  # _train resolves it to user_models_folder()
