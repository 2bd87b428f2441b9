"""Vocabularies: an ordered list of tokens per clef and head, saved as JSON (never pickle).

>>> v = Vocabulary.build(["60", "rest", "60", "48.55"])
>>> v.tokens
('<pad>', '<major>', '<minor>', 'rest', '48.55', '60')
>>> v.encode(["60", "rest"])
[5, 3]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import BadInputError, MissingFileError
from ..files import write_text_atomic
from .events import (
    PAD,
    REST,
    SPECIAL_TOKENS,
    is_special,
    parse_duration,
    parse_pitch_token,
)

#: Every grid duration is a whole number of 24ths of a quarter.
TICKS_PER_QUARTER = 24


def _sort_key(token: str, head: str) -> tuple:
    if token == REST:
        return (0, ())
    try:
        if head == "duration":
            return (1, (Fraction(token),))
        pitches, held = parse_pitch_token(token)
        return (1, pitches, tuple(p in held for p in pitches))
    except (ValueError, BadInputError):
        return (2, (token,))


@dataclass(frozen=True)
class Vocabulary:
    """An ordered token list; a token's id is its index. Id 0 is padding."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens):
            raise BadInputError("a vocabulary lists a token twice")
        if tuple(self.tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise BadInputError(f"a vocabulary must begin with {', '.join(SPECIAL_TOKENS)}")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    @classmethod
    def build(cls, tokens: Iterable[str], head: str = "pitch") -> Vocabulary:
        """The vocabulary of ``tokens``: special tokens first, then music tokens in a stable
        order (pitch tokens by their MIDI numbers, duration tokens by length)."""
        music = sorted({t for t in tokens if not is_special(t)},
                       key=lambda t: _sort_key(t, head))
        return cls((*SPECIAL_TOKENS, *music))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index  # type: ignore[attr-defined]

    @property
    def pad_id(self) -> int:
        return self.id(PAD)

    def id(self, token: str) -> int:
        try:
            return self._index[token]  # type: ignore[attr-defined]
        except KeyError:
            raise BadInputError(f"token {token!r} is not in the vocabulary") from None

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.id(t) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[int(i)] for i in ids]

    def special_ids(self) -> list[int]:
        """Ids of the padding and start tokens, which a sampler must never emit."""
        return [i for i, t in enumerate(self.tokens) if is_special(t)]

    def fingerprint(self) -> str:
        return hashlib.sha256("\n".join(self.tokens).encode()).hexdigest()[:16]

    def save(self, path: str | Path) -> None:
        write_text_atomic(Path(path), json.dumps({"tokens": list(self.tokens)}, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"vocabulary {path} does not exist")
        try:
            data = json.loads(path.read_text())
            return cls(tuple(data["tokens"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BadInputError(
                f"vocabulary {path} is not a grandstaff vocabulary: {exc}"
            ) from None


def duration_ticks(vocab: Vocabulary):
    """Each duration token's length in 24ths of a quarter (special tokens: too long to fit).

    >>> duration_ticks(Vocabulary.build(["1", "1/2"], head="duration")).tolist()[-2:]
    [12, 24]
    """
    import numpy as np

    return np.array([int(parse_duration(t) * TICKS_PER_QUARTER) if not is_special(t)
                     else 10**9 for t in vocab.tokens])


def pitch_matrices(vocab: Vocabulary):
    """(sounding, held): for each pitch token, which of the 128 MIDI numbers sound in it and
    which it holds on from the event before, as (tokens, 128) booleans.

    >>> sounding, held = pitch_matrices(Vocabulary.build(["60", "60~.64"]))
    >>> bool(held[-1, 60]), bool(held[-1, 64]), bool(sounding[-1, 64])
    (True, False, True)
    """
    import numpy as np

    sounding = np.zeros((len(vocab), 128), dtype=bool)
    held = np.zeros((len(vocab), 128), dtype=bool)
    for index, token in enumerate(vocab.tokens):
        if not is_special(token):
            pitches, holds = parse_pitch_token(token)
            sounding[index, list(pitches)] = True
            held[index, list(holds)] = True
    return sounding, held
