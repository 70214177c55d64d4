"""Recsys configs. Field descriptions are the documentation (``ennead recsys config``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ennead.core.config import BaseConfig

ModelName = Literal["bert4rec", "sasrec", "caser", "mf"]
TransferMode = Literal["none", "shallow", "deep", "kg_init"]


class DataSettings(BaseConfig):
    root: str | None = Field(
        None, description="data folder; default: ml-100k from the installed recbole wheel"
    )
    layout: Literal["atomic", "ml1m", "ml20m"] = Field(
        "atomic",
        description="atomic: RecBole atomic files (<name>.inter/.item, optional .kg/.link); "
        "ml1m: MovieLens-1M/10M .dat files (ratings.dat, movies.dat); ml20m: MovieLens-20M "
        "csv files (ratings.csv, movies.csv, optional links.csv)",
    )
    name: str | None = Field(None, description="atomic file stem; default: the folder's name")
    target_genres: list[str] = Field(
        default_factory=lambda: ["Action", "Thriller", "Horror", "Crime", "Sci-Fi"],
        description="an item with any of these genres is in the target domain",
    )
    k: int = Field(5, ge=1, description="cold users keep their last K target items for training")
    n_test: int = Field(3, ge=1, description="held-out last target items per user")
    cold_fraction: float = Field(0.5, gt=0, lt=1, description="share of eligible users made cold")
    warm_max: int | None = Field(
        None, ge=4, description="cap on a warm user's target history (None: full)"
    )
    split_seed: int = Field(0, description="seed of the cold/warm split and the negatives")
    n_negatives: int = Field(100, ge=1, description="sampled negatives per test user")
    actors: int = Field(3, ge=0, description="top actors per movie as meta knowledge")
    max_len: int = Field(50, ge=2, description="longest sequence a model reads")


class ModelSettings(BaseConfig):
    name: ModelName = Field("bert4rec", description="bert4rec, sasrec, caser, mf")
    hidden: int = Field(64, ge=4, description="item embedding / Transformer width")
    blocks: int = Field(2, ge=1, description="Transformer blocks")
    heads: int = Field(2, ge=1, description="attention heads")
    dropout: float = Field(0.1, ge=0, lt=1)
    user_dim: int = Field(16, ge=1, description="user embedding concatenated per position")
    meta_dim: int = Field(8, ge=1, description="director and actor embedding width")
    objective: Literal["cut", "mlm"] = Field(
        "cut", description="BERT4Rec: cut = next item at a random cut; mlm = 15% masking"
    )
    cuts_per_user: int = Field(4, ge=1, description="random cuts per user and epoch (cut)")
    caser_l: int = Field(5, ge=1, description="Caser: previous items read")
    caser_v: int = Field(4, ge=1, description="Caser: vertical filters")
    caser_h: int = Field(16, ge=1, description="Caser: horizontal filters per height")
    mf_negatives: int = Field(3, ge=1, description="BPR-MF: negatives per positive")


class ModelTrain(BaseConfig):
    batch_size: int | None = Field(None, ge=1, description="batch size (None: train.batch_size)")
    lr: float | None = Field(None, gt=0, description="learning rate (None: train.lr)")


def _by_model() -> dict[ModelName, ModelTrain]:
    # Caser and BPR-MF train on every source interaction (about 53k rows per epoch on ML-100K):
    # Caser's own batch of 256 (the paper's), and large BPR batches with a larger step.
    return {"caser": ModelTrain(batch_size=256), "mf": ModelTrain(batch_size=1024, lr=0.01)}


class TrainSettings(BaseConfig):
    pretrain_epochs: int = Field(20, ge=0, description="epochs on the source domain")
    finetune_epochs: int = Field(10, ge=1, description="epochs on the target domain")
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    batch_size: int = Field(256, ge=1)
    threads: int | None = Field(None, ge=1, description="torch threads (None: torch's default)")
    processes: int = Field(
        1, ge=1, description="training processes under `accelerate launch` (1: this process)"
    )
    launch_config: str = Field(
        "cpu_multi",
        description="accelerate config for processes > 1: a shipped name (cpu_multi: CPU "
        "processes with gloo; single_gpu, multi_gpu_zero2) or a YAML path",
    )
    by_model: dict[ModelName, ModelTrain] = Field(
        default_factory=_by_model,
        description="per-model batch_size / lr overriding the two above (BERT4Rec and SASRec "
        "train on a few rows per user and use them as they are)",
    )

    def for_model(self, name: str) -> TrainSettings:
        """These settings with ``by_model[name]`` applied."""
        o = self.by_model.get(name)  # type: ignore[call-overload]
        if o is None:
            return self
        return self.model_copy(
            update={k: v for k, v in (("batch_size", o.batch_size), ("lr", o.lr)) if v is not None}
        )


class TransESettings(BaseConfig):
    dim: int = Field(32, ge=2)
    epochs: int = Field(5, ge=1)
    margin: float = Field(1.0, gt=0)
    batch_size: int = Field(4096, ge=1)
    lr: float = Field(0.01, gt=0)


class GridSettings(BaseConfig):
    models: list[ModelName] = Field(
        default_factory=lambda: list[ModelName](["bert4rec", "sasrec", "caser", "mf"])
    )
    modes: list[TransferMode] = Field(
        default_factory=lambda: list[TransferMode](["none", "shallow", "deep"])
    )
    metas: list[bool] = Field(default_factory=lambda: [False, True])
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    ks: list[int] = Field(
        default_factory=list,
        description="more K values (cold users' training items) for the gain-vs-K plot",
    )
    workers: int = Field(1, ge=1, description="local processes (1: serial)")
    ray: bool = Field(False, description="one Ray task per (model, meta, seed) unit")
    ray_address: str | None = Field(None, description="Ray cluster (None: a local one)")


class RecsysConfig(BaseConfig):
    seed: int = Field(0, description="model initialisation and training seed")
    data: DataSettings = Field(default_factory=DataSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    transe: TransESettings = Field(default_factory=TransESettings)
    mode: TransferMode = Field("shallow", description="transfer mode for `transfer`")
    meta: bool = Field(False, description="director/actor embeddings per item")
    grid: GridSettings = Field(default_factory=GridSettings)
