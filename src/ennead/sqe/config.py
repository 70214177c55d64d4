"""Configs of the SQE system (field descriptions are the docs).

Defaults follow the spec (``shared/specs/sqe.md``): ``k1 = 1``, ``k2 = 10``, ``T_len = 10`` frames,
``M = 50`` features per track, a 2-component mixture with ``w_min = 0.1``. The distance thresholds
default to ``auto``: they are derived from the sequence's own detections without ground truth
(see :mod:`ennead.sqe.score`), using the spec's rule ``T_dif = T_sim = 0.5 x (inter - intra)``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ennead.core.config import BaseConfig


class MetricConfig(BaseConfig):
    """The SQE score: ``SQE = n L / (n + k1 L + k2 (fp + dif + sim))``."""

    k1: float = Field(1.0, gt=0, description="weight of the mean track length L (speed/density).")
    k2: float = Field(10.0, ge=0, description="weight of the error count fp + dif + sim.")
    t_len: int = Field(10, ge=1, description="T_len: tracks shorter than this may be false.")
    t_std: float | Literal["auto", "long_tracks"] = Field(
        "auto",
        description="T_std: std of within-track distances above which a short track is false; "
        "'auto' = std_scale x robust std of same-person distances of the sequence's boxes; "
        "'long_tracks' = the spec's 90th percentile of that std over long tracks of the output.",
    )
    t_dif: float | Literal["auto"] = Field(
        "auto",
        description="T_dif: mixture mean gap within a track that flags an identity switch; "
        "'auto' = gap_scale x (inter - intra) of the sequence's detections.",
    )
    t_sim: float | Literal["auto"] = Field(
        "auto",
        description="T_sim: mixture mean gap between two tracks that flags a shared identity; "
        "'auto' as for t_dif.",
    )
    t_same: float | Literal["auto"] | None = Field(
        "auto",
        description="T_same: mean between-track distance below which two tracks are one target "
        "(pure fragments); 'auto' = intra + same_scale x (inter - intra); null disables.",
    )
    gap_scale: float = Field(0.5, gt=0, description="auto T_dif/T_sim as a share of inter-intra.")
    std_scale: float = Field(
        3.0, gt=0, description="auto T_std as a multiple of the robust intra std (calibrated)."
    )
    same_scale: float = Field(0.5, gt=0, description="auto T_same as a share of inter-intra.")
    fp_rule: Literal["and", "or"] = Field(
        "and", description="false track = short AND noisy (paper reading) or short OR noisy."
    )
    max_features: int = Field(50, ge=2, description="M: features kept per track (evenly spaced).")
    pair_features: int = Field(
        20, ge=2, description="features per track in the between-track stage (m x m distances)."
    )
    min_pairs: int = Field(6, ge=3, description="fewest distances to fit a 2-component mixture.")
    w_min: float = Field(0.1, ge=0, lt=0.5, description="smallest weight of a real component.")
    max_gap: int | None = Field(
        None,
        ge=0,
        description="compare two tracks only if the frame gap between them is at most "
        "this (null = all pairs).",
    )
    max_overlap: int | None = Field(
        None,
        ge=0,
        description="skip track pairs that share more frames than this (they are two "
        "people at once); null = no limit.",
    )
    count_after_fp: bool = Field(
        False, description="compute n and L after removing false tracks (spec default: before)."
    )
    gmm: Literal["numpy", "sklearn"] = Field(
        "numpy", description="mixture fitter: batched NumPy EM (fast) or sklearn GaussianMixture."
    )
    gmm_iters: int = Field(100, ge=1, description="EM iterations (numpy fitter).")
    seed: int = Field(0, description="seed for subsampling and the sklearn fitter.")


class TrackerConfig(BaseConfig):
    """The online tracker (Kalman motion, IoU + appearance cost, Hungarian assignment)."""

    appearance_thresh: float = Field(
        0.3, ge=0, le=2, description="largest cosine distance to a track's feature for a match."
    )
    iou_thresh: float = Field(0.3, ge=0, le=1, description="smallest IoU for a motion match.")
    max_age: int = Field(30, ge=0, description="frames a lost track is kept before it dies.")
    min_hits: int = Field(3, ge=1, description="consecutive hits before a track is confirmed.")
    appearance_weight: float = Field(
        0.7, ge=0, le=1, description="share of appearance in the cost (rest is 1 - IoU)."
    )
    ema: float = Field(0.9, ge=0, lt=1, description="momentum of the track's feature average.")
    gating: float = Field(
        9.4877, gt=0, description="squared Mahalanobis gate (chi2 0.95, 4 dof) for lost tracks."
    )
    iou_fallback: bool = Field(
        True, description="second pass: match tracks seen last frame to leftovers by IoU only."
    )
    det_thresh: float = Field(0.0, ge=0, le=1, description="ignore detections below this score.")


class SimulatorConfig(BaseConfig):
    """The seeded sequence simulator (people walking, crossings, occlusions, noisy embeddings)."""

    n_frames: int = Field(300, ge=10, description="frames per sequence.")
    n_people: int = Field(20, ge=1, description="identities per sequence.")
    width: int = Field(1280, ge=64, description="image width in pixels.")
    height: int = Field(720, ge=64, description="image height in pixels.")
    p_detect: float = Field(0.9, ge=0, le=1, description="detection probability when visible.")
    jitter: float = Field(0.05, ge=0, description="box noise std as a share of box height.")
    false_per_frame: float = Field(0.3, ge=0, description="mean new clutter boxes per frame.")
    dim: int = Field(64, ge=4, description="embedding dimension.")
    noise: float = Field(0.35, ge=0, description="per-detection embedding noise (norm).")
    drift: float = Field(0.02, ge=0, description="per-frame step of an identity's look drift.")
    drift_time: float | None = Field(
        50.0,
        gt=0,
        description="time constant in frames of the mean-reverting (Ornstein-Uhlenbeck) drift "
        "(stationary size drift / sqrt(1 - exp(-2/drift_time))); null = unbounded random walk.",
    )
    shared_look: list[float] = Field(
        default_factory=lambda: [0.0, 0.0],
        description="[low, high] share of a common 'person' look per identity (uniform); two "
        "identities' prototypes have cosine about sqrt(s_a s_b). [0, 0] = unrelated prototypes.",
    )
    lookalike: float = Field(0.25, ge=0, le=1, description="share of identities with a twin.")
    lookalike_noise: float = Field(0.6, ge=0, description="how far a twin is from its original.")
    occlusion_mix: float = Field(
        0.6, ge=0, description="how much an occluder's look leaks into an occluded feature."
    )
    fps: float = Field(25.0, gt=0, description="frame rate written to seqinfo.")
    motion: Literal["street", "crowd"] = Field(
        "street",
        description="'street': people walk left or right in a shared band (the calibration "
        "setting); 'crowd': any heading, slow random turns, bounce off the image border.",
    )
    appearance: Literal["prototype", "reid"] = Field(
        "prototype",
        description="'prototype': features as set by noise/shared_look (defaults: near-orthogonal "
        "people); 'reid': shared look and noise derived from reid_same/reid_diff so that "
        "same-person and different-person cosine similarities overlap as a ReID network's do.",
    )
    reid_same: float = Field(
        0.75, gt=0, lt=1, description="'reid': mean cosine similarity of two boxes of one person."
    )
    reid_diff: list[float] = Field(
        default_factory=lambda: [0.2, 0.55],
        description="'reid': [low, high] range of the mean cosine similarity of two different "
        "people (per identity pair, before noise); must stay below reid_same.",
    )
    reid_quality: float = Field(
        0.35,
        ge=0,
        description="'reid': std of the log of a per-box noise factor (blur, crop, pose): heavier "
        "tails than the prototype model's per-identity noise.",
    )

    @model_validator(mode="after")
    def _check_shared_look(self) -> SimulatorConfig:
        lo_hi = self.shared_look
        if len(lo_hi) != 2 or not 0 <= lo_hi[0] <= lo_hi[1] < 1:
            raise ValueError(
                f"simulator.shared_look: want [low, high] with 0 <= low <= high < 1, got {lo_hi}"
            )
        lo, hi = (self.reid_diff + [0.0, 0.0])[:2]
        if len(self.reid_diff) != 2 or not 0 <= lo <= hi < self.reid_same:
            raise ValueError(
                "simulator.reid_diff: want [low, high] with 0 <= low <= high < reid_same "
                f"({self.reid_same}), got {self.reid_diff}"
            )
        return self


class SearchConfig(BaseConfig):
    """Self-optimisation: which tracker parameters to search and how."""

    method: Literal["grid", "tpe"] = Field("grid", description="grid sweep or optuna TPE.")
    space: dict[str, list[float]] = Field(
        default_factory=lambda: {"appearance_thresh": [0.05, 0.95, 0.05]},
        description="parameter -> [low, high, step] (inclusive grid; TPE samples the range).",
    )
    n_trials: int = Field(30, ge=1, description="TPE trials per sequence.")
    workers: int = Field(1, ge=1, description="sequences searched in parallel (processes).")

    @model_validator(mode="after")
    def _check_space(self) -> SearchConfig:
        allowed = set(TrackerConfig.model_fields) - {"iou_fallback"}
        for name, spec in self.space.items():
            if name not in allowed:
                raise ValueError(
                    f"search.space: {name!r} is not a tracker parameter; allowed: "
                    + ", ".join(sorted(allowed))
                )
            if len(spec) != 3 or spec[2] <= 0 or spec[1] < spec[0]:
                raise ValueError(f"search.space.{name}: want [low, high, step>0], got {spec}")
        return self


StudyScore = Literal["sqe", "errors", "nl"]
STUDY_SCORES: tuple[StudyScore, ...] = ("sqe", "errors", "nl")


class StudyGroup(BaseConfig):
    """A set of sequences of one kind in the tuning study (simulator overrides apply to all)."""

    name: str = Field(description="short label used in tables.")
    sequences: list[str] = Field(description="'sim:<seed>', 'tud:campus', ... (as `sequences`).")
    simulator: dict[str, Any] = Field(
        default_factory=dict, description="overrides of the `simulator` section for this group."
    )


def _study_groups() -> list[StudyGroup]:
    seeds = list(range(100, 110))
    return [
        StudyGroup(name="street", sequences=[f"sim:{s}" for s in seeds]),
        StudyGroup(
            name="crowd", sequences=[f"sim:{s + 100}" for s in seeds], simulator={"motion": "crowd"}
        ),
        StudyGroup(
            name="shared_look",
            sequences=[f"sim:{s + 200}" for s in seeds],
            simulator={"shared_look": [0.2, 0.7]},
        ),
        StudyGroup(
            name="reid",
            sequences=[f"sim:{s + 300}" for s in seeds],
            simulator={"appearance": "reid"},
        ),
        StudyGroup(name="tud", sequences=["tud:campus", "tud:stadtmitte"]),
    ]


class StudyConfig(BaseConfig):
    """``tune-study``: does choosing parameters per sequence by SQE beat fixed settings?"""

    groups: list[StudyGroup] = Field(
        default_factory=_study_groups,
        description="kinds of sequences; only 'street' matches the metric's calibration setting.",
    )
    params: dict[str, list[float]] = Field(
        default_factory=lambda: {
            "appearance_thresh": [0.05, 0.95, 0.05],
            "max_age": [5.0, 60.0, 5.0],
        },
        description="tracker parameter -> [low, high, step]; each swept alone, the others at "
        "the tracker defaults (the default value must lie on the grid).",
    )
    scores: list[StudyScore] = Field(
        default_factory=lambda: list(STUDY_SCORES),
        description="selection scores: the full SQE, the error count alone -(fp+dif+sim), the "
        "n L / (n + k1 L) term alone (ablations).",
    )
    margin: float = Field(
        0.0,
        ge=0,
        description="keep the default unless the best score beats the default's by this "
        "relative margin (0 = plain argmax, the paper's rule).",
    )
    bootstrap: int = Field(10000, ge=100, description="paired bootstrap resamples.")
    seed: int = Field(0, description="bootstrap seed.")
    workers: int = Field(1, ge=1, description="sequences swept in parallel (processes).")

    @model_validator(mode="after")
    def _check_params(self) -> StudyConfig:
        SearchConfig(space=self.params)  # same rules as search.space
        return self


class SQEConfig(BaseConfig):
    """Everything the SQE system needs: data, tracker, metric, search and evaluation."""

    sequences: list[str] = Field(
        default_factory=lambda: [f"sim:{s}" for s in range(100, 105)],
        description="'sim:<seed>', 'tud:campus', 'tud:stadtmitte' or a MOTChallenge folder.",
    )
    metric: MetricConfig = Field(default_factory=MetricConfig, description="the SQE score.")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="tracker defaults.")
    simulator: SimulatorConfig = Field(
        default_factory=SimulatorConfig, description="simulated sequences and TUD features."
    )
    search: SearchConfig = Field(default_factory=SearchConfig, description="self-optimisation.")
    study: StudyConfig = Field(default_factory=StudyConfig, description="the tuning study.")
    eval_iou: float = Field(0.5, gt=0, le=1, description="IoU for GT matching (MOTA, IDF1).")
    seed: int = Field(0, description="seed for simulated TUD detections and features.")
    out: str = Field("runs", description="where run folders go.")
