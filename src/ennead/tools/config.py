"""The tool-learning config: which agent, which policy (model), budgets, the task split."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ennead.core.backends.sampling import SamplerConfig
from ennead.core.config import BaseConfig


class PolicyConfig(BaseConfig):
    kind: Literal["rule", "noisy", "lm"] = Field(
        "rule",
        description="rule: the reference policy; noisy: rule with seeded mistakes; lm: a model",
    )
    error_rate: float = Field(0.3, ge=0.0, le=1.0, description="noisy: chance of a wrong action")
    give_up_rate: float = Field(
        0.5, ge=0.0, le=1.0, description="noisy: chance to give up after an error observation"
    )
    backend: str = Field("tiny", description="lm: core backend name (hf, openai, vllm, tiny)")
    model: str = Field("smollm2", description="lm: model path/name ('smollm2' = embedded)")
    base_url: str | None = Field(None, description="lm: OpenAI-compatible server")
    native: bool = Field(False, description="lm: use native tool calls (OpenAI-compatible)")
    max_new_tokens: int = Field(96, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    cache: str | None = Field(None, description="sqlite response cache file (None: run dir)")


class AgentConfig(BaseConfig):
    kind: Literal["react", "native", "dfsdt", "hierarchical"] = "react"
    max_steps: int = Field(8, ge=1, description="tool calls per chain")
    budget: int = Field(24, ge=1, description="policy calls per task, all branches together")
    width: int = Field(2, ge=1, description="DFSDT: children tried per node")
    max_output_chars: int = Field(2000, ge=64, description="observations truncated here")
    tool_timeout_s: float = Field(5.0, gt=0.0)
    retrieve_k: int = Field(0, ge=0, description="show the top-k retrieved tools (0: all)")


class TrainConfig(BaseConfig):
    lora_r: int = Field(8, ge=1)
    steps: int = Field(60, ge=1)
    lr: float = Field(2e-4, gt=0.0)
    batch_size: int = Field(4, ge=1)
    max_length: int = Field(512, ge=32)
    teacher: Literal["rule", "lm"] = Field(
        "rule", description="who writes the solution traces: the rule policy or the policy model"
    )
    teacher_budget: int = Field(24, ge=1, description="policy calls per training task (DFSDT)")
    student: str = Field("smollm2", description="backend to fine-tune: smollm2, hf or tiny")
    student_model: str | None = Field(None, description="model folder for the hf student")
    max_input_tokens: int | None = Field(
        None, ge=1, description="prompts longer than this lose their beginning (None: model's)"
    )
    sampler: SamplerConfig = Field(
        default_factory=SamplerConfig,
        description="engine that samples from the student (untuned and tuned) in train and "
        "study: hf (the model object) or ct2 (CTranslate2 on a saved, merged copy; options "
        "compute_type, fallback)",
    )


StudyPart = Literal["untuned", "tuned"]


class StudyConfig(BaseConfig):
    """The embedded-model study (``ennead tools study``): what is fixed before it runs."""

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], description="LoRA training seeds")
    sizes: dict[str, int] = Field(
        default_factory=lambda: {"inst": 16, "unsolvable": 4, "tool": 8, "cat": 8},
        description="held-out tasks per group (inst = solvable unseen instructions), seeded sample",
    )
    sample_seed: int = Field(17, description="seed of the held-out task sample")
    threshold_points: float = Field(
        20.0, description="goal: tuned >= untuned + this many points on unseen instructions"
    )
    react_steps: int = Field(4, ge=1, description="ReAct chain length")
    dfsdt_steps: int = Field(3, ge=1, description="DFSDT chain length (before backtracking)")
    budget: int = Field(4, ge=1, description="policy calls per task, both agents")
    new_tokens: int | None = Field(
        None, ge=1, description="max new tokens (None: the longest SFT completion + 4 tokens)"
    )
    parts: list[StudyPart] = Field(
        default_factory=lambda: list[StudyPart](["untuned", "tuned"]),
        description="which parts run here (a part whose records exist in the run folder is read "
        "back, not rerun: two processes can share a study, a final call merges it)",
    )
    tuned_dfsdt: bool = Field(False, description="also run DFSDT with the tuned model")
    threads: int = Field(1, ge=1, description="torch threads (1 is fastest on a loaded CPU)")
    batch: int = Field(64, ge=1, description="most episodes stepped in one generate call")
    bootstrap: int = Field(2000, ge=100, description="bootstrap resamples over tasks")
    deadline_s: float | None = Field(
        None, gt=0, description="start no new training seed after this many seconds"
    )


class ToolsConfig(BaseConfig):
    seed: int = 0
    split: str = Field("test", description="task split: train, I1-inst, I1-tool, I2-cat, test")
    limit: int | None = Field(None, ge=1, description="first N tasks of the split")
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    study: StudyConfig = Field(default_factory=StudyConfig)
    online: bool = Field(False, description="register tools tagged online (need network/keys)")
    eval_limit: int | None = Field(
        None, ge=1, description="train: evaluate on at most this many tasks per held-out split"
    )

    @model_validator(mode="after")
    def _native_needs_a_native_policy(self) -> ToolsConfig:
        if self.agent.kind == "native" and not (self.policy.kind == "lm" and self.policy.native):
            raise ValueError(
                "agent.kind 'native' needs policy.kind 'lm' with policy.native true (an "
                "OpenAI-compatible server); use agent.kind 'react' for text ReAct"
            )
        return self
