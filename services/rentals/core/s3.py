"""The only module that talks to S3 (boto3, path-style, endpoint from AWS_ENDPOINT_URL_S3)."""

import functools
import logging

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from core.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)


@functools.cache
def _client(endpoint_url: str | None):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        region_name=settings.AWS_DEFAULT_REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def s3_client():
    return _client(settings.AWS_ENDPOINT_URL_S3)


def presigned_invoice_url(*, key: str) -> str:
    """Signed for the host the client will use (AWS_S3_PUBLIC_ENDPOINT_URL when set): the host is part
    of the signature, so signing for the internal endpoint and rewriting the URL would break it."""
    try:
        client = _client(settings.AWS_S3_PUBLIC_ENDPOINT_URL or settings.AWS_ENDPOINT_URL_S3)
        return client.generate_presigned_url(
            "get_object",
            Params={"Bucket": settings.INVOICES_BUCKET, "Key": key},
            ExpiresIn=settings.INVOICE_URL_TTL_SECONDS,
        )
    except (BotoCoreError, ClientError, ValueError) as exc:
        logger.error("cannot presign invoice url", extra={"key": key, "error": repr(exc)})
        raise ServiceUnavailable("Invoice storage is not available right now.")
