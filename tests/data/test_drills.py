"""Restore drills with real data (issue 15 §2): the backup file is written, listed, imported and its keys counted.

The drill runner talks to the emulator over its HTTP transport (as tests/data/test_data_imports.py applies), and
the emulator's call-outs reach real servers and the storage stand-ins; the runner lists those stores itself.
"""

from __future__ import annotations

import gzip
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.core.drill_tags import DrillPhase, Step, decode, drill_key, start
from reconciler.core.drills import DrillOutcome, DrillState
from reconciler.core.live import LiveTag
from reconciler.core.plan import DatabaseRef
from reconciler.core.uris import resolve
from reconciler.drill.claim import DrillClaims
from reconciler.drill.runner import DrillJob, DrillRunner
from reconciler.manifest.load import load_manifest
from reconciler.sandbox import load_seed
from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.process import HOST
from reconciler.sandbox.data.seeding import Content, DatabaseData, DataSeed
from reconciler.sandbox.data.stores import FtpStore, Stores
from reconciler.sandbox.state import Database
from reconciler.stores import StoreError, StoreReach, list_files
from tests.support.accounts import Account, account
from tests.support.data_plane import OLD_DATA, client_of, data_of
from tests.support.examples import CATALOG, MARKETING, ORDERS, PROD_EU, SCRATCH, SEED

FTP_PASSWORD = "sandbox-ftp-password"
ADDRESS = "orders-prod.drills.weekly"
SETTLE = 0.5  # the claim must write within this of its check: roomy enough for a loaded machine


def drill_manifest(
    directory: Path, *, path: str | None = None, verify: str = "{match_source: true, min_keys: 1}"
) -> Path:
    own = f", path: '{path}'" if path else ""
    manifest = directory / "drills.yaml"
    manifest.write_text(
        f"""version: 1
databases:
  - name: orders-prod
    subscription: {PROD_EU}
    database: {ORDERS}
    backup: {{path: 's3://acme-backups/orders'}}
    drills:
      - {{id: weekly, into: scratch, every: 7d, verify: {verify}{own}}}
  - name: scratch
    subscription: {MARKETING}
    database: {SCRATCH}
    tier: essentials
    scratch: true
""",
        encoding="utf-8",
    )
    return manifest


class CorruptingPlane(DataPlane):
    """A data plane whose backups write nonsense after a plausible header: a backup file corrupted at rest."""

    def backup(
        self, database: Database, destination: str, *, adhoc: bool, at: float, task_id: str | None = None
    ) -> list[str]:
        uris = super().backup(database, destination, adhoc=adhoc, at=at, task_id=task_id)
        for uri in uris:
            self.stores.for_uri(uri).put(uri, gzip.compress(b"REDIS0010" + secrets.token_bytes(64)))
        return uris


@pytest.fixture
def serve(tmp_path: Path, stores: Stores) -> Iterator[Callable[..., DataPlane]]:
    started: list[DataPlane] = []

    def build(kind: type[DataPlane] = DataPlane) -> DataPlane:
        wanted = {ORDERS: DatabaseData(Content(literal=dict(OLD_DATA))), SCRATCH: DatabaseData(Content(count=7))}
        plane = kind(tmp_path / f"plane{len(started)}", stores)
        plane.start(load_seed(SEED), DataSeed(wanted, {}, ()))
        hooks.install(plane)
        started.append(plane)
        return plane

    yield build
    for plane in started:
        plane.stop()


def setup(tmp_path: Path, stores: Stores, plane: DataPlane, **manifest: str) -> tuple[Account, DrillJob, DrillRunner]:
    path = drill_manifest(tmp_path, **manifest)
    acct = account(manifest_paths=[path], environ={"FTP_PASSWORD": FTP_PASSWORD})
    return acct, job_of(path), runner(acct, stores, plane)


def job_of(path: Path) -> DrillJob:
    orders, scratch = load_manifest([path]).databases
    return DrillJob(orders, scratch, orders.drills[0])


def runner(acct: Account, stores: Stores, plane: DataPlane, *, lease: int = 600) -> DrillRunner:
    ftp = stores.by_scheme["ftp"]
    assert isinstance(ftp, FtpStore)
    return DrillRunner(
        acct.client,
        DrillClaims(acct.client, lease=lease, settle=SETTLE),
        environ=acct.environ,
        reach=StoreReach(s3_endpoint=stores.by_scheme["s3"].url, ftp_server=(HOST, ftp.port)),
        count_keys=lambda db: int(client_of(plane, db.database).dbsize()),
        timeout=30,
    )


def receipt_of(acct: Account) -> str:
    return acct.emulator.tags(ORDERS)[drill_key("weekly")]


def test_a_good_drill_passes_with_its_keys_counted_and_each_step_timed(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    plane = serve()
    acct, job, run = setup(tmp_path, stores, plane)
    result = run.run(job)
    assert result.outcome is DrillOutcome.PASSED, result.message
    assert data_of(plane, SCRATCH) == OLD_DATA  # the scratch database's 7 keys were overwritten by the backup's
    assert (result.keys, result.source_keys) == (2, 2)
    assert [step.step for step in result.steps] == list(Step)
    assert all(step.seconds > 0 for step in result.steps)
    assert len(result.files) == 1 and result.files[0].startswith("s3://acme-backups/orders/drill-weekly-")
    receipt = decode(LiveTag(drill_key("weekly"), receipt_of(acct), ""), ADDRESS)
    assert (receipt.phase, receipt.keys, receipt.src, receipt.ok) == (DrillPhase.PASSED, 2, 2, receipt.at)
    assert [step for step, _ in receipt.durations] == list(Step)
    # Backed up to a folder of its own (adhocBackupPath), imported from exactly the files found there.
    [backup] = acct.emulator.backup_history(ORDERS)
    [restore] = acct.emulator.import_history(SCRATCH)
    assert restore.uris == result.files and restore.status == "success"
    # Not due again for a week: a second run sends nothing.
    found = DrillClaims(acct.client, lease=600).read(DatabaseRef.of(job.source), job.drill)
    assert found.verdict.state is DrillState.PASSED and not found.verdict.due
    assert backup.database_id == ORDERS


def test_a_drill_over_a_corrupted_backup_fails_with_the_api_s_reason(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    plane = serve(CorruptingPlane)
    acct, job, run = setup(tmp_path, stores, plane)
    result = run.run(job)
    assert result.outcome is DrillOutcome.FAILED
    assert "file-corrupted" in result.message
    assert result.steps[-1].step is Step.IMPORT
    receipt = receipt_of(acct)
    assert receipt.startswith("v1 failed ") and "step:import" in receipt and "why:file-corrupted" in receipt
    assert "ok:" not in receipt  # it never passed: nothing says otherwise
    assert len(data_of(plane, SCRATCH)) == 7  # a file that fails the check leaves the scratch data as it was


def test_a_drill_to_ftp_lists_with_the_uri_s_credentials_and_never_shows_them(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    plane = serve()
    acct, job, run = setup(
        tmp_path,
        stores,
        plane,
        path="ftp://sandbox:${env:FTP_PASSWORD}@ftp.acme.example/drills",
        verify="{min_keys: 2}",
    )
    result = run.run(job)
    assert result.outcome is DrillOutcome.PASSED, result.message
    assert data_of(plane, SCRATCH) == OLD_DATA
    assert FTP_PASSWORD not in repr(result)
    assert result.files[0].startswith("ftp://sandbox:****@ftp.acme.example/drills/drill-weekly-")


def test_too_few_keys_fails_the_verification(tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]) -> None:
    plane = serve()
    acct, job, run = setup(tmp_path, stores, plane, verify="{min_keys: 3}")
    result = run.run(job)
    assert result.outcome is DrillOutcome.FAILED
    assert result.message == "2 keys after the import, fewer than min_keys 3"
    assert "why:too-few-keys" in receipt_of(acct)


def test_without_a_data_plane_a_drill_that_counts_keys_fails_rather_than_pass_unproven(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    plane = serve()
    acct, job, run = setup(tmp_path, stores, plane)
    blind = DrillRunner(acct.client, run.claims, environ={}, reach=run.reach, count_keys=None, timeout=30)
    result = blind.run(job)
    assert result.outcome is DrillOutcome.FAILED
    assert "no key count" in result.message and "why:keys-not-countable" in receipt_of(acct)


def test_two_racing_runs_run_the_drill_once(tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]) -> None:
    plane = serve()
    acct, job, _ = setup(tmp_path, stores, plane)
    runners = [runner(acct, stores, plane) for _ in range(2)]
    results: list[DrillOutcome] = []
    gate = threading.Barrier(2)

    def race(one: DrillRunner) -> None:
        gate.wait()
        results.append(one.run(job).outcome)

    threads = [threading.Thread(target=race, args=(one,)) for one in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == sorted([DrillOutcome.PASSED, DrillOutcome.SKIPPED])
    assert len(acct.emulator.backup_history(ORDERS)) == 1
    assert len(acct.emulator.import_history(SCRATCH)) == 1


def test_a_run_killed_mid_drill_is_recorded_interrupted_then_run_again(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    """A kill -9 leaves the receipt as written ahead of the step it was in (`running`); the next run past the
    lease records that run interrupted, never passed, and runs the drill again."""
    plane = serve()
    acct, job, _ = setup(tmp_path, stores, plane)
    long_ago = int(time.time()) - 3600
    dead = start("weekly", "0badc0de", now=long_ago, previous=None).at_step(Step.IMPORT, now=long_ago + 30)
    acct.client.create_tag(job.source.tier, PROD_EU, ORDERS, dead.key, dead.value)
    claims = DrillClaims(acct.client, lease=600, settle=SETTLE)
    found = claims.read(DatabaseRef.of(job.source), job.drill)
    assert found.verdict.state is DrillState.INTERRUPTED and found.verdict.due
    mark = acct.log_size()
    result = runner(acct, stores, plane).run(job)
    assert result.settled == "recorded its earlier run 0badc0de as interrupted at step import (no import has run yet)"
    assert result.outcome is DrillOutcome.PASSED, result.message
    values = [r.body["value"] for r in acct.writes(mark) if r.path.endswith("/tags/rcr_drill_weekly")]
    settled = values[0].split()
    assert settled[:4] == ["v1", "interrupted", "run:0badc0de", f"at:{long_ago}"]
    assert settled[5:] == ["step:import", "why:killed-at-import-import-none"]
    assert not any(value.startswith("v1 passed run:0badc0de") for value in values)
    assert receipt_of(acct).startswith("v1 passed ")


def test_a_run_still_within_its_lease_is_left_alone_and_nothing_is_sent(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    plane = serve()
    acct, job, run = setup(tmp_path, stores, plane)
    alive = start("weekly", "0a11ce00", now=int(time.time()) - 5, previous=None)
    acct.client.create_tag(job.source.tier, PROD_EU, ORDERS, alive.key, alive.value)
    mark = acct.log_size()
    result = run.run(job)
    assert result.outcome is DrillOutcome.SKIPPED and "another run holds it" in result.message
    assert acct.writes(mark) == [] and receipt_of(acct) == alive.value


def test_with_backups_off_the_files_in_the_run_s_folder_are_the_backup_s_evidence(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane]
) -> None:
    """catalog-prod has backups off, so its backup status answers DATABASE_BACKUP_DISABLED (API-NOTES §3): the
    drill (to a path of its own) waits for the backup's files to appear instead, and imports them."""
    plane = serve()
    path = tmp_path / "catalog.yaml"
    path.write_text(
        f"""version: 1
databases:
  - name: catalog-prod
    subscription: {PROD_EU}
    database: {CATALOG}
    drills:
      - {{id: weekly, into: scratch, every: 7d, path: 's3://acme-drills/catalog', verify: {{match_source: true}}}}
  - name: scratch
    subscription: {MARKETING}
    database: {SCRATCH}
    tier: essentials
    scratch: true
""",
        encoding="utf-8",
    )
    acct = account(manifest_paths=[path])
    client_of(plane, CATALOG).mset({"sku:1": "a", "sku:2": "b", "sku:3": "c"})
    result = runner(acct, stores, plane).run(job_of(path))
    assert result.outcome is DrillOutcome.PASSED, result.message
    assert "DATABASE_BACKUP_DISABLED while backups are off; 1 file(s) appeared" in result.steps[0].detail
    assert (result.keys, result.source_keys) == (3, 3)


@pytest.mark.parametrize("secret", ["p@ss/w:rd+=", "x" * 300])
def test_an_awkward_ftp_password_never_shows_in_the_result_or_the_receipt(
    tmp_path: Path, stores: Stores, serve: Callable[..., DataPlane], secret: str
) -> None:
    plane = serve()
    path = drill_manifest(tmp_path, path="ftp://sandbox:${env:FTP_PASSWORD}@ftp.acme.example/drills")
    acct = account(manifest_paths=[path], environ={"FTP_PASSWORD": secret})
    result = runner(acct, stores, plane).run(job_of(path))
    assert result.outcome is not DrillOutcome.PASSED  # the stand-in's password is another
    shown = repr(result) + receipt_of(acct)
    assert secret not in shown and secret.replace("\n", "%0A") not in shown
    assert "p%40ss" not in shown


@pytest.mark.parametrize("secret", ["wrong:p@ss/w+rd=", "line\nbreak"])
def test_listing_ftp_with_a_bad_password_is_one_masked_error(stores: Stores, secret: str) -> None:
    ftp = stores.by_scheme["ftp"]
    assert isinstance(ftp, FtpStore)
    uri = resolve("ftp://sandbox:${env:P}@ftp.acme.example/drills/", {"P": secret})
    with pytest.raises(StoreError) as caught:
        list_files(uri, StoreReach(ftp_server=(HOST, ftp.port)))
    assert str(caught.value).startswith("ftp://sandbox:****@ftp.acme.example/drills/: ")
    assert secret not in str(caught.value) and "p%40ss" not in str(caught.value)
