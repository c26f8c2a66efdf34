"""Canonical backup settings: each API quirk folds away, and nothing else does."""

from __future__ import annotations

import pytest

from reconciler.core import normalise
from reconciler.core.desired import BackupSettings, Tier
from reconciler.core.live import LiveBackup


@pytest.mark.parametrize(
    ("live", "tier", "expected"),
    [
        pytest.param(LiveBackup(False, None, "", ""), Tier.PRO, normalise.Settings(False), id="disabled-empty-strings"),
        pytest.param(
            LiveBackup(True, "s3://b/p/", "every-12-hours", "4:00"),
            Tier.PRO,
            normalise.Settings(True, "s3://b/p", "every-12-hours", "04:00"),
            id="slash-and-hour-padding",
        ),
        pytest.param(
            LiveBackup(True, "s3://b", "every-24-hours", None),
            Tier.ESSENTIALS,
            normalise.Settings(True, "s3://b"),
            id="essentials-has-only-a-path",
        ),
        pytest.param(
            LiveBackup(True, "s3://b", "", ""),
            Tier.PRO,
            normalise.Settings(True, "s3://b"),
            id="empty-strings-when-enabled-are-unreported",
        ),
    ],
)
def test_from_live(live: LiveBackup, tier: Tier, expected: normalise.Settings) -> None:
    assert normalise.from_live(live, tier) == expected


@pytest.mark.parametrize(
    ("desired", "tier", "expected"),
    [
        pytest.param(BackupSettings(False), Tier.PRO, normalise.Settings(False), id="disabled"),
        pytest.param(
            BackupSettings(True, "s3://b/", "aws-s3", "EVERY-6-HOURS"),
            Tier.PRO,
            normalise.Settings(True, "s3://b", "every-6-hours"),
            id="interval-as-the-api-writes-it",
        ),
        pytest.param(
            BackupSettings(True, "gs://b", None, None, None),
            Tier.ESSENTIALS,
            normalise.Settings(True, "gs://b"),
            id="essentials",
        ),
    ],
)
def test_from_desired(desired: BackupSettings, tier: Tier, expected: normalise.Settings) -> None:
    assert normalise.from_desired(desired, tier) == expected


@pytest.mark.parametrize(
    ("time_utc", "interval", "expected"),
    [
        pytest.param("16:00", "every-12-hours", "04:00", id="afternoon-twin"),
        pytest.param("04:00", "every-12-hours", "04:00", id="morning"),
        pytest.param("12:00", "every-12-hours", "00:00", id="noon-is-midnight-twin"),
        pytest.param("16:00", "every-24-hours", "16:00", id="24h-not-folded"),
    ],
)
def test_twelve_hour_times_compare_modulo_12(time_utc: str, interval: str, expected: str) -> None:
    settings = normalise.Settings(True, "s3://b", interval, time_utc)
    assert normalise.comparable(settings, interval=interval)["time_utc"] == expected


@pytest.mark.parametrize(
    ("manifest", "live"),
    [
        pytest.param("ftp://user:${env:FTP_PASS}@host/dir", "ftp://user:s3cret@host/dir", id="password"),
        pytest.param(
            "ftp://${env:FTP_USER}:${env:FTP_PASS}@host/dir",
            "ftp://ci+loader%40acme:s3%2Fcret@host/dir",
            id="referenced-user-read-back-encoded",
        ),
        pytest.param("ftp://${env:FTP_USER}:${env:FTP_PASS}@host/dir", "ftp://host/dir", id="echoed-without-userinfo"),
        pytest.param("abs://:${env:AZ_KEY}@acct/c/p", "abs://k3y/x+y==@acct/c/p", id="azure-either-form"),
    ],
)
def test_paths_compare_without_credentials(manifest: str, live: str) -> None:
    desired = normalise.Settings(True, manifest)
    assert normalise.comparable(desired, interval=None) == normalise.comparable(
        normalise.Settings(True, live), interval=None
    )


def test_a_different_host_or_path_is_still_drift() -> None:
    desired = normalise.Settings(True, "ftp://${env:FTP_USER}:${env:FTP_PASS}@host/dir")
    for live in ("ftp://u:p@other/dir", "ftp://u:p@host/elsewhere"):
        assert normalise.comparable(desired, interval=None) != normalise.comparable(
            normalise.Settings(True, live), interval=None
        )


def test_view_masks_live_credentials() -> None:
    assert "s3cret" not in str(normalise.masked(normalise.Settings(True, "ftp://user:s3cret@host/dir")))


@pytest.mark.parametrize(
    ("path", "given", "expected"),
    [("s3://b", None, "aws-s3"), ("abs://${env:K}@acct/c", None, "azure-blob-storage"), ("s3://b", "ftp", "ftp")],
)
def test_storage_type_is_inferred_for_writes(path: str, given: str | None, expected: str) -> None:
    assert normalise.storage_type(path, given) == expected
