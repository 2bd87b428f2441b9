"""Writing events as a music21 score: one piano on a braced grand staff.

One of the few modules that know music21. Each event becomes one note, chord or rest of its
duration; music21 makes the measures, ties across barlines and beams. Pitches are spelled for the
key and by context (``spelling.py``): notes of the scale (and the leading tone of a minor key)
take the scale's names, a chromatic note is a sharp when it rises and a flat when it falls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from ..errors import BadArgumentError
from .events import CLEFS, Event, bar_length
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
    spelled_as: Mapping[str, Sequence[Event]] | None = None,
    fermatas: Sequence[Fraction] = (),
    names: Mapping[tuple[Fraction, int], str] | None = None,
):
    """A music21 Score with one piano part on a braced treble + bass grand staff.

    ``spelled_as``: other staves of the same notes (the staves as sampled, when ``staves``
    shares them between the hands differently) whose voices name each note: a note keeps
    the name it has there, so that moving it to the other staff never respells it.
    ``fermatas``: onsets (quarters from the start) where a phrase ends; every note or chord
    struck there carries a fermata. ``names``: music21 names (without octave) that notes keep
    whatever their voices say, by (the time a note is struck, its MIDI number).

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
    by_note = {**(_names_by_note(spelled_as, key) if spelled_as is not None else {}),
               **(names or {})} or None
    lead = opening_silence(staves, bar_length(time_signature))
    parts = []
    for clef_name in CLEFS:
        part = _staff(staves.get(clef_name, ()), clef_name, key, time_signature, by_note,
                      fermatas)
        if lead:
            _as_pickup(part, lead)
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


def pickup_length(staves: Mapping[str, Sequence[Event]], bar: Fraction) -> Fraction:
    """The pickup's length in quarters: what is left of the first bar after the silence every
    staff opens with (0 without a pickup).

    >>> from fractions import Fraction as F
    >>> pickup_length({"treble": [Event((), F(3)), Event((72,), F(1))]}, F(4))
    Fraction(1, 1)
    """
    lead = opening_silence(staves, bar)
    return bar - lead if lead else Fraction(0)


def pickup_meter(length: Fraction, time_signature: str) -> str | None:
    """A time signature one bar of which lasts ``length`` quarters, in the denominator of
    ``time_signature`` where it can be (``None`` where no power of two up to 32 gives one).

    >>> pickup_meter(Fraction(1), "4/4"), pickup_meter(Fraction(3, 2), "6/8")
    ('1/4', '3/8')
    >>> pickup_meter(Fraction(1, 3), "4/4") is None
    True
    """
    denominator = int(time_signature.split("/")[1])
    for below in sorted({denominator, 8, 16, 32}):
        count = length * below / 4
        if below >= denominator and count.denominator == 1 and count > 0:
            return f"{count.numerator}/{below}"
    return None


def opening_silence(staves: Mapping[str, Sequence[Event]], bar: Fraction) -> Fraction:
    """The silence every staff opens with, when it is shorter than a bar: the notes after it
    are a pickup (0 when a staff sounds at once or a whole bar is silent).

    >>> from fractions import Fraction as F
    >>> opening_silence({"treble": [Event((), F(3)), Event((72,), F(1))],
    ...                  "bass": [Event((), F(2)), Event((48,), F(2))]}, F(4))
    Fraction(2, 1)
    """
    leads = []
    for events in staves.values():
        lead = Fraction(0)
        for event in events:  # one rest or several (three beats and an eighth)
            if not event.is_rest:
                break
            lead += Fraction(event.duration)
        leads.append(lead)
    lead = min(leads, default=Fraction(0))
    return lead if 0 < lead < bar else Fraction(0)


def _as_pickup(part, lead: Fraction) -> None:
    """Write ``part``'s first bar as a pickup (an anacrusis): its first ``lead`` quarters,
    silent in every staff, are left out, and the bars after it are numbered from 1."""
    from music21 import note, stream

    measures = list(part.getElementsByClass(stream.Measure))
    first = measures[0]
    for holder in [first, *first.voices]:
        for element in list(holder.notesAndRests):
            start = Fraction(element.offset).limit_denominator(10_000)
            end = start + Fraction(element.quarterLength).limit_denominator(10_000)
            if start >= lead:
                holder.setElementOffset(element, start - lead)
                continue
            holder.remove(element)  # a rest: the silence is common to every staff
            if end > lead:
                rest = note.Rest(quarterLength=end - lead)
                rest.style.hideObjectOnPrint = element.style.hideObjectOnPrint
                holder.insert(0, rest)
    first.paddingLeft = lead
    first.showNumber = stream.enums.ShowNumber.NEVER  # MusicXML's implicit="yes"
    for number, measure in enumerate(measures):
        measure.number = number
        if number:
            part.setElementOffset(measure, measure.offset - lead)


def _names_by_note(staves: Mapping[str, Sequence[Event]], key: Key) -> dict:
    """Each note's name, by (the time it is struck, its MIDI number), spelled staff by staff."""
    names = {}
    for events in staves.values():
        spelled = spell_staff([e.pitches for e in events], key, held=[e.held for e in events])
        for (start, pitch), name in zip(_strikes(events), (n for e in spelled for n in e)):
            names.setdefault((start, pitch), name)
    return names


def _strikes(events: Sequence[Event]) -> list[tuple[Fraction, int]]:
    """For every pitch of every event, in order: (when its note was struck, the pitch)."""
    found, struck, time = [], {}, Fraction(0)
    for event in events:
        now = {p: struck.get(p, time) if p in event.held else time for p in event.pitches}
        found.extend((now[p], p) for p in event.pitches)
        struck, time = now, time + event.duration
    return found


def _staff(events: Sequence[Event], clef_name: str, key: Key, time_signature: str,
           by_note: Mapping[tuple[Fraction, int], str] | None = None,
           fermatas: Sequence[Fraction] = ()):
    from music21 import chord, clef, instrument, meter, note, stream, tie

    part = stream.PartStaff(id=clef_name)
    part.partName = "Piano"
    piano = instrument.Piano()
    piano.partId, piano.instrumentId = "P1", "P1-I1"  # fixed ids: the same piece, the same file
    part.insert(0, piano)
    part.insert(0, clef.TrebleClef() if clef_name == "treble" else clef.BassClef())
    part.insert(0, key.to_music21())
    part.insert(0, meter.TimeSignature(time_signature))
    offset = Fraction(0)
    events = [Event(tuple(sorted(e.pitches)), e.duration, e.held) for e in events]
    spelled = spell_staff([event.pitches for event in events], key,
                          held=[event.held for event in events])
    if by_note:
        strikes = iter(_strikes(events))
        spelled = [[by_note.get(next(strikes), own) for own in event_names]
                   for event_names in spelled]
    beat, bar = compound_beat(time_signature), bar_length(time_signature)
    held_at = {Fraction(f) for f in fermatas}
    for number, (event, names) in enumerate(zip(events, spelled)):
        segments = beat_segments(offset, Fraction(event.duration), beat, bar)
        to_bar = bar - offset % bar
        if offset in held_at and not event.is_rest and segments[0] > to_bar:
            # cut at the barline here: music21 would move the fermata to the last piece
            segments = [to_bar, segments[0] - to_bar, *segments[1:]]
        following = events[number + 1].held if number + 1 < len(events) else ()
        for index, length in enumerate(segments):
            if event.is_rest:
                element = note.Rest()
            elif len(event.pitches) == 1:
                element = note.Note(_pitch(event.pitches[0], names[0]))
            else:
                element = chord.Chord([_pitch(p, n) for p, n in zip(event.pitches, names)])
            element.duration.quarterLength = length
            if index == 0 and offset in held_at and not event.is_rest:
                element.expressions.append(_fermata("upright" if clef_name == "treble"
                                                    else "inverted"))
            members = [] if event.is_rest else (
                [element] if len(event.pitches) == 1 else list(element.notes))
            for pitch, member in zip(event.pitches, members):
                tied_in = index > 0 or pitch in event.held
                tied_on = index < len(segments) - 1 or pitch in following
                kind = _TIES.get((tied_in, tied_on))
                if kind:
                    member.tie = tie.Tie(kind)
            part.insert(offset, element)
            offset += length
    part.makeNotation(inPlace=True)
    for measure in part.getElementsByClass(stream.Measure):
        if _holds_under_motion(measure):
            _two_voices(measure, VOICES[clef_name], beat, bar, STAFF_SPLITS_TRIED[clef_name])
    return part


#: MusicXML voice numbers of the upper and lower voice of each staff. The grand staff is one
#: MusicXML part, where music21 numbers a one-voice treble 1 and a one-voice bass 2; the upper
#: voices keep those numbers so that a voice never changes staff.
VOICES = {"treble": ("1", "3"), "bass": ("2", "4")}


def _members(element) -> list:
    return list(element.notes) if element.isChord else [element]


def _holds_under_motion(measure) -> bool:
    """True if some chord of ``measure`` ties some of its notes and not others: a held voice
    under (or over) a moving one."""
    for element in measure.notes:
        ties = {m.tie.type if m.tie is not None else None for m in _members(element)}
        if element.isChord and len(ties) > 1:
            return True
    return False


#: How a staff's chords part into two voices: "top" alone in the upper voice (the soprano over
#: the rest), or "bottom" alone in the lower (the bass under the rest).
SPLITS = ("top", "bottom")
#: The splits each staff tries in a measure where a note holds while another moves, the first
#: kept unless another needs fewer ties: the right hand's melody stems up on its own, the left
#: hand's bass stems down on its own where that writes fewer ties (a tenor held over a bass in
#: eighths is a voice of its own).
STAFF_SPLITS_TRIED = {"treble": ("top",), "bass": ("top", "bottom")}


def _two_voices(measure, ids: tuple[str, str], beat: Fraction | None, bar: Fraction,
                splits: Sequence[str] = ("top",)) -> None:
    """Write ``measure`` as two voices, parting every chord by the first of ``splits`` (see
    :data:`SPLITS`) unless another writes fewer ties: the upper voice stems up, the lower
    down, and in each voice notes tied to one another are joined where one note can be
    written without hiding a compound ``beat``. A note or chord tied to the other voice by the
    note that would stand alone stays wholly in that voice (:func:`_held_over`), so that no
    tie joins two voices; the voice it leaves rests there (a visible rest over, a hidden one
    under). A fermata stands over the upper voice and, inverted, under the lower."""
    elements = list(measure.notesAndRests)
    written = [_voices(elements, ids, beat, bar, split) for split in splits]
    upper, lower = min(written, key=lambda voices: sum(_arcs(v.notes) for v in voices))
    for element in elements:
        measure.remove(element)
    for voice, stem in ((upper, "up"), (lower, "down")):
        for element in voice.notes:
            element.stemDirection = stem
        measure.insert(0, voice)
    measure.makeBeams(inPlace=True)


def _voices(elements, ids: tuple[str, str], beat: Fraction | None, bar: Fraction, split: str):
    """The upper and lower voice of a measure's ``elements`` parted by ``split`` (one of
    :data:`SPLITS`)."""
    from music21 import expressions, note, stream

    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    moved = _held_over(elements, split)
    upper, lower = stream.Voice(id=ids[0]), stream.Voice(id=ids[1])
    for index, element in enumerate(elements):
        offset, length = element.offset, element.duration.quarterLength
        if element.isRest:
            upper.insert(offset, note.Rest(quarterLength=length))
            lower.insert(offset, _hidden_rest(length))
            continue
        members = sorted(_members(element), key=lambda m: m.pitch.midi)
        over, under = _parted(members, split)
        if index in moved:  # wholly in the voice its lone note is tied to
            over, under = (members, []) if split == "bottom" else ([], members)
        held = any(isinstance(e, expressions.Fermata) for e in element.expressions)
        if over:
            top = _copied(over, length)
            if held:
                top.expressions.append(_fermata("upright"))
            upper.insert(offset, top)
        else:
            upper.insert(offset, note.Rest(quarterLength=length))
        if under:
            bottom = _copied(under, length)
            if held and over:
                bottom.expressions.append(_fermata("inverted"))
            lower.insert(offset, bottom)
        else:
            lower.insert(offset, _hidden_rest(length))
    for voice in (upper, lower):
        _join_whole_ties(voice, beat, bar)
    return upper, lower


def _parted(members: Sequence, split: str) -> tuple[list, list]:
    """``members`` (a chord's notes, low to high) as (upper voice, lower voice) by ``split``;
    a lone note is the voice that stands alone."""
    if split == "bottom":
        return list(members[1:]), list(members[:1])
    return list(members[-1:]), list(members[:-1])


def _arcs(notes) -> int:
    """The ties a reader sees among ``notes`` (music21 notes and chords): every member whose
    tie starts or continues."""
    return sum(1 for element in notes for member in _members(element)
               if member.tie is not None and member.tie.type in ("start", "continue"))


def _copied(members: Sequence, length: float):
    """A new note (one member) or chord (several) of ``length`` with the members' pitches and
    ties, for a voice of its own."""
    import copy

    from music21 import chord, note

    made = []
    for member in members:
        one = note.Note(copy.deepcopy(member.pitch), quarterLength=length)
        one.tie = copy.deepcopy(member.tie)
        made.append(one)
    return made[0] if len(made) == 1 else chord.Chord(made)


def _held_over(elements, split: str = "top") -> set[int]:
    """The indices of the notes and chords among ``elements`` (a measure's notes, chords and
    rests in order) that belong wholly in the other voice than ``split`` gives their lone
    note (the top one, or the bottom one: see :data:`SPLITS`): those whose lone note is tied
    from or into a note of the other voice beside them, and tied to no note of its own voice
    (nor marked with a fermata). A held tenor keeps its voice when the note over it stops:
    the upper voice rests, and no tie joins two voices.

    >>> from music21 import chord, note, tie
    >>> held = note.Note("B3", quarterLength=0.5)
    >>> held.tie = tie.Tie("start")
    >>> under = chord.Chord(["B3", "G4"], quarterLength=0.5)
    >>> under.notes[0].tie = tie.Tie("stop")
    >>> sorted(_held_over([held, under]))
    [0]
    """
    from music21 import expressions

    moved: set[int] = set()

    def voices_of(index: int) -> tuple[set[int], set[int]]:  # (lone voice, other) MIDI numbers
        element = elements[index]
        if element.isRest:
            return set(), set()
        midis = sorted(m.pitch.midi for m in _members(element))
        if index in moved:
            return set(), set(midis)
        over, under = _parted(midis, split)
        return (set(under), set(over)) if split == "bottom" else (set(over), set(under))

    changed = True
    while changed:  # a chain of held notes takes its voice from the chord it meets
        changed = False
        for index, element in enumerate(elements):
            if element.isRest or index in moved or any(
                    isinstance(e, expressions.Fermata) for e in element.expressions):
                continue
            pick = min if split == "bottom" else max
            lone = pick(_members(element), key=lambda m: m.pitch.midi)
            kind = lone.tie.type if lone.tie is not None else None
            linked = ([index - 1] if kind in ("stop", "continue") and index > 0 else []) + (
                [index + 1] if kind in ("start", "continue") and index + 1 < len(elements)
                else [])
            sides = [voices_of(j) for j in linked]
            midi = lone.pitch.midi
            if any(midi in other for _, other in sides) and not any(
                    midi in own for own, _ in sides):
                moved.add(index)
                changed = True
    return moved


def _join_whole_ties(voice, beat: Fraction | None, bar: Fraction) -> None:
    """Join each note or chord to the one before when every note of it continues a note of
    that one (music21's ``stripTies`` would also join a chord whose notes are only partly
    tied), unless the joined note would start inside a compound ``beat`` and cross the next
    (see :func:`beat_segments`), or it carries a fermata: a phrase end on a held chord keeps
    its own note, tied over."""
    from music21 import expressions, tie

    before = None
    for element in list(voice.notesAndRests):
        joined = (Fraction(before.quarterLength) + Fraction(element.quarterLength)
                  if before is not None else None)
        marked = any(isinstance(e, expressions.Fermata) for e in element.expressions)
        if before is not None and not marked and not element.isRest and not before.isRest and len(
                beat_segments(Fraction(before.offset), joined, beat, bar)) == 1 and sorted(
                m.pitch.midi for m in _members(element)) == sorted(
                m.pitch.midi for m in _members(before)) and all(
                m.tie is not None and m.tie.type in ("start", "continue")
                for m in _members(before)):
            ties_on = {m.pitch.midi: m.tie is not None and m.tie.type in ("start", "continue")
                       for m in _members(element)}
            before.quarterLength += element.quarterLength
            for member in _members(before):
                tied_in = member.tie.type == "continue"
                kind = _TIES.get((tied_in, ties_on[member.pitch.midi]))
                member.tie = tie.Tie(kind) if kind else None
            voice.remove(element)
            continue
        before = element


def _fermata(kind: str):
    """A fermata, ``"upright"`` (over the notes) or ``"inverted"`` (under them)."""
    from music21 import expressions

    made = expressions.Fermata()
    made.type = kind
    return made


def _hidden_rest(length):
    from music21 import note

    rest = note.Rest(quarterLength=length)
    rest.style.hideObjectOnPrint = True
    return rest


#: A note's tie by whether it continues one from before and whether it goes on.
_TIES = {(False, True): "start", (True, False): "stop", (True, True): "continue"}


def build_performance(
    staves: Mapping[str, Sequence[Event]],
    *,
    key: Key | None = None,
    time_signature: str = "4/4",
    tempo: float | None = None,
    fermatas: Sequence[Fraction] = (),
):
    """A music21 Score of what is heard, for MIDI: one part per staff, each held pitch one
    sustained note (a MIDI file has no ties, and music21 joins only ties of whole chords).
    A pickup sounds at once: the silence before it is left out, and its bar is written in a
    meter of its own (``1/4`` before ``4/4``), as :func:`~grandstaff.music.reading.meter_and_pickup`
    reads it back.
    Under a fermata (``fermatas``: onsets in quarters) the tempo eases to
    :data:`FERMATA_TEMPO` of itself until the next onset of either staff, as a player holds
    it; where the notes fall, in quarters, stays the same.

    >>> from fractions import Fraction
    >>> staves = {"treble": [Event((60, 64), Fraction(1)), Event((60, 65), Fraction(1), (60,))],
    ...           "bass": [Event((), Fraction(2))]}
    >>> [(n.offset, n.quarterLength, n.pitch.midi)
    ...  for n in build_performance(staves).parts[0].flatten().notes]
    [(0.0, 2.0, 60), (0.0, 1.0, 64), (1.0, 1.0, 65)]
    """
    from music21 import instrument, meter, note, stream
    from music21 import tempo as m21tempo

    bar = bar_length(time_signature)
    pickup = pickup_length(staves, bar)
    opening = pickup_meter(pickup, time_signature) if pickup else None
    lead = bar - pickup if opening else Fraction(0)
    score = stream.Score()
    for clef_name in CLEFS:
        part = stream.Part(id=clef_name)
        part.insert(0, instrument.Piano())
        part.insert(0, (key or Key("C", "major")).to_music21())
        part.insert(0, meter.TimeSignature(opening or time_signature))
        if opening:  # the pickup is a short bar of its own, then the piece's meter
            part.insert(bar - lead, meter.TimeSignature(time_signature))
        if clef_name == "treble" and tempo is not None:
            part.insert(0, m21tempo.MetronomeMark(number=tempo))
            for start, end in fermata_spans(staves, fermatas):
                part.insert(start - lead, m21tempo.MetronomeMark(number=tempo * FERMATA_TEMPO))
                part.insert(end - lead, m21tempo.MetronomeMark(number=tempo))
        offset, sounding = -lead, {}
        for event in staves.get(clef_name, ()):
            following = {}
            for pitch in event.pitches:
                held = sounding.get(pitch) if pitch in event.held else None
                if held is None:
                    held = note.Note(midi=pitch, quarterLength=event.duration)
                    part.insert(offset, held)
                else:
                    held.quarterLength += event.duration
                following[pitch] = held
            sounding = following
            offset += event.duration
        score.insert(0, part)
    return score


#: The share of the tempo a fermata's chord is played at (it lasts half as long again).
FERMATA_TEMPO = 2 / 3


def fermata_spans(staves: Mapping[str, Sequence[Event]],
                  fermatas: Sequence[Fraction]) -> list[tuple[Fraction, Fraction]]:
    """(start, end) of every fermata that a note is struck on: from its onset to the next
    onset of either staff (or the end of the piece).

    >>> from fractions import Fraction as F
    >>> staves = {"treble": [Event((72,), F(2)), Event((71,), F(2))],
    ...           "bass": [Event((48,), F(3)), Event((43,), F(1))]}
    >>> fermata_spans(staves, [F(0), F(2), F(1)])
    [(Fraction(0, 1), Fraction(2, 1)), (Fraction(2, 1), Fraction(3, 1))]
    """
    onsets, struck, end = set(), set(), Fraction(0)
    for events in staves.values():
        at = Fraction(0)
        for event in events:
            onsets.add(at)
            if not event.is_rest:
                struck.add(at)
            at += event.duration
        end = max(end, at)
    ordered = sorted(onsets | {end})
    spans = []
    for start in sorted({Fraction(f) for f in fermatas} & struck):
        spans.append((start, next(t for t in ordered if t > start)))
    return spans


def analysed_mode(staves: Mapping[str, Sequence[Event]]) -> str:
    """The mode music21's key analysis (Krumhansl–Schmuckler) hears in both staves: "major" or
    "minor".

    It weighs each pitch class by how long it sounds, so a flat stream of one note per sounding
    pitch of each event (held pitches included) gives it what the notated score would, in a
    fraction of the time: no voices, beams, ties or spelling are made (a music21 Chord built
    from numbers would search for its best spelling, which costs more than the analysis).

    >>> from fractions import Fraction as F
    >>> analysed_mode({"treble": [Event((69, 72, 76), F(4))], "bass": [Event((45,), F(4))]})
    'minor'
    """
    from music21 import note, stream

    flat = stream.Stream()
    for clef in CLEFS:
        offset = Fraction(0)
        for event in staves[clef]:
            for midi in event.pitches:
                flat.insert(offset, note.Note(midi, quarterLength=event.duration))
            offset += event.duration
    return "minor" if flat.analyze("key").mode == "minor" else "major"


def ties_per_bar(score) -> dict[str, float]:
    """The ties a reader sees on each staff of ``score`` (a :func:`build_score` result), per
    bar: every arc from a note to the next, whether it crosses a beat, a barline or joins a
    held voice to a moving one.

    >>> from fractions import Fraction as F
    >>> staves = {"treble": [Event((72,), F(6)), Event((71,), F(2))],
    ...           "bass": [Event((48,), F(2)), Event((43,), F(6))]}
    >>> ties_per_bar(build_score(staves))
    {'treble': 0.5, 'bass': 0.5}
    """
    from music21 import stream

    found = {}
    for clef_name, part in zip(CLEFS, score.parts):
        bars = len(part.getElementsByClass(stream.Measure)) or 1
        found[clef_name] = _arcs(part.recurse().notes) / bars
    return found


def compound_beat(time_signature: str) -> Fraction | None:
    """The dotted beat of a compound meter (6/8, 9/8, 12/8, 6/16...) in quarters, else None.

    >>> compound_beat("6/8"), compound_beat("3/4")
    (Fraction(3, 2), None)
    """
    try:
        numerator, denominator = (int(part) for part in time_signature.split("/"))
    except ValueError:
        return None
    if numerator % 3 or numerator < 6 or denominator < 8:
        return None
    return Fraction(3 * 4, denominator)


def beat_segments(start: Fraction, length: Fraction, beat: Fraction | None,
                  bar: Fraction) -> list[Fraction]:
    """``length`` cut where a note that starts off the beat crosses the next beat, so that a
    compound meter shows its beats (a quarter on the third eighth of 6/8 becomes two tied
    eighths). Without a compound beat nothing is cut; barlines are music21's to handle.

    >>> beat_segments(Fraction(1), Fraction(1), Fraction(3, 2), Fraction(3))
    [Fraction(1, 2), Fraction(1, 2)]
    """
    within = (start % bar) % beat if beat else 0
    if not within or start + length <= start + beat - within:
        return [length]
    first = beat - within
    return [first, length - first]


def _pitch(midi: int, name: str):
    from music21 import pitch

    result = pitch.Pitch(name)
    result.octave = 4
    result.octave += (midi - result.midi) // 12
    if result.midi != midi:  # cannot happen for a valid spelling table; keep the sound exact
        result = pitch.Pitch(midi=midi)
    return result
