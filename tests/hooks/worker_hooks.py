"""Jobs that really misbehave, for the worker-pool tests (workers import this by name)."""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path


def run(kind: str, argument):
    if kind == "square":
        return argument * argument
    if kind == "segfault":
        return ctypes.string_at(0)  # reads address 0: SIGSEGV
    if kind == "hang":
        if argument:  # a folder to say which process hangs
            Path(argument, str(os.getpid())).write_text("hanging")
        time.sleep(3600)
    if kind == "hog":
        return len(bytearray(argument * 2**20))
    if kind == "raise":
        raise ValueError("a job that fails in the ordinary way")
    if kind == "exit":
        os._exit(3)
    raise AssertionError(kind)
