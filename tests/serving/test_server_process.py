"""``grandstaff serve`` as a user runs it (a fresh process, real sockets): a request whose
client goes away is stopped at once, and SIGTERM stops the server within seconds, leaving no
piece folder half-made and no worker process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")

#: A request that keeps a cold worker busy for seconds (models load, a loop compiles).
LONG = {"bars": 64, "candidates": 16, "seed": 5, "tempo": 120}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.update(int(child) for child in children)
    return found


def _post(port: int, form: dict) -> socket.socket:
    """Send a compose request and return the open connection, without reading the answer."""
    body = json.dumps(form).encode()
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(b"POST /api/compose HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Content-Type: application/json\r\n"
                       + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return connection


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:g} s")
        time.sleep(0.05)


def _making(pieces: Path) -> list[Path]:
    return [p for p in pieces.iterdir() if not p.name.startswith(".")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_gone_client_stops_its_piece_and_sigterm_stops_the_server(tmp_path, tiny_models):
    port, pieces = _free_port(), tmp_path / "pieces"
    server = subprocess.Popen(
        [sys.executable, "-m", "grandstaff.cli", "serve", "--port", str(port), "--out",
         str(pieces), "--models", str(tiny_models), "--no-warm-up"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: _answers(port) or server.poll() is not None, 120,
                  "the server did not answer")
        assert server.poll() is None, server.stdout.read()

        connection = _post(port, LONG)
        _wait_for(lambda: _making(pieces), 120, "no piece was started")
        worker = _children(server.pid)
        assert len(worker) == 1
        connection.close()  # the page was closed
        _wait_for(lambda: not _making(pieces), 10, "the piece of a gone client was not stopped")
        _wait_for(lambda: not _alive(*worker), 10, "its worker process was not killed")

        connection = _post(port, LONG)
        _wait_for(lambda: _making(pieces), 120, "no piece was started")
        worker = _children(server.pid)
        asked = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        stopped = time.monotonic() - asked
        connection.close()
        said = server.stdout.read()
        assert "Traceback" not in said and "stopped (SIGTERM)" in said, said
        assert not _making(pieces) and not any(_alive(pid) for pid in worker)
        assert not any((pieces / ".scratch").glob("*"))  # the worker's temporary files
        print(f"SIGTERM to exit: {stopped:.1f} s")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/options", timeout=2).read()
        return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for this purpose
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False
