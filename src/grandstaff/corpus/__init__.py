"""Corpora: the Bach chorales music21 ships, or the user's own files, as token tables.

``sources`` walks and names the files, ``loading`` reads them in worker processes, ``cache``
keeps the tables, ``tables`` holds the :class:`Corpus` type. Every name is importable from here.

>>> from grandstaff.corpus import load_corpus
>>> corpus = load_corpus("bach")      # doctest: +SKIP
"""

from .cache import CACHE_FORMAT, cache_folder, read_cache, write_cache
from .loading import DEFAULT_CACHE, DEFAULT_MAX_EVENTS, load_corpus
from .sources import (
    BACH,
    TOKENS_VERSION,
    bach_piece_file,
    fingerprint_files,
    piece_names,
    shown,
    source_files,
)
from .tables import PIECE_COLUMNS, Corpus

__all__ = ["BACH", "CACHE_FORMAT", "DEFAULT_CACHE", "DEFAULT_MAX_EVENTS", "PIECE_COLUMNS",
           "TOKENS_VERSION", "Corpus", "bach_piece_file", "cache_folder", "fingerprint_files",
           "load_corpus", "piece_names", "read_cache", "shown", "source_files", "write_cache"]
