"""Errors raised by grandstaff.

Every error is a :class:`GrandstaffError` and also the matching built-in exception, so callers
can catch either. The CLI turns any of them into one line on stderr and exit code 2.
"""

from __future__ import annotations


class GrandstaffError(Exception):
    """Base class of every error grandstaff raises on purpose."""


class BadArgumentError(GrandstaffError, ValueError):
    """An argument has a value grandstaff cannot use (the message names the value and the fix)."""


class BadInputError(GrandstaffError, ValueError):
    """An input file or corpus cannot be used (empty, unreadable, no notes...)."""


class MissingFileError(GrandstaffError, FileNotFoundError):
    """A file or model folder that is needed does not exist."""


class ModelMismatchError(GrandstaffError, ValueError):
    """A model folder's weights, vocabulary and config do not belong together."""


class EngraverMissingError(GrandstaffError, RuntimeError):
    """A tool that makes an output (LilyPond, MuseScore, Verovio, the audio synthesiser)
    cannot be found or failed."""


class OutputExistsError(GrandstaffError, FileExistsError):
    """An output file exists already and overwriting was not asked for."""


class GrandstaffWarning(UserWarning):
    """Something went wrong that costs time, not results (a damaged cache, say); the CLI prints
    it as one line, ``grandstaff: warning: ...``."""
