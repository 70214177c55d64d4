"""Test labels and baseline tables of a data folder.

Both the facade (:mod:`ennead.cuge.api`) and the service (:mod:`ennead.cuge.service`) read them;
they live here so that neither imports the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError
from ennead.cuge.benchmark import Benchmark, load_baseline_file

BASELINE_FILE = "baseline.json"


def load_gold(
    bench: Benchmark, data_dir: str | Path, datasets: list[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Test records with answers, for the datasets that have a test file.

    An empty test file is an error that names it (otherwise every prediction would be
    reported as "not in the test set").
    """
    from ennead.core.io import read_jsonl

    data_dir = Path(data_dir)
    out = {}
    for d in datasets or bench.dataset_ids():
        path = data_dir / d / "test.jsonl"
        if path.is_file():
            rows = read_jsonl(path)
            if not rows:
                raise DataError("the test file is empty (no records); rebuild the data", path)
            out[d] = rows
    if not out:
        raise DataError(
            f"no test files under {data_dir} (<dataset>/test.jsonl); for the stand-in "
            "suite run `ennead cuge prepare` first"
        )
    return out


def load_baselines(
    bench: Benchmark, data_dir: str | Path, name: str | None = None
) -> dict[str, dict[str, float]]:
    """The baseline table: ``name`` (a registry table or a YAML/JSON file), else the rule
    baseline measured on this data folder, else the registry's default table."""
    if name is not None:
        if name.endswith((".yaml", ".yml", ".json")) or Path(name).is_file():
            return dict(load_baseline_file(name, bench).scores)
        return dict(bench.baseline(name).scores)
    local = Path(data_dir) / BASELINE_FILE
    if local.is_file():
        try:
            data = json.loads(local.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            msg = f"not a baseline table ({exc}); rerun `ennead cuge prepare`"
            raise DataError(msg, local) from None
        if isinstance(data, dict) and data.get("benchmark") == bench.name:
            return {d: dict(v) for d, v in data["scores"].items()}
    return dict(bench.baseline().scores)
