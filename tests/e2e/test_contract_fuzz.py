"""Contract fuzzing with schemathesis 4.x against both OpenAPI schemas, through the gateway (issue 5).

Checks: no 5xx (not_a_server_error), documented responses match their schemas (response_schema_conformance),
and every 4xx/5xx is problem+json (problem_json_for_errors, in schemathesis_hooks.py). Bounded: 10 examples
per operation, no stateful phase, so both runs together take well under three minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

# Operations left out, and why:
# - /api/auth/token, /api/auth/token/refresh, /api/auth/token/agency: the gateway allows 60 a minute per
#   client address and auth counts failed logins per address; fuzzing them would lock the rest of the suite
#   out (the rate limits are tested in the auth service's own tests).
# - /api/auth/logout, /api/auth/password: would end or change the fuzzing rider's own session.
# TRACE is skipped because nginx answers it itself; test_bad_input checks that answer separately.
EXCLUDE_PATHS = r"^/api/auth/(token|token/refresh|token/agency|logout|password)$"

SCHEMAS = {"auth": "/api/auth/schema", "rentals": "/api/schema"}


@pytest.fixture(scope="module")
def fuzz_rider(register_and_confirm):
    return register_and_confirm("fuzz")


@pytest.mark.parametrize("service", SCHEMAS)
def test_schema_fuzzing(gateway_url, fuzz_rider, service, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.skip(f"schemathesis CLI not found at {SCHEMATHESIS}")
    command = [
        str(SCHEMATHESIS),
        "run",
        gateway_url + SCHEMAS[service],
        "--url",
        gateway_url,
        "--checks",
        "not_a_server_error,response_schema_conformance,problem_json_for_errors",
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-path-regex",
        EXCLUDE_PATHS,
        "--exclude-method",
        "TRACE",
        "--header",
        f"Authorization: Bearer {fuzz_rider.token}",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=170, check=False
    )
    output = result.stdout + result.stderr
    summary = [line for line in output.splitlines() if "generated" in line or line.startswith("====")]
    print(f"schemathesis {service}: exit {result.returncode}; " + " | ".join(summary[-2:]))
    assert result.returncode == 0, output[-12000:]
