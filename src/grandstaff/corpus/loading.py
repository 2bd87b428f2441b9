"""Loading a corpus: the Bach chorales music21 ships, or the user's own files, as token tables.

>>> import grandstaff as gs
>>> corpus = gs.load_corpus("bach")                  # doctest: +SKIP
>>> corpus.tables["treble"].head()                   # doctest: +SKIP
>>> corpus.skipped                                   # doctest: +SKIP
[]

Cold ingestion reads files in a process pool with a progress bar; the result is cached under
``data/`` as Parquet, keyed by the content of every source file, so a changed file is re-read.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd

from ..errors import BadInputError
from ..music.codec import events_to_table
from ..music.events import CLEFS
from ..workers import DEFAULT_MEMORY_MB, DEFAULT_SECONDS
from .cache import cache_folder, read_cache, write_cache
from .sources import BACH, fingerprint_files, piece_names, shown, source_files
from .tables import PIECE_COLUMNS, Corpus

DEFAULT_CACHE = Path("data")
#: The most events a corpus may hold (about 170 times the Bach corpus). The tables take about
#: 50 bytes an event, the pieces being assembled several times that; past the bound a corpus is
#: refused in one line rather than filling the memory.
DEFAULT_MAX_EVENTS = 10_000_000


def load_corpus(
    source: str | os.PathLike = BACH,
    *,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
    workers: int | None = None,
    progress: bool = True,
    timeout: float | None = DEFAULT_SECONDS,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    max_events: int | None = DEFAULT_MAX_EVENTS,
    follow_links: bool = False,
) -> Corpus:
    """Read a corpus: ``"bach"`` (default), a folder (recursive) or one file.

    Bad files are skipped with a reason in ``corpus.skipped``; a source with no usable piece
    raises :class:`~grandstaff.errors.BadInputError`. ``cache_dir=None`` turns the cache off;
    a cache that cannot be written, or one found damaged, costs only time (with a warning).

    Files are read in ``workers`` processes (default: one per core). Each file may take
    ``timeout`` seconds and grow its worker by ``memory_mb``; a file that goes past either, or
    crashes its worker, is skipped with the reason. ``workers=0`` reads in this process,
    without those limits (for debugging). A corpus of more than ``max_events`` events is
    refused with :class:`~grandstaff.errors.BadInputError` as soon as the bound is passed
    (``None`` lifts it).
    """
    started = time.perf_counter()
    files, skipped = source_files(source, follow_links=follow_links)
    is_bach = str(source) == BACH
    fingerprint, files, unreadable = fingerprint_files(files)
    skipped += unreadable
    if not files:
        reasons = "; ".join(f"{Path(p).name}: {r}" for p, r in skipped[:3])
        raise BadInputError(f"no music files in {shown(source)}"
                            + (f" ({reasons})" if reasons else ""))
    cache = cache_folder(cache_dir, fingerprint) if cache_dir is not None else None
    corpus = read_cache(cache) if cache is not None else None
    if corpus is not None:
        corpus.skipped = skipped + corpus.skipped
        corpus.seconds = time.perf_counter() - started
        corpus.cached = True
        return corpus

    pieces, failures = _read_all(files, bach=is_bach, workers=workers, progress=progress,
                                 timeout=timeout, memory_mb=memory_mb, max_events=max_events)
    skipped += failures
    if not pieces:
        if len(files) == 1 and failures:
            raise BadInputError(f"{failures[0][0]}: {failures[0][1]}")
        raise BadInputError(f"no usable piece in {shown(source)} ({len(skipped)} files skipped)")
    corpus = _assemble(pieces, skipped, fingerprint)
    if cache is not None:
        write_cache(corpus, cache, skipped=failures)
    corpus.seconds = time.perf_counter() - started
    return corpus


def read_limited(path: Path, *, timeout: float | None = DEFAULT_SECONDS,
                 memory_mb: int | None = DEFAULT_MEMORY_MB) -> list:
    """The pieces of one file, read in a worker process under the same budgets as a corpus's
    files (a primer, say): a file past them is one clear error, not a hang."""
    from ..workers import run_jobs, without_bytes

    (result,) = run_jobs("grandstaff.corpus.loading:_read_one", [(str(path), False)],
                         workers=1, seconds=timeout, memory_mb=memory_mb,
                         preload=("grandstaff.music.reading", "music21"))
    pieces, reason = result.value if result.ok else (None, result.reason)
    if not pieces:
        raise BadInputError(f"{shown(path)}: {without_bytes(reason or 'no piece in it')}")
    return pieces


def _read_one(path: str, bach: bool):
    """The pieces of one file, or the reason it cannot be used (run in a worker)."""
    from ..music.reading import read_file

    try:
        return read_file(Path(path), bach=bach), None
    except BadInputError as exc:
        return None, str(exc)
    except MemoryError:
        raise  # the worker reports its memory budget
    except Exception as exc:  # one bad file never stops a corpus
        return None, f"unreadable ({type(exc).__name__}: {str(exc)[:120]})"


def _read_all(files, *, bach, workers, progress, timeout, memory_mb, max_events):
    from tqdm import tqdm

    from ..workers import run_jobs, without_bytes

    jobs = [(str(f), bach) for f in files]
    workers = os.cpu_count() or 1 if workers is None else workers
    bar = tqdm(total=len(jobs), desc="reading", unit="file", disable=not progress or len(jobs) < 2,
               file=sys.stderr)
    outcomes: list[tuple[list | None, str | None]] = [(None, "not read")] * len(jobs)
    events = 0

    def keep(index: int, outcome) -> None:
        nonlocal events
        outcomes[index] = outcome
        events += sum(len(staff) for piece in outcome[0] or () for staff in piece.staves.values())
        bar.update()
        if max_events is not None and events > max_events:
            raise BadInputError(
                f"the corpus holds more than {max_events:,} events ({bar.n} of {len(jobs)} "
                "files read); grandstaff keeps a corpus in memory, so read a part of it or "
                "lift the bound (max_events=None, --max-events 0)")

    try:
        if workers == 0:
            for index, job in enumerate(jobs):
                keep(index, _read_one(*job))
        else:
            for result in run_jobs("grandstaff.corpus.loading:_read_one", jobs, workers=workers,
                                   seconds=timeout, memory_mb=memory_mb,
                                   preload=("grandstaff.music.reading", "music21")):
                keep(result.index, result.value if result.ok else (None, result.reason))
    finally:
        bar.close()
    read = [(path, pieces) for path, (pieces, _) in zip(files, outcomes) if pieces]
    names = piece_names([path for path, _ in read], [len(pieces) for _, pieces in read])
    found = []
    for (_, pieces), group in zip(read, names):
        for piece, name in zip(pieces, group):
            piece.name = name
            found.append(piece)
    # a reason never quotes the file's bytes (a link to /etc/passwd named song.mid, say)
    failures = [(shown(path), without_bytes(reason or ""))
                for path, (pieces, reason) in zip(files, outcomes) if not pieces]
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
        "fermatas": (None if p.fermatas is None
                     else " ".join(str(onset) for onset in p.fermatas)),
    } for p in pieces], columns=PIECE_COLUMNS)
    meta["fermatas"] = meta["fermatas"].astype("string")
    return Corpus(tables=tables, pieces=meta, skipped=list(skipped), fingerprint=fingerprint)
