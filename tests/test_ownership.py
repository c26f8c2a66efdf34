"""Ownership (issue 17): the planner's table of owner cases (pure), and apply over the emulator writing the owner
tag first, stopping on a database another set won, and two sets racing for one database."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import Any

import pytest

from reconciler.apply.ledger import Ledger
from reconciler.core.desired import BackupSettings, DatabaseSpec, Import, Manifest, Position, Tier
from reconciler.core.live import LiveAccount, LiveBackup, LiveDatabase, LiveTag
from reconciler.core.outcomes import Outcome
from reconciler.core.ownership import owner_problem, with_owner
from reconciler.core.plan import Action, OwnerTag, Plan, WarningKind
from reconciler.core.planner import PlanOptions, plan
from reconciler.core.receipt_tags import OWNER_KEY, decode
from reconciler.errors import ClaimedElsewhere, ClaimUnconfirmed, PlanError, ReconcilerError
from reconciler.refresh import fetch_live
from reconciler.sandbox import Fault
from tests.support.accounts import Account, account
from tests.support.api_calls import with_receipts
from tests.support.clients import open_client
from tests.support.examples import ORDERS, PROD_EU
from tests.support.world import calls

S3 = "s3://acme-backups/orders"
ON = BackupSettings(True, S3, "aws-s3", "every-12-hours", "04:00")
LIVE_ON = LiveBackup(True, S3, "every-12-hours", "04:00")
AT = "2026-11-24T06:30:00Z"
SEED = Import("seed", ("s3://acme-seeds/orders.rdb.gz",), "aws-s3", confirm="orders")
SPEC = DatabaseSpec("orders", 1, 10, Tier.PRO, False, ON, (), (), Position("m.yaml", 1, 3))


def live(*tags: tuple[str, str], backup: LiveBackup = LIVE_ON, read: bool = True) -> LiveAccount:
    listed = tuple(LiveTag(key, value, AT) for key, value in tags) if read else None
    return LiveAccount.of(with_receipts(LiveDatabase(Tier.PRO, 1, 10, "orders", "active", backup, listed)))


def owned(owner: str) -> tuple[str, str]:
    return (OWNER_KEY, owner)


DRIFT = LiveBackup(True, "s3://other", "every-12-hours", "04:00")
OWNER_CASES = [
    pytest.param("team-a", SPEC, live(), {}, {"changes": [("orders.owner", None)]}, id="unowned"),
    pytest.param(
        "team-a",
        SPEC,
        live(backup=DRIFT),
        {},
        {"changes": [("orders.owner", None), "orders.backup"]},
        id="owner-tag-first-then-settings",
    ),
    pytest.param("team-a", SPEC, live(owned("team-a"), backup=DRIFT), {}, {"changes": ["orders.backup"]}, id="ours"),
    pytest.param(
        "team-a",
        SPEC,
        live(owned("team-b"), backup=DRIFT),
        {},
        {"error": "orders: database 10 in subscription 1 is owned by another manifest set, 'team-b' (tag rcr_owner)"},
        id="theirs-is-refused",
    ),
    pytest.param(
        "team-a",
        SPEC,
        live(owned("team-b"), backup=DRIFT),
        {"takeover": True},
        {"changes": [("orders.owner", "team-b"), "orders.backup"], "method": "PUT"},
        id="theirs-with-takeover",
    ),
    pytest.param(None, SPEC, live(owned("team-b"), backup=DRIFT), {}, {"changes": ["orders.backup"]}, id="no-owner"),
    pytest.param(
        "team-a",
        replace(SPEC, observe=True),
        live(owned("team-b"), backup=DRIFT),
        {},
        {"changes": [], "observed": ["orders.backup"], "note": "observed database, owned by 'team-b'"},
        id="observed-reports-the-live-owner",
    ),
    pytest.param(
        "team-a",
        replace(SPEC, observe=True),
        live(),
        {},
        {"changes": [], "note": "not owned by any manifest set"},
        id="observed-unowned",
    ),
    pytest.param(
        "team-a",
        SPEC,
        live(read=False),
        {},
        {"error": "orders: its tags were not read"},
        id="tags-unread",
    ),
    pytest.param(
        "team-a",
        SPEC,
        live(backup=DRIFT),
        {"targets": frozenset({"orders.backup"})},
        {"changes": [("orders.owner", None), "orders.backup"]},
        id="a-target-on-the-database-brings-its-owner-tag",
    ),
    pytest.param(
        "team-a", SPEC, live(), {"targets": frozenset({"orders.backup"})}, {"changes": []}, id="nothing-targeted"
    ),
    pytest.param(
        "team-a",
        SPEC,
        live(*((f"team-{n}", "x") for n in range(30))),
        {},
        {"changes": [("orders.owner", None)], "budget": True},
        id="the-owner-tag-counts-toward-the-budget",
    ),
    pytest.param(
        "team-a",
        replace(SPEC, imports=(SEED,)),
        live(*((f"team-{n}", "x") for n in range(27))),
        {},
        {"changes": [("orders.owner", None), "orders.imports.seed"], "budget": True},
        id="the-owner-tag-counts-toward-the-receipts-budget",
    ),
]


@pytest.mark.parametrize(("owner", "spec", "account_", "options", "expect"), OWNER_CASES)
def test_ownership_in_the_plan(
    owner: str | None, spec: DatabaseSpec, account_: LiveAccount, options: dict[str, Any], expect: dict[str, Any]
) -> None:
    manifest = Manifest((spec,), ("m.yaml",), "sha256:test", owner)
    if "error" in expect:
        with pytest.raises(PlanError, match=re.escape(expect["error"])):
            plan(manifest, account_, PlanOptions(**options))
        return
    result = plan(manifest, account_, PlanOptions(**options))
    shown = [(c.address, c.previous) if isinstance(c, OwnerTag) else c.address for c in result.changes]
    assert shown == expect["changes"]
    if "observed" in expect:
        assert [c.address for c in result.observed] == expect["observed"]
    if "note" in expect:
        (note,) = [w for w in result.warnings if w.kind is WarningKind.OWNER]
        assert expect["note"] in note.message and note.observed and not result.attention
    if "method" in expect:
        (tag,) = [c for c in result.changes if isinstance(c, OwnerTag)]
        assert tag.call.method == expect["method"] and tag.call.path.endswith(f"/tags/{OWNER_KEY}")
    if "budget" in expect:
        assert [w.kind for w in result.warnings] == [WarningKind.TAG_BUDGET]
    if result.changes and isinstance(result.changes[0], OwnerTag):
        assert result.changes[0].action is Action.OWN and "to own" in result.summary_line


@pytest.mark.parametrize(
    ("owner", "valid"),
    [
        ("platform-team", True),
        ("ops@acme.example:prod+eu_1", True),
        ("two words", True),
        ("Platform", False),
        (" leading", False),
        ("trailing ", False),
        ("a/b", False),
        ("a=b", False),
        ("line\nbreak", False),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
    ],
)
def test_owner_ids_follow_the_tag_value_rules(owner: str, valid: bool) -> None:
    assert (owner_problem(owner) is None) is valid


def test_the_flag_and_the_files_must_agree() -> None:
    manifest = Manifest((SPEC,), ("m.yaml",), "sha256:test", "team-a")
    assert with_owner(manifest, None).owner == "team-a"
    assert with_owner(manifest, "team-a").owner == "team-a"
    assert with_owner(replace(manifest, owner=None), "team-b").owner == "team-b"
    with pytest.raises(ReconcilerError, match="--owner 'team-b' differs from owner: 'team-a'"):
        with_owner(manifest, "team-b")
    with pytest.raises(ReconcilerError, match="--owner: owner 'Team' is not a valid owner id"):
        with_owner(replace(manifest, owner=None), "Team")


def test_the_owner_tag_is_no_receipt() -> None:
    assert decode(LiveTag(OWNER_KEY, "team-a", AT), "orders") is None


# --- apply over the emulator --------------------------------------------------------------------------------


@pytest.fixture
def acct() -> Account:
    made = account()
    made.manifest = replace(made.manifest, owner="team-a")
    return made


def test_apply_writes_the_owner_tag_first_and_then_plans_nothing_for_it(acct: Account) -> None:
    first = acct.plan()
    owners = [c for c in first.changes if isinstance(c, OwnerTag)]
    assert owners and {c.database.name for c in owners} == {spec.name for spec in acct.manifest.databases}
    mark = acct.log_size()

    results = acct.apply(first)

    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert acct.emulator.tags(ORDERS)[OWNER_KEY] == "team-a"
    orders = [r for r in acct.writes(mark) if f"/databases/{ORDERS}" in r.path]
    assert (orders[0].method, orders[0].path.endswith("/tags")) == ("POST", True)  # before anything else on it
    assert not [c for c in acct.plan().changes if isinstance(c, OwnerTag)]


def test_a_set_that_lost_the_database_since_its_plan_writes_nothing_more_on_it(acct: Account) -> None:
    planned = acct.plan()
    acct.client.create_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "team-b")  # another set won it meanwhile
    mark = acct.log_size()

    results = {r.address: r for r in acct.apply(planned)}

    assert results["orders-prod.owner"].outcome is Outcome.CLAIMED_BY_OTHER_RUN
    assert "owned by another manifest set, 'team-b'" in results["orders-prod.owner"].message
    skipped = [r for address, r in results.items() if address.startswith("orders-prod.") and "owner" not in address]
    assert skipped and all(r.outcome is Outcome.SKIPPED for r in skipped)
    assert [r for r in acct.writes(mark) if f"/databases/{ORDERS}" in r.path and r.method != "POST"] == []
    assert not calls(acct.writes(mark), "POST", "/import") and acct.emulator.tags(ORDERS)[OWNER_KEY] == "team-b"


def test_a_takeover_is_applied_only_from_the_owner_the_plan_saw(acct: Account) -> None:
    acct.client.create_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "team-b")
    with pytest.raises(PlanError, match="owned by another manifest set, 'team-b'"):
        acct.plan()
    planned = _takeover_plan(acct)
    (tag,) = [c for c in planned.changes if isinstance(c, OwnerTag) and c.database.database == ORDERS]
    assert tag.previous == "team-b"
    acct.client.update_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "team-c")  # moved on since the plan

    results = {r.address: r for r in acct.apply(planned)}

    assert results["orders-prod.owner"].outcome is Outcome.CLAIMED_BY_OTHER_RUN
    assert "the owner changed since the plan (was 'team-b', now 'team-c')" in results["orders-prod.owner"].message
    assert acct.emulator.tags(ORDERS)[OWNER_KEY] == "team-c"

    acct.client.update_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "team-b")
    results = {r.address: r for r in acct.apply(_takeover_plan(acct))}
    assert results["orders-prod.owner"].outcome is Outcome.DONE
    assert acct.emulator.tags(ORDERS)[OWNER_KEY] == "team-a"


def _takeover_plan(acct: Account) -> Plan:
    return plan(acct.manifest, fetch_live(acct.client, acct.manifest), PlanOptions(takeover=True))


@pytest.mark.parametrize("mode", ["conflict", "overwrite"])
def test_two_sets_racing_for_an_unowned_database_one_wins(acct: Account, mode: str) -> None:
    acct.emulator.set_options(tag_create_existing=mode)
    ref = next(c.database for c in acct.plan().changes if c.database.database == ORDERS)
    for round_ in range(4):
        if round_:
            acct.client.delete_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY)
        start = threading.Barrier(2)
        won: list[str] = []

        def run(owner: str, start: threading.Barrier = start, won: list[str] = won) -> None:
            client, _ = open_client(acct.emulator)
            start.wait()
            try:
                Ledger(client, settle=0.15).own(ref, owner, previous=None)
                won.append(owner)
            except (ClaimedElsewhere, ClaimUnconfirmed):
                pass

        threads = [threading.Thread(target=run, args=(owner,)) for owner in ("team-a", "team-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(won) == 1, (mode, round_, won)
        assert acct.emulator.tags(ORDERS)[OWNER_KEY] == won[0]


def test_a_lost_answer_to_the_owner_tag_is_recognised_as_our_own(acct: Account) -> None:
    planned = acct.plan(targets={"orders-prod"})
    acct.emulator.inject(Fault.drop(method="POST", path="**/tags", after_processing=True, count=1))

    results = {r.address: r for r in acct.apply(planned)}

    assert all(r.ok for r in results.values()), results
    assert acct.emulator.tags(ORDERS)[OWNER_KEY] == "team-a"


def test_a_run_stopped_after_the_owner_tag_plans_the_rest_and_no_second_owner_tag(acct: Account) -> None:
    (owned,) = acct.apply(acct.plan(targets={"orders-prod.owner"}))  # as if killed just after the owner tag
    assert owned.ok and acct.emulator.tags(ORDERS)[OWNER_KEY] == "team-a"
    rest = [c.address for c in acct.plan(targets={"orders-prod"}).changes]
    assert rest and "orders-prod.owner" not in rest and "orders-prod.imports.seed-2026-11-20" in rest


@pytest.mark.parametrize("mode", ["conflict", "overwrite"])
def test_two_sets_taking_over_one_database_at_once_one_wins(acct: Account, mode: str) -> None:
    acct.emulator.set_options(tag_create_existing=mode)
    acct.client.create_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "team-old")
    ref = next(c.database for c in _takeover_plan(acct).changes if c.database.database == ORDERS)
    for round_ in range(3):
        if round_:
            acct.client.update_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "team-old")
        start = threading.Barrier(2)
        won: list[str] = []

        def run(owner: str, start: threading.Barrier = start, won: list[str] = won) -> None:
            client, _ = open_client(acct.emulator)
            start.wait()
            try:
                Ledger(client, settle=0.15).own(ref, owner, previous="team-old")
                won.append(owner)
            except (ClaimedElsewhere, ClaimUnconfirmed):
                pass

        threads = [threading.Thread(target=run, args=(owner,)) for owner in ("team-a", "team-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(won) <= 1, (mode, round_, won)  # both may lose (each read the other's value): neither goes on
        assert won == [] or acct.emulator.tags(ORDERS)[OWNER_KEY] == won[0]
