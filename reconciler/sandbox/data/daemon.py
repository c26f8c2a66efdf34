"""The background process `reconciler sandbox up` starts: the emulator's HTTP API, one server per database
and the storage stand-ins. It writes `sandbox.json` (the manifest of what runs where) once everything
answers, and on SIGTERM stops its servers and removes it.

    python -m reconciler.sandbox.data.daemon --dir DIR [--seed FILE]
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import ReconcilerError
from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.control import FAILURE, MANIFEST, DataManifest, write_manifest
from reconciler.sandbox.data.periodic import PeriodicBackups
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.process import HOST
from reconciler.sandbox.data.seeding import parse_data_seed
from reconciler.sandbox.data.stores import Stores, start_stores

log = logging.getLogger("reconciler.sandbox.data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reconciler-sandbox-daemon")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--seed", type=Path)
    parser.add_argument("--backup-speedup", type=float, default=1.0)
    parser.add_argument("--s3", type=int, nargs=2, metavar=("PORT", "PID"), help="a moto server already started")
    parser.add_argument("--verbose", action="store_true", help="log a line per API request")
    args = parser.parse_args(argv)
    directory: Path = args.dir.resolve()
    (directory / FAILURE).unlink(missing_ok=True)
    logging.basicConfig(
        filename=directory / "sandbox.log", level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    for noisy in ("httpx", "httpcore", "gcp_storage_emulator", "werkzeug", "pyftpdlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # request lines: noise, and URLs may hold secrets
    try:
        return run(directory, args.seed, tuple(args.s3) if args.s3 else None, args.backup_speedup, args.verbose)
    except ReconcilerError as problem:
        (directory / FAILURE).write_text(str(problem), encoding="utf-8")  # `sandbox up` shows it as it is
        log.error("the sandbox did not start: %s", problem)
        return 1
    except Exception:
        (directory / FAILURE).write_text(f"internal error: see {directory}/sandbox.log", encoding="utf-8")
        log.exception("the sandbox failed")
        return 1


def run(
    directory: Path, seed: Path | None, s3: tuple[int, int] | None = None, speedup: float = 1.0, verbose: bool = False
) -> int:
    # The storage stand-ins first: moto starts in a process of its own and is the slowest part.
    stores = start_stores(directory / "data" / "stores", s3=s3)
    plane: DataPlane | None = None
    periodic: PeriodicBackups | None = None
    try:
        import uvicorn

        from reconciler.sandbox.emulator import Emulator
        from reconciler.sandbox.seed import load_seed
        from reconciler.sandbox.server import EmulatorApp

        log.info("imports done")
        # Fresh servers, fresh world, kept in memory: this process is its only user while it runs (the
        # in-process `--sandbox` world in world.json is left as it was).
        world = load_seed(seed)  # a bad seed is reported before anything else starts
        document: dict[str, Any] = yaml.safe_load(seed.read_text(encoding="utf-8")) if seed else {}
        emulator = Emulator(copy.deepcopy(world))
        plane = DataPlane(directory / "data", stores)
        log.info("world ready")
        plane.start(world, parse_data_seed(document or {}))
        log.info("data plane ready")
        stores.wait_ready()  # its URL is final only once it answers
        hooks.install(plane)
        periodic = PeriodicBackups(emulator.snapshot, plane, speedup=speedup)
        periodic.start()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                EmulatorApp(emulator, log=log.info if verbose else None),
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
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
            "stores": stores.urls(),
            "store_pids": stores.pids(),
            "unavailable": dict(stores.missing),
            "server": f"{plane.binary.flavour}-server {plane.binary.version}",
            "ftp_user": _ftp_login(stores),
        }
        # uvicorn handles SIGTERM/SIGINT while it serves, then re-raises the signal once it has stopped: with
        # these handlers that re-raise returns here, so the `finally` below stops the servers.
        for caught in (signal.SIGTERM, signal.SIGINT):
            signal.signal(caught, lambda *_: None)
        write_manifest(directory, manifest)

        def restate() -> None:  # azurite started on demand: `down` must know its pid too
            manifest["stores"] = stores.urls()
            manifest["store_pids"] = stores.pids()
            manifest["unavailable"] = dict(stores.missing)
            write_manifest(directory, manifest)
            log.info("azurite started for abs:// URIs")

        stores.on_start = restate
        log.info("sandbox up: API on %s, %d databases", manifest["api_url"], len(databases))
        server.run(sockets=[listener])  # until SIGTERM or SIGINT
    finally:
        if periodic is not None:
            periodic.stop()
        if plane is not None:
            plane.stop()
        stores.stop()
        (directory / MANIFEST).unlink(missing_ok=True)
        log.info("sandbox down")
    return 0


def _ftp_login(stores: Stores) -> str:
    ftp = stores.by_scheme.get("ftp")
    user, password = getattr(ftp, "user", ""), getattr(ftp, "password", "")
    return f"{user}:{password}" if user else ""


if __name__ == "__main__":
    sys.exit(main())
