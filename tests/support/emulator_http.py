"""Plain HTTP onto the emulator, without our client: how its own tests (tests/sandbox/) talk to it."""

from __future__ import annotations

import httpx

from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator
from tests.support.clients import BASE_URL
from tests.support.examples import MARKETING, PROD_EU

TERMINAL = ("processing-completed", "processing-error")


def pro_db(database_id: int, subscription_id: int = PROD_EU) -> str:
    return f"/subscriptions/{subscription_id}/databases/{database_id}"


def fixed_db(database_id: int, subscription_id: int = MARKETING) -> str:
    return f"/fixed/subscriptions/{subscription_id}/databases/{database_id}"


def make_client(emulator: Emulator, secret: str = SANDBOX_SECRET_KEY) -> httpx.Client:
    headers = {"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": secret}
    return httpx.Client(transport=emulator.transport(), base_url=BASE_URL, headers=headers)
