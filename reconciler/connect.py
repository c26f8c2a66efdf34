"""Build the API client from the environment and flags: the one place that reads credentials.

`--sandbox` (or REDISCLOUD_URL=sandbox) talks to the built-in emulator through an in-process transport
whose world lives in `.reconciler-sandbox/`, so plan and apply in separate processes see one account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.cloud.client import PollPolicy, RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import DEFAULT_URL, Credentials, Session, open_http
from reconciler.errors import CredentialsError
from reconciler.redact import Redactor

SANDBOX_URL = "sandbox"
SANDBOX_STATE = Path(".reconciler-sandbox")
SANDBOX_SEED = Path("examples/sandbox-world.yaml")
_SANDBOX_BASE = "https://sandbox.invalid/v1"  # never resolved: the transport answers in-process


@dataclass(frozen=True, slots=True)
class Connection:
    client: RedisCloudClient
    api_url: str  # what plan files record
    sandbox: bool


def connect(
    environ: Mapping[str, str], *, sandbox: bool, rate_limit: int, redactor: Redactor, poll: PollPolicy | None = None
) -> Connection:
    url = environ.get("REDISCLOUD_URL") or DEFAULT_URL
    access, secret = environ.get("REDISCLOUD_ACCESS_KEY"), environ.get("REDISCLOUD_SECRET_KEY")
    redactor.add(access)
    redactor.add(secret)
    if sandbox or url == SANDBOX_URL:
        # The emulator is imported only here, and only when asked for (the core never depends on it).
        from reconciler import sandbox as emulator  # noqa: TID251

        seed = SANDBOX_SEED if SANDBOX_SEED.is_file() else None
        world = emulator.local_emulator(SANDBOX_STATE, seed)
        transport = world.transport()
        # Keys exported for the real API mean nothing to the sandbox: the environment's keys are used only
        # when the sandbox knows the access key (e.g. to run plan with its Viewer key), else its owner's.
        sandbox_keys = {key["access_key"] for key in world.snapshot()["api_keys"]}
        if access in sandbox_keys and secret:
            credentials = Credentials(access, secret)
        else:
            credentials = Credentials(emulator.SANDBOX_ACCESS_KEY, emulator.SANDBOX_SECRET_KEY)
        http = open_http(_SANDBOX_BASE, credentials, transport)
        url, is_sandbox = SANDBOX_URL, True
    else:
        if not access or not secret:
            missing = [
                name
                for name, value in (("REDISCLOUD_ACCESS_KEY", access), ("REDISCLOUD_SECRET_KEY", secret))
                if not value
            ]
            raise CredentialsError(
                f"{' and '.join(missing)} not set: export the account key and a user key "
                "(a Viewer's key is enough for validate, plan, show, status and receipts list), or use --sandbox"
            )
        http = open_http(url, Credentials(access, secret))
        is_sandbox = False
    session = Session(http, limiter=RateLimiter(rate_limit))
    return Connection(RedisCloudClient(session, poll=poll), url, is_sandbox)
