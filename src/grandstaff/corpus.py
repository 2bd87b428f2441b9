"""Corpora: the Bach chorales music21 ships, or the user's own files, as token tables.

>>> import grandstaff as gs
>>> corpus = gs.load_corpus("bach")                  # doctest: +SKIP
>>> corpus.tables["treble"].head()                   # doctest: +SKIP
>>> corpus.skipped                                   # doctest: +SKIP
[]

Cold ingestion reads files in a process pool with a progress bar; the result is cached under
``data/`` as Parquet, keyed by the content of every source file, so a changed file is re-read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .codec import COLUMNS, events_to_table, table_to_events
from .errors import BadArgumentError, BadInputError, GrandstaffWarning, MissingFileError
from .events import CLEFS, Event, start_token
from .files import give_normal_mode
from .reading import SUFFIXES
from .workers import DEFAULT_MEMORY_MB, DEFAULT_SECONDS

#: Bump when the token format or the reading rules change: old caches are then ignored.
TOKENS_VERSION = "2"
#: Bump when the cache's layout or the naming of pieces changes.
CACHE_FORMAT = "2"
BACH = "bach"
DEFAULT_CACHE = Path("data")
PIECE_COLUMNS = ["piece", "source", "title", "key", "mode", "shift", "time_signature", "tempo",
                 "snaps", "events_treble", "events_bass"]


@dataclass
class Corpus:
    """Token tables of many pieces, their metadata, and the files that were skipped."""

    tables: dict[str, pd.DataFrame]
    pieces: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fingerprint: str = ""
    seconds: float = 0.0
    cached: bool = False

    @property
    def snaps(self) -> int:
        """How many durations were snapped to the grid while reading."""
        return int(self.pieces["snaps"].sum()) if len(self.pieces) else 0

    def piece_names(self) -> list[str]:
        return self.pieces["piece"].tolist()

    def events(self, clef: str, piece: str) -> list[Event]:
        table = self.tables[clef]
        return table_to_events(table[table["piece"] == piece])

    def sequences(self, clef: str, pieces: list[str] | None = None) -> list[tuple[list, list]]:
        """(pitch tokens, duration tokens) per piece, each opening with its mode's start token."""
        table = self.tables[clef]
        modes = dict(zip(self.pieces["piece"], self.pieces["mode"]))
        wanted = self.piece_names() if pieces is None else pieces
        grouped = {name: group for name, group in table.groupby("piece", sort=False)}
        result = []
        for name in wanted:
            group = grouped.get(name)
            start = start_token(modes[name])
            pitches = [start] + ([] if group is None else group["pitch"].tolist())
            durations = [start] + ([] if group is None else group["duration"].tolist())
            result.append((pitches, durations))
        return result

    def subset(self, pieces: list[str]) -> Corpus:
        keep = set(pieces)
        return Corpus(
            tables={c: t[t["piece"].isin(keep)].reset_index(drop=True)
                    for c, t in self.tables.items()},
            pieces=self.pieces[self.pieces["piece"].isin(keep)].reset_index(drop=True),
            skipped=list(self.skipped), fingerprint=self.fingerprint,
        )

    def summary(self) -> dict:
        """Machine-readable facts: pieces, skipped files, events per clef, vocabulary sizes..."""
        return {
            "pieces": len(self.pieces),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "events": {c: len(self.tables[c]) for c in CLEFS},
            "vocabulary": {
                c: {"pitch": int(self.tables[c]["pitch"].nunique()),
                    "duration": int(self.tables[c]["duration"].nunique())}
                for c in CLEFS
            },
            "modes": {m: int(n) for m, n in self.pieces["mode"].value_counts().items()},
            "duration_snaps": self.snaps,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
            "fingerprint": self.fingerprint,
        }


def source_files(source: str | os.PathLike = BACH) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files a source names, and those left out at once with a reason.

    Folders are walked recursively, following links to folders but never round a loop.
    Unsupported types, names that are not UTF-8, links that lead nowhere or in a circle, FIFOs
    and other special files, and folders that cannot be listed are each left out with a reason.
    Hidden files and folders (``.name``) are passed over quietly.
    """
    if str(source) == BACH:
        from music21 import corpus

        files = [p for p in corpus.getComposer("bach") if p.suffix.lower() in SUFFIXES]
        return sorted(files), []
    path = Path(source)
    if not path.exists():
        raise MissingFileError(f"corpus source {shown(source)!r} does not exist; give a folder, "
                               "a file or 'bach'")
    if not path.is_dir():
        reason = _unusable(path)
        return ([], [(shown(path), reason)]) if reason else ([path], [])
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    _walk(path, files, skipped, set())
    return sorted(files), skipped


def shown(path: str | os.PathLike) -> str:
    """``path`` as printable text: bytes that are not UTF-8 appear as U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


def _unusable(path: Path) -> str | None:
    """Why a path that is not a folder cannot be read as a music file, or None if it can."""
    if path.suffix.lower() not in SUFFIXES:
        return f"unsupported file type {path.suffix or '(none)'}"
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8; rename the file"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():
            return "a symbolic link that leads nowhere (or round in a loop)"
        return f"cannot be read ({type(exc).__name__}: {exc.strerror})"
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
        return f"not a regular file ({kind})"
    return None


def _walk(folder: Path, files: list[Path], skipped: list[tuple[str, str]],
          seen: set[tuple[int, int]]) -> None:
    try:
        info = folder.stat()
        entries = sorted(os.scandir(folder), key=lambda entry: os.fsencode(entry.name))
    except OSError as exc:
        skipped.append((shown(folder), f"folder cannot be listed ({type(exc).__name__}: "
                                       f"{exc.strerror})"))
        return
    if (info.st_dev, info.st_ino) in seen:
        skipped.append((shown(folder), "a link back to a folder above it (a loop); not followed"))
        return
    seen = seen | {(info.st_dev, info.st_ino)}
    for entry in entries:
        if entry.name.startswith("."):
            continue
        item = Path(entry.path)
        try:
            is_folder = entry.is_dir()  # follows links
        except OSError:
            is_folder = False
        if is_folder:
            _walk(item, files, skipped, seen)
            continue
        reason = _unusable(item)
        if reason is None:
            files.append(item)
        else:
            skipped.append((shown(item), reason))


def fingerprint_files(files: list[Path]) -> tuple[str, list[Path], list[tuple[str, str]]]:
    """A hash of every readable file's content (and the cache format), the files that could be
    read, and those that could not with a reason."""
    digest = hashlib.sha256(f"grandstaff-tokens-{TOKENS_VERSION}-cache-{CACHE_FORMAT}".encode())
    readable, unreadable = [], []
    for path in files:
        try:
            content = hashlib.sha256(path.read_bytes()).digest()
        except OSError as exc:
            unreadable.append((shown(path), f"cannot be read ({type(exc).__name__}: "
                                            f"{exc.strerror})"))
            continue
        digest.update(os.fsencode(path.name))
        digest.update(content)
        readable.append(path)
    return digest.hexdigest()[:20], readable, unreadable


def piece_names(files: list[Path], counts: list[int]) -> list[list[str]]:
    """Unique names for the ``counts[i]`` pieces of each file ``files[i]``.

    A piece is named by its file's path below the corpus folder, without suffix; a file holding
    several pieces (an ABC book) names them ``NAME#1``, ``NAME#2``... Files whose names would
    meet (``dup.mid`` and ``dup.midi``, or ``tunes#1.mid`` and the first tune of ``tunes.abc``)
    keep their suffix: ``dup.mid``, ``dup.midi``, ``tunes#1.mid``, ``tunes.abc#1``.
    """
    root = os.path.commonpath([str(f.parent) for f in files]) if len(files) > 1 else ""
    relative = [Path(f).relative_to(root) if root else Path(Path(f).name) for f in files]

    def names(stem: str, count: int) -> list[str]:
        return [stem] if count == 1 else [f"{stem}#{n}" for n in range(1, count + 1)]

    proposed = [names(str(r.with_suffix("")), n) for r, n in zip(relative, counts)]
    seen: dict[str, int] = {}
    for group in proposed:
        for name in group:
            seen[name] = seen.get(name, 0) + 1
    result = [names(str(r), n) if any(seen[name] > 1 for name in group) else group
              for r, n, group in zip(relative, counts, proposed)]
    taken: set[str] = set()
    for group in result:  # whatever still meets (a.mid beside a.mid.mid) gets a number
        for index, name in enumerate(group):
            unique, number = name, 2
            while unique in taken:
                unique, number = f"{name}~{number}", number + 1
            group[index] = unique
            taken.add(unique)
    return result


def bach_piece_file(name: str) -> tuple[Path, int]:
    """The file of the Bach corpus piece ``name`` and its index in that file, found from the
    file names alone (nothing is read); :class:`BadArgumentError` lists close names if none."""
    import difflib

    files, _ = source_files(BACH)
    for path, group in zip(files, piece_names(files, [1] * len(files))):
        if name in group:
            return path, group.index(name)
    close = difflib.get_close_matches(name, [g[0] for g in piece_names(files, [1] * len(files))])
    raise BadArgumentError(f"no piece {name!r} in the Bach corpus"
                           + (f"; did you mean {', '.join(close)}?" if close else
                              "; names look like 'bwv10.7'"))


def load_corpus(
    source: str | os.PathLike = BACH,
    *,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
    workers: int | None = None,
    progress: bool = True,
    timeout: float | None = DEFAULT_SECONDS,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
) -> Corpus:
    """Read a corpus: ``"bach"`` (default), a folder (recursive) or one file.

    Bad files are skipped with a reason in ``corpus.skipped``; a source with no usable piece
    raises :class:`~grandstaff.errors.BadInputError`. ``cache_dir=None`` turns the cache off;
    a cache that cannot be written, or one found damaged, costs only time (with a warning).

    Files are read in ``workers`` processes (default: one per core). Each file may take
    ``timeout`` seconds and grow its worker by ``memory_mb``; a file that goes past either, or
    crashes its worker, is skipped with the reason. ``workers=0`` reads in this process,
    without those limits (for debugging).
    """
    started = time.perf_counter()
    files, skipped = source_files(source)
    is_bach = str(source) == BACH
    fingerprint, files, unreadable = fingerprint_files(files)
    skipped += unreadable
    if not files:
        reasons = "; ".join(f"{Path(p).name}: {r}" for p, r in skipped[:3])
        raise BadInputError(f"no music files in {shown(source)}"
                            + (f" ({reasons})" if reasons else ""))
    cache = Path(cache_dir) / f"corpus-{fingerprint}" if cache_dir is not None else None
    corpus = _read_cache(cache) if cache is not None else None
    if corpus is not None:
        corpus.skipped = skipped + corpus.skipped
        corpus.seconds = time.perf_counter() - started
        corpus.cached = True
        return corpus

    pieces, failures = _read_all(files, bach=is_bach, workers=workers, progress=progress,
                                 timeout=timeout, memory_mb=memory_mb)
    skipped += failures
    if not pieces:
        if len(files) == 1 and failures:
            raise BadInputError(f"{failures[0][0]}: {failures[0][1]}")
        raise BadInputError(f"no usable piece in {shown(source)} ({len(skipped)} files skipped)")
    corpus = _assemble(pieces, skipped, fingerprint)
    if cache is not None:
        _write_cache(corpus, cache, skipped=failures)
    corpus.seconds = time.perf_counter() - started
    return corpus


def _read_one(path: str, bach: bool):
    """The pieces of one file, or the reason it cannot be used (run in a worker)."""
    from .reading import read_file

    try:
        return read_file(Path(path), bach=bach), None
    except BadInputError as exc:
        return None, str(exc)
    except MemoryError:
        raise  # the worker reports its memory budget
    except Exception as exc:  # one bad file never stops a corpus
        return None, f"unreadable ({type(exc).__name__}: {str(exc)[:120]})"


def _read_all(files, *, bach, workers, progress, timeout, memory_mb):
    from tqdm import tqdm

    from .workers import run_jobs

    jobs = [(str(f), bach) for f in files]
    workers = os.cpu_count() or 1 if workers is None else workers
    bar = tqdm(total=len(jobs), desc="reading", unit="file", disable=not progress or len(jobs) < 2,
               file=sys.stderr)
    outcomes: list[tuple[list | None, str | None]] = [(None, "not read")] * len(jobs)
    try:
        if workers == 0:
            for index, job in enumerate(jobs):
                outcomes[index] = _read_one(*job)
                bar.update()
        else:
            for result in run_jobs("grandstaff.corpus:_read_one", jobs, workers=workers,
                                   seconds=timeout, memory_mb=memory_mb,
                                   preload=("grandstaff.reading", "music21")):
                outcomes[result.index] = result.value if result.ok else (None, result.reason)
                bar.update()
    finally:
        bar.close()
    read = [(path, pieces) for path, (pieces, _) in zip(files, outcomes) if pieces]
    names = piece_names([path for path, _ in read], [len(pieces) for _, pieces in read])
    found = []
    for (_, pieces), group in zip(read, names):
        for piece, name in zip(pieces, group):
            piece.name = name
            found.append(piece)
    failures = [(shown(path), reason) for path, (pieces, reason) in zip(files, outcomes)
                if not pieces]
    return found, failures


def _assemble(pieces, skipped, fingerprint) -> Corpus:
    tables = {
        clef: pd.concat([events_to_table(p.staves[clef], p.name) for p in pieces],
                        ignore_index=True)
        for clef in CLEFS
    }
    meta = pd.DataFrame([{
        "piece": p.name, "source": p.source, "title": p.title, "key": p.key, "mode": p.mode,
        "shift": p.shift, "time_signature": p.time_signature, "tempo": p.tempo,
        "snaps": p.snaps, "events_treble": len(p.staves["treble"]),
        "events_bass": len(p.staves["bass"]),
    } for p in pieces], columns=PIECE_COLUMNS)
    return Corpus(tables=tables, pieces=meta, skipped=list(skipped), fingerprint=fingerprint)


# --- the cache: one folder per fingerprint, checked against its manifest on every load ---------

CACHE_TABLES = (*CLEFS, "pieces")
MANIFEST = "done.json"


def _warn(message: str) -> None:
    warnings.warn(message, GrandstaffWarning, stacklevel=3)


def _write_cache(corpus: Corpus, cache: Path, *, skipped) -> None:
    """Write the cache folder whole under a temporary name, then rename it into place.

    The manifest holds the SHA-256 of every table file. A whole cache that another run wrote
    meanwhile is kept; a damaged one is moved aside, never written into. Temporary folders of
    runs that died are removed. A cache that cannot be written costs only time next run, with
    a warning now.
    """
    tmp = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        _clear_debris(cache.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".corpus-{os.getpid()}-", dir=cache.parent))
        digests = {}
        for name in CACHE_TABLES:
            table = corpus.pieces if name == "pieces" else corpus.tables[name]
            target = tmp / f"{name}.parquet"
            table.to_parquet(target, index=False)
            digests[name] = hashlib.sha256(target.read_bytes()).hexdigest()
        give_normal_mode(tmp, folder=True)
        (tmp / MANIFEST).write_text(json.dumps({
            "fingerprint": corpus.fingerprint, "tokens_version": TOKENS_VERSION,
            "cache_format": CACHE_FORMAT, "sha256": digests,
            "skipped": [list(s) for s in skipped],
        }))
        if _is_whole(cache):  # another run finished the same cache first
            return
        if cache.exists():  # a damaged cache: move it aside, never write into it
            old = Path(tempfile.mkdtemp(prefix=f".corpus-{os.getpid()}-old-", dir=cache.parent))
            os.replace(cache, old / "cache")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, cache)
        except OSError:
            if not _is_whole(cache):  # losing a race to a whole cache is no failure
                raise
    except OSError as exc:
        _warn(f"cannot write the corpus cache in {shown(cache.parent)} ({type(exc).__name__}: "
              f"{exc.strerror or exc}); running without it")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _clear_debris(folder: Path) -> None:
    """Remove the temporary cache folders of runs that are no longer alive."""
    for entry in folder.glob(".corpus-*"):
        owner = entry.name.split("-")[1]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass  # alive, and someone else's


def _is_whole(cache: Path) -> bool:
    try:
        _load_checked(cache)
    except Exception:
        return False
    return True


def _read_cache(cache: Path) -> Corpus | None:
    """The cached corpus, or None if there is none; a damaged one is None with a warning."""
    if not (cache / MANIFEST).is_file():
        return None
    try:
        return _load_checked(cache)
    except Exception as exc:  # any damage at all means: read the sources again
        _warn(f"the corpus cache {shown(cache)} is damaged ({type(exc).__name__}: "
              f"{str(exc)[:120]}); reading the sources again")
        return None


def _load_checked(cache: Path) -> Corpus:
    """The cached corpus; raises if anything in it does not match its manifest.

    Every table is read as bytes once, checked against the manifest's SHA-256, and parsed from
    those same bytes, so a file replaced or damaged while it is read is never believed.
    """
    import io

    done = json.loads((cache / MANIFEST).read_bytes())
    digests = done["sha256"]
    tables = {}
    for name in CACHE_TABLES:
        data = (cache / f"{name}.parquet").read_bytes()
        if hashlib.sha256(data).hexdigest() != digests[name]:
            raise ValueError(f"{name}.parquet does not match its checksum")
        tables[name] = pd.read_parquet(io.BytesIO(data))
    if done.get("fingerprint") != cache.name.removeprefix("corpus-"):
        raise ValueError("the manifest belongs to another corpus")
    pieces = tables.pop("pieces")
    if list(pieces.columns) != PIECE_COLUMNS:
        raise ValueError("the pieces table has other columns")
    return Corpus(tables={clef: tables[clef][COLUMNS] for clef in CLEFS}, pieces=pieces,
                  skipped=[(str(p), str(r)) for p, r in done.get("skipped", [])],
                  fingerprint=done["fingerprint"])
