"""Schemathesis hooks for the contract fuzzing run (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_json_for_errors(ctx, response, case):
    """Every 4xx (and 5xx) answer is RFC 9457 problem+json with our fields."""
    if response.status_code < 400:
        return None
    values = response.headers.get("content-type") or [""]
    content_type = values[0].split(";")[0].strip().lower()
    if content_type != PROBLEM_JSON:
        raise AssertionError(
            f"{response.status_code} answered with content type {content_type!r}, not {PROBLEM_JSON}"
        )
    body = response.json()
    missing = [
        key for key in ("type", "title", "status", "detail", "instance", "request_id") if key not in body
    ]
    if missing:
        raise AssertionError(f"problem body lacks {missing}")
    if body["status"] != response.status_code:
        raise AssertionError(
            f"problem status {body['status']} differs from the HTTP status {response.status_code}"
        )
    return None
