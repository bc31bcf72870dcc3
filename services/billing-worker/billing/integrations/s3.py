"""The invoice bucket behind one small boto3 wrapper (path-style addressing, AWS_ENDPOINT_URL_S3).

Conditional create: ``put_if_absent`` sends ``If-None-Match: *``. SeaweedFS 4.48 honours it (the second
PUT of a key answers 412 PreconditionFailed; verified by billing/tests/integrations/test_s3.py), so two
concurrent deliveries of one rental cannot both write its invoice.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from billing.errors import TransientError

logger = logging.getLogger(__name__)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_EXISTS = {"412", "PreconditionFailed"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def s3_client_create(*, endpoint_url: str | None, region: str, max_pool_connections: int = 10) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=max_pool_connections,
            # Our own calls are well-formed; validating every request's parameters costs CPU each time.
            parameter_validation=False,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


class InvoiceStorage:
    """Reads and writes invoice objects in one bucket; every boundary failure becomes TransientError."""

    def __init__(self, *, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket
        self._bucket_checked = False

    def bucket_ensure(self) -> None:
        """Create the bucket when missing (idempotent; a concurrent creator is fine)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND and _status(exc) != 404:
                raise TransientError(f"S3 head_bucket {self.bucket}: {exc}") from exc
            try:
                self.client.create_bucket(Bucket=self.bucket)
                logger.info("created bucket %s", self.bucket)
            except ClientError as create_exc:
                if _code(create_exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise TransientError(f"S3 create_bucket {self.bucket}: {create_exc}") from create_exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 head_bucket {self.bucket}: {exc}") from exc
        self._bucket_checked = True

    def _ready(self) -> None:
        if not self._bucket_checked:
            self.bucket_ensure()

    def put_if_absent(self, *, key: str, body: bytes, content_type: str) -> bool:
        """Write ``key`` only if no object exists there; True if this call created it."""
        self._ready()
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*"
            )
        except ClientError as exc:
            if _code(exc) in _EXISTS or _status(exc) == 412:
                return False
            raise TransientError(f"S3 conditional put {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 conditional put {key}: {exc}") from exc
        return True

    def put(self, *, key: str, body: bytes, content_type: str) -> None:
        self._ready()
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise TransientError(f"S3 put {key}: {exc}") from exc

    def get(self, *, key: str) -> bytes | None:
        self._ready()
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND or _status(exc) == 404:
                return None
            raise TransientError(f"S3 get {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 get {key}: {exc}") from exc

    def get_json(self, *, key: str) -> dict | None:
        raw = self.get(key=key)
        return None if raw is None else json.loads(raw)

    def exists(self, *, key: str) -> bool:
        self._ready()
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND or _status(exc) == 404:
                return False
            raise TransientError(f"S3 head {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 head {key}: {exc}") from exc
        return True
