"""Listing a backup destination, to find the files a drill's backup wrote (issue 15 §2): one small module per store,
each through the store's official client (an optional extra), with credentials from the environment in the
store's own conventions. The only I/O beside `cloud/`; it never logs a URI's user-info or a store credential.

| scheme | module   | client (extra)                  | credentials                                              |
|--------|----------|---------------------------------|----------------------------------------------------------|
| s3://  | s3.py    | boto3 (`[s3]`)                  | AWS_* (incl. AWS_ENDPOINT_URL), boto3's usual chain      |
| gs://  | gcs.py   | google-cloud-storage (`[gcs]`)  | GOOGLE_APPLICATION_CREDENTIALS, STORAGE_EMULATOR_HOST    |
| abs:// | azure.py | azure-storage-blob (`[azure]`)  | the key in the URI, else AZURE_STORAGE_CONNECTION_STRING |
| ftp:// | ftp.py   | ftplib (standard library)       | user:password in the URI (resolved from `${env:…}`)      |

An http(s) destination cannot be listed (validation says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler.core.uris import mask, scheme_of
from reconciler.errors import ReconcilerError


class StoreError(ReconcilerError):
    """A destination could not be listed: its message names the URI with its credentials masked."""


@dataclass(frozen=True, slots=True)
class StoreReach:
    """Where the stores really are, when not where the URI says: the sandbox's stand-ins (`connect.py` fills it
    from `sandbox up`), so a drill there needs no environment. Empty: the real stores, by their own conventions."""

    s3_endpoint: str | None = None  # moto's URL; any credentials are taken
    ftp_server: tuple[str, int] | None = None  # the stand-in: a URI's host is a folder of that name on it
    gcs_endpoint: str | None = None  # gcp-storage-emulator's URL; no credentials
    # azurite's URL (`http://127.0.0.1:P/devstoreaccount1`), or None: asked when listing, since the sandbox starts
    # azurite on the first abs:// URI, which may be the drill's own backup, after the reach was built.
    azure_endpoint: Callable[[], str | None] | None = None
    environ: Mapping[str, str] = field(default_factory=dict)


def list_files(uri: str, reach: StoreReach) -> list[str]:
    """The URIs of every file under `uri` (a folder), sorted, in the URI's own form (credentials kept, as the
    import needs them)."""
    scheme = (scheme_of(uri) or "").lower()
    if scheme == "gs":
        from reconciler.stores import gcs

        return gcs.list_files(uri, reach)
    if scheme == "abs":
        from reconciler.stores import azure

        return azure.list_files(uri, reach)
    if scheme == "s3":
        from reconciler.stores import s3

        return s3.list_files(uri, reach)
    if scheme in ("ftp", "ftps"):
        from reconciler.stores import ftp

        return ftp.list_files(uri, reach)
    raise StoreError(f"{mask(uri)}: {scheme}:// destinations cannot be listed (s3://, gs://, abs://, ftp://)")


def missing_extra(extra: str, package: str) -> StoreError:
    return StoreError(f"listing {extra} destinations needs {package}: pip install 'rediscloud-reconciler[{extra}]'")
