"""``encode`` and ``decode``: a score to token tables and back, losslessly.

>>> import grandstaff as gs
>>> tables = gs.encode("song.musicxml")            # doctest: +SKIP
>>> tables["treble"].columns.tolist()              # doctest: +SKIP
['piece', 'position', 'offset', 'pitch', 'duration']
>>> score = gs.decode(tables)                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import pandas as pd

from ..errors import BadInputError
from .events import CLEFS, Event
from .keys import Key

COLUMNS: list[str] = ["piece", "position", "offset", "pitch", "duration"]
Tables = dict[str, pd.DataFrame]


def events_to_table(events: Sequence[Event], piece: str = "piece") -> pd.DataFrame:
    """One row per event: piece, position (0, 1, ...), offset in quarters, pitch, duration."""
    offsets, position = [], Fraction(0)
    for event in events:
        offsets.append(float(position))
        position += event.duration
    tokens = [event.tokens() for event in events]
    return pd.DataFrame({
        "piece": pd.Series([piece] * len(events), dtype="string"),
        "position": pd.Series(range(len(events)), dtype="int32"),
        "offset": pd.Series(offsets, dtype="float64"),
        "pitch": pd.Series([t[0] for t in tokens], dtype="string"),
        "duration": pd.Series([t[1] for t in tokens], dtype="string"),
    }, columns=COLUMNS)


def table_to_events(table: pd.DataFrame) -> list[Event]:
    """The events of one piece's table, in position order."""
    missing = {"pitch", "duration"} - set(table.columns)
    if missing:
        raise BadInputError(f"a token table needs the columns {sorted(missing)}")
    if "position" in table.columns:
        table = table.sort_values("position")
    return [Event.from_tokens(str(p), str(d)) for p, d in zip(table["pitch"], table["duration"])]


def encode(score_or_path, *, transpose: bool = True) -> Tables:
    """Token tables ``{"treble": DataFrame, "bass": DataFrame}`` of one piece.

    ``score_or_path`` is a music21 Score or a file grandstaff reads. With ``transpose`` the piece
    is moved to C major or A minor, as in a corpus.
    """
    from .reading import read_file, read_score

    if isinstance(score_or_path, (str, Path)):
        pieces = read_file(Path(score_or_path), transpose=transpose)
        if len(pieces) != 1:
            raise BadInputError(f"{score_or_path} holds {len(pieces)} pieces; encode one at a time")
        piece = pieces[0]
    else:
        piece = read_score(score_or_path, transpose=transpose)
    key = Key.parse(piece.key)
    if piece.shift:
        key = Key("C", "major") if piece.mode == "major" else Key("A", "minor")
    tables = {clef: events_to_table(piece.staves[clef], piece.name) for clef in CLEFS}
    for table in tables.values():
        table.attrs.update(key=str(key), time_signature=piece.time_signature, tempo=piece.tempo,
                           title=piece.title)
    return tables


def decode(
    tables: Mapping[str, pd.DataFrame],
    *,
    key: str | Key | None = None,
    time_signature: str | None = None,
    tempo: float | None = None,
    title: str | None = None,
    composer: str | None = None,
):
    """A music21 Score (one piano, braced grand staff) from one piece's token tables.

    Options left out come from the tables' ``attrs`` (set by :func:`encode`), else C major, 4/4,
    no tempo mark.
    """
    from .notation import build_score

    staves = {}
    for clef in CLEFS:
        if clef not in tables:
            raise BadInputError(f"decode needs a {clef!r} table; got {sorted(tables)}")
        table = tables[clef]
        if "piece" in table.columns and table["piece"].nunique() > 1:
            raise BadInputError(
                "decode takes one piece at a time; select one with table[table.piece == NAME]"
            )
        staves[clef] = table_to_events(table)
    attrs = dict(tables["treble"].attrs)
    key = key or attrs.get("key") or "C major"
    key = key if isinstance(key, Key) else Key.parse(key)
    time_signature = time_signature or attrs.get("time_signature") or "4/4"
    tempo = tempo if tempo is not None else attrs.get("tempo")
    title = title or attrs.get("title")
    return build_score(staves, key=key, time_signature=time_signature, tempo=tempo,
                       title=title, composer=composer)
