"""Azure Blob Storage through azure-storage-blob. The key is the URI's (`abs://:KEY@account/container/path`, the
form the import docs use, API-NOTES §11; the no-colon form too); without one, AZURE_STORAGE_CONNECTION_STRING
(the SDK's and Azure CLI's convention) names the account and its key or a SAS."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from reconciler.core.uris import mask, secret_of, without_userinfo
from reconciler.stores import StoreError, StoreReach, missing_extra

CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"


def list_files(uri: str, reach: StoreReach) -> list[str]:
    try:
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.storage.blob import ContainerClient
    except ImportError:
        raise missing_extra("azure", "azure-storage-blob") from None
    place = without_userinfo(uri)
    parts = urlsplit(place)
    account = parts.hostname or ""
    container, _, prefix = parts.path.lstrip("/").partition("/")
    if not container:
        raise StoreError(f"{mask(uri)}: it names no container (abs://:KEY@account/container/path)")
    key = unquote(secret_of(uri) or "")
    endpoint = reach.azure_endpoint() if reach.azure_endpoint is not None else None
    connection_string = reach.environ.get(CONNECTION_STRING)
    if not (endpoint or key or connection_string):
        raise StoreError(
            f"{mask(uri)}: no Azure credentials: put the account key in the URI (abs://:${{env:AZ_KEY}}@{account}/…) "
            f"or set {CONNECTION_STRING}"
        )
    try:
        if endpoint:  # the sandbox's azurite: one account, whose name the endpoint ends with; the URI's key signs
            signer = {"account_name": endpoint.rstrip("/").rsplit("/", 1)[-1], "account_key": key}
            client = ContainerClient(endpoint, container, credential=signer)
        elif key:
            signer = {"account_name": account, "account_key": key}
            client = ContainerClient(f"https://{account}.blob.core.windows.net", container, credential=signer)
        else:
            client = ContainerClient.from_connection_string(connection_string or "", container)
        names = list(client.list_blob_names(name_starts_with=unquote(prefix)))
    except HttpResponseError as error:
        # Only the status and Azure's error code: its message may quote the string it signed.
        code = f" {error_code}" if (error_code := getattr(error, "error_code", None)) else ""
        raise StoreError(f"{mask(uri)}: cannot list it ({error.status_code}{code})") from None
    except (AzureError, ValueError) as error:
        # ValueError: a key that is no base64, or a connection string the SDK cannot read; neither is echoed.
        raise StoreError(f"{mask(uri)}: cannot list it ({type(error).__name__})") from None
    root = uri[: len(uri) - len(parts.path.lstrip("/"))]
    return sorted(f"{root}{container}/{name}" for name in names)
