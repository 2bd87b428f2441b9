"""The keras-free step (models/stepper.py) computes what the keras step model computes."""

from __future__ import annotations

import numpy as np
import pytest

from grandstaff.errors import BadInputError
from grandstaff.models.conditioning import PHRASE_IDS
from grandstaff.models.model import (
    CONDITIONS,
    ClefModel,
    build_clef_model,
    condition_sizes,
    models_root,
)
from grandstaff.models.stepper import ClefStep, load_steps


def _keras_step(model: ClefModel):
    vocab = model.vocab
    step = build_clef_model(model.config, len(vocab.pitch), len(vocab.duration), step=True,
                            conditions=condition_sizes(vocab))
    for layer in step.layers:
        if layer.weights:
            layer.set_weights(model.model.get_layer(layer.name).get_weights())
    return step


def _random_inputs(step: ClefStep, batch: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    vocab = step.vocab
    sizes = [len(vocab.pitch), len(vocab.duration)]
    if step.config.coupled:
        sizes += [len(vocab.condition(name)) for name in CONDITIONS] + [10]
        sizes += [PHRASE_IDS] if step.config.phrased else []
    ids = [rng.integers(0, size, (batch, 1)).astype("int32") for size in sizes]
    state = [rng.normal(0, 0.5, (batch, units)).astype("float32")
             for units in step.config.lstm_units for _ in range(2)]
    return [*ids, *state]


def _same_outputs(folder) -> None:
    keras_model = ClefModel.load(folder)
    step = ClefStep.load(folder)
    inputs = _random_inputs(step, batch=6, seed=1)
    expected = _keras_step(keras_model)(inputs, training=False)
    found = step.apply(step.params, inputs)
    assert len(found) == len(expected)
    for mine, theirs in zip(found, expected):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), rtol=1e-4, atol=2e-6)
    from_memory = ClefStep.from_model(keras_model)
    assert from_memory.params.keys() == step.params.keys()
    for name, weights in step.params.items():
        for a, b in zip(weights, from_memory.params[name]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("clef", ["treble", "bass"])
def test_the_shipped_set_steps_as_keras_does(clef):
    _same_outputs(models_root("bach") / clef)


@pytest.mark.parametrize("clef", ["treble", "bass"])
def test_coupled_and_independent_sets_step_as_keras_does(tiny_models, tiny_independent_models,
                                                          clef):
    _same_outputs(tiny_models / clef)
    _same_outputs(tiny_independent_models / clef)


def test_a_damaged_model_file_is_one_clear_error(tmp_path):
    import shutil

    folder = tmp_path / "set"
    shutil.copytree(models_root("bach"), folder)
    (folder / "bass" / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInputError, match="model.keras cannot be loaded"):
        load_steps(str(folder))


def test_a_weight_file_without_a_layer_names_the_layer(tmp_path):
    """A model.keras whose weights lack a layer's group is refused naming that layer, not with
    a KeyError when the first step runs."""
    import io
    import zipfile

    import h5py

    from grandstaff.errors import BadInputError
    from grandstaff.models.model import models_root
    from grandstaff.models.stepper import read_weights

    source = models_root("bach") / "treble" / "model.keras"
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO(files["model.weights.h5"])
    with h5py.File(buffer, "r+") as store:
        del store["layers/dense"]
    files["model.weights.h5"] = buffer.getvalue()
    broken = tmp_path / "model.keras"
    with zipfile.ZipFile(broken, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(BadInputError, match=r"layer '.*' \(Dense\) has no weights"):
        read_weights(broken)
