"""The client IP as seen by the gateway (nginx sets X-Real-IP and appends to X-Forwarded-For)."""

import ipaddress

from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_get(*, request: HttpRequest) -> str:
    real_ip = _valid_ip(request.META.get("HTTP_X_REAL_IP", ""))
    if real_ip:
        return real_ip
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        # The last hop is the one our own gateway appended; earlier entries are client-supplied.
        last_hop = _valid_ip(forwarded.split(",")[-1])
        if last_hop:
            return last_hop
    return _valid_ip(request.META.get("REMOTE_ADDR", "")) or "unknown"
