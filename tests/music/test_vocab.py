import json

import pytest

from grandstaff.errors import BadInputError, MissingFileError
from grandstaff.music.vocab import Vocabulary


def test_build_puts_special_tokens_first_then_music_in_stable_order():
    vocab = Vocabulary.build(["64", "rest", "48.55", "60", "60"])
    assert vocab.tokens == ("<pad>", "<major>", "<minor>", "rest", "48.55", "60", "64")
    assert vocab.pad_id == 0
    assert vocab.decode(vocab.encode(["60", "rest"])) == ["60", "rest"]
    assert vocab.special_ids() == [0, 1, 2]


def test_duration_tokens_sort_by_value():
    vocab = Vocabulary.build(["2", "1/2", "3/2", "1/3"], head="duration")
    assert vocab.tokens[3:] == ("1/3", "1/2", "3/2", "2")


def test_save_load_is_json_and_identical(tmp_path):
    vocab = Vocabulary.build(["60", "rest"])
    vocab.save(tmp_path / "vocab.json")
    assert json.loads((tmp_path / "vocab.json").read_text())["tokens"][3:] == ["rest", "60"]
    assert Vocabulary.load(tmp_path / "vocab.json") == vocab


def test_unknown_token_missing_and_corrupt_files_are_clear_errors(tmp_path):
    vocab = Vocabulary.build(["60"])
    with pytest.raises(BadInputError, match="'61'"):
        vocab.id("61")
    with pytest.raises(MissingFileError):
        Vocabulary.load(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(BadInputError, match="not a grandstaff vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")
