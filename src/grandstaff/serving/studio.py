"""``Studio``: the pieces a web page composes, each in its own folder under one output folder.

The web layer (:mod:`grandstaff.serving.web`) only turns requests into calls of this class, so
everything here is plain Python and tested without a browser. A piece is written as MusicXML,
MIDI, an SVG score (Verovio) and a WAV at once; its PDF is engraved on the first request for
it. Nothing is written outside ``out``; every name a request may use is checked against a fixed
set, never joined to a path as it comes. Every number of a form is held to the page's bounds
(:mod:`grandstaff.bounds`, ten minutes of audio at most) before any work; ``out`` keeps the
newest ``keep`` pieces (older folders are removed), a failed piece leaves no folder, and at
most :data:`ENGRAVINGS` PDFs are engraved at once.

Pieces are composed and written in one worker process (:class:`grandstaff.workers.Worker`),
which keeps the models loaded and the sampling loops compiled between requests. A request
has ``seconds`` (default :data:`BUDGET_SECONDS`) for its piece; past them, or when its client
goes away, the process is killed with whatever it was doing, the piece's folder and the
process's temporary files are removed, and a new process is started and warmed up for the
next request.

>>> from grandstaff.serving.studio import Studio
>>> studio = Studio("scores/web")                                        # doctest: +SKIP
>>> made = studio.compose({"key": "E minor", "bars": 8, "seed": 3})      # doctest: +SKIP
>>> studio.file(made["id"], "wav")                                        # doctest: +SKIP
PosixPath('scores/web/3f9c0a1b2d4e/piece.wav')
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from ..bounds import (
    PAGE_MAX_ABC_CHARACTERS,
    PAGE_MAX_BARS,
    PAGE_MAX_CANDIDATES,
    PAGE_MAX_MELODY_BYTES,
    PAGE_MAX_MINUTES,
    check_audio_length,
    check_budget,
    check_tempo,
)
from ..errors import BadArgumentError, GrandstaffError, MissingFileError
from ..files import check_folder
from ..music.events import total_duration
from ..workers import JobStopped, Worker

#: PDFs engraved at once (each LilyPond takes a core and up to a few hundred MB).
ENGRAVINGS = 2
#: Composes that may wait behind the one in progress; more are told to come back later.
WAITING = 4
#: Seconds a request may take to compose and write its piece before it is stopped.
BUDGET_SECONDS = 120.0
#: Seconds the first piece of a new worker process may take (models load, loops compile).
WARM_UP_SECONDS = 600.0
#: The worker's temporary files, inside the output folder (cleared when it is killed).
SCRATCH = ".scratch"


class BusyError(Exception):
    """Too many composes are waiting already (the page answers 503 with Retry-After)."""

#: What a page may download, and the suffix each is written with.
DOWNLOADS = {"musicxml": ".musicxml", "midi": ".mid", "pdf": ".pdf", "wav": ".wav", "svg": ".svg"}
#: Written as soon as a piece is composed; the PDF waits until it is asked for.
WRITTEN_AT_ONCE = ("musicxml", "midi", "svg", "wav")
#: Pieces kept in memory for transposing; older ones keep their files but not their variants.
#: The output folder keeps as many, and at most :data:`KEPT_MB` megabytes of them.
KEPT_PIECES = 256
KEPT_MB = 500.0
#: The controls of ``compose`` a page may set, with their defaults.
DEFAULTS: dict[str, object] = {
    "key": "C major", "time_signature": "4/4", "tempo": 96, "bars": 16, "seed": None,
    "temperature": 1.0, "top_k_pitch": 10, "top_k_duration": 5, "candidates": 8,
    "ending": "cadence", "primer": None, "models": "bach", "form": "auto", "phrases": "auto",
    "pickup": "auto",
}
METERS = ("4/4", "3/4", "2/4", "6/8", "3/8", "9/8", "12/8", "2/2", "3/2")
#: The controls of ``harmonize`` a page may set: the melody as ``abc`` text or an uploaded
#: ``file`` (``{"name": ..., "data": base64}``), an optional ``key`` to move it to.
HARMONIZE_DEFAULTS: dict[str, object] = {
    "abc": None, "file": None, "key": None, "tempo": 96, "seed": None, "temperature": 1.0,
    "top_k_pitch": 10, "top_k_duration": 5, "candidates": 8, "models": "bach",
}
_ID = re.compile(r"^[0-9a-f]{12}$")
_INTEGERS = ("bars", "seed", "top_k_pitch", "top_k_duration", "candidates")
_NUMBERS = ("tempo", "temperature")


def model_sets() -> list[str]:
    """Names of the model sets a page may choose: those shipped, those under ./clefs and those
    in the user's folder of model sets."""
    from ..models.model import shipped_models_folder, user_models_folder
    from ..music.events import CLEFS

    names = set()
    for root in (shipped_models_folder(), Path("clefs"), user_models_folder()):
        if root.is_dir():
            names.update(p.name for p in root.iterdir() if (p / CLEFS[0]).is_dir())
    return sorted(names)


def compose_options(form: Mapping[str, object], models: list[str]) -> dict[str, object]:
    """The keyword arguments of :func:`grandstaff.compose` from a page's form: unknown fields
    refused, numbers converted, the model set one of ``models``, the primer a Bach piece.

    >>> compose_options({"bars": "8", "seed": ""}, ["bach"])["bars"]
    8
    """
    options = _read_form(form, DEFAULTS)
    check_page_bounds(options)
    _check_models(options["models"], models)
    primer = options["primer"]
    if primer is not None and not str(primer).startswith("bach:"):
        options["primer"] = f"bach:{primer}"  # the page offers Bach pieces only, never paths
    return options


def harmonize_options(form: Mapping[str, object], models: list[str]) -> dict[str, object]:
    """The options of a page's Harmonise form: unknown fields refused, numbers converted and
    held to the page's bounds, exactly one melody (ABC text, or a file of a kind grandstaff
    reads and at most :data:`~grandstaff.bounds.PAGE_MAX_MELODY_BYTES`), the model set one
    of ``models``."""
    import base64
    import binascii

    from ..bounds import check_temperature
    from ..music.reading import SUFFIXES

    options = _read_form(form, HARMONIZE_DEFAULTS, raw=("file",))
    abc, upload = options.pop("abc"), options.pop("file")
    if (abc is None) == (upload is None):
        raise BadArgumentError("give the melody as ABC text or as a file (one of them)")
    if abc is not None:
        if len(abc) > PAGE_MAX_ABC_CHARACTERS:
            raise BadArgumentError(f"the ABC tune is {len(abc):,} characters long; at most "
                                   f"{PAGE_MAX_ABC_CHARACTERS:,} on this page")
        options["melody"] = ("abc", abc)
    else:
        if not isinstance(upload, Mapping) or not isinstance(upload.get("name"), str) \
                or not isinstance(upload.get("data"), str):
            raise BadArgumentError("a melody file is sent as {\"name\": ..., \"data\": base64}")
        suffix = Path(upload["name"]).suffix.lower()
        if suffix not in SUFFIXES:
            raise BadArgumentError(f"a melody file must be one of {' '.join(SUFFIXES)}, not "
                                   f"{suffix or 'a file without a suffix'}")
        if len(upload["data"]) > PAGE_MAX_MELODY_BYTES * 4 // 3 + 4:
            raise BadArgumentError(f"the melody file is larger than "
                                   f"{PAGE_MAX_MELODY_BYTES // 1024} kB")
        try:
            data = base64.b64decode(upload["data"], validate=True)
        except (binascii.Error, ValueError):
            raise BadArgumentError("the melody file's data is not base64") from None
        if not data:
            raise BadArgumentError("the melody file is empty")
        options["melody"] = ("file", suffix, data)
    _check_count(options, "candidates", PAGE_MAX_CANDIDATES)
    options["tempo"] = check_tempo(options["tempo"])
    options["temperature"] = check_temperature(options["temperature"])
    _check_models(options["models"], models)
    return options


def _read_form(form: Mapping[str, object], defaults: Mapping[str, object],
               raw: tuple[str, ...] = ()) -> dict[str, object]:
    """``defaults`` with a page's ``form`` over them: unknown fields refused, an empty field
    left at its default, counts and numbers converted, the ``raw`` fields kept as sent and
    the rest as stripped text."""
    unknown = sorted(set(form) - set(defaults))
    if unknown:
        raise BadArgumentError(f"unknown control {unknown[0]!r}; the controls are "
                               f"{', '.join(defaults)}")
    options = dict(defaults)
    for name, value in form.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty field means its default
        if name in _INTEGERS:
            options[name] = _convert(value, int, name, "a whole number")
        elif name in _NUMBERS:
            options[name] = _convert(value, float, name, "a number")
        elif name in raw:
            options[name] = value
        else:
            options[name] = str(value).strip()
    return options


def _check_models(name: object, models: list[str]) -> None:
    if name not in models:
        raise BadArgumentError(f"model set {name!r} is not one of {', '.join(models)}")


def _check_count(options: Mapping[str, object], name: str, most: int) -> None:
    value = options[name]
    if not isinstance(value, int) or not 1 <= value <= most:
        raise BadArgumentError(f"{name} {value!r} must be a whole number from 1 to {most} "
                               "on this page")


def check_page_bounds(options: Mapping[str, object]) -> None:
    """Refuse a form that would size more work than the page allows: bars, candidates, a
    meter the page does not offer, or a piece longer than ten minutes."""
    from ..music.events import bar_length

    for name, most in (("bars", PAGE_MAX_BARS), ("candidates", PAGE_MAX_CANDIDATES)):
        _check_count(options, name, most)
    if options["time_signature"] not in METERS:
        raise BadArgumentError(f"time signature {options['time_signature']!r} is not one of "
                               f"{', '.join(METERS)}")
    tempo = check_tempo(options["tempo"])
    _check_length(options["bars"] * bar_length(str(options["time_signature"])), tempo)
    from ..composing.form import parse_form

    parse_form(str(options["form"]), options["bars"])
    from ..composing.phrasing import parse_phrases, parse_pickup

    parse_phrases(str(options["phrases"]), options["bars"])
    parse_pickup(str(options["pickup"]), str(options["time_signature"]))


def _check_length(quarters, tempo: float) -> None:
    check_audio_length(quarters, tempo, most=PAGE_MAX_MINUTES)


def _convert(value: object, kind: type, name: str, noun: str):
    # a bool is no number, and 1e3 or Infinity from JSON is no count
    if isinstance(value, bool) or (kind is int and isinstance(value, float)):
        raise BadArgumentError(f"{name} {value!r} is not {noun}")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise BadArgumentError(f"{name} {value!r} is not {noun}") from None
    return number


class Studio:
    """Composes, transposes and re-times pieces into ``out``, one folder per piece."""

    def __init__(self, out: str | Path, *, models: str = "bach",
                 engraver: str = "lilypond", keep: int = KEPT_PIECES,
                 keep_mb: float = KEPT_MB, seconds: float = BUDGET_SECONDS) -> None:
        from ..output.engrave import check_engraver

        self.out = Path(out).resolve()
        check_folder(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.engraver = check_engraver(engraver)
        self.models = sorted({*model_sets(), models})
        self.default_models = models
        self._pieces: OrderedDict[str, object] = OrderedDict()
        self._compose_lock = threading.Lock()  # one piece at a time in the worker
        self._pieces_lock = threading.Lock()
        self._pdf_locks: dict[str, threading.Lock] = {}
        self._engravings = threading.BoundedSemaphore(ENGRAVINGS)
        self.keep_mb = keep_mb
        self._clear_unfinished()
        self._queue = threading.BoundedSemaphore(WAITING + 1)  # the one composing, and those
        # waiting for it
        self.keep = keep
        self.seconds = check_budget(seconds)
        self._scratch = self.out / SCRATCH
        self._clear_scratch()  # what a killed server left
        self._worker = Worker("grandstaff.serving.studio:make_piece",
                              preload=("grandstaff.composing.composer",),
                              environment={"TMPDIR": str(self._scratch)})
        self._making: Path | None = None
        self._closed = False

    def options(self) -> dict[str, object]:
        """What the page offers: defaults, meters, model sets, keys, Bach primers and the
        page's bounds (shown on it)."""
        from ..bounds import MAX_TEMPERATURE, MAX_TEMPO, MIN_TEMPERATURE, MIN_TEMPO

        bounds = {"bars": PAGE_MAX_BARS, "candidates": PAGE_MAX_CANDIDATES,
                  "minutes": PAGE_MAX_MINUTES, "seconds": self.seconds,
                  "tempo": [MIN_TEMPO, MAX_TEMPO], "temperature": [MIN_TEMPERATURE,
                                                                   MAX_TEMPERATURE],
                  "abc_characters": PAGE_MAX_ABC_CHARACTERS,
                  "melody_kb": PAGE_MAX_MELODY_BYTES // 1024}
        return {"defaults": {**DEFAULTS, "models": self.default_models}, "bounds": bounds,
                "meters": METERS,
                "models": self.models, "primers": self._primers,
                "tonics": ["C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A",
                           "Bb", "B"]}

    @cached_property
    def _primers(self) -> list[str]:
        """The Bach pieces a page may start from (the corpus folder is walked once)."""
        from ..corpus import BACH, piece_names, source_files

        files, _ = source_files(BACH)
        return [group[0] for group in piece_names(files, [1] * len(files))]

    def compose(self, form: Mapping[str, object], *,
                cancelled: Callable[[], bool] = lambda: False) -> dict[str, object]:
        """Compose a piece from a page's form, write it, and describe it (see :meth:`describe`).
        Stopped (:class:`~grandstaff.workers.JobStopped`) past :attr:`seconds` or when
        ``cancelled()`` turns true; a stopped piece leaves nothing."""
        options = compose_options(form, self.models)
        with self._queued("to be composed "):
            return self._make("compose", options, self.seconds, cancelled)

    def warm_up(self) -> float:
        """Compose one piece with the page's defaults and throw it away, so that the models are
        loaded and the default sampling loop compiled before the first user presses Compose;
        returns the seconds it took."""
        started = time.perf_counter()
        options = compose_options({"seed": 0}, self.models) | {"models": self.default_models}
        with self._compose_lock:
            self._call(("compose", options, None, self.engraver), WARM_UP_SECONDS)
        return time.perf_counter() - started

    def variant(self, piece_id: str, form: Mapping[str, object], *,
                cancelled: Callable[[], bool] = lambda: False) -> dict[str, object]:
        """The piece ``piece_id`` in another ``key`` and/or at another ``tempo``, as a new
        piece (the old one stays)."""
        piece = self._piece(piece_id)
        unknown = sorted(set(form) - {"key", "tempo"})
        if unknown:
            raise BadArgumentError(f"unknown control {unknown[0]!r}; a piece can change only "
                                   "its key and tempo")
        if form.get("key"):
            piece = piece.transpose(str(form["key"]))
        if form.get("tempo") not in (None, ""):
            piece = piece.with_tempo(_convert(form["tempo"], float, "tempo", "a number"))
            _check_length(total_duration(piece.staves["treble"]), piece.tempo)
        with self._queued("to be written "):
            return self._make("write", piece, self.seconds, cancelled)

    def read_melody(self, form: Mapping[str, object], *,
                    cancelled: Callable[[], bool] = lambda: False) -> dict[str, object]:
        """What the melody of a Harmonise form is, as the page shows it before harmonising:
        key, meter, bars, pickup and its notes' names."""
        options = harmonize_options(form, self.models)
        with self._queued(), self._compose_lock:
            return self._call(("melody", options, None, self.engraver), self.seconds,
                              cancelled)[0]

    def harmonize(self, form: Mapping[str, object], *,
                  cancelled: Callable[[], bool] = lambda: False) -> dict[str, object]:
        """Harmonise the melody of a Harmonise form, write the piece and describe it."""
        options = harmonize_options(form, self.models)
        with self._queued():
            return self._make("harmonize", options, self.seconds, cancelled)

    @contextmanager
    def _queued(self, doing: str = ""):
        """A place among the composes waiting for the worker, or :class:`BusyError` at once
        when :data:`WAITING` wait already."""
        if not self._queue.acquire(blocking=False):
            raise BusyError(f"{WAITING} pieces are waiting {doing}already; try again in a few "
                            "seconds")
        try:
            yield
        finally:
            self._queue.release()

    def close(self) -> None:
        """Stop the worker process and remove the piece it was making, if any (the server
        calls this when it stops)."""
        self._closed = True
        self._worker.stop()
        making = self._making
        if making is not None:
            shutil.rmtree(making, ignore_errors=True)
        shutil.rmtree(self._scratch, ignore_errors=True)

    def file(self, piece_id: str, kind: str) -> Path:
        """The file of kind ``kind`` (see :data:`DOWNLOADS`) of a piece; a PDF is engraved the
        first time it is asked for."""
        if kind not in DOWNLOADS:
            raise BadArgumentError(f"no {kind!r} file; a piece has {', '.join(DOWNLOADS)}")
        folder = self._folder(piece_id)
        path = folder / f"piece{DOWNLOADS[kind]}"
        if path.is_symlink() or (folder / "piece.musicxml").is_symlink():
            raise MissingFileError(f"piece {piece_id} has no {kind} file")  # never followed
        if kind == "pdf" and not path.exists():
            with self._pdf_locks.setdefault(piece_id, threading.Lock()), self._engravings:
                if not path.exists():
                    from ..output.engrave import engrave

                    engrave(folder / "piece.musicxml", path, engraver=self.engraver)
        if not path.exists():
            raise MissingFileError(f"piece {piece_id} has no {kind} file")
        return path

    def download_name(self, piece_id: str, kind: str) -> str:
        """A file name for the user's downloads folder: the title, key and seed."""
        meta = self._folder(piece_id) / "title.txt"
        stem = meta.read_text(encoding="utf-8") if meta.exists() else f"piece-{piece_id}"
        return f"{stem}{DOWNLOADS[kind]}"

    def describe(self, piece_id: str, piece) -> dict[str, object]:
        return {"id": piece_id, "title": piece.title, "key": str(piece.key),
                "time_signature": piece.time_signature, "tempo": piece.tempo,
                "bars": piece.bars, "seed": piece.info.get("seed"),
                "mode_matched": piece.info.get("mode_matched"),
                "melody_kept": piece.info.get("melody_kept"),
                "form": piece.info.get("form"), "phrases": piece.info.get("phrases"),
                "pickup": piece.info.get("pickup"),
                "files": {kind: f"/pieces/{piece_id}/{kind}" for kind in DOWNLOADS}}

    def _make(self, action: str, payload, seconds: float,
              cancelled: Callable[[], bool]) -> dict[str, object]:
        """Have the worker make a piece (``"compose"`` from options, or ``"write"`` a piece
        given) into a new folder; keep it and describe it."""
        with self._compose_lock:
            if self._closed:
                raise BusyError("the server is stopping")
            piece_id = secrets.token_hex(6)
            folder = self.out / piece_id
            folder.mkdir()
            self._making = folder
            try:
                piece, timings = self._call((action, payload, str(folder), self.engraver),
                                            seconds, cancelled)
            except BaseException:  # a failed or stopped piece leaves no folder behind
                shutil.rmtree(folder, ignore_errors=True)
                raise
            finally:
                self._making = None
        self._prune()
        with self._pieces_lock:
            self._pieces[piece_id] = piece
            while len(self._pieces) > KEPT_PIECES:
                self._pieces.popitem(last=False)
        return {**self.describe(piece_id, piece), "timings": timings}

    def _call(self, job: tuple, seconds: float, cancelled: Callable[[], bool] = lambda: False):
        """Run ``job`` in the worker: the piece and its timings, or the worker's one-line
        refusal as a :class:`BadArgumentError`. A stopped job's process is gone: its temporary
        files are removed and a new process is warmed up in the background."""
        try:
            reply = self._worker.call(job, seconds=seconds, cancelled=cancelled)
        except JobStopped as exc:
            self._clear_scratch()
            if not self._closed:
                threading.Thread(target=self._warm_again, daemon=True).start()
            if exc.reason == "timed out":
                raise JobStopped(f"composing took longer than this server's {seconds:g} s; "
                                 "ask for fewer bars or candidates", exc.reason) from None
            raise
        if reply[0] == "refused":
            raise BadArgumentError(reply[1])
        return reply[1], reply[2]

    def _clear_scratch(self) -> None:
        """An empty folder for the worker's temporary files (a killed worker's are removed)."""
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch.mkdir()

    def _warm_again(self) -> None:
        try:
            self.warm_up()
        except Exception:  # the next request starts the process itself and says what failed
            pass

    def _prune(self) -> None:
        """Remove the oldest piece folders beyond the newest :attr:`keep`, and beyond
        :attr:`keep_mb` megabytes in all (only folders this server writes: a piece id for a
        name, a ``title.txt`` inside; the newest piece always stays)."""
        with self._pieces_lock:
            folders = [f for f in self.out.iterdir()
                       if _ID.match(f.name) and (f / "title.txt").is_file()]
            folders.sort(key=lambda f: (f / "title.txt").stat().st_mtime, reverse=True)
            kept, size = 0, 0.0
            for folder in folders:
                size += sum(f.stat().st_size for f in folder.iterdir()) / 2**20
                kept += 1
                if kept > 1 and (kept > self.keep or size > self.keep_mb):
                    shutil.rmtree(folder, ignore_errors=True)
                    self._pieces.pop(folder.name, None)
                    self._pdf_locks.pop(folder.name, None)

    def _clear_unfinished(self) -> None:
        """Remove the piece folders a killed server left half-written (no ``title.txt``,
        which is written last)."""
        for folder in self.out.iterdir():
            if _ID.match(folder.name) and folder.is_dir() and not folder.is_symlink() \
                    and not (folder / "title.txt").exists():
                shutil.rmtree(folder, ignore_errors=True)

    def _folder(self, piece_id: str) -> Path:
        if not isinstance(piece_id, str) or not _ID.match(piece_id):
            raise MissingFileError(f"no piece {piece_id!r}")
        folder = self.out / piece_id
        if folder.is_symlink() or not folder.is_dir():
            raise MissingFileError(f"no piece {piece_id!r}")
        return folder

    def _piece(self, piece_id: str):
        self._folder(piece_id)
        with self._pieces_lock:
            piece = self._pieces.get(piece_id)
        if piece is None:
            raise MissingFileError(f"piece {piece_id} is no longer held in memory; compose "
                                   "it again to change its key or tempo")
        return piece


def make_piece(action: str, payload, folder: str | None, engraver: str):
    """In the worker process: compose a piece from ``payload`` (the options of
    :func:`grandstaff.compose`, for ``"compose"``) or take the piece given (``"write"``), and
    write :data:`WRITTEN_AT_ONCE` and a ``title.txt`` into ``folder`` (``None``: write
    nothing). Returns ``("ok", piece, timings)``, or ``("refused", one line)`` for what the
    user asked wrongly."""
    try:
        started = time.perf_counter()
        if action == "compose":
            from ..composing.composer import compose

            piece = compose(**payload)
        elif action in ("melody", "harmonize"):
            from ..composing.harmonizing import harmonize

            options = dict(payload)
            tune = page_melody(options.pop("melody"), options.pop("key"), options["tempo"])
            if action == "melody":
                return ("ok", describe_melody(tune), {})
            piece = harmonize(tune, **options)
        else:
            piece = payload
        timings = {"compose_s": round(time.perf_counter() - started, 3)} \
            if action in ("compose", "harmonize") else {}
        if folder is not None:
            started = time.perf_counter()
            folder = Path(folder)
            piece.write(folder / "piece", WRITTEN_AT_ONCE, engraver=engraver)
            stem = re.sub(r"[^A-Za-z0-9]+", "-", f"{piece.title} seed {piece.info.get('seed')}")
            (folder / "title.txt").write_text(stem.strip("-") or "piece", encoding="utf-8")
            timings["write_s"] = round(time.perf_counter() - started, 3)
    except GrandstaffError as exc:
        return ("refused", str(exc))
    return ("ok", dataclasses.replace(piece), timings)  # without its cached score


def page_melody(melody: tuple, key: str | None, tempo: float):
    """In the worker: the melody a page sent (ABC text, or a file's suffix and bytes, written
    into the worker's own temporary folder to be read), moved to ``key`` if one is given, and
    held to the page's bounds."""
    import tempfile

    from ..composing.harmonizing import as_melody
    from ..music.reading import read_melody

    if melody[0] == "abc":
        tune = read_melody(melody[1], abc=True)
    else:
        _, suffix, data = melody
        with tempfile.TemporaryDirectory(prefix="grandstaff-melody-") as folder:
            path = Path(folder) / f"melody{suffix}"
            path.write_bytes(data)
            tune = read_melody(str(path))
    tune = as_melody(tune, key=key)
    if tune.bars > PAGE_MAX_BARS:
        raise BadArgumentError(f"the melody lasts {tune.bars} bars; this page harmonises at "
                               f"most {PAGE_MAX_BARS}")
    from ..music.events import bar_length

    _check_length(tune.bars * bar_length(tune.time_signature), tempo)
    return tune


def describe_melody(tune) -> dict[str, object]:
    """A melody as the page shows it before harmonising: its whole bars after a pickup (as
    the harmonised piece counts them), and the rest before the pickup (``pickup``)."""
    from ..music.melody import note_name

    bars = tune.bars - (1 if tune.lead else 0)
    return {"key": str(tune.key), "time_signature": tune.time_signature, "bars": bars,
            "pickup": str(tune.lead), "title": tune.title,
            "notes": [note_name(p) if p is not None else "rest" for p, _ in tune.notes]}
