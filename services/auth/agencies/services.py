"""Agency clients (operators create and revoke them) and their access tokens (client credentials).

The secret is 256 random bits shown once; only its SHA-256 is kept (a slow hash buys nothing against a
secret that cannot be guessed). Tokens are RS256 access tokens like riders', with role `agency` and the
client's `provider_id`, for AGENCY_TOKEN_TTL_SECONDS. Revoking a client stops new tokens at once and
records `agency_client.revoked` in the outbox (same transaction): rentals keeps the revoked ids from it and
refuses the client's unexpired tokens as soon as its inbox applied the event (seconds)."""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.exceptions import Conflict, InvalidCredentials, NotFound
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from outbox.services import outbox_emit, rfc3339
from tokens.jwt import token_backend

from agencies.models import AgencyClient

ROLE_AGENCY = "agency"
EVENT_AGENCY_CLIENT_REVOKED = "agency_client.revoked"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AgencyToken:
    access: str
    expires_in: int


@transaction.atomic
def agency_client_create(
    *, name: str, provider_id: uuid.UUID | None = None, created_by: uuid.UUID | None = None
) -> tuple[AgencyClient, str]:
    """Returns the client and its secret (never stored, never shown again)."""
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            client = AgencyClient.objects.create(
                name=name,
                provider_id=provider_id or uuid.UUID(settings.MDS_PROVIDER_ID),
                secret_hash=_hash(secret),
                created_by=created_by,
            )
    except IntegrityError:
        raise Conflict("An agency client with this name already exists.")
    return client, secret


@transaction.atomic
def agency_client_revoke(*, client_id: uuid.UUID) -> AgencyClient:
    client = AgencyClient.objects.select_for_update().filter(id=client_id).first()
    if client is None:
        raise NotFound("No such agency client.")
    if client.is_active:
        client.is_active = False
        client.revoked_at = timezone.now()
        client.save(update_fields=["is_active", "revoked_at"])
        outbox_emit(
            event_type=EVENT_AGENCY_CLIENT_REVOKED,
            occurred_at=client.revoked_at,
            data={
                "client_id": str(client.id),
                "provider_id": str(client.provider_id),
                "revoked_at": rfc3339(client.revoked_at),
            },
        )
    return client


def agency_token_issue(*, client_id: str, client_secret: str) -> AgencyToken:
    try:
        parsed = uuid.UUID(str(client_id))
    except ValueError:
        parsed = None
    client = AgencyClient.objects.filter(id=parsed).first() if parsed else None
    # Compared even for an unknown client, so the answer's timing tells nothing.
    expected = client.secret_hash if client is not None else _hash(secrets.token_urlsafe(32))
    if not hmac.compare_digest(expected, _hash(client_secret)) or client is None or not client.is_active:
        raise InvalidCredentials("Unknown client or wrong secret.")
    now = datetime.now(UTC)
    ttl = settings.AGENCY_TOKEN_TTL_SECONDS
    claims = {
        "sub": str(client.id),
        "name": client.name,
        "roles": [ROLE_AGENCY],
        "provider_id": str(client.provider_id),
        "token_type": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return AgencyToken(access=token_backend().encode(claims), expires_in=ttl)
