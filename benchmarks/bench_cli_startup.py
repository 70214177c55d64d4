"""CLI start-up time: `ennead --help` against a bare `python -c pass` in the same run.

Run: python benchmarks/bench_cli_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result


def timed(cmd: list[str], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def main(repeats: int = 7) -> None:
    py = sys.executable
    timed([py, "-m", "ennead", "--help"], 1)  # warm the file cache
    bare = timed([py, "-c", "pass"], repeats)
    imp = timed([py, "-c", "import ennead"], repeats)
    helps = timed([py, "-m", "ennead", "--help"], repeats)
    ls = timed([py, "-m", "ennead", "ls", "--json"], repeats)
    med = statistics.median
    write_result(
        "cli_startup",
        {
            "repeats": repeats,
            "python_bare_s": round(med(bare), 4),
            "import_ennead_s": round(med(imp), 4),
            "ennead_help_s": round(med(helps), 4),
            "ennead_ls_s": round(med(ls), 4),
            "help_over_bare_python": round(med(helps) / med(bare), 2),
            "help_minus_bare_python_s": round(med(helps) - med(bare), 4),
        },
    )


if __name__ == "__main__":
    main()
