"""Interrupted and concurrent runs leave nothing half-done behind, and files the user gets are
ordinary files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from grandstaff.cli import main
from grandstaff.composing.piece import Piece, plan_outputs
from grandstaff.corpus import cache_folder
from grandstaff.errors import OutputExistsError
from grandstaff.files import current_umask
from grandstaff.music.events import Event
from grandstaff.music.keys import Key
from grandstaff.output.render import write_midi

PIECE = Piece({"treble": (Event((72, 76), Fraction(4)),), "bass": (Event((48,), Fraction(4)),)},
              Key("C", "major"))


def _grandstaff() -> list[str]:
    script = Path(sys.executable).with_name("grandstaff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grandstaff.cli"]


@pytest.mark.slow
def test_written_files_follow_the_umask(tmp_path, tiny_models):
    old = os.umask(0o027)
    try:
        written = PIECE.write(tmp_path / "p", formats=("musicxml", "midi", "pdf"))
    finally:
        os.umask(old)
    assert {f: oct(p.stat().st_mode & 0o777) for f, p in written.items()} == {
        f: oct(0o640) for f in ("musicxml", "midi", "pdf", "png")}
    folder = tiny_models / "treble"
    assert folder.stat().st_mode & 0o777 == 0o777 & ~current_umask()
    assert (folder / "config.json").stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_a_half_written_set_is_named_whole_in_the_refusal(tmp_path):
    PIECE.write(tmp_path / "p", formats=("musicxml", "midi"))
    with pytest.raises(OutputExistsError) as refused:
        plan_outputs(tmp_path / "p", "musicxml,midi,pdf")
    message = str(refused.value)
    assert "p.musicxml" in message and "p.mid" in message
    assert "p.pdf, p.png not (an earlier run stopped halfway)" in message
    assert set(plan_outputs(tmp_path / "p", "pdf")) == {"pdf", "png"}  # only new files


def _alive_in(folder: Path) -> list[int]:
    """Processes whose working folder lies in ``folder`` (engravers run in their temp folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(folder) in os.readlink(entry / "cwd"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _as_from_a_terminal() -> None:
    """Start the child with Ctrl-C at its default, as a shell starts a command: a child
    inherits an ignored SIGINT, and Python then leaves it ignored, so anything in the test
    process that ignores SIGINT would make the child deaf to it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_compose_stopped_while_engraving_leaves_nothing_behind(tmp_path, how, code):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp))
    out = tmp_path / "scores" / "p"
    process = subprocess.Popen(
        [*_grandstaff(), "compose", "--bars", "8", "--candidates", "1", "--seed", "1",
         "--out", str(out), "--no-jax-cache"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_as_from_a_terminal)
    try:
        # the converter waits in the temporary folder from the start (it starts while the
        # piece is composed); the engraving has begun once the score is handed to it
        deadline = time.monotonic() + 120
        while not (_alive_in(temp) and list(temp.rglob("input.musicxml"))) and (
                process.poll() is None and time.monotonic() < deadline):
            time.sleep(0.02)
        assert _alive_in(temp), "the engraver never started"
        process.send_signal(how)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, err
    assert "nothing half-written was left" in err and "Traceback" not in err
    time.sleep(0.5)
    assert _alive_in(temp) == [] and list(temp.iterdir()) == []
    assert not list(out.parent.glob(".*"))  # no temporary files beside the scores
    assert not out.with_suffix(".pdf").exists()
    done = subprocess.run([*_grandstaff(), "compose", "--bars", "8", "--candidates", "1",
                           "--seed", "1", "--out", str(out), "--formats", "pdf",
                           "--no-jax-cache"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr  # the debris of the first run blocks nothing


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_temporary_folders_of_a_killed_compose_are_cleared_by_the_next_run(tmp_path):
    """SIGKILL cannot be caught: the killed run's grandstaff-* folders stay, and the next run
    (which finds their process gone) removes them before it makes its own."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp))
    out = tmp_path / "scores" / "p"
    command = [*_grandstaff(), "compose", "--bars", "8", "--candidates", "1", "--seed", "1",
               "--out", str(out), "--no-jax-cache"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _alive_in(temp) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _alive_in(temp), "the engraver never started"
        process.kill()
        process.wait()
    finally:
        process.kill()
    left = sorted(p.name for p in temp.iterdir())
    assert left and all(name.startswith("grandstaff-") and f"-{process.pid}-" in name
                        for name in left)
    deadline = time.monotonic() + 60
    while _alive_in(temp) and time.monotonic() < deadline:  # the orphaned engraver ends
        time.sleep(0.1)
    done = subprocess.run([*command, "--formats", "midi"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(temp.iterdir()) == []


@pytest.fixture
def folder(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    for seed in range(6):
        write_midi(Piece({"treble": (Event((60 + seed,), Fraction(4)),),
                          "bass": (Event((48,), Fraction(4)),)}, Key("C", "major")).score,
                   music / f"p{seed}.mid")
    return music


def _ingest(folder: Path, cache: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*_grandstaff(), "ingest", str(folder), "--cache", str(cache),
                             "--json", "--workers", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_two_ingests_at_once_both_finish_with_the_same_corpus(folder, tmp_path):
    cache = tmp_path / "cache"
    first, second = _ingest(folder, cache), _ingest(folder, cache)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == second.returncode == 0, "\n\n".join(
        f"ingest {n} exited {p.returncode}; stderr:\n{err}"
        for n, (p, (_, err)) in enumerate(zip((first, second), results), 1))
    summaries = [json.loads(out) for out, _ in results]
    assert not any("warning" in err for _, err in results), results
    for summary in summaries:
        summary.pop("seconds"), summary.pop("cached")
    assert summaries[0] == summaries[1] and summaries[0]["pieces"] == 6
    again = _ingest(folder, cache)
    out, err = again.communicate(timeout=300)
    assert json.loads(out)["cached"] and "warning" not in err
    assert [p.name for p in cache.iterdir()] == [
        cache_folder(cache, summaries[0]["fingerprint"]).name]


@pytest.mark.slow
def test_an_ingest_killed_at_any_point_leaves_no_cache_taken_for_whole(folder, tmp_path):
    cache = tmp_path / "cache"
    fresh = main(["ingest", str(folder), "--no-cache", "--json"])
    assert fresh == 0
    for delay in (0.3, 0.8, 1.3, 1.8, 2.5, 3.5):
        process = _ingest(folder, cache)
        time.sleep(delay)
        process.kill()
        process.communicate()
    done = _ingest(folder, cache)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0 and "damaged" not in err, err
    summary = json.loads(out)
    assert summary["pieces"] == 6 and not summary["skipped"]
    assert not [p for p in cache.iterdir() if p.name.startswith(".corpus-")]  # debris cleared


def test_candidates_and_bars_have_bounds_with_one_line_refusals(capsys):
    for argv, says in ((["--candidates", "10000"], "from 1 to 64"),
                       (["--candidates", "64", "--bars", "200"], "12,800 bars at once")):
        assert main(["compose", "--formats", "midi", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_parallel_composes_to_one_out_leave_one_whole_set(tmp_path):
    """Four runs given the same --out at once: one writes its set, the other three say the
    files exist already (not that a run stopped halfway), and the set is not mixed."""
    from music21 import converter

    keys = ("C major", "D major", "E major", "F major")
    runs = [subprocess.Popen(
        [*_grandstaff(), "compose", "--bars", "2", "--seed", "7", "--key", key, "--candidates",
         "1", "--formats", "musicxml,midi", "--out", str(tmp_path / "same"),
         "--no-jax-cache"], stderr=subprocess.PIPE, text=True) for key in keys]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert sorted(code for code, _ in results) == [0, 2, 2, 2], results
    for code, err in results:
        if code == 2:
            assert "exist already" in err and "stopped halfway" not in err, err
    used = {name: {p.midi for n in converter.parse(tmp_path / name).flatten().notes
                   for p in n.pitches} for name in ("same.musicxml", "same.mid")}
    assert used["same.musicxml"] == used["same.mid"]  # one piece, in one key


@pytest.mark.slow
def test_an_interrupted_compose_names_its_seed_and_the_files_it_kept(tmp_path):
    """Ctrl-C while the WAV is rendered: the finished MusicXML and MIDI stay and are named,
    with the seed that made them (once the message said nothing was left, under a seed never
    printed)."""
    out = tmp_path / "q"
    run = subprocess.Popen(
        [*_grandstaff(), "compose", "--bars", "150", "--candidates", "1", "--formats",
         "musicxml,midi,wav", "--out", str(out), "--no-jax-cache"],
        stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 120
    while not Path(f"{out}.mid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(f"{out}.mid").exists() and run.poll() is None, "no window to interrupt in"
    run.send_signal(signal.SIGINT)
    code, err = run.wait(timeout=60), run.stderr.read()
    assert code == 130, err
    line = err.strip().splitlines()[-1]
    assert "interrupted (seed " in line and f"kept the finished {out}.musicxml" in line
    assert f"{out}.mid" in line and not Path(f"{out}.wav").exists()
