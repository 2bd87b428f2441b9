"""Text that reaches an engraver: titles and composer lines that can only ever be text.

LilyPond's ``musicxml2ly`` copies header text into ``.ly`` strings, escaping ``"`` but not
``\\``, so a backslash (or a newline then a backslash) in a title could end the string and let
Scheme run. Engravers must therefore never see a backslash, a control character or a straight
double quote. :func:`clean_text` is the gate for what a user gives (it refuses or cleans);
:func:`scrub_text` is the last line inside the engraving step (it only cleans).

>>> clean_text('Sonata "Pathétique"\\n  in C minor', "title")
'Sonata “Pathétique” in C minor'
>>> clean_text("X\\\\ #(system ...)", "title")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
BadArgumentError: title contains a backslash...
"""

from __future__ import annotations

import re
import unicodedata

from .errors import BadArgumentError

#: The longest title or composer line a score takes (a page is about 100 characters wide).
MAX_TEXT = 200
_WHITESPACE = re.compile(r"\s+")


def _curly_quotes(text: str) -> str:
    """Straight double quotes become “typographic” ones, opening and closing in turn."""
    parts = text.split('"')
    out = [parts[0]]
    for index, part in enumerate(parts[1:]):
        out.append("“" if index % 2 == 0 else "”")
        out.append(part)
    return "".join(out)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs")


def clean_text(value: object, what: str, *, limit: int = MAX_TEXT) -> str:
    """``value`` as one line of plain text for a score, or :class:`BadArgumentError` saying why.

    Runs of whitespace (newlines and tabs too) become one space and straight double quotes
    become typographic ones. A backslash, any other control character (NUL, escape...), text
    that was not valid UTF-8 and text longer than ``limit`` characters are refused.
    """
    if not isinstance(value, str):
        raise BadArgumentError(f"{what} must be text, not {type(value).__name__}")
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise BadArgumentError(f"{what} is not valid UTF-8 text; give it in UTF-8")
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if "\\" in text:
        raise BadArgumentError(
            f"{what} contains a backslash (\\), which engravers read as a command; "
            "leave it out or write / instead")
    control = next((char for char in text if _is_control(char)), None)
    if control is not None:
        raise BadArgumentError(
            f"{what} contains the control character U+{ord(control):04X}; use plain text")
    if len(text) > limit:
        raise BadArgumentError(
            f"{what} is {len(text)} characters long; a score takes at most {limit}")
    return _curly_quotes(text)


def scrub_text(text: str) -> str:
    """``text`` with nothing an engraver could read as a command: never refuses, only cleans.

    Backslashes become ``/``, control characters and whitespace runs one space, straight
    double quotes typographic ones.

    >>> scrub_text('A\\\\"\\n#(x)')
    'A/“ #(x)'
    """
    text = "".join(" " if _is_control(char) else char for char in text.replace("\\", "/"))
    return _curly_quotes(_WHITESPACE.sub(" ", text))
