"""Training across several devices with keras.distribution.DataParallel: tested on CPU by
exposing two host devices to a fresh process, as the issue asks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from grandstaff.cli import main

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from grandstaff.corpus import load_corpus
    from grandstaff.models.model import ClefConfig
    from grandstaff.models.training import train_clef
    from grandstaff.models.sequences import split_pieces

    corpus = load_corpus(sys.argv[1], cache_dir=None, workers=1, progress=False)
    config = ClefConfig(pitch_embedding=8, duration_embedding=4, lstm_units=(16, 16),
                        dense_units=16, chunk_length=16, batch_size=8, epochs=2, patience=2,
                        validation_share=0.25)
    train_pieces, held = split_pieces(corpus, config.validation_share, 0)
    found = {}
    for devices in (1, 2):
        model = train_clef(corpus, "bass", config, seed=0, train_pieces=train_pieces,
                           held_pieces=held, verbose=0, devices=devices)
        weights = [np.asarray(w) for w in model.model.get_weights()]
        found[devices] = {"loss": model.metrics["history"]["loss"],
                          "val_loss": model.metrics["history"]["val_loss"],
                          "devices": model.metrics["devices"],
                          "weights": [w.ravel().tolist() for w in weights]}
        if devices == 2:
            sharding = model.model.trainable_weights[0].value.sharding
            found["spread"] = len(sharding.device_set)
    import jax
    found["local"] = len(jax.local_devices())
    print(json.dumps(found))
""")


def test_two_devices_train_as_one_at_the_same_batch(tmp_path, chorale_paths):
    import shutil

    folder = tmp_path / "chorales"
    folder.mkdir()
    for path in chorale_paths[:8]:
        shutil.copy(path, folder / path.name)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["local"] == 2 and found["spread"] == 2
    assert found["1"]["devices"] == 1 and found["2"]["devices"] == 2
    import numpy as np

    np.testing.assert_allclose(found["2"]["loss"], found["1"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(found["2"]["val_loss"], found["1"]["val_loss"], rtol=1e-4)
    for two, one in zip(found["2"]["weights"], found["1"]["weights"]):
        np.testing.assert_allclose(two, one, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("devices, says", [
    ("3", "devices 3: this machine has"),
    ("0", "devices '0' must be 1 or more"),
    ("many", "devices 'many' is not a whole number"),
])
def test_a_device_count_the_machine_lacks_is_one_line(tmp_path, capsys, devices, says):
    code = main(["train", "bach", "--name", "x", "--out", str(tmp_path), "--devices", devices,
                 "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and len(err.splitlines()) == 1, err
    assert not any(tmp_path.iterdir())


HOSTS = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    from grandstaff.backend import join_hosts
    hosts = join_hosts()
    from grandstaff.corpus import load_corpus
    from grandstaff.models.model import ClefConfig
    from grandstaff.models.training import train

    corpus = load_corpus(sys.argv[1], cache_dir=None, workers=1, progress=False)
    config = ClefConfig(pitch_embedding=8, duration_embedding=4, lstm_units=(16, 16),
                        dense_units=16, chunk_length=16, batch_size=8, epochs=2, patience=2,
                        validation_share=0.25)
    models = train(corpus, name="hosts", config=config, out=sys.argv[2], verbose=0,
                   devices="all")
    digest = hashlib.sha256(b"".join(np.asarray(w).tobytes()
                                     for w in models["bass"].model.get_weights())).hexdigest()
    print(json.dumps({"hosts": hosts, "digest": digest,
                      "devices": models["bass"].metrics["devices"]}))
""")


def test_two_hosts_train_one_model_and_the_first_saves_it(tmp_path, chorale_paths):
    """Two processes joined by jax.distributed (Gloo on CPU), one device each: every step's
    gradients are shared, so both end with the same weights; only the first writes the set."""
    import shutil
    import socket

    folder = tmp_path / "chorales"
    folder.mkdir()
    for path in chorale_paths[:8]:
        shutil.copy(path, folder / path.name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runs = []
    for index in range(2):
        env = {**os.environ, "JAX_PLATFORMS": "cpu",
               "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
               "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
               "KERAS_DISTRIBUTION_PROCESS_ID": str(index)}
        env.pop("XLA_FLAGS", None)
        runs.append(subprocess.Popen(
            [sys.executable, "-c", HOSTS, str(folder), str(tmp_path / f"out{index}")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    found = []
    for run in runs:
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, err[-3000:]
        found.append(json.loads(out.strip().splitlines()[-1]))
    assert [f["hosts"] for f in found] == [2, 2]
    assert [f["devices"] for f in found] == [2, 2]
    assert found[0]["digest"] == found[1]["digest"]
    assert (tmp_path / "out0" / "hosts" / "bass" / "model.keras").is_file()
    assert not (tmp_path / "out1").exists()


def test_a_multi_host_run_without_its_addresses_is_one_line(tmp_path, capsys, monkeypatch):
    for name in ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                 "KERAS_DISTRIBUTION_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    code = main(["train", "bach", "--name", "x", "--out", str(tmp_path), "--multi-host"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "KERAS_DISTRIBUTION_JOB_ADDRESSES" in err, err
