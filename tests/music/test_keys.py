import pytest

from grandstaff.errors import BadArgumentError
from grandstaff.music.keys import Key

SIGNATURES = {
    "C major": 0, "G major": 1, "D major": 2, "A major": 3, "E major": 4, "B major": 5,
    "F# major": 6, "C# major": 7, "F major": -1, "Bb major": -2, "Eb major": -3, "Ab major": -4,
    "Db major": -5, "Gb major": -6, "Cb major": -7,
    "A minor": 0, "E minor": 1, "B minor": 2, "F# minor": 3, "C# minor": 4, "G# minor": 5,
    "D# minor": 6, "A# minor": 7, "D minor": -1, "G minor": -2, "C minor": -3, "F minor": -4,
    "Bb minor": -5, "Eb minor": -6, "Ab minor": -7,
}


@pytest.mark.parametrize("name,sharps", SIGNATURES.items())
def test_every_key_has_its_signature_and_matches_music21(name, sharps):
    key = Key.parse(name)
    assert key.sharps == sharps
    assert key.to_music21().sharps == sharps


@pytest.mark.parametrize("text,expected", [
    ("E minor", Key("E", "minor")), ("e", Key("E", "minor")), ("E-", Key("Eb", "major")),
    ("Eb major", Key("Eb", "major")), ("F# major", Key("F#", "major")),
    ("f#m", Key("F#", "minor")), ("bb minor", Key("Bb", "minor")), ("G", Key("G", "major")),
    ("G# major", Key("Ab", "major")),
])
def test_usual_spellings_parse(text, expected):
    assert Key.parse(text) == expected


@pytest.mark.parametrize("text", ["H major", "", "C lydian", "Cx"])
def test_unknown_keys_name_the_value(text):
    with pytest.raises(BadArgumentError, match="is not a key name"):
        Key.parse(text)


def test_spelling_follows_the_key():
    assert Key.parse("Eb minor").spelling()[6] == "G-"
    assert Key.parse("F# major").spelling()[5] == "E#"
    assert Key.parse("A minor").spelling()[8] == "G#"  # leading tone
    assert Key.parse("F major").spelling()[10] == "B-"


def test_shift_from_reference_is_the_short_way():
    assert Key.parse("E minor").semitones_from_reference() == -5
    assert Key.parse("D major").semitones_from_reference() == 2
