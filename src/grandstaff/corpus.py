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
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .codec import COLUMNS, events_to_table, table_to_events
from .errors import BadInputError, MissingFileError
from .events import CLEFS, Event, start_token
from .reading import SUFFIXES

#: Bump when the token format or the reading rules change: old caches are then ignored.
TOKENS_VERSION = "2"
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
    """The files a source names, and those left out at once (unsupported type) with a reason."""
    if str(source) == BACH:
        from music21 import corpus

        files = [p for p in corpus.getComposer("bach") if p.suffix.lower() in SUFFIXES]
        return sorted(files), []
    path = Path(source)
    if not path.exists():
        raise MissingFileError(f"corpus source {str(source)!r} does not exist; give a folder, a "
                               f"file or 'bach'")
    if path.is_file():
        return [path], []
    files, skipped = [], []
    for item in sorted(path.rglob("*")):
        if not item.is_file() or item.name.startswith("."):
            continue
        if item.suffix.lower() in SUFFIXES:
            files.append(item)
        else:
            skipped.append((str(item), f"unsupported file type {item.suffix or '(none)'}"))
    return files, skipped


def fingerprint_files(files: list[Path]) -> str:
    """A hash of every file's content (and the token format version)."""
    digest = hashlib.sha256(f"grandstaff-tokens-{TOKENS_VERSION}".encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def load_corpus(
    source: str | os.PathLike = BACH,
    *,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
    workers: int | None = None,
    progress: bool = True,
) -> Corpus:
    """Read a corpus: ``"bach"`` (default), a folder (recursive) or one file.

    Bad files are skipped with a reason in ``corpus.skipped``; a source with no usable piece
    raises :class:`~grandstaff.errors.BadInputError`. ``cache_dir=None`` turns the cache off.
    """
    started = time.perf_counter()
    files, skipped = source_files(source)
    is_bach = str(source) == BACH
    if not files:
        reasons = "; ".join(f"{Path(p).name}: {r}" for p, r in skipped[:3])
        raise BadInputError(f"no music files in {source}" + (f" ({reasons})" if reasons else ""))
    fingerprint = fingerprint_files(files)
    cache = Path(cache_dir) / f"corpus-{fingerprint}" if cache_dir is not None else None
    if cache is not None and (cache / "done.json").is_file():
        corpus = _read_cache(cache)
        corpus.skipped = skipped + corpus.skipped
        corpus.seconds = time.perf_counter() - started
        corpus.cached = True
        return corpus

    pieces, failures = _read_all(files, bach=is_bach, workers=workers, progress=progress)
    skipped += failures
    if not pieces:
        if len(files) == 1 and failures:
            raise BadInputError(f"{files[0]}: {failures[0][1]}")
        raise BadInputError(f"no usable piece in {source} ({len(skipped)} files skipped)")
    corpus = _assemble(pieces, skipped, fingerprint)
    if cache is not None:
        _write_cache(corpus, cache, skipped=failures)
    corpus.seconds = time.perf_counter() - started
    return corpus


def _read_one(job: tuple[str, bool, str]):
    path, bach, root = job
    from .reading import read_file

    try:
        pieces = read_file(Path(path), bach=bach)
    except BadInputError as exc:
        return path, None, str(exc)
    except Exception as exc:  # one bad file never stops a corpus
        return path, None, f"unreadable ({type(exc).__name__}: {str(exc)[:120]})"
    for piece in pieces:  # names unique within the corpus: relative path without suffix
        relative = Path(path).relative_to(root) if root else Path(path).name
        piece.name = str(Path(relative).with_suffix("")) + piece.name[len(Path(path).stem):]
    return path, pieces, None


def _read_all(files, *, bach, workers, progress):
    from tqdm import tqdm

    root = os.path.commonpath([str(f.parent) for f in files]) if len(files) > 1 else ""
    jobs = [(str(f), bach, root) for f in files]
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(jobs), desc="reading", unit="file", disable=not progress or len(jobs) < 2,
               file=sys.stderr)
    results = []
    try:
        if workers > 1 and len(jobs) > 1:
            # forkserver/spawn, never fork: forking a process that runs JAX threads can deadlock
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn")
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                     mp_context=context) as pool:
                for result in pool.map(_read_one, jobs, chunksize=4):
                    results.append(result)
                    bar.update()
        else:
            for job in jobs:
                results.append(_read_one(job))
                bar.update()
    finally:
        bar.close()
    pieces, failures = [], []
    for path, read, reason in results:
        if read is None:
            failures.append((path, reason))
        else:
            pieces.extend(read)
    return pieces, failures


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


def _write_cache(corpus: Corpus, cache: Path, *, skipped) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".corpus-", dir=cache.parent))
    try:
        for clef in CLEFS:
            corpus.tables[clef].to_parquet(tmp / f"{clef}.parquet", index=False)
        corpus.pieces.to_parquet(tmp / "pieces.parquet", index=False)
        (tmp / "done.json").write_text(json.dumps({
            "fingerprint": corpus.fingerprint, "tokens_version": TOKENS_VERSION,
            "skipped": [list(s) for s in skipped],
        }))
        if cache.exists():
            shutil.rmtree(cache)
        os.replace(tmp, cache)
    except OSError:
        pass  # a cache that cannot be written only costs time next run
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_cache(cache: Path) -> Corpus:
    done = json.loads((cache / "done.json").read_text())
    tables = {}
    for clef in CLEFS:
        table = pd.read_parquet(cache / f"{clef}.parquet")
        tables[clef] = table[COLUMNS]
    return Corpus(
        tables=tables,
        pieces=pd.read_parquet(cache / "pieces.parquet"),
        skipped=[tuple(s) for s in done.get("skipped", [])],
        fingerprint=done["fingerprint"],
    )
