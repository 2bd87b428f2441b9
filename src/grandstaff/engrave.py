"""Engravers: MusicXML to PDF (and a PNG of the first page) through LilyPond or MuseScore 3.

The only module that runs external programs. LilyPond comes with the ``lilypond`` package from
PyPI (its ``musicxml2ly`` converts music21's MusicXML with brace, tempo and composer intact);
MuseScore 3 is found as ``mscore3``, ``musescore3`` or ``mscore`` and runs headless.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import BadArgumentError, EngraverMissingError

ENGRAVERS: tuple[str, str] = ("lilypond", "musescore")
MUSESCORE_NAMES = ("mscore3", "musescore3", "mscore", "musescore")
TIMEOUT_S = 120


def find_lilypond() -> tuple[Path, Path]:
    """(lilypond, musicxml2ly) from the ``lilypond`` PyPI package, or from PATH."""
    try:
        import lilypond

        binary, converter = Path(lilypond.executable()), Path(lilypond.executable("musicxml2ly"))
        if binary.is_file() and converter.is_file():
            return binary, converter
    except ImportError:
        pass
    binary, converter = shutil.which("lilypond"), shutil.which("musicxml2ly")
    if binary and converter:
        return Path(binary), Path(converter)
    raise EngraverMissingError(
        "LilyPond is not installed; install it with 'pip install lilypond' "
        "(or use --engraver musescore)")


def find_musescore() -> Path:
    for name in MUSESCORE_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise EngraverMissingError(
        "MuseScore 3 is not installed; install it with 'apt-get install musescore3' "
        "(or use --engraver lilypond)")


def engrave(musicxml: Path, pdf: Path, png: Path | None = None, *,
            engraver: str = "lilypond") -> list[Path]:
    """Engrave ``musicxml`` to ``pdf`` (and the first page to ``png``); returns what was written.

    Each output is made in a temporary folder and moved into place only when whole.
    """
    if engraver not in ENGRAVERS:
        raise BadArgumentError(
            f"engraver {engraver!r} is not one of {', '.join(ENGRAVERS)}")
    musicxml, pdf = Path(musicxml).resolve(), Path(pdf).resolve()  # engravers run elsewhere
    png = Path(png).resolve() if png is not None else None
    with tempfile.TemporaryDirectory(prefix="grandstaff-engrave-") as work:
        work = Path(work)
        if engraver == "lilypond":
            made_pdf, made_png = _lilypond(musicxml, work, png is not None)
        else:
            made_pdf, made_png = _musescore(musicxml, work, png is not None)
        written = [_place(made_pdf, pdf)]
        if png is not None and made_png is not None:
            written.append(_place(made_png, png))
        return written


def _place(made: Path, target: Path) -> Path:
    """Copy ``made`` beside ``target`` under a temporary name, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.partial")
    shutil.copyfile(made, staged)
    os.replace(staged, target)
    return target


def _run(command: list[str], what: str, cwd: Path, env: dict | None = None) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise EngraverMissingError(f"{what} took longer than {TIMEOUT_S} s and was stopped") \
            from None
    except OSError as exc:
        raise EngraverMissingError(f"{what} could not be started: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise EngraverMissingError(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")


def _lilypond(musicxml: Path, work: Path, want_png: bool) -> tuple[Path, Path | None]:
    binary, converter = find_lilypond()
    ly = work / "score.ly"
    _run([str(converter), "--no-beaming", "-o", str(ly), str(musicxml)], "musicxml2ly", work)
    formats = ["--pdf"] + (["--png", "-dresolution=110"] if want_png else [])
    _run([str(binary), *formats, "-o", str(work / "score"), str(ly)], "LilyPond", work)
    pdf = work / "score.pdf"
    pngs = sorted(work.glob("score*.png"))
    if not pdf.is_file():
        raise EngraverMissingError("LilyPond wrote no PDF")
    return pdf, (pngs[0] if pngs else None)


def _musescore(musicxml: Path, work: Path, want_png: bool) -> tuple[Path, Path | None]:
    binary = find_musescore()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    pdf = work / "score.pdf"
    _run([str(binary), "-o", str(pdf), str(musicxml)], "MuseScore", work, env)
    png = None
    if want_png:
        _run([str(binary), "-r", "110", "-o", str(work / "score.png"), str(musicxml)],
             "MuseScore", work, env)
        pngs = sorted(work.glob("score*.png"))
        png = pngs[0] if pngs else None
    if not pdf.is_file():
        raise EngraverMissingError("MuseScore wrote no PDF")
    return pdf, png
