"""``Corpus``: token tables of many pieces, their metadata, and the files that were skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import pandas as pd

from ..music.codec import table_to_events
from ..music.events import CLEFS, MODES, Event, start_token

PIECE_COLUMNS = ["piece", "source", "title", "key", "mode", "shift", "time_signature", "tempo",
                 "snaps", "events_treble", "events_bass", "fermatas"]


@dataclass
class Corpus:
    """Token tables of many pieces, their metadata, and the files that were skipped."""

    tables: dict[str, pd.DataFrame]
    pieces: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fingerprint: str = ""
    seconds: float = 0.0
    cached: bool = False

    @property
    def snaps(self) -> int:
        """How many durations were snapped to the grid while reading."""
        return int(self.pieces["snaps"].sum()) if len(self.pieces) else 0

    def piece_names(self) -> list[str]:
        return self.pieces["piece"].tolist()

    def events(self, clef: str, piece: str) -> list[Event]:
        table = self.tables[clef]
        return table_to_events(table[table["piece"] == piece])

    def register(self, clef: str, pieces: list[str] | None = None) -> dict[int, int]:
        """How many notes ``clef``'s staff strikes on each MIDI number, over ``pieces`` (every
        piece by default), in the key the corpus stores them in: where the staff lies.

        A held note counts once, where it is struck; the numbers come in rising order.
        """
        from collections import Counter

        names = set(self.piece_names() if pieces is None else pieces)
        table = self.tables[clef]
        counts: Counter = Counter()
        for event in table_to_events(table[table["piece"].isin(names)]):
            counts.update(event.struck)
        return dict(sorted(counts.items()))

    def mode_classes(self, clef: str, pieces: list[str] | None = None) -> dict[str, list[int]]:
        """How many notes ``clef``'s staff strikes on each pitch class (0 = C, in the key the
        corpus stores them in), over the pieces of each mode among ``pieces`` (every piece by
        default): what each mode sounds like. A held note counts once, where it is struck."""
        names = set(self.piece_names() if pieces is None else pieces)
        modes = dict(zip(self.pieces["piece"], self.pieces["mode"]))
        table = self.tables[clef]
        found = {mode: [0] * 12 for mode in MODES}
        for name, rows in table[table["piece"].isin(names)].groupby("piece", sort=False):
            counts = found[modes[name]]
            for event in table_to_events(rows):
                for pitch in event.struck:
                    counts[pitch % 12] += 1
        return found

    def fermatas(self, piece: str) -> list[Fraction] | None:
        """Where ``piece``'s phrases end (the onsets of its fermatas, in quarters), or
        ``None`` where its file marks none (unknown)."""
        text = self.pieces.loc[self.pieces["piece"] == piece, "fermatas"].iloc[0]
        return None if pd.isna(text) else [Fraction(t) for t in str(text).split()]

    def sequences(self, clef: str, pieces: list[str] | None = None) -> list[tuple[list, list]]:
        """(pitch tokens, duration tokens) per piece, each opening with its mode's start token."""
        table = self.tables[clef]
        modes = dict(zip(self.pieces["piece"], self.pieces["mode"]))
        wanted = self.piece_names() if pieces is None else pieces
        grouped = {name: group for name, group in table.groupby("piece", sort=False)}
        result = []
        for name in wanted:
            group = grouped.get(name)
            start = start_token(modes[name])
            pitches = [start] + ([] if group is None else group["pitch"].tolist())
            durations = [start] + ([] if group is None else group["duration"].tolist())
            result.append((pitches, durations))
        return result

    def subset(self, pieces: list[str]) -> Corpus:
        keep = set(pieces)
        return Corpus(
            tables={c: t[t["piece"].isin(keep)].reset_index(drop=True)
                    for c, t in self.tables.items()},
            pieces=self.pieces[self.pieces["piece"].isin(keep)].reset_index(drop=True),
            skipped=list(self.skipped), fingerprint=self.fingerprint,
        )

    def summary(self) -> dict:
        """Machine-readable facts: pieces, skipped files, events per clef, vocabulary sizes..."""
        return {
            "pieces": len(self.pieces),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "events": {c: len(self.tables[c]) for c in CLEFS},
            "vocabulary": {
                c: {"pitch": int(self.tables[c]["pitch"].nunique()),
                    "duration": int(self.tables[c]["duration"].nunique())}
                for c in CLEFS
            },
            "modes": {m: int(n) for m, n in self.pieces["mode"].value_counts().items()},
            "duration_snaps": self.snaps,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
            "fingerprint": self.fingerprint,
        }
