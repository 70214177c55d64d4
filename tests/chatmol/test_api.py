"""The facade end to end at stand-in sizes: data -> pretrain -> train -> evaluate -> report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ennead.chatmol.api import ChatMol
from ennead.chatmol.config import ChatMolConfig
from ennead.core.config import load_config

SMALL = [
    "data.n_test=8",
    "data.n_val=0",
    "data.n_train=60",
    "train.pretrain_steps=6",
    "train.finetune_steps=6",
    "model.beams=2",
]


def _cfg(preset: str, pool: Path, extra: list[str] | None = None) -> ChatMolConfig:
    return load_config(
        ChatMolConfig,
        preset,
        [f"data.pool={pool}", *SMALL, *(extra or [])],
        package="ennead.chatmol",
    )


def test_stages_run_resume_and_report(tmp_path: Path, small_pool_file: Path) -> None:
    cm = ChatMol(_cfg("tiny", small_pool_file))
    run = tmp_path / "run"
    d = cm.data(run)
    assert d.stats["test"]["dialogues"] == 8 and d.stats["pool_invalid_smiles"] == 1
    cm.pretrain(run)
    t = cm.train(run)
    assert t.stage == "finetune" and (run / "stages" / "finetune" / "model").is_dir()
    ev = cm.evaluate(run)
    assert set(ev.table) == {"chatmol", "random", "retrieval", "oracle"}
    assert 0 <= ev.metrics["validity"] <= 1 and ev.invalid >= 0
    # the oracle reads the requirements back and meets them whenever the pool can
    assert ev.table["oracle"]["satisfaction"] >= ev.table["random"]["satisfaction"]
    saved = json.loads((run / "eval.json").read_text())
    assert saved["table"]["chatmol"]["dialogues"] == 8
    rep = cm.report(run)
    html = rep.artifacts["report_html"].read_text()
    assert "data:image/png;base64" in html and "Proposed vs target" in html
    again = cm.train(run)  # resumes: the finished stage is not redone
    assert again.seconds == t.seconds


def test_paper_preset_path_on_cpu_with_stand_in_sizes(
    tmp_path: Path, small_pool_file: Path
) -> None:
    base = load_config(ChatMolConfig, "paper", [], package="ennead.chatmol")
    assert (base.model.d_model, base.model.layers, base.model.max_len) == (768, 12, 512)
    cfg = _cfg(
        "paper",
        small_pool_file,
        [
            "model.d_model=32",
            "model.d_ff=64",
            "model.layers=1",
            "model.heads=2",
            "train.device=cpu",
        ],
    )
    res = ChatMol(cfg).demo(tmp_path / "paper")
    assert res.table["chatmol"]["validity"] >= 0


def test_unknown_config_key_is_refused(small_pool_file: Path) -> None:
    from ennead.core.errors import ConfigError

    with pytest.raises(ConfigError):
        _cfg("tiny", small_pool_file, ["model.width=3"])


def test_selfies_output_round_trips_targets() -> None:
    import selfies as sf

    from ennead.chatmol.model import target_text

    text = target_text("OC(=O)c1ccccc1", "selfies")
    assert text.startswith("[O]") and " " in text
    assert sf.decoder(text.replace(" ", "")) in {"OC(=O)C1=CC=CC=C1", "OC(=O)c1ccccc1"}
