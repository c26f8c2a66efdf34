"""The CLI's defaults, read from its own parser: a figure "at default flags" follows them when they change."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.apply.applier import ApplyOptions, default_parallelism
from reconciler.cli import build_parser
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, Session, open_http
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator

BASE = "https://sandbox.invalid/v1"  # never resolved: the emulator answers in-process


@dataclass(frozen=True, slots=True)
class Defaults:
    rate_limit: int  # requests per minute
    parallelism: int | None  # None: the product's default_parallelism for the plan at hand
    max_backups_per_subscription: int
    timeout: float

    def parallelism_for(self, subscriptions: int) -> int:
        """The workers apply runs for a plan touching this many subscriptions (apply/applier.py)."""
        return self.parallelism or default_parallelism(subscriptions, self.max_backups_per_subscription)

    def apply_options(self, run_id: str, *, parallelism: int | None = None) -> ApplyOptions:
        """What `reconciler apply` builds from these flags (commands/apply.py)."""
        return ApplyOptions(
            run_id=run_id,
            environ={},
            parallelism=parallelism or self.parallelism,
            max_backups_per_subscription=self.max_backups_per_subscription,
            timeout=self.timeout,
        )


def defaults() -> Defaults:
    apply = build_parser().parse_args(["apply"])
    plan = build_parser().parse_args(["plan"])
    assert apply.rate_limit == plan.rate_limit, "plan and apply disagree on the default --rate-limit"
    return Defaults(
        rate_limit=plan.rate_limit,
        parallelism=apply.parallelism,
        max_backups_per_subscription=apply.max_backups_per_subscription,
        timeout=apply.timeout,
    )


def client(emulator: Emulator, *, rate_limit: int) -> RedisCloudClient:
    """The client as connect.py builds it (its own limiter window, poll policy and retries), over the emulator."""
    http = open_http(BASE, Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY), emulator.transport())
    return RedisCloudClient(Session(http, limiter=RateLimiter(rate_limit)))
