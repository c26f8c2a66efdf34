"""`reconciler sandbox serve`: the emulator on a real port, through starlette and uvicorn."""

from __future__ import annotations

import errno
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from reconciler.sandbox.emulator import Emulator, request_line
from reconciler.sandbox.pipeline import Incoming, Outcome
from reconciler.sandbox.store import FileStore
from reconciler.sandbox.timings import Timings


class EmulatorApp:
    """A raw ASGI app rather than a Starlette router: dropping a connection needs control of `send`."""

    def __init__(self, emulator: Emulator, *, log: Callable[[str], None] | None = None) -> None:
        self.emulator = emulator
        self.log = log  # told a line per request (`--verbose`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan and websockets: nothing to set up
        request = Request(scope, receive)
        incoming = Incoming(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params.items()),
            raw_body=await request.body(),
            origin=f"{request.url.scheme}://{request.url.netloc}",
            access_key=request.headers.get("x-api-key"),
            secret_key=request.headers.get("x-api-secret-key"),
        )
        # The emulator is synchronous (and may wait on a file lock): keep it off the event loop.
        started = time.monotonic()
        outcome: Outcome = await run_in_threadpool(self.emulator.process, incoming)
        if outcome.delay > 0:
            await run_in_threadpool(self.emulator.sleep, outcome.delay)
        if self.log is not None:
            self.log(request_line(incoming, outcome, time.monotonic() - started))
        if outcome.drop != "none":
            await _drop(send)
            return
        response = JSONResponse(outcome.body, status_code=outcome.status or 500, headers=outcome.headers)
        await response(scope, receive, send)


async def _drop(send: Send) -> None:
    """Promise a body, send one byte and return: uvicorn closes the connection and the client sees it broken."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})


def serve(
    host: str,
    port: int,
    seed: Path | None,
    *,
    state_dir: Path | None = None,
    timings: Timings | None = None,
    out: TextIO | None = None,
    verbose: bool = False,
) -> None:
    """Serve until interrupted; with `state_dir` the world is the file-backed one CLI processes share; `verbose`:
    a line per request on `out`. Raises `PortUnavailable` before printing anything when the address cannot be
    bound."""
    listener = _bind(host, port)
    store = FileStore(state_dir, seed) if state_dir is not None else None
    emulator = Emulator(seed=seed, store=store, timings=timings)
    owner = next(k for k in emulator.snapshot()["api_keys"] if k["role"] == "owner")
    stream = out or sys.stdout
    print(f"Redis Cloud API sandbox on http://{host}:{port}/v1", file=stream)
    print(f"  REDISCLOUD_URL=http://{host}:{port}/v1", file=stream)
    print(f"  REDISCLOUD_ACCESS_KEY={owner['access_key']}", file=stream)
    print(f"  REDISCLOUD_SECRET_KEY={owner['secret_key']}", file=stream)
    stream.flush()
    log = (lambda line: print(f"{time.strftime('%H:%M:%S')} {line}", file=stream, flush=True)) if verbose else None
    app = EmulatorApp(emulator, log=log)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])


class PortUnavailable(Exception):
    """The address to serve on is taken or invalid; the message says which, and why."""


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the banner: the port is checked and held, with no race between."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise PortUnavailable(f"cannot serve on {host}:{port}: {exc.strerror or exc} (check --host)") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        busy = exc.errno == errno.EADDRINUSE
        reason = "the port is in use (another sandbox, or another server)" if busy else exc.strerror or str(exc)
        message = f"cannot serve on {host}:{port}: {reason}; pass --port N, or stop what holds it"
        raise PortUnavailable(message) from None
    return listener
