"""ChatMol configs. Field descriptions are the documentation (``ennead chatmol config``)."""

from __future__ import annotations

from pydantic import Field

from ennead.core.config import BaseConfig


class DataConfig(BaseConfig):
    pool: str | None = Field(
        None, description="SMILES file for the molecule pool; default: RDKit's NCI first_5K.smi"
    )
    pool_limit: int | None = Field(
        None, ge=10, description="read only the pool file's first N lines (quick runs, tests)"
    )
    max_heavy_atoms: int = Field(30, ge=4, description="pool molecules with more are dropped")
    max_tokens: int = Field(48, ge=8, description="pool molecules with longer SMILES are dropped")
    n_test: int = Field(300, ge=1, description="test dialogues (one per held-out molecule)")
    n_val: int = Field(100, ge=0, description="validation dialogues")
    n_train: int | None = Field(None, ge=1, description="cap on train dialogues (None: all)")


class ModelConfig(BaseConfig):
    kind: str = Field("t5", pattern="^(t5)$", description="the seq2seq model (a T5 from a config)")
    d_model: int = Field(128, ge=16)
    heads: int = Field(4, ge=1)
    d_ff: int = Field(256, ge=16)
    layers: int = Field(2, ge=1, description="encoder layers (and as many decoder layers)")
    dropout: float = Field(0.1, ge=0, lt=1)
    lr: float = Field(1e-3, gt=0, description="AdamW peak learning rate (warm-up, linear decay)")
    batch_size: int = Field(32, ge=1)
    max_len: int = Field(160, ge=16, description="input tokens kept (the last ones)")
    beams: int = Field(5, ge=1, description="beam width = candidates per turn (top-1, hit@3/5)")
    output: str = Field(
        "smiles",
        pattern="^(smiles|selfies)$",
        description="what the decoder writes: SMILES (the paper) or SELFIES (always valid; "
        "reported separately)",
    )
    max_new: int = Field(64, ge=8, description="most output tokens per candidate")


class TrainConfig(BaseConfig):
    pretrain_steps: int = Field(600, ge=0, description="knowledge pre-training steps (0: none)")
    finetune_steps: int = Field(900, ge=1, description="dialogue fine-tuning steps")
    history: bool = Field(
        True,
        description="add 'it looks like <previous molecule>' to a turn's input (gold in "
        "training, the model's own top-1 at test time)",
    )
    threads: int = Field(1, ge=1, description="torch threads per training process")
    device: str = Field("cpu", description="cpu, cuda or cuda:N")


class ClaimConfig(BaseConfig):
    seeds: list[int] = Field([11, 12, 13], description="gate seeds, fixed before any run")
    extra_seeds: list[int] = Field([14, 15], description="seeds run outside the gate, reported")
    sat_margin: float = Field(0.20, description="satisfaction must beat random by this much")
    min_validity: float = Field(0.8, description="top-1 SMILES validity the gate needs")


class ChatMolConfig(BaseConfig):
    seed: int = Field(0, description="seed of data generation and training")
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    claim: ClaimConfig = Field(default_factory=ClaimConfig)
