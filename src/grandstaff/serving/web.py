"""``grandstaff serve``: a local web page that composes, shows, plays and transposes pieces.

A small Starlette app served by uvicorn (both in the ``app`` extra). Routes only parse the
request and call :class:`~grandstaff.serving.studio.Studio`:

- ``GET /`` the page; ``GET /api/options`` what its controls offer;
- ``POST /api/compose`` a JSON form → the new piece;
- ``POST /api/melody`` a Harmonise form (ABC text or a file, base64) → the melody it holds;
  ``POST /api/harmonize`` the same form → the melody set for piano, a new piece;
- ``POST /api/pieces/{id}/variant`` ``{"key": ..., "tempo": ...}`` → a transposed or re-timed
  copy;
- ``GET /pieces/{id}/{kind}`` its MusicXML, MIDI, PDF, WAV or SVG.

A bad form is answered ``400 {"error": "one line"}``; anything unexpected ``500`` with a line,
and the server goes on serving. Composing runs in a worker process (see
:class:`~grandstaff.serving.studio.Studio`), so the page stays live; a piece that takes longer
than the server's budget is stopped (``503``), and one whose client goes away is stopped at
once.

No single request can exhaust the server: a body is refused from its declared length, and
read no further than :data:`MAX_FORM_BYTES`; every number of the form is held to the page's
bounds (:mod:`grandstaff.bounds`) before any work. Requests whose ``Host`` is not a name of
this server (DNS rebinding), and POSTs from another page's ``Origin`` or not sent as JSON,
are refused with ``403``, so another web page the user visits cannot drive it.

>>> from grandstaff.serving.web import build_app
>>> app = build_app("scores/web")          # doctest: +SKIP
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from ..bounds import PAGE_MAX_MELODY_BYTES
from ..errors import BadArgumentError, GrandstaffError, MissingFileError
from ..workers import JobStopped
from .studio import BUDGET_SECONDS, BusyError, Studio

log = logging.getLogger("grandstaff.serve")
MEDIA = {"musicxml": "application/vnd.recordare.musicxml+xml", "midi": "audio/midi",
         "pdf": "application/pdf", "wav": "audio/wav", "svg": "image/svg+xml"}
MAX_FORM_BYTES = 16_384
#: A Harmonise form may carry a melody file (base64, a third larger than the file): its body
#: may hold the largest file the page takes and the form's other fields.
MAX_MELODY_FORM_BYTES = PAGE_MAX_MELODY_BYTES * 4 // 3 + MAX_FORM_BYTES
#: How long requests in progress may run on after SIGTERM or Ctrl-C.
SHUTDOWN_SECONDS = 5
#: How often a request in progress asks whether its client is still there.
DISCONNECT_POLL_SECONDS = 0.25


def _web():
    """Starlette, or one line that says how to install it."""
    try:
        import starlette  # noqa: F401
    except ImportError:
        raise BadArgumentError(
            "the web page needs its extras; install them with "
            "pip install 'grandstaff[app]'") from None


#: The names a server on a loopback address answers to.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_app(out: str | Path, *, models: str = "bach", engraver: str = "lilypond",
              hosts: tuple[str, ...] | None = LOOPBACK, keep: int = 256,
              keep_mb: float = 500.0, seconds: float = BUDGET_SECONDS):
    """The ASGI app serving a :class:`Studio` that writes into ``out``. ``hosts``: the host
    names requests may be addressed to (``None``: any, for a server on every address);
    ``seconds``: how long one piece may take."""
    _web()
    import contextlib
    import threading

    import anyio
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse
    from starlette.routing import Route

    studio = Studio(out, models=models, engraver=engraver, keep=keep, keep_mb=keep_mb,
                    seconds=seconds)
    page = resources.files("grandstaff.serving").joinpath("page.html").read_text("utf-8")

    async def form_of(request, most: int = MAX_FORM_BYTES) -> dict:
        body = await read_body(request, most)
        import json

        try:
            form = json.loads(body or b"{}")
        except ValueError:
            raise BadArgumentError("the form is not JSON") from None
        if not isinstance(form, dict):
            raise BadArgumentError("the form must be a JSON object")
        return form

    def answer(call):
        async def endpoint(request):
            try:
                return await call(request)
            except MissingFileError as exc:
                return JSONResponse({"error": private(exc)}, status_code=404)
            except BusyError as exc:
                return JSONResponse({"error": str(exc)}, status_code=503,
                                    headers={"Retry-After": "10"})
            except JobStopped as exc:  # past the budget, or the client went away
                return JSONResponse({"error": str(exc)}, status_code=503)
            except anyio.get_cancelled_exc_class():  # SIGTERM: a line, not a traceback
                return JSONResponse({"error": "the server is stopping"}, status_code=503)
            except GrandstaffError as exc:
                return JSONResponse({"error": private(exc)}, status_code=400)
            except Exception as exc:  # the server keeps serving; the log has the details
                log.exception("request %s failed", request.url.path)
                return JSONResponse({"error": f"internal error: {type(exc).__name__}"},
                                    status_code=500)
        return endpoint

    def private(exc: Exception) -> str:
        """An error's message as a client may see it: no path of the server's own."""
        return str(exc).replace(f"{studio.out}/", "").replace(str(studio.out), "the output "
                                                                              "folder")

    def refused(request):
        """Why a request from elsewhere is refused (``None``: it is not)."""
        if hosts is not None and _host_name(request.headers.get("host", "")) not in hosts:
            return "this server answers only to " + ", ".join(hosts)
        origin = request.headers.get("origin")
        if origin is not None and hosts is not None and _host_name(
                origin.split("://", 1)[-1]) not in hosts:
            return "requests from other pages are refused"
        if request.method == "POST" and not request.headers.get(
                "content-type", "").startswith("application/json"):
            return "a form must be sent as application/json"
        return None

    def guarded(endpoint):
        async def check(request):
            reason = refused(request)
            if reason:
                return JSONResponse({"error": reason}, status_code=403)
            return await endpoint(request)
        return check

    async def index(request):
        return HTMLResponse(page)

    async def options(request):
        return JSONResponse(await run_in_threadpool(studio.options))

    async def until_gone(request, call, *args):
        """``call(*args, cancelled=...)`` in a thread, cancelled as soon as the client that
        asked for it goes away."""
        gone = threading.Event()

        async def watch():
            while not await request.is_disconnected():
                await anyio.sleep(DISCONNECT_POLL_SECONDS)
            gone.set()

        outcome: list = []

        async def work():
            try:
                outcome.append(("ok", await run_in_threadpool(call, *args,
                                                              cancelled=gone.is_set)))
            except Exception as exc:  # raised below, outside the task group, as it is
                outcome.append(("error", exc))
            tasks.cancel_scope.cancel()

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(watch)
                tasks.start_soon(work)
        except anyio.get_cancelled_exc_class():  # the server is stopping: so is the work
            gone.set()
            raise
        kind, value = outcome[0]
        if kind == "error":
            raise value
        return value

    async def compose(request):
        form = await form_of(request)
        return JSONResponse(await until_gone(request, studio.compose, form))

    async def melody(request):
        form = await form_of(request, MAX_MELODY_FORM_BYTES)
        return JSONResponse(await until_gone(request, studio.read_melody, form))

    async def harmonize(request):
        form = await form_of(request, MAX_MELODY_FORM_BYTES)
        return JSONResponse(await until_gone(request, studio.harmonize, form))

    async def variant(request):
        form = await form_of(request)
        piece_id = request.path_params["piece_id"]
        return JSONResponse(await until_gone(request, studio.variant, piece_id, form))

    async def download(request):
        piece_id, kind = request.path_params["piece_id"], request.path_params["kind"]
        path = await run_in_threadpool(studio.file, piece_id, kind)
        inline = kind in ("svg", "wav") and "download" not in request.query_params
        return FileResponse(path, media_type=MEDIA[kind],
                            filename=None if inline else studio.download_name(piece_id, kind))

    routes = [
        Route("/", guarded(index)),
        Route("/api/options", guarded(answer(options))),
        Route("/api/compose", guarded(answer(compose)), methods=["POST"]),
        Route("/api/melody", guarded(answer(melody)), methods=["POST"]),
        Route("/api/harmonize", guarded(answer(harmonize)), methods=["POST"]),
        Route("/api/pieces/{piece_id}/variant", guarded(answer(variant)), methods=["POST"]),
        Route("/pieces/{piece_id}/{kind}", guarded(answer(download))),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:  # the worker and a piece it was making go with the server
            studio.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.studio = studio
    return app


async def read_body(request, most: int) -> bytes:
    """The request's body, refused from its declared length, and never read past ``most``
    bytes (a client may lie about the length or send none)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > most):
        raise BadArgumentError(f"the form is too large (at most {most:,} bytes)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            raise BadArgumentError(f"the form is too large (at most {most:,} bytes)")
    return bytes(body)


def _host_name(host: str) -> str:
    """The name in a ``Host`` header or an origin's authority, without its port.

    >>> _host_name("127.0.0.1:8000"), _host_name("[::1]:8000"), _host_name("localhost")
    ('127.0.0.1', '::1', 'localhost')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def serve(*, host: str = "127.0.0.1", port: int = 8000, out: str | Path = "scores/web",
          models: str = "bach", engraver: str = "lilypond", warm_up: bool = True,
          keep: int = 256, keep_mb: float = 500.0, seconds: float = BUDGET_SECONDS) -> None:
    """Serve the page at http://HOST:PORT/ until interrupted (Ctrl-C). With ``warm_up`` one
    piece is composed first, so that the first press of Compose does not wait for the models
    to load and compile."""
    _web()
    import uvicorn

    listening = bind(host, port)  # a busy port is refused before the models load
    wildcard = host in ("0.0.0.0", "::", "")
    hosts = None if wildcard else tuple(dict.fromkeys(
        (host, *LOOPBACK) if host in LOOPBACK else (host,)))
    app = build_app(out, models=models, engraver=engraver, hosts=hosts, keep=keep,
                    keep_mb=keep_mb, seconds=seconds)
    if warm_up:
        print(f"grandstaff: loading the {models} models and compiling the sampler...",
              flush=True)
        seconds = app.state.studio.warm_up()
        print(f"grandstaff: ready after {seconds:.1f} s", flush=True)
    print(f"grandstaff: serving http://{host}:{port}/ (pieces in {Path(out).resolve()}); "
          "Ctrl-C stops", flush=True)
    # on SIGTERM or Ctrl-C, requests in progress get a few seconds, not as long as they take
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=SHUTDOWN_SECONDS))
    server.run(sockets=[listening])


def bind(host: str, port: int):
    """A socket bound to ``host``:``port``, or one clear error (the port is taken, the address
    is not this machine's)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        raise BadArgumentError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; is "
                               "another server there? choose another --port") from None
    return listening
