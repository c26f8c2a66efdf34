"""The backup/import status vocabulary (issue 12 part 6): the Cloud-observed words and the cluster's, and
nothing else taken for an outcome. Pure tables, then apply, plan settlement and `status` under both
vocabularies of the emulator."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.core.desired import OperationKind, Tier
from reconciler.core.evidence import classify
from reconciler.core.live import LatestStatus
from reconciler.core.outcomes import Outcome
from reconciler.core.plan import WarningKind
from reconciler.core.planner import plan
from reconciler.core.statuses import StatusMeaning, is_failure, is_running, is_success, meaning
from reconciler.manifest.load import load_manifest
from reconciler.refresh import fetch_live
from reconciler.sandbox import Emulator, ManualClock
from tests.support.accounts import Account, account
from tests.support.api_calls import claim_of, post_backup, post_import
from tests.support.cli import cli
from tests.support.clients import Api
from tests.support.examples import EXAMPLES, IMPORT, IMPORT_KEY, ORDERS, PROD_EU
from tests.support.workdirs import sandbox_dir, world

VOCABULARIES = ["cloud", "cluster"]
ON_DEMAND = "orders-prod.backups.before-migration-2026-11"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param("exporting", StatusMeaning.RUNNING, id="cluster-backup-running"),
        pytest.param("initializing", StatusMeaning.RUNNING, id="cluster-import-starting"),
        pytest.param("importing", StatusMeaning.RUNNING, id="import-running"),
        pytest.param("in-progress", StatusMeaning.RUNNING, id="cloud-backup-running"),
        pytest.param("success", StatusMeaning.SUCCESS, id="cloud-success"),
        pytest.param("succeeded", StatusMeaning.SUCCESS, id="cluster-success"),
        pytest.param("Succeeded", StatusMeaning.SUCCESS, id="any-case"),
        pytest.param("failed", StatusMeaning.FAILED, id="failed"),
        # Guesses of earlier versions: unknown now, so never a success (nor a failure, nor running).
        pytest.param("completed", StatusMeaning.UNKNOWN, id="completed"),
        pytest.param("done", StatusMeaning.UNKNOWN, id="done"),
        pytest.param("imported", StatusMeaning.UNKNOWN, id="imported"),
        pytest.param("running", StatusMeaning.UNKNOWN, id="running"),
        pytest.param("error", StatusMeaning.UNKNOWN, id="error"),
        pytest.param("idle", StatusMeaning.UNKNOWN, id="idle"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_status_meaning(status: str | None, expected: StatusMeaning | None) -> None:
    assert meaning(status) is expected
    assert is_running(status) == (expected is StatusMeaning.RUNNING)
    assert is_success(status) == (expected is StatusMeaning.SUCCESS)
    assert is_failure(status) == (expected is StatusMeaning.FAILED)


@pytest.mark.parametrize(
    ("status", "kind", "outcome"),
    [
        ("success", WarningKind.SETTLED, "done"),
        ("succeeded", WarningKind.SETTLED, "done"),
        ("failed", WarningKind.SETTLED, "failed"),
        ("importing", WarningKind.IN_PROGRESS, None),
        ("initializing", WarningKind.IN_PROGRESS, None),
        ("completed", WarningKind.UNCERTAIN, None),
        ("done", WarningKind.UNCERTAIN, None),
        ("imported", WarningKind.UNCERTAIN, None),
    ],
)
def test_a_claimed_import_is_settled_only_by_a_known_word(status: str, kind: WarningKind, outcome: str | None) -> None:
    seed = next(s for s in load_manifest([EXAMPLES]).databases if s.name == "orders-prod").imports[0]
    receipt = claim_of(OperationKind.IMPORT, seed, at=1_764_000_000)
    receipt = replace(receipt, created_at="2026-11-24T10:00:00.000Z")
    latest = LatestStatus(status=status, time="2026-11-24T10:05:00Z")
    verdict = classify(receipt, IMPORT, latest=latest, task=None)
    assert (verdict.kind, verdict.outcome) == (kind, outcome)
    if kind is WarningKind.UNCERTAIN:
        assert f"the latest import is {status} at" in verdict.message  # the unknown word, as the API wrote it


# --- apply and plan settlement under both vocabularies --------------------------------------------------------


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_apply_finishes_backups_and_imports_in_either_vocabulary(vocabulary: str) -> None:
    acct: Account = account()
    try:
        acct.emulator.set_options(status_vocabulary=vocabulary)
        results = {r.address: r for r in acct.apply(acct.plan())}
        assert results[IMPORT].outcome is Outcome.DONE, results[IMPORT].message
        assert results[ON_DEMAND].outcome is Outcome.DONE, results[ON_DEMAND].message
        word = "succeeded" if vocabulary == "cluster" else "success"
        assert results[IMPORT].message.startswith(f"{word} at ")
        assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 done ")
        again = acct.plan()
        assert again.is_empty and again.warnings == ()
    finally:
        acct.session.close()


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
@pytest.mark.parametrize("kind", [OperationKind.IMPORT, OperationKind.BACKUP])
def test_plan_settles_an_interrupted_operation_in_either_vocabulary(
    emulator: Emulator, clock: ManualClock, api: Api, vocabulary: str, kind: OperationKind
) -> None:
    """A run that died after its POST: plan reads the task and the latest status, in the world's words."""
    emulator.set_options(status_vocabulary=vocabulary)
    emulator.timings = replace(emulator.timings, backup=5.0, import_=5.0)  # long enough to be seen running
    manifest = load_manifest([EXAMPLES])
    orders = next(spec for spec in manifest.databases if spec.name == "orders-prod")
    operation = orders.imports[0] if kind is OperationKind.IMPORT else orders.backups[0]
    receipt = claim_of(kind, operation, at=int(clock()))
    api.client.create_tag(Tier.PRO, PROD_EU, ORDERS, receipt.key, receipt.value)
    clock.advance(1.0)
    if kind is OperationKind.IMPORT:
        task = post_import(api.client, Tier.PRO, PROD_EU, ORDERS, operation.source_type, operation.sources)
    else:
        task = post_backup(api.client, Tier.PRO, PROD_EU, ORDERS, operation.path)
    api.client.update_tag(Tier.PRO, PROD_EU, ORDERS, receipt.key, receipt.with_task(task).value)
    api.client.wait_for_task(task, timeout=5)

    address = IMPORT if kind is OperationKind.IMPORT else ON_DEMAND
    running = next(w for w in plan(manifest, fetch_live(api.client, manifest)).warnings if w.address == address)
    assert running.kind is WarningKind.IN_PROGRESS
    clock.advance(5.0)  # the operation itself has finished too
    live = fetch_live(api.client, manifest)
    latest = {key: status for (key, k), status in live.latest.items() if k is kind}
    assert latest[(PROD_EU, ORDERS)].status == ("succeeded" if vocabulary == "cluster" else "success")
    warning = next(w for w in plan(manifest, live).warnings if w.address == address)
    assert warning.kind is WarningKind.SETTLED and warning.outcome == "done"


# --- `status` -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_status_shows_the_apis_word_and_what_it_means(tmp_path: Path, vocabulary: str) -> None:
    directory = sandbox_dir(tmp_path)
    world(directory).set_options(status_vocabulary=vocabulary)
    applied = cli(directory, "apply", "-f", "examples/", "--auto-approve")
    assert applied.code == 0, applied.err

    shown = cli(directory, "status", "-f", "examples/", "--format", "json")
    assert shown.code == 0, shown.err
    orders = next(row for row in json.loads(shown.out)["databases"] if row["name"] == "orders-prod")
    word = "succeeded" if vocabulary == "cluster" else "success"
    assert orders["last_import"]["status"] == word and orders["last_import"]["outcome"] == "success"
    assert orders["last_backup"]["status"] == word and orders["last_backup"]["outcome"] == "success"
    text = cli(directory, "status", "-f", "examples/")
    assert f"last import: {word} at " in text.out
