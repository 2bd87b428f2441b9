"""Composing: top-k sampling, the compiled generation loop, ``compose`` and the ``Piece`` it
returns. Every name of ``composer`` is importable from here, as it was before the regrouping.

>>> from grandstaff.composing import compose
>>> piece = compose(bars=8, key="E minor", seed=3)     # doctest: +SKIP
"""

from .composer import (
    DEFAULT_CANDIDATES,
    MAX_BARS,
    MAX_CANDIDATE_BARS,
    MAX_CANDIDATES,
    check_bars,
    check_candidates,
    check_seed,
    compose,
    compose_many,
    read_primer,
)

__all__ = ["DEFAULT_CANDIDATES", "MAX_BARS", "MAX_CANDIDATES", "MAX_CANDIDATE_BARS",
           "check_bars", "check_candidates", "check_seed", "compose", "compose_many",
           "read_primer"]
