"""ObjExist on one CPU: the Gymnasium env, an oracle episode, then the tiny training run.

Commands (the same steps from the shell):
    ennead objexist render tiny --policy oracle --level two_occluded --out objexist-img
    ennead objexist train tiny --run runs/objexist-tiny        # agent + baselines + evaluation
    ennead objexist evaluate tiny --run runs/objexist-tiny
    ennead objexist render tiny --run runs/objexist-tiny --policy learned --out objexist-img
Run this file: python examples/objexist/run_tiny.py [--train]
"""

import sys

import numpy as np

from ennead.core.config import load_config
from ennead.objexist import ObjExist, ObjExistConfig
from ennead.objexist.shapes import object_index

cfg = load_config(ObjExistConfig, "tiny", package="ennead.objexist")
oe = ObjExist(cfg)

# 1. The environment: ask whether a key is on the table while a laptop hides it.
env = oe.make_env(level="two_occluded")
obs, info = env.reset(
    seed=0, options={"objects": ["laptop", "key"], "query": "key", "occluded": True}
)
# tiny observes the id map (H, W, 22); tiny_rgb observes obs["image"] (H, W, 3)
key = object_index("key")
print("start view:", obs["idmap"].shape, "key rays:", obs["idmap"][..., key].sum())
print("key visible now:", info["query_visible_now"])
for _ in range(3):  # walk left until the key shows up
    obs, reward, term, trunc, info = env.step(0)
    print(f"view {info['view'] * 30:+d} deg, key visible: {info['query_visible_now']}")
    if info["query_visible_now"]:
        break
obs, reward, *_ = env.step(3)  # answer "yes"
print(f"answered yes after {obs['moves']} moves, reward {reward:.3f}")

# 2. A vector env steps many scenes in one NumPy call.
venv = oe.make_env(level="mixed", num_envs=16)
obs, _ = venv.reset(seed=0)
obs, rewards, *_ = venv.step(np.full(16, 2))  # everybody answers "no" at once
print("mean reward of always-no:", rewards.mean())

# 3. Pictures of the geometry oracle, then (with --train) the full tiny run.
print(oe.render("objexist-img", policy="oracle", level="two_occluded", n=3).strip)
if "--train" in sys.argv:
    res = oe.train("runs/objexist-tiny")
    print(res.table)
    print(res.acceptance, res.train_seconds)
