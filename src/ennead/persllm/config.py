"""PersLLM configs. Field descriptions are the documentation (``ennead persllm config``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ennead.core.backends.sampling import SamplerConfig
from ennead.core.config import BaseConfig
from ennead.core.train.config import DPOConfig, LoraSettings, SFTConfig


class TeacherSettings(BaseConfig):
    kind: Literal["template", "backend"] = Field(
        "template", description="template: deterministic offline teacher; backend: an LLM"
    )
    backend: str = Field("openai", description="core backend of an LLM teacher (openai, smollm2)")
    model: str | None = Field(None, description="model folder or served model name")
    options: dict[str, Any] = Field(default_factory=dict, description="backend options")
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.7, ge=0.0)
    batch_size: int = Field(16, ge=1, description="requests per teacher call")


class BuildSettings(BaseConfig):
    teacher: TeacherSettings = Field(default_factory=TeacherSettings)
    embedder: str = Field("minilm", description="retrieval and dedup embedder (minilm, hashing)")
    knowledge_words: int = Field(1300, ge=1, description="retrieved knowledge per prompt (words)")
    style_words: int = Field(350, ge=1, description="retrieved style per prompt (words)")
    kinds: list[Literal["ordinary", "thought", "error"]] = Field(
        ["ordinary", "thought", "error"], description="item kinds written"
    )
    variants: int = Field(2, ge=1, description="items of each kind per seed paragraph")
    seeds_per_stage: int = Field(1000, ge=1, description="seed paragraphs asked per stage")
    cot: bool = Field(False, description="[Analysis] then [Response] answers (only the reply kept)")
    stage_prefix: bool = Field(True, description="tell the teacher the stage ('Now it's ...')")
    stage_negatives: bool = Field(
        True, description="also answer each question at the persona's other stages (DPO negatives)"
    )
    dedup: float = Field(0.95, gt=0, le=1, description="drop a question this close to a kept one")
    test_share: float = Field(0.2, ge=0, lt=1, description="held-out share per persona and stage")


class ModelSettings(BaseConfig):
    backend: Literal["tiny", "smollm2", "hf"] = Field(
        "tiny", description="tiny: in-process Llama pre-trained on the world; smollm2; hf folder"
    )
    model: str | None = Field(None, description="model folder (hf)")
    hidden_size: int = Field(128, ge=8, description="tiny model width")
    num_layers: int = Field(2, ge=1, description="tiny model layers")
    device: str = Field("auto", description="auto, cpu, cuda")
    launch: str | None = Field(
        None, description="accelerate launch config for training (e.g. multi_gpu_zero2)"
    )
    sampler: Literal["hf", "vllm"] = Field("hf", description="engine that samples answers")


class WorldSettings(BaseConfig):
    n_personas: int = Field(3, ge=2, le=8)
    n_topics: int = Field(20, ge=4, le=30)
    flip_share: float = Field(0.3, ge=0, le=1, description="share of stances that flip at stage II")
    reading_items: int = Field(6000, ge=0, description="description-reading chats in pre-training")
    closed_book_copies: int = Field(
        2, ge=0, description="copies of the other characters' from-memory chats in pre-training"
    )
    pretrain: SFTConfig = Field(
        default_factory=lambda: SFTConfig(
            lr=3e-3,
            epochs=3,
            batch_size=32,
            max_length=200,
            max_prompt_length=180,
            lora=LoraSettings(enabled=False),
        ),
        description="pre-training of the world's base model",
    )


class MixSettings(BaseConfig):
    repeat: int = Field(5, ge=1, description="persona data repeated (the paper's x5)")
    general: int = Field(400, ge=0, description="general instruction items mixed in")


class DPOSettings(BaseConfig):
    enabled: bool = True
    skip_top: int = Field(5, ge=0, description="near-duplicate other-persona answers skipped")
    cross_persona: bool = Field(True, description="rejected: another persona's answer")
    cross_stage: bool = Field(True, description="rejected: the same persona at another stage")
    train: DPOConfig = Field(default_factory=DPOConfig)


class EvalSettings(BaseConfig):
    max_new_tokens: int = Field(24, ge=1)
    batch_size: int = Field(64, ge=1)
    bleu_samples: int = Field(2, ge=2, description="samples per prompt for distinction BLEU")
    bleu_prompts: int = Field(20, ge=1, description="prompts per persona and stage for BLEU")
    temperature: float = Field(0.8, gt=0, description="sampling temperature for BLEU")
    questionnaire: bool = Field(True, description="IPIP Big Five interview (scored by stance)")
    sampler: SamplerConfig = Field(
        default_factory=SamplerConfig,
        description="engine that samples answers from the trained models: hf (the model object) "
        "or ct2 (CTranslate2 on a saved copy; options compute_type, exact, fallback); greedy "
        "answers and questionnaire scores stay hf with exact: hf",
    )


class ClaimSettings(BaseConfig):
    seeds: list[int] = Field(
        default_factory=lambda: [3000, 3001, 3002], description="gate seeds (dev seed: 0)"
    )
    unseen_seeds: list[int] = Field(
        default_factory=lambda: [4000, 4001], description="reported only, outside the gate"
    )


class PersLLMConfig(BaseConfig):
    seed: int = Field(0, description="seed of the world, the data split and training")
    personas: str | None = Field(
        None, description="persona folder(s); none: the controlled world (tiny) or shipped ones"
    )
    model: ModelSettings = Field(default_factory=ModelSettings)
    world: WorldSettings = Field(default_factory=WorldSettings)
    build: BuildSettings = Field(default_factory=BuildSettings)
    mix: MixSettings = Field(default_factory=MixSettings)
    sft: SFTConfig = Field(default_factory=SFTConfig)
    dpo: DPOSettings = Field(default_factory=DPOSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    claim: ClaimSettings = Field(default_factory=ClaimSettings)
