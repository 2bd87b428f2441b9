"""grandstaff: learn piano music and write new pieces as printable grand-staff scores.

>>> import grandstaff as gs
>>> corpus = gs.load_corpus("bach")                 # doctest: +SKIP
>>> piece = gs.compose(bars=16, key="E minor")      # doctest: +SKIP
>>> piece.write("scores/etude")                     # doctest: +SKIP

Keras (and so JAX) is imported only when a model is trained, evaluated or used to compose.
"""

from __future__ import annotations

from importlib import import_module

from .codec import decode, encode
from .errors import GrandstaffError
from .events import CLEFS, Event
from .keys import Key

__version__ = "0.1.0"

_LAZY = {
    "load_corpus": "corpus", "Corpus": "corpus",
    "train": "training", "evaluate": "evaluation", "format_report": "evaluation",
    "compose": "composing", "compose_many": "composing", "Piece": "piece",
    "load_models": "model", "ClefConfig": "model",
}

__all__ = ["CLEFS", "Event", "GrandstaffError", "Key", "decode", "encode", "__version__",
           *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'grandstaff' has no attribute {name!r}")
