"""A pool of worker processes where one job can never cost more than itself.

>>> from grandstaff.workers import run_jobs
>>> results = run_jobs("math:factorial", [(5,), (3,)], workers=2)   # doctest: +SKIP
>>> [r.value for r in results]                                       # doctest: +SKIP
[120, 6]

Each worker is a fresh ``python -c`` process that imports grandstaff, never the caller's main
module, so the pool works the same from a script without a main guard, ``python -``,
``python -c``, a notebook or the CLI. Jobs and results travel as length-prefixed pickles over
the worker's stdin and a copy of its stdout (the worker's own prints go to stderr).

* A job gets ``seconds`` of wall time; a worker past it is killed and replaced, and the job
  is reported as timed out.
* A worker may grow ``memory_mb`` beyond what it holds when it is ready (``RLIMIT_AS``); a job
  that needs more fails with a MemoryError inside the worker, which is reported and replaced.
* A worker that dies (a crash, a signal, ``os._exit``) costs its job only; a new one starts.
* Workers die with their parent: on Linux the kernel kills them when it dies
  (``PR_SET_PDEATHSIG``); elsewhere they stop when their stdin closes.

POSIX only (it waits on pipes with ``selectors``); on Windows jobs run in this process.
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import GrandstaffError

#: Default wall time and extra memory of one job.
DEFAULT_SECONDS = 60.0
DEFAULT_MEMORY_MB = 2048
#: How long a new worker may take to import what it needs before the pool gives up.
START_SECONDS = 120.0
_HEADER = struct.Struct(">Q")


class WorkerStartError(GrandstaffError, RuntimeError):
    """A worker process could not even start (grandstaff or a module cannot be imported)."""


class JobStopped(GrandstaffError, RuntimeError):
    """A job of a :class:`Worker` ran past its time or was cancelled, and its process was
    killed; ``reason`` is ``"timed out"`` or ``"cancelled"``."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class JobFailed(RuntimeError):
    """A job of a :class:`Worker` raised, or its process died; the message is one line."""


@dataclass(frozen=True)
class JobResult:
    """What became of one job: ``value`` when ``ok``, else ``reason`` says why not."""

    index: int
    ok: bool
    value: Any = None
    reason: str = ""


def resolve(spec: str) -> Callable:
    """The function named ``"module:function"``."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


# --- the worker side ---------------------------------------------------------------------------


def _send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)


def _limit_memory(memory_mb: int | None) -> None:
    if not memory_mb:
        return
    try:
        import resource

        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = held + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no RLIMIT_AS here: the time limit still holds


_BYTES = re.compile(r"""\bb(['"]).*?(?:\1|$)""")


def reason_text(exc: BaseException) -> str:
    """One line for a failed job: the error's kind and message, with any bytes it quotes
    from the file left out (a file's content never reaches a skip reason or the cache).

    >>> reason_text(ValueError("bad header: b'root:x:0:0:root:/root'"))
    'ValueError: bad header: (bytes not shown)'
    """
    return f"{type(exc).__name__}: {without_bytes(' '.join(str(exc).split()))[:200]}"


def without_bytes(text: str) -> str:
    """``text`` with every bytes literal it quotes (``b'...'``) left out."""
    return _BYTES.sub("(bytes not shown)", text)


def serve(function: str, parent: int, memory_mb: int | None,
          preload: Sequence[str] = ()) -> None:
    """The worker's loop: run ``function(*args)`` for every job until stdin closes."""
    _die_with_parent(parent)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the job prints goes to stderr, never into the replies
    requests = os.fdopen(0, "rb")
    for module in preload:  # imported before the clock of the first job starts
        importlib.import_module(module)
    target = resolve(function)
    _limit_memory(memory_mb)
    _send(replies, ("ready", os.getpid()))
    while True:
        job = _receive(requests)
        if job is None:
            return
        try:
            reply = ("ok", target(*job))
        except MemoryError:  # a worker that hit its limit is replaced, not trusted again
            _send(replies, ("last", f"ran out of its memory budget ({memory_mb} MB)"))
            return
        except Exception as exc:  # the caller's function decides what it raises
            reply = ("error", reason_text(exc))
        _send(replies, reply)


# --- the parent side ---------------------------------------------------------------------------


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[1])


class _Worker:
    """One worker process and the job it is running."""

    def __init__(self, function: str, memory_mb: int | None, preload: Sequence[str],
                 stderr, environment: Mapping[str, str] | None = None) -> None:
        env = {**os.environ, **(environment or {})}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(),
                                                          env.get("PYTHONPATH")]))
        code = (f"from grandstaff.workers import serve; "
                f"serve({function!r}, {os.getpid()}, {memory_mb!r}, {tuple(preload)!r})")
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=stderr, env=env, start_new_session=False)
        self.job: int | None = None
        self.deadline = 0.0
        self.ready = False
        self.started = time.monotonic()

    def send(self, index: int, args: tuple, seconds: float) -> None:
        self.job, self.deadline = index, time.monotonic() + seconds
        try:
            _send(self.process.stdin, args)
        except OSError:
            pass  # it died: its end of file arrives at the next select

    def receive(self):
        return _receive(self.process.stdout)

    def death(self) -> str:
        code = self.process.wait()
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"worker crashed ({name})"
        return f"worker crashed (exit code {code})"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


def run_jobs(
    function: str,
    jobs: Sequence[tuple],
    *,
    workers: int = 1,
    seconds: float | None = DEFAULT_SECONDS,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    preload: Sequence[str] = (),
    quiet: bool = True,
) -> Iterator[JobResult]:
    """Run ``function(*job)`` for every job in ``workers`` processes; yield results as they end.

    ``function`` is named as ``"module:function"`` so that workers import it themselves.
    Results come in the order jobs finish; each carries the job's index. Workers import the
    ``preload`` modules before they take a job, so a job's clock never counts them. ``quiet``
    sends the workers' stderr to the void (music21 is chatty); ``False`` lets it through.
    """
    if os.name != "posix":  # pragma: no cover - no pipes to wait on
        target = resolve(function)
        for index, job in enumerate(jobs):
            try:
                yield JobResult(index, True, target(*job))
            except Exception as exc:
                yield JobResult(index, False, reason=reason_text(exc))
        return
    pending = deque(enumerate(jobs))
    stderr = subprocess.DEVNULL if quiet else None
    pool: list[_Worker] = []
    selector = selectors.DefaultSelector()

    def start() -> _Worker:
        worker = _Worker(function, memory_mb, preload, stderr)
        selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
        pool.append(worker)
        return worker

    def retire(worker: _Worker) -> None:
        selector.unregister(worker.process.stdout)
        pool.remove(worker)
        worker.stop()

    def replace(worker: _Worker) -> None:
        """Retire ``worker`` and start another while jobs are waiting."""
        retire(worker)
        if pending:
            start()

    try:
        for _ in range(max(1, min(workers, len(pending)))):
            start()
        while pending or any(w.job is not None for w in pool):
            for worker in pool:
                if worker.ready and worker.job is None and pending:
                    index, job = pending.popleft()
                    worker.send(index, job, seconds if seconds else float("inf"))
            now = time.monotonic()
            deadlines = [w.deadline if w.ready else w.started + START_SECONDS for w in pool]
            wait = max(0.0, min(deadlines) - now) if deadlines else None
            for key, _ in selector.select(timeout=min(wait, 1.0) if wait is not None else 1.0):
                worker = key.data
                message = worker.receive()
                if message is None:  # the worker died
                    if not worker.ready:
                        reason = worker.death()
                        retire(worker)
                        raise WorkerStartError(
                            f"a worker process could not start ({reason}); "
                            "run_jobs(..., quiet=False) shows its error output")
                    index, reason = worker.job, worker.death()
                    replace(worker)
                    if index is not None:
                        yield JobResult(index, False, reason=reason)
                    continue
                kind, value = message
                if kind == "ready":
                    worker.ready = True
                    continue
                index, worker.job = worker.job, None
                if kind == "last":  # it failed and is leaving: take no more jobs to it
                    replace(worker)
                yield JobResult(index, kind == "ok", value if kind == "ok" else None,
                                "" if kind == "ok" else value)
            now = time.monotonic()
            for worker in list(pool):
                if not worker.ready and now > worker.started + START_SECONDS:
                    retire(worker)
                    raise WorkerStartError(
                        f"a worker process did not start within {START_SECONDS:.0f} s")
                if worker.job is not None and now > worker.deadline:
                    index = worker.job
                    replace(worker)
                    yield JobResult(index, False, reason=f"timed out after {seconds:g} s")
            if not pool and pending:
                start()
    finally:
        for worker in list(pool):
            retire(worker)
        selector.close()


_SPAWNER = None
_SPAWNER_LOCK = threading.Lock()


def _spawner():
    """One thread that lasts as long as this process and starts every :class:`Worker`'s
    process: Linux sends ``PR_SET_PDEATHSIG`` when the *thread* that started a child ends, so
    a process started from a short-lived thread (a web server's thread pool) would be killed
    when that thread is retired."""
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            from concurrent.futures import ThreadPoolExecutor

            _SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="grandstaff-spawner")
        return _SPAWNER


class Worker:
    """One long-lived worker process that runs ``function`` for one job at a time, each job
    with its own time budget and a way to cancel it: a job past its budget, or cancelled,
    kills the process (whatever it was doing: a compiled loop, a synthesiser, an engraver),
    and the next job starts a fresh one. What the process loaded stays loaded between jobs.

    >>> worker = Worker("math:factorial")                        # doctest: +SKIP
    >>> worker.call((20,), seconds=5)                            # doctest: +SKIP
    2432902008176640000

    ``environment`` is added to the process's environment (for example a ``TMPDIR`` its
    caller clears after a kill). Not thread-safe: one caller at a time.
    """

    def __init__(self, function: str, *, memory_mb: int | None = None,
                 preload: Sequence[str] = (), quiet: bool = True,
                 environment: Mapping[str, str] | None = None) -> None:
        self.function, self.memory_mb, self.preload = function, memory_mb, tuple(preload)
        self.environment = dict(environment or {})
        self._stderr = subprocess.DEVNULL if quiet else None
        self._worker: _Worker | None = None
        #: Processes started so far (a kill makes the next job start another).
        self.started = 0

    @property
    def pid(self) -> int | None:
        """The process's id while one is running."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.process.poll() is None \
            else None

    def call(self, args: tuple, *, seconds: float,
             cancelled: Callable[[], bool] = lambda: False) -> Any:
        """``function(*args)`` in the worker process. Raises :class:`JobStopped` when it runs
        past ``seconds`` (the process's start is not counted) or ``cancelled()`` turns true
        (asked a few times a second), :class:`JobFailed` when it raises or the process dies."""
        worker = self._ready()
        deadline = time.monotonic() + seconds
        worker.send(0, args, seconds)
        with selectors.DefaultSelector() as selector:
            selector.register(worker.process.stdout, selectors.EVENT_READ)
            while True:
                if cancelled():
                    self.stop()
                    raise JobStopped("the job was cancelled", "cancelled")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    raise JobStopped(f"the job ran past its {seconds:g} s", "timed out")
                if selector.select(timeout=min(left, 0.2)):
                    break
        message = worker.receive()
        if message is None:
            reason = worker.death()
            self.stop()
            raise JobFailed(reason)
        kind, value = message
        if kind == "last":
            self.stop()
        if kind != "ok":
            raise JobFailed(value)
        return value

    def _ready(self) -> _Worker:
        """The running process, or a new one once it says it is ready."""
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        self.stop()
        worker = _spawner().submit(_Worker, self.function, self.memory_mb, self.preload,
                                   self._stderr, self.environment).result()
        self._worker = worker
        self.started += 1
        with selectors.DefaultSelector() as selector:
            selector.register(worker.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=START_SECONDS):
                self.stop()
                raise WorkerStartError(
                    f"a worker process did not start within {START_SECONDS:.0f} s")
        message = worker.receive()
        if message is None or message[0] != "ready":
            reason = worker.death()
            self.stop()
            raise WorkerStartError(f"a worker process could not start ({reason})")
        worker.ready = True
        return worker

    def stop(self) -> None:
        """Kill the process, if one runs; the next job starts another."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
