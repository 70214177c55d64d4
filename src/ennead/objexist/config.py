"""ObjExist configs. Field descriptions are the documentation (``ennead objexist config``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ennead.core.config import BaseConfig


class SimConfig(BaseConfig):
    """The tabletop simulator: camera, image and scene rules."""

    resolution: int = Field(48, ge=8, le=512, description="image side in pixels")
    fov_deg: float = Field(56.0, ge=10, le=120, description="camera field of view (degrees)")
    supersample: int = Field(
        2, ge=1, le=4, description="rays per pixel side; >1 anti-aliases (cost grows as its square)"
    )
    min_pixels: int = Field(
        2, ge=1, description="rays (sub-pixels) an object must cover to count as visible"
    )
    max_moves: int = Field(
        6,
        ge=1,
        le=12,
        description="move budget per episode (paper: 6); at least 1, since with none the agent "
        "cannot look around and exhaustive search is the passive baseline",
    )
    observation: Literal["rgb", "idmap"] = Field(
        "rgb",
        description="rgb: a shaded colour image (H, W, 3) uint8 under the key 'image'; idmap: the "
        "spec's fast path, the ray caster's id map as a 22-channel one-hot (21 objects + table; "
        "fractions when supersample > 1) float32 (H, W, 22) under the key 'idmap', which "
        "separates occlusion reasoning from perception",
    )
    depth: bool = Field(False, description="add a depth map to the observation")
    holdout_seed: int = Field(234, description="seed that picks the held-out object pairs")
    holdout_per_type: int = Field(
        14, ge=0, le=49, description="held-out pairs per cross-class type (L-M, L-S, M-S)"
    )

    @model_validator(mode="after")
    def _fine_enough(self) -> SimConfig:
        if self.resolution * self.supersample < 40:
            raise ValueError(
                f"resolution x supersample = {self.resolution * self.supersample} rays per side "
                "cannot show the smallest objects (a 3 cm marble); use at least 40, e.g. "
                "resolution 32 with supersample 2"
            )
        return self


class ModelConfig(BaseConfig):
    """CNN encoder + query embedding + recurrent core with movement, value and answer heads."""

    channels: list[int] = Field([16, 32, 64], min_length=1, description="conv channels (stride 2)")
    feature_dim: int = Field(128, ge=4, description="image feature size g_t")
    query_dim: int = Field(10, ge=1, description="query embedding size (paper: 10)")
    hidden: int = Field(128, ge=4, description="recurrent state size (paper: 256)")
    core: Literal["rnn", "gru"] = Field(
        "gru", description="rnn: the paper's ReLU RNN; gru: a gated core (permitted ablation)"
    )
    pool: Literal["avg", "avgmax"] = Field(
        "avgmax", description="global pooling; avgmax adds max pooling so one-pixel objects count"
    )
    fusion: Literal["concat", "film"] = Field(
        "film",
        description="concat: the paper's [q; g] into the core only; film: the query also scales "
        "and shifts the last conv features (a query-specific detector), which learns far faster",
    )
    query_channel: bool = Field(
        False,
        description="id map only: add the queried object's channel of the id map as one more "
        "input channel (where the query is in view), so the CNN need not learn to pick 1 of 21 "
        "channels per query; the fast path's shortcut past perception",
    )
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout before the conv layers")
    view_aux: float = Field(
        0.0,
        ge=0,
        description="weight of an auxiliary loss on each step's image features: does the queried "
        "object show in this view (the simulator's id map, training only; 0 = off, the paper)",
    )
    detach_policy: bool = Field(
        True, description="movement/value heads see h.detach() (paper): RL trains only them"
    )


class StageConfig(BaseConfig):
    """One curriculum stage."""

    level: Literal["one_object", "two_visible", "two_occluded", "mixed"] = Field(
        ..., description="scene level (L1-L4)"
    )
    episodes: int = Field(..., ge=1, description="training episodes in this stage")
    w_rl: float | None = Field(None, ge=0, description="REINFORCE weight (default: train.w_rl)")


def _default_curriculum() -> list[StageConfig]:
    return [
        StageConfig(level="one_object", episodes=50_000),
        StageConfig(level="two_visible", episodes=50_000),
        StageConfig(level="two_occluded", episodes=50_000),
        StageConfig(level="mixed", episodes=50_000),
    ]


class TrainConfig(BaseConfig):
    """REINFORCE with a learned baseline plus the supervised answer loss."""

    batch_size: int = Field(128, ge=1, description="parallel episodes per update (paper: 1)")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate (paper: 1e-4 with batch 1)")
    w_rl: float = Field(1e-2, ge=0, description="REINFORCE loss weight (paper: 1e-2, 1e-4 in L4)")
    entropy: float = Field(1e-3, ge=0, description="entropy bonus on the movement policy")
    step_answer: float = Field(
        0.5,
        ge=0,
        description="weight of an answer loss at every step (a belief-state auxiliary "
        "loss that speeds learning; the paper: 0, the answer only at the end)",
    )
    explore: float = Field(
        0.25,
        ge=0,
        lt=1,
        description="share of each batch rolled out with a random walk that "
        "trains only the answer losses, so multi-view answers are learned before the policy "
        "moves on purpose (0 = the paper's on-policy data only)",
    )
    explore_walk: Literal["random", "sweep"] = Field(
        "sweep",
        description="how exploration episodes move: random (uniform left/right/stop each step) or "
        "sweep (a random direction and length, then straight moves, so the answer head learns to "
        "remember an object seen several views ago)",
    )
    grad_clip: float = Field(5.0, gt=0, description="gradient norm clip")
    curriculum: list[StageConfig] = Field(
        default_factory=_default_curriculum, min_length=1, description="stages run in order"
    )
    pairs: Literal["train", "all"] = Field(
        "train", description="train: two-object scenes never use the held-out pairs"
    )
    log_every: int = Field(20, ge=1, description="updates between metric rows")
    checkpoint_every: int = Field(50, ge=1, description="updates between checkpoints")
    threads: int = Field(2, ge=1, le=64, description="torch CPU threads")


class BaselinesConfig(BaseConfig):
    """Baselines trained and evaluated next to the agent."""

    run: list[Literal["exhaustive", "passive", "random", "no_curriculum", "oracle"]] = Field(
        ["exhaustive", "passive", "random", "no_curriculum", "oracle"],
        description="which baselines the train command runs",
    )
    episodes: int | None = Field(
        None,
        ge=1,
        description="training episodes of the exhaustive, passive and random "
        "baselines (default: the agent's total; no_curriculum always gets the agent's total)",
    )
    level: Literal["one_object", "two_visible", "two_occluded", "mixed"] = Field(
        "mixed", description="level the fixed-policy baselines train on"
    )


class EvalConfig(BaseConfig):
    """Greedy test episodes (paper: 10,000 with seed 1234)."""

    episodes: int = Field(5000, ge=1, description="test episodes per level")
    seed: int = Field(1234, description="test seed (scenes differ from training)")
    levels: list[Literal["one_object", "two_visible", "two_occluded", "mixed"]] = Field(
        ["one_object", "two_visible", "two_occluded", "mixed"], description="levels reported"
    )
    holdout: bool = Field(True, description="also report two-object levels on held-out pairs")


class ObjExistConfig(BaseConfig):
    """Robotic object existence prediction (Li et al., IROS 2021) on a NumPy tabletop."""

    seed: int = Field(0, description="seed of scenes, weights and actions")
    sim: SimConfig = Field(default_factory=SimConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    baselines: BaselinesConfig = Field(default_factory=BaselinesConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    @model_validator(mode="after")
    def _check(self) -> ObjExistConfig:
        if self.model.query_channel and self.sim.observation != "idmap":
            raise ValueError("model.query_channel needs sim.observation=idmap")
        if self.sim.resolution // 2 ** len(self.model.channels) < 1:
            raise ValueError(
                f"{len(self.model.channels)} stride-2 conv layers shrink a "
                f"{self.sim.resolution}px image to nothing; use fewer channels entries"
            )
        return self
