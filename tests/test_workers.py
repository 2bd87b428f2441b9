"""The worker pool: a job that crashes, hangs or eats memory costs itself only; workers die with
their parent; the library reads a corpus from every kind of entry point on a cold cache."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grandstaff.workers import run_jobs

HOOKS = Path(__file__).parent / "hooks"


@pytest.fixture
def hooks(monkeypatch):
    """Workers find the misbehaving jobs of tests/hooks through PYTHONPATH, as users' code."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(HOOKS), os.environ.get("PYTHONPATH")])))


def test_a_crash_a_hang_a_hog_and_an_exit_cost_their_own_jobs_only(hooks):
    jobs = [("square", 3), ("segfault", 0), ("hang", ""), ("hog", 4000), ("raise", 0),
            ("exit", 0), ("square", 4), ("hog", 10)]
    results = {r.index: r for r in run_jobs("worker_hooks:run", jobs, workers=2, seconds=3,
                                            memory_mb=512)}
    assert sorted(results) == list(range(len(jobs)))
    assert (results[0].ok, results[0].value) == (True, 9)
    assert (results[6].ok, results[6].value) == (True, 16)
    assert (results[7].ok, results[7].value) == (True, 10 * 2**20)
    assert results[1].reason == "worker crashed (SIGSEGV)"
    assert results[2].reason == "timed out after 3 s"
    assert results[3].reason == "ran out of its memory budget (512 MB)"
    assert results[4].reason.startswith("ValueError: a job that fails")
    assert results[5].reason == "worker crashed (exit code 3)"
    assert not any(r.ok for i, r in results.items() if i in (1, 2, 3, 4, 5))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its parent's record is left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_parent(hooks, tmp_path, how):
    flags = tmp_path / "hanging"
    flags.mkdir()
    script = textwrap.dedent(f"""
        from grandstaff.workers import run_jobs
        list(run_jobs("worker_hooks:run", [("hang", {str(flags)!r})] * 2, workers=2,
                      seconds=600))
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while len(list(flags.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = [int(p.name) for p in flags.iterdir()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        parent.send_signal(how)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "orphaned workers"
    finally:
        parent.kill()


ENTRY_CODE = """\
import sys, grandstaff as gs
c = gs.load_corpus(sys.argv[1] if len(sys.argv) > 1 else FOLDER, cache_dir=CACHE, workers=2,
                   progress=False)
print("pieces", len(c.pieces), "skipped", len(c.skipped))
"""


@pytest.fixture
def two_chorales(tmp_path, chorale_paths):
    folder = tmp_path / "music"
    folder.mkdir()
    for path in chorale_paths[:2]:
        shutil.copy(path, folder / path.name)
    (folder / "broken.mid").write_bytes(b"MThd broken")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["script without a main guard", "python -", "python -c",
                                   "interactive", "cli"])
def test_every_entry_point_reads_a_corpus_on_a_cold_cache(tmp_path, two_chorales, entry):
    cache = tmp_path / "cold-cache"
    code = ENTRY_CODE.replace("FOLDER", repr(str(two_chorales))).replace(
        "CACHE", repr(str(cache)))
    run = dict(capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if entry == "script without a main guard":
        script = tmp_path / "read.py"
        script.write_text(code)
        done = subprocess.run([sys.executable, str(script), str(two_chorales)], **run)
    elif entry == "python -":
        done = subprocess.run([sys.executable, "-"], input=code, **run)
    elif entry == "python -c":
        done = subprocess.run([sys.executable, "-c", code], **run)
    elif entry == "interactive":
        done = subprocess.run([sys.executable, "-i", "-q"], input=code + "\n", **run)
    else:
        grandstaff = Path(sys.executable).with_name("grandstaff")
        command = [str(grandstaff)] if grandstaff.exists() else [
            sys.executable, "-m", "grandstaff.cli"]
        done = subprocess.run([*command, "ingest", str(two_chorales), "--cache", str(cache),
                               "--workers", "2", "--json"], **run)
        import json

        summary = json.loads(done.stdout)
        assert (summary["pieces"], len(summary["skipped"])) == (2, 1), done.stderr[-2000:]
        return
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pieces 2 skipped 1" in done.stdout, (done.stdout, done.stderr[-2000:])
    assert (cache / next(cache.iterdir()).name / "done.json").is_file()


@pytest.mark.slow
def test_a_jupyter_kernel_reads_a_corpus_on_a_cold_cache(tmp_path, two_chorales):
    """In a notebook the main module is the kernel's: workers must never try to import it."""
    from jupyter_client.manager import start_new_kernel

    code = ENTRY_CODE.replace("FOLDER", repr(str(two_chorales))).replace(
        "CACHE", repr(str(tmp_path / "cold-cache"))).replace("sys.argv[1] if len(sys.argv) > 1 "
                                                              "else ", "")
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    printed, errors = [], []

    def collect(message):
        content = message["content"]
        if message["msg_type"] == "stream":
            printed.append(content["text"])
        elif message["msg_type"] == "error":
            errors.append(content["ename"] + ": " + content["evalue"])

    try:
        reply = client.execute_interactive(code, timeout=300, output_hook=collect)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", errors
    assert "pieces 2 skipped 1" in "".join(printed)


def test_a_worker_that_cannot_start_is_one_clear_error_not_a_loop():
    from grandstaff.workers import WorkerStartError

    with pytest.raises(WorkerStartError, match="could not start .*exit code 1"):
        list(run_jobs("no_such_module_anywhere:run", [(1,), (2,)], workers=2))


def test_a_lasting_worker_keeps_its_process_until_a_job_runs_late_or_is_cancelled(hooks):
    """The server's worker: jobs share one process (what it loaded stays loaded); a job past
    its budget or cancelled kills the process, and the next job gets a new one; a job that
    raises is one line and the process stays; a process started from a thread that then ends
    lives on (Linux's parent-death signal follows the thread that started a child)."""
    import threading

    from grandstaff.workers import JobFailed, JobStopped, Worker

    worker = Worker("worker_hooks:run")
    try:
        started = threading.Thread(target=lambda: worker.call(("square", 2), seconds=60))
        started.start()
        started.join()
        first = worker.pid
        time.sleep(0.5)  # the thread that started it is gone
        assert worker.call(("square", 7), seconds=60) == 49 and worker.pid == first
        with pytest.raises(JobFailed, match="ValueError: a job that fails in the ordinary"):
            worker.call(("raise", 0), seconds=60)
        assert worker.pid == first
        with pytest.raises(JobStopped, match="ran past its 1 s") as late:
            worker.call(("hang", ""), seconds=1)
        assert late.value.reason == "timed out" and worker.pid is None
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)
        asked = time.monotonic()
        with pytest.raises(JobStopped, match="cancelled"):
            worker.call(("hang", ""), seconds=600,
                        cancelled=lambda: time.monotonic() > asked + 0.5)
        assert worker.call(("square", 3), seconds=60) == 9 and worker.started == 3
        with pytest.raises(JobFailed, match="worker crashed \\(SIGSEGV\\)"):
            worker.call(("segfault", 0), seconds=60)
    finally:
        worker.stop()
