"""A fresh clone, with nothing beside it, installs and collects every test, and its schema
tests pass: a test that reads a file outside the repository (or one never committed) fails
here rather than on a newcomer's machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_a_fresh_clone_installs_collects_and_validates(tmp_path):
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    clone = tmp_path / "lonely" / "grandstaff"  # no ../shared beside it
    subprocess.run([git, "clone", "-q", str(ROOT), str(clone)], check=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", ".[test]"],
                             cwd=clone, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    collected = subprocess.run([str(python), "-m", "pytest", "--collect-only", "-q",
                                "-p", "no:cacheprovider"], cwd=clone, env=env,
                               capture_output=True, text=True)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert " error" not in collected.stdout.splitlines()[-1]
    schema = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/test_schema.py"], cwd=clone, env=env, capture_output=True,
                            text=True)
    assert schema.returncode == 0, schema.stdout[-3000:]
    assert "2 passed" in schema.stdout
