"""``python3 bench/velo_bench`` (what bench/run.sh runs) or ``python3 -m velo_bench`` from bench/."""

import sys
from pathlib import Path

if not __package__:  # run as a directory: import the package from bench/, not its modules top-level
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from velo_bench.main import main

sys.exit(main())
