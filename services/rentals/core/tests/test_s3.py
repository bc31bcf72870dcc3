"""Presigned invoice URLs against the real S3 endpoint (SeaweedFS) from AWS_ENDPOINT_URL_S3."""

import os
import urllib.request
import uuid

import pytest
from django.conf import settings

from core.s3 import presigned_invoice_url, s3_client

pytestmark = pytest.mark.skipif(
    not (os.environ.get("AWS_ENDPOINT_URL_S3") and os.environ.get("AWS_ACCESS_KEY_ID")),
    reason="needs real S3: AWS_ENDPOINT_URL_S3 / AWS_ACCESS_KEY_ID unset",
)


@pytest.fixture
def invoice_object():
    client = s3_client()
    bucket = settings.INVOICES_BUCKET
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    key = f"invoices/2099/01/{uuid.uuid4()}.json"
    body = b'{"test": "presign"}'
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    yield key, body
    client.delete_object(Bucket=bucket, Key=key)


def test_presigned_url_downloads_the_invoice(invoice_object):
    key, body = invoice_object
    url = presigned_invoice_url(key=key)
    assert url.startswith(settings.AWS_ENDPOINT_URL_S3.rstrip("/") + f"/{settings.INVOICES_BUCKET}/")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == body


def test_tampered_presigned_url_is_refused(invoice_object):
    key, _ = invoice_object
    url = presigned_invoice_url(key=key).replace("X-Amz-Expires=", "X-Amz-Expires=9")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(url, timeout=10)
    assert error.value.code == 403
