"""Every bound on an input that sizes work, in one place, checked before the work starts: the
command line, the Python API and the web page hold the same numbers (the page, shared by
whoever reaches the server, is stricter: :data:`PAGE_MAX_BARS`, :data:`PAGE_MAX_CANDIDATES`,
and only the meters it offers).

>>> check_temperature(0.7)
0.7
>>> check_temperature(1e-200)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
grandstaff.errors.BadArgumentError: temperature 1e-200 must be from 0.05 to 5; ...
"""

from __future__ import annotations

import math

from .errors import BadArgumentError

#: Bars of one piece.
MAX_BARS = 1000
#: Quarter notes per minute: below 20 a piece of many bars makes hours of audio.
MIN_TEMPO, MAX_TEMPO = 20.0, 400.0
#: The sampling temperature: below 0.05 every draw is the most likely token anyway (and the
#: logits overflow), above 5 the draws are noise.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 5.0
#: Pieces one call may sample at once, and the most bars all of them may hold together (the
#: default 8 candidates at the longest piece): memory grows with both.
MAX_CANDIDATES = 64
MAX_CANDIDATE_BARS = 8 * MAX_BARS
#: The longest piece written as audio (a WAV takes about 11 MB a minute, held in memory while
#: it is made), in minutes; the page's is :data:`PAGE_MAX_MINUTES`.
MAX_AUDIO_MINUTES = 30
PAGE_MAX_MINUTES = 10
#: What the web page accepts.
PAGE_MAX_BARS = 64
PAGE_MAX_CANDIDATES = 16
#: A melody typed as ABC (``harmonize --abc``), in characters, and a melody file the page
#: may upload, in bytes (a folk tune is a few hundred characters, a 16-bar MusicXML melody
#: tens of kB); a melody file given to the CLI is read in a worker with ingest's budget.
MAX_ABC_CHARACTERS = 100_000
PAGE_MAX_ABC_CHARACTERS = 20_000
PAGE_MAX_MELODY_BYTES = 192 * 1024
#: Seconds the server gives one piece (``serve --budget``) before it stops the work.
MIN_BUDGET_SECONDS, MAX_BUDGET_SECONDS = 1.0, 3600.0


def _number(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise BadArgumentError(f"{what} {value!r} is not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadArgumentError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise BadArgumentError(f"{what} {value!r} is not a finite number")
    return number


def _in_range(value: object, what: str, least: float, most: float, unit: str,
              example: str) -> float:
    number = _number(value, what)
    if not least <= number <= most:
        raise BadArgumentError(f"{what} {value!r} must be from {least:g} to {most:g}{unit}; "
                               f"e.g. {example}")
    return number


def check_tempo(tempo: object) -> float:
    """``tempo`` (quarter notes per minute) as a float if it is from :data:`MIN_TEMPO` to
    :data:`MAX_TEMPO`, else one clear error."""
    return _in_range(tempo, "tempo", MIN_TEMPO, MAX_TEMPO, " quarter notes per minute",
                     "--tempo 96")


def check_temperature(temperature: object) -> float:
    """``temperature`` as a float if it is from :data:`MIN_TEMPERATURE` to
    :data:`MAX_TEMPERATURE`, else one clear error."""
    return _in_range(temperature, "temperature", MIN_TEMPERATURE, MAX_TEMPERATURE, "",
                     "--temperature 0.8")


def check_budget(seconds: object) -> float:
    """``seconds`` a server may spend on one piece, from :data:`MIN_BUDGET_SECONDS` to
    :data:`MAX_BUDGET_SECONDS`, else one clear error."""
    return _in_range(seconds, "budget", MIN_BUDGET_SECONDS, MAX_BUDGET_SECONDS, " seconds",
                     "--budget 120")


def check_audio_length(quarters: float, tempo: float, most: float = MAX_AUDIO_MINUTES) -> None:
    """Refuse audio of ``quarters`` quarter notes at ``tempo`` longer than ``most`` minutes,
    before anything is composed.

    >>> check_audio_length(64 * 4, 20, most=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    grandstaff.errors.BadArgumentError: the piece would last 12.8 minutes; ...
    """
    minutes = float(quarters) / float(tempo)
    if minutes > most:
        raise BadArgumentError(f"the piece would last {minutes:.1f} minutes; audio is written "
                               f"for at most {most:g} (fewer bars or a faster tempo)")


def bounds_table() -> str:
    """Every bound as a Markdown table (the README's)."""
    rows = [("bars", "1", f"{MAX_BARS}", f"{PAGE_MAX_BARS}"),
            ("tempo (quarters per minute)", f"{MIN_TEMPO:g}", f"{MAX_TEMPO:g}", "same"),
            ("temperature", f"{MIN_TEMPERATURE:g}", f"{MAX_TEMPERATURE:g}", "same"),
            ("candidates", "1", f"{MAX_CANDIDATES} (and at most {MAX_CANDIDATE_BARS:,} bars "
             "in all)", f"{PAGE_MAX_CANDIDATES}"),
            ("minutes of audio (`--formats wav`)", "–", f"{MAX_AUDIO_MINUTES}",
             f"{PAGE_MAX_MINUTES}"),
            ("characters of a typed ABC melody (`harmonize --abc`)", "1",
             f"{MAX_ABC_CHARACTERS:,}", f"{PAGE_MAX_ABC_CHARACTERS:,}"),
            ("bytes of a melody file", "1", "– (read with ingest's 60 s, 2 GB)",
             f"{PAGE_MAX_MELODY_BYTES:,}"),
            ("seconds to make one piece on the page (`serve --budget`)",
             f"{MIN_BUDGET_SECONDS:g}", "–", f"{MAX_BUDGET_SECONDS:g} (default 120)")]
    lines = ["| input | least | most (CLI, API) | most (web page) |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)
