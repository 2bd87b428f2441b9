"""``ClefStep``: one step of a trained clef model as a pure JAX function, without keras.

Composing needs only the model's arithmetic for one event: embeddings, the layer norm, the LSTM
cells, the dense layer and the two softmax heads. Building the keras model to get it costs a
cold start seconds: importing keras, running every weight initialiser (each a small compiled
program) and then overwriting their results. ``ClefStep.load`` instead reads the weights
straight from the ``model.keras`` file (still the format of record: a zip whose
``model.weights.h5`` holds each layer's variables) and :func:`apply` computes the step in
``jax.numpy``. A test holds it to the keras step model's outputs on the shipped set and on
small trained sets, within float tolerance.

>>> from grandstaff.models.stepper import load_steps
>>> steps = load_steps("bach")                                 # doctest: +SKIP
>>> steps["treble"].apply(steps["treble"].params, inputs)      # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import BadInputError, ModelMismatchError
from ..music.events import CLEFS
from .model import (
    CONDITIONS,
    HEADS,
    MODEL_FILE,
    ClefConfig,
    ClefModel,
    ClefVocab,
    check_model_file,
    check_set,
    models_root,
    read_clef_folder,
)

#: The layers a step reads, in the order of their variables in the keras model.
EMBEDDINGS = ("pitch_embedding", "duration_embedding")
COUPLED_LAYERS = ("partner_pitches", "partner_embedding", "meter_embedding",
                  "position_embedding", "countdown_embedding")
#: What the step assumes of the saved layers; anything else is refused, not guessed.
#: The layer kinds that carry weights; a model file without them is refused by name.
WEIGHTED = frozenset({"Embedding", "Dense", "LSTM", "LayerNormalization"})
EXPECTED = {"LSTM": {"activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True},
            "Dense": {"use_bias": None}}


@dataclass(frozen=True)
class ClefStep:
    """A clef model's weights and the facts :func:`apply` needs, loaded without keras."""

    clef: str
    vocab: ClefVocab
    config: ClefConfig
    params: dict[str, tuple]
    epsilon: float = 1e-3
    metrics: dict | None = None
    path: Path | None = None

    @property
    def apply(self):
        """``apply(params, inputs) -> [pitch probs, duration probs, *next LSTM states]``,
        shaped as the keras step model's outputs (see :func:`apply`)."""
        return partial(apply, coupled=self.config.coupled, phrased=self.config.phrased,
                       epsilon=self.epsilon)

    @classmethod
    def load(cls, folder: str | Path) -> ClefStep:
        """The step of the clef folder ``folder``, checked as :meth:`ClefModel.load` checks
        it, its weights read from ``model.keras``."""
        folder = Path(folder)
        clef, config, vocab, metrics = read_clef_folder(folder)
        params, epsilon = read_weights(folder / MODEL_FILE)
        step = cls(clef=clef, vocab=vocab, config=config, params=params, epsilon=epsilon,
                   metrics=metrics, path=folder)
        step.check(folder)
        return step

    @classmethod
    def from_model(cls, model: ClefModel) -> ClefStep:
        """The step of a keras clef model in memory (one just trained, say)."""
        layers = [*EMBEDDINGS, *(COUPLED_LAYERS if model.config.coupled else ()),
                  *(("phrase_embedding",) if model.config.phrased else ()),
                  "layer_norm", *(f"lstm_{i}" for i in range(1, len(model.config.lstm_units) + 1)),
                  "dense", *HEADS]
        params = {name: tuple(np.asarray(w) for w in model.model.get_layer(name).get_weights())
                  for name in layers}
        epsilon = float(model.model.get_layer("layer_norm").epsilon)
        return cls(clef=model.clef, vocab=model.vocab, config=model.config, params=params,
                   epsilon=epsilon, metrics=model.metrics, path=model.path)

    def check(self, folder: Path) -> None:
        """Refuse weights that do not fit the vocabulary or the config."""
        sizes = {head: int(self.params[head][0].shape[1]) for head in HEADS}
        if sizes != {"pitch": len(self.vocab.pitch), "duration": len(self.vocab.duration)}:
            raise ModelMismatchError(
                f"{folder}: the model's heads have {sizes} outputs but vocab.json has "
                f"{len(self.vocab.pitch)} pitch and {len(self.vocab.duration)} duration tokens")
        units = tuple(int(self.params[f"lstm_{i}"][1].shape[0])
                      for i in range(1, len(self.config.lstm_units) + 1))
        if units != tuple(self.config.lstm_units):
            raise ModelMismatchError(f"{folder}: the model's LSTMs have {units} units but "
                                     f"config.json says {tuple(self.config.lstm_units)}")


def apply(params: dict[str, tuple], inputs: list, *, coupled: bool, epsilon: float,
          phrased: bool = False) -> list:
    """One step of the clef model in ``jax.numpy``.

    ``inputs`` is what the keras step model takes: the pitch and duration ids of the event
    before, (for a coupled model) the partner, meter, position and countdown ids of the event
    to draw, (with ``phrased``) its phrase id, each shaped (batch, 1), then each LSTM's h and
    c. Returns the pitch and duration
    probabilities, shaped (batch, 1, tokens), and each LSTM's next h and c.
    """
    import jax
    import jax.numpy as jnp

    count = 2 + (len(CONDITIONS) + 1 + int(phrased) if coupled else 0)
    ids, state = [jnp.asarray(x)[:, 0] for x in inputs[:count]], list(inputs[count:])

    def embed(name, index):
        return jnp.take(params[name][0], index, axis=0)

    parts = [embed("pitch_embedding", ids[0]), embed("duration_embedding", ids[1])]
    if coupled:
        parts += [embed("partner_pitches", ids[2]) @ params["partner_embedding"][0],
                  embed("meter_embedding", ids[3]), embed("position_embedding", ids[4]),
                  embed("countdown_embedding", ids[5])]
        if phrased:
            parts.append(embed("phrase_embedding", ids[6]))
    x = jnp.concatenate(parts, axis=-1)
    gamma, beta = params["layer_norm"]
    mean = jnp.mean(x, axis=-1, keepdims=True)
    variance = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    x = (x - mean) * jax.lax.rsqrt(variance + epsilon) * gamma + beta
    new_state = []
    for index in range(len(state) // 2):
        kernel, recurrent, bias = params[f"lstm_{index + 1}"]
        h, c = state[2 * index], state[2 * index + 1]
        gates = x @ kernel + h @ recurrent + bias
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        new_state += [h, c]
        x = h
    x = jax.nn.relu(x @ params["dense"][0] + params["dense"][1])
    heads = [jax.nn.softmax(x @ params[head][0] + params[head][1], axis=-1)[:, None, :]
             for head in HEADS]
    return [*heads, *new_state]


def read_weights(path: Path) -> tuple[dict[str, tuple], float]:
    """Each layer's variables by layer name, and the layer norm's epsilon, from a
    ``.keras`` file.

    Keras stores a layer's variables under a name made from its class (``dense``,
    ``dense_1``...) in the order of the model's layers; the model's config in the same zip
    gives that order and each layer's own name.
    """
    check_model_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5")
        import h5py

        store = h5py.File(io.BytesIO(weights), "r")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise BadInputError(f"{path} cannot be loaded ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
    layers = _layers(path, config)
    params, epsilon, seen = {}, 1e-3, {}
    with store:
        for kind, settings in layers:
            if kind == "InputLayer":
                continue
            stem = _snake_case(kind)
            seen[stem] = seen.get(stem, -1) + 1
            stored = stem if seen[stem] == 0 else f"{stem}_{seen[stem]}"
            group = store.get(f"layers/{stored}")
            variables = None if group is None else (
                group["cell/vars"] if "cell" in group else group.get("vars"))
            if variables is None or not len(variables):
                if kind in WEIGHTED:
                    raise BadInputError(
                        f"{path}: layer {settings.get('name')!r} ({kind}) has no weights in "
                        f"model.weights.h5 (looked for layers/{stored}); the file does not "
                        "belong to this model, retrain or copy the set again")
                continue
            for setting, wanted in EXPECTED.get(kind, {}).items():
                if wanted is not None and settings.get(setting) != wanted:
                    raise BadInputError(f"{path}: layer {settings.get('name')!r} has "
                                        f"{setting}={settings.get(setting)!r}, not {wanted!r}")
            params[settings["name"]] = tuple(np.asarray(variables[str(i)], dtype="float32")
                                             for i in range(len(variables)))
            if kind == "LayerNormalization":
                epsilon = float(settings.get("epsilon", 1e-3))
    return params, epsilon


#: The layer kinds a grandstaff clef model is made of (the functional ops keras records, too);
#: anything else (a Lambda layer, say) is refused by name, never run.
KNOWN_LAYERS = frozenset({
    "InputLayer", "Embedding", "Concatenate", "SpatialDropout1D", "Dropout",
    "LayerNormalization", "LSTM", "Dense", "Any", "ExpandDims", "LogicalOr", "NotEqual",
    "OnesLike", "ZerosLike"})
#: The layers every clef model has weights for.
REQUIRED = ("pitch_embedding", "duration_embedding", "layer_norm", "dense", *HEADS)


def _layers(path: Path, config: object) -> list[tuple[str, dict]]:
    """(kind, settings) of every layer of a ``.keras`` file's config, checked to be a
    grandstaff clef model's: one clear error for anything else."""
    layers = config.get("config", {}).get("layers") if isinstance(config, dict) and isinstance(
        config.get("config"), dict) else None
    if not isinstance(layers, list) or not all(
            isinstance(layer, dict) and isinstance(layer.get("config"), dict)
            and isinstance(layer["config"].get("name"), str) for layer in layers):
        raise BadInputError(f"{path}: its config.json is not a Keras model's (every layer "
                            "needs a class and a name)")
    found = [(str(layer.get("class_name")), layer["config"]) for layer in layers]
    names = {settings["name"] for _, settings in found}
    for kind, settings in found:
        if kind not in KNOWN_LAYERS:
            raise BadInputError(f"{path}: layer {settings['name']!r} is a {kind} layer, which "
                                "a grandstaff clef model never holds; it is not run")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise BadInputError(f"{path}: no layer named {missing[0]!r}; this is not a grandstaff "
                            "clef model")
    return found


def _snake_case(name: str) -> str:
    """Keras's name for a class's variables (its ``to_snake_case``).

    >>> [_snake_case(n) for n in ("LayerNormalization", "LSTM", "Dense", "SpatialDropout1D")]
    ['layer_normalization', 'lstm', 'dense', 'spatial_dropout1d']
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def load_steps(name: str = "bach") -> dict[str, ClefStep]:
    """The steps of both clefs of the model set ``name`` (see :func:`models_root`)."""
    root = models_root(name)
    steps = {clef: ClefStep.load(root / clef) for clef in CLEFS}
    check_set(root, steps)
    return steps
