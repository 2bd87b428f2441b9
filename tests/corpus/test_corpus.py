"""Corpus ingestion: Bach by default, the user's folders, bad files skipped with a reason."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction

import pytest

import grandstaff as gs
from grandstaff.cli import main
from grandstaff.corpus import load_corpus
from grandstaff.errors import BadInputError
from grandstaff.music.codec import events_to_table
from grandstaff.music.events import Event
from grandstaff.output.render import write_midi, write_musicxml


def _score(treble, bass, key="C major"):
    return gs.decode({"treble": events_to_table(treble), "bass": events_to_table(bass)}, key=key)


def _percussion_midi(path):
    from music21 import instrument, note, stream

    part = stream.Part()
    part.insert(0, instrument.BassDrum())
    for _ in range(8):
        part.append(note.Unpitched(displayName="C4"))
    score = stream.Score([part])
    score.write("midi", fp=path)


@pytest.fixture
def mixed_folder(tmp_path, chorale_paths):
    """Two real chorales, a piece the project writes, and one of every kind of broken file."""
    folder = tmp_path / "music"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(chorale_paths[0], folder / "one.mxl")
    shutil.copy(chorale_paths[1], folder / "sub" / "two.mxl")
    write_midi(_score([Event((64, 67), Fraction(2)), Event((65,), Fraction(2))],
                      [Event((48,), Fraction(4))]), folder / "mine.mid")
    (folder / "empty.mid").write_bytes(b"")
    good_midi = (folder / "mine.mid").read_bytes()
    (folder / "truncated.mid").write_bytes(good_midi[: len(good_midi) // 2])
    (folder / "garbage.musicxml").write_text("<score-partwise><part id='P1'><measure")
    (folder / "notes.txt").write_text("not music")
    write_musicxml(_score([Event((), Fraction(4))], [Event((), Fraction(4))]),
                   folder / "silent.musicxml")
    _percussion_midi(folder / "drums.mid")
    return folder


BROKEN = {"empty.mid": "empty", "truncated.mid": "unreadable", "garbage.musicxml": "unreadable",
          "notes.txt": "unsupported", "silent.musicxml": "no notes", "drums.mid": "percussion"}


def test_a_mixed_folder_keeps_the_good_and_names_every_broken_file(mixed_folder, tmp_path):
    corpus = load_corpus(mixed_folder, cache_dir=tmp_path / "cache", workers=2, progress=False)
    assert sorted(corpus.piece_names()) == ["mine", "one", "sub/two"]
    reasons = {path.rsplit("/", 1)[-1]: reason for path, reason in corpus.skipped}
    assert set(reasons) == set(BROKEN)
    for name, word in BROKEN.items():
        assert word in reasons[name], (name, reasons[name])
    assert list(corpus.tables["treble"].columns[:5]) == ["piece", "position", "offset", "pitch",
                                                         "duration"]
    mine = corpus.events("treble", "mine")
    assert mine == [Event((64, 67), Fraction(2)), Event((65,), Fraction(2))]


def test_the_cache_is_used_and_a_changed_file_is_read_again(mixed_folder, tmp_path):
    cache = tmp_path / "cache"
    cold = load_corpus(mixed_folder, cache_dir=cache, workers=1, progress=False)
    warm = load_corpus(mixed_folder, cache_dir=cache, workers=1, progress=False)
    assert not cold.cached and warm.cached
    assert warm.summary()["events"] == cold.summary()["events"]
    assert sorted(warm.skipped) == sorted(cold.skipped)
    write_midi(_score([Event((72,), Fraction(4))], [Event((36,), Fraction(4))]),
               mixed_folder / "mine.mid")
    changed = load_corpus(mixed_folder, cache_dir=cache, workers=1, progress=False)
    assert not changed.cached
    assert changed.events("treble", "mine") == [Event((72,), Fraction(4))]


def test_fermatas_are_read_as_phrase_ends_and_a_file_without_any_says_unknown(
        mixed_folder, tmp_path, chorale_paths):
    """A chorale's fermatas (on its own time line, the pickup's rest included) survive the
    cache; a MIDI file, which has no fermatas, and the one chorale of the two that marks none
    (BWV 1.6) record None, never an empty list."""
    from music21 import converter

    from grandstaff.music.events import bar_length
    from grandstaff.music.reading import _pickup_rest, _time_signature, fermata_onsets

    cache = tmp_path / "cache"
    cold = load_corpus(mixed_folder, cache_dir=cache, workers=1, progress=False)
    warm = load_corpus(mixed_folder, cache_dir=cache, workers=1, progress=False)
    assert warm.cached and warm.fermatas("mine") is None and cold.fermatas("mine") is None
    assert warm.fermatas("one") is None
    score = converter.parse(chorale_paths[1])
    lead = _pickup_rest(score, bar_length(_time_signature(score)))
    marked = list(fermata_onsets(score, lead))
    assert len(marked) >= 3 and warm.fermatas("sub/two") == cold.fermatas("sub/two") == marked
    ends = [Fraction(0)]  # every fermata falls on an onset of the soprano's staff
    for event in warm.events("treble", "sub/two"):
        ends.append(ends[-1] + event.duration)
    assert set(marked) <= set(ends)


def test_keys_are_normalised_by_mode(tmp_path):
    score = _score([Event((66, 69), Fraction(2)), Event((64, 67), Fraction(2)),
                    Event((66, 71), Fraction(4))], [Event((47,), Fraction(4)),
                                                   Event((40,), Fraction(4))], key="E minor")
    write_musicxml(score, tmp_path / "e-minor.musicxml")
    corpus = load_corpus(tmp_path / "e-minor.musicxml", cache_dir=None, progress=False)
    row = corpus.pieces.iloc[0]
    assert (row["key"], row["mode"], row["shift"]) == ("E minor", "minor", 5)
    assert corpus.events("treble", "e-minor")[0].pitches == (71, 74)  # up a fourth to A minor


def test_single_staff_keyboard_midi_is_split_at_middle_c(tmp_path):
    from music21 import chord, instrument, stream

    part = stream.Part([instrument.Piano(), chord.Chord([48, 60, 64], quarterLength=4)])
    stream.Score([part]).write("midi", fp=tmp_path / "one-track.mid")
    tables = gs.encode(tmp_path / "one-track.mid", transpose=False)
    assert tables["treble"]["pitch"].iloc[0] == "60.64"
    assert tables["bass"]["pitch"].iloc[0] == "48"


def test_a_string_quartet_goes_by_clef():
    from music21 import corpus

    tables = gs.encode(corpus.getWork("beethoven/opus18no1", 3, fileExtensions=("mxl",)),
                       transpose=False)
    assert len(tables["treble"]) > 50 and len(tables["bass"]) > 50


def test_no_usable_piece_is_an_error(tmp_path):
    (tmp_path / "empty.mid").write_bytes(b"")
    with pytest.raises(BadInputError, match="empty file"):
        load_corpus(tmp_path / "empty.mid", cache_dir=None, progress=False)
    with pytest.raises(BadInputError, match="no usable piece"):
        (tmp_path / "b.mid").write_bytes(b"MThd")
        load_corpus(tmp_path, cache_dir=None, progress=False)


def test_cli_ingest_json_summary(mixed_folder, tmp_path, capsys):
    code = main(["ingest", str(mixed_folder), "--json", "--cache", str(tmp_path / "c")])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["pieces"] == 3
    assert len(summary["skipped"]) == len(BROKEN)
    assert set(summary) >= {"events", "vocabulary", "duration_snaps", "seconds"}
    assert summary["vocabulary"]["treble"]["pitch"] > 5


@pytest.mark.parametrize("name", ["empty.mid", "drums.mid", "notes.txt", "missing.mid"])
def test_cli_ingest_of_one_bad_file_exits_2_with_one_line(mixed_folder, name, capsys):
    code = main(["ingest", str(mixed_folder / name), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("grandstaff: error:")
    assert "Traceback" not in err


def test_bach_corpus_is_the_default_and_reads_the_chorales(tmp_path):
    corpus = load_corpus(cache_dir=tmp_path / "cache", progress=False)
    assert len(corpus.pieces) >= 300
    assert set(corpus.pieces["mode"]) == {"major", "minor"}
    assert corpus.tables["treble"]["pitch"].nunique() > 100
    sequences = corpus.sequences("bass", corpus.piece_names()[:2])
    assert sequences[0][0][0] in ("<major>", "<minor>") and sequences[0][1][0] == sequences[0][0][0]


def test_each_modes_pitch_classes_count_the_struck_notes_of_its_pieces(small_corpus):
    names = small_corpus.piece_names()
    modes = dict(zip(small_corpus.pieces["piece"], small_corpus.pieces["mode"]))
    assert set(modes.values()) == {"major", "minor"}  # the small corpus holds both
    for clef in ("treble", "bass"):
        found = small_corpus.mode_classes(clef)
        for mode in ("major", "minor"):
            struck = [p % 12 for name in names if modes[name] == mode
                      for e in small_corpus.events(clef, name) for p in e.struck]
            assert found[mode] == [struck.count(c) for c in range(12)] and sum(found[mode])
        one = small_corpus.mode_classes(clef, names[:1])
        assert sum(map(sum, one.values())) < sum(map(sum, found.values()))


def test_a_staffs_register_counts_every_struck_note_once(small_corpus):
    """Where a staff lies: each MIDI number with how many notes strike it, a held note once."""
    names = small_corpus.piece_names()
    for clef in ("treble", "bass"):
        register = small_corpus.register(clef)
        struck = [p for name in names for e in small_corpus.events(clef, name)
                  for p in e.struck]
        assert sum(register.values()) == len(struck) > 0
        assert register == {p: struck.count(p) for p in sorted(set(struck))}
        assert list(register) == sorted(register)
        one = small_corpus.register(clef, names[:1])
        assert sum(one.values()) < sum(register.values())
