"""The score as SVG, engraved in process by Verovio: no LilyPond, no MuseScore, about 20 ms.

Verovio (LGPL-3.0, a wheel on PyPI) reads the MusicXML we write and draws every system on one
page cropped to the music, without a footer, with its music font embedded in the SVG, so that
a browser shows it as it is.

>>> from grandstaff.output.svg import write_svg
>>> write_svg("scores/etude.musicxml", "scores/etude.svg")     # doctest: +SKIP
PosixPath('scores/etude.svg')
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EngraverMissingError
from ..files import write_atomic

#: One tall page (Verovio's largest), cropped to the music: the whole piece in one SVG.
OPTIONS = {"adjustPageHeight": True, "pageHeight": 60000, "breaks": "auto", "footer": "none",
           "smuflTextFont": "embedded", "scale": 40}


def render_svg(musicxml: str | Path) -> str:
    """The SVG text of the score in ``musicxml``; safe to call from any thread."""
    try:
        import verovio
    except ImportError:
        raise EngraverMissingError(
            "Verovio is not installed; install it with 'pip install verovio'") from None
    # Verovio finds its fonts by itself only in the thread that imported it ("Bravura font
    # could not be loaded" elsewhere, as in the web page's worker threads): name them.
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(Path(verovio.__file__).with_name("data")))
    toolkit.setOptions(OPTIONS)
    if not toolkit.loadData(Path(musicxml).read_text(encoding="utf-8")):
        raise EngraverMissingError(f"Verovio could not read {musicxml}")
    return toolkit.renderToSVG(1)


def write_svg(musicxml: str | Path, path: str | Path, *, force: bool = True) -> Path:
    """Write the score in ``musicxml`` as one SVG file at ``path`` (atomically)."""
    svg = render_svg(musicxml)
    return write_atomic(Path(path), lambda tmp: tmp.write_text(svg, encoding="utf-8"),
                        force=force)
