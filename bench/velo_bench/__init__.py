"""Velo benchmarks (issue 7). Run through bench/run.sh, which sources .run/<stack>/env.sh first and runs
``python3 bench/velo_bench``.

Standard library only (runs on the system python3). Talks only to 127.0.0.1 and only to the chosen stack;
every load phase is bounded in time. Writes bench/results/<timestamp>.json and prints one table.

Layout: ``config`` (settings of a run), shared helpers (``common``, ``shell``, ``client``, ``procs``,
``wrk``, ``servers``, ``riders``, ``seeding``, ``cycles``, ``pipeline``, ``probes``, ``machine``), one module
per phase (``ceilings``, ``s1`` .. ``s7``), each with its ``report_rows`` for the table (``rows``,
``report``), and ``main``. Scripts run by other interpreters, not imported here: ``experiments/probe.py``
and ``experiments/relay_wake_probe.py`` (rentals venv), ``drain_bench.py`` (billing-worker venv).
"""
