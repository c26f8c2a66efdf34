"""`sandbox serve|reset|up|status|down`: the built-in emulator over HTTP, a fresh world, and the sandbox
with real data (issue 14) started in the background, listed and stopped.

Every one of them starts from the example account shipped in the package unless `--seed` names another, and
names its directory by its absolute path (issue 18): where the world lives is stated, never guessed.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.commands.options import (
    SandboxDownFlags,
    SandboxResetFlags,
    SandboxServeFlags,
    SandboxStatusFlags,
    SandboxUpFlags,
)
from reconciler.commands.runtime import EXIT_OK, Runtime
from reconciler.connect import SANDBOX_DIR_ENV, sandbox_dir
from reconciler.errors import ReconcilerError


def run_sandbox_serve(rt: Runtime[SandboxServeFlags]) -> int:
    seed = _seed(rt.flags.seed)
    from reconciler.sandbox import serve  # noqa: TID251 - this command is the emulator's front door
    from reconciler.sandbox.server import PortUnavailable  # noqa: TID251

    try:
        serve(rt.flags.host, rt.flags.port, seed, out=rt.out, verbose=rt.flags.verbose)
    except PortUnavailable as exc:
        raise ReconcilerError(str(exc)) from None
    return EXIT_OK


def run_sandbox_reset(rt: Runtime[SandboxResetFlags]) -> int:
    seed = _seed(rt.flags.seed)
    from reconciler.sandbox import reset  # noqa: TID251

    state = sandbox_dir(rt.environ)
    reset(state, seed)
    print(f"Sandbox world in {state}/ reset from {_named(seed)}.", file=rt.out)
    print(_reached(state, rt.environ), file=rt.out)
    return EXIT_OK


def _seed(given: Path | None) -> Path:
    """The seed given, else the example account shipped in the package (the same in every directory)."""
    if given is None:
        from reconciler.sandbox import DEFAULT_SEED  # noqa: TID251

        return DEFAULT_SEED
    if not given.is_file():
        raise ReconcilerError(f"{given}: no such seed file")
    return given


def _named(seed: Path) -> str:
    from reconciler.sandbox import DEFAULT_SEED  # noqa: TID251

    return (
        "the example account built into the reconciler (examples/sandbox-world.yaml)"
        if seed == DEFAULT_SEED
        else str(seed)
    )


def _reached(directory: Path, environ: Mapping[str, str]) -> str:
    """How a later `--sandbox` run finds `directory`: by default it looks in the directory it runs from."""
    export = f"export {SANDBOX_DIR_ENV}={shlex.quote(str(directory))}"
    if sandbox_dir(environ) == directory:
        return (
            f"`reconciler --sandbox …` (or REDISCLOUD_URL=sandbox) run from here uses it; elsewhere, first `{export}`."
        )
    return f"`reconciler --sandbox …` (or REDISCLOUD_URL=sandbox) uses it once you `{export}`."


def _start_moto() -> tuple[int, int] | None:
    """moto's S3 server, started before this process imports the emulator (stdlib only here); its own
    imports take a second, which now overlap with everything else. None when moto is not installed."""
    import importlib.util
    import socket
    import subprocess
    import sys

    if importlib.util.find_spec("moto") is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return port, process.pid


def run_sandbox_up(rt: Runtime[SandboxUpFlags]) -> int:
    seed = _seed(rt.flags.seed)
    directory = _directory(rt.flags.dir, rt.environ)
    s3 = _start_moto()  # first: its start is the sandbox's critical path
    from reconciler.sandbox.data import control  # noqa: TID251

    manifest = control.up(directory, seed, s3=s3, backup_speedup=rt.flags.backup_speedup, verbose=rt.flags.verbose)
    owner = next(key for key in manifest["api_keys"] if key["role"] == "owner")
    out = rt.out
    print(f"Sandbox up in {directory}/ ({len(manifest['databases'])} databases on {manifest['server']}).", file=out)
    print(f"  REDISCLOUD_URL={manifest['api_url']}", file=out)
    print(f"  REDISCLOUD_ACCESS_KEY={owner['access_key']}", file=out)
    print(f"  REDISCLOUD_SECRET_KEY={owner['secret_key']}", file=out)
    print(_reached(directory, rt.environ), file=out)
    first = next(iter(manifest["databases"].values()), None)
    if first is not None:
        print(f"Connect to a database (`reconciler sandbox status` lists them all), e.g. {first['name']}:", file=out)
        print(f"  redis-cli -u redis://default:{first['password']}@{first['endpoint']}", file=out)
    if rt.flags.verbose:
        print(f"Every API request is logged to {directory}/sandbox.log.", file=out)
    print("Stop it with `reconciler sandbox down`.", file=out)
    return EXIT_OK


def run_sandbox_status(rt: Runtime[SandboxStatusFlags]) -> int:
    directory = _directory(rt.flags.dir, rt.environ)
    from reconciler.sandbox.data import control  # noqa: TID251

    manifest = control.read_manifest(directory)
    if manifest is None:
        raise ReconcilerError(f"no sandbox is up in {directory}/: start one with `reconciler sandbox up`")
    databases = [
        {"id": int(db_id), **{k: v for k, v in db.items() if k != "pid"}, "keys": control.key_count(db)}
        for db_id, db in manifest["databases"].items()
    ]
    document: dict[str, Any] = {
        "api_url": manifest["api_url"],
        "server": manifest["server"],
        "databases": databases,
        "stores": manifest["stores"],
        "unavailable": manifest["unavailable"],
    }
    if rt.flags.format == "json":
        print(json.dumps(document, indent=2), file=rt.out)
        return EXIT_OK
    print(f"API       {manifest['api_url']}", file=rt.out)
    for db in databases:
        url = f"redis://default:{db['password']}@{db['endpoint']}"
        keys = "unreachable" if db["keys"] is None else f"{db['keys']:,} keys"
        print(f"database  {db['id']:<9} {db['name']:<18} {keys:>14}  {url}", file=rt.out)
    for name, url in manifest["stores"].items():
        print(f"store     {name:<28} {url}", file=rt.out)
    if manifest["ftp_user"]:
        print(f"          ftp login {manifest['ftp_user']}", file=rt.out)
    for scheme, why in manifest["unavailable"].items():
        print(f"missing   {scheme}://  {why}", file=rt.out)
    return EXIT_OK


def _directory(given: Path | None, environ: Mapping[str, str]) -> Path:
    return given.resolve() if given else sandbox_dir(environ)


def run_sandbox_down(rt: Runtime[SandboxDownFlags]) -> int:
    directory = _directory(rt.flags.dir, rt.environ)
    from reconciler.sandbox.data import control  # noqa: TID251

    if control.down(directory):
        print(f"Sandbox in {directory}/ stopped.", file=rt.out)
    else:
        print(f"No sandbox was up in {directory}/.", file=rt.out)
    return EXIT_OK
