"""Where the repo's examples are, and the ids and names of the example account they describe."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "sandbox-world.yaml"

# The example account (examples/sandbox-world.yaml): subscriptions, then databases.
PROD_EU, ANALYTICS, GLOBAL, MARKETING = 1234567, 1234568, 1234569, 2345678
ORDERS, SESSIONS, CATALOG, LEGACY = 7654321, 7654322, 7654323, 7654324
ANALYTICS_DB, INVENTORY = 7654401, 7654402
ORDERS_AA = 7654501  # Active-Active, regions us-east-1 and eu-west-1 (examples/active-active.yaml)
MARKETING_CACHE, SCRATCH = 8765432, 8765433

# The import the example manifest declares on orders-prod (examples/orders.yaml), and its receipt tag.
ORDERS_SEEDS = tuple(f"s3://acme-seeds/orders/orders-{n}_of_3.rdb.gz" for n in (1, 2, 3))
IMPORT = "orders-prod.imports.seed-2026-11-20"
IMPORT_KEY = "rcr_import_seed-2026-11-20"

# The summary line of the examples' plan against a fresh example account.
PLAN_SUMMARY = "Plan: 5 to update, 2 to back up, 1 to import (1 destructive)."
