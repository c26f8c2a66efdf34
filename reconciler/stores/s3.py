"""S3 through boto3, which reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,
AWS_REGION and AWS_ENDPOINT_URL itself (its own credential chain)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from reconciler.core.uris import mask
from reconciler.stores import StoreError, StoreReach, missing_extra


def list_files(uri: str, reach: StoreReach) -> list[str]:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise missing_extra("s3", "boto3") from None
    parts = urlsplit(uri)
    bucket, prefix = parts.netloc, unquote(parts.path.lstrip("/"))
    options: dict[str, Any] = {}
    if reach.s3_endpoint:  # the sandbox's moto: it checks no signature
        options = {
            "endpoint_url": reach.s3_endpoint,
            "aws_access_key_id": "sandbox",
            "aws_secret_access_key": "sandbox",
            "region_name": "us-east-1",
        }
    try:
        client = boto3.client("s3", **options)
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as error:
        # botocore's messages name the operation and the error code, never the credentials.
        raise StoreError(f"{mask(uri)}: cannot list it ({error})") from None
    return sorted(f"s3://{bucket}/{key}" for key in keys)
