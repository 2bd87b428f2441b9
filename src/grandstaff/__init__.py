"""grandstaff: learn piano music and write new pieces as printable grand-staff scores.

>>> import grandstaff as gs
>>> corpus = gs.load_corpus("bach")                 # doctest: +SKIP
>>> piece = gs.compose(bars=16, key="E minor")      # doctest: +SKIP
>>> piece.write("scores/etude")                     # doctest: +SKIP
"""

from __future__ import annotations

from .codec import decode, encode
from .errors import GrandstaffError
from .events import CLEFS, Event
from .keys import Key

__version__ = "0.1.0"
__all__ = ["CLEFS", "Event", "GrandstaffError", "Key", "decode", "encode", "__version__"]
