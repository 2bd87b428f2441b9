"""Engravers: MusicXML to PDF (and a PNG of the first page) through LilyPond or MuseScore 3.

The only module that runs external programs. LilyPond comes with the ``lilypond`` package from
PyPI (its ``musicxml2ly`` converts music21's MusicXML with brace, tempo and composer intact);
MuseScore 3 is found as ``mscore3``, ``musescore3`` or ``mscore`` and runs headless.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..errors import BadArgumentError, EngraverMissingError
from ..text import scrub_text

ENGRAVERS: tuple[str, str] = ("lilypond", "musescore")
MUSESCORE_NAMES = ("mscore3", "musescore3", "mscore", "musescore")
TIMEOUT_S = 120


def check_engraver(engraver: str) -> str:
    """``engraver`` if it is one grandstaff knows, else :class:`BadArgumentError`."""
    if engraver not in ENGRAVERS:
        raise BadArgumentError(
            f"engraver {engraver!r} is not one of {', '.join(ENGRAVERS)}; "
            "e.g. --engraver lilypond")
    return engraver


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

    Each output is made in a temporary folder and moved into place only when whole. The
    engraver reads a copy of ``musicxml`` whose every text and attribute went through
    :func:`~grandstaff.text.scrub_text`, and LilyPond's header is checked to hold only plain
    strings before LilyPond runs: no text in a score can become a command.
    """
    check_engraver(engraver)
    musicxml, pdf = Path(musicxml).resolve(), Path(pdf).resolve()  # engravers run elsewhere
    png = Path(png).resolve() if png is not None else None
    with tempfile.TemporaryDirectory(prefix="grandstaff-engrave-") as work:
        work = Path(work)
        source = _scrubbed_copy(musicxml, work / "input.musicxml")
        if engraver == "lilypond":
            made_pdf, made_png = _lilypond(source, work, png is not None)
        else:
            made_pdf, made_png = _musescore(source, work, png is not None)
        written = [_place(made_pdf, pdf)]
        if png is not None and made_png is not None:
            written.append(_place(made_png, png))
        return written


def _scrubbed_copy(musicxml: Path, copy: Path) -> Path:
    """Write ``musicxml`` to ``copy`` with every text and attribute value scrubbed."""
    from xml.etree import ElementTree

    try:
        tree = ElementTree.parse(musicxml)  # expat: no external entities, bounded expansion
    except (ElementTree.ParseError, OSError) as exc:
        raise EngraverMissingError(f"{musicxml} is not readable MusicXML ({exc})") from None
    for element in tree.iter():
        if element.text:
            element.text = scrub_text(element.text)
        if element.tail:
            element.tail = scrub_text(element.tail)
        for name, value in element.attrib.items():
            element.attrib[name] = scrub_text(value)
    tree.write(copy, encoding="UTF-8", xml_declaration=True)
    return copy


#: A LilyPond header as musicxml2ly writes it: ``name = "plain string"`` lines (a value of
#: letters only goes without quotes) and nothing else.
_HEADER = re.compile(
    r'\\header\s*\{((?:\s*[A-Za-z][\w-]*\s*=\s*(?:"(?:[^"\\]|\\")*"|[A-Za-z]+))*)\s*\}')


def check_ly_header(ly_text: str) -> None:
    """Refuse a ``.ly`` file whose ``\\header`` is anything but plain string assignments."""
    start = ly_text.find("\\header")
    if start == -1:
        return
    if not _HEADER.match(ly_text, start):
        raise EngraverMissingError(
            "the LilyPond header holds more than plain text (a title or composer that "
            "escaped its string); engraving refused")


def _place(made: Path, target: Path) -> Path:
    """Copy ``made`` beside ``target`` under a temporary name, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.partial")
    shutil.copyfile(made, staged)
    os.replace(staged, target)
    return target


def _run(command: list[str], what: str, cwd: Path, env: dict | None = None) -> None:
    """Run an engraver in a process group of its own, and stop the whole group (helpers it
    started included) if it runs too long or this process is interrupted."""
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as exc:
        raise EngraverMissingError(f"{what} could not be started: {exc}") from None
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise EngraverMissingError(f"{what} took longer than {TIMEOUT_S} s and was stopped") \
            from None
    finally:
        _stop_group(process)
    if process.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        raise EngraverMissingError(f"{what} failed (exit {process.returncode}): "
                                   f"{' | '.join(tail)}")


def _stop_group(process: subprocess.Popen) -> None:
    """Kill what is left of ``process``'s group (nothing, when it ended by itself)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _lilypond(musicxml: Path, work: Path, want_png: bool) -> tuple[Path, Path | None]:
    binary, converter = find_lilypond()
    ly = work / "score.ly"
    # the beams of the MusicXML (grouped by beat), not LilyPond's automatic ones: those ignore
    # the stem directions music21 writes and draw broken diagonal beams across leaps
    _run([str(converter), "-o", str(ly), str(musicxml)], "musicxml2ly", work)
    check_ly_header(ly.read_text(encoding="utf-8", errors="replace"))
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
