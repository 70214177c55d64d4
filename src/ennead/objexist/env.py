"""Gymnasium environments: one scene (:class:`ObjExistEnv`) and N scenes in one NumPy call
(:class:`ObjExistVecEnv`). Registered lazily as ``ennead/ObjExist-v0`` by :func:`register_envs`.

Observation: ``image`` (H, W, 3) uint8 (``observation="rgb"``) or ``idmap`` (H, W, 22) float32
(``observation="idmap"``: the ray caster's id map, one-hot over 21 objects + table), ``query``
(object index 0-20), ``moves`` made so far, and ``depth`` (H, W) float32 when ``depth=True``.
Actions: 0 move left (-30 degrees), 1 move right (+30 degrees), 2 answer "no", 3 answer "yes".
Answering ends the episode with reward ``(+1 if right else -1) + 1 / (moves + 2)`` (the paper's
accuracy plus latency reward). Moving gives 0. With the move budget spent, a move truncates the
episode with reward -1 (no answer); ``info["action_mask"]`` says which actions are allowed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ennead.core.errors import ConfigError
from ennead.core.imports import require
from ennead.objexist.config import SimConfig
from ennead.objexist.render import ID_CHANNELS, Frame, Renderer, idmap_picture
from ennead.objexist.scenes import LEVELS, PAIR_MODES, Scenes, SceneSampler
from ennead.objexist.shapes import N_OBJECTS, OBJECT_NAMES

gym = require("gymnasium", "objexist", "the ObjExist environment")
from gymnasium import spaces  # noqa: E402
from gymnasium.vector import AutoresetMode, VectorEnv  # noqa: E402
from gymnasium.vector.utils import batch_space  # noqa: E402

ENV_ID = "ennead/ObjExist-v0"
LEFT, RIGHT, ANSWER_NO, ANSWER_YES = 0, 1, 2, 3
ACTION_NAMES = ("left", "right", "no", "yes")
TRUNCATED_REWARD = -1.0  # a move with the budget spent: the episode ends without an answer


def answer_reward(correct: Any, moves: Any) -> Any:
    """The paper's reward on answering: +1 right / -1 wrong, plus 1 / (moves + 2) for latency.

    The one definition used by both environments and by training; works on scalars and arrays.
    """
    return np.where(correct, 1.0, -1.0) + 1.0 / (np.asarray(moves) + 2)


class Tabletop:
    """The simulator shared by both environments and by training: renderer plus scene sampler."""

    def __init__(self, sim: SimConfig | None = None):
        self.cfg = sim or SimConfig()
        self.renderer = Renderer(self.cfg.resolution, self.cfg.fov_deg, self.cfg.supersample)
        self.sampler = SceneSampler(
            self.renderer,
            min_pixels=self.cfg.min_pixels,
            holdout_seed=self.cfg.holdout_seed,
            holdout_per_type=self.cfg.holdout_per_type,
        )

    @property
    def obs_key(self) -> str:
        """The observation key of the view: ``image`` (rgb) or ``idmap``."""
        return "idmap" if self.cfg.observation == "idmap" else "image"

    @property
    def channels(self) -> int:
        """Input channels of the network: 3 (rgb) or 22 (idmap), plus 1 with depth."""
        return (ID_CHANNELS if self.cfg.observation == "idmap" else 3) + int(self.cfg.depth)

    def view_space(self) -> spaces.Box:
        r = self.cfg.resolution
        if self.cfg.observation == "idmap":
            return spaces.Box(0.0, 1.0, (r, r, ID_CHANNELS), np.float32)
        return spaces.Box(0, 255, (r, r, 3), np.uint8)

    def observation_space(self) -> spaces.Dict:
        r = self.cfg.resolution
        parts: dict[str, spaces.Space[Any]] = {
            self.obs_key: self.view_space(),
            "query": spaces.Discrete(N_OBJECTS),
            "moves": spaces.Discrete(self.cfg.max_moves + 1),
        }
        if self.cfg.depth:
            parts["depth"] = spaces.Box(0.0, 10.0, (r, r), np.float32)
        return spaces.Dict(parts)

    def render(self, scenes: Scenes, views: np.ndarray, shade: bool | None = None) -> Frame:
        """Ray-cast the views; shading (colours, depth) is skipped when the observation does not
        need it (an id map without depth), unless ``shade=True``."""
        if shade is None:
            shade = self.cfg.observation == "rgb" or self.cfg.depth
        return self.renderer.render(scenes.prims(), views, shade=shade)

    def observe(self, frame: Frame) -> np.ndarray:
        """The view observation of each rendered scene: (N, H, W, 3) uint8 or (N, H, W, 22)."""
        return frame.idmap() if self.cfg.observation == "idmap" else frame.rgb

    def picture(self, frame: Frame) -> np.ndarray:
        """What the agent sees, drawable: the RGB image, or the id map in palette colours."""
        return idmap_picture(frame.idmap()) if self.cfg.observation == "idmap" else frame.rgb

    def query_visible(self, frame: Frame, scenes: Scenes) -> np.ndarray:
        px = frame.pixels_of(scenes.query[:, None])[:, 0]
        return scenes.label & (px >= self.cfg.min_pixels)


def _check_options(level: str, pairs: str) -> None:
    if level not in LEVELS:
        from ennead.core.errors import UnknownNameError

        raise UnknownNameError("level", level, LEVELS)
    if pairs not in PAIR_MODES:
        from ennead.core.errors import UnknownNameError

        raise UnknownNameError("pair mode", pairs, PAIR_MODES)


def _check_action(action: Any, n_actions: int = 4) -> int:
    try:
        a = int(action)
        ok = a == action
    except (TypeError, ValueError):
        ok = False
    if not ok or not 0 <= a < n_actions:
        raise ConfigError(
            f"invalid action {action!r}; allowed: 0 (left), 1 (right), 2 (answer no), "
            "3 (answer yes)"
        )
    return a


class ObjExistEnv(gym.Env[dict[str, Any], int]):
    """Is the queried object on the table? Move around it or answer.

    Args:
        level: one_object, two_visible, two_occluded or mixed (curriculum levels L1-L4).
        pairs: train (no held-out pairs), holdout (only held-out pairs) or all.
        render_mode: None or "rgb_array" (the current view, upscaled 4x).
        **sim: any :class:`~ennead.objexist.config.SimConfig` field (resolution, max_moves, ...).

    ``reset(options={"objects": [...], "query": name, "occluded": bool})`` builds a custom scene.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(
        self, level: str = "mixed", pairs: str = "train", render_mode: str | None = None, **sim: Any
    ):
        _check_options(level, pairs)
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array'; got {render_mode!r}")
        from ennead.core.config import validation_to_config_error

        try:
            cfg = SimConfig(**sim)
        except Exception as exc:
            from pydantic import ValidationError

            if isinstance(exc, ValidationError):
                raise validation_to_config_error(SimConfig, exc) from None
            raise
        self.level, self.pairs, self.render_mode = level, pairs, render_mode
        self.sim = Tabletop(cfg)
        self.observation_space = self.sim.observation_space()
        self.action_space = spaces.Discrete(4)
        self._scene: Scenes | None = None
        self._frame: Frame | None = None
        self._view = 0
        self._moves = 0
        self._done = True

    @property
    def scene(self) -> Scenes:
        if self._scene is None:
            raise ConfigError("call reset() before using the environment")
        return self._scene

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        if "objects" in options:
            query = options.pop("query", None)
            if query is None:
                raise ConfigError("a custom scene needs 'query' next to 'objects'")
            self._scene = self.sim.sampler.custom(
                list(options.pop("objects")), query, self.np_random, options.pop("occluded", None)
            )
        else:
            level = options.pop("level", self.level)
            _check_options(level, self.pairs)
            self._scene = self.sim.sampler.sample(1, level, self.np_random, self.pairs)  # type: ignore[arg-type]
        if options:
            raise ConfigError(
                f"unknown reset options {sorted(options)}; allowed: level, objects, query, occluded"
            )
        self._view, self._moves, self._done = 0, 0, False
        self._frame = self.sim.render(self.scene, np.array([0]))
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        a = _check_action(action)
        if self._done:
            raise ConfigError("the episode has ended; call reset() before step()")
        scene = self.scene
        if a in (ANSWER_NO, ANSWER_YES):
            correct = (a == ANSWER_YES) == bool(scene.label[0])
            reward = float(answer_reward(correct, self._moves))
            self._done = True
            info = self._info()
            info.update(answer=bool(a == ANSWER_YES), correct=correct)
            return self._obs(), reward, True, False, info
        if self._moves >= self.sim.cfg.max_moves:
            self._done = True
            info = self._info()
            info.update(answer=None, correct=False)
            return self._obs(), TRUNCATED_REWARD, False, True, info
        self._view += -1 if a == LEFT else 1
        self._moves += 1
        self._frame = self.sim.render(scene, np.array([self._view]))
        return self._obs(), 0.0, False, False, self._info()

    def _obs(self) -> dict[str, Any]:
        assert self._frame is not None
        obs: dict[str, Any] = {
            self.sim.obs_key: self.sim.observe(self._frame)[0].copy(),
            "query": int(self.scene.query[0]),
            "moves": self._moves,
        }
        if self.sim.cfg.depth:
            obs["depth"] = np.clip(self._frame.depth[0], 0, 10)
        return obs

    def _info(self) -> dict[str, Any]:
        assert self._frame is not None
        s = self.scene
        can_move = self._moves < self.sim.cfg.max_moves
        return {
            "label": bool(s.label[0]),
            "occluded": bool(s.occluded[0]),
            "n_objects": int(s.n_objects[0]),
            "objects": [OBJECT_NAMES[o] for o in s.objects[0] if o >= 0],
            "query_name": OBJECT_NAMES[int(s.query[0])],
            "query_visible_now": bool(self.sim.query_visible(self._frame, s)[0]),
            "view": self._view,
            "moves": self._moves,
            "action_mask": np.array([can_move, can_move, True, True], dtype=np.int8),
        }

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        if self.render_mode is None or self._frame is None:
            return None
        return np.kron(self.sim.picture(self._frame)[0], np.ones((4, 4, 1), np.uint8))


class ObjExistVecEnv(VectorEnv):  # type: ignore[type-arg]
    """N independent episodes stepped together; renders all moved cameras in one NumPy call.

    Autoreset follows Gymnasium's default (next step): the step after an episode ends resets
    that slot and ignores its action.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 8, level: str = "mixed", pairs: str = "train", **sim: Any):
        _check_options(level, pairs)
        if num_envs < 1:
            raise ConfigError(f"num_envs must be >= 1; got {num_envs}")
        self.num_envs = num_envs
        self.level, self.pairs = level, pairs
        self.sim = Tabletop(SimConfig(**sim))
        self.single_observation_space = self.sim.observation_space()
        self.single_action_space = spaces.Discrete(4)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rng = np.random.default_rng()
        self._scenes: Scenes | None = None
        self._views = np.zeros(num_envs, np.int64)
        self._moves = np.zeros(num_envs, np.int64)
        self._needs_reset = np.zeros(num_envs, bool)
        space = self.sim.view_space()
        self._view_obs = np.zeros((num_envs, *space.shape), space.dtype)
        self._depth = np.zeros(
            (num_envs, self.sim.cfg.resolution, self.sim.cfg.resolution), np.float32
        )

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if isinstance(seed, list):
            seed = seed[0]
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if options:
            raise ConfigError(f"the vector env takes no reset options; got {sorted(options)}")
        self._scenes = self.sim.sampler.sample(self.num_envs, self.level, self._rng, self.pairs)  # type: ignore[arg-type]
        self._views[:] = 0
        self._moves[:] = 0
        self._needs_reset[:] = False
        self._draw(np.arange(self.num_envs))
        return self._obs(), self._infos()

    def _draw(self, rows: np.ndarray) -> None:
        assert self._scenes is not None
        if len(rows) == 0:
            return
        frame = self.sim.render(self._scenes.take(rows), self._views[rows])
        self._view_obs[rows] = self.sim.observe(frame)
        if self.sim.cfg.depth:
            self._depth[rows] = np.clip(frame.depth, 0, 10)

    def step(
        self, actions: Any
    ) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._scenes is None:
            raise ConfigError("call reset() before step()")
        acts = np.asarray(actions).reshape(-1)
        if acts.shape != (self.num_envs,):
            raise ConfigError(f"expected {self.num_envs} actions; got shape {np.shape(actions)}")
        acts = np.array([_check_action(a) for a in acts])
        n = self.num_envs
        reward = np.zeros(n, np.float64)
        term = np.zeros(n, bool)
        trunc = np.zeros(n, bool)
        resetting = np.nonzero(self._needs_reset)[0]
        live = ~self._needs_reset
        answer = live & (acts >= ANSWER_NO)
        move = live & (acts <= RIGHT)
        over = move & (self._moves >= self.sim.cfg.max_moves)
        move &= ~over
        label = self._scenes.label
        correct = (acts == ANSWER_YES) == label
        reward[answer] = answer_reward(correct[answer], self._moves[answer])
        term[answer] = True
        reward[over] = TRUNCATED_REWARD
        trunc[over] = True
        self._views[move] += np.where(acts[move] == LEFT, -1, 1)
        self._moves[move] += 1
        if len(resetting):
            fresh = self.sim.sampler.sample(len(resetting), self.level, self._rng, self.pairs)  # type: ignore[arg-type]
            self._scenes = _replace(self._scenes, resetting, fresh)
            self._views[resetting] = 0
            self._moves[resetting] = 0
        self._draw(np.nonzero(move)[0])
        self._draw(resetting)
        self._needs_reset = term | trunc
        infos = self._infos()
        infos["correct"] = answer & correct
        return self._obs(), reward, term, trunc, infos

    def _obs(self) -> dict[str, Any]:
        assert self._scenes is not None
        obs = {
            self.sim.obs_key: self._view_obs.copy(),
            "query": self._scenes.query.copy(),
            "moves": self._moves.copy(),
        }
        if self.sim.cfg.depth:
            obs["depth"] = self._depth.copy()
        return obs

    def _infos(self) -> dict[str, Any]:
        assert self._scenes is not None
        return {
            "label": self._scenes.label.copy(),
            "occluded": self._scenes.occluded.copy(),
            "n_objects": self._scenes.n_objects.copy(),
            "moves": self._moves.copy(),
        }


def _replace(scenes: Scenes, rows: np.ndarray, fresh: Scenes) -> Scenes:
    out = Scenes.concat([scenes, fresh])  # pads both to the same object count
    idx = np.arange(len(scenes))
    idx[rows] = len(scenes) + np.arange(len(rows))
    return out.take(idx)


def register_envs() -> str:
    """Register ``ennead/ObjExist-v0`` with Gymnasium (idempotent) and return the id."""
    if ENV_ID not in gym.registry:
        gym.register(
            id=ENV_ID,
            entry_point="ennead.objexist.env:ObjExistEnv",
            vector_entry_point="ennead.objexist.env:ObjExistVecEnv",
        )
    return ENV_ID
