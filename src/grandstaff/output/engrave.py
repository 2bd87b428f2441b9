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
from ..files import temporary_folder
from ..text import scrub_text

ENGRAVERS: tuple[str, str] = ("lilypond", "musescore")
MUSESCORE_NAMES = ("mscore3", "musescore3", "mscore", "musescore")
TIMEOUT_S = 120


def check_engraver(engraver: str | Engraver) -> str | Engraver:
    """``engraver`` if it is one grandstaff knows (or an :class:`Engraver`, already checked),
    else :class:`BadArgumentError`."""
    if isinstance(engraver, Engraver):
        return engraver
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
            engraver: str | Engraver = "lilypond") -> list[Path]:
    """Engrave ``musicxml`` to ``pdf`` (and the first page to ``png``); returns what was written.

    Each output is made in a temporary folder and moved into place only when whole. The
    engraver reads a copy of ``musicxml`` whose every text and attribute went through
    :func:`~grandstaff.text.scrub_text`, and LilyPond's header is checked to hold only plain
    strings before LilyPond runs: no text in a score can become a command. ``engraver``:
    "lilypond", "musescore", or an :class:`Engraver` made ready beforehand (then used up).
    """
    with engraver if isinstance(engraver, Engraver) else Engraver(engraver) as ready:
        return ready.engrave(musicxml, pdf, png)


class Engraver:
    """An engraver made ready before its score exists, to engrave one score.

    With LilyPond its converter, ``musicxml2ly`` (a Python program that takes about 0.3 s to
    start), starts at once and waits for the MusicXML on its standard input, so that its
    start-up runs beside the composing rather than after it. Use it as a context manager:
    leaving the block stops whatever it started and removes its temporary folder.

    >>> with Engraver("lilypond") as engraver:                      # doctest: +SKIP
    ...     piece = gs.compose(seed=1)                              # the converter starts meanwhile
    ...     piece.write("scores/etude", ["pdf"], engraver=engraver)
    """

    def __init__(self, engraver: str = "lilypond") -> None:
        self.engraver = check_engraver(engraver)
        self._folder = temporary_folder("engrave")
        self.work = Path(self._folder.name)
        self._converter: subprocess.Popen | None = None
        self.used = False
        if engraver == "lilypond":
            try:
                self._converter = _start_converter(find_lilypond()[1], self.work)
            except EngraverMissingError:
                pass  # said by engrave(), once the files before the PDF are written
            except BaseException:
                self.close()
                raise

    def engrave(self, musicxml: Path, pdf: Path, png: Path | None = None) -> list[Path]:
        """Engrave ``musicxml`` as :func:`engrave` does; an Engraver engraves one score."""
        if self.used:
            raise BadArgumentError("an Engraver engraves one score; make another for the next")
        self.used = True
        musicxml, pdf = Path(musicxml).resolve(), Path(pdf).resolve()  # engravers run elsewhere
        png = Path(png).resolve() if png is not None else None
        source = _scrubbed_copy(musicxml, self.work / "input.musicxml")
        if self.engraver == "lilypond":
            made_pdf, made_png = _lilypond(source, self.work, png is not None, self._converter)
        else:
            made_pdf, made_png = _musescore(source, self.work, png is not None)
        written = [_place(made_pdf, pdf)]
        if png is not None and made_png is not None:
            written.append(_place(made_png, png))
        return written

    def close(self) -> None:
        """Stop the converter if it still waits, and remove the temporary folder."""
        if self._converter is not None:
            _stop_group(self._converter)
            self._converter = None
        self._folder.cleanup()

    def __enter__(self) -> Engraver:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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


def _start(command: list[str], what: str, cwd: Path, env: dict | None = None, *,
           stdin: bool = False) -> subprocess.Popen:
    """Start an engraver in a process group of its own (see :func:`_finish`)."""
    try:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as exc:
        raise EngraverMissingError(f"{what} could not be started: {exc}") from None


def _finish(process: subprocess.Popen, what: str, given: bytes | None = None) -> bytes:
    """Give ``process`` its input, wait for it and return its output; stop the whole group
    (helpers it started included) if it runs too long or this process is interrupted."""
    try:
        stdout, stderr = process.communicate(given, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise EngraverMissingError(f"{what} took longer than {TIMEOUT_S} s and was stopped") \
            from None
    finally:
        _stop_group(process)
    if process.returncode != 0:
        text = (stderr or stdout).decode("utf-8", errors="replace")
        tail = text.strip().splitlines()[-3:]
        raise EngraverMissingError(f"{what} failed (exit {process.returncode}): "
                                   f"{' | '.join(tail)}")
    return stdout


def _run(command: list[str], what: str, cwd: Path, env: dict | None = None) -> None:
    """Run an engraver to its end (see :func:`_finish`)."""
    _finish(_start(command, what, cwd, env), what)


def _stop_group(process: subprocess.Popen) -> None:
    """Kill what is left of ``process``'s group (nothing, when it ended by itself)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _backend(binary: Path) -> list[str]:
    """Cairo, where LilyPond is the one the ``lilypond`` package brings (2.24 on): it draws
    the PDF and the PNG itself, 0.2 s sooner than through Ghostscript. A LilyPond found on
    PATH keeps its default backend (one before 2.24 may lack Cairo)."""
    try:
        import lilypond

        return ["-dbackend=cairo"] if Path(lilypond.executable()) == binary else []
    except ImportError:
        return []


def _start_converter(converter: Path, work: Path) -> subprocess.Popen:
    """``musicxml2ly`` started, waiting for MusicXML on its standard input: UTF-8 both ways
    whatever the locale; ``-o -`` gives the .ly back on its standard output (and makes it skip
    its convert-ly pass, which a .ly it has just written never needs)."""
    return _start([str(converter), "-o", "-", "-"], "musicxml2ly", work,
                  dict(os.environ, PYTHONIOENCODING="utf-8"), stdin=True)


def _lilypond(musicxml: Path, work: Path, want_png: bool,
              converter: subprocess.Popen | None = None) -> tuple[Path, Path | None]:
    """``musicxml`` through ``musicxml2ly`` (``converter``, if one already waits for its
    input) and LilyPond; the PDF and the PNG of its first page, in ``work``."""
    binary, converter_path = find_lilypond()
    converter = converter or _start_converter(converter_path, work)
    # the beams of the MusicXML (grouped by beat), not LilyPond's automatic ones: those ignore
    # the stem directions music21 writes and draw broken diagonal beams across leaps
    ly_text = _finish(converter, "musicxml2ly", musicxml.read_bytes())
    check_ly_header(ly_text.decode("utf-8", errors="replace"))
    ly = work / "score.ly"
    ly.write_bytes(ly_text)
    formats = ["--pdf"] + (["--png", "-dresolution=110"] if want_png else [])
    _run([str(binary), *_backend(binary), *formats, "-o", str(work / "score"), str(ly)],
         "LilyPond", work)
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
