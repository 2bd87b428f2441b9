"""``Piece``: a composed grand staff with its key, meter, tempo and titles.

>>> import grandstaff as gs
>>> piece = gs.compose(bars=16, key="E minor", tempo=84, seed=3)     # doctest: +SKIP
>>> piece.transpose("G minor").with_tempo(120).write("scores/etude")  # doctest: +SKIP

Every method returns a new Piece; nothing is changed in place.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..bounds import MAX_TEMPO, check_tempo  # noqa: F401  (re-exported)
from ..errors import BadArgumentError, EngraverMissingError, OutputExistsError
from ..files import check_writable, temporary_folder
from ..music.events import CLEFS, STAFF_RANGE, Event, bar_length, total_duration
from ..music.hands import check_staff_split, piano_staves
from ..music.keys import Key
from ..music.spelling import transposed_name
from ..text import clean_text

if TYPE_CHECKING:
    import pandas as pd

    from ..output.engrave import Engraver

FORMATS: tuple[str, ...] = ("musicxml", "midi", "pdf", "png", "svg", "wav")
SUFFIX = {"musicxml": ".musicxml", "midi": ".mid", "pdf": ".pdf", "png": ".png", "svg": ".svg",
          "wav": ".wav"}
PIANO_RANGE = (21, 108)


class EngravingFailed(EngraverMissingError):
    """Engraving failed after the MusicXML and MIDI were written; ``written`` lists them."""

    def __init__(self, message: str, written: dict[str, Path]) -> None:
        super().__init__(message)
        self.written = written


@dataclass(frozen=True)
class Piece:
    """Two staves of events at sounding pitch, in ``key``, ``time_signature`` and ``tempo``."""

    staves: Mapping[str, tuple[Event, ...]]
    key: Key
    time_signature: str = "4/4"
    tempo: float = 96.0
    title: str = "Untitled"
    composer: str = "grandstaff"
    info: Mapping[str, object] = field(default_factory=dict)
    #: How the notes are shared between the staves on the page: "piano" (the tenor in the
    #: right hand where it fits; :mod:`grandstaff.music.hands`) or "as-sampled".
    staff_split: str = "piano"
    #: Where phrases end (onsets in quarters): the notes struck there carry fermatas in the
    #: score and are held a little longer in the MIDI and audio.
    fermatas: tuple[Fraction, ...] = ()
    #: Notes that keep a spelling of their own on the page, as (onset in quarters, MIDI number,
    #: music21 name without octave, e.g. ``A-``): a harmonised melody's, as it was written.
    spelling: tuple[tuple[Fraction, int, str], ...] = ()

    def __post_init__(self) -> None:  # titles reach engravers: plain text only (see text.py)
        check_staff_split(self.staff_split)
        object.__setattr__(self, "title", clean_text(self.title, "title"))
        object.__setattr__(self, "composer", clean_text(self.composer, "composer"))

    @property
    def bars(self) -> int:
        """Complete bars, after a pickup (which the score writes as an anacrusis)."""
        bar = bar_length(self.time_signature)
        opening = bar if self.pickup else 0  # the pickup's bar, with the silence before it
        return int((total_duration(self.staves["treble"]) - opening) / bar)

    @property
    def pickup(self) -> Fraction:
        """The pickup's length in quarters (0 where the piece opens on the downbeat)."""
        from ..music.notation import pickup_length

        return pickup_length(self.staves, bar_length(self.time_signature))

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Token tables of both staves (as :func:`grandstaff.encode` gives them)."""
        from ..music.codec import events_to_table  # pandas: only for those who ask

        tables = {c: events_to_table(self.staves[c], self.title) for c in CLEFS}
        for table in tables.values():
            table.attrs.update(key=str(self.key), time_signature=self.time_signature,
                               tempo=self.tempo, title=self.title)
        return tables

    @cached_property
    def written_staves(self) -> dict[str, list[Event]]:
        """The staves as the page shows them: :attr:`staves` shared between the hands as
        :attr:`staff_split` says (what sounds is the same)."""
        if self.staff_split == "as-sampled":
            return {c: list(self.staves[c]) for c in CLEFS}
        return piano_staves(self.staves)

    @cached_property
    def score(self):
        """The music21 Score: one piano on a braced grand staff."""
        from ..music.notation import build_score

        return build_score(self.written_staves, key=self.key, time_signature=self.time_signature,
                           tempo=self.tempo, title=self.title, composer=self.composer,
                           spelled_as=self.staves, fermatas=self.fermatas,
                           names={(onset, midi): name for onset, midi, name in self.spelling})

    @cached_property
    def performance(self):
        """The music21 Score of what is heard (each held pitch one sustained note), for MIDI."""
        from ..music.notation import build_performance

        return build_performance(self.staves, key=self.key, time_signature=self.time_signature,
                                 tempo=self.tempo, fermatas=self.fermatas)

    def analysed_mode(self) -> str:
        """The mode music21's key analysis (Krumhansl–Schmuckler) hears: major or minor."""
        from ..music.notation import analysed_mode

        return analysed_mode(self.staves)

    def transpose(self, key: str | Key, /) -> Piece:
        """The same music in another key of the same mode, up or down: whichever way leaves
        fewer notes on ledger lines (see :func:`written_shift`)."""
        target = key if isinstance(key, Key) else Key.parse(key)
        if target.mode != self.key.mode:
            raise BadArgumentError(
                f"cannot transpose {self.key} to {target}: transposing keeps the mode; "
                f"ask for a {self.key.mode} key")
        shift = written_shift(self.staves, target.pitch_class - self.key.pitch_class)
        staves = {c: tuple(fit_to_piano(e.transposed(shift)) for e in events)
                  for c, events in self.staves.items()}
        title = self.title.replace(str(self.key), str(target))
        spelling = tuple((onset, midi + shift, moved) for onset, midi, name in self.spelling
                         if (moved := transposed_name(name, self.key, target)) is not None)
        return replace(self, staves=staves, key=target, title=title, spelling=spelling)

    def with_tempo(self, tempo: float, /) -> Piece:
        """The same music at ``tempo`` quarter notes per minute."""
        return replace(self, tempo=check_tempo(tempo))

    def write(self, path: str | Path, formats: Iterable[str] = ("musicxml", "midi", "pdf"), *,
              engraver: str | Engraver = "lilypond", soundfont: str | Path | None = None,
              force: bool = False) -> dict[str, Path]:
        """Write ``path`` + ``.musicxml``, ``.mid``, ``.pdf``, ``.png``, ``.svg`` and ``.wav``
        as asked.

        Existing files are kept unless ``force``. A PDF comes with a PNG of its first page; an
        SVG is the whole score drawn in process by Verovio (no engraver needed); a WAV is the
        MIDI played by a SoundFont piano (``soundfont``: an .sf2 file, by default the General
        MIDI one that pip installs). If engraving or the audio fails, the files written before
        it are kept (see :class:`EngravingFailed`). ``engraver``: "lilypond", "musescore", or an
        :class:`~grandstaff.output.engrave.Engraver` made ready before the piece was composed.

        >>> import grandstaff as gs
        >>> gs.compose(bars=8, seed=1).write("scores/etude", ["midi", "wav"])  # doctest: +SKIP
        {'midi': PosixPath('scores/etude.mid'), 'wav': PosixPath('scores/etude.wav')}
        """
        from ..output.engrave import check_engraver

        check_engraver(engraver)
        targets = check_outputs(path, formats, force=force)
        if "wav" in targets:
            from ..bounds import check_audio_length
            from ..output.audio import check_soundfont

            soundfont = check_soundfont(soundfont)
            check_audio_length(total_duration(self.staves["treble"]), self.tempo)
        written: dict[str, Path] = {}

        folder = next(iter(targets.values())).parent
        folder.mkdir(parents=True, exist_ok=True)
        # one writer at a time per folder: two runs given the same --out cannot leave a mixed
        # set, and the second finds the first's files (or replaces all of them with --force)
        with locked_folder(folder), temporary_folder("write") as work:
            targets = plan_outputs(path, formats, force=force)
            try:
                self._write_into(targets, written, Path(work), engraver, soundfont)
            except EngraverMissingError as exc:
                raise EngravingFailed(
                    f"{exc} (the {' and '.join(sorted(written)) or 'other'} files were "
                    "written)", written) from None
        return written

    def _write_into(self, targets: dict[str, Path], written: dict[str, Path], work: Path,
                    engraver: str | Engraver, soundfont: Path | None) -> None:
        """Write each target in turn, recording it in ``written`` as soon as it exists."""
        from ..output.engrave import engrave
        from ..output.render import write_midi, write_musicxml

        if "musicxml" in targets:
            written["musicxml"] = write_musicxml(self.score, targets["musicxml"])
        if "midi" in targets:
            written["midi"] = write_midi(self.performance, targets["midi"])
        if "wav" in targets:
            from ..output.audio import write_wav

            midi = written.get("midi") or write_midi(self.performance, work / "piece.mid")
            written["wav"] = write_wav(midi, targets["wav"], soundfont=soundfont)
        if not {"svg", "pdf", "png"} & set(targets):
            return
        source = written.get("musicxml") or write_musicxml(self.score, work / "score.musicxml")
        if "svg" in targets:
            from ..output.svg import write_svg

            written["svg"] = write_svg(source, targets["svg"])
        if "pdf" in targets or "png" in targets:  # a PNG alone is engraved through a PDF
            pdf = targets.get("pdf", work / "score.pdf")
            made = engrave(source, pdf, targets.get("png"), engraver=engraver)
            if "pdf" in targets:
                written["pdf"] = targets["pdf"]
            if len(made) > 1:
                written["png"] = targets["png"]
            elif "pdf" not in targets:
                raise EngraverMissingError(f"{_engraver_name(engraver)} made no PNG")


@contextmanager
def locked_folder(folder: Path):
    """Hold an exclusive lock on ``folder`` (an advisory ``flock`` on the folder itself, so no
    lock file is left beside the scores; nothing where the system has no ``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _engraver_name(engraver) -> str:
    return str(getattr(engraver, "engraver", engraver))


def check_outputs(path: str | Path, formats: Iterable[str] | str, *,
                  force: bool = False) -> dict[str, Path]:
    """:func:`plan_outputs` for a check made before the work, outside the writer's lock: it
    waits for a run that is writing into the same folder to finish, so that its set is seen
    whole ("exists already"), never half-written ("an earlier run stopped halfway")."""
    folder = output_stem(path).parent
    try:
        waits = folder.is_dir() and os.access(folder, os.R_OK)
    except OSError:  # a name too long, say: plan_outputs says what is wrong with it
        waits = False
    if not waits:
        return plan_outputs(path, formats, force=force)
    with locked_folder(folder):
        return plan_outputs(path, formats, force=force)


def plan_outputs(path: str | Path, formats: Iterable[str] | str, *,
                 force: bool = False) -> dict[str, Path]:
    """The file each format will be written to, checked before any work: the formats are
    known, the path names a file in a folder that can exist, and nothing is replaced unless
    ``force`` (and a folder never). A PDF brings a PNG of its first page.

    >>> plan_outputs("scores/etude", "musicxml,pdf")["png"]
    PosixPath('scores/etude.png')
    """
    targets = output_paths(path, formats)
    for target in targets.values():
        check_writable(target, force=True)  # a folder in the way; existing files come next
    existing = [t for t in targets.values() if t.exists()]
    if existing and not force:
        missing = [t.name for t in targets.values() if not t.exists()]
        raise OutputExistsError(
            f"{', '.join(str(t) for t in existing)} exist{'s' if len(existing) == 1 else ''} "
            + (f"already but {', '.join(missing)} not (an earlier run stopped halfway); "
               if missing else "already; ")
            + "pass --force (force=True) to replace them, or choose another --out")
    return targets


def output_paths(path: str | Path, formats: Iterable[str] | str) -> dict[str, Path]:
    """The file each format goes to (a PDF brings a PNG), with no check of what exists.

    >>> sorted(output_paths("scores/etude", "midi,pdf"))
    ['midi', 'pdf', 'png']
    """
    formats = parse_formats(formats)
    if "pdf" in formats and "png" not in formats:
        formats = (*formats, "png")
    stem = output_stem(path)
    return {f: stem.with_name(stem.name + SUFFIX[f]) for f in formats}


def output_stem(path: str | Path) -> Path:
    """The path that output files get their suffixes added to, refused if it names a folder
    (the folder it lies in is checked with each target, by ``check_writable``).

    >>> output_stem("scores/etude.pdf")
    PosixPath('scores/etude')
    """
    stem = Path(path)
    if stem.suffix.lower() in SUFFIX.values():
        stem = stem.with_suffix("")
    if stem.name in ("", ".", "..") or str(path).endswith(("/", "\\")):
        raise BadArgumentError(
            f"output path {str(path)!r} names a folder, not a file; give a name without "
            "suffix, e.g. scores/etude")
    return stem


def parse_formats(formats: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = [f for f in formats.split(",")]
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    aliases = {"xml": "musicxml", "mid": "midi"}
    chosen = tuple(aliases.get(f, f) for f in chosen)
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise BadArgumentError(
            f"format {','.join(unknown) or '(none)'!s} is not one of {', '.join(FORMATS)}; "
            "e.g. --formats musicxml,midi,pdf")
    return chosen


def written_shift(staves: Mapping[str, Sequence[Event]], semitones: int) -> int:
    """The octave of a transposition by ``semitones`` (taken modulo 12): up or down, whichever
    leaves fewer struck notes on ledger lines in both staves together, and on a tie the
    shorter way.

    >>> from fractions import Fraction
    >>> low = {"treble": [Event((57, 60), Fraction(4))], "bass": [Event((45,), Fraction(4))]}
    >>> written_shift(low, 7)   # A minor to E minor: up a fifth, not down a fourth
    7
    """
    registers = {clef: Counter(p for event in staves[clef] for p in event.struck)
                 for clef in STAFF_RANGE if clef in staves}

    def ledger(shift: int) -> int:
        return sum(_off_staff(register, clef, shift) for clef, register in registers.items())

    up = semitones % 12
    return min((up, up - 12), key=lambda shift: (ledger(shift), abs(shift)))


def planned_shift(semitones: int, centres: Mapping[str, float],
                  registers: Mapping[str, Mapping[int, int]] | None = None) -> int:
    """The octave of a transposition by ``semitones`` (taken modulo 12) chosen before any
    note is written, one for the whole piece so that the hands keep the spacing the models
    learned: up or down, whichever leaves fewer notes on ledger lines, judged from where each
    staff's training notes lie (``registers``: how many it struck on each MIDI number in the
    reference key; each staff's share of notes off the staff, summed over both staves).
    Without registers (a set trained before they were saved), whichever brings each staff's
    ``centres`` nearer the middle of its own staff, summed over both staves; on a tie the
    shorter way.

    >>> centres = {"treble": 68.0, "bass": 54.6}
    >>> [planned_shift(s, centres) for s in (7, 5, -2, 4, 6)]  # G, F, B♭, E, F♯
    [-5, 5, -2, 4, -6]
    >>> registers = {"treble": {62: 2, 69: 6, 74: 2}, "bass": {43: 1, 50: 3, 55: 3, 60: 1}}
    >>> planned_shift(5, centres, registers)  # F: the tenor would climb off the bass staff
    -7
    """
    up = semitones % 12

    def ledger(shift: int) -> float:
        return sum(_off_staff(register, clef, shift) / max(1, sum(register.values()))
                   for clef, register in registers.items() if clef in STAFF_RANGE)

    def distance(shift: int) -> float:
        return sum(abs(centres[clef] + shift - (low + high) / 2)
                   for clef, (low, high) in STAFF_RANGE.items() if clef in centres)

    def cost(shift: int) -> tuple:
        far = round(distance(shift), 6)
        return ((round(ledger(shift), 6), far, abs(shift)) if registers
                else (far, abs(shift)))

    return min((up, up - 12), key=cost)


def _off_staff(register: Mapping[int, int], clef: str, shift: int) -> int:
    """How many of the notes counted in ``register`` (notes per MIDI number) need ledger
    lines on ``clef``'s staff once moved by ``shift`` semitones."""
    low, high = STAFF_RANGE[clef]
    return sum(count for pitch, count in register.items() if not low <= pitch + shift <= high)


def fit_to_piano(event: Event) -> Event:
    """Move any note outside the piano's keys (A0–C8) by octaves until it fits."""
    low, high = PIANO_RANGE

    def fit(pitch: int) -> int:
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        return pitch

    return Event(tuple(sorted({fit(p) for p in event.pitches})), event.duration,
                 tuple(sorted({fit(p) for p in event.held})))

