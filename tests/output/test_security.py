"""Text in a score is only ever text: hostile titles and composers against both engravers."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from grandstaff.composing.piece import Piece
from grandstaff.errors import BadArgumentError, EngraverMissingError
from grandstaff.music.events import Event
from grandstaff.music.keys import Key
from grandstaff.output.engrave import check_ly_header, engrave
from grandstaff.output.render import write_musicxml
from grandstaff.text import clean_text, scrub_text

STAVES = {"treble": (Event((72, 76), Fraction(2)), Event((74,), Fraction(2))),
          "bass": (Event((48,), Fraction(4)),)}


def _chars(text: str) -> str:
    """``text`` as Scheme characters, the way the reported exploit avoids quotes."""
    return " ".join("#\\space" if c == " " else f"#\\{c}" for c in text)


def hostile_strings(marker: Path) -> dict[str, str]:
    """Every trick the security issue lists; each would create ``marker`` if it ran."""
    m = str(marker)
    return {
        "reported exploit": f'X\\" #(system (string {_chars("touch " + m)})) %',
        "escaped backslash": f'X\\\\" #(system "touch {m}") %',
        "newline then backslash": f'A\\\n#(system "touch {m}")',
        "scheme": f'#(system "touch {m}")',
        "scheme in markup": f'\\markup {{ #(system "touch {m}") }}',
        "dollar scheme": f'$(system "touch {m}")',
        "shell": f"$(touch {m}) `touch {m}`",
        "output port": f'#(with-output-to-file "{m}" (lambda () (display 1)))',
        "newlines": f'Title\n\n#(system "touch {m}")\r\n',
        "nul and controls": f"A\x00B\x1b[31m\x07C touch {m}",
        "trailing backslash": "Sonata\\",
        "unbalanced quote": 'He said "hi',
        "huge": "A" * 100_000,
    }


def _musicxml_with_raw_text(path: Path, title: str, composer: str) -> Path:
    """A valid score file whose title and composer carry ``title``/``composer`` unchanged, as
    a MusicXML file from anywhere could (the Piece gate is bypassed on purpose)."""
    from lxml import etree

    write_musicxml(Piece(STAVES, Key("C", "major")).score, path)
    tree = etree.parse(str(path))
    safe = "".join(c for c in title if c in "\t\n\r" or ord(c) >= 32)  # XML 1.0 allows these
    tree.find(".//movement-title").text = safe
    tree.find(".//creator").text = "".join(c for c in composer if c in "\t\n\r" or ord(c) >= 32)
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")
    return path


def test_clean_text_refuses_or_cleans_every_hostile_string(tmp_path):
    for name, text in hostile_strings(tmp_path / "marker").items():
        try:
            cleaned = clean_text(text, "title")
        except BadArgumentError as exc:
            assert "\n" not in str(exc) and str(exc).startswith("title "), name
            continue
        assert not any(c in cleaned for c in '\\"\n\r\x00'), (name, cleaned)
        assert all(ord(c) >= 32 for c in cleaned), name
    assert clean_text('  Sonata "Pathétique"\n in C minor ', "title") == \
        "Sonata “Pathétique” in C minor"
    with pytest.raises(BadArgumentError, match="UTF-8"):
        clean_text("caf\udce9", "title")  # how a non-UTF-8 argument reaches Python
    with pytest.raises(BadArgumentError, match="text"):
        clean_text(None, "composer")


def test_a_piece_never_holds_a_title_an_engraver_could_run(tmp_path):
    for name, text in hostile_strings(tmp_path / "marker").items():
        try:
            piece = Piece(STAVES, Key("C", "major"), title=text, composer=text)
        except BadArgumentError:
            continue
        assert scrub_text(piece.title) == piece.title, name
        assert "\\" not in piece.composer


@pytest.mark.slow
def test_hostile_titles_run_nothing_through_lilypond(tmp_path, assert_valid_musicxml):
    """The engraving step is safe on its own: hostile text in the MusicXML itself (not
    through a Piece) never runs, the PDF is made or refused in one line."""
    for index, (name, text) in enumerate(hostile_strings(tmp_path / "marker").items()):
        source = _musicxml_with_raw_text(tmp_path / f"raw{index}.musicxml", text, text)
        assert_valid_musicxml(source)
        pdf = tmp_path / f"raw{index}.pdf"
        try:
            engrave(source, pdf, engraver="lilypond")
        except EngraverMissingError as exc:
            assert "\n" not in str(exc), name
        else:
            assert pdf.read_bytes().startswith(b"%PDF"), name
        assert not (tmp_path / "marker").exists(), f"{name!r} ran code through LilyPond"


@pytest.mark.slow
@pytest.mark.skipif(not any(shutil.which(n) for n in ("mscore3", "musescore3", "mscore")),
                    reason="MuseScore 3 is not installed (apt-get install musescore3)")
def test_hostile_titles_run_nothing_through_musescore(tmp_path):
    texts = list(hostile_strings(tmp_path / "marker").values())
    source = _musicxml_with_raw_text(tmp_path / "raw.musicxml", " ".join(texts[:-1]),
                                     texts[-1])
    pdf = tmp_path / "raw.pdf"
    engrave(source, pdf, engraver="musescore")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "marker").exists()


@pytest.mark.slow
def test_the_reported_exploit_through_the_cli_is_refused_in_one_line(tmp_path, capsys):
    from grandstaff.cli import main

    marker = tmp_path / "marker"
    title = hostile_strings(marker)["reported exploit"]
    code = main(["compose", "--bars", "2", "--candidates", "1", "--out",
                 str(tmp_path / "p"), "--title", title, "--no-jax-cache"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "backslash" in error and len(error.splitlines()) == 1
    assert not marker.exists() and not list(tmp_path.glob("p.*"))


@pytest.mark.slow
def test_a_cleaned_hostile_title_engraves_as_plain_text(tmp_path, assert_valid_musicxml):
    title = 'He said "hi #(system "touch x") $(touch x)'
    piece = Piece(STAVES, Key("C", "major"), title=title, composer="A\tB\nC")
    written = piece.write(tmp_path / "p", formats=("musicxml", "pdf"))
    assert_valid_musicxml(written["musicxml"])
    text = written["musicxml"].read_text()
    assert "He said “hi #(system ”touch x“) $(touch x)" in text and "A B C" in text
    assert written["pdf"].read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "x").exists() and not Path("x").exists()


def test_a_header_that_escaped_its_string_is_refused():
    for good in ('\\header {\n title =  "Plain \\"quoted\\" #text"\n composer =  "me"\n }\n',
                 '\\header {\n    title =  Untitled\n    composer =  grandstaff\n    }\n'):
        check_ly_header(good)
    for bad in ('\\header {\n title = "X\\\\" #(system "touch m") %"\n }',
                '\\header {\n title = "A\\\n#(system "touch m")"\n }',
                '\\header {\n title = \\markup { #(system "x") }\n }',
                '\\header {\n title = Untitled #(system "x")\n }'):
        with pytest.raises(EngraverMissingError, match="header"):
            check_ly_header(bad)
