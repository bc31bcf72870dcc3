"""The invoice bucket behind one small boto3 wrapper (path-style addressing, AWS_ENDPOINT_URL_S3).

The two writes of every invoice (the JSON, the HTML) go through S3ObjectWriter instead: a signed
(SigV4) PutObject over urllib3, the same request boto3 sends, at about a fifth of boto3's CPU per call
(botocore's event hooks, user-agent building and endpoint rules cost ~3 ms per request here). Reads,
HEADs and the bucket check stay with boto3; credentials come from boto3's own resolution chain.

Conditional create: ``put_if_absent`` sends ``If-None-Match: *``. SeaweedFS 4.48 honours it (the second
PUT of a key answers 412 PreconditionFailed; verified by billing/tests/integrations/test_s3.py), so two
concurrent deliveries of one rental cannot both write its invoice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import urllib3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from billing.errors import TransientError

logger = logging.getLogger(__name__)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


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


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


class S3ObjectWriter:
    """PutObject signed with AWS Signature V4 (path-style URL), thread-safe (one urllib3 pool).

    ``put`` returns the HTTP status (200 written, 412 when ``if_none_match`` found the key); anything
    else, and any connection failure, raises TransientError. Only connection failures before the request
    was sent are retried (a retried conditional create must never answer 412 for its own first write)."""

    def __init__(self, *, endpoint_url: str, region: str, credentials: Any, max_connections: int = 10):
        parts = urlsplit(endpoint_url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.region = region
        self.credentials = credentials  # botocore Credentials (refreshable ones refresh themselves)
        self.pool = urllib3.PoolManager(
            num_pools=2,
            maxsize=max_connections,
            retries=urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0),
            timeout=urllib3.Timeout(connect=5, read=30),
        )
        self._signing_key: tuple[str, str, bytes] | None = None  # (date, secret, key)

    @classmethod
    def from_client(cls, client: Any, *, max_connections: int = 10) -> S3ObjectWriter:
        """Endpoint, region and credentials of an existing boto3 S3 client."""
        return cls(
            endpoint_url=client.meta.endpoint_url,
            region=client.meta.region_name,
            credentials=boto3.session.Session().get_credentials(),
            max_connections=max_connections,
        )

    def _key(self, date: str, secret: str) -> bytes:
        cached = self._signing_key
        if cached is not None and cached[0] == date and cached[1] == secret:
            return cached[2]
        key = _hmac(("AWS4" + secret).encode("utf-8"), date)
        for part in (self.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        self._signing_key = (date, secret, key)
        return key

    def put(self, *, bucket: str, key: str, body: bytes, content_type: str, if_none_match: bool) -> int:
        creds = self.credentials.get_frozen_credentials()
        now = dt.datetime.now(dt.UTC)
        stamp, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        path = "/" + quote(bucket, safe="") + "/" + quote(key, safe="/~")
        payload_hash = hashlib.sha256(body).hexdigest()
        headers = {
            "content-type": content_type,
            "host": self.host,
            "x-amz-content-sha256": payload_hash,
            "x-amz-date": stamp,
        }
        if if_none_match:
            headers["if-none-match"] = "*"
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        names = sorted(headers)
        signed = ";".join(names)
        canonical = "\n".join(
            ["PUT", path, "", *(f"{n}:{headers[n]}" for n in names), "", signed, payload_hash]
        )
        scope = f"{date}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
        )
        signature = hmac.new(self._key(date, creds.secret_key), to_sign.encode("utf-8"), hashlib.sha256)
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, SignedHeaders={signed}, "
            f"Signature={signature.hexdigest()}"
        )
        try:
            response = self.pool.request("PUT", self.base + path, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(f"S3 put {key}: {exc!r}") from exc
        if response.status in (200, 412):
            return response.status
        raise TransientError(f"S3 put {key}: HTTP {response.status} {response.data[:300]!r}")


class InvoiceStorage:
    """Reads and writes invoice objects in one bucket; every boundary failure becomes TransientError."""

    def __init__(self, *, client: Any, bucket: str, writer: S3ObjectWriter | None = None):
        self.client = client
        self.bucket = bucket
        self.writer = writer or S3ObjectWriter.from_client(
            client, max_connections=client.meta.config.max_pool_connections
        )
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
        status = self.writer.put(
            bucket=self.bucket, key=key, body=body, content_type=content_type, if_none_match=True
        )
        return status == 200

    def put(self, *, key: str, body: bytes, content_type: str) -> None:
        self._ready()
        status = self.writer.put(
            bucket=self.bucket, key=key, body=body, content_type=content_type, if_none_match=False
        )
        if status != 200:
            raise TransientError(f"S3 put {key}: HTTP {status}")

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
