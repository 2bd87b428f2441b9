"""Shared fixtures: the MusicXML 4.0 schema and small real music the tests make themselves."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = Path(__file__).resolve().parents[1]
#: The MusicXML 4.0 schema, kept in the repository (the tests read nothing outside it).
SCHEMA = ROOT / "tests" / "data" / "musicxml-4.0" / "musicxml.xsd"


#: Fixtures that train a model set or load one and compile its sampling loop: a test that uses
#: one is slow (``pytest -m "not slow"`` leaves it out; CI runs everything).
SLOW_FIXTURES = frozenset({"tiny_models", "tiny_independent_models", "small_corpus", "duet",
                           "served", "generators", "folk_set", "server", "browser"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="session")
def _private_caches(tmp_path_factory):
    """The CLI keeps JAX's compiled programs under XDG_CACHE_HOME and trained model sets under
    XDG_DATA_HOME: temporary ones here, so no test touches the user's own."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))


@pytest.fixture(scope="session")
def musicxml_schema():
    from lxml import etree

    if not SCHEMA.is_file():
        pytest.fail(f"the MusicXML 4.0 schema is missing ({SCHEMA.relative_to(ROOT)})")
    # the schema imports xml.xsd and xlink.xsd from its own folder: no network
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


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


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory, chorale_paths):
    """Eight real chorales (four major, four minor when available), read without a cache."""
    import shutil

    from grandstaff.corpus import load_corpus

    folder = tmp_path_factory.mktemp("chorales")
    for path in chorale_paths[:8]:
        shutil.copy(path, folder / path.name)
    return load_corpus(folder, cache_dir=None, workers=1, progress=False)


TINY = dict(pitch_embedding=8, duration_embedding=4, lstm_units=(16, 16), dense_units=16,
            chunk_length=16, batch_size=8, epochs=4, patience=2, validation_share=0.25)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, small_corpus):
    """A tiny model set trained for a few epochs on the small corpus, saved to a folder."""
    from grandstaff.models.model import ClefConfig
    from grandstaff.models.training import train

    out = tmp_path_factory.mktemp("clefs")
    train(small_corpus, name="tiny", seed=0, config=ClefConfig(**TINY), out=out,
          source="tests", verbose=0)
    return out / "tiny"


@pytest.fixture(scope="session")
def tiny_independent_models(tmp_path_factory, small_corpus):
    """A tiny model set whose clefs do not hear each other, as sets were before coupling."""
    from grandstaff.models.model import ClefConfig
    from grandstaff.models.training import train

    out = tmp_path_factory.mktemp("clefs")
    train(small_corpus, name="alone", seed=0, config=ClefConfig(**TINY, coupled=False),
          out=out, source="tests", verbose=0)
    return out / "alone"
