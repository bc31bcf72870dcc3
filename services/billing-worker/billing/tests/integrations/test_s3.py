"""InvoiceStorage against the real S3 (SeaweedFS): bucket creation, conditional create, reads."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from billing.integrations.s3 import InvoiceStorage, s3_client_create
from billing.tests.real import require_env

pytestmark = require_env("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture
def s3_bucket():
    client = s3_client_create(
        endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    bucket = f"billing-test-{uuid.uuid4().hex[:12]}"
    yield client, bucket
    try:
        for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=obj["Key"])
        client.delete_bucket(Bucket=bucket)
    except client.exceptions.NoSuchBucket:
        pass


def test_missing_bucket_is_created_once(s3_bucket):
    client, bucket = s3_bucket
    storage = InvoiceStorage(client=client, bucket=bucket)
    storage.bucket_ensure()
    storage.bucket_ensure()  # idempotent
    client.head_bucket(Bucket=bucket)


def test_conditional_create_writes_once_and_reads_back(s3_bucket):
    client, bucket = s3_bucket
    storage = InvoiceStorage(client=client, bucket=bucket)  # bucket created on first use
    key = "invoices/2026/11/x.json"

    assert storage.exists(key=key) is False
    assert storage.get(key=key) is None
    assert storage.put_if_absent(key=key, body=b'{"n": 1}', content_type="application/json") is True
    assert storage.put_if_absent(key=key, body=b'{"n": 2}', content_type="application/json") is False
    assert storage.get_json(key=key) == {"n": 1}
    assert storage.exists(key=key) is True
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "application/json"


def test_concurrent_conditional_creates_have_exactly_one_winner(s3_bucket):
    client, bucket = s3_bucket
    storage = InvoiceStorage(client=client, bucket=bucket)
    storage.bucket_ensure()
    key = "invoices/2026/11/race.json"

    def attempt(n: int) -> bool:
        return storage.put_if_absent(
            key=key, body=f'{{"writer": {n}}}'.encode(), content_type="application/json"
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))

    assert results.count(True) == 1
    winner = results.index(True)
    assert storage.get_json(key=key) == {"writer": winner}
