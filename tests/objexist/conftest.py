"""Shared fixtures: a small simulator and the root CLI with the objexist sub-app mounted."""

import numpy as np
import pytest

from ennead.objexist.config import SimConfig
from ennead.objexist.env import Tabletop
from ennead.objexist.scenes import Scenes
from ennead.objexist.shapes import object_index


@pytest.fixture(scope="session")
def sim():
    return Tabletop(SimConfig(resolution=48, supersample=1))


@pytest.fixture(scope="session")
def cli_app():
    """The root app; mounts objexist when its entry point is not installed yet."""
    from ennead.core.cli.app import app
    from ennead.core.systems import systems

    if "objexist" not in systems.names():
        systems.register("objexist", "ennead.objexist.spec:SPEC")
    if not any(g.name == "objexist" for g in app.registered_groups):
        from ennead.objexist.cli import app as sub

        app.add_typer(sub, name="objexist")
    return app


def make_scene(objects, positions, yaws=None, query=None):
    """A hand-placed scene (no rejection sampling)."""
    objs = [object_index(o) for o in objects]
    k = len(objs)
    q = object_index(query) if query is not None else objs[0]
    return Scenes(
        query=np.array([q]),
        label=np.array([q in objs]),
        objects=np.array([objs]),
        pos=np.array([positions], float),
        yaw=np.array([yaws or [0.0] * k], float),
        occluded=np.array([False]),
        level=np.array([-1]),
        start_pixels=np.zeros((1, k), np.int64),
    )
