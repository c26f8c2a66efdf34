"""Active-Active databases at the command line (issue 19): region addresses in every plan format, `--target` as a
shell passes it, `status`, `receipts list|forget`, and the plan problems of the wrong backup form."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli, process_env, spawn
from tests.support.examples import ORDERS_AA
from tests.support.waiting import wait_for
from tests.support.workdirs import peek_tags, sandbox_dir, world

EAST, WEST = 'orders-aa.backup["us-east-1"]', 'orders-aa.backup["eu-west-1"]'
BACKUP_WEST = 'orders-aa.backups.pre-upgrade["eu-west-1"]'
AA_BLOCK = """\
version: 1
databases:
  - name: orders-aa
    subscription: 1234569
    database: 7654501
    backup:
      regions:
        us-east-1: {path: "s3://acme-backups/orders-aa/us-east-1", interval: every-6-hours}
        eu-west-1: {path: "s3://acme-backups-eu/orders-aa/moved", interval: every-12-hours, time_utc: "16:00"}
    backups:
      - id: pre-upgrade
        regions: all
"""


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    made = sandbox_dir(tmp_path)
    (made / "aa.yaml").write_text(AA_BLOCK, encoding="utf-8")
    return made


def shell(directory: Path, command: str) -> subprocess.CompletedProcess[str]:
    """A command line as a user types it into bash, quoting and all."""
    reconciler = f"{shlex.quote(sys.executable)} -m reconciler --sandbox"
    return subprocess.run(
        ["bash", "-c", command.replace("reconciler", reconciler, 1)],
        cwd=directory,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_plan_format_names_each_region_under_its_own_address(directory: Path) -> None:
    text = cli(directory, "plan", "-f", "aa.yaml", "--detailed-exitcode")
    assert text.code == 2, text.err
    assert "orders-aa.backup will be updated in 2 regions by one request" in text.out
    assert f'{EAST} interval: "every-24-hours" -> "every-6-hours"' in text.out
    assert f"{EAST} time_utc" not in text.out  # not managed there: the live time is not a field of the change
    assert f'{WEST} path: "s3://acme-backups-eu/orders-aa/eu-west-1" -> "s3://acme-backups-eu/orders-aa/moved"' in (
        text.out
    )
    assert f"+ {BACKUP_WEST} will be backed up once" in text.out
    assert 'to: the configured destination of region "eu-west-1"' in text.out

    markdown = cli(directory, "plan", "-f", "aa.yaml", "--format", "markdown")
    assert f"{EAST} interval:" in markdown.out and f"`{BACKUP_WEST}`" in markdown.out

    document = json.loads(cli(directory, "plan", "-f", "aa.yaml", "--format", "json").out)
    (update,) = [c for c in document["changes"] if c["action"] == "update"]
    assert [r["address"] for r in update["regions"]] == [EAST, WEST]
    assert update["calls"] == [
        {
            "method": "PUT",
            "path": "/subscriptions/1234569/databases/7654501/regions",
            "body": {
                "regions": [
                    {
                        "region": "us-east-1",
                        "remoteBackup": {
                            "active": True,
                            "interval": "every-6-hours",
                            "storageType": "aws-s3",
                            "storagePath": "s3://acme-backups/orders-aa/us-east-1",
                        },
                    },
                    {
                        "region": "eu-west-1",
                        "remoteBackup": {
                            "active": True,
                            "interval": "every-12-hours",
                            "storageType": "aws-s3",
                            "storagePath": "s3://acme-backups-eu/orders-aa/moved",
                            "timeUTC": "16:00",
                        },
                    },
                ]
            },
        }
    ]
    backups = [(c["address"], c["after"]["region"]) for c in document["changes"] if c["action"] == "backup"]
    assert backups == [('orders-aa.backups.pre-upgrade["us-east-1"]', "us-east-1"), (BACKUP_WEST, "eu-west-1")]


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(f"--target '{EAST}'", id="quoted-whole"),
        pytest.param(f"--target {EAST}", id="unquoted-the-shell-takes-the-quotes"),
        pytest.param('--target=orders-aa.backup\\["us-east-1"\\]', id="escaped-brackets"),
    ],
)
def test_a_region_target_typed_in_a_shell_plans_that_region_alone(directory: Path, typed: str) -> None:
    ran = shell(directory, f"reconciler plan -f aa.yaml --format json {typed}")
    assert ran.returncode == 0, ran.stderr
    (change,) = json.loads(ran.stdout)["changes"]
    assert [r["address"] for r in change["regions"]] == [EAST]
    assert [r["region"] for r in change["calls"][0]["body"]["regions"]] == ["us-east-1"]


def test_a_target_of_a_region_the_manifest_does_not_name_says_how_to_write_one(directory: Path) -> None:
    ran = shell(directory, "reconciler plan -f aa.yaml --target 'orders-aa.backup[\"ap-south-1\"]'")
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert "no database or operation in the manifest has this name or address" in ran.stderr
    assert "--target 'orders-aa.backup[\"us-east-1\"]'" in ran.stderr


def test_apply_then_status_and_receipts_name_each_region(directory: Path) -> None:
    applied = shell(
        directory, f"reconciler apply -f aa.yaml --auto-approve --target '{BACKUP_WEST}' --target orders-aa.backup"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = cli(directory, "plan", "-f", "aa.yaml", "--detailed-exitcode")
    assert again.code == 2 and 'orders-aa.backups.pre-upgrade["us-east-1"] will be backed up once' in again.out
    assert BACKUP_WEST not in again.out and "orders-aa.backup will" not in again.out

    status = cli(directory, "status", "-f", "aa.yaml")
    assert status.code == 0, status.err
    assert f"  {EAST}: on, to s3://acme-backups/orders-aa/us-east-1 (every-6-hours)" in status.out
    assert f"  {WEST}: on, to s3://acme-backups-eu/orders-aa/moved (every-12-hours, at 04:00 UTC)" in status.out
    rows = json.loads(cli(directory, "status", "-f", "aa.yaml", "--format", "json").out)["databases"]
    assert [r["address"] for r in rows[0]["regions"]] == [EAST, WEST] and "backup" not in rows[0]
    assert rows[0]["regions"][1]["last_backup"]["status"] == "success"

    listed = json.loads(cli(directory, "receipts", "list", "-f", "aa.yaml", "--format", "json").out)["receipts"]
    assert [(r["address"], r["key"], r["phase"], r["fingerprint_matches"]) for r in listed] == [
        (BACKUP_WEST, "rcr_backup_pre-upgrade@eu-west-1", "done", True)
    ]
    forgot = shell(directory, f"reconciler receipts forget -f aa.yaml {BACKUP_WEST} --auto-approve")
    assert forgot.returncode == 0, forgot.stderr
    assert BACKUP_WEST in cli(directory, "plan", "-f", "aa.yaml").out  # it may run again


@pytest.mark.parametrize("typed", [BACKUP_WEST, "orders-aa.backups.pre-upgrade[eu-west-1]"])
def test_adopt_takes_one_regions_backup_and_apply_runs_only_the_other_region(directory: Path, typed: str) -> None:
    adopted = shell(directory, f"reconciler receipts adopt -f aa.yaml {shlex.quote(typed)} --auto-approve")
    assert adopted.returncode == 0, adopted.stderr
    assert f"Adopted {BACKUP_WEST}" in adopted.stdout
    assert peek_tags(directory, ORDERS_AA)["rcr_backup_pre-upgrade@eu-west-1"].endswith(" adopted")

    plan = cli(directory, "plan", "-f", "aa.yaml")
    assert 'orders-aa.backups.pre-upgrade["us-east-1"] will be backed up once' in plan.out
    assert f"{BACKUP_WEST} will be backed up" not in plan.out


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        pytest.param(
            "orders-aa.backups.pre-upgrade",
            'this backup runs per region; adopt one region: orders-aa.backups.pre-upgrade["us-east-1"], ' + BACKUP_WEST,
            id="whole-backup",
        ),
        pytest.param(
            'orders-aa.backups.pre-upgrade["ap-south-1"]', "adopt one region: orders-aa.backups", id="not-a-region"
        ),
        pytest.param(
            'orders-aa.backups.never["eu-west-1"]', "no on-demand backup or import in the manifests", id="no-operation"
        ),
    ],
)
def test_adopt_of_no_single_regions_backup_names_the_addresses_and_writes_nothing(
    directory: Path, typed: str, expected: str
) -> None:
    mark = len(world(directory).request_log())
    ran = shell(directory, f"reconciler receipts adopt -f aa.yaml {shlex.quote(typed)} --auto-approve")
    assert ran.returncode == 1 and expected in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert [r for r in world(directory).request_log()[mark:] if r.method != "GET"] == []


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        pytest.param(
            "version: 1\ndatabases:\n  - {name: orders-aa, subscription: 1234569, database: 7654501,"
            " backup: {path: 's3://b/p', interval: every-24-hours}}\n",
            "orders-aa.backup: database 7654501 in subscription 1234569 is an Active-Active database (regions: "
            "us-east-1, eu-west-1), whose backup settings are per region — write them under `backup.regions`",
            id="flat-form-on-active-active",
        ),
        pytest.param(
            "version: 1\ndatabases:\n  - {name: orders-prod, subscription: 1234567, database: 7654321,"
            " backup: {regions: {us-east-1: {path: 's3://b/p', interval: every-24-hours}}}}\n",
            "orders-prod.backup: database 7654321 in subscription 1234567 is a single-region database, so its "
            "backup settings have no regions — write them directly under `backup:`",
            id="regions-on-single-region",
        ),
        pytest.param(
            "version: 1\ndatabases:\n  - {name: orders-aa, subscription: 1234569, database: 7654501,"
            " backups: [{id: pre}]}\n",
            "give pre `region: us-east-1` (its regions: us-east-1, eu-west-1) or `regions: all`",
            id="backup-without-a-region",
        ),
    ],
)
def test_the_wrong_form_for_the_live_database_is_a_plan_problem(directory: Path, manifest: str, expected: str) -> None:
    (directory / "wrong.yaml").write_text(manifest, encoding="utf-8")
    ran = cli(directory, "plan", "-f", "wrong.yaml")
    assert ran.code == 1 and expected in ran.err, ran.err
    assert "Traceback" not in ran.err


def test_a_saved_plan_whose_region_moved_since_is_refused_and_sends_nothing(directory: Path) -> None:
    planned = cli(directory, "plan", "-f", "aa.yaml", "--target", EAST, "--out", "plan.json")
    assert planned.code == 0, planned.err
    saved = json.loads((directory / "plan.json").read_text(encoding="utf-8"))
    assert [r["address"] for c in saved["changes"] for r in c.get("regions", [])] == [EAST]
    # Someone changes us-east-1 in the console meanwhile (here: another manifest, applied).
    (directory / "console.yaml").write_text(
        AA_BLOCK.replace("every-6-hours", "every-2-hours").split("    backups:")[0], encoding="utf-8"
    )
    moved = cli(directory, "apply", "-f", "console.yaml", "--target", EAST, "--auto-approve")
    assert moved.code == 0, moved.err

    ran = cli(directory, "apply", "plan.json")
    assert ran.code == 1 and "stale plan" in ran.err and "orders-aa.backup" in ran.err and "every-2-hours" in ran.err
    assert "Traceback" not in ran.err


def test_sigkill_while_a_region_backs_up_is_settled_by_the_next_run_and_each_region_backs_up_once(
    tmp_path: Path,
) -> None:
    directory = sandbox_dir(tmp_path, backup=0.8)  # long enough to kill the apply during the first region's backup
    (directory / "aa.yaml").write_text(AA_BLOCK, encoding="utf-8")
    east_key, west_key = "rcr_backup_pre-upgrade@us-east-1", "rcr_backup_pre-upgrade@eu-west-1"
    process = spawn(directory, "apply", "-f", "aa.yaml", "--target", "orders-aa.backups.pre-upgrade", "--auto-approve")
    try:
        wait_for(lambda: "task:" in peek_tags(directory, ORDERS_AA).get(east_key, ""), timeout=30)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    tags = peek_tags(directory, ORDERS_AA)
    assert tags[east_key].startswith("v1 claimed ") and west_key not in tags

    # The next run reads us-east-1's own backup status: in progress, or (once it ends) done; never sent again.
    wait_for(lambda: [r.status for r in world(directory).backup_history(ORDERS_AA)] == ["success"], timeout=30)
    settled = json.loads(cli(directory, "plan", "-f", "aa.yaml", "--format", "json").out)
    backup_east = 'orders-aa.backups.pre-upgrade["us-east-1"]'
    assert [(w["address"], w["kind"], w.get("outcome")) for w in settled["warnings"]] == [
        (backup_east, "settled", "done")
    ]
    assert backup_east not in [c["address"] for c in settled["changes"]]
    ran = cli(directory, "apply", "-f", "aa.yaml", "--target", "orders-aa.backups.pre-upgrade", "--auto-approve")
    assert ran.code == 0, ran.out + ran.err
    tags = peek_tags(directory, ORDERS_AA)
    assert tags[east_key].startswith("v1 done ") and tags[west_key].startswith("v1 done ")
    assert sorted(r.destination for r in world(directory).backup_history(ORDERS_AA)) == [
        "s3://acme-backups-eu/orders-aa/eu-west-1",
        "s3://acme-backups/orders-aa/us-east-1",
    ]
