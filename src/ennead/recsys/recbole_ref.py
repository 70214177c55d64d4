"""Reference check: RecBole's own BERT4Rec/SASRec on our target split, scored by our protocol.

RecBole (pip extra ``recbole-ref``) is imported only here. The target domain's training items
(cold users: K; warm users: all but the last 3) are written as RecBole atomic files with every
target item in ``.item`` (so every candidate has an embedding); one extra row per user, the first
test item, is RecBole's validation row, which is never evaluated (``eval_step`` exceeds the
epochs), so the training data are exactly ours. RecBole's trainer fits the model; its
``full_sort_predict`` then scores our histories and :mod:`ennead.recsys.metrics` ranks the same
candidates as for our models (100 sampled negatives, and the full ranking).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.imports import require
from ennead.recsys.config import RecsysConfig

PARAMS = {
    "bert4rec": "BERT4Rec",
    "sasrec": "SASRec",
}


def _write(split: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["user_id:token\titem_id:token\ttimestamp:float"]
    for u, items in split.target_train.items():
        for t, i in enumerate([*items, split.test[u][0]]):
            lines.append(f"{u}\t{i}\t{t}")
    (folder / "tgt.inter").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["item_id:token", *(str(i) for i in split.target_items)]
    (folder / "tgt.item").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _numpy2_aliases() -> None:
    """RecBole 1.2.1's Config sets np.float = np.float_ etc.; NumPy 2 removed the right sides."""
    for old, new in (("float_", "float64"), ("complex_", "complex128"), ("unicode_", "str_")):
        if old not in np.__dict__:
            setattr(np, old, getattr(np, new))


def run_recbole(cfg: RecsysConfig, model: str = "bert4rec", seed: int = 0) -> dict[str, Any]:
    """Train RecBole's model on the target split; per-user metrics and seconds per epoch."""
    require("recbole", "recbole-ref", "the RecBole reference check")
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.data.interaction import Interaction
    from recbole.utils import get_model, get_trainer, init_seed

    from ennead.recsys import metrics
    from ennead.recsys.experiment import context

    _, sp = context(cfg)
    m = cfg.model
    with tempfile.TemporaryDirectory() as tmp:
        _write(sp, Path(tmp) / "tgt")
        params = {
            "data_path": tmp,
            "checkpoint_dir": str(Path(tmp) / "ckpt"),
            "load_col": {"inter": ["user_id", "item_id", "timestamp"], "item": ["item_id"]},
            "eval_args": {"split": {"LS": "valid_only"}, "order": "TO", "mode": "full"},
            "MAX_ITEM_LIST_LENGTH": cfg.data.max_len,
            "hidden_size": m.hidden,
            "inner_size": 4 * m.hidden,
            "n_layers": m.blocks,
            "n_heads": m.heads,
            "hidden_dropout_prob": m.dropout,
            "attn_dropout_prob": m.dropout,
            "loss_type": "CE",
            "train_neg_sample_args": None,
            "epochs": cfg.train.finetune_epochs,
            "eval_step": cfg.train.finetune_epochs + 1,
            "stopping_step": cfg.train.finetune_epochs + 1,
            "train_batch_size": cfg.train.batch_size,
            "learning_rate": cfg.train.lr,
            "seed": seed,
            "reproducibility": True,
            "use_gpu": False,
            "device": "cpu",
            "show_progress": False,
            "save_dataset": False,
            "save_dataloaders": False,
            "state": "ERROR",
            "user_inter_num_interval": "[0,inf)",
            "item_inter_num_interval": "[0,inf)",
        }
        _numpy2_aliases()
        config = Config(model=PARAMS[model], dataset="tgt", config_dict=params)
        init_seed(seed, True)
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        dataset = create_dataset(config)
        train_data, _valid, _test = data_preparation(config, dataset)
        net = get_model(config["model"])(config, train_data.dataset).to("cpu")
        trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, net)
        t0 = time.perf_counter()
        trainer.fit(train_data, valid_data=None, saved=False, show_progress=False)
        seconds = time.perf_counter() - t0
        net.eval()
        tok = dataset.field2token_id["item_id"]
        ours_to_rb = np.array([tok.get(str(i), 0) for i in range(int(sp.target_items.max()) + 2)])
        out: dict[str, Any] = {}
        for group, users in (("cold", sp.cold), ("warm", sp.warm)):
            # BERT4Rec appends its [MASK] after the history, so it reads one item less
            keep = cfg.data.max_len - (1 if model == "bert4rec" else 0)
            hist = [sp.target_train[u][-keep:] for u in users]
            seq = np.zeros((len(users), cfg.data.max_len), dtype=np.int64)
            for r, h in enumerate(hist):
                seq[r, : len(h)] = ours_to_rb[h]
            inter = Interaction(
                {
                    "item_id_list": torch.as_tensor(seq),
                    "item_length": torch.as_tensor([len(h) for h in hist]),
                    "user_id": torch.zeros(len(users), dtype=torch.long),
                }
            )
            with torch.no_grad():
                rb = net.full_sort_predict(inter).reshape(len(users), -1)
            # scores over our item ids: unknown ids (source items) never compete
            ours = torch.full((len(users), len(ours_to_rb)), -torch.inf)
            known = torch.as_tensor(ours_to_rb > 0)
            ours[:, known] = rb[:, torch.as_tensor(ours_to_rb[known.numpy()])]
            rng = np.random.default_rng([cfg.data.split_seed, 1 if group == "cold" else 2])
            test = [sp.test[u] for u in users]
            out[group] = {
                "sampled": metrics.sampled(ours, test, [sp.negatives[u] for u in users], rng),
                "full": metrics.full(
                    ours, test, [sp.target_train[u] for u in users], sp.target_items
                ),
            }
    return {
        "per_user": out,
        "seconds": seconds,
        "epochs_per_s": cfg.train.finetune_epochs / seconds,
    }
