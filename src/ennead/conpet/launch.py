"""The worker of a launched ConPET run: ``accelerate launch ... -m ennead.conpet.launch --run DIR``.

The facade (``ConPET.train`` with ``train.launch`` set) creates the run folder, writes its
config and starts this module in every process. The main process trains into the run folder
(stages, states, results.json: the same folder as an in-process run); the others keep their
own resumable copies under ``DIR/ranks/rankN``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ennead.conpet.config import ConPETConfig
from ennead.conpet.harness import run_all
from ennead.conpet.parallel import DataParallel
from ennead.conpet.stream import load_stream
from ennead.conpet.streams import build_stream
from ennead.core.config import load_config
from ennead.core.runs import RunDir


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ennead.conpet.launch")
    parser.add_argument("--run", required=True, help="run folder holding config.yaml")
    parser.add_argument("--stream", default=None, help="a stream saved by `conpet stream`")
    args = parser.parse_args(argv)
    run_path = Path(args.run)
    cfg = load_config(ConPETConfig, str(run_path / "config.yaml"), package="ennead.conpet")
    dist = DataParallel(cpu=not cfg.backbone.device.startswith("cuda"))
    stream = load_stream(args.stream) if args.stream else build_stream(cfg)
    if cfg.backbone.device.startswith("cuda"):  # one GPU per process
        cfg = cfg.model_copy(
            update={"backbone": cfg.backbone.model_copy(update={"device": dist.device})}
        )
    if dist.is_main:
        run = RunDir(run_path)
    else:
        run = RunDir.create(run_path / "ranks" / f"rank{dist.rank}", cfg, system="conpet")
    run_all(cfg, stream, run, dist)
    dist.barrier()


if __name__ == "__main__":
    main()
