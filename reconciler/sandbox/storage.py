"""Which URI schemes go with which backup storage type and import source type.

Schemes come from API-NOTES §2 "Storage path formats" (backups) and §4 "URI formats" (imports).
"""

from __future__ import annotations

from urllib.parse import urlsplit

BACKUP_INTERVALS = (
    "every-24-hours",
    "every-12-hours",
    "every-6-hours",
    "every-4-hours",
    "every-2-hours",
    "every-1-hours",
)
TIMED_INTERVALS = ("every-12-hours", "every-24-hours")

# API-NOTES §2: storageType values accepted for backup.
BACKUP_SCHEMES: dict[str, tuple[str, ...]] = {
    "aws-s3": ("s3",),
    "google-blob-storage": ("gs",),
    "azure-blob-storage": ("abs",),
    "ftp": ("ftp", "ftps"),
}

# API-NOTES §4: sourceType enum and the bad-URI error type of each.
IMPORT_SCHEMES: dict[str, tuple[tuple[str, ...], str]] = {
    "http": (("http", "https"), "DATABASE_IMPORT_HTTP_BAD_URI"),
    "redis": (("redis",), "DATABASE_IMPORT_REDIS_BAD_URI"),
    "ftp": (("ftp", "ftps"), "DATABASE_IMPORT_FTP_BAD_URI"),
    "aws-s3": (("s3",), "DATABASE_IMPORT_S3_BAD_URI"),
    "azure-blob-storage": (("abs",), "DATABASE_IMPORT_AZURE_BAD_URI"),
    "google-blob-storage": (("gs",), "DATABASE_IMPORT_GCS_BAD_URI"),
}


def uri_has_scheme(uri: str, schemes: tuple[str, ...]) -> bool:
    """A usable URI has one of the schemes and a host/bucket part (`s3://` alone is not a path)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme.lower() in schemes and bool(parts.netloc)


def storage_type_for(path: str) -> str | None:
    """The storage type a backup path implies, or None when its scheme is not a backup destination."""
    for storage_type, schemes in BACKUP_SCHEMES.items():
        if uri_has_scheme(path, schemes):
            return storage_type
    return None
