"""Leaderboard service load test: 200 uploads from 8 concurrent clients plus 2 board readers.

Runs on 127.0.0.1 only, bounded by a deadline; builds a small stand-in suite in a temporary
folder and uploads 200 distinct variants of the rule baseline's submission.

    .venv/bin/python benchmarks/bench_cuge_load.py     # writes benchmarks/results/cuge_load.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

from ennead.cuge import CUGE, CUGEConfig
from ennead.cuge.loadtest import run_load
from ennead.cuge.runners import RuleRunner


def main(uploads: int = 200, clients: int = 8, readers: int = 2) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = CUGEConfig(data_dir=f"{tmp}/data", max_items=40, max_train=20, out=tmp)
        cfg.service.db = f"{tmp}/board.sqlite"
        cuge = CUGE(cfg)
        cuge.prepare()
        base = json.loads(Path(cuge.predict(runner=RuleRunner()).submission).read_text("utf-8"))
        result = run_load(
            cfg, base, uploads=uploads, clients=clients, readers=readers, deadline_s=300
        )
        result["submission_bytes"] = len(json.dumps(base, ensure_ascii=False).encode())
        result["items_per_submission"] = sum(len(v) for v in base["predictions"].values())
    ok = result["all_accepted_on_board"] and result["integrity_check"] == "ok"
    write_result("cuge_load", result)
    if not ok:
        raise SystemExit("load test failed its consistency checks")


if __name__ == "__main__":
    main()
