"""grandstaff: learn piano music and write new pieces as printable grand-staff scores.

>>> import grandstaff as gs
>>> corpus = gs.load_corpus("bach")                 # doctest: +SKIP
>>> piece = gs.compose(bars=16, key="E minor")      # doctest: +SKIP
>>> piece.write("scores/etude")                     # doctest: +SKIP

Keras (and so JAX) is imported only when a model is trained, evaluated or used to compose, and
pandas and music21 only when music is read or written: importing the package, and
``grandstaff --help``, stay quick.
"""

from __future__ import annotations

from importlib import import_module

from .errors import GrandstaffError
from .music.events import CLEFS, Event
from .music.keys import Key

__version__ = "0.1.0"

_LAZY = {
    "encode": "music.codec", "decode": "music.codec",
    "load_corpus": "corpus.loading", "Corpus": "corpus.tables",
    "train": "models.training", "evaluate": "models.evaluation",
    "format_report": "models.evaluation",
    "cross_validate": "models.folds", "format_folds": "models.folds",
    "compose": "composing.composer", "compose_many": "composing.composer",
    "harmonize": "composing.harmonizing", "Melody": "music.melody",
    "Piece": "composing.piece",
    "load_models": "models.model", "ClefConfig": "models.model",
}

__all__ = ["CLEFS", "Event", "GrandstaffError", "Key", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'grandstaff' has no attribute {name!r}")
