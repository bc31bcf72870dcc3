import uuid

from agencies.models import RevokedAgencyClient


def agency_client_is_revoked(*, client_id: uuid.UUID) -> bool:
    """Asked on every MDS request (one primary-key lookup; agencies ask a few times a minute), so unlike
    riders' deactivations there is no per-process copy: a revocation counts once the inbox committed it."""
    return RevokedAgencyClient.objects.filter(client_id=client_id).exists()
