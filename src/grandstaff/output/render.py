"""Writing scores to files: MusicXML and MIDI here; engravers (LilyPond, MuseScore) too.

One of the few modules that know music21. Every file appears whole or not at all (it is written
to a temporary name beside its target, then renamed).
"""

from __future__ import annotations

from pathlib import Path

from ..files import write_atomic


def write_musicxml(score, path: str | Path, *, force: bool = True) -> Path:
    """Write ``score`` as uncompressed MusicXML (valid against the MusicXML 4.0 schema)."""
    return write_atomic(Path(path), lambda tmp: score.write("musicxml", fp=tmp), force=force)


def write_midi(score, path: str | Path, *, force: bool = True) -> Path:
    """Write ``score`` as a standard MIDI file, one track per staff, with its tempo."""
    return write_atomic(Path(path), lambda tmp: score.write("midi", fp=tmp), force=force)
