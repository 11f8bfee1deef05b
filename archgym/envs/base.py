"""The env contract: a DesignSpace, a batch evaluator and an Objective make a Gymnasium env.

Each step proposes one complete design (a `MultiDiscrete` index vector over the DesignSpace).
The observation is the objective's metrics relative to the space's default design (log10 ratio
for metrics with units, difference for fractions; clipped to [-10, 10]) followed by the design
itself in the unit cube. `info` carries the design, the raw metrics and feasibility.
`evaluate(designs)` scores a whole batch in one kernel call, without the RL loop.
"""
from __future__ import annotations

from collections.abc import Mapping

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from archgym.core import validate
from archgym.core.errors import ArchGymError, SimulatorError
from archgym.core.objectives import Objective
from archgym.core.space import DesignSpace
from archgym.envs.evaluator import Evaluator, build_evaluator
from archgym.envs.spaces import action_space, reward_space

OBS_CLIP = 10.0
RENDER_ROW, RENDER_WIDTH = 12, 256  # rgb_array render: pixels per bar, image width


class _Scorer:
    """Shared by the single and vector envs: batch evaluation, reward and observation."""

    def _setup(self, evaluator: Evaluator, objective) -> None:
        self.evaluator = evaluator
        self.space: DesignSpace = evaluator.space
        self.objective = Objective.build(objective, evaluator.objective_defaults)
        self.objective.check_metrics(evaluator.metric_names)
        self._n_obj = len(self.objective.metrics)
        self._nvec = self.space.nvec
        self._default_idx = self.space.to_indices(self.space.default())
        ref = evaluator(self._default_idx[None, :])
        self._ref = self.objective.transform_all(self.objective.stack(ref))[0]
        self._metric_names = list(evaluator.metric_names)
        n_obs = self._n_obj + len(self.space)
        self._obs_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(n_obs,), dtype=np.float32)

    def _score(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        out = self.evaluator(idx)
        if self.space.constraints:  # a broken constraint is a scored infeasible design
            broken = self.space.constraint_mask(idx)
            out = {**out, "feasible": out["feasible"] & ~broken.any(axis=1),
                   "violation": out.get("violation", np.zeros(len(idx))) + broken.sum(axis=1), "_broken": broken}
        values = self.objective.stack(out)
        if not np.isfinite(values).all():  # a NaN reward would rank silently anywhere: stop instead
            row, col = np.argwhere(~np.isfinite(values))[0]
            raise SimulatorError(f"{self.evaluator.describe()} returned {self.objective.metrics[col]} = "
                                 f"{values[row, col]} for design {self.space.design_at(idx[row])}")
        out["reward"] = self.objective.reward_values(values, out["feasible"], out.get("violation"))
        out["_values"] = values
        return out

    def evaluate(self, designs) -> dict[str, np.ndarray]:
        """Score a batch: a list of design dicts or an (n, n_params) index array.
        Returns {metric: array (n,)} plus `reward` ((n,) or (n, k) in vector mode) and `feasible`."""
        out = self._score(self.space.designs_to_indices(designs))
        return {k: v for k, v in out.items() if not k.startswith("_")}

    def _obs(self, out: Mapping[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
        obs = np.empty((len(idx), self._obs_space.shape[0]), dtype=np.float32)
        obs[:, :self._n_obj] = self.objective.transform_all(out["_values"]) - self._ref
        obs[:, self._n_obj:] = (idx + 0.5) / self._nvec
        return np.clip(obs, -OBS_CLIP, OBS_CLIP, out=obs)

    def _check_action(self, action, batch: bool) -> np.ndarray:
        a = np.asarray(action)
        shape = (self.num_envs, len(self._nvec)) if batch else (len(self._nvec),)
        if a.shape != shape or a.dtype.kind not in "iu" or (a < 0).any() or (a >= self._nvec).any():
            return self.space.check_indices(a).reshape(shape)  # raises the precise DesignError
        return a.astype(np.int64, copy=False)


class ArchGymEnv(_Scorer, gym.Env):
    """A Gymnasium env over a DesignSpace. Build one with `gymnasium.make("archgym/...")`."""
    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, evaluator: Evaluator, objective=None, render_mode: str | None = None):
        self._setup(evaluator, objective)
        self.action_space = action_space(self.space)
        self.observation_space = self._obs_space
        if self.objective.mode == "vector":
            self.reward_space = reward_space(self.objective)  # MO-Gymnasium convention
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ArchGymError(f"render_mode must be None, 'ansi' or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self._last: dict | None = None
        self._last_obs: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.action_space.seed(None if seed is None else int(self.np_random.integers(2**31)))
        out = self._score(self._default_idx[None, :])
        self._last = self._last_obs = None
        return self._obs(out, self._default_idx[None, :])[0], self._info(out, self._default_idx)

    def step(self, action):
        idx = self._check_action(action, batch=False)
        out = self._score(idx[None, :])
        reward = out["reward"][0]
        info = self._info(out, idx)
        obs = self._obs(out, idx[None, :])[0]
        self._last, self._last_obs = info, obs
        return obs, reward if reward.ndim else float(reward), False, False, info

    def _info(self, out, idx) -> dict:
        info = {"design": self.space.design_at(idx),
                "metrics": dict(zip(self._metric_names, np.array([out[m][0] for m in self._metric_names]).tolist())),
                "feasible": bool(out["feasible"][0])}
        if "_broken" in out and out["_broken"][0].any():
            info["violated_constraints"] = [c.name for c, b in zip(self.space.constraints, out["_broken"][0]) if b]
        return info

    def render(self):
        if self.render_mode == "rgb_array":
            return self._picture()
        if self.render_mode != "ansi":
            return None
        if self._last is None:
            return "no design evaluated yet"
        d, m = self._last["design"], self._last["metrics"]
        return "design: " + ", ".join(f"{k}={v}" for k, v in d.items()) + "\nmetrics: " + \
            ", ".join(f"{k}={v:.4g}" for k, v in m.items())

    def _picture(self) -> np.ndarray:
        """The last design as an RGB image (uint8, RENDER_ROW px per bar, RENDER_WIDTH px wide): a grey
        bar per parameter (its position among the allowed values), then a bar per objective metric,
        green where it beats the default design and red where it is worse (full width: OBS_CLIP)."""
        n = len(self.space) + self._n_obj
        img = np.full((n * RENDER_ROW, RENDER_WIDTH, 3), 255, dtype=np.uint8)
        if self._last_obs is None:
            return img
        pos, gain = self._last_obs[self._n_obj:], self._last_obs[:self._n_obj] * self.objective._sign
        for i, u in enumerate(pos):
            img[i * RENDER_ROW + 1:(i + 1) * RENDER_ROW - 1, :max(1, int(u * RENDER_WIDTH))] = (110, 110, 110)
        for k, g in enumerate(gain):
            row = (len(pos) + k) * RENDER_ROW
            width = max(1, int(min(abs(g) / OBS_CLIP, 1.0) * RENDER_WIDTH))
            img[row + 1:row + RENDER_ROW - 1, :width] = (40, 160, 60) if g >= 0 else (200, 50, 40)
        return img

    def simulate(self, design: Mapping):
        """Full simulator detail (per layer / per request) for one design dict."""
        return self.evaluator.simulate(self.space.validate(design))


class ArchGymVectorEnv(_Scorer, VectorEnv):
    """N copies of an ArchGymEnv stepped with one batch kernel call (next-step autoreset).

    In `vector` objective mode `reward_space` is one env's reward Box, as MO-Gymnasium's vector envs
    have it (also `single_reward_space`); rewards are (num_envs, k). `info` is per env, in
    Gymnasium's vector layout (arrays over the envs, each with a `_<key>` mask): `feasible`,
    `metrics` ({metric: (num_envs,) array}) and `design_index` ((num_envs, n_params) index array).
    """
    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, evaluator: Evaluator, num_envs: int, objective=None, max_episode_steps: int | None = None):
        num_envs = validate.integer(num_envs, "num_envs", 1, validate.MAX_NUM_ENVS)
        self._setup(evaluator, objective)
        self.num_envs = num_envs
        self.single_action_space = action_space(self.space)
        self.single_observation_space = self._obs_space
        self.action_space = spaces.MultiDiscrete(np.tile(self._nvec, (self.num_envs, 1)))
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(self.num_envs, self._obs_space.shape[0]), dtype=np.float32)
        if self.objective.mode == "vector":
            self.reward_space = self.single_reward_space = reward_space(self.objective)
        self.max_episode_steps = max_episode_steps
        self._steps = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._steps[:] = 0
        self._needs_reset[:] = False
        idx = np.tile(self._default_idx, (self.num_envs, 1))
        out = self._score(idx)
        return self._obs(out, idx), self._infos(out, idx)

    def step(self, actions):
        idx = self._check_action(actions, batch=True)
        restart = self._needs_reset
        if restart.any():  # next-step autoreset: these envs start a new episode at the default design, action ignored
            idx = np.where(restart[:, None], self._default_idx, idx)
        out = self._score(idx)
        obs = self._obs(out, idx)
        reward = np.array(out["reward"], dtype=np.float64)
        reward[restart] = 0.0
        self._steps += 1
        self._steps[restart] = 0
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncated = (self._steps >= self.max_episode_steps) & ~restart
        terminated = np.zeros(self.num_envs, dtype=bool)
        self._needs_reset = truncated.copy()
        return obs, reward, terminated, truncated, self._infos(out, idx)

    def _infos(self, out, idx) -> dict:
        every = np.ones(self.num_envs, dtype=bool)
        metrics = {m: np.asarray(out[m]) for m in self._metric_names}
        return {"feasible": np.asarray(out["feasible"]), "_feasible": every,
                "metrics": {**metrics, **{f"_{m}": every for m in metrics}}, "_metrics": every,
                "design_index": idx, "_design_index": every}


def make_env(evaluator: str | type | Evaluator, objective=None, render_mode=None, simulator: str | None = None,
             **kwargs) -> ArchGymEnv:
    """Gymnasium entry point: `evaluator` is 'module:Class' (set in envs.yaml); other kwargs go to it.
    `simulator="proxy:PATH"` replaces the simulator's metrics with a trained proxy (archgym.envs.proxy)."""
    return ArchGymEnv(_with_simulator(build_evaluator(evaluator, **kwargs), simulator), objective=objective,
                      render_mode=render_mode)


def make_vector_env(num_envs: int, evaluator: str | type | Evaluator, objective=None,
                    max_episode_steps: int | None = None, simulator: str | None = None, **kwargs) -> ArchGymVectorEnv:
    """Gymnasium vector entry point: N envs, one batch kernel call per step."""
    return ArchGymVectorEnv(_with_simulator(build_evaluator(evaluator, **kwargs), simulator), num_envs, objective,
                            max_episode_steps)


def _with_simulator(evaluator: Evaluator, simulator: str | None) -> Evaluator:
    if simulator is None:
        return evaluator
    from archgym.envs.proxy import wrap_evaluator
    return wrap_evaluator(evaluator, simulator)
