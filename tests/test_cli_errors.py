"""Every bad argument or broken model folder is one line on stderr and exit code 2, found before
any slow work, and leaves no file behind."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from grandstaff.cli import main
from grandstaff.errors import BadInputError, GrandstaffWarning, ModelMismatchError
from grandstaff.models.model import load_models, models_root


def _one_line_error(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("grandstaff: error:"), err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, says", [
    (["--seed", "-1"], "seed '-1' must be 0 or more"),
    (["--out", "."], "names a folder"),
    (["--out", "FILE/x"], "is a file, not a folder"),
    (["--out", "folder", "--force"], "is a folder"),
    (["--title", "caf\udcff"], "not valid UTF-8"),
    (["--composer", "A\\"], "backslash"),
    (["--engraver", "sibelius"], "invalid choice: 'sibelius'"),
    (["--staves", "organ"], "invalid choice: 'organ'"),
    (["--phrases", "1,2"], "phrases '1,2' add up to 3 bars, not the 2 asked for"),
    (["--phrases", "long"], "phrases 'long' must be 'auto', 'none' or bars per phrase"),
    (["--pickup", "4"], "pickup '4' must be 'auto', 'none' or quarters before the first"),
    (["--pickup", "1/7"], "less than a bar of 4/4 (4), such as 1 or 1/2"),
    (["--pickup", "1", "--primer", "bach:bwv437"], "the primer leads into the piece"),
    (["--temperature", "1e-200"], "temperature '1e-200' must be from 0.05 to 5"),
    (["--tempo", "3.6"], "tempo '3.6' must be from 20 to 400"),
    (["--formats", "wav", "--bars", "200", "--tempo", "20"], "the piece would last 40.0 minutes"),
    (["--primer", "bach:nosuch"], "no piece 'nosuch' in the Bach corpus"),
    (["--primer", "bach:bwv10.8"], "did you mean"),
    (["--formats", "wav", "--soundfont", "nosuch.sf2"], "is not a file; give the path of an .sf2"),
    (["--formats", "wav", "--soundfont", "FILE"], "is not a SoundFont 2 (.sf2) file"),
])
def test_bad_compose_arguments_are_one_line(tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("a file")
    (tmp_path / "folder.mid").mkdir()
    before = set(tmp_path.rglob("*"))
    err = _one_line_error(capsys, ["compose", "--bars", "2", "--formats", "midi",
                                   "--no-jax-cache", *argv])
    assert says in err
    assert set(tmp_path.rglob("*")) == before  # nothing written


def _broken_set(tmp_path, damage: str):
    folder = tmp_path / "models"
    shutil.copytree(models_root("bach"), folder)
    config_path = folder / "treble" / "config.json"
    config = json.loads(config_path.read_text())
    if damage == "null":
        config = None
    elif damage == "list":
        config = [1, 2]
    elif damage == "wrong type":
        config["model"]["lstm_units"] = "big"
    elif damage == "float for a size":
        config["model"]["dense_units"] = 1.5
    elif damage == "vocabulary is a list":
        (folder / "treble" / "vocab.json").write_text("[1, 2]")
    elif damage == "model is text":
        config["model"] = "small"
    elif damage == "alto":
        config["clef"] = "alto"
    elif damage == "bass in the treble folder":
        config["clef"] = "bass"
    elif damage in ("zero tick", "negative"):
        vocab_path = folder / "treble" / "vocab.json"
        vocab = json.loads(vocab_path.read_text())
        vocab["duration"][3] = "0" if damage == "zero tick" else "-1/2"
        vocab_path.write_text(json.dumps(vocab))

        def fingerprint(tokens):
            return hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16]

        config["vocab_fingerprint"] = (f"{fingerprint(vocab['pitch'])}-"
                                       f"{fingerprint(vocab['duration'])}")
    config_path.write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("damage, error, says", [
    ("null", BadInputError, "not a grandstaff clef config"),
    ("list", BadInputError, "not a grandstaff clef config"),
    ("wrong type", BadInputError, "'lstm_units' must be a list of whole numbers, not \"big\""),
    ("float for a size", BadInputError, "'dense_units' must be a whole number, not 1.5"),
    ("vocabulary is a list", BadInputError,
     "expected an object with 'pitch' and 'duration' lists of tokens"),
    ("model is text", BadInputError, "'model' must be a JSON object of settings"),
    ("alto", BadInputError, "clef 'alto' is not one of treble, bass"),
    ("bass in the treble folder", ModelMismatchError, "holds a bass model"),
    ("zero tick", BadInputError, "duration token '0' must be positive"),
    ("negative", BadInputError, "duration token '-1/2' must be positive"),
])
def test_a_broken_model_folder_is_one_clear_error(tmp_path, capsys, damage, error, says):
    folder = _broken_set(tmp_path, damage)
    with pytest.raises(error, match=says.replace("(", r"\(")):
        load_models(str(folder))
    err = _one_line_error(capsys, ["compose", "--bars", "2", "--formats", "midi", "--out",
                                   str(tmp_path / "p"), "--models", str(folder),
                                   "--no-jax-cache"])
    assert says in err
    assert not list(tmp_path.glob("p.*"))


def test_an_unknown_config_key_is_a_warning_not_an_error(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(models_root("bach"), folder)
    config_path = folder / "bass" / "config.json"
    config = json.loads(config_path.read_text())
    config["model"]["attention_heads"] = 4
    config_path.write_text(json.dumps(config))
    with pytest.warns(GrandstaffWarning, match="'attention_heads' are unknown"):
        models = load_models(str(folder))
    assert models["bass"].config == load_models("bach")["bass"].config


@pytest.mark.parametrize("out, says", [
    ("/proc/nope/x", "cannot write into /proc/nope"),
    ("a" * 300, "is too long"),
    ("b" * 300 + "/x", "cannot write into"),
])
def test_an_output_path_that_cannot_be_written_is_refused_before_composing(
        tmp_path, monkeypatch, capsys, out, says):
    monkeypatch.chdir(tmp_path)
    err = _one_line_error(capsys, ["compose", "--bars", "2", "--formats", "midi", "--out", out,
                                   "--no-jax-cache"])
    assert says in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "../evil", ".hidden"])
def test_a_bad_model_name_is_the_first_thing_said(tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clefs").mkdir()  # 'clefs/' + '' exists: the name must still come first
    for force in ([], ["--force"]):
        err = _one_line_error(capsys, ["train", str(tmp_path), "--name", name, "--epochs", "1",
                                       *force])
        assert f"model name {name!r} must be a plain folder name" in err


def test_serving_on_a_busy_port_is_one_line_before_the_models_load(tmp_path, capsys):
    import socket

    pytest.importorskip("uvicorn")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        err = _one_line_error(capsys, ["serve", "--port", str(port), "--no-warm-up", "--out",
                                       str(tmp_path / "web")])
    finally:
        taken.close()
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert not (tmp_path / "web").exists()


@pytest.mark.parametrize("budget", ["0", "0.5", "7200", "inf", "nan"])
def test_a_server_budget_out_of_range_is_one_line(tmp_path, capsys, budget):
    pytest.importorskip("uvicorn")
    err = _one_line_error(capsys, ["serve", "--budget", budget, "--no-warm-up", "--out",
                                   str(tmp_path / "web")])
    assert f"budget {float(budget)!r}" in err and "must be from 1 to 3600 seconds" in err \
        or "is not a finite number" in err
    assert not (tmp_path / "web").exists()


def test_a_model_file_that_declares_gigabytes_is_refused_before_it_is_read(tmp_path, capsys):
    """A 3 MB model.keras whose weights member claims 3 GB is one line, before any of it is
    unpacked (it once took compose to 6.3 GB of memory first)."""
    import struct
    import zipfile

    folder = tmp_path / "models"
    shutil.copytree(models_root("bach"), folder)
    model = folder / "treble" / "model.keras"
    with zipfile.ZipFile(model) as archive:
        names = archive.namelist()
    data = bytearray(model.read_bytes())
    # the central directory's uncompressed size of the weights member claims 3 GB
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + length] == b"model.weights.h5":
            struct.pack_into("<I", data, at + 24, 3 * 2**30)
        at = data.find(b"PK\x01\x02", at + 4)
    model.write_bytes(bytes(data))
    assert "model.weights.h5" in names
    err = _one_line_error(capsys, ["compose", "--bars", "2", "--formats", "midi", "--out",
                                   str(tmp_path / "p"), "--models", str(folder),
                                   "--no-jax-cache"])
    assert "unpacks to 3,0" in err and "more than the 512 MB" in err


def test_a_huge_or_truncated_soundfont_is_refused_before_it_is_read(tmp_path, capsys):
    """A sparse 3 GB file with a SoundFont's first bytes, and a SoundFont cut short, are one
    line each before composing (the first was once read whole)."""
    from grandstaff.output.audio import default_soundfont

    real = default_soundfont().read_bytes()
    huge = tmp_path / "huge.sf2"
    with huge.open("wb") as file:
        file.write(real[:64])
        file.truncate(3 * 2**30)
    cut = tmp_path / "cut.sf2"
    cut.write_bytes(real[: len(real) // 2])
    for font, says in ((huge, "is 3,072 MB, more than the 1024 MB"), (cut, "must be whole")):
        err = _one_line_error(capsys, ["compose", "--bars", "2", "--formats", "wav", "--out",
                                       str(tmp_path / "p"), "--soundfont", str(font),
                                       "--no-jax-cache"])
        assert says in err
    assert not list(tmp_path.glob("p.*"))


def _rewrite_config(folder, change) -> None:
    """Rewrite the config.json inside the treble's model.keras with ``change(config)``."""
    import zipfile

    model = folder / "treble" / "model.keras"
    with zipfile.ZipFile(model) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["config.json"] = json.dumps(change(json.loads(files["config.json"]))).encode()
    with zipfile.ZipFile(model, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def _with_lambda(config):
    config["config"]["layers"][3]["class_name"] = "Lambda"
    return config


def _without_a_name(config):
    del config["config"]["layers"][3]["config"]["name"]
    return config


@pytest.mark.parametrize("change, says", [
    (lambda config: [1, 2, 3], "is not a Keras model's"),
    (_with_lambda, "is a Lambda layer, which a grandstaff clef model never holds"),
    (_without_a_name, "every layer needs a class and a name"),
])
def test_a_model_file_of_another_shape_is_one_line(tmp_path, capsys, change, says):
    """A model.keras whose config is a list, holds a Lambda layer or a layer without a name
    (once KeyError, AttributeError, KeyError tracebacks) is one line, before any step."""
    folder = tmp_path / "models"
    shutil.copytree(models_root("bach"), folder)
    _rewrite_config(folder, change)
    err = _one_line_error(capsys, ["compose", "--bars", "2", "--formats", "midi", "--out",
                                   str(tmp_path / "p"), "--models", str(folder),
                                   "--no-jax-cache"])
    assert says in err
