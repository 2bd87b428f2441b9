"""Audio: the WAV of a piece is its music at its tempo, audible and not clipped, made by pip
alone (midirenderer and the SoundFont in the pretty-midi wheel)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grandstaff.composing.piece import EngravingFailed, Piece
from grandstaff.errors import BadArgumentError
from grandstaff.music.events import Event
from grandstaff.music.keys import Key
from grandstaff.output.audio import PEAK_DBFS, loudness, read_pcm


def _piece(bars: int, tempo: float, time_signature: str = "4/4", rest_bars: int = 0) -> Piece:
    """``rest_bars`` silent bars, then chords of one bar each, bass under treble."""
    bar = Fraction(int(time_signature.split("/")[0]) * 4, int(time_signature.split("/")[1]))
    treble = [Event((), bar)] * rest_bars + [Event((72, 76), bar)] * (bars - rest_bars)
    bass = [Event((), bar)] * rest_bars + [Event((48,), bar)] * (bars - rest_bars)
    return Piece({"treble": tuple(treble), "bass": tuple(bass)}, Key("C", "major"),
                 time_signature=time_signature, tempo=tempo)


@pytest.mark.parametrize("bars, tempo, time_signature", [(4, 120, "4/4"), (6, 72, "3/4"),
                                                         (3, 200, "6/8")])
def test_the_wav_lasts_the_bars_at_the_tempo_and_is_heard(tmp_path, bars, tempo,
                                                         time_signature):
    piece = _piece(bars, tempo, time_signature)
    written = piece.write(tmp_path / "piece", ["wav"])
    assert list(written) == ["wav"] and not (tmp_path / "piece.mid").exists()
    level = loudness(written["wav"].read_bytes())
    quarters = float(bars * piece.staves["treble"][0].duration)
    beat = 60 / tempo
    assert abs(level["seconds"] - quarters * beat) <= beat, level
    assert level["peak_dbfs"] == pytest.approx(PEAK_DBFS, abs=0.05)
    assert -30 < level["rms_dbfs"] < -6, level  # clearly audible, not a wall of noise


def test_the_sound_starts_when_the_first_note_does(tmp_path):
    """Two bars of rest at 60 bpm (8 s) and then a chord: silence first, then the piano."""
    path = _piece(4, 60, rest_bars=2).write(tmp_path / "late", ["wav"])["wav"]
    params, samples = read_pcm(path.read_bytes())
    rate = params.framerate
    level = np.abs(samples.astype(np.float64)).max(axis=1)
    assert level[: int(7.9 * rate)].max() == 0
    assert level[int(8.0 * rate): int(8.5 * rate)].max() > 1000


def test_midi_and_wav_are_written_together(tmp_path):
    written = _piece(2, 96).write(tmp_path / "both", ["midi", "wav"])
    assert sorted(written) == ["midi", "wav"]
    assert written["wav"].read_bytes()[:4] == b"RIFF"


def test_a_bad_soundfont_is_refused_before_anything_is_written(tmp_path):
    fake = tmp_path / "piano.sf2"
    fake.write_bytes(b"not a soundfont")
    with pytest.raises(BadArgumentError, match="is not a SoundFont 2"):
        _piece(2, 96).write(tmp_path / "x", ["midi", "wav"], soundfont=fake)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["piano.sf2"]


def test_a_soundfont_the_synthesiser_cannot_read_keeps_the_midi(tmp_path):
    """A whole file with the SoundFont header and an empty INFO list, nothing else: the MIDI
    stays, the error says so."""
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00sfbkLIST\x04\x00\x00\x00INFO")
    with pytest.raises(EngravingFailed, match="midi files were written") as failure:
        _piece(2, 96).write(tmp_path / "y", ["midi", "wav"], soundfont=broken)
    assert sorted(failure.value.written) == ["midi"]
    assert (tmp_path / "y.mid").exists() and not (tmp_path / "y.wav").exists()
