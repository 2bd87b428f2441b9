"""Shared fixtures: the MusicXML 4.0 schema and small real music the tests make themselves."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_CANDIDATES = [ROOT.parent / "shared" / "musicxml-4.0" / "musicxml.xsd",
                     ROOT / "tests" / "data" / "musicxml-4.0" / "musicxml.xsd"]


@pytest.fixture(scope="session")
def musicxml_schema():
    from lxml import etree

    for candidate in SCHEMA_CANDIDATES:
        if candidate.is_file():
            return etree.XMLSchema(etree.parse(str(candidate)))
    pytest.fail("the MusicXML 4.0 schema is missing (../shared/musicxml-4.0/musicxml.xsd)")


@pytest.fixture(scope="session")
def assert_valid_musicxml(musicxml_schema):
    from lxml import etree

    def check(path: Path) -> None:
        doc = etree.parse(str(path))
        assert musicxml_schema.validate(doc), str(musicxml_schema.error_log)[:2000]

    return check


def tokens_of(tables) -> dict[str, list[tuple[str, str]]]:
    """The (pitch, duration) token pairs of each clef, for comparing round trips."""
    return {clef: list(zip(table["pitch"].tolist(), table["duration"].tolist()))
            for clef, table in tables.items()}


@pytest.fixture(scope="session")
def chorale_paths() -> list[Path]:
    from music21 import corpus

    paths = sorted(p for p in corpus.getComposer("bach") if p.suffix == ".mxl")
    return paths


def q(text: str) -> Fraction:
    return Fraction(text)
