"""Build the API client from the environment and flags: the one place that reads credentials.

`--sandbox` (or REDISCLOUD_URL=sandbox) talks to the sandbox `reconciler sandbox up` started, over HTTP,
when one is up in `.reconciler-sandbox/` (or $REDISCLOUD_SANDBOX_DIR); otherwise, saying so on stderr, to
the built-in emulator through an in-process transport whose world lives in that directory, so plan and
apply in separate processes see one account (the control plane only: no data moves).

The directory is the current one's, as Terraform keeps `.terraform/`: each checkout and each CI job has its own
account. Since that depends on where a command runs, the notice names the directory by its absolute path, and a
new world starts from the example account shipped in the package, never from a file found by a relative path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import DEFAULT_URL, Credentials, Observer, Session, open_http
from reconciler.core.plan import DatabaseRef
from reconciler.core.polling import PollPolicy
from reconciler.errors import CredentialsError
from reconciler.output.redact import Redactor
from reconciler.stores import StoreReach

if TYPE_CHECKING:
    from reconciler.sandbox.data.control import DataManifest  # noqa: TID251

SANDBOX_URL = "sandbox"
SANDBOX_STATE = Path(".reconciler-sandbox")
SANDBOX_DIR_ENV = "REDISCLOUD_SANDBOX_DIR"
_SANDBOX_BASE = "https://sandbox.invalid/v1"  # never resolved: the transport answers in-process


@dataclass(frozen=True, slots=True)
class DataPlaneReach:
    """What `sandbox up` runs beside its API: the stores (for a drill's listing) and each database's server (for
    its key count). The real API offers neither: the stores are reached by their own conventions, and keys are
    not counted (API-NOTES §3, §4 name no key count)."""

    stores: StoreReach
    count_keys: Callable[[DatabaseRef], int | None]


@dataclass(frozen=True, slots=True)
class Connection:
    client: RedisCloudClient
    api_url: str  # what plan files record
    sandbox: bool
    data_plane: DataPlaneReach | None = None  # `sandbox up` only


def sandbox_dir(environ: Mapping[str, str]) -> Path:
    """The sandbox's directory, absolute: messages name it so that a run from elsewhere is not a mystery."""
    return Path(environ.get(SANDBOX_DIR_ENV) or SANDBOX_STATE).resolve()


def connect(
    environ: Mapping[str, str],
    *,
    sandbox: bool,
    rate_limit: int,
    redactor: Redactor,
    notice: TextIO | None = sys.stderr,
    observer: Observer | None = None,
) -> Connection:
    """`observer` is told of every HTTP attempt (`--debug`, plan's progress)."""
    url = environ.get("REDISCLOUD_URL") or DEFAULT_URL
    poll = PollPolicy()
    access, secret = environ.get("REDISCLOUD_ACCESS_KEY"), environ.get("REDISCLOUD_SECRET_KEY")
    redactor.add(access)
    redactor.add(secret)
    if sandbox or url == SANDBOX_URL:
        # The emulator is imported only here, and only when asked for (the core never depends on it).
        from reconciler import sandbox as emulator  # noqa: TID251
        from reconciler.sandbox.data.control import read_manifest  # noqa: TID251

        state = sandbox_dir(environ)
        running = read_manifest(state)
        if running is not None:
            # `sandbox up` is running: its API over real HTTP, in front of real servers.
            running_keys: set[str] = {str(key["access_key"]) for key in running["api_keys"]}
            owner = next(key for key in running["api_keys"] if key["role"] == "owner")
            chosen = Credentials(str(owner["access_key"]), str(owner["secret_key"]))
            if access is not None and secret and access in running_keys:
                chosen = Credentials(access, secret)
            http = open_http(running["api_url"], chosen)
            plane = _reach(running, state, environ)
        else:
            world = emulator.local_emulator(state, emulator.DEFAULT_SEED)
            transport = world.transport()
            snapshot = world.snapshot()
            if notice is not None:
                print(
                    f"No sandbox is up in {state}/ (`reconciler sandbox up` starts one with real data): "
                    "using the in-process control-plane sandbox, whose world is kept there.",
                    file=notice,
                )
                if not snapshot["databases"]:
                    print(
                        "Its world has no databases: `reconciler sandbox reset` starts it afresh from the example "
                        "account (or `--seed FILE` from yours).",
                        file=notice,
                    )
            # Keys exported for the real API mean nothing to the sandbox: the environment's keys are used only
            # when the sandbox knows the access key (e.g. to run plan with its Viewer key), else its owner's.
            sandbox_keys = {key["access_key"] for key in snapshot["api_keys"]}
            if access in sandbox_keys and secret:
                credentials = Credentials(access, secret)
            else:
                credentials = Credentials(emulator.SANDBOX_ACCESS_KEY, emulator.SANDBOX_SECRET_KEY)
            http = open_http(_SANDBOX_BASE, credentials, transport)
            # The in-process world's tasks take what its timings say (all 0 in tests): the first reading of a
            # task comes one pause after it starts, so that pause is no longer than a task there lasts.
            poll = PollPolicy(initial=min(poll.initial, max(0.01, world.timings.task_total)))
            plane = None
        url, is_sandbox = SANDBOX_URL, True
    else:
        plane = None
        if not access or not secret:
            missing = [
                name
                for name, value in (("REDISCLOUD_ACCESS_KEY", access), ("REDISCLOUD_SECRET_KEY", secret))
                if not value
            ]
            raise CredentialsError(
                f"{' and '.join(missing)} not set: export the account key and a user key "
                "(a Viewer's key is enough for validate, plan, show, status, check and receipts list), or use --sandbox"
            )
        http = open_http(url, Credentials(access, secret))
        is_sandbox = False
    session = Session(http, limiter=RateLimiter(rate_limit), observer=observer)
    return Connection(RedisCloudClient(session, poll=poll), url, is_sandbox, plane)


def _reach(running: DataManifest, directory: Path, environ: Mapping[str, str]) -> DataPlaneReach:
    """The sandbox's stand-ins, from what `sandbox up` wrote: the drill needs no environment there."""
    from urllib.parse import urlsplit

    from reconciler.sandbox.data.control import key_count, read_manifest  # noqa: TID251

    stores = running["stores"]
    ftp = urlsplit(stores["ftp"]) if "ftp" in stores else None

    def azurite() -> str | None:
        # Started on the first abs:// URI (perhaps this drill's backup): `sandbox up` rewrites its file then.
        now = read_manifest(directory)
        return now["stores"].get("azure") if now is not None else None

    reach = StoreReach(
        s3_endpoint=stores.get("s3"),
        ftp_server=(ftp.hostname or "127.0.0.1", ftp.port or 21) if ftp else None,
        gcs_endpoint=stores.get("gcs"),
        azure_endpoint=azurite,
        environ=environ,
    )
    databases = running["databases"]

    def count(db: DatabaseRef) -> int | None:
        served = databases.get(str(db.database))
        return key_count(served) if served is not None else None

    return DataPlaneReach(reach, count)
