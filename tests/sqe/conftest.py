"""Shared fixtures: small seeded sequences and the root CLI with the sqe sub-app mounted."""

from __future__ import annotations

import numpy as np
import pytest

from ennead.sqe.config import SimulatorConfig
from ennead.sqe.mot import Boxes


@pytest.fixture(scope="session")
def small_seq():
    from ennead.sqe.simulate import simulate_sequence

    return simulate_sequence(7, SimulatorConfig(n_frames=120, n_people=8))


def make_track(rng, proto, n, track_id, start=1, noise=0.2, dim=32):
    """A track of ``n`` boxes whose features are ``proto`` plus noise."""
    feats = proto[None, :] + noise * rng.normal(size=(n, dim)) / np.sqrt(dim)
    frames = np.arange(start, start + n)
    boxes = np.tile([100.0, 100.0, 40.0, 100.0], (n, 1))
    boxes[:, 0] += 3 * np.arange(n)
    return frames, np.full(n, track_id), boxes, feats


def join(*parts) -> Boxes:
    f, i, b, x = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return Boxes(f, i, b, np.ones(len(f)), x)


@pytest.fixture()
def root_cli():
    """The root ``ennead`` app with ``sqe`` mounted (also when the entry point is not installed)."""
    from ennead.core.cli.app import app
    from ennead.sqe.cli import app as sqe_app

    names = {g.name for g in app.registered_groups}
    if "sqe" not in names:
        app.add_typer(sqe_app, name="sqe")
    return app
