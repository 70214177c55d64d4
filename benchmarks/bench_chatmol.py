"""ChatMol speed: batched beam decoding against one dialogue turn at a time (same model, same
inputs, same outputs), and the RDKit fact extractor's throughput (molecules/s) against parsing
alone (the floor), in one run.

    .venv/bin/python benchmarks/bench_chatmol.py      # writes benchmarks/results/chatmol.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

from ennead.chatmol import model as M
from ennead.chatmol.chem import facts_of, mol_from_smiles, properties
from ennead.chatmol.config import ChatMolConfig
from ennead.chatmol.data import nci_pool_file, read_smiles_file
from ennead.chatmol.experiment import make_data, train_arm


def best_of(fn, repeats=2):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    import torch

    torch.set_num_threads(1)
    smiles, _ = read_smiles_file(nci_pool_file(), 1000)
    t_parse, mols = best_of(lambda: [mol_from_smiles(s) for s in smiles])
    t_facts, _ = best_of(lambda: [facts_of(properties(m)) for m in mols])
    cfg = ChatMolConfig.model_validate(
        {
            "data": {"pool_limit": 1500, "n_test": 24, "n_val": 0, "n_train": 300},
            "model": {"d_model": 96, "d_ff": 192, "beams": 5},
            "train": {"pretrain_steps": 0, "finetune_steps": 60},
        }
    )
    data = make_data(cfg, 0)
    model, tok, _ = train_arm(cfg, data, "scratch")
    inputs = [M.dialogue_input(d.turns, None) for d in data.test]
    t_batch, out_b = best_of(lambda: M.generate(model, tok, inputs, 5, 160, batch_size=24))
    t_one, out_1 = best_of(lambda: [M.generate(model, tok, [x], 5, 160)[0] for x in inputs])
    same = sum(a[0] == b[0] for a, b in zip(out_b, out_1, strict=True)) / len(inputs)
    write_result(
        "chatmol",
        {
            "fact_extractor_molecules_per_s": round(len(mols) / t_facts, 1),
            "parse_only_molecules_per_s": round(len(mols) / t_parse, 1),
            "facts_vs_parse_time_ratio": round(t_facts / t_parse, 2),
            "beam5_batched_inputs_per_s": round(len(inputs) / t_batch, 2),
            "beam5_one_at_a_time_inputs_per_s": round(len(inputs) / t_one, 2),
            "batched_speedup": round(t_one / t_batch, 2),
            "top1_same_batched_vs_single": round(same, 3),
            "inputs": len(inputs),
            "torch_threads": 1,
        },
    )


if __name__ == "__main__":
    main()
