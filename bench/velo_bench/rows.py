"""Report rows: each scenario module contributes its own rows (``report_rows(res, base)``) to the one
result table; this module holds what they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from velo_bench.servers import STACK_MODEL

# scenario, measured, ceiling, ratio, target, ok
Row = tuple[str, str, str, Any, str, str]
HEADER: Row = ("scenario", "measured", "ceiling", "ratio", "target", "ok")


def ratio(a, b) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def ok(flag) -> str:
    return "-" if flag is None else ("yes" if flag else "NO")


@dataclass(frozen=True)
class Baseline:
    """The ceilings of the run that rows compare against (absent ones are empty / None)."""

    ceilings: dict
    bare32: float | None
    nginx32: float | None
    pg32: float | None

    @classmethod
    def of(cls, res: dict) -> Baseline:
        ce = {"nginx": {}, "bare_django": {}, "pgbench": {}, **res["ceilings"]}
        return cls(
            ceilings=ce,
            bare32=ce["bare_django"].get(STACK_MODEL, {}).get("c32", {}).get("rps"),
            nginx32=ce["nginx"].get("c32", {}).get("rps"),
            pg32=ce["pgbench"].get("c32", {}).get("cycles_per_s"),
        )
