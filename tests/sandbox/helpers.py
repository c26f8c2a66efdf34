"""Shared constants and helpers of the emulator tests (imported relatively, so the package name does not matter)."""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, Timings

SEED = Path(__file__).resolve().parents[2] / "examples" / "sandbox-world.yaml"
BASE_URL = "https://sandbox.test/v1"
TEST_TIMINGS = Timings(
    task_initialized=0.0,
    task_received=0.1,
    task_processing=0.2,
    backup=1.0,
    import_=1.0,
    database_transient=0.5,
    fresh_task_404=0.0,
    rate_limit_window=60.0,
)
TERMINAL = ("processing-completed", "processing-error")

# Example account (examples/sandbox-world.yaml)
PROD_EU, ANALYTICS, MARKETING = 1234567, 1234568, 2345678
ORDERS, SESSIONS, CATALOG, LEGACY = 7654321, 7654322, 7654323, 7654324
ANALYTICS_DB, INVENTORY = 7654401, 7654402
MARKETING_CACHE, SCRATCH = 8765432, 8765433


def pro_db(database_id: int, subscription_id: int = PROD_EU) -> str:
    return f"/subscriptions/{subscription_id}/databases/{database_id}"


def fixed_db(database_id: int, subscription_id: int = MARKETING) -> str:
    return f"/fixed/subscriptions/{subscription_id}/databases/{database_id}"


def make_client(emulator: Emulator, secret: str = SANDBOX_SECRET_KEY) -> httpx.Client:
    headers = {"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": secret}
    return httpx.Client(transport=emulator.transport(), base_url=BASE_URL, headers=headers)
