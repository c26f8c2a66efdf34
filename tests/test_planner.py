"""plan(): one table of (desired, live, receipts, options) → expected changes, warnings or errors."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from typing import Any

import pytest

from reconciler.core.calls import plain
from reconciler.core.desired import (
    BackupSettings,
    DatabaseSpec,
    Import,
    Manifest,
    OnDemandBackup,
    OperationKind,
    Position,
    RegionBackup,
    Tier,
)
from reconciler.core.live import (
    LatestStatus,
    LiveAccount,
    LiveBackup,
    LiveDatabase,
    LiveRegion,
    LiveTag,
    TaskSnapshot,
)
from reconciler.core.plan import Action, OneShot, RegionalUpdate, WarningKind
from reconciler.core.planner import PlanOptions, plan, selected
from reconciler.core.receipt_tags import Phase, Receipt, read_receipts
from reconciler.errors import PlanError
from reconciler.output.plan_json import change_document
from reconciler.output.render import render_markdown, render_text
from tests.support.api_calls import op_fingerprint, with_receipts

S3 = "s3://acme-backups/orders"
ON = BackupSettings(True, S3, "aws-s3", "every-12-hours", "04:00")
LIVE_ON = LiveBackup(True, S3, "every-12-hours", "04:00")
LIVE_OFF = LiveBackup(False, None, "", "")
SEED = Import("seed", ("s3://acme-seeds/orders.rdb.gz",), "aws-s3", confirm="orders")
SEED_FIRST = replace(SEED, backup_first=True)
ADHOC = OnDemandBackup("pre", None)
CLAIMED_AT = "2026-11-24T06:30:00Z"
AFTER = "2026-11-24T07:00:00Z"


def spec(
    backup: BackupSettings | None = ON,
    *,
    tier: Tier = Tier.PRO,
    backups: tuple[OnDemandBackup, ...] = (),
    imports: tuple[Import, ...] = (),
    name: str = "orders",
    database: int = 10,
    protected: bool = False,
    observe: bool = False,
) -> DatabaseSpec:
    position = Position("m.yaml", 1, 3)
    return DatabaseSpec(name, 1, database, tier, protected, backup, backups, imports, position, observe=observe)


def live(
    backup: LiveBackup = LIVE_ON,
    *,
    tier: Tier = Tier.PRO,
    tags: tuple[LiveTag, ...] | None = (),
    name: str = "orders",
    database: int = 10,
) -> LiveDatabase:
    return with_receipts(LiveDatabase(tier, 1, database, name, "active", backup, tags))


def tag(operation: Import | OnDemandBackup, phase: Phase, task: str | None = None) -> LiveTag:
    kind = OperationKind.IMPORT if isinstance(operation, Import) else OperationKind.BACKUP
    receipt = Receipt(kind, operation.id, phase, op_fingerprint(operation), 1764312600, task)
    return LiveTag(receipt.key, receipt.value, CLAIMED_AT)


def manifest(*specs: DatabaseSpec) -> Manifest:
    return Manifest(specs, ("m.yaml",), "sha256:test")


def ops(*items: Import | OnDemandBackup) -> dict[str, Any]:
    return {
        "imports": tuple(i for i in items if isinstance(i, Import)),
        "backups": tuple(i for i in items if isinstance(i, OnDemandBackup)),
    }


def imported(status: LatestStatus) -> dict[str, Any]:
    return {"latest": {((1, 10), OperationKind.IMPORT): status}}


def task(snapshot: TaskSnapshot) -> dict[str, Any]:
    return {"tasks": {snapshot.task_id: snapshot}}


def case(
    desired: DatabaseSpec,
    current: LiveDatabase,
    expect: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
    options: PlanOptions | None = None,
    id: str,
) -> Any:
    return pytest.param(desired, current, extra or {}, options or PlanOptions(), expect, id=id)


OFF = BackupSettings(False)
OFF_CONFIRMED = BackupSettings(False, confirm="orders")
NO_INTERVAL = BackupSettings(True, "s3://other", "aws-s3")
STAGING_SEED = replace(SEED, confirm="orders-staging")
WRONG_ID = (
    "orders-staging.imports.seed: confirm is 'orders-staging' but database 10 in subscription 1 is named "
    "'orders-prod' in Redis Cloud — check the ids; if this really is the database to overwrite, write "
    "confirm: orders-prod"
)

OBSERVE_ALL = PlanOptions(observe_all=True)

CASES = [
    case(spec(), live(), {"changes": []}, id="no-op"),
    # --- observe-only databases (issue 17): planned as usual, set apart, never among the changes apply runs ---
    case(
        spec(replace(ON, path="s3://other"), observe=True),
        live(),
        {"changes": [], "observed": ["orders.backup"], "work": False},
        id="observed-drift-is-observed-only",
    ),
    case(
        spec(replace(ON, path="s3://other")),
        live(),
        {"changes": [], "observed": ["orders.backup"], "work": False},
        options=OBSERVE_ALL,
        id="observe-flag-observes-every-database",
    ),
    case(
        spec(replace(ON, path="s3://other"), **ops(SEED, ADHOC), observe=True),
        live(),
        {"changes": [], "observed": ["orders.backup", "orders.backups.pre", "orders.imports.seed"], "work": False},
        id="observed-one-shots-are-observed-only",
    ),
    case(
        spec(**ops(SEED), observe=True),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("settled", "done")], "observed_warnings": True, "work": False},
        extra=imported(LatestStatus("success", AFTER)),
        id="observed-settled-receipt-is-not-recorded",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.FAILED),)),
        {"changes": [], "warnings": [("failed", None)], "observed_warnings": True, "attention": 0},
        options=OBSERVE_ALL,
        id="observed-failed-receipt-needs-no-attention-from-apply",
    ),
    case(
        spec(replace(ON, path="s3://other"), observe=False),
        live(),
        {"changes": ["orders.backup"], "observed": [], "work": True},
        id="managed-is-the-default",
    ),
    case(
        spec(replace(ON, path="s3://other")),
        live(),
        {"changes": ["orders.backup"], "fields": ["path"]},
        id="path-drift",
    ),
    case(spec(replace(ON, interval="every-24-hours")), live(), {"fields": ["interval"]}, id="interval-drift"),
    case(
        spec(replace(ON, interval="every-24-hours", time_utc="05:00")),
        live(LiveBackup(True, S3, "every-24-hours", "04:00")),
        {"fields": ["time_utc"]},
        id="time-drift",
    ),
    case(
        spec(),
        live(LIVE_OFF),
        {
            "fields": ["enabled", "path", "interval", "time_utc"],
            "body": {
                "remoteBackup": {
                    "active": True,
                    "interval": "every-12-hours",
                    "timeUTC": "04:00",
                    "storageType": "aws-s3",
                    "storagePath": S3,
                }
            },
        },
        id="enable",
    ),
    case(
        spec(BackupSettings(False)),
        live(),
        {"fields": ["enabled"], "body": {"remoteBackup": {"active": False}}},
        id="disable-pro",
    ),
    case(
        spec(BackupSettings(False), tier=Tier.ESSENTIALS),
        live(LiveBackup(True, S3), tier=Tier.ESSENTIALS),
        {"fields": ["enabled"], "body": {"periodicBackupPath": ""}},
        id="disable-essentials",
    ),
    case(spec(BackupSettings(False)), live(LIVE_OFF), {"changes": []}, id="disabled-read-is-disabled"),
    case(
        spec(None),
        live(LiveBackup(True, "s3://anything", "every-1-hours")),
        {"changes": []},
        id="unmanaged-backup-block",
    ),
    case(spec(replace(ON, time_utc="16:00")), live(), {"changes": []}, id="12-hour-twin-is-no-change"),
    case(
        spec(replace(ON, interval="every-24-hours", time_utc="16:00")),
        live(LiveBackup(True, S3, "every-24-hours", "04:00")),
        {"fields": ["time_utc"]},
        id="24-hour-16-vs-04",
    ),
    case(spec(replace(ON, path=S3 + "/")), live(), {"changes": []}, id="trailing-slash"),
    case(
        spec(replace(ON, time_utc=None)),
        live(LiveBackup(True, S3, "every-12-hours", "10:00")),
        {"changes": []},
        id="time-left-out-is-not-managed",
    ),
    case(
        spec(BackupSettings(True, "ftp://u:${env:FTP_PASS}@host/dir", None, "every-6-hours")),
        live(LiveBackup(True, "ftp://u:s3cret@host/dir", "every-6-hours")),
        {"changes": []},
        id="credential-reference-is-no-drift",
    ),
    case(
        spec(BackupSettings(True, "s3://new")),
        live(LiveBackup(True, S3, "every-24-hours"), tier=Tier.ESSENTIALS),
        {"error": "is a Redis Cloud Essentials database, but the manifest says tier pro"},
        id="wrong-tier",
    ),
    case(
        spec(BackupSettings(True, "s3://new"), tier=Tier.ESSENTIALS),
        live(LiveBackup(True, S3, "every-24-hours"), tier=Tier.ESSENTIALS),
        {"fields": ["path"], "body": {"periodicBackupPath": "s3://new"}},
        id="essentials-path",
    ),
    case(
        spec(BackupSettings(True, S3), tier=Tier.ESSENTIALS),
        live(LiveBackup(True, S3 + "/", "every-24-hours"), tier=Tier.ESSENTIALS),
        {"changes": []},
        id="essentials-no-op",
    ),
    case(
        spec(**ops(SEED, ADHOC)),
        live(),
        {"changes": ["orders.backups.pre", "orders.imports.seed"], "receipt": None},
        id="no-receipt",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("uncertain", None)]},
        id="claimed-uncertain",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("in-progress", None)]},
        extra=imported(LatestStatus("importing")),
        id="claimed-in-progress",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("uncertain", None)]},
        extra=imported(LatestStatus("success", CLAIMED_AT)),
        id="claimed-same-second-as-created-at-is-no-evidence",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("settled", "done")]},
        extra=imported(LatestStatus("success", AFTER)),
        id="claimed-settled-done-after-created-at",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("settled", "failed")]},
        extra=imported(LatestStatus("failed", AFTER, "file-corrupted")),
        id="claimed-settled-failed",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED, "t-1"),)),
        {"warnings": [("settled", "failed")]},
        extra=task(TaskSnapshot("t-1", "processing-error", "DATABASE_IMPORT_FAILED")),
        id="claimed-task-failed",
    ),
    case(
        spec(**ops(ADHOC)),
        live(tags=(tag(ADHOC, Phase.CLAIMED, "t-2"),)),
        {"warnings": [("uncertain", None)]},
        extra={
            **task(TaskSnapshot("t-2", "processing-completed")),
            "latest": {((1, 10), OperationKind.BACKUP): LatestStatus(error_type="DATABASE_BACKUP_DISABLED")},
        },
        id="claimed-task-done-backup-status-disabled-is-no-evidence",
    ),
    case(spec(**ops(SEED)), live(tags=(tag(SEED, Phase.DONE),)), {"changes": [], "warnings": []}, id="done"),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.FAILED),)),
        {"changes": [], "warnings": [("failed", None)]},
        id="failed",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.FAILED),)),
        {"changes": ["orders.imports.seed"], "warnings": [], "receipt": "failed"},
        options=PlanOptions(retry_failed=frozenset({"orders.imports.seed"})),
        id="failed-retried",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"changes": ["orders.imports.seed"], "warnings": [], "receipt": "claimed"},
        options=PlanOptions(retry_uncertain=frozenset({"orders.imports.seed"})),
        id="uncertain-retried",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(tag(SEED, Phase.CLAIMED),)),
        {"warnings": [("settled", "done")]},
        extra=imported(LatestStatus("success", AFTER)),
        options=PlanOptions(retry_uncertain=frozenset({"orders.imports.seed"})),
        id="retry-uncertain-not-if-settled",
    ),
    case(
        spec(**ops(SEED)),
        live(tags=(LiveTag("rcr_import_seed", "half-written", CLAIMED_AT),)),
        {"error": "orders.imports.seed: receipt tag rcr_import_seed has an unreadable value"},
        id="unparseable-tag",
    ),
    case(
        spec(**ops(replace(SEED, sources=("s3://acme-seeds/other.rdb",)))),
        live(tags=(tag(SEED, Phase.DONE),)),
        {"error": "restore the entry as it was, or give the changed operation a new id"},
        id="fingerprint-mismatch",
    ),
    case(spec(**ops(SEED)), live(tags=None), {"error": "tags were not read"}, id="tags-not-read"),
    case(
        spec(),
        live(database=11),
        {"error": "orders: database 10 in subscription 1 does not exist"},
        id="missing-database",
    ),
    case(
        spec(None, **ops(ADHOC)),
        live(LIVE_OFF),
        {"error": "orders.backups.pre: an on-demand backup without `path`"},
        id="backup-without-path-backup-off",
    ),
    case(
        spec(None, **ops(replace(ADHOC, path="s3://adhoc"))),
        live(LIVE_OFF),
        {"changes": ["orders.backups.pre"]},
        id="backup-with-path-backup-off",
    ),
    case(
        spec(**ops(ADHOC)),
        live(LIVE_OFF),
        {"changes": ["orders.backup", "orders.backups.pre"]},
        id="backup-off-but-switched-on-by-this-plan",
    ),
    case(
        spec(BackupSettings(False), tier=Tier.ESSENTIALS, **ops(SEED_FIRST)),
        live(LiveBackup(True, S3), tier=Tier.ESSENTIALS),
        {"error": "DATABASE_BACKUP_NOT_CONFIGURED"},
        id="backup-first-while-this-plan-switches-backup-off",
    ),
    case(
        spec(replace(ON, path="s3://other"), **ops(SEED, ADHOC)),
        live(),
        {"changes": ["orders.imports.seed"]},
        options=PlanOptions(targets=frozenset({"orders.imports.seed"})),
        id="target-address",
    ),
    case(
        spec(replace(ON, path="s3://other"), **ops(SEED)),
        live(),
        {"changes": ["orders.backup", "orders.imports.seed"]},
        options=PlanOptions(targets=frozenset({"orders"})),
        id="target-database",
    ),
    case(
        spec(),
        live(),
        {"error": "--target nope"},
        options=PlanOptions(targets=frozenset({"nope"})),
        id="unknown-target",
    ),
]


@pytest.mark.parametrize(("desired", "current", "extra", "options", "expect"), CASES)
def test_plan(
    desired: DatabaseSpec, current: LiveDatabase, extra: dict[str, Any], options: PlanOptions, expect: dict[str, Any]
) -> None:
    account = LiveAccount.of(current, **extra)
    if "error" in expect:
        with pytest.raises(PlanError, match=re.escape(expect["error"])):
            plan(manifest(desired), account, options)
        return
    result = plan(manifest(desired), account, options)
    changes = {c.address: c for c in result.changes}
    if "changes" in expect:
        assert list(changes) == expect["changes"]
    if "fields" in expect:
        assert [f.field for f in changes["orders.backup"].fields] == expect["fields"]
    if "body" in expect:
        assert plain(changes["orders.backup"].calls[0].body) == expect["body"]
    if "receipt" in expect:
        last = result.changes[-1]
        assert isinstance(last, OneShot)
        assert (last.replaces and last.replaces.phase.value) == expect["receipt"]
    if "warnings" in expect:
        assert [(w.kind.value, w.outcome) for w in result.warnings] == expect["warnings"]
    if "live_name" in expect:
        assert {c.database.live_name for c in result.changes} == {expect["live_name"]}
        assert {change_document(c)["database"]["live_name"] for c in result.changes} == {expect["live_name"]}
    if "observed" in expect:
        assert [c.address for c in result.observed] == expect["observed"]
    if "observed_warnings" in expect:
        assert {w.observed for w in result.warnings} == {expect["observed_warnings"]}
    if "work" in expect:
        assert result.has_work is expect["work"] and (not result.settlements or expect["work"])
    if "attention" in expect:
        assert len(result.attention) == expect["attention"]
    if "risky" in expect:
        (update,) = [c for c in result.changes if c.action is Action.UPDATE]
        assert update.risky is expect["risky"] and update.to_dict()["risky"] is expect["risky"]


def test_order_is_name_then_action_then_declaration() -> None:
    first, second = OnDemandBackup("b2", "s3://x"), OnDemandBackup("b1", "s3://y")
    desired = manifest(
        spec(replace(ON, path="s3://new"), backups=(first, second), imports=(SEED,), name="zeta"),
        spec(backups=(first,), name="alpha", database=11),
    )
    result = plan(desired, LiveAccount.of(live(), live(name="alpha", database=11)))
    assert [c.address for c in result.changes] == [
        "alpha.backups.b2",
        "zeta.backup",
        "zeta.backups.b2",
        "zeta.backups.b1",
        "zeta.imports.seed",
    ]
    assert [c.action for c in result.changes][1:] == [Action.UPDATE, Action.BACKUP, Action.BACKUP, Action.IMPORT]
    assert result.changes[-1].destructive
    assert plan(desired, LiveAccount.of(live(name="alpha", database=11), live())) == result


def test_all_problems_are_reported_at_once() -> None:
    desired = manifest(spec(name="gone", database=99), spec(**ops(replace(SEED, sources=("s3://x/y",))), database=10))
    with pytest.raises(PlanError) as caught:
        plan(desired, LiveAccount.of(live(tags=(tag(SEED, Phase.DONE),))))
    assert len(caught.value.problems) == 2
    assert "gone:" in str(caught.value) and "orders.imports.seed:" in str(caught.value)


def test_live_credentials_are_masked_in_before() -> None:
    current = live(LiveBackup(True, "ftp://u:s3cret@host/dir", "every-6-hours"))
    result = plan(manifest(spec(BackupSettings(True, "s3://new", None, "every-6-hours"))), LiveAccount.of(current))
    assert "s3cret" not in repr([change_document(c) for c in result.changes])


def test_api_error_descriptions_in_warnings_are_masked() -> None:
    snapshot = TaskSnapshot("T-1", "processing-error", "DATABASE_IMPORT_FTP_BAD_URI", "bad ftp://u:s3cret@h/x")
    result = plan(
        manifest(spec(**ops(SEED))), LiveAccount.of(live(tags=(tag(SEED, Phase.CLAIMED, "t-1"),)), **task(snapshot))
    )
    assert [w.outcome for w in result.warnings] == ["failed"]
    assert "DATABASE_IMPORT_FTP_BAD_URI" in result.warnings[0].message
    assert "s3cret" not in result.warnings[0].message


@pytest.mark.parametrize(
    ("targets", "names"),
    [
        pytest.param(frozenset(), ["orders", "alpha"], id="everything"),
        pytest.param(frozenset({"alpha"}), ["alpha"], id="a-database"),
        pytest.param(frozenset({"orders.imports.seed"}), ["orders"], id="an-operation"),
        pytest.param(frozenset({"orders.backup", "alpha.backups.b"}), ["orders", "alpha"], id="two"),
        pytest.param(frozenset({"ord"}), [], id="not-a-prefix-match"),
    ],
)
def test_selected_is_what_a_targeted_plan_reads(targets: frozenset[str], names: list[str]) -> None:
    desired = manifest(spec(name="orders"), spec(name="alpha", database=11))
    assert [s.name for s in selected(desired, targets).databases] == names


# --- Active-Active databases (issue 19): settings per region, one PUT …/regions ---------------------------------

EAST, WEST = "s3://acme-backups/aa-east", "s3://acme-backups/aa-west"
EAST_ON = BackupSettings(True, EAST, "aws-s3", "every-24-hours", "02:00")
WEST_ON = BackupSettings(True, WEST, "aws-s3", "every-12-hours", "16:00")
LIVE_EAST = LiveBackup(True, EAST, "every-24-hours", "02:00")
LIVE_WEST = LiveBackup(True, WEST, "every-12-hours", "04:00")  # "16:00" as the API reports it (API-NOTES §1)
EAST_ADDRESS, WEST_ADDRESS = 'orders.backup["us-east-1"]', 'orders.backup["eu-west-1"]'


def aa_spec(regions: dict[str, BackupSettings] | None = None, **flat: Any) -> DatabaseSpec:
    chosen = {"us-east-1": EAST_ON, "eu-west-1": WEST_ON} if regions is None else regions
    base = spec(None, **flat)
    return replace(base, backup_regions=tuple(RegionBackup(name, settings) for name, settings in chosen.items()))


def aa_live(regions: dict[str, LiveBackup] | None = None) -> LiveDatabase:
    chosen = {"us-east-1": LIVE_EAST, "eu-west-1": LIVE_WEST} if regions is None else regions
    found = tuple(LiveRegion(name, backup) for name, backup in chosen.items())
    return replace(live(LIVE_OFF), regions=found)


def remote(path: str, interval: str, time_utc: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"active": True, "interval": interval, "storageType": "aws-s3", "storagePath": path}
    return body | ({"timeUTC": time_utc} if time_utc else {})


AA_CASES = [
    pytest.param(aa_spec(), aa_live(), {}, {"regions": []}, id="in-sync-afternoon-time-is-the-12h-twin"),
    pytest.param(
        aa_spec({"us-east-1": replace(EAST_ON, interval="every-12-hours"), "eu-west-1": WEST_ON}),
        aa_live(),
        {},
        {
            "regions": [EAST_ADDRESS],
            "fields": {EAST_ADDRESS: ["interval"]},
            "body": {"regions": [{"region": "us-east-1", "remoteBackup": remote(EAST, "every-12-hours", "02:00")}]},
        },
        id="only-the-changed-region-is-sent",
    ),
    pytest.param(
        aa_spec({"us-east-1": replace(EAST_ON, path="s3://moved"), "eu-west-1": replace(WEST_ON, time_utc="17:00")}),
        aa_live(),
        {},
        {
            "regions": [EAST_ADDRESS, WEST_ADDRESS],
            "fields": {EAST_ADDRESS: ["path"], WEST_ADDRESS: ["time_utc"]},
            "body": {
                "regions": [
                    {"region": "us-east-1", "remoteBackup": remote("s3://moved", "every-24-hours", "02:00")},
                    {"region": "eu-west-1", "remoteBackup": remote(WEST, "every-12-hours", "17:00")},
                ]
            },
        },
        id="two-regions-one-request",
    ),
    pytest.param(
        aa_spec({"us-east-1": BackupSettings(True, EAST, "aws-s3")}),
        aa_live({"us-east-1": LiveBackup(True, "s3://old", "every-6-hours", ""), "eu-west-1": LIVE_WEST}),
        {},
        {
            "regions": [EAST_ADDRESS],
            "body": {"regions": [{"region": "us-east-1", "remoteBackup": remote(EAST, "every-6-hours")}]},
        },
        id="unmanaged-interval-keeps-the-region-s-own-and-unlisted-regions-are-left-alone",
    ),
    pytest.param(
        aa_spec({"us-east-1": EAST_ON}),
        aa_live({"us-east-1": LiveBackup(False, None, "", ""), "eu-west-1": LIVE_WEST}),
        {},
        {"regions": [EAST_ADDRESS], "fields": {EAST_ADDRESS: ["enabled", "path", "interval", "time_utc"]}},
        id="region-switched-on",
    ),
    pytest.param(
        aa_spec({"eu-west-1": OFF}, protected=True),
        aa_live(),
        {},
        {"error": f"{WEST_ADDRESS}: orders is protected and this plan switches its remote backup off"},
        id="protected-region-switch-off-needs-confirm",
    ),
    pytest.param(
        aa_spec({"eu-west-1": OFF_CONFIRMED}, protected=True),
        aa_live(),
        {},
        {
            "regions": [WEST_ADDRESS],
            "risky": [WEST_ADDRESS],
            "body": {"regions": [{"region": "eu-west-1", "remoteBackup": {"active": False}}]},
        },
        id="confirmed-region-switch-off-is-risky",
    ),
    pytest.param(
        aa_spec({"ap-south-1": EAST_ON}),
        aa_live(),
        {},
        {
            "error": "orders.backup[\"ap-south-1\"]: database 10 in subscription 1 has no region 'ap-south-1' (its regions: "
            "us-east-1, eu-west-1)"
        },
        id="unknown-region",
    ),
    pytest.param(
        spec(ON),
        aa_live(),
        {},
        {
            "error": "orders.backup: database 10 in subscription 1 is an Active-Active database (regions: us-east-1, "
            "eu-west-1), whose backup settings are per region — write them under `backup.regions`"
        },
        id="flat-form-on-active-active",
    ),
    pytest.param(
        aa_spec(),
        live(),
        {},
        {
            "error": "orders.backup: database 10 in subscription 1 is a single-region database, so its backup settings "
            "have no regions — write them directly under `backup:`"
        },
        id="regions-on-single-region",
    ),
    pytest.param(
        aa_spec({"us-east-1": replace(EAST_ON, path="s3://moved"), "eu-west-1": replace(WEST_ON, path="s3://moved")}),
        aa_live(),
        {"targets": frozenset({"orders.backup[eu-west-1]"})},  # as a shell leaves it: the quotes taken
        {"regions": [WEST_ADDRESS]},
        id="target-one-region",
    ),
    pytest.param(
        aa_spec({"us-east-1": replace(EAST_ON, path="s3://moved"), "eu-west-1": replace(WEST_ON, path="s3://moved")}),
        aa_live(),
        {"targets": frozenset({"orders.backup"})},
        {"regions": [EAST_ADDRESS, WEST_ADDRESS]},
        id="target-every-region",
    ),
    pytest.param(
        aa_spec(),
        aa_live(),
        {"targets": frozenset({'orders.backup["ap-south-1"]'})},
        {
            "error": '--target orders.backup["ap-south-1"]: no database or operation in the manifest has this name or '
            'address (a region is addressed as NAME.backup["REGION"]'
        },
        id="target-unknown-region",
    ),
    pytest.param(
        aa_spec(backups=(ADHOC,)),
        aa_live(),
        {},
        {
            "error": "orders: database 10 in subscription 1 is an Active-Active database, whose regions are each backed up "
            "on their own — give pre `region: us-east-1` (its regions: us-east-1, eu-west-1) or `regions: all`"
        },
        id="on-demand-backup-without-a-region",
    ),
    pytest.param(
        aa_spec(backups=(replace(ADHOC, region="ap-south-1"),)),
        aa_live(),
        {},
        {"error": "orders: database 10 in subscription 1 has no such region for pre (region 'ap-south-1')"},
        id="on-demand-backup-of-an-unknown-region",
    ),
    pytest.param(
        aa_spec(imports=(SEED_FIRST,)),
        aa_live(),
        {},
        {"error": "orders: `backup_first` of seed cannot say which region of the Active-Active database 10"},
        id="backup-first-names-no-region",
    ),
    pytest.param(
        spec(backups=(replace(ADHOC, all_regions=True),)),
        live(),
        {},
        {
            "error": "orders: database 10 in subscription 1 is a single-region database, so its on-demand backups take "
            "no region — remove `region:` / `regions:` from pre"
        },
        id="regions-on-a-single-region-backup",
    ),
    pytest.param(
        aa_spec({}, backups=(OnDemandBackup("x" * 40, None, all_regions=True),)),
        aa_live({"us-east-1": LIVE_EAST, "northamerica-northeast1": LIVE_WEST}),
        {},
        {
            "error": f"the receipt tag key `rcr_backup_<id>@<region>` of {'x' * 40}@northamerica-northeast1 would "
            "break the tag rules"
        },
        id="a-receipt-key-that-would-not-fit",
    ),
]


@pytest.mark.parametrize(
    ("backup", "current", "extra", "expect"),
    [
        pytest.param(
            replace(ADHOC, all_regions=True),
            aa_live(),
            {},
            {'orders.backups.pre["us-east-1"]': {"regionName": "us-east-1"},
             'orders.backups.pre["eu-west-1"]': {"regionName": "eu-west-1"}},
            id="every-region-one-request-each",
        ),
        pytest.param(
            OnDemandBackup("pre", "s3://adhoc", "eu-west-1"),
            aa_live(),
            {},
            {'orders.backups.pre["eu-west-1"]': {"regionName": "eu-west-1", "adhocBackupPath": "s3://adhoc"}},
            id="one-region-to-its-own-path",
        ),
        pytest.param(
            replace(ADHOC, region="eu-west-1"),
            aa_live({"us-east-1": LIVE_EAST, "eu-west-1": LiveBackup(False, None, "", "")}),
            {},
            'orders.backups.pre["eu-west-1"]: an on-demand backup without `path` needs a backup destination, but '
            "backup is off in region eu-west-1 of this database and this plan does not switch it on (the API would "
            "answer DATABASE_BACKUP_DISABLED); enable backup in `backup.regions.eu-west-1`",
            id="region-off-has-no-destination",
        ),
        pytest.param(
            replace(ADHOC, all_regions=True),
            aa_live(),
            {"targets": frozenset({"orders.backups.pre[eu-west-1]"})},
            {'orders.backups.pre["eu-west-1"]': {"regionName": "eu-west-1"}},
            id="target-one-region-of-every-region",
        ),
        pytest.param(
            replace(ADHOC, all_regions=True),
            aa_live(),
            {"targets": frozenset({'orders.backups.pre["ap-south-1"]'})},
            'orders.backups.pre["ap-south-1"]: the database has no such region',
            id="target-a-region-the-database-lacks",
        ),
    ],
)  # fmt: skip
def test_plan_active_active_backups(
    backup: OnDemandBackup, current: LiveDatabase, extra: dict[str, Any], expect: dict[str, Any] | str
) -> None:
    desired = manifest(aa_spec({}, backups=(backup,)))
    if isinstance(expect, str):
        with pytest.raises(PlanError, match=re.escape(expect)):
            plan(desired, LiveAccount.of(current), PlanOptions(**extra))
        return
    result = plan(desired, LiveAccount.of(current), PlanOptions(**extra))
    assert {c.address: plain(c.calls[0].body) for c in result.changes} == expect
    assert all(c.call.path == "/subscriptions/1/databases/10/backup" for c in result.changes if isinstance(c, OneShot))


def test_a_claimed_region_s_backup_is_judged_by_that_region_s_own_status() -> None:
    backup = OnDemandBackup("pre", None, all_regions=True)
    west = backup.in_region("eu-west-1")
    claimed = tag(west, Phase.CLAIMED)
    current = replace(aa_live(), tags=(claimed,))
    current = replace(current, receipts=read_receipts("orders", current.tags or (), [(OperationKind.BACKUP, west.id)]))
    success = LatestStatus("success", AFTER)
    east_only = LiveAccount.of(current, region_latest={((1, 10), "us-east-1"): success})
    desired = manifest(aa_spec({}, backups=(backup,)))
    # Another region's success says nothing of this one: it stays uncertain, and is never planned again.
    result = plan(desired, east_only)
    assert [(w.address, w.kind) for w in result.warnings] == [
        ('orders.backups.pre["eu-west-1"]', WarningKind.UNCERTAIN)
    ]
    assert [c.address for c in result.changes] == ['orders.backups.pre["us-east-1"]']
    settled = plan(desired, LiveAccount.of(current, region_latest={((1, 10), "eu-west-1"): success}))
    assert [(w.address, w.outcome) for w in settled.warnings] == [('orders.backups.pre["eu-west-1"]', "done")]


@pytest.mark.parametrize(("desired", "current", "options", "expect"), AA_CASES)
def test_plan_active_active(
    desired: DatabaseSpec, current: LiveDatabase, options: dict[str, Any], expect: dict[str, Any]
) -> None:
    if "error" in expect:
        with pytest.raises(PlanError, match=re.escape(expect["error"])):
            plan(manifest(desired), LiveAccount.of(current), PlanOptions(**options))
        return
    result = plan(manifest(desired), LiveAccount.of(current), PlanOptions(**options))
    updates = [c for c in result.changes if isinstance(c, RegionalUpdate)]
    assert [a for c in updates for a in c.addresses] == expect["regions"]
    assert len(updates) == (1 if expect["regions"] else 0)  # never more than one request a database
    if not updates:
        return
    (update,) = updates
    assert update.address == "orders.backup" and update.call.path == "/subscriptions/1/databases/10/regions"
    assert "periodicBackupPath" not in repr(plain(update.call.body))
    if "fields" in expect:
        assert {r.address: [f.field for f in r.fields] for r in update.regions} == expect["fields"]
    if "body" in expect:
        assert plain(update.call.body) == expect["body"]
    if "risky" in expect:
        assert [r.address for r in update.regions if r.risky] == expect["risky"] and update.risky


def test_an_active_active_import_is_planned_database_wide_and_flagged() -> None:
    result = plan(manifest(aa_spec(imports=(SEED,))), LiveAccount.of(aa_live()))
    (change,) = result.changes
    assert isinstance(change, OneShot) and change.database.active_active and change.destructive
    assert change.call.path == "/subscriptions/1/databases/10/import" and "regionName" not in repr(change.call.body)


def test_a_region_s_live_credentials_never_reach_the_plan() -> None:
    secret = "s3:cr@t+=:%2F%0Avery-long-" + "x" * 200  # "/" and a line break percent-encoded, as DOC-BK asks
    leaky = LiveBackup(True, f"ftp://user:{secret}@ftp.example/dir", "every-6-hours")
    wanted = BackupSettings(True, "ftp://${env:FTP_USER}:${env:FTP_PASSWORD}@ftp.example/new", "ftp", "every-6-hours")
    result = plan(manifest(aa_spec({"us-east-1": wanted})), LiveAccount.of(aa_live({"us-east-1": leaky})))
    (update,) = result.changes
    assert isinstance(update, RegionalUpdate)
    document = repr(change_document(update))
    out = io.StringIO()
    render_text(result, out, color=False)
    for shown in (document, out.getvalue(), render_markdown(result)):
        assert "s3:cr@t" not in shown and "x" * 200 not in shown
    assert "${env:FTP_PASSWORD}" in repr(plain(update.call.body))  # sent unresolved; apply resolves it
