"""Where a corpus comes from: walking a source safely, fingerprinting it, naming its pieces.

>>> piece_names([Path("music/dup.mid"), Path("music/dup.midi"), Path("music/solo.abc")],
...             [1, 1, 2])
[['dup.mid'], ['dup.midi'], ['solo#1', 'solo#2']]
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from ..errors import BadArgumentError, MissingFileError
from ..music.reading import SUFFIXES

#: Bump when the token format or the reading rules change: old caches are then ignored, and
#: model sets record the fingerprint of the corpus they were trained on.
TOKENS_VERSION = "2"
#: How ABC files are read, in the fingerprint of a corpus that holds one (so that the
#: chorales' fingerprint, which the shipped models record, stays): accidentals held to the end
#: of the bar and a K: field that names only a tonic taking its mode from the notes.
ABC_READING = "abc-2.1-bare-tonic"
BACH = "bach"


def source_files(source: str | os.PathLike = BACH, *, follow_links: bool = False
                 ) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files a source names, and those left out at once with a reason.

    Folders are walked recursively. Symbolic links inside the source (to files or folders)
    are left out with a reason unless ``follow_links``, so a corpus never reads what lies
    outside it by surprise (a link to ``/etc``); followed, a link never leads round a loop.
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
    _walk(path, files, skipped, set(), follow_links)
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
          seen: set[tuple[int, int]], follow_links: bool) -> None:
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
        if entry.is_symlink() and not follow_links:
            skipped.append((shown(item), "a symbolic link; not followed (--follow-links "
                                         "follows links)"))
            continue
        try:
            is_folder = entry.is_dir()  # follows links
        except OSError:
            is_folder = False
        if is_folder:
            _walk(item, files, skipped, seen, follow_links)
            continue
        reason = _unusable(item)
        if reason is None:
            files.append(item)
        else:
            skipped.append((shown(item), reason))


def fingerprint_files(files: list[Path]) -> tuple[str, list[Path], list[tuple[str, str]]]:
    """A hash of every readable file's name and content (and the token format), the files that
    could be read, and those that could not with a reason. Model sets record it: the same files
    give the same fingerprint in every version with the same ``TOKENS_VERSION``."""
    digest = hashlib.sha256(f"grandstaff-tokens-{TOKENS_VERSION}".encode())
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
    if any(path.suffix.lower() == ".abc" for path in readable):
        digest.update(ABC_READING.encode())  # an ABC file's notes and key are read anew
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
