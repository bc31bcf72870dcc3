"""The result table: a header, then the rows each section contributes, in this order."""

from __future__ import annotations

from velo_bench import ceilings, procs, s1, s2, s3, s4, s5, s6, s7, s8, s9
from velo_bench.rows import HEADER, Baseline, Row

SECTIONS = (s1, s2, s6, s3, s7, s8, s9, s4, s5, procs, ceilings)


def table(res: dict, markdown: bool = False) -> str:
    base = Baseline.of(res)
    rows: list[Row] = [HEADER]
    for section in SECTIONS:
        rows += section.report_rows(res, base)
    if markdown:
        cells = [[str(v).replace("|", "/") for v in r] for r in rows]
        head = "| " + " | ".join(cells[0]) + " |\n|" + "---|" * 6
        return head + "\n" + "\n".join("| " + " | ".join(r) + " |" for r in cells[1:])
    widths = [max(len(str(r[i])) for r in rows) for i in range(6)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("  ".join(str(v).ljust(widths[j]) for j, v in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
