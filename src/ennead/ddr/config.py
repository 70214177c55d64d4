"""DDR configs. Field descriptions are the documentation (``ennead ddr config`` prints them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ennead.core.config import BaseConfig
from ennead.core.train.config import DPOConfig


class ModuleBackend(BaseConfig):
    """Which LM runs a module (any core backend) and how its prompts are wrapped."""

    backend: str = Field(
        "smollm2", description="core backend: smollm2, hf, tiny, openai, vllm, ray (replicas)"
    )
    model: str | None = Field(None, description="model folder or served model name")
    adapter: str | None = Field(None, description="LoRA adapter folder (hf, smollm2)")
    train_model: str | None = Field(
        None,
        description="transformers folder with the same weights, trained by DPO when the backend "
        "samples out of process (vllm, openai, ray); default: model. After each DPO stage vllm "
        "and ray replicas reload the trained (merged) folder",
    )
    device: str = Field("auto", description="auto, cpu, cuda")
    batch_size: int = Field(16, ge=1, description="prompts per generation batch")
    chat: bool = Field(True, description="wrap prompts in the model's chat template")
    options: dict[str, Any] = Field(default_factory=dict, description="backend options")


class RetrievalSettings(BaseConfig):
    kind: Literal["given", "bm25", "dense"] = Field(
        "given", description="given: passages come with each question; bm25/dense: search corpus"
    )
    corpus: str | None = Field(None, description="JSONL corpus (id, text) for bm25/dense")
    index: str | None = Field(None, description="folder to save/load the index")
    k: int = Field(10, ge=1, description="passages retrieved per question")
    embedder: str = Field("minilm", description="embedder for dense retrieval")


class KRSettings(BaseConfig):
    enabled: bool = Field(True, description="judge passages with V_KR before generation")
    need_n: int = Field(5, ge=1, description="stop judging once this many passages are kept")
    max_passage_tokens: int = Field(1024, ge=8, description="passage cut for the judge prompt")
    max_new_tokens: int = Field(8, ge=1)
    presence_penalty: float = Field(1.0, ge=-2, le=2)
    decision: Literal["generate", "logprob"] = Field(
        "generate",
        description="generate: keep if the reply contains YES (reference rule); logprob: keep if "
        "YES is likelier than NO (robust for small models)",
    )
    module: ModuleBackend = Field(default_factory=ModuleBackend)


class GenSettings(BaseConfig):
    top_n: int = Field(5, ge=1, description="passages given to the generator")
    passage_budget: int = Field(1024, ge=8, description="tokens for all passages together")
    max_new_tokens: int = Field(32, ge=1)
    presence_penalty: float = Field(1.0, ge=-2, le=2)
    style: str = Field("qa", description="task prompt: qa, slot_filling, dialogue, ...")
    module: ModuleBackend = Field(default_factory=ModuleBackend)


def _dpo_default() -> DPOConfig:
    # The paper's DPO: beta 0.1, LoRA r 8 / alpha 32 / dropout 0.1, lr 5e-5, one epoch.
    return DPOConfig(
        beta=0.1, lr=5e-5, epochs=1, batch_size=4, lora={"r": 8, "alpha": 32, "dropout": 0.1}
    )


class TrainSettings(BaseConfig):
    """DDR training: Gen stage (rollouts -> pairs -> DPO), then KR stage with the trained Gen."""

    data: str | None = Field(None, description="training questions JSONL (answers required)")
    mixture: list[str] = Field(
        default_factory=list,
        description="training files of the paper's mixture (each row's data_type picks its "
        "reward: commonsense_qa, gsm8k, coqa, ...); used when no data is given",
    )
    rounds: int = Field(1, ge=1, le=5, description="(Gen stage, KR stage) rounds")
    temperatures: list[float] = Field(
        default_factory=lambda: [0.5, 0.6, 0.7, 0.8, 0.9], description="Gen rollout temperatures"
    )
    loops: int = Field(5, ge=1, description="samples per temperature and prompt kind")
    top_p: float = Field(0.8, gt=0, le=1)
    presence_penalty: float = Field(1.0, ge=-2, le=2)
    max_new_tokens: int = Field(32, ge=1, description="rollout completion length")
    prefer_raw: bool = Field(True, description="reference tie rule: prefer no-document chosen")
    train_kr: bool = Field(True, description="run the KR stage after the Gen stage")
    kr_temperature: float = Field(1.0, gt=0, description="per-passage rollout temperature")
    kr_passages: int = Field(100, ge=1, description="passages per question in KR rollouts")
    dpo_launch: str | None = Field(
        None,
        description="run each DPO stage under `accelerate launch` with this config (cpu_multi, "
        "single_gpu, multi_gpu_zero2 or a YAML file); None: DPO in this process",
    )
    dpo_processes: int | None = Field(None, ge=1, description="processes for dpo_launch")
    gen_dpo: DPOConfig = Field(default_factory=_dpo_default)
    kr_dpo: DPOConfig = Field(default_factory=_dpo_default)


class WorldSettings(BaseConfig):
    n_entities: int = Field(96, ge=4, description="entities (3 facts each)")
    n_values: int = Field(10, ge=2, description="possible values per relation")
    known_fraction: float = Field(0.5, gt=0, lt=1, description="entities the generator knows")
    n_passages: int = Field(3, ge=2, description="retrieved passages per question")
    reading_examples: int = Field(1200, ge=10, description="reading-comprehension texts")
    seed: int = Field(0, description="world seed")
    both_scenarios: bool = Field(
        False, description="ask every fact in both scenarios of its pool (twice the questions)"
    )
    train_fraction: float = Field(
        0.75, gt=0, lt=1, description="share of facts asked in training (the rest: test)"
    )


class ClaimSettings(BaseConfig):
    """The multi-seed claim (``ennead.ddr.synthetic.run_claim``): seeds fixed before looking."""

    seeds: list[int] = Field(
        default_factory=lambda: [1000, 1001, 1002],
        description="gate seeds (world, pre-training and DDR sampling); never tuned on",
    )
    holdout_seeds: list[int] = Field(
        default_factory=lambda: [2000, 2001],
        description="further seeds, only reported (never tuned on)",
    )
    claimed_gain: float = Field(
        5.0, description="points DDR-all must gain over vanilla RAG, mean over the gate seeds"
    )
    n_resamples: int = Field(10_000, ge=100, description="bootstrap resamples")
    workers: int = Field(
        1, ge=1, description="seeds run side by side in worker processes (one core each)"
    )


class SyntheticSettings(BaseConfig):
    """The synthetic-world experiment (``ennead ddr demo``): world, tiny model, pre-training."""

    world: WorldSettings = Field(default_factory=WorldSettings)
    hidden_size: int = Field(128, ge=8, description="tiny Llama width")
    num_layers: int = Field(2, ge=1)
    num_heads: int = Field(4, ge=1)
    pretrain_epochs: int = Field(30, ge=1, description="passes over the pre-training text")
    pretrain_lr: float = Field(3e-3, gt=0)
    pretrain_batch_size: int = Field(32, ge=1)
    train_questions: int | None = Field(None, ge=1, description="cap on training questions")
    test_questions: int | None = Field(None, ge=1, description="cap on test questions")
    threads: int | None = Field(1, ge=1, description="torch threads (None: torch's default)")
    claim: ClaimSettings = Field(default_factory=ClaimSettings)


WORDNET_DIR = "/usr/share/wordnet"
Part = Literal["noun", "verb", "adj", "adv"]


class WordNetSettings(BaseConfig):
    """How ``ennead ddr wordnet`` draws its questions and corpus (``--set wordnet.KEY=VALUE``)."""

    root: str = Field(WORDNET_DIR, description="folder with data.noun, data.verb, ...")
    parts: list[Part] = Field(
        default_factory=lambda: list[Part](["noun", "verb", "adj"]),
        description="parts of speech to draw questions from",
    )
    train_questions: int = Field(48, ge=1, description="DDR training questions")
    test_questions: int = Field(64, ge=1, description="held-out test questions")
    corpus_size: int = Field(2000, ge=2, description="passages (question synsets included)")
    siblings: int = Field(4, ge=0, description="co-hyponym distractors per question synset")
    min_word_len: int = Field(4, ge=2, description="shortest answer word")
    max_word_len: int = Field(12, ge=2, description="longest answer word")
    min_definition_words: int = Field(4, ge=1)
    max_definition_words: int = Field(24, ge=1)
    seed: int = Field(0, description="question and corpus sampling seed")
    max_new_tokens: int = Field(
        6,
        ge=1,
        description="answer cap of this task (headwords are 1-3 tokens); replaces gen. and "
        "train.max_new_tokens in the WordNet run",
    )


class DDRConfig(BaseConfig):
    """The RAG pipeline (retriever -> V_KR -> V_Gen) and DDR training."""

    seed: int = Field(0, description="seed for sampling and training")
    data_type: str = Field("qa", description="reward/metric: a dataset id (nq, marco, wow...)")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    kr: KRSettings = Field(default_factory=KRSettings)
    gen: GenSettings = Field(default_factory=GenSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    synthetic: SyntheticSettings = Field(default_factory=SyntheticSettings)
    wordnet: WordNetSettings = Field(default_factory=WordNetSettings)
