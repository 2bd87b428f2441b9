"""The per-clef model: its config, its layers, and saving and loading a clef folder.

A clef folder (``clefs/<set>/<clef>/``) holds ``model.keras``, ``vocab.json`` (both heads),
``config.json`` and ``metrics.json``. Loading checks that they belong together.

>>> config = ClefConfig(lstm_units=(32, 16), dense_units=16)      # doctest: +SKIP
>>> model = build_clef_model(config, pitch_size=50, duration_size=12)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from ..backend import keras as _keras
from ..errors import (
    BadArgumentError,
    BadInputError,
    GrandstaffWarning,
    MissingFileError,
    ModelMismatchError,
)
from ..files import give_normal_mode
from ..music.events import CLEFS, is_special, parse_duration, parse_pitches
from ..music.vocab import Vocabulary
from .conditioning import COUNTDOWN_CAP, PHRASE_IDS

HEADS: tuple[str, str] = ("pitch", "duration")
MODEL_FILE, VOCAB_FILE, CONFIG_FILE, METRICS_FILE = (
    "model.keras", "vocab.json", "config.json", "metrics.json")
FORMAT = "grandstaff-clef-1"


@dataclass(frozen=True)
class ClefConfig:
    """Every size and training setting of a clef model (the defaults are the reference design)."""

    pitch_embedding: int = 128
    duration_embedding: int = 32
    spatial_dropout: float = 0.3
    lstm_units: tuple[int, ...] = (256, 128, 128)
    lstm_dropout: float = 0.3
    dense_units: int = 128
    chunk_length: int = 64
    chunk_stride: int = 64
    transpositions: tuple[int, ...] = (-2, -1, 1, 2)
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    clipnorm: float = 1.0
    ema_momentum: float = 0.99
    epochs: int = 100
    patience: int = 10
    validation_share: float = 0.1
    #: Hear the other staff, the meter and the countdown (see models/conditioning.py).
    coupled: bool = True
    partner_embedding: int = 64
    meter_embedding: int = 8
    position_embedding: int = 16
    countdown_embedding: int = 8
    #: Share of training chunks whose meter is hidden (read as padding), so that a meter the
    #: corpus lacks still gets a trained input.
    meter_dropout: float = 0.1
    #: Hear how far each event is from the next phrase end (a coupled model only; see
    #: models/conditioning.py), and the share of training chunks that read it as unknown,
    #: as a file without fermatas does, so that composing without a phrase plan still works.
    phrases: bool = True
    phrase_embedding: int = 8
    phrase_dropout: float = 0.2

    @property
    def phrased(self) -> bool:
        """Whether the model has the phrase input (it needs the other inputs too)."""
        return self.coupled and self.phrases

    def __post_init__(self) -> None:
        object.__setattr__(self, "lstm_units", tuple(int(u) for u in self.lstm_units))
        object.__setattr__(self, "transpositions", tuple(int(t) for t in self.transpositions))
        if 0 in self.transpositions or any(abs(t) > 6 for t in self.transpositions):
            raise BadArgumentError(
                f"transpositions={self.transpositions!r} must be non-zero semitones within ±6")
        for name in ("pitch_embedding", "duration_embedding", "dense_units", "chunk_length",
                     "chunk_stride", "batch_size", "epochs", "partner_embedding",
                     "meter_embedding", "position_embedding", "countdown_embedding",
                     "phrase_embedding"):
            if int(getattr(self, name)) < 1:
                raise BadArgumentError(f"{name}={getattr(self, name)!r} must be 1 or more")
        if not self.lstm_units or min(self.lstm_units) < 1:
            raise BadArgumentError(f"lstm_units={self.lstm_units!r} needs one or more sizes ≥ 1")
        for name in ("spatial_dropout", "lstm_dropout", "ema_momentum", "meter_dropout",
                     "phrase_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise BadArgumentError(f"{name}={getattr(self, name)!r} must be in [0, 1)")
        if not 0 < self.validation_share < 1:
            raise BadArgumentError(
                f"validation_share={self.validation_share!r} must be between 0 and 1")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lstm_units"] = list(self.lstm_units)
        data["transpositions"] = list(self.transpositions)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ClefConfig:
        """The config saved as ``data``.

        A value of the wrong type is a :class:`BadInputError` naming the key and the type it
        needs; a key this version does not know is left out with a warning.
        """
        if not isinstance(data, dict):
            raise BadInputError(
                f"'model' must be a JSON object of settings, not {json.dumps(data)[:40]}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            warnings.warn(f"clef config keys {', '.join(map(repr, unknown))} are unknown to "
                          "this version of grandstaff and were left out",
                          GrandstaffWarning, stacklevel=2)
        # folders saved before weight averaging, before the staves heard each other, and
        # before the models heard phrases
        data = {"ema_momentum": 0.0, "coupled": False, "phrases": False, **data}
        values = {}
        for name, value in data.items():
            if name not in known:
                continue
            default = known[name].default if known[name].default is not MISSING else \
                known[name].default_factory()
            values[name] = _typed(name, value, default)
        return cls(**values)


def _typed(name: str, value, default):
    """``value`` if it has the type of ``default`` (a list for a tuple of whole numbers)."""
    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        wanted = "true or false"
    elif isinstance(default, tuple):
        if isinstance(value, list) and all(whole(v) for v in value):
            return tuple(value)
        wanted = "a list of whole numbers"
    elif isinstance(default, int):
        if whole(value):
            return value
        wanted = "a whole number"
    elif isinstance(default, float):
        if whole(value) or isinstance(value, float):
            return float(value)
        wanted = "a number"
    else:  # pragma: no cover - every field is one of the above
        return value
    raise BadInputError(f"{name!r} must be {wanted}, not {json.dumps(value)[:40]}")


#: The inputs of a coupled model beside its own tokens, each with its own vocabulary (the
#: countdown is a number of bars and needs none); see :mod:`grandstaff.models.conditioning`.
CONDITIONS: tuple[str, ...] = ("partner", "meter", "position")


@dataclass(frozen=True)
class ClefVocab:
    """The vocabularies of one clef: its two heads and, for a coupled model, its inputs
    (``partner`` is the other clef's pitch vocabulary)."""

    pitch: Vocabulary
    duration: Vocabulary
    partner: Vocabulary | None = None
    meter: Vocabulary | None = None
    position: Vocabulary | None = None

    @property
    def coupled(self) -> bool:
        return self.partner is not None

    def head(self, name: str) -> Vocabulary:
        return self.pitch if name == "pitch" else self.duration

    def condition(self, name: str) -> Vocabulary:
        found = getattr(self, name)
        if found is None:
            raise BadInputError(f"this clef model has no {name} input (it was trained without "
                                "the other staff)")
        return found

    def to_json(self) -> dict:
        data = {"pitch": list(self.pitch.tokens), "duration": list(self.duration.tokens)}
        for name in CONDITIONS:
            if getattr(self, name) is not None:
                data[name] = list(getattr(self, name).tokens)
        return data

    @classmethod
    def from_json(cls, data: dict) -> ClefVocab:
        """The vocabularies saved as ``data``; every music token must parse (positive durations,
        MIDI numbers 0..127), or :class:`BadInputError` names the first that does not."""
        if not isinstance(data, dict) or not all(
                isinstance(data.get(head), list) for head in HEADS):
            raise BadInputError(
                "expected an object with 'pitch' and 'duration' lists of tokens, found "
                f"{json.dumps(data)[:40]}")
        conditions = {}
        for name in CONDITIONS:
            if name in data:
                if not isinstance(data[name], list) or not all(
                        isinstance(t, str) for t in data[name]):
                    raise BadInputError(f"the {name} vocabulary must be a list of tokens")
                conditions[name] = Vocabulary(tuple(data[name]))
        vocab = cls(Vocabulary(tuple(data["pitch"])), Vocabulary(tuple(data["duration"])),
                    **conditions)
        heads = [("pitch", vocab.pitch, parse_pitches), ("duration", vocab.duration,
                                                           parse_duration)]
        if vocab.partner is not None:
            heads.append(("partner", vocab.partner, parse_pitches))
        for head, tokens, parse in heads:
            for token in tokens.tokens:
                if not isinstance(token, str):
                    raise BadInputError(f"{head} token {token!r} is not text")
                if not is_special(token):
                    parse(token)
        return vocab

    def fingerprint(self) -> str:
        parts = [self.pitch.fingerprint(), self.duration.fingerprint()]
        parts += [getattr(self, name).fingerprint() for name in CONDITIONS
                  if getattr(self, name) is not None]
        return "-".join(parts)


def build_clef_model(config: ClefConfig, pitch_size: int, duration_size: int, *,
                     step: bool = False, conditions: dict[str, int] | None = None):
    """The clef model: embeddings → SpatialDropout1D → LayerNorm → LSTMs → Dense → two heads.

    A coupled model (``config.coupled``) embeds four more inputs beside its own tokens and
    concatenates them before the dropout: the partner's pitch token (as the MIDI numbers and
    pitch classes it sounds, a fixed table set by :func:`set_partner_pitches`, projected by a
    learned matrix), the meter, the metric position and the countdown. ``conditions`` gives
    the sizes of the partner, meter and position vocabularies.

    With ``step=True`` the same layers (same names, so weights copy across) take one event and
    the LSTM states and return the next states too: the generator's one-step model.
    """
    keras = _keras()
    layers = keras.layers
    length = 1 if step else None
    pitch_in = keras.Input((length,), dtype="int32", name="pitch_in")
    duration_in = keras.Input((length,), dtype="int32", name="duration_in")
    inputs = {"pitch_in": pitch_in, "duration_in": duration_in}
    parts = [
        layers.Embedding(pitch_size, config.pitch_embedding, mask_zero=not step,
                         name="pitch_embedding")(pitch_in),
        layers.Embedding(duration_size, config.duration_embedding, mask_zero=not step,
                         name="duration_embedding")(duration_in),
    ]
    if config.coupled:
        if not conditions:
            raise BadArgumentError("a coupled clef model needs the sizes of its partner, "
                                   "meter and position vocabularies")
        for name in (*CONDITIONS, "countdown", *(("phrase",) if config.phrased else ())):
            inputs[f"{name}_in"] = keras.Input((length,), dtype="int32", name=f"{name}_in")
        heard = layers.Embedding(conditions["partner"], PARTNER_FEATURES, trainable=False,
                                 name="partner_pitches")(inputs["partner_in"])
        parts += [
            layers.Dense(config.partner_embedding, use_bias=False,
                         name="partner_embedding")(heard),
            layers.Embedding(conditions["meter"], config.meter_embedding,
                             name="meter_embedding")(inputs["meter_in"]),
            layers.Embedding(conditions["position"], config.position_embedding,
                             name="position_embedding")(inputs["position_in"]),
            layers.Embedding(COUNTDOWN_CAP + 2, config.countdown_embedding,
                             name="countdown_embedding")(inputs["countdown_in"]),
        ]
        if config.phrased:
            parts.append(layers.Embedding(PHRASE_IDS, config.phrase_embedding,
                                          name="phrase_embedding")(inputs["phrase_in"]))
    x = layers.Concatenate(name="embed")(parts)
    x = layers.SpatialDropout1D(config.spatial_dropout, name="spatial_dropout")(x)
    x = layers.LayerNormalization(name="layer_norm")(x)
    state_inputs, state_outputs = [], []
    for index, units in enumerate(config.lstm_units, start=1):
        lstm = layers.LSTM(units, return_sequences=True, return_state=step,
                           dropout=config.lstm_dropout, name=f"lstm_{index}")
        if step:
            h = keras.Input((units,), name=f"h_{index}")
            c = keras.Input((units,), name=f"c_{index}")
            x, h_out, c_out = lstm(x, initial_state=[h, c])
            state_inputs += [h, c]
            state_outputs += [h_out, c_out]
        else:
            x = lstm(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    pitch = layers.Dense(pitch_size, activation="softmax", name="pitch")(x)
    duration = layers.Dense(duration_size, activation="softmax", name="duration")(x)
    if step:
        return keras.Model([*inputs.values(), *state_inputs],
                           [pitch, duration, *state_outputs], name="clef_step")
    return keras.Model(inputs, {"pitch": pitch, "duration": duration}, name="clef")


#: What the partner input knows of a pitch token: the 128 MIDI numbers and 12 pitch classes
#: it sounds.
PARTNER_FEATURES = 128 + 12


def partner_table(vocab: Vocabulary):
    """(tokens, :data:`PARTNER_FEATURES`) float32: the MIDI numbers and pitch classes each
    pitch token sounds (zeros for special tokens and rests)."""
    import numpy as np

    from ..music.vocab import pitch_matrices

    sounding, _ = pitch_matrices(vocab)
    classes = np.zeros((len(vocab), 12), dtype=bool)
    for pitch_class in range(12):
        classes[:, pitch_class] = sounding[:, pitch_class::12].any(axis=1)
    return np.concatenate([sounding, classes], axis=1).astype("float32")


def set_partner_pitches(model, partner: Vocabulary) -> None:
    """Fill a coupled model's fixed partner table from the partner vocabulary."""
    model.get_layer("partner_pitches").set_weights([partner_table(partner)])


def condition_sizes(vocab: ClefVocab) -> dict[str, int] | None:
    """The sizes :func:`build_clef_model` needs for a coupled model's inputs (None if not)."""
    if not vocab.coupled:
        return None
    return {name: len(vocab.condition(name)) for name in CONDITIONS}


@dataclass
class ClefModel:
    """A trained clef: its keras model, vocabularies, config and metrics."""

    clef: str
    model: object
    vocab: ClefVocab
    config: ClefConfig
    metrics: dict = field(default_factory=dict)
    path: Path | None = None

    def save(self, folder: str | Path) -> Path:
        """Write the clef folder atomically (a new folder, then renamed over the old one)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            self._without_optimizer().save(tmp / MODEL_FILE)
            (tmp / VOCAB_FILE).write_text(json.dumps(self.vocab.to_json(), indent=1))
            (tmp / CONFIG_FILE).write_text(json.dumps({
                "format": FORMAT, "clef": self.clef, "model": self.config.to_dict(),
                "pitch_vocab_size": len(self.vocab.pitch),
                "duration_vocab_size": len(self.vocab.duration),
                "vocab_fingerprint": self.vocab.fingerprint(),
            }, indent=1))
            (tmp / METRICS_FILE).write_text(json.dumps(self.metrics, indent=1, default=str))
            for made in (tmp, *tmp.iterdir()):
                give_normal_mode(made, folder=made.is_dir())
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.path = folder
        return folder

    def _without_optimizer(self):
        """The same layers and weights, uncompiled: no optimizer state (a third of the size)."""
        bare = build_clef_model(self.config, len(self.vocab.pitch), len(self.vocab.duration),
                                conditions=condition_sizes(self.vocab))
        bare.set_weights(self.model.get_weights())
        return bare

    @classmethod
    def load(cls, folder: str | Path) -> ClefModel:
        """Load a clef folder, refusing files that do not belong together."""
        folder = Path(folder)
        clef, config, vocab, metrics = read_clef_folder(folder)
        check_model_file(folder / MODEL_FILE)
        try:
            model = _keras().saving.load_model(folder / MODEL_FILE, safe_mode=True)
        except Exception as exc:
            raise BadInputError(
                f"{folder / MODEL_FILE} cannot be loaded ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
        sizes = {head: int(model.get_layer(head).units) for head in HEADS}
        if sizes != {"pitch": len(vocab.pitch), "duration": len(vocab.duration)}:
            raise ModelMismatchError(
                f"{folder}: the model's heads have {sizes} outputs but vocab.json has "
                f"{len(vocab.pitch)} pitch and {len(vocab.duration)} duration tokens")
        return cls(clef=clef, model=model, vocab=vocab, config=config, metrics=metrics,
                   path=folder)


def read_clef_folder(folder: Path) -> tuple[str, ClefConfig, ClefVocab, dict]:
    """The clef, config, vocabulary and metrics of a clef folder, each checked, and the
    model file checked to be there (it is read by the caller: keras or the stepper)."""
    if not folder.is_dir():
        raise MissingFileError(f"model folder {folder} does not exist")
    for name in (MODEL_FILE, VOCAB_FILE, CONFIG_FILE):
        if not (folder / name).is_file():
            raise MissingFileError(f"model folder {folder} has no {name}")
    config_data = _read_json(folder / CONFIG_FILE)
    if not isinstance(config_data, dict) or config_data.get("format") != FORMAT:
        raise BadInputError(f"{folder / CONFIG_FILE} is not a grandstaff clef config")
    if config_data.get("clef") not in CLEFS:
        raise BadInputError(
            f"{folder / CONFIG_FILE}: clef {config_data.get('clef')!r} is not one of "
            f"{', '.join(CLEFS)}")
    try:
        config = ClefConfig.from_dict(config_data.get("model"))
    except (BadInputError, BadArgumentError) as exc:
        raise BadInputError(f"{folder / CONFIG_FILE}: {exc}") from None
    try:
        vocab = ClefVocab.from_json(_read_json(folder / VOCAB_FILE))
    except (KeyError, TypeError, AttributeError, BadInputError) as exc:
        raise BadInputError(f"{folder / VOCAB_FILE} is not a clef vocabulary: {exc}") from None
    if vocab.fingerprint() != config_data.get("vocab_fingerprint"):
        raise ModelMismatchError(
            f"{folder}: vocab.json does not belong to this model (its tokens differ from "
            "those the model was trained with); retrain or restore the matching vocab.json")
    if config.coupled != vocab.coupled:
        raise ModelMismatchError(
            f"{folder}: config.json and vocab.json disagree on whether the model hears the "
            "other staff; retrain the set with 'grandstaff train'")
    metrics = _read_json(folder / METRICS_FILE) if (folder / METRICS_FILE).is_file() else {}
    return config_data["clef"], config, vocab, metrics if isinstance(metrics, dict) else {}


def check_set(root: Path, loaded: dict) -> None:
    """Refuse a set whose clef folders hold the wrong clef."""
    for clef, model in loaded.items():
        if model.clef != clef:
            raise ModelMismatchError(
                f"{root / clef} holds a {model.clef} model, not a {clef} one; restore its "
                "config.json or retrain the set")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path} is not valid JSON ({exc})") from None


def user_models_folder() -> Path:
    """Where ``grandstaff train`` keeps the user's model sets: ``$XDG_DATA_HOME/grandstaff/
    clefs`` (``~/.local/share/grandstaff/clefs`` when XDG_DATA_HOME is unset), never inside
    the package or a checkout of it."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "grandstaff" / "clefs"


def shipped_models_folder() -> Path:
    """The model sets installed with the package (``bach``)."""
    from importlib import resources

    return Path(str(resources.files("grandstaff.clefs")))


def models_root(name: str) -> Path:
    """The folder of a model set: a path, ``./clefs/<name>`` (sets trained before they moved
    to the user's folder), the user's folder (:func:`user_models_folder`), or the set shipped
    in the package."""
    as_path = Path(name)
    places = [as_path, Path("clefs") / name, user_models_folder() / name,
              shipped_models_folder() / name]
    for place in places:
        if (place / CLEFS[0]).is_dir():
            return place
    raise MissingFileError(
        f"no model set {name!r} (looked in {', '.join(str(p) for p in places[:3])} and the "
        "installed package); train one with 'grandstaff train --name NAME' or use "
        "--models bach")


#: The most a ``model.keras`` may unpack to (the shipped clefs unpack to about 4 MB each): a
#: small file that declares gigabytes is refused before anything is read.
MAX_MODEL_BYTES = 512 * 2**20


def check_model_file(path: Path) -> None:
    """Refuse a ``model.keras`` that is not a zip or that declares more than
    :data:`MAX_MODEL_BYTES` unpacked, before any of it is read."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise BadInputError(f"{path} cannot be loaded ({type(exc).__name__}: {exc})") from None
    if declared > MAX_MODEL_BYTES:
        raise BadInputError(f"{path} unpacks to {declared / 2**20:,.0f} MB, more than the "
                            f"{MAX_MODEL_BYTES // 2**20} MB a clef model may hold")


def load_models(name: str = "bach") -> dict[str, ClefModel]:
    """Both clefs of the model set ``name``."""
    root = models_root(name)
    models = {clef: ClefModel.load(root / clef) for clef in CLEFS}
    check_set(root, models)
    return models
