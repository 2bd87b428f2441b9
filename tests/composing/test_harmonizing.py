"""Harmonising a given melody: the tune is the treble's top voice note by note in the written
score, from pairs, a file no one here wrote and typed ABC; bad melodies are one line each."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from grandstaff.cli import main
from grandstaff.composing.harmonizing import harmonize, melody_ending
from grandstaff.errors import BadArgumentError
from grandstaff.music.events import Event
from grandstaff.music.melody import Melody

# "Lobe den Herren"-like: a pickup, a held note, a repeated note, a rest, a 2-1 close
TUNE = [(67, 1), (67, 1), (74, 2), (71, Fraction(3, 2)), (69, Fraction(1, 2)), (67, 1),
        (69, 1), (71, 1), (None, 1), (72, 2), (71, 1), (69, 1), (67, 3)]
MUSIC21 = Path(__import__("music21").__file__).parent / "corpus"


def _top_line(musicxml: Path) -> list[tuple[Fraction, Fraction, int | None]]:
    """(onset, length, MIDI number or None) of what a reader hears on top of the treble
    staff of the written MusicXML: the highest sounding note at every moment (ties joined),
    each note from its onset to its end, rests between; a pickup bar's missing beats count as
    rest before it."""
    from music21 import converter, stream

    from grandstaff.music.reading import _part_notes

    staff = converter.parse(musicxml).parts[0]
    lead = Fraction(staff.getElementsByClass(stream.Measure).first().paddingLeft)
    notes = [(start + lead, stop + lead, pitch) for start, stop, pitch in _part_notes(staff)]
    end = Fraction(staff.highestTime).limit_denominator(10_000) + lead
    cuts = sorted({t for start, stop, _ in notes for t in (start, stop)} | {Fraction(0), end})
    line: list[list] = []
    for here, after in zip(cuts, cuts[1:]):
        sounding = [n for n in notes if n[0] <= here < n[1]]
        top = max(sounding, key=lambda n: n[2]) if sounding else None
        if line and line[-1][3] == top:
            line[-1][1] += after - here
        else:
            line.append([here, after - here, top[2] if top else None, top])
    assert sum(length for _, length, _, _ in line) == end
    return [(onset, length, midi) for onset, length, midi, _ in line]


def _first_sound(staff) -> Fraction:
    at = Fraction(0)
    for event in staff:
        if event.pitches:
            return at
        at += event.duration
    return at


def _names(musicxml: Path, midi: int) -> set[str]:
    from music21 import converter

    score = converter.parse(musicxml).parts[0]
    return {p.nameWithOctave for n in score.flatten().notes for p in n.pitches if p.midi == midi}


@pytest.mark.slow
def test_a_melody_of_pairs_is_the_top_voice_note_by_note_in_the_score(tmp_path,
                                                                    assert_valid_musicxml):
    """Same pitches, onsets, lengths and spelling (F♯ in G major), the pickup where it was, a
    repeated note struck again; the setting ends V–I under the melody's 2–1, and the bass
    stops with the melody."""
    tune = Melody.of(TUNE, key="G major", time_signature="4/4", lead=2)
    piece = harmonize(tune, seed=5, models="bach")
    assert piece.info["melody_kept"] == 1.0 and piece.info["ending"] == "cadence"
    # the melody fills five bars, its pickup's included; the piece counts the four after it
    assert piece.key == tune.key and tune.bars == 5 and piece.bars == 4
    written = piece.write(tmp_path / "tune", ["musicxml", "midi"])
    assert_valid_musicxml(written["musicxml"])
    line = _top_line(written["musicxml"])
    expected, at = [], Fraction(0)
    for midi, length in tune.padded():
        expected.append((at, Fraction(length), midi))
        at += Fraction(length)
    assert line == expected
    assert _names(written["musicxml"], 66) == {"F#4"}
    bass = piece.staves["bass"]
    assert min([e for e in bass if e.pitches][-1].pitches) % 12 == 7  # the tonic G under it
    # both hands let go with the melody's last note: the beat that completes the bar rests
    assert tune.end_of_sound == 19 and bass[-1] == Event((), Fraction(1))
    assert bass[0].pitches == () and _first_sound(bass) == 2  # it enters with the melody


@pytest.mark.slow
def test_a_folk_tune_from_music21_and_a_typed_abc_tune_come_out_whole(tmp_path, capsys):
    """An Essen folk song music21 ships (a file no one here wrote) and a tune typed as ABC
    through the CLI: every melody note kept, the files written, one summary line."""
    essen = MUSIC21 / "essenFolksong" / "altdeu10.abc"
    code = main(["harmonize", str(essen), "--seed", "1", "--out", str(tmp_path / "essen"),
                 "--formats", "musicxml,midi"])
    said = capsys.readouterr().out
    assert code == 0 and "Das Hildebrandslied" in said and "100% kept on top" in said, said
    assert (tmp_path / "essen.musicxml").is_file() and (tmp_path / "essen.mid").is_file()
    # its 4/2, a meter the chorales lack, is set as 4/4 in halved lengths and written back:
    # the setting moves in quarters and eighths of 4/2, as the tune's half notes allow
    piece = harmonize(str(essen), seed=1, models="bach", candidates=1)
    assert piece.time_signature == "4/2" and piece.info["sampled_meter"] == "4/4"
    assert piece.info["melody_kept"] == 1.0
    lengths = [e.duration for clef in ("treble", "bass") for e in piece.staves[clef]]
    assert all(length % Fraction(1, 2) == 0 for length in lengths)
    abc = "X:1\\nT:Little tune\\nM:3/4\\nK:D\\nA2|d2e2f2|g4f2|e2d2c2|d4|]"
    code = main(["harmonize", "--abc", abc, "--seed", "2", "--out", str(tmp_path / "abc"),
                 "--formats", "musicxml"])
    said = capsys.readouterr().out
    assert code == 0 and "Little tune: 4 bars, 3/4, D major" in said, said  # and a pickup
    line = _top_line(tmp_path / "abc.musicxml")
    assert [midi for _, _, midi in line if midi is not None] == [
        69, 74, 76, 78, 79, 78, 76, 74, 73, 74]
    assert line[0] == (Fraction(0), Fraction(2), None)  # the pickup keeps its place


def test_a_melody_ends_on_a_cadence_only_where_it_closes_like_one():
    close = Melody.of([(64, 1), (62, 1), (60, 2)], key="C major")
    assert melody_ending(close) == ("cadence", (48, 24))  # 2 quarters, then 1, in ticks
    assert melody_ending(Melody.of([(64, 1), (62, 1), (64, 2)], key="C major"))[0] == "open"
    assert melody_ending(Melody.of([(64, 2), (60, 2)], key="C major"))[0] == "open"  # 3-1


@pytest.mark.parametrize("argv, says", [
    (["--abc", "X:1\\nK:C\\n[CEG]2 c2 d2 e2|]"], "several notes at once in bar 1, beat 1"),
    (["--abc", "   "], "the ABC tune is empty"),
    (["--abc", "X:1\\nK:C\\nz4 z4|]"], "holds no notes"),
    (["--abc", "X:1\\nK:C\\nC,,2 c'''2|]"], "semitones"),
    (["--abc", "X:1\\nK:C\\nCDEF|]", "--key", "H major"], "H major"),
    (["--abc", "X:1\\nK:C\\nCDEF|]", "--key", "A minor"], "can move to another major key"),
    (["no-such-tune.mid"], "is not a file"),
    ([], "give a melody file or --abc"),
    (["tune.mid", "--abc", "X:1\\nK:C\\nC|]"], "one of them"),
])
def test_bad_melodies_are_one_line(capsys, tmp_path, monkeypatch, argv, says):
    monkeypatch.chdir(tmp_path)
    code = main(["harmonize", *argv, "--formats", "midi", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and says in err, err
    assert not list(tmp_path.glob("x*"))


def test_melody_pairs_are_checked_before_any_work():
    with pytest.raises(BadArgumentError, match="note 2 of the melody, 200, is not a MIDI"):
        Melody.of([(60, 1), (200, 1)], key="C major")
    with pytest.raises(BadArgumentError, match="off grandstaff's grid"):
        Melody.of([(60, Fraction(1, 5))], key="C major")
    with pytest.raises(BadArgumentError, match="has no notes"):
        Melody.of([(None, 4)], key="C major")
    with pytest.raises(BadArgumentError, match="lead 4 must be shorter than a bar"):
        Melody.of([(60, 1)], key="C major", lead=4)


def test_an_abc_accidental_holds_to_the_end_of_its_bar(tmp_path):
    """As a musician reads ABC (and ABC 2.1 says): ``_B2B2`` is two B flats, the bar line
    ends it, ``=F`` cancels a sharp; in typed ABC and in a file alike. music21's own
    default read the second B natural: the Essen "Hildebrandslied" it ships came out
    with B flat and B natural side by side, and in G major."""
    from grandstaff.music.reading import read_melody

    abc = "X:1\nT:carry\nM:4/4\nL:1/4\nK:G\n_B B c B | B ^c c =c | F F =F F |]\n"
    expected = [70, 70, 72, 70, 71, 73, 73, 72, 66, 66, 65, 65]
    typed = read_melody(abc, abc=True)
    assert [pitch for pitch, _ in typed.notes] == expected
    path = tmp_path / "carry.abc"
    path.write_text(abc)
    assert [pitch for pitch, _ in read_melody(str(path)).notes] == expected
    hildebrand = read_melody(str(MUSIC21 / "essenFolksong" / "altdeu10.abc"))
    assert [pitch for pitch, _ in hildebrand.notes][:7] == [67, 70, 70, 72, 72, 74, 74]
    # its K:G names only the tonic (the Essen way); the notes are G minor's, as the tune is
    assert str(hildebrand.key) == "G minor"
    assert str(typed.key) == "G minor"  # B flats and F naturals: G minor's notes
    assert str(read_melody(abc.replace("K:G", "K:Gmaj"), abc=True).key) == "G major"  # named
    scale = "X:1\nM:4/4\nL:1/4\nK:G\nG A B c | d e f g | f d B G |]\n"
    assert str(read_melody(scale, abc=True).key) == "G major"  # G major's notes stay major


def test_a_chorale_melody_brings_its_fermatas_and_the_setting_writes_them(tiny_models,
                                                                         tmp_path):
    """The soprano of a chorale music21 ships, read as a melody, keeps its fermatas (at its
    own notes, counted from the start of its first bar, a pickup's lead included); they are
    its phrase ends, the models hear them and the setting writes them."""
    from grandstaff.music.reading import read_melody

    path = MUSIC21 / "bach" / "bwv66.6.mxl"
    tune = read_melody(str(path))
    assert tune.lead == 3  # one quarter of pickup in 4/4
    # bwv66.6 holds its fermatas on beat 3 of bars 1, 2, 3, 5, 7 and 9 (bar 0 the pickup),
    # where reading it as a corpus piece finds them too
    assert tune.fermatas == tuple(Fraction(t) for t in (6, 10, 14, 22, 30, 38))
    from music21 import corpus

    from grandstaff.music.reading import fermata_onsets

    assert fermata_onsets(corpus.parse("bach/bwv66.6"), Fraction(3)) == tune.fermatas
    assert tune.phrase_ends() == list(tune.fermatas)
    onsets, at = set(), tune.lead
    for pitch, length in tune.notes:
        if pitch is not None:
            onsets.add(at)
        at += length
    assert set(tune.fermatas) <= onsets
    piece = harmonize(tune, seed=1, models=str(tiny_models), candidates=1)
    assert [Fraction(f) for f in piece.info["phrase_ends"]] == list(tune.fermatas)
    assert piece.fermatas == tune.fermatas
    text = piece.write(tmp_path / "chorale", ["musicxml"])["musicxml"].read_text()
    assert text.count('<fermata type="upright"') >= len(tune.fermatas)


def test_a_melody_without_fermatas_breathes_at_its_rests_and_long_notes():
    # TUNE (onsets from its first bar): the B4 before its rest at 10 outweighs the half-note
    # D5 at 4, but ends less than two bars before the last note (16), which ends the tune
    tune = Melody.of(TUNE, key="G major", time_signature="4/4", lead=2)
    assert tune.fermatas is None and tune.phrase_ends() == [Fraction(16)]
    twice = Melody.of([*TUNE, (None, 1), *TUNE[2:]], key="G major", time_signature="4/4",
                      lead=2)
    # the same again after a rest: its first G4 (at 16), held and then resting, ends a phrase
    assert twice.phrase_ends() == [Fraction(16), Fraction(32)]


def _written_names(musicxml: Path) -> dict[tuple[Fraction, int], str]:
    """Every treble note's written name with octave, by (onset, MIDI number)."""
    from music21 import converter

    flat = converter.parse(musicxml).parts[0].flatten()
    return {(Fraction(flat.elementOffset(n)).limit_denominator(10_000), p.midi): p.nameWithOctave
            for n in flat.notes for p in n.pitches}


@pytest.mark.slow
def test_a_melody_keeps_its_own_spelling_on_the_page_and_when_transposed(tmp_path):
    """Typed ABC in C major whose A♭ rises to A♮ (grandstaff would name it G♯ by where it
    goes): every melody note is written with the tune's own name; the piece transposed to E
    major names them as the tune would be written there (A♭ → C♮, E♭ → G♮)."""
    from grandstaff.music.keys import Key
    from grandstaff.music.spelling import spell_staff

    abc = "X:1\\nT:Spelled\\nM:4/4\\nL:1/4\\nK:C\\nc _A =A B|c _B A G|^F G _E D|C4|]"
    piece = harmonize(abc.replace("\\n", "\n"), abc=True, seed=3, models="bach", candidates=1)
    given = [(onset, midi, name) for onset, midi, name in piece.spelling]
    assert [name for _, _, name in given] == ["C", "A-", "A", "B", "C", "B-", "A", "G", "F#",
                                              "G", "E-", "D", "C"]
    own = spell_staff([(midi,) for _, midi, _ in given], Key("C", "major"))
    assert own[1] == ["G#"]  # what the tune's A♭ would be without its own spelling
    names = _written_names(piece.write(tmp_path / "spelled", ["musicxml"])["musicxml"])
    assert [names[(onset, midi)][:-1] for onset, midi, _ in given] == \
        [name for _, _, name in given]
    moved = piece.transpose("E major")
    names = _written_names(moved.write(tmp_path / "in-e", ["musicxml"])["musicxml"])
    assert [names[(onset, midi)][:-1] for onset, midi, _ in moved.spelling] == [
        "E", "C", "C#", "D#", "E", "D", "C#", "B", "A#", "B", "G", "F#", "E"]


def test_a_melody_moved_to_another_key_moves_its_spelling():
    """A♭ rising to A♮ in C major is C♮ rising to C♯ in E major and F♭ to F♮ in A♭ major; a
    note that would need a triple flat is left to grandstaff's spelling."""
    tune = Melody.of([(68, 1), (69, 1), (None, 1), (65, 1)], key="C major",
                     names=["A-", "A", None, "F"])
    assert tune.in_key("E major").names == ("C", "C#", None, "A")
    assert tune.in_key("Ab major").names == ("F-", "F", None, "D-")
    assert Melody.of([(62, 1)], key="C major", names=["E--"]).in_key("Gb major").names == (None,)
