"""An Engraver made ready before its score: LilyPond's converter waits for the MusicXML, the
score comes out as a direct engraving would, and nothing it started outlives it."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

from grandstaff.composing.piece import Piece
from grandstaff.errors import BadArgumentError
from grandstaff.music.events import Event
from grandstaff.music.keys import Key
from grandstaff.output.engrave import Engraver, engrave
from grandstaff.output.render import write_musicxml

STAVES = {"treble": (Event((72, 76), Fraction(2)), Event((74,), Fraction(2)),
                     Event((71, 79), Fraction(4))),
          "bass": (Event((48,), Fraction(4)), Event((43,), Fraction(4)))}


def _piece(title: str = "Étude für Anna") -> Piece:
    return Piece(staves=STAVES, key=Key.parse("C major"), time_signature="4/4", tempo=80,
                 title=title, composer="grandstaff")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_ready_engraver_engraves_once_what_a_direct_engraving_does(tmp_path):
    source = write_musicxml(_piece().score, tmp_path / "etude.musicxml")
    with Engraver("lilypond") as engraver:
        converter = engraver._converter
        assert converter is not None and converter.poll() is None  # waiting for its input
        made = engraver.engrave(source, tmp_path / "ready.pdf", tmp_path / "ready.png")
        with pytest.raises(BadArgumentError, match="one score"):
            engraver.engrave(source, tmp_path / "again.pdf")
    direct = engrave(source, tmp_path / "direct.pdf", tmp_path / "direct.png")
    assert [p.name for p in made] == ["ready.pdf", "ready.png"]
    assert [p.name for p in direct] == ["direct.pdf", "direct.png"]
    for name in ("ready", "direct"):
        assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_the_converter_pipes_keep_a_title_that_is_not_ascii(tmp_path, monkeypatch):
    from grandstaff.output.engrave import _finish, _start_converter, find_lilypond

    monkeypatch.setenv("LC_ALL", "C")  # a locale that would read the pipes as ASCII
    source = write_musicxml(_piece("Étude für Anna").score, tmp_path / "etude.musicxml")
    converter = _start_converter(find_lilypond()[1], tmp_path)
    ly = _finish(converter, "musicxml2ly", source.read_bytes()).decode("utf-8")
    assert '"Étude für Anna"' in ly
    assert "\\score" in ly


def test_an_engraver_never_used_stops_its_converter_and_leaves_no_folder():
    engraver = Engraver("lilypond")
    pid, work = engraver._converter.pid, engraver.work
    assert _running(pid) and work.is_dir()
    engraver.close()
    assert not _running(pid)
    assert not work.exists()


def test_a_piece_written_with_a_ready_engraver_gets_its_pdf(tmp_path):
    with Engraver("lilypond") as engraver:
        written = _piece().write(tmp_path / "etude", ["musicxml", "pdf"], engraver=engraver)
    assert sorted(written) == ["musicxml", "pdf", "png"]
    assert written["pdf"].read_bytes().startswith(b"%PDF")
