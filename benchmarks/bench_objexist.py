"""ObjExist simulator speed, in one run: renders/s (one view per call vs a batch of 128), Gymnasium
steps/s of the single env vs the vector env (same actions), and one training update of the
agent (128 episodes). Ratios compare numbers measured in this run only.

Run: python benchmarks/bench_objexist.py [--quick]
The cores may be shared with other jobs: CPU seconds are reported next to wall seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result


def timed(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm-up (ray caches, allocator)
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - w0) / repeat, (time.process_time() - c0) / repeat


def main(quick: bool = False) -> dict[str, object]:
    import torch

    from ennead.objexist.config import ObjExistConfig, SimConfig
    from ennead.objexist.env import ObjExistEnv, ObjExistVecEnv, Tabletop
    from ennead.objexist.rollout import reinforce_loss, rollout
    from ennead.objexist.train import build_net

    torch.set_num_threads(1)
    out: dict[str, object] = {"note": "wall and CPU seconds; shared cores make wall noisy"}
    reps = 2 if quick else 5
    for res, ss in ((48, 1), (64, 2)):
        sim = Tabletop(SimConfig(resolution=res, supersample=ss))
        scenes = sim.sampler.sample(128, "mixed", np.random.default_rng(0))
        views = np.random.default_rng(1).integers(-6, 7, 128)
        one = scenes.take(np.array([0]))
        w1, c1 = timed(
            lambda sim=sim, one=one, views=views: [
                sim.render(one, views[i : i + 1]) for i in range(32)
            ],
            reps,
        )
        wb, cb = timed(lambda sim=sim, sc=scenes, views=views: sim.render(sc, views), reps)
        ws, _ = timed(
            lambda sim=sim: sim.sampler.sample(128, "two_occluded", np.random.default_rng(2)),
            reps,
        )
        out[f"render_{res}px_ss{ss}"] = {
            "single_renders_per_s": round(32 / w1, 1),
            "batched_renders_per_s": round(128 / wb, 1),
            "single_renders_per_cpu_s": round(32 / c1, 1),
            "batched_renders_per_cpu_s": round(128 / cb, 1),
            "batch_speedup_cpu": round((128 / cb) / (32 / c1), 2),
            "occluded_scenes_sampled_per_s": round(128 / ws, 1),
        }
    n, steps = 64, (100 if quick else 300)
    actions = np.random.default_rng(3).integers(0, 4, (steps, n))
    env = ObjExistEnv(resolution=48, supersample=1)

    def run_single() -> None:
        for j in range(n // 8):  # 8 envs' worth of single-env stepping, same action stream
            env.reset(seed=j)
            for t in range(steps // 8):
                _, _, term, trunc, _ = env.step(int(actions[t, j]))
                if term or trunc:
                    env.reset()

    venv = ObjExistVecEnv(num_envs=n, resolution=48, supersample=1)

    def run_vector() -> None:
        venv.reset(seed=0)
        for t in range(steps // 8):
            venv.step(actions[t])

    w_single, c_single = timed(run_single, 1)
    w_vec, c_vec = timed(run_vector, 1)
    single_sps = (n // 8) * (steps // 8) / w_single
    vec_sps = n * (steps // 8) / w_vec
    cpu_ratio = (n * (steps // 8) / c_vec) / ((n // 8) * (steps // 8) / c_single)
    out["env_steps"] = {
        "single_env_steps_per_s": round(single_sps, 1),
        "vector_env_steps_per_s": round(vec_sps, 1),
        "num_envs": n,
        "vector_speedup": round(vec_sps / single_sps, 2),
        "vector_speedup_cpu": round(cpu_ratio, 2),
    }
    cfg = ObjExistConfig()
    cfg.sim.resolution, cfg.sim.supersample = 48, 1
    sim = Tabletop(cfg.sim)
    net = build_net(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    rng = np.random.default_rng(4)

    def update() -> None:
        sc = sim.sampler.sample(128, "mixed", rng)
        ep = rollout(net, sim, sc, "learned", generator=torch.Generator().manual_seed(0))
        loss, _ = reinforce_loss(ep, sc.label, 0.01, 1e-3)
        opt.zero_grad()
        loss.backward()
        opt.step()

    wu, cu = timed(update, reps)
    out["train_update_128_episodes"] = {
        "wall_s": round(wu, 3),
        "cpu_s": round(cu, 3),
        "episodes_per_s": round(128 / wu, 1),
    }
    write_result("objexist", out)
    return out


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
