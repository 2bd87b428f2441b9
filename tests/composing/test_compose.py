"""Composing: balanced staves, keys, tempo, reproducibility, engraving, bad parameters."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

import grandstaff as gs
from grandstaff.cli import main
from grandstaff.composing import compose, compose_many
from grandstaff.composing.piece import EngravingFailed, written_shift
from grandstaff.errors import BadArgumentError, OutputExistsError
from grandstaff.music.events import Event, total_duration

from ..music.test_keys import SIGNATURES


def _bar(time_signature: str) -> Fraction:
    top, bottom = time_signature.split("/")
    return Fraction(4 * int(top), int(bottom))


@pytest.mark.parametrize("bars,time_signature", [(1, "4/4"), (4, "3/4"), (9, "6/8"),
                                                 (16, "4/4"), (5, "2/2")])
def test_both_staves_fill_the_same_complete_bars(tiny_models, bars, time_signature):
    pieces = compose_many(3, bars=bars, time_signature=time_signature, seed=bars,
                          models=str(tiny_models))
    for piece in pieces:
        pickup = Fraction(piece.info["pickup"])  # an anacrusis before the bars asked for
        padding = _bar(time_signature) if pickup else 0  # the rest that completes its bar
        assert piece.bars == bars
        for clef in gs.CLEFS:
            assert total_duration(piece.staves[clef]) == bars * _bar(time_signature) + padding
        score = piece.score
        for part in score.parts:
            measures = list(part.getElementsByClass("Measure"))
            if pickup:
                assert measures.pop(0).duration.quarterLength == pickup
            assert len(measures) == bars
            for measure in measures:
                assert measure.duration.quarterLength == _bar(time_signature)
    if time_signature == "4/4" and bars == 16:  # the tiny set's chorales mostly open so
        assert any(piece.info["pickup"] == "1" for piece in pieces)


def test_no_special_token_reaches_the_music(tiny_models):
    for piece in compose_many(4, bars=8, key="D minor", seed=11, models=str(tiny_models)):
        for table in piece.tables.values():
            assert not table["pitch"].str.startswith("<").any()
            assert not table["duration"].str.startswith("<").any()


@pytest.mark.parametrize("name,sharps", SIGNATURES.items())
def test_every_key_gets_its_key_signature(tiny_models, tmp_path, name, sharps):
    piece = compose(bars=2, key=name, seed=1, models=str(tiny_models))
    keys = list(piece.score.recurse().getElementsByClass("KeySignature"))
    assert keys and all(k.sharps == sharps for k in keys)
    path = piece.write(tmp_path / "k", formats=("musicxml",))["musicxml"]
    assert f"<fifths>{sharps}</fifths>" in path.read_text()


def test_one_tempo_mark_and_the_midi_tempo_is_the_request(tiny_models, tmp_path):
    from music21 import midi

    piece = compose(bars=4, tempo=84, seed=2, models=str(tiny_models))
    marks = list(piece.score.recurse().getElementsByClass("MetronomeMark"))
    assert [m.number for m in marks] == [84]
    path = piece.write(tmp_path / "t", formats=("midi",))["midi"]
    mf = midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    tempos = [e for t in mf.tracks for e in t.events if e.type == midi.MetaEvents.SET_TEMPO]
    assert tempos
    microseconds = int.from_bytes(tempos[0].data, "big")
    assert round(60_000_000 / microseconds) == 84


def test_the_same_seed_writes_the_same_file_and_another_seed_other_music(tiny_models, tmp_path):
    a = compose(bars=8, seed=5, models=str(tiny_models)).write(tmp_path / "a", ("musicxml",))
    b = compose(bars=8, seed=5, models=str(tiny_models)).write(tmp_path / "b", ("musicxml",))
    assert a["musicxml"].read_text() == b["musicxml"].read_text()
    other = compose(bars=8, seed=6, models=str(tiny_models))
    assert other.staves != compose(bars=8, seed=5, models=str(tiny_models)).staves


def test_minor_requests_start_from_the_minor_token_and_primers_are_not_copied(
        tiny_models, chorale_paths):
    plain = compose(bars=4, key="A minor", seed=9, models=str(tiny_models))
    primed = compose(bars=4, key="A minor", seed=9, models=str(tiny_models),
                     primer=chorale_paths[0])
    assert total_duration(primed.staves["treble"]) == 16
    assert primed.staves != plain.staves
    assert plain.staves != compose(bars=4, key="C major", seed=9, models=str(tiny_models)).staves


def test_transpose_and_tempo_return_new_pieces(tiny_models, assert_valid_musicxml, tmp_path):
    piece = compose(bars=4, key="E minor", tempo=84, seed=3, models=str(tiny_models))
    moved = piece.transpose("G minor")
    assert moved.key == gs.Key("G", "minor") and piece.key == gs.Key("E", "minor")
    first = next(e for e in piece.staves["treble"] if e.pitches)
    moved_first = next(e for e in moved.staves["treble"] if e.pitches)
    shift = written_shift(piece.staves, 3)  # up a minor third or down a major sixth
    assert shift in (3, -9)
    assert [p + shift for p in first.pitches] == list(moved_first.pitches)
    assert moved.score.recurse().getElementsByClass("KeySignature").first().sharps == -2
    faster = moved.with_tempo(120)
    assert faster.tempo == 120 and moved.tempo == 84
    path = faster.write(tmp_path / "g", ("musicxml",))["musicxml"]
    assert_valid_musicxml(path)
    with pytest.raises(BadArgumentError, match="keeps the mode"):
        piece.transpose("G major")
    with pytest.raises(BadArgumentError, match="tempo"):
        piece.with_tempo(0)


@pytest.mark.parametrize("engraver", ["lilypond", "musescore"])
def test_both_engravers_make_a_pdf_and_a_preview(tiny_models, tmp_path, engraver,
                                                  assert_valid_musicxml):
    piece = compose(bars=8, key="Bb major", seed=4, models=str(tiny_models), title='A "title"')
    written = piece.write(tmp_path / "score", engraver=engraver)
    assert set(written) == {"musicxml", "midi", "pdf", "png"}
    pdf = written["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") + pdf.count(b"/Type/Page") >= 1
    assert written["png"].read_bytes().startswith(b"\x89PNG")
    assert_valid_musicxml(written["musicxml"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial files


def test_existing_files_are_kept_unless_forced(tiny_models, tmp_path):
    piece = compose(bars=2, seed=1, models=str(tiny_models))
    piece.write(tmp_path / "x", ("musicxml",))
    before = (tmp_path / "x.musicxml").read_text()
    with pytest.raises(OutputExistsError, match="--force"):
        compose(bars=2, seed=2, models=str(tiny_models)).write(tmp_path / "x", ("musicxml",))
    assert (tmp_path / "x.musicxml").read_text() == before
    compose(bars=2, seed=2, models=str(tiny_models)).write(tmp_path / "x", ("musicxml",),
                                                           force=True)
    assert (tmp_path / "x.musicxml").read_text() != before


def test_a_missing_engraver_still_leaves_musicxml_and_midi(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no MuseScore on this PATH
    piece = compose(bars=2, seed=1, models=str(tiny_models))
    with pytest.raises(EngravingFailed, match="apt-get install musescore3") as failure:
        piece.write(tmp_path / "y", engraver="musescore")
    assert set(failure.value.written) == {"musicxml", "midi"}
    assert (tmp_path / "y.musicxml").is_file() and (tmp_path / "y.mid").is_file()
    assert not (tmp_path / "y.pdf").exists()


@pytest.mark.parametrize("args,word", [
    (["--key", "H major"], "'H major'"), (["--tempo", "0"], "tempo"),
    (["--tempo", "401"], "tempo"), (["--bars", "0"], "'0'"), (["--time", "5/3"], "'5/3'"),
    (["--top-k-pitch", "0"], "'0'"), (["--temperature", "0"], "temperature"),
    (["--engraver", "finale"], "'finale'"), (["--formats", "doc"], "doc"),
    (["--models", "no-such-set"], "no-such-set"), (["--candidates", "0"], "'0'"),
])
def test_bad_compose_arguments_exit_2_with_one_line(tiny_models, tmp_path, capsys, args, word):
    import gc

    code = main(["compose", "--models", str(tiny_models), "--out", str(tmp_path / "z"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert gc.isenabled()  # paused for the command only, also when it fails
    assert err.startswith("grandstaff:") and err.count("\n") == 1 and word in err
    assert not list(tmp_path.iterdir())


def test_compose_with_no_arguments_writes_sixteen_bars_from_the_shipped_models(
        tmp_path, capsys, monkeypatch):
    import gc

    monkeypatch.chdir(tmp_path)
    assert main(["compose", "--seed", "1"]) == 0
    assert gc.isenabled()  # Python's cycle collector waits out a compose, then runs again
    out = capsys.readouterr().out
    written = sorted(p.name for p in (tmp_path / "scores").iterdir())
    assert [p.rsplit(".", 1)[1] for p in written] == ["mid", "musicxml", "pdf", "png"]
    assert "16 bars" in out
    tables = gs.encode(next((tmp_path / "scores").glob("*.musicxml")), transpose=False)
    assert sum(Fraction(d) for d in tables["treble"]["duration"]) == 64
    assert os.path.getsize(next((tmp_path / "scores").glob("*.pdf"))) > 1000


@pytest.mark.parametrize("time_signature", ["4/4", "3/4", "2/4"])
def test_no_piece_opens_with_a_whole_silent_bar(tiny_models, time_signature):
    bar = _bar(time_signature)
    for piece in compose_many(12, bars=3, time_signature=time_signature, seed=21,
                              models=str(tiny_models)):
        for clef in gs.CLEFS:
            first = piece.staves[clef][0]
            assert first.pitches or first.duration < bar


def test_compiled_programs_are_cached_and_change_nothing_in_the_music(tiny_models, tmp_path):
    import subprocess
    import sys

    def compose_in_a_new_process(out: str, *extra: str) -> bytes:
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
        command = [sys.executable, "-m", "grandstaff.cli", "compose", "--models",
                   str(tiny_models), "--seed", "3", "--bars", "2", "--formats", "musicxml",
                   "--out", str(tmp_path / out), *extra]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return (tmp_path / f"{out}.musicxml").read_bytes()

    uncached = compose_in_a_new_process("plain", "--no-jax-cache")
    assert not (tmp_path / "cache" / "grandstaff").exists()
    first = compose_in_a_new_process("first")
    cache = tmp_path / "cache" / "grandstaff" / "jax"
    entries = sorted(p.name for p in cache.iterdir())
    assert any(name.startswith("jit_run") for name in entries), entries  # the sampling loop
    second = compose_in_a_new_process("second")
    assert sorted(p.name for p in cache.iterdir()) == entries  # all found, nothing compiled
    assert uncached == first == second


def test_no_rules_gives_the_models_alone_through_the_api_and_the_cli(tiny_models, tmp_path):
    """With the rules no piece has the bass above the treble's lowest note; the same seeds
    without them do, and the CLI's --no-rules writes what ``compose(rules=False)`` writes."""
    from grandstaff.judging.ensemble import crossing_share

    crossed = {}
    for rules in (True, False):
        pieces = compose_many(16, bars=8, seed=17, models=str(tiny_models), rules=rules)
        assert all(p.info["rules"] is rules for p in pieces)
        # the right hand's durations are drawn at 0.8 of the temperature, with or without
        assert all(p.info["duration_temperatures"] == {"treble": 0.8, "bass": 1.0}
                   for p in pieces)
        crossed[rules] = sum(crossing_share(p.staves["treble"], p.staves["bass"]) > 0
                             for p in pieces)
    assert crossed[True] == 0 < crossed[False]

    common = ["compose", "--models", str(tiny_models), "--seed", "5", "--bars", "8",
              "--formats", "musicxml", "--candidates", "1"]
    assert main([*common, "--no-rules", "--out", str(tmp_path / "alone")]) == 0
    assert main([*common, "--out", str(tmp_path / "ruled")]) == 0
    compose(bars=8, seed=5, models=str(tiny_models), candidates=1, rules=False).write(
        tmp_path / "api", ["musicxml"])
    alone, ruled, api = ((tmp_path / f"{n}.musicxml").read_bytes()
                         for n in ("alone", "ruled", "api"))
    assert alone == api != ruled


def test_compose_keeps_the_first_candidate_heard_in_the_requested_mode(tiny_models):
    from grandstaff.cli import build_parser
    from grandstaff.composing import DEFAULT_CANDIDATES

    assert build_parser().parse_args(["compose"]).candidates == DEFAULT_CANDIDATES
    for key in ("A minor", "E minor", "F major"):
        batch = compose_many(6, bars=4, key=key, seed=11, models=str(tiny_models))
        heard = [p.analysed_mode() for p in batch]
        piece = compose(bars=4, key=key, seed=11, models=str(tiny_models), candidates=6)
        wanted = piece.key.mode
        assert piece.info["candidates"] == 6
        assert piece.info["mode_matched"] == (wanted in heard)
        expected = batch[heard.index(wanted)] if wanted in heard else batch[0]
        assert piece.staves == expected.staves
        assert piece.info["candidate"] == expected.info["candidate"]


def test_one_candidate_is_the_first_sample_as_it_is(tiny_models):
    piece = compose(bars=2, key="D minor", seed=5, models=str(tiny_models), candidates=1)
    (only,) = compose_many(1, bars=2, key="D minor", seed=5, models=str(tiny_models))
    assert piece.staves == only.staves
    assert piece.info["mode_matched"] == (only.analysed_mode() == "minor")


def test_a_transposition_goes_the_way_that_keeps_the_hands_on_their_staves():
    from grandstaff.composing.piece import Piece
    from grandstaff.judging.ensemble import ledger_share
    from grandstaff.music.keys import Key

    # an A minor piece whose right hand sits low: to E minor it goes up a fifth, not down
    treble = (Event((57, 64), Fraction(2)), Event((59, 62), Fraction(2)))
    bass = (Event((45,), Fraction(2)), Event((40,), Fraction(2)))
    piece = Piece({"treble": treble, "bass": bass}, key=Key("A", "minor"))
    moved = piece.transpose("E minor")
    assert moved.staves["treble"][0].pitches == (64, 71)
    assert ledger_share(moved.staves["treble"]) < ledger_share(treble)
    # a high right hand goes down instead
    high = Piece({"treble": (Event((81, 84), Fraction(4)),), "bass": (Event((57,), Fraction(4)),)},
                 key=Key("A", "minor"))
    assert high.transpose("E minor").staves["treble"][0].pitches == (76, 79)


def test_compose_without_a_primer_opens_with_less_than_a_silent_bar():
    """compose passes "no primer" for each clef; that must not count as a primer, which
    would lift the opening-rest rule (a 6/8 piece once opened with a silent bar in both
    hands)."""
    from grandstaff.composing.composer import compose_many

    for piece in compose_many(8, bars=4, key="G major", time_signature="6/8", seed=1):
        for clef in ("treble", "bass"):
            silent = Fraction(0)
            for event in piece.staves[clef]:
                if event.pitches:
                    break
                silent += event.duration
            assert silent < Fraction(3)


@pytest.mark.parametrize("formats", ["png", "png,midi"])
def test_a_png_alone_is_engraved_and_written(tmp_path, formats):
    """--formats png writes the PNG (through a PDF that is not kept), as --help says."""
    import grandstaff as gs

    written = gs.compose(bars=2, seed=1, candidates=1).write(tmp_path / "p", formats=formats)
    assert set(written) == set(formats.replace("png,midi", "png,midi").split(","))
    assert written["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "p.pdf").exists()


@pytest.mark.slow
@pytest.mark.parametrize("key", ["G major", "E major", "F major", "Eb major", "E minor",
                                 "C minor"])
def test_both_hands_move_by_one_octave_and_keep_their_spacing(key):
    """The keys whose bass was written an octave below the treble's transposition (hands 17
    semitones apart on average, more than an octave apart on 94 % of beats) now keep the
    spacing the models learned: over three pieces (one piece alone may drift apart for a
    phrase: E minor seed 6 does on 19 % of its beats)."""
    import grandstaff as gs
    from grandstaff.judging.ensemble import hands_apart_share

    shares = []
    for seed in (5, 6, 7):
        piece = gs.compose(bars=8, key=key, seed=seed, candidates=1)
        assert piece.info["shift"] == piece.info["bass_shift"]
        shares.append(hands_apart_share(piece.staves["treble"], piece.staves["bass"]))
    assert sum(shares) / len(shares) < 0.15, shares


@pytest.mark.slow
def test_the_octave_of_a_key_leaves_the_fewest_ledger_lines_on_both_staves():
    """F major (and D minor) lie a fourth above the reference keys: written up a fourth, as the
    register centres chose, the tenor climbed off the bass staff and 43–45 % of the left
    hand's notes needed ledger lines (four pieces each). The shipped set knows where its
    training notes lie and writes them down a fifth; the keys whose up or down was clear keep
    their way."""
    import grandstaff as gs
    from grandstaff.judging.ensemble import left_hand_ledger_share

    shifts = {key: gs.compose(bars=8, key=key, seed=3, candidates=1).info["shift"]
              for key in ("F major", "D minor", "G major", "D major", "E major")}
    assert shifts == {"F major": -7, "D minor": -7, "G major": -5, "D major": 2, "E major": 4}
    piece = gs.compose(bars=8, key="F major", seed=4, candidates=1)
    assert left_hand_ledger_share(piece.written_staves["bass"]) < 0.2


def test_a_primer_file_has_the_budget_of_a_corpus_file():
    """A primer is read in a worker with ingest's time and memory budget: Beethoven's op. 133
    (about 2.5 s to read) past a 1 s budget is one clear error (a 49,000-note MIDI once ran
    past 150 s), and a chorale reads as before."""
    from music21 import corpus

    from grandstaff.composing.composer import read_primer
    from grandstaff.errors import BadArgumentError

    fugue = next(p for p in corpus.getPaths() if p.name == "opus133.mxl")
    with pytest.raises(BadArgumentError, match="timed out after 1 s"):
        read_primer(fugue, timeout=1)
    chorale = sorted(p for p in corpus.getComposer("bach") if p.suffix == ".mxl")[0]
    assert set(read_primer(chorale)) == {"treble", "bass"}
