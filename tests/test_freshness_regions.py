"""`check` on an Active-Active database (issue 19): each live region judged on its own settings and status,
under its own address, its max_age defaulting to twice its own interval. Pure: tables of cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.core.desired import BackupSettings, DatabaseSpec, RegionBackup
from reconciler.core.freshness import Severity, backup_reads, judge
from reconciler.core.live import LatestStatus, LiveBackup, LiveDatabase, LiveRegion
from tests.test_freshness import HOUR, NOW, ago, spec

EAST, WEST = 'orders-prod.backup["us-east-1"]', 'orders-prod.backup["eu-west-1"]'


def aa(east: LiveBackup | None = None, west: LiveBackup | None = None) -> LiveDatabase:
    regions = (
        LiveRegion("us-east-1", east or LiveBackup(True, "s3://b/east", "every-24-hours")),
        LiveRegion("eu-west-1", west or LiveBackup(True, "s3://b/west", "every-12-hours")),
    )
    return replace(spec_live(), regions=regions)


def spec_live() -> LiveDatabase:
    return LiveDatabase(spec().tier, 11, 22, "orders-prod", "active", LiveBackup(False))


def regional(**regions: BackupSettings) -> DatabaseSpec:
    items = tuple(RegionBackup(name.replace("_", "-"), settings) for name, settings in regions.items())
    return replace(spec(), backup_regions=items)


EVERY_6 = BackupSettings(True, "s3://b/east", interval="every-6-hours")
OFF = BackupSettings(False)

CASES = [
    # (id, manifest's regions, live database, statuses by region, [(address, kind)], words a message says)
    ("both fresh, each by its own live interval", {}, aa(),
     {"us-east-1": LatestStatus("success", ago(40 * HOUR)), "eu-west-1": LatestStatus("success", ago(20 * HOUR))},
     [(EAST, "fresh"), (WEST, "fresh")], "within max_age 1d"),
    ("one region stale", {}, aa(),
     {"us-east-1": LatestStatus("success", ago(3 * HOUR)), "eu-west-1": LatestStatus("success", ago(30 * HOUR))},
     [(EAST, "fresh"), (WEST, "stale")], "over max_age 1d"),
    ("the manifest's region interval wins", {"us_east_1": EVERY_6}, aa(),
     {"us-east-1": LatestStatus("success", ago(13 * HOUR)), "eu-west-1": LatestStatus("success", ago(HOUR))},
     [(EAST, "stale"), (WEST, "fresh")], "over max_age 12h"),
    ("a region never backed up", {}, aa(), {"us-east-1": LatestStatus("success", ago(HOUR)), "eu-west-1": LatestStatus()},
     [(EAST, "fresh"), (WEST, "never-backed-up")], "never backed up"),
    ("a region's backup failed", {}, aa(),
     {"us-east-1": LatestStatus("failed", ago(HOUR), "access-denied"), "eu-west-1": LatestStatus("success", ago(HOUR))},
     [(EAST, "backup-failed"), (WEST, "fresh")], "access-denied"),
    ("a region off live, on in the manifest", {"eu_west_1": BackupSettings(True, "s3://b/west")},
     aa(west=LiveBackup(False)), {"us-east-1": LatestStatus("success", ago(HOUR))},
     [(EAST, "fresh"), (WEST, "backup-off-live")], "reconciler apply"),
    ("a region off live and not managed", {}, aa(west=LiveBackup(False)), {"us-east-1": LatestStatus("success", ago(HOUR))},
     [(EAST, "fresh"), (WEST, "backup-not-configured")], "this region under `backup.regions`"),
    ("a region the manifest switches off", {"eu_west_1": OFF}, aa(), {"us-east-1": LatestStatus("success", ago(HOUR))},
     [(EAST, "fresh"), (WEST, "skipped")], "switches this region's backup off"),
    ("a region's status not read", {}, aa(), {"us-east-1": LatestStatus("success", ago(HOUR))},
     [(EAST, "fresh"), (WEST, "status-unavailable")], "NOT_READ"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("regions", "found", "statuses", "expected", "words"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_each_region_is_judged_on_its_own_under_its_address(
    regions: dict[str, BackupSettings],
    found: LiveDatabase,
    statuses: dict[str, LatestStatus],
    expected: list[tuple[str, str]],
    words: str,
) -> None:
    verdict = judge(regional(**regions), found, None, None, NOW, regions=statuses)
    assert [(finding.address, finding.kind.value) for finding in verdict.findings] == expected
    assert any(words in finding.message for finding in verdict.findings), [f.message for f in verdict.findings]
    violated = any(finding.severity is Severity.VIOLATION for finding in verdict.findings)
    assert verdict.holds is not violated


def test_each_region_on_is_read_and_a_region_switched_off_is_skipped_alone() -> None:
    assert backup_reads(spec(), aa()) == ("us-east-1", "eu-west-1")
    # A region switched off is skipped under its address; the database itself is still checked.
    verdict = judge(regional(eu_west_1=OFF), aa(), None, None, NOW, regions={"us-east-1": LatestStatus()})
    assert not verdict.skipped and not verdict.holds  # us-east-1 never backed up
    assert backup_reads(spec(), aa(west=LiveBackup(False))) == ("us-east-1",)
    assert backup_reads(regional(eu_west_1=OFF), aa()) == ("us-east-1",)
    assert backup_reads(replace(spec(), check=False), aa()) == ()
