"""python -m benchmarks.claims: the receipt claim's window (issue 12 §3), over real HTTP, written to CLAIMS.md.

Where the API overwrites on create, a claim is safe while its check-to-write span stays under the settle window
(ledger.py). This measures that span on the sandbox served by uvicorn on loopback, and races 2 and 5 claimers
for many rounds in both modes, counting the rounds in which exactly one proceeded.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from benchmarks.served import free_port, url_once_listening
from reconciler.apply.ledger import CLAIM_SETTLE, Ledger
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.core.calls import backup_call, fingerprint
from reconciler.core.desired import OperationKind
from reconciler.core.plan import DatabaseRef
from reconciler.core.polling import PollPolicy
from reconciler.core.receipt_tags import Receipt, claim
from reconciler.errors import ClaimedElsewhere, ClaimUnconfirmed, ConflictError
from reconciler.manifest.load import load_manifest
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROUNDS = 25
RACE_SETTLE = 0.5  # shorter than the product's 2 s so the races finish; the proof holds for any shared value


def main() -> int:
    lines = ["# Receipt claims: the settle window, measured", ""]
    for mode in ("conflict", "overwrite"):
        with _served(mode) as url:
            spans = _spans(url, 200)
            races = {racers: _races(url, racers) for racers in (2, 5)}
        lines += _render(mode, spans, races)
    (HERE / "CLAIMS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print((HERE / "CLAIMS.md").read_text(encoding="utf-8"))
    return 0


class _served:
    """`reconciler sandbox serve` on a free loopback port, with the seed's tag behaviour set to `mode`."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.work = tempfile.TemporaryDirectory()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        document = yaml.safe_load((ROOT / "examples" / "sandbox-world.yaml").read_text(encoding="utf-8"))
        document["options"] = {**(document.get("options") or {}), "tag_create_existing": self.mode, "rate_limit": 10**9}
        seed = Path(self.work.name) / "world.yaml"
        seed.write_text(yaml.safe_dump(document), encoding="utf-8")
        port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port), "--seed", str(seed)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return url_once_listening(port, self.process, within=20)

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.work.cleanup()


def _client(url: str) -> RedisCloudClient:
    http = open_http(url, Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY))
    session = Session(http, limiter=RateLimiter(10**9), retry=RetryPolicy(base_delay=0.01, max_delay=0.1))
    return RedisCloudClient(session, poll=PollPolicy(initial=0.01, maximum=0.1))


def _orders(_: RedisCloudClient) -> DatabaseRef:
    return DatabaseRef.of(next(s for s in load_manifest([ROOT / "examples"]).databases if s.name == "orders-prod"))


def _claim(op_id: str, run: str) -> Receipt:
    """A claim of an on-demand backup to the configured destination, as apply writes it."""
    return claim(OperationKind.BACKUP, op_id, fingerprint(backup_call("")), at=0, run=run)


def _spans(url: str, count: int) -> list[float]:
    """Check-to-last-write of a claim: the tag list, the create, and the identical create that probes."""
    client, spans = _client(url), []
    spec = _orders(client)
    where = (spec.tier, spec.subscription, spec.database)
    for n in range(count):
        receipt = _claim(f"span-{n}", "0a1b2c3d")
        started = time.monotonic()
        client.list_tags(*where)
        client.create_tag(*where, receipt.key, receipt.value)
        with suppress(ConflictError):  # the refusing mode answers 409; either way the span is what is measured
            client.create_tag(*where, receipt.key, receipt.value)
        spans.append(time.monotonic() - started)
        client.delete_tag(*where, receipt.key)
    return spans


def _races(url: str, racers: int) -> dict[str, Any]:
    exactly_one, seconds = 0, []
    spec = _orders(_client(url))
    for round_ in range(ROUNDS):
        won: list[str] = []
        start = threading.Barrier(racers)

        def race(
            run_id: str, op_id: str = f"race-{racers}-{round_}", start: threading.Barrier = start, won: list[str] = won
        ) -> None:
            ledger = Ledger(_client(url), settle=RACE_SETTLE)
            start.wait()
            began = time.monotonic()
            try:
                ledger.claim(spec, _claim(op_id, run_id), replacing=None)
                won.append(run_id)
            except (ClaimedElsewhere, ClaimUnconfirmed):
                pass
            seconds.append(time.monotonic() - began)

        threads = [threading.Thread(target=race, args=(f"{n:08x}",)) for n in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        exactly_one += len(won) == 1
        client = _client(url)  # the winner's claim goes, so that the rounds never fill the tag budget
        client.delete_tag(spec.tier, spec.subscription, spec.database, f"rcr_backup_race-{racers}-{round_}")
    return {"rounds": ROUNDS, "exactly_one": exactly_one, "claim_p50": statistics.median(seconds)}


def _render(mode: str, spans: list[float], races: dict[int, dict[str, Any]]) -> list[str]:
    ordered = sorted(spans)
    p95, worst = ordered[int(len(ordered) * 0.95)], ordered[-1]
    lines = [
        f"## API that answers a duplicate create with {'409' if mode == 'conflict' else 'a silent overwrite'}",
        "",
        f"- claim span (tag list + create + probe), {len(spans)} claims: p50 {statistics.median(spans) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {worst * 1000:.1f} ms; the settle window is {CLAIM_SETTLE:g} s "
        f"({CLAIM_SETTLE / worst:.0f}x the worst span)",
    ]
    for racers, race in races.items():
        lines.append(
            f"- {racers} racing claimers, {race['rounds']} rounds: exactly one proceeded in "
            f"{race['exactly_one']} of {race['rounds']}; median claim {race['claim_p50'] * 1000:.0f} ms "
            f"(settle {RACE_SETTLE:g} s for the race)"
        )
    return [*lines, ""]


if __name__ == "__main__":
    sys.exit(main())
