"""Google Cloud Storage through google-cloud-storage, which finds its credentials itself: a service account key
file named by GOOGLE_APPLICATION_CREDENTIALS (or the rest of Application Default Credentials), and, when
STORAGE_EMULATOR_HOST names an emulator, no credentials at all (its own conventions)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from reconciler.core.uris import mask
from reconciler.stores import StoreError, StoreReach, missing_extra


def list_files(uri: str, reach: StoreReach) -> list[str]:
    try:
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
        from google.cloud import storage
        from requests import RequestException
    except ImportError:
        raise missing_extra("gcs", "google-cloud-storage") from None
    parts = urlsplit(uri)
    bucket, prefix = parts.netloc, unquote(parts.path.lstrip("/"))
    try:
        if reach.gcs_endpoint:  # the sandbox's gcp-storage-emulator: it checks no credentials
            client = storage.Client(
                client_options={"api_endpoint": reach.gcs_endpoint}, use_auth_w_custom_endpoint=False
            )
        else:
            client = storage.Client()
        names = [blob.name for blob in client.list_blobs(bucket, prefix=prefix)]
    except DefaultCredentialsError:
        raise StoreError(
            f"{mask(uri)}: no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service account "
            "key file (or STORAGE_EMULATOR_HOST for an emulator)"
        ) from None
    except GoogleAPIError as error:
        # The API's answer names the status and the bucket, never a credential; the request URL is left out.
        code = getattr(error, "code", None)
        why = f"{code} {getattr(error, 'message', '')}".strip() if code else type(error).__name__
        raise StoreError(f"{mask(uri)}: cannot list it ({why})") from None
    except (GoogleAuthError, RequestException) as error:
        raise StoreError(f"{mask(uri)}: cannot list it ({type(error).__name__})") from None
    return sorted(f"gs://{bucket}/{name}" for name in names)
