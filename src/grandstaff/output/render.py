"""Writing scores to files: MusicXML and MIDI here; engravers (LilyPond, MuseScore) too.

One of the few modules that know music21. Every file appears whole or not at all (it is written
to a temporary name beside its target, then renamed).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..files import write_atomic

#: The first MusicXML voice number of each staff of a grand staff, as Finale, MuseScore and
#: Dorico number them (voices 1–4 on the upper staff, 5–8 on the lower).
FIRST_VOICE = {"1": 1, "2": 5}


def write_musicxml(score, path: str | Path, *, force: bool = True) -> Path:
    """Write ``score`` as uncompressed MusicXML (valid against the MusicXML 4.0 schema), its
    voices numbered staff by staff (see :func:`number_voices_by_staff`)."""
    def write(tmp: Path) -> None:
        score.write("musicxml", fp=tmp)
        tmp.write_text(number_voices_by_staff(tmp.read_text(encoding="utf-8")),
                       encoding="utf-8")

    return write_atomic(Path(path), write, force=force)


def number_voices_by_staff(xml: str) -> str:
    """``xml`` with the voices of every measure numbered from :data:`FIRST_VOICE` of their
    staff in the order they appear (the upper voice first). music21 numbers a grand staff's
    voices across both staves, and MuseScore then took the treble's lower voice for an upper
    one: its inverted fermata was drawn over the staff, on top of the other.

    >>> xml = ('<measure number="1"><note><voice>3</voice><staff>2</staff></note>'
    ...        '<note><voice>1</voice><staff>1</staff></note>'
    ...        '<note><voice>4</voice><staff>2</staff></note></measure>')
    >>> re.findall(r"<voice>(\\d+)</voice>", number_voices_by_staff(xml))
    ['5', '1', '6']
    """
    def measure(match: re.Match) -> str:
        numbers: dict[str, dict[str, str]] = {}

        def element(found: re.Match) -> str:
            text = found.group(0)
            voice = re.search(r"<voice>([^<]*)</voice>", text)
            if voice is None:
                return text
            staff = re.search(r"<staff>(\d+)</staff>", text)
            staff_number = staff.group(1) if staff else "1"
            own = numbers.setdefault(staff_number, {})
            if voice.group(1) not in own:
                own[voice.group(1)] = str(FIRST_VOICE.get(staff_number, 1) + len(own))
            return text.replace(voice.group(0), f"<voice>{own[voice.group(1)]}</voice>", 1)

        return re.sub(r"<(note|forward)\b.*?</\1>", element, match.group(0), flags=re.S)

    return re.sub(r"<measure\b.*?</measure>", measure, xml, flags=re.S)


def write_midi(score, path: str | Path, *, force: bool = True) -> Path:
    """Write ``score`` as a standard MIDI file, one track per staff, with its tempo."""
    return write_atomic(Path(path), lambda tmp: score.write("midi", fp=tmp), force=force)
