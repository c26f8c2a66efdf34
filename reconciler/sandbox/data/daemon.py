"""The background process `reconciler sandbox up` starts: the emulator's HTTP API, one server per database
and the storage stand-ins. It writes `sandbox.json` (the manifest of what runs where) once everything
answers, and on SIGTERM stops its servers and removes it.

    python -m reconciler.sandbox.data.daemon --dir DIR [--seed FILE]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.control import MANIFEST, DataManifest, write_manifest
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.process import HOST
from reconciler.sandbox.data.seeding import parse_data_seed
from reconciler.sandbox.data.stores import Stores, start_stores

log = logging.getLogger("reconciler.sandbox.data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reconciler-sandbox-daemon")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--seed", type=Path)
    args = parser.parse_args(argv)
    directory: Path = args.dir.resolve()
    logging.basicConfig(
        filename=directory / "sandbox.log", level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    for noisy in ("httpx", "httpcore", "gcp_storage_emulator", "werkzeug", "pyftpdlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # request lines: noise, and URLs may hold secrets
    try:
        return run(directory, args.seed)
    except Exception:
        log.exception("the sandbox failed")
        return 1


def run(directory: Path, seed: Path | None) -> int:
    import uvicorn

    from reconciler.sandbox.emulator import Emulator
    from reconciler.sandbox.server import EmulatorApp
    from reconciler.sandbox.store import FileStore

    document: dict[str, Any] = yaml.safe_load(seed.read_text(encoding="utf-8")) if seed else {}
    store = FileStore(directory, seed)
    store.reset()  # fresh servers, fresh world
    emulator = Emulator(store=store)
    world = emulator.snapshot()
    plane = DataPlane(directory / "data", Stores())
    started: list[Stores] = []
    stores_thread = threading.Thread(target=lambda: started.append(start_stores(directory / "data" / "stores")))
    stores_thread.start()

    def stores_ready() -> Stores:
        stores_thread.join()
        if not started:
            raise RuntimeError("the storage stand-ins did not start; see sandbox.log")
        return started[0]

    try:
        plane.start(world, parse_data_seed(document or {}), stores_ready)
    finally:
        stores_thread.join()
    hooks.install(plane)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(EmulatorApp(emulator), log_level="warning", lifespan="off", access_log=False)
    )
    databases = {}
    for db in world["databases"]:
        endpoint = plane.endpoint(db["id"])
        assert endpoint is not None
        databases[str(db["id"])] = {
            "name": db["name"],
            "subscription": db["subscription_id"],
            "endpoint": endpoint[0],
            "password": endpoint[1],
            "pid": plane.databases[db["id"]].server.pid,
        }
    manifest: DataManifest = {
        "pid": os.getpid(),
        "api_url": f"http://{HOST}:{port}/v1",
        "api_keys": [dict(key) for key in world["api_keys"]],
        "databases": databases,
        "stores": plane.stores.urls(),
        "unavailable": dict(plane.stores.missing),
        "server": f"{plane.binary.flavour}-server {plane.binary.version}",
        "ftp_user": _ftp_login(plane.stores),
    }
    write_manifest(directory, manifest)
    log.info("sandbox up: API on %s, %d databases", manifest["api_url"], len(databases))
    # uvicorn handles SIGTERM/SIGINT while it serves, then re-raises the signal once it has stopped: with
    # these handlers that re-raise returns here, so the `finally` below stops the servers.
    for caught in (signal.SIGTERM, signal.SIGINT):
        signal.signal(caught, lambda *_: None)
    try:
        server.run(sockets=[listener])  # until SIGTERM or SIGINT
    finally:
        plane.stop()
        plane.stores.stop()
        (directory / MANIFEST).unlink(missing_ok=True)
        log.info("sandbox down")
    return 0


def _ftp_login(stores: Stores) -> str:
    ftp = stores.by_scheme.get("ftp")
    user, password = getattr(ftp, "user", ""), getattr(ftp, "password", "")
    return f"{user}:{password}" if user else ""


if __name__ == "__main__":
    sys.exit(main())
