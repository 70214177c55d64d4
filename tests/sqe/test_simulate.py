"""The simulator's identity embeddings: bounded drift, optional shared look, validation."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from ennead.sqe.config import SimulatorConfig
from ennead.sqe.simulate import identity_embeddings


def _self_distance(cfg: SimulatorConfig, n_frames: int = 2000) -> float:
    """Mean cosine distance between an identity's look at the start and at the end."""
    e = identity_embeddings(30, n_frames, cfg, np.random.default_rng(0))
    return float(np.mean(1 - np.einsum("nd,nd->n", e[:, 0], e[:, -1])))


def test_mean_reverting_drift_stays_bounded():
    ou = _self_distance(SimulatorConfig(lookalike=0))
    walk = _self_distance(SimulatorConfig(lookalike=0, drift_time=None))
    # stationary drift size 0.02 / sqrt(1 - exp(-2/50)) ~ 0.1: a person keeps their look
    assert ou < 0.03
    # the unbounded walk has norm ~ 0.02 sqrt(2000) ~ 0.9 by then: far from the start
    assert walk > 0.15


def test_shared_look_brings_identities_closer():
    def inter(cfg: SimulatorConfig) -> float:
        e = identity_embeddings(40, 2, cfg, np.random.default_rng(1))[:, 0]
        d = 1 - e @ e.T
        return float(np.median(d[np.triu_indices(len(e), 1)]))

    assert inter(SimulatorConfig(lookalike=0)) > 0.9
    assert 0.4 < inter(SimulatorConfig(lookalike=0, shared_look=[0.2, 0.7])) < 0.75


def test_shared_look_is_validated():
    with pytest.raises(ValidationError, match="shared_look"):
        SimulatorConfig(shared_look=[0.7, 0.2])
