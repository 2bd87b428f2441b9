"""Atomic file writes: a file appears whole or not at all, and is never overwritten silently."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import BadArgumentError, OutputExistsError


def check_writable(path: Path, *, force: bool) -> None:
    """Refuse to replace an existing ``path`` unless ``force``, and never replace a folder."""
    path = Path(path)
    # an atomic write first makes ".NAME.XXXXXXXX.SUFFIX" beside it
    if len(f".{path.stem}.xxxxxxxx{path.suffix}".encode()) > NAME_MAX:
        raise BadArgumentError(
            f"the file name {path.name[:40]!r}... is too long ({len(path.name.encode())} "
            f"bytes; names here hold {NAME_MAX - 11} at most); choose a shorter --out")
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except OSError as exc:  # a folder name too long for the file system, say
        raise BadArgumentError(f"cannot write into {path.parent}: {exc.strerror or exc}; "
                               "choose another --out") from None
    if is_dir:
        raise BadArgumentError(
            f"{path} is a folder; --force (force=True) replaces only files, so choose another "
            "output name")
    if exists and not force:
        raise OutputExistsError(f"{path} exists already; pass --force (force=True) to replace it")
    check_folder(path.parent)
    probe_folder(path.parent)


#: The longest file name (in bytes) most file systems take.
NAME_MAX = 255


def probe_folder(folder: Path) -> None:
    """Refuse a folder that cannot be made or written into (a read-only place, /proc, a
    missing mount), by making it and a file in it for a moment, then removing what was made."""
    folder = Path(folder)
    made = []
    try:
        for place in reversed((folder, *folder.parents)):
            if not place.exists():
                place.mkdir()
                made.append(place)
        fd, name = tempfile.mkstemp(prefix=".grandstaff-probe.", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise BadArgumentError(f"cannot write into {folder}: {exc.strerror or exc}; choose "
                               "another --out") from None
    finally:
        for place in reversed(made):
            try:
                place.rmdir()
            except OSError:
                pass


def check_folder(folder: Path) -> None:
    """Refuse a folder to write into when it, or a folder above it, is a file."""
    for place in (Path(folder), *Path(folder).parents):
        try:
            exists = place.exists()
        except OSError as exc:  # a name too long for the file system, say
            raise BadArgumentError(f"cannot write into {folder}: {exc.strerror or exc}") from None
        if exists:
            if not place.is_dir():
                raise BadArgumentError(
                    f"cannot write into {folder}: {place} is a file, not a folder")
            return


def write_atomic(path: Path, write: Callable[[Path], None], *, force: bool = True) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    check_writable(path, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        give_normal_mode(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def current_umask() -> int:
    """This process's umask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def give_normal_mode(path: Path, *, folder: bool = False) -> None:
    """The mode any editor's output gets: 0666 (0777 for a folder) less the umask.

    Temporary files and folders are made private (0600, 0700); a file or folder renamed from
    one into the user's place gets the ordinary mode first.
    """
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def write_text_atomic(path: Path, text: str, *, force: bool = True) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text), force=force)



def temporary_folder(kind: str) -> tempfile.TemporaryDirectory:
    """A temporary folder named ``grandstaff-KIND-PID-...`` (a ``TemporaryDirectory``: use it
    as a context manager, or call ``cleanup()``). Making one first removes the folders of
    grandstaff processes that are gone: a run killed with SIGKILL (or by a power cut) cannot
    clean up after itself, so the next run does.

    >>> with temporary_folder("engrave") as work:                # doctest: +SKIP
    ...     print(work)
    /tmp/grandstaff-engrave-4242-k2j1x0qa
    """
    clear_dead_temporary_folders()
    return tempfile.TemporaryDirectory(prefix=f"grandstaff-{kind}-{os.getpid()}-")


def clear_dead_temporary_folders(root: str | Path | None = None) -> list[Path]:
    """Remove the ``grandstaff-KIND-PID-...`` folders in the temporary folder (or ``root``)
    whose process is gone and that belong to this user; returns what was removed."""
    import re
    import shutil

    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = re.fullmatch(r"grandstaff-[a-z]+-(\d+)-\w+", entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        try:
            if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a name that only looks like ours
    return True
