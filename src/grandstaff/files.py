"""Atomic file writes: a file appears whole or not at all, and is never overwritten silently."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputExistsError


def check_writable(path: Path, *, force: bool) -> None:
    """Refuse to replace an existing ``path`` unless ``force``."""
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists already; pass --force (force=True) to replace it")


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
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: Path, text: str, *, force: bool = True) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text), force=force)

