"""The SVG score view: drawn in process by Verovio, the whole piece, every note, the title."""

from __future__ import annotations

from fractions import Fraction

from lxml import etree

from grandstaff.cli import main
from grandstaff.composing.piece import Piece
from grandstaff.music.events import Event
from grandstaff.music.keys import Key

SVG = "{http://www.w3.org/2000/svg}"


def _piece(bars: int) -> Piece:
    treble = [Event((72, 76), Fraction(1)), Event((74,), Fraction(1)), Event((), Fraction(1)),
              Event((79,), Fraction(1))] * bars
    bass = [Event((48,), Fraction(2)), Event((43, 55), Fraction(2))] * bars
    return Piece({"treble": tuple(treble), "bass": tuple(bass)}, Key("G", "major"),
                 title="A view in G")


def _classes(svg_path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for element in etree.parse(str(svg_path)).iter(f"{SVG}g"):
        for name in (element.get("class") or "").split():
            counts[name] = counts.get(name, 0) + 1
    return counts


def test_the_svg_holds_the_whole_piece_with_every_note_and_the_title(tmp_path):
    bars = 24  # several systems: all of them on the one page
    written = _piece(bars).write(tmp_path / "view", formats=("svg",))
    assert set(written) == {"svg"} and not (tmp_path / "view.musicxml").exists()
    root = etree.parse(str(written["svg"])).getroot()
    assert root.tag == f"{SVG}svg"
    counts = _classes(written["svg"])
    assert counts["measure"] == bars
    assert counts["note"] == bars * (2 + 1 + 1 + 1 + 2)  # each note of each chord
    assert counts["rest"] == bars
    assert counts["system"] >= 3
    assert "A view in G" in written["svg"].read_text()


def test_svg_comes_beside_the_other_formats_from_the_cli(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["compose", "--bars", "4", "--candidates", "1", "--seed", "2", "--formats",
                 "musicxml,svg", "--out", str(out), "--no-jax-cache"]) == 0
    printed = capsys.readouterr().out
    assert str(out.with_suffix(".svg")) in printed
    # this seed's plan opens with a pickup: an anacrusis before the four bars
    assert "4 bars" in printed and _classes(out.with_suffix(".svg"))["measure"] == 5


def test_verovio_draws_from_worker_threads_too(tmp_path):
    """Verovio finds its fonts by itself only in the thread that imported it; the web page
    renders in worker threads."""
    import threading

    from grandstaff.output.svg import render_svg

    piece = Piece({"treble": (Event((76,), Fraction(4)),), "bass": (Event((52,), Fraction(4)),)},
                  Key("E", "minor"))
    source = piece.write(tmp_path / "one", ["musicxml"])["musicxml"]
    drawn: list[str] = []
    threads = [threading.Thread(target=lambda: drawn.append(render_svg(source)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == 3 and all(svg.count('class="note"') == 2 for svg in drawn)
