"""Reinforcement learning: Stable-Baselines3 PPO, A2C and DQN trained on the env itself.

Each env step proposes one design and is one evaluation. `search(env, budget)` trains for exactly
`budget` steps (`total_timesteps=budget`, and a callback stops a rollout that would overshoot); a
wrapper records every step into the same History the ask/tell agents produce. Episode resets
re-score the default design for the first observation and are not counted. In `vector` objective
mode the policy learns from the scalarised reward.

A proposal does not change what the next design will score, so design search is a contextual bandit:
the discount `gamma` defaults to 0 (on the enumerable systolic env, PPO with gamma 0.9 missed the
optimum by 8-33% after 1,000 steps on three seeds; with gamma 0 it reached it on five of five).
"""
from __future__ import annotations

from time import perf_counter
from dataclasses import dataclass
from typing import ClassVar

import gymnasium as gym
import numpy as np

from agents.base import Agent, Recorder, UnsupportedSpaceError, check_budget, check_seed
from agents.config import AgentConfig, HyperParameterError, hp
from archgym.core.errors import ArchGymError
from archgym.threads import one_torch_thread


@dataclass(frozen=True)
class EpisodeConfig(AgentConfig):
    """Every RL agent's episode length: designs proposed before the env resets to the default."""
    episode_steps: int = hp(32, 1, 100_000, log=True, help="designs proposed per episode")


class StepRecorder(gym.Wrapper):
    """Records every step (design, metrics, reward, feasibility, simulation time) and scalarises
    the reward; `callback(batch)` sees each step as a one-row History."""

    def __init__(self, env: gym.Env, callback=None):
        super().__init__(env)
        base = env.unwrapped
        self.objective = base.objective
        self.recorder = Recorder(base.space, base.objective)
        self.callback = callback

    def step(self, action):
        t0 = perf_counter()
        obs, reward, terminated, truncated, info = self.env.step(action)
        dt = perf_counter() - t0
        out = {k: np.array([v]) for k, v in info["metrics"].items()}
        out.update(reward=np.asarray(reward, dtype=np.float64)[None], feasible=np.array([info["feasible"]]))
        batch = self.recorder.add(np.asarray(action, dtype=np.int64)[None], out, dt, 0.0)
        if self.callback is not None:
            self.callback(batch)
        return obs, float(batch.score[0]), terminated, truncated, info


class SteppingAgent(Agent):
    """Base of the RL agents: `search` wraps the env (recording, scalar reward, episodes of
    `episode_steps`) and hands it to `_learn`, which must take exactly `budget` steps."""
    steps_env = True

    def _ask(self, *_):
        raise ArchGymError(f"agent {self.name!r} learns by stepping the env; call search(env, budget) instead of ask/tell")

    _tell = _ask

    def _learn(self, env: gym.Env, rec: StepRecorder, budget: int, seed: int) -> None:
        raise NotImplementedError

    def search(self, env, budget, seed=None, callback=None):
        budget = check_budget(budget)
        seed = self.seed if seed is None else check_seed(seed)
        self.reset(env.unwrapped.space, env.unwrapped.objective, budget, seed)
        rec = StepRecorder(env, callback)
        start = perf_counter()
        with one_torch_thread():
            self._learn(gym.wrappers.TimeLimit(rec, max_episode_steps=self.config.episode_steps), rec, budget, seed)
        wall = perf_counter() - start
        assert rec.recorder.n == budget, f"{self.name} took {rec.recorder.n} steps for a budget of {budget}"
        result = self._result(env, rec.recorder, seed, budget, wall)
        h = result.history  # agent time: wall time minus simulation, spread over the steps
        h.agent_time_s[:] = max(wall - h.eval_time_s.sum(), 0.0) / len(h)
        return result


class _SB3Agent(SteppingAgent):
    """Shared SB3 driver: subclasses name the algorithm and map hyper-parameters to its kwargs."""
    algo: ClassVar[str] = ""
    family = "rl"

    sb3_names: ClassVar[dict[str, str]] = {"minibatch_size": "batch_size"}  # our name -> SB3's
    not_sb3: ClassVar[tuple[str, ...]] = ("episode_steps",)  # ours only, not SB3 keyword arguments

    def _kwargs(self) -> dict:
        return {self.sb3_names.get(k, k): v for k, v in self.hparams.items() if k not in self.not_sb3}

    def _wrap(self, env: gym.Env) -> gym.Env:
        return env

    def _learn(self, env, rec, budget, seed):
        import stable_baselines3
        from stable_baselines3.common.callbacks import BaseCallback

        class StopAtBudget(BaseCallback):
            def _on_step(self) -> bool:
                return rec.recorder.n < budget

        cls = getattr(stable_baselines3, self.algo)
        self.model = cls("MlpPolicy", self._wrap(env), seed=seed, device="cpu", verbose=0, **self._kwargs())
        self.model.learn(total_timesteps=budget, callback=StopAtBudget())


@dataclass(frozen=True)
class OnPolicyConfig(EpisodeConfig):
    learning_rate: float = hp(1e-3, 1e-5, 1e-1, log=True)
    gamma: float = hp(0.0, 0.0, 0.999, help="discount per proposed design")
    ent_coef: float = hp(0.01, 0.0, 0.5, help="entropy bonus (exploration)")


class PPO(_SB3Agent):
    """Proximal policy optimisation (SB3) over the MultiDiscrete design action."""
    name, algo = "ppo", "PPO"

    @dataclass(frozen=True)
    class Config(OnPolicyConfig):
        n_steps: int = hp(64, 2, 8192, log=True, help="steps per rollout")
        minibatch_size: int = hp(32, 2, 8192, log=True, help="transitions per gradient step (SB3's batch_size)")
        n_epochs: int = hp(10, 1, 50)
        clip_range: float = hp(0.2, 0.01, 1.0)
        gae_lambda: float = hp(0.95, 0.0, 1.0)

        def validate(self):
            if self.minibatch_size > self.n_steps:
                raise HyperParameterError(f"ppo: minibatch_size ({self.minibatch_size}) must not exceed "
                                          f"n_steps ({self.n_steps})")


class A2C(_SB3Agent):
    """Advantage actor-critic (SB3) over the MultiDiscrete design action."""
    name, algo = "a2c", "A2C"

    @dataclass(frozen=True)
    class Config(OnPolicyConfig):
        n_steps: int = hp(32, 1, 8192, log=True, help="steps per update")
        gae_lambda: float = hp(1.0, 0.0, 1.0)


class FlatActions(gym.ActionWrapper):
    """One Discrete action per design (row-major over the MultiDiscrete), for value-based RL."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._nvec = env.unwrapped.space.nvec
        self.action_space = gym.spaces.Discrete(int(np.prod(self._nvec)))

    def action(self, action):
        return np.array(np.unravel_index(int(action), self._nvec), dtype=np.int64)


class FactoredActions(gym.Wrapper):
    """One Discrete action per (parameter, value) pair, for value-based RL on large spaces: the action
    sets that parameter of the current design and keeps the others, so a Q-network needs the sum of
    the parameters' value counts as outputs instead of their product (53 instead of 882,000 on
    Systolic-v0, 54 instead of 6.7 M on DRAMController-v0). Each episode starts at the default design;
    the observation carries the current design (its unit-cube part), so the state stays Markov."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._space = env.unwrapped.space
        nvec = self._space.nvec
        self._param = np.repeat(np.arange(len(nvec)), nvec)
        self._value = np.concatenate([np.arange(n) for n in nvec])
        self.action_space = gym.spaces.Discrete(int(nvec.sum()))
        self._current = self._space.to_indices(self._space.default())

    def reset(self, **kwargs):
        self._current = self._space.to_indices(self._space.default())
        return self.env.reset(**kwargs)

    def step(self, action):
        a = int(action)
        self._current = self._current.copy()
        self._current[self._param[a]] = self._value[a]
        return self.env.step(self._current)


class DQN(_SB3Agent):
    """Deep Q-network (SB3). `actions="flat"`: one Q-value per design (FlatActions), for spaces of at
    most `max_actions` designs; `actions="factored"`: one Q-value per parameter value, moving one
    parameter per step (FactoredActions), which scales to the DRAM and co-design spaces."""
    name, algo = "dqn", "DQN"

    @dataclass(frozen=True)
    class Config(EpisodeConfig):
        learning_rate: float = hp(1e-3, 1e-5, 1e-1, log=True)
        gamma: float = hp(0.0, 0.0, 0.999, help="discount per proposed design")
        buffer_size: int = hp(10_000, 100, 1_000_000, log=True)
        learning_starts: int = hp(50, 0, 100_000, help="random steps before learning")
        minibatch_size: int = hp(32, 1, 4096, log=True, help="transitions per gradient step (SB3's batch_size)")
        train_freq: int = hp(4, 1, 1000, log=True)
        target_update_interval: int = hp(100, 1, 100_000, log=True)
        exploration_fraction: float = hp(0.3, 0.0, 1.0, help="share of the budget spent annealing epsilon")
        exploration_final_eps: float = hp(0.05, 0.0, 1.0)
        max_actions: int = hp(50_000, 2, 10_000_000, log=True, help="largest space DQN will flatten")
        actions: str = hp("flat", choices=("flat", "factored"),
                          help="flat: a Q-value per design; factored: a Q-value per parameter value")

    def check_space(self, space):
        if self.config.actions == "flat" and space.size > self.config.max_actions:
            raise UnsupportedSpaceError(
                f"dqn with flat actions needs one Discrete action per design, but this space has {space.size:,} designs "
                f"(max_actions={self.config.max_actions:,}); use ppo, a2c or marl (they act on MultiDiscrete), an ask/tell "
                f"agent such as ga, regularized_evolution or tpe, an enumerable env variant, or dqn with "
                f"actions=factored ({int(space.nvec.sum())} actions here)")

    not_sb3 = ("episode_steps", "max_actions", "actions")

    def _wrap(self, env):
        return FlatActions(env) if self.config.actions == "flat" else FactoredActions(env)
