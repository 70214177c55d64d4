"""CUGE scoring speed: 1,000 submissions x 21 datasets, numpy scorer vs a plain pandas version.

Both compute the same thing (normalise 100 * p / b per metric, weighted mean per dataset, mean
per task, capability and index) on the paper's registry with a synthetic full baseline table;
the script checks they agree, then times them in the same run.

    .venv/bin/python benchmarks/bench_cuge.py          # writes benchmarks/results/cuge.json
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

from ennead.cuge.benchmark import load_benchmark
from ennead.cuge.scoring import Layout, MatrixScorer


def pandas_scores(bench, baselines, raws):
    """Straightforward pandas: one long frame, merges, groupby means level by level."""
    import pandas as pd

    rows = [
        (i, d, k, v) for i, raw in enumerate(raws) for d, ms in raw.items() for k, v in ms.items()
    ]
    df = pd.DataFrame(rows, columns=["sub", "dataset", "metric", "raw"])
    base = pd.DataFrame(
        [(d, k, v) for d, ms in baselines.items() for k, v in ms.items()],
        columns=["dataset", "metric", "b"],
    )
    where = pd.DataFrame(
        [(d.id, d.task, d.capability) for d in bench.datasets()],
        columns=["dataset", "task", "capability"],
    )
    df = df.merge(base, on=["dataset", "metric"]).merge(where, on="dataset")
    df["norm"] = 100 * df["raw"] / df["b"]
    ds = df.groupby(["sub", "capability", "task", "dataset"], as_index=False)["norm"].mean()
    task = ds.groupby(["sub", "capability", "task"], as_index=False)["norm"].mean()
    cap = task.groupby(["sub", "capability"], as_index=False)["norm"].mean()
    return cap.groupby("sub")["norm"].mean().to_numpy()


def main(n: int = 1000, repeats: int = 5) -> None:
    bench = load_benchmark("cuge")
    rng = random.Random(0)
    baselines = {
        d.id: {m.key: rng.uniform(10, 80) for m in d.spec.metrics} for d in bench.datasets()
    }
    raws = [
        {d: {k: rng.uniform(0, 100) for k in ms} for d, ms in baselines.items()} for _ in range(n)
    ]
    layout = Layout.build(bench, baselines)
    scorer = MatrixScorer(layout, "mean")
    ours = scorer.score(raws).index
    ref = pandas_scores(bench, baselines, raws)
    assert np.allclose(ours, ref), "numpy and pandas scorers disagree"

    def best(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    t_ours = best(lambda: scorer.score(raws))
    t_matrix_only = best(lambda: scorer.score_matrix(scorer.matrix(raws)))
    x = scorer.matrix(raws)
    t_levels = best(lambda: scorer.score_matrix(x))
    t_pandas = best(lambda: pandas_scores(bench, baselines, raws))
    t_build = best(lambda: MatrixScorer(Layout.build(bench, baselines), "mean"))
    write_result(
        "cuge",
        {
            "submissions": n,
            "datasets": len(bench.datasets()),
            "metric_columns": len(scorer.columns),
            "numpy_scorer_s": round(t_ours, 5),
            "numpy_from_matrix_s": round(t_levels, 5),
            "numpy_incl_matrix_build_s": round(t_matrix_only, 5),
            "layout_build_s": round(t_build, 5),
            "pandas_s": round(t_pandas, 5),
            "speedup_vs_pandas": round(t_pandas / t_ours, 1),
            "max_abs_diff": float(np.max(np.abs(ours - ref))),
            "repeats": repeats,
            "timing": "best of repeats, same process",
        },
    )


if __name__ == "__main__":
    main()
