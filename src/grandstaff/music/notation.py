"""Writing events as a music21 score: one piano on a braced grand staff.

One of the few modules that know music21. Each event becomes one note, chord or rest of its
duration; music21 makes the measures, ties across barlines and beams. Pitches are spelled for the
key and by context (``spelling.py``): notes of the scale (and the leading tone of a minor key)
take the scale's names, a chromatic note is a sharp when it rises and a flat when it falls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import BadArgumentError
from .events import CLEFS, Event
from .keys import Key
from .spelling import spell_staff

DEFAULT_COMPOSER = "grandstaff"


def build_score(
    staves: Mapping[str, Sequence[Event]],
    *,
    key: Key | None = None,
    time_signature: str = "4/4",
    tempo: float | None = None,
    title: str | None = None,
    composer: str | None = None,
):
    """A music21 Score with one piano part on a braced treble + bass grand staff.

    >>> from fractions import Fraction
    >>> staves = {"treble": [Event((60, 64), Fraction(4))], "bass": [Event((), Fraction(4))]}
    >>> len(build_score(staves).parts)
    2
    """
    from music21 import layout, metadata, meter, stream
    from music21 import tempo as m21tempo

    key = key or Key("C", "major")
    try:
        meter.TimeSignature(time_signature)
    except Exception:
        raise BadArgumentError(
            f"time signature {time_signature!r} is not valid; use a fraction like 3/4 or 6/8"
        ) from None
    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.movementName = title or "Untitled"  # one title: work-title too would repeat it
    score.metadata.composer = composer or DEFAULT_COMPOSER
    parts = []
    for clef_name in CLEFS:
        part = _staff(staves.get(clef_name, ()), clef_name, key, time_signature)
        if clef_name == "treble" and tempo is not None:
            first = part.getElementsByClass(stream.Measure).first()
            mark = m21tempo.MetronomeMark(number=tempo)
            mark.placement = "above"  # over the treble staff, where pianists read the tempo
            first.insert(0, mark)
        parts.append(part)
        score.insert(0, part)
    group = layout.StaffGroup(parts, name="Piano", abbreviation="Pno.", symbol="brace")
    group.barTogether = True
    score.insert(0, group)
    return score


def _staff(events: Sequence[Event], clef_name: str, key: Key, time_signature: str):
    from music21 import chord, clef, instrument, meter, note, stream

    part = stream.PartStaff(id=clef_name)
    part.partName = "Piano"
    piano = instrument.Piano()
    piano.partId, piano.instrumentId = "P1", "P1-I1"  # fixed ids: the same piece, the same file
    part.insert(0, piano)
    part.insert(0, clef.TrebleClef() if clef_name == "treble" else clef.BassClef())
    part.insert(0, key.to_music21())
    part.insert(0, meter.TimeSignature(time_signature))
    offset = 0
    spelled = spell_staff([event.pitches for event in events], key)
    for event, names in zip(events, spelled):
        if event.is_rest:
            element = note.Rest()
        elif len(event.pitches) == 1:
            element = note.Note(_pitch(event.pitches[0], names[0]))
        else:
            element = chord.Chord([_pitch(p, n) for p, n in zip(event.pitches, names)])
        element.duration.quarterLength = event.duration
        part.insert(offset, element)
        offset += event.duration
    part.makeNotation(inPlace=True)
    return part


def _pitch(midi: int, name: str):
    from music21 import pitch

    result = pitch.Pitch(name)
    result.octave = 4
    result.octave += (midi - result.midi) // 12
    if result.midi != midi:  # cannot happen for a valid spelling table; keep the sound exact
        result = pitch.Pitch(midi=midi)
    return result
