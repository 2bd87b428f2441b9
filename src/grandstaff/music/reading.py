"""Reading music with music21: parse a file, split it into the two staves of a grand staff,
normalise its key, and turn each staff into events.

This is one of the few modules that know music21. What leaves it is the package's own
:class:`ReadPiece`: two lists of :class:`~grandstaff.music.events.Event` plus metadata.
The staff-split and key rules are documented in ``docs/tokens.md``.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import BadInputError
from .events import (
    CLEFS,
    DURATION_GRID,
    LONGEST,
    Event,
    bar_length,
    snap_duration,
    split_silence,
)

#: File suffixes grandstaff reads.
SUFFIXES: tuple[str, ...] = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn", ".abc")
MIDI_SUFFIXES = (".mid", ".midi")
#: MIDI is quantised to 1/24 of a quarter on reading (a grid that holds 32nds and 16th triplets).
MIDI_DIVISORS = (24,)
#: Pitch that splits a one-staff keyboard part: this MIDI number and above go to the treble staff.
SPLIT_PITCH = 60
#: Onsets closer than this to the previous written onset are merged into it.
MIN_GAP = Fraction(1, 16)
#: Limits checked before the slow work starts: a piece may last this many quarter notes, a MIDI
#: file hold this many notes, and a compressed MusicXML (.mxl) unzip to this many bytes.
MAX_QUARTERS = 10_000
MAX_NOTES = 50_000
MAX_UNZIPPED = 64 * 2**20
_TARGET_TONIC = {"major": 0, "minor": 9}  # C major, A minor
_MINOR_LIKE = {"minor", "dorian", "phrygian", "aeolian", "locrian"}
_VOICES = ("soprano", "alto", "tenor", "bass")

Note = tuple[Fraction, Fraction, int]  # start, end, MIDI number


@dataclass
class ReadPiece:
    """One piece read from a file: the events of each clef, transposed, and what it was."""

    name: str
    source: str
    staves: dict[str, list[Event]]
    key: str  # the original key, e.g. "G major"
    mode: str  # "major" or "minor"
    shift: int  # semitones applied to reach C major / A minor
    time_signature: str
    tempo: float | None
    title: str
    snaps: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    #: Where phrases end: the onsets (in quarters, on the events' time line) of the notes
    #: that carry a fermata on any staff; ``None`` where the file marks none (unknown, not
    #: "no phrase end": most MIDI files).
    fermatas: tuple[Fraction, ...] | None = None


def parse_file(path: Path):
    """Parse ``path`` with music21 (MIDI quantised to 1/24 of a quarter)."""
    from music21 import converter

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInputError(
            f"unsupported file type {suffix or '(none)'}; grandstaff reads {' '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise BadInputError("not a readable file")
    if path.stat().st_size == 0:
        raise BadInputError("empty file")
    if suffix == ".mxl":
        _check_archive(path)
    elif suffix in MIDI_SUFFIXES:
        tracks = _read_midi(path)
    try:
        if suffix in MIDI_SUFFIXES:
            parsed = converter.parse(path, quarterLengthDivisors=MIDI_DIVISORS,
                                     forceSource=True)
        elif suffix == ".abc":
            parsed = parse_abc(path.read_text(encoding="utf-8"))
        else:
            parsed = converter.parse(path, forceSource=True)
    except MemoryError:
        raise
    except Exception as exc:  # music21 raises many kinds; every one means "unreadable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(f"unreadable ({type(exc).__name__}: {reason[:120]})") from None
    length = max((float(s.highestTime) for s in getattr(parsed, "scores", [parsed])),
                 default=0.0)
    if length > MAX_QUARTERS:
        raise BadInputError(_too_long(length))
    if suffix in MIDI_SUFFIXES:
        parts = list(parsed.parts)
        if len(parts) == len(tracks):  # one part per track with notes, in order
            for part, notes in zip(parts, tracks):
                part._grandstaff_notes = notes
    return parsed


def parse_abc(text: str):
    """ABC ``text`` (one tune or a book of them) parsed by music21 as ABC 2.1 (see
    :func:`abc_standard`), each tune whose K: field names only a tonic marked so that
    :func:`find_key` takes its mode from its notes."""
    from music21 import converter, stream

    text = abc_standard(text)
    parsed = converter.parse(text, format="abc", forceSource=True)
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    tunes = re.split(r"^X:", text, flags=re.MULTILINE)[1:] or [text]
    by_number = {tune.split("\n", 1)[0].strip(): tune for tune in tunes}
    for index, score in enumerate(scores):
        number = score.metadata.number if score.metadata is not None else None
        # each score to its own tune by its X: number; by order where numbers repeat or lack
        tune = (by_number.get(str(number).strip()) if len(by_number) == len(tunes) else None)
        if tune is None and len(tunes) == len(scores):
            tune = tunes[index]
        if tune is not None:
            score.grandstaff_bare_tonic = _bare_abc_tonic(tune)
    return parsed


def abc_standard(text: str) -> str:
    r"""ABC ``text`` marked as ABC 2.1 unless it names its version: music21 carries an
    accidental to the notes of the same pitch later in the bar (ABC 2.1's default, and
    how a musician reads it) only in a file that declares 2.0 or later, and reads the
    rest as 1.3, where ``_B2 B2`` is B♭ then B♮ (the Essen "Hildebrandslied" in music21's
    corpus came out chromatic).

    >>> abc_standard("X:1\nK:G\n_B2B2|").splitlines()[0]
    '%abc-2.1'
    >>> abc_standard("%abc-1.6\nX:1\nK:G\nB|").splitlines()[0]
    '%abc-1.6'
    """
    if re.search(r"%abc-\d", text[:100]):  # where music21 looks for it
        return text
    return "%abc-2.1\n" + text


def _too_long(quarters: float) -> str:
    return (f"too long: {quarters:,.0f} quarter notes, more than the {MAX_QUARTERS:,} a piece "
            "may last")


def _check_archive(path: Path) -> None:
    """Refuse a .mxl whose members would unzip to more than :data:`MAX_UNZIPPED` bytes.

    Python's zipfile never returns more than a member's declared size, so the declared sizes
    bound what music21 can unpack.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInputError(f"unreadable (not a valid .mxl archive: {exc})") from None
    if total > MAX_UNZIPPED:
        raise BadInputError(f"unzips to {total / 2**20:,.0f} MB, more than the "
                            f"{MAX_UNZIPPED // 2**20} MB a score may take")


def _read_midi(path: Path) -> list[list[Note]]:
    """The pitched notes of each MIDI track that has notes, quantised to 1/24 of a quarter.

    Read from the MIDI events themselves: music21's conversion to a score splits notes that
    overlap notes of other lengths into voices and misplaces them across barlines. Refuses a
    file that lasts more than :data:`MAX_QUARTERS` quarter notes or holds more than
    :data:`MAX_NOTES` notes, before any score is made. Channel 10 (drums) is not pitched.
    """
    from music21 import midi

    handle = midi.MidiFile()
    try:
        handle.open(str(path))
        handle.read()
    except Exception as exc:  # music21's MIDI reader raises many kinds
        raise BadInputError(f"unreadable (MIDI: {str(exc)[:120] or type(exc).__name__})") \
            from None
    finally:
        handle.close()
    per_quarter = handle.ticksPerQuarterNote
    if not per_quarter or per_quarter <= 0:
        raise BadInputError("unreadable (MIDI: SMPTE timing is not supported)")
    step = Fraction(1, MIDI_DIVISORS[0])

    def quarters(tick: int) -> Fraction:
        return round(Fraction(tick, per_quarter) / step) * step

    tracks, count, ticks = [], 0, 0
    for track in handle.tracks:
        elapsed, found, struck = 0, [], False
        sounding: dict[tuple[int, int], list[int]] = {}
        for event in track.events:
            if isinstance(event, midi.DeltaTime):
                elapsed += event.time or 0
                continue
            if event.type not in (midi.ChannelVoiceMessages.NOTE_ON,
                                  midi.ChannelVoiceMessages.NOTE_OFF):
                continue
            voice = (event.channel, event.pitch)
            starts = sounding.setdefault(voice, [])
            if event.type == midi.ChannelVoiceMessages.NOTE_ON and event.velocity:
                count, struck = count + 1, True
                if count > MAX_NOTES:
                    raise BadInputError(f"too many notes: more than the {MAX_NOTES:,} a piece "
                                        "may hold")
                starts.append(elapsed)
            elif starts:
                found.append((starts.pop(0), elapsed, *voice))
        found += [(start, elapsed, *voice) for voice, starts in sounding.items()
                  for start in starts]
        ticks = max(ticks, elapsed)
        if struck:
            notes = [(quarters(a), quarters(b), pitch) for a, b, channel, pitch in found
                     if channel != 10]
            tracks.append(sorted(n for n in notes if n[1] > n[0]))
    if ticks / per_quarter > MAX_QUARTERS:
        raise BadInputError(_too_long(ticks / per_quarter))
    return tracks


def read_file(path: Path, *, bach: bool = False, transpose: bool = True) -> list[ReadPiece]:
    """Every piece in ``path`` (an ABC file may hold several), split and transposed."""
    from music21 import stream

    path = Path(path)
    parsed = parse_file(path)
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    pieces = []
    for number, score in enumerate(scores):
        name = path.stem if len(scores) == 1 else f"{path.stem}#{number + 1}"
        pieces.append(
            read_score(score, name=name, source=str(path), is_midi=_is_midi(path), bach=bach,
                       transpose=transpose)
        )
    if not pieces:
        raise BadInputError("holds no score")
    return pieces


def _is_midi(path: Path) -> bool:
    return path.suffix.lower() in MIDI_SUFFIXES


def read_score(
    score, *, name: str = "piece", source: str = "", is_midi: bool = False,
    bach: bool = False, transpose: bool = True,
) -> ReadPiece:
    """Split a music21 score into treble and bass events, transposed to C major / A minor."""
    notes = split_staves(score, is_midi=is_midi, bach=bach)
    if not any(notes.values()):
        if _has_unpitched(score):
            raise BadInputError("percussion only: no pitched notes")
        raise BadInputError("no notes")
    tonic, mode, key_name = find_key(score)
    shift = 0
    if transpose:
        shift = (_TARGET_TONIC[mode] - tonic) % 12
        if shift >= 6:
            shift -= 12
    time_signature, lead = meter_and_pickup(score)
    bar = bar_length(time_signature)
    if lead:
        notes = {c: [(s + lead, e + lead, p) for s, e, p in staff] for c, staff in notes.items()}
    last_note = max(e for staff in notes.values() for _, e, _ in staff)
    # A MIDI file keeps no silence after its last note, and music21's score of it may run on.
    written = Fraction(0) if is_midi else Fraction(score.highestTime).limit_denominator(10_000)
    end = lead + max(written, last_note - lead)
    end = bar * -(-end // bar)  # the last bar is completed with rest
    staves, snaps = {}, 0
    for clef in CLEFS:
        events, clef_snaps = events_from_notes(notes[clef], end)
        staves[clef] = [e.transposed(shift) for e in events]
        snaps += clef_snaps
    _check_range(staves, name)
    title = (score.metadata.bestTitle if score.metadata else None) or name
    return ReadPiece(
        name=name, source=source, staves=staves, key=key_name, mode=mode, shift=shift,
        time_signature=time_signature, tempo=_tempo(score), title=str(title),
        snaps=snaps, notes={c: len(notes[c]) for c in CLEFS},
        fermatas=fermata_onsets(score, lead, end),
    )


def fermata_onsets(score, lead: Fraction = Fraction(0),
                   end: Fraction | None = None) -> tuple[Fraction, ...] | None:
    """The onsets of every note or chord with a fermata, in any part, moved by ``lead`` (the
    rest that makes a pickup a whole bar) and before ``end``; ``None`` where there is none.

    >>> from music21 import corpus
    >>> fermata_onsets(corpus.parse("bach/bwv66.6"), Fraction(3))[:3]
    (Fraction(6, 1), Fraction(10, 1), Fraction(14, 1))
    """
    from music21 import expressions

    found = set()
    for part in score.parts:
        flat = part.flatten()
        for element in flat.notes:
            if any(isinstance(e, expressions.Fermata) for e in element.expressions):
                onset = Fraction(flat.elementOffset(element)).limit_denominator(10_000) + lead
                if end is None or onset < end:
                    found.add(onset)
    return tuple(sorted(found)) or None


def _check_range(staves: dict[str, list[Event]], name: str) -> None:
    for events in staves.values():
        for e in events:
            if any(not 0 <= p <= 127 for p in e.pitches):
                raise BadInputError(f"{name}: transposition moves a note outside MIDI 0..127")


def _has_unpitched(score) -> bool:
    from music21 import note, percussion

    return any(isinstance(n, (note.Unpitched, percussion.PercussionChord))
               for n in score.recurse().notes)


# --- staff split ---------------------------------------------------------------------------


def split_staves(score, *, is_midi: bool = False, bach: bool = False) -> dict[str, list[Note]]:
    """The notes of each staff of the grand staff, by the rules in ``docs/tokens.md``."""
    from music21 import layout, stream

    parts = [p for p in score.parts if _part_notes(p)]
    staves: dict[str, list[Note]] = {c: [] for c in CLEFS}
    if not parts:
        return staves
    if bach:
        voices = _satb(parts)
        for voice in voices[:2]:
            staves["treble"] += _part_notes(voice)
        for voice in voices[2:]:
            staves["bass"] += _part_notes(voice)
        return staves

    grouped: set[int] = set()
    for group in score.getElementsByClass(layout.StaffGroup):
        members = [p for p in group.getSpannedElements() if isinstance(p, stream.PartStaff)]
        if len(members) < 2:
            continue
        for index, member in enumerate(members):
            staves["treble" if index == 0 else "bass"] += _part_notes(member)
            grouped.add(id(member))
    rest = [p for p in parts if id(p) not in grouped]
    if not any(staves.values()) and not rest:
        return staves
    if not grouped and len(rest) == 1 and (is_midi or _is_keyboard(rest[0])):
        for start, end, pitch in _part_notes(rest[0]):
            staves["treble" if pitch >= SPLIT_PITCH else "bass"].append((start, end, pitch))
        return staves
    if not grouped and is_midi and len(rest) == 2:
        staves["treble"] += _part_notes(rest[0])
        staves["bass"] += _part_notes(rest[1])
        return staves
    for part in rest:
        staves[_clef_of(part)] += _part_notes(part)
    return staves


def _satb(parts: list) -> list:
    by_name = {}
    for part in parts:
        label = (part.partName or part.id or "").strip().lower()
        for voice in _VOICES:
            if label.startswith(voice) and voice not in by_name:
                by_name[voice] = part
    if len(by_name) == 4:
        return [by_name[v] for v in _VOICES]
    if len(parts) == 4:
        return parts
    raise BadInputError(f"not a four-voice chorale ({len(parts)} parts with notes)")


def _is_keyboard(part) -> bool:
    from music21 import instrument

    inst = part.getInstrument(returnDefault=False)
    return isinstance(inst, instrument.KeyboardInstrument)


def _clef_of(part) -> str:
    from music21 import clef as m21clef

    found = part.recurse().getElementsByClass(m21clef.Clef).first()
    if found is not None:
        sign = getattr(found, "sign", None)
        octave = getattr(found, "octaveChange", 0) or 0
        if sign == "G":
            return "treble" if octave >= 0 else "bass"
        if sign == "F":
            return "bass"
    pitches = sorted(p for _, _, p in _part_notes(part))
    return "treble" if pitches and pitches[len(pitches) // 2] >= SPLIT_PITCH else "bass"


def _part_notes(part) -> list[Note]:
    """(start, end, MIDI) of every pitched note of ``part``, ties joined, grace notes left out.

    Ties are joined pitch by pitch, so a chord in which only some notes are tied (a held voice
    under a moving one) keeps its held note as one note; music21's ``stripTies`` joins only
    whole chords.
    """
    cache = getattr(part, "_grandstaff_notes", None)
    if cache is not None:
        return cache
    from music21 import note, percussion

    flat = part.flatten()
    found: list[Note] = []
    open_ties: dict[int, int] = {}  # MIDI number -> index in found of a note whose tie goes on
    for element in flat.notes:
        if isinstance(element, (note.Unpitched, percussion.PercussionChord)):
            continue
        length = Fraction(element.quarterLength).limit_denominator(10_000)
        if length <= 0:
            continue
        start = Fraction(flat.elementOffset(element)).limit_denominator(10_000)
        members = element.notes if element.isChord else [element]
        for member in members:
            midi = int(member.pitch.midi)
            tie = member.tie.type if member.tie is not None else None
            earlier = open_ties.pop(midi, None)
            if (tie in ("stop", "continue") and earlier is not None
                    and found[earlier][1] == start):
                found[earlier] = (found[earlier][0], start + length, midi)
                index = earlier
            else:
                found.append((start, start + length, midi))
                index = len(found) - 1
            if tie in ("start", "continue"):
                open_ties[midi] = index
    part._grandstaff_notes = found
    return found


# --- notes to events -------------------------------------------------------------------------


def events_from_notes(notes: Iterable[Note], end: Fraction) -> tuple[list[Event], int]:
    """One event per onset (a time at which a note starts or ends): what sounds from it, what of
    that is held on from the event before, and the time to the next onset.

    A pitch is held when the note that sounds it began before this onset and sounded in the
    event before; a note struck again (even while another voice holds the same pitch) is
    struck. A silence or a sounding stretch that no one grid value writes is split exactly into
    grid values (:func:`~grandstaff.music.events.split_silence`): rest events for a silence,
    events held on from the first for a sound. The staff is filled with rest up to ``end``.
    Durations that no grid values add up to snap to the nearest grid value with the error
    carried forward (no drift); the second value counts the snaps.
    """
    notes = sorted(notes)
    onsets = sorted(_onsets(notes, end))
    sounding = _sounding_at(notes, onsets)
    events: list[Event] = []
    snaps = 0
    position = Fraction(0)
    struck: set[int] = set()  # pitches attacked since the last written event
    next_note = 0
    for index in range(len(onsets)):
        while next_note < len(notes) and notes[next_note][0] <= onsets[index]:
            struck.add(notes[next_note][2])
            next_note += 1
        following = onsets[index + 1] if index + 1 < len(onsets) else end
        gap = following - position
        if gap < MIN_GAP:
            snaps += 1
            continue
        pitches = sounding[index]
        before = set(events[-1].pitches) if events else set()
        held = tuple(p for p in pitches if p in before and p not in struck)
        struck = set()
        parts = split_silence(gap)  # exact: a sounding event goes on as held parts
        if parts is None:
            parts = []
            while gap > LONGEST and gap not in DURATION_GRID:
                parts.append(LONGEST)
                gap -= LONGEST
            duration, snapped = snap_duration(gap)
            snaps += snapped
            parts.append(duration)
        events.append(Event(pitches, parts[0], held))
        events.extend(Event(pitches, part, pitches) for part in parts[1:])
        position += sum(parts)
    return events, snaps


def _onsets(notes: list[Note], end: Fraction) -> set[Fraction]:
    """Every time at which what sounds changes: a note starts or a note ends."""
    onsets = {Fraction(0)} | {start for start, _, _ in notes} | {stop for _, stop, _ in notes}
    return {o for o in onsets if o < end}


def _sounding_at(notes: list[Note], onsets: list[Fraction]) -> list[tuple[int, ...]]:
    result = []
    active: list[tuple[Fraction, int]] = []  # (end, pitch) heap
    index = 0
    for onset in onsets:
        while index < len(notes) and notes[index][0] <= onset:
            heapq.heappush(active, (notes[index][1], notes[index][2]))
            index += 1
        while active and active[0][0] <= onset:
            heapq.heappop(active)
        result.append(tuple(sorted({pitch for _, pitch in active})))
    return result


# --- key, meter, tempo -------------------------------------------------------------------------


def find_key(score) -> tuple[int, str, str]:
    """(tonic pitch class, "major"/"minor", original key name) of ``score``.

    A key with a mode in the file wins; a bare key signature keeps its tonic family and takes
    the mode from music21's analysis; with neither, music21's analysis decides. An ABC tune
    whose K: field names only a tonic (:func:`parse_abc` marks it) keeps that tonic, and is
    minor where its notes fit minor clearly better.
    """
    from music21 import key as m21key

    found = score.recurse().getElementsByClass(m21key.KeySignature).first()
    if isinstance(found, m21key.Key) and getattr(score, "grandstaff_bare_tonic", False):
        mode = _fitting_mode(score, found.tonic.pitchClass)
        return found.tonic.pitchClass, mode, f"{found.tonic.name.replace('-', 'b')} {mode}"
    if isinstance(found, m21key.Key) and found.mode:
        mode = "minor" if found.mode in _MINOR_LIKE else "major"
        tonic = found.tonic if found.mode in ("major", "minor") else found.asKey(mode).tonic
        return tonic.pitchClass, mode, f"{tonic.name.replace('-', 'b')} {mode}"
    analysed = score.analyze("key")
    mode = "minor" if analysed.mode in _MINOR_LIKE else "major"
    tonic = found.asKey(mode).tonic if found is not None else analysed.tonic
    return tonic.pitchClass, mode, f"{tonic.name.replace('-', 'b')} {mode}"


def _time_signature(score) -> str:
    from music21 import meter

    found = score.recurse().getElementsByClass(meter.TimeSignature).first()
    return found.ratioString if found is not None else "4/4"


def meter_and_pickup(score) -> tuple[str, Fraction]:
    """The score's time signature and the rest that makes its opening pickup a whole bar (0
    without one). A pickup is a first measure that is padded on the left (MusicXML's
    implicit measure) or one bar of a shorter meter of its own, followed at its end by the
    piece's meter (a MIDI file, which has no padding: ``1/4`` then ``4/4`` is a one-beat
    pickup).

    >>> from music21 import meter, note, stream
    >>> part = stream.Part([meter.TimeSignature("1/4"), note.Note("G4")])
    >>> part.insert(1, meter.TimeSignature("3/4"))
    >>> part.insert(1, note.Note("C5", quarterLength=3))
    >>> meter_and_pickup(stream.Score([part]))
    ('3/4', Fraction(2, 1))
    """
    from music21 import meter

    first = score.parts[0] if hasattr(score, "parts") and len(score.parts) else score
    flat = first.flatten()
    signatures = sorted((Fraction(flat.elementOffset(ts)).limit_denominator(10_000),
                         ts.ratioString) for ts in flat.getElementsByClass(meter.TimeSignature))
    if len(signatures) >= 2 and signatures[0][0] == 0:
        (_, opening), (change, following) = signatures[:2]
        bar = bar_length(following)
        if bar_length(opening) == change < bar:
            return following, bar - change
    time_signature = _time_signature(score)
    return time_signature, _pickup_rest(score, bar_length(time_signature))


def _pickup_rest(score, bar: Fraction) -> Fraction:
    """The rest that turns an opening pickup measure into a whole bar (0 without a pickup)."""
    from music21 import stream

    for part in score.parts:
        first = part.getElementsByClass(stream.Measure).first()
        if first is not None:
            padding = Fraction(first.paddingLeft or 0).limit_denominator(10_000)
            if 0 < padding < bar:
                return padding
            return Fraction(0)
    return Fraction(0)


def _tempo(score) -> float | None:
    from music21 import tempo

    found = score.recurse().getElementsByClass(tempo.MetronomeMark).first()
    if found is None:
        return None
    try:
        value = found.getQuarterBPM()
    except Exception:
        return None
    return round(float(value), 2) if value else None


# --- a melody --------------------------------------------------------------------------------


def read_melody(source: str, *, abc: bool = False):
    """The melody of a file (its first part's top line: the highest note at each onset, cut
    where the next begins) or, with ``abc``, of ABC text typed by the user (which must be one
    line: a chord is refused, naming its bar and beat). Key, meter, title, a pickup and the
    fermatas come from the music. Returns a :class:`~grandstaff.music.melody.Melody`."""
    from music21 import stream

    from ..errors import BadArgumentError
    from .keys import Key
    from .melody import Melody

    if abc:
        if not source.strip():
            raise BadArgumentError("the ABC tune is empty")
        lines = source.strip().splitlines()
        if not any(line.startswith("L:") for line in lines):  # ABC's usual default length
            keys = [i for i, line in enumerate(lines) if line.startswith("K:")]
            lines.insert(keys[0] if keys else 0, "L:1/8")
            source = "\n".join(lines)
        try:
            score = parse_abc(source)
        except Exception as exc:  # music21 raises many kinds; every one means "unreadable"
            raise BadArgumentError(f"the ABC tune could not be read ({type(exc).__name__}: "
                                   f"{str(exc).strip()[:100]})") from None
        name = "the ABC tune"
    else:
        score = parse_file(Path(source))
        name = Path(source).name
    if isinstance(score, stream.Opus):
        score = score.scores[0] if score.scores else score
    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    notes = sorted(_part_notes(parts[0]))
    if not notes:
        raise BadArgumentError(f"{name} holds no notes")
    time_signature, lead = meter_and_pickup(score)
    bar = bar_length(time_signature)
    if abc:
        _check_one_line(notes, bar)
    line = _top_line(notes)
    _, _, key_name = find_key(score)
    first = line[0][0]
    spelled = _names(parts[0])
    pairs: list[tuple[int | None, Fraction]] = []
    names: list[str | None] = []
    at = first
    for start, end, midi in line:
        if start > at:
            pairs.append((None, start - at))
            names.append(None)
        pairs.append((midi, end - start))
        names.append(spelled.get((start, midi)))
        at = end
    lead = (lead + first) % bar if lead else first % bar
    title = score.metadata.title if score.metadata is not None else None
    marked = fermata_onsets(score)
    fermatas = None if marked is None else [f - first + lead for f in marked if f >= first]
    return Melody.of(pairs, key=Key.parse(key_name), time_signature=time_signature, lead=lead,
                     title=title or None, fermatas=fermatas, names=names)


def _bare_abc_tonic(text: str) -> bool:
    """Whether the first tune of ABC ``text`` names only a tonic in its K: field (``K:G``):
    ABC reads that as major, yet the Essen collection writes every tune so, its minor and
    modal ones too, their flats as accidentals (the "Hildebrandslied", ``K:G``, is in G
    minor).

    >>> _bare_abc_tonic("X:1\\nK:G\\nG2|"), _bare_abc_tonic("X:1\\nK:Gm\\nG2|")
    (True, False)
    """
    found = re.search(r"^K:(.*)$", text, re.MULTILINE)
    return found is not None and re.fullmatch(r"\s*[A-G][#b]?\s*(%.*)?",
                                              found.group(1)) is not None


#: How much better (in music21's key-profile correlation) the notes of an ABC tune whose K:
#: names only a tonic must fit the minor key on it to be read as minor, not major as ABC
#: says. Of the 313 such tunes of music21's Essen book altdeu10.abc, 135 fit minor better,
#: 131 by more than 0.1, 127 by more than 0.15 (the "Hildebrandslied" by 0.32); a C major
#: tune with A♭, B♭ and E♭ as chromatic notes (a test's) fits C minor better by 0.11.
MINOR_MARGIN = 0.15


def _fitting_mode(score, tonic: int) -> str:
    """The mode on ``tonic`` (a pitch class) for the notes of ``score``: minor where they
    fit it clearly better than major (:data:`MINOR_MARGIN`, music21's key profiles)."""
    analysed = score.analyze("key")
    fits = {k.mode: k.correlationCoefficient
            for k in (analysed, *analysed.alternateInterpretations)
            if k.tonic.pitchClass == tonic and k.mode in ("major", "minor")}
    return ("minor" if fits.get("minor", -1.0) > fits.get("major", -1.0) + MINOR_MARGIN
            else "major")


def _names(part) -> dict[tuple[Fraction, int], str]:
    """The name each note of ``part`` is written with (music21's, without octave), by (the
    time it is struck, its MIDI number)."""
    flat = part.flatten()
    names: dict[tuple[Fraction, int], str] = {}
    for element in flat.notes:
        start = Fraction(flat.elementOffset(element)).limit_denominator(10_000)
        for member in (element.notes if element.isChord else [element]):
            if hasattr(member, "pitch"):
                names.setdefault((start, int(member.pitch.midi)), member.pitch.name)
    return names


def _top_line(notes: list[Note]) -> list[Note]:
    """The highest note at each onset, each cut where the next onset begins."""
    starts: dict[Fraction, Note] = {}
    for note in notes:
        if note[0] not in starts or note[2] > starts[note[0]][2]:
            starts[note[0]] = note
    line = [starts[start] for start in sorted(starts)]
    return [(start, min(end, line[i + 1][0]) if i + 1 < len(line) else end, midi)
            for i, (start, end, midi) in enumerate(line)]


def _check_one_line(notes: list[Note], bar: Fraction) -> None:
    from ..errors import BadArgumentError

    for before, after in zip(notes, notes[1:]):
        if after[0] < before[1]:
            number, beat = divmod(after[0], bar)
            raise BadArgumentError(
                f"the ABC tune sounds several notes at once in bar {int(number) + 1}, beat "
                f"{float(beat) + 1:g}; a melody is one line (no chords)")
