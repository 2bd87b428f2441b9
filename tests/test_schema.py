"""The MusicXML 4.0 schema comes with the repository, and what grandstaff writes validates
against it (the fresh-clone test runs this file in a clone with nothing beside it)."""

from __future__ import annotations

from fractions import Fraction

from tests.conftest import ROOT, SCHEMA


def test_the_schema_lies_inside_the_repository():
    assert SCHEMA.is_file() and ROOT in SCHEMA.resolve().parents
    for imported in ("xml.xsd", "xlink.xsd"):  # imported from beside it, not from the web
        assert (SCHEMA.parent / imported).is_file()
        assert f'schemaLocation="{imported}"' in SCHEMA.read_text()


def test_a_written_piece_validates(tmp_path, assert_valid_musicxml, musicxml_schema):
    from lxml import etree

    from grandstaff.composing.piece import Piece
    from grandstaff.music.events import Event
    from grandstaff.music.keys import Key

    quarter = Fraction(1)
    staves = {"treble": (Event((64, 67, 72), quarter), Event((65, 69, 72), quarter),
                         Event((64, 67, 72), 2 * quarter)),
              "bass": (Event((48,), 2 * quarter), Event((), quarter), Event((43,), quarter))}
    written = Piece(staves, key=Key("D", "major")).write(tmp_path / "p", formats=("musicxml",))
    assert_valid_musicxml(written["musicxml"])
    broken = etree.fromstring(written["musicxml"].read_bytes())
    broken.find(".//pitch/step").text = "H"  # not a step: the schema must say so
    assert not musicxml_schema.validate(etree.ElementTree(broken))
