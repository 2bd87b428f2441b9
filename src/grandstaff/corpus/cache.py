"""The corpus cache: one folder per fingerprint, checked against its manifest on every load.

A folder ``corpus-<fingerprint>/`` holds one Parquet file per table and ``done.json``, the
manifest with the SHA-256 of each. It is written whole under a temporary name and renamed into
place, and believed only when every table matches its checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from ..errors import GrandstaffWarning
from ..files import give_normal_mode
from ..music.codec import COLUMNS
from ..music.events import CLEFS
from .sources import TOKENS_VERSION, shown
from .tables import PIECE_COLUMNS, Corpus

#: Bump when the cache's layout or the naming of pieces changes: older caches are passed over.
CACHE_FORMAT = "4"  # 4: the pieces table records each piece's fermatas


def cache_folder(cache_dir: str | os.PathLike, fingerprint: str) -> Path:
    """Where the cache of the corpus with ``fingerprint`` lives, in this cache format."""
    return Path(cache_dir) / f"corpus-{fingerprint}-v{CACHE_FORMAT}"

CACHE_TABLES = (*CLEFS, "pieces")
MANIFEST = "done.json"


def _warn(message: str) -> None:
    warnings.warn(message, GrandstaffWarning, stacklevel=3)


def write_cache(corpus: Corpus, cache: Path, *, skipped) -> None:
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


def read_cache(cache: Path) -> Corpus | None:
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
    if cache.name != f"corpus-{done.get('fingerprint')}-v{done.get('cache_format')}" or \
            done.get("cache_format") != CACHE_FORMAT:
        raise ValueError("the manifest belongs to another corpus or cache format")
    pieces = tables.pop("pieces")
    if list(pieces.columns) != PIECE_COLUMNS:
        raise ValueError("the pieces table has other columns")
    return Corpus(tables={clef: tables[clef][COLUMNS] for clef in CLEFS}, pieces=pieces,
                  skipped=[(str(p), str(r)) for p, r in done.get("skipped", [])],
                  fingerprint=done["fingerprint"])
