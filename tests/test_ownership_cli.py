"""Ownership from the command line (issue 17): `owner:` in the manifests or `--owner`, the owner tag apply writes,
the refusal to manage another set's database, and `--takeover`, shown and kept in the plan file."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.core.receipt_tags import OWNER_KEY
from tests.support.cli import cli
from tests.support.examples import ORDERS
from tests.support.workdirs import peek_tags, sandbox_dir, world

FILES = ("orders.yaml", "platform.yaml", "essentials.yaml")


def owned_by(directory: Path, owner: str, files: tuple[str, ...] = FILES) -> Path:
    for name in files:
        path = directory / "examples" / name
        path.write_text(path.read_text().replace("version: 1\n", f"version: 1\nowner: {owner}\n", 1))
    return directory


def test_apply_tags_every_managed_database_with_the_owner_and_then_plans_no_owner_change(tmp_path: Path) -> None:
    directory = owned_by(sandbox_dir(tmp_path), "platform")
    text = cli(directory, "plan", "-f", "examples/")
    assert text.code == 0, text.err
    assert "@ orders-prod.owner will be tagged as owned by this manifest set" in text.out
    assert 'owner: (none) -> "platform" (tag rcr_owner)' in text.out
    assert "to own, " in text.out

    assert cli(directory, "apply", "-f", "examples/", "--auto-approve").code == 0
    assert peek_tags(directory)[OWNER_KEY] == "platform"
    again = json.loads(cli(directory, "plan", "-f", "examples/", "--format", "json").out)
    assert not [c for c in again["changes"] if c["action"] == "own"]
    assert again["owner"] == "platform" and again["summary"]["own"] == 0


def test_another_set_is_refused_and_takes_over_only_with_takeover(tmp_path: Path) -> None:
    directory = owned_by(sandbox_dir(tmp_path), "platform")
    assert cli(directory, "apply", "-f", "examples/", "--auto-approve").code == 0
    for name in FILES:  # the same files, now another set's (its owner given as a flag)
        path = directory / "examples" / name
        path.write_text(path.read_text().replace("owner: platform\n", ""))

    refused = cli(directory, "plan", "-f", "examples/", "--owner", "payments")
    assert refused.code == 1 and "Traceback" not in refused.err
    assert (
        f"orders-prod: database {ORDERS} in subscription 1234567 is owned by another manifest set, 'platform'"
        in refused.err
    )
    assert "--takeover" in refused.err

    planfile = directory / "plan.json"
    taking = cli(directory, "plan", "-f", "examples/", "--owner", "payments", "--takeover", "--out", str(planfile))
    assert taking.code == 0, taking.err
    assert "orders-prod.owner will be tagged as owned by this manifest set, TAKING IT OVER" in taking.out
    markdown = cli(directory, "show", str(planfile), "--format", "markdown").out
    assert "taken over** from another manifest set" in markdown
    saved = json.loads(planfile.read_text())
    (orders,) = [c for c in saved["changes"] if c["address"] == "orders-prod.owner"]
    assert orders["before"] == {"owner": "platform"} and orders["after"] == {"owner": "payments"}
    assert saved["owner"] == "payments"

    other = cli(directory, "apply", str(planfile), "--owner", "billing")
    assert other.code == 1 and "'billing'" in other.err
    assert peek_tags(directory)[OWNER_KEY] == "platform"

    ran = cli(directory, "apply", str(planfile))
    assert ran.code == 0, ran.err
    assert peek_tags(directory)[OWNER_KEY] == "payments"


def test_files_naming_different_owners_are_a_validation_error_naming_both(tmp_path: Path) -> None:
    directory = owned_by(owned_by(sandbox_dir(tmp_path), "platform", ("orders.yaml",)), "payments", ("platform.yaml",))
    ran = cli(directory, "validate", "-f", "examples/")
    assert ran.code == 1
    assert "examples/platform.yaml:" in ran.err and "examples/orders.yaml:" in ran.err
    assert "owner: 'payments' differs from owner: 'platform'" in ran.err


def test_an_owner_outside_the_tag_rules_is_a_validation_error(tmp_path: Path) -> None:
    directory = owned_by(sandbox_dir(tmp_path), "Platform/EU", ("orders.yaml",))
    ran = cli(directory, "validate", "-f", "examples/")
    assert ran.code == 1 and "owner: 'Platform/EU' is not valid — use lowercase letters" in ran.err


def test_the_flag_must_agree_with_the_files(tmp_path: Path) -> None:
    directory = owned_by(sandbox_dir(tmp_path), "platform")
    ran = cli(directory, "plan", "-f", "examples/", "--owner", "payments")
    assert ran.code == 1 and "--owner 'payments' differs from owner: 'platform'" in ran.err
    bad = cli(sandbox_dir(tmp_path / "other"), "plan", "-f", "examples/", "--owner", "Pay Ments")
    assert bad.code == 1 and "--owner: owner 'Pay Ments' is not a valid owner id" in bad.err


def test_without_an_owner_nothing_changes_no_tag_is_read_or_written_for_ownership(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    mark = len(world(directory).request_log())
    document = json.loads(cli(directory, "plan", "-f", "examples/", "--format", "json").out)
    assert document["owner"] is None and not [c for c in document["changes"] if c["action"] == "own"]
    tag_reads = {r.path for r in world(directory).request_log()[mark:] if r.path.endswith("/tags")}
    assert f"/v1/subscriptions/1234567/databases/{ORDERS}/tags" in tag_reads  # orders-prod has one-shots
    assert len(tag_reads) == 2  # orders-prod and inventory-prod, the two with one-shots, of the 7 databases
    assert cli(directory, "apply", "-f", "examples/", "--auto-approve").code == 0
    assert OWNER_KEY not in peek_tags(directory)

    owned_by(directory, "platform")
    mark = len(world(directory).request_log())
    cli(directory, "plan", "-f", "examples/")
    # With an owner, every managed database's tags: the examples manage 7 (orders-aa, Active-Active, among them).
    assert len({r.path for r in world(directory).request_log()[mark:] if r.path.endswith("/tags")}) == 7
