"""Multi-agent RL: one learner per parameter group, all sharing the env's reward.

`DesignParallelEnv` is a PettingZoo `ParallelEnv` view of an archgym env: each agent owns a group of
parameters, all agents act at once, their actions form one design, and that design's reward goes to
every agent (Krishnan et al., "Multi-Agent Reinforcement Learning for Microprocessor Design Space
Exploration", arXiv:2211.16385, which found this to beat single-agent PPO and SAC on the DRAM
controller).

The learners are independent PPO-clip actor-critics (Schulman et al. 2017), written here because
neither SB3 nor PettingZoo trains several policies in lockstep on one ParallelEnv, and the
maintained multi-agent trainers (RLlib, ...) are far heavier than the sixty lines below. Their
weights are stacked on an agent axis so that one batched matmul steps every agent (no weight is
shared, so they stay independent learners).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from agents.config import hp
from agents.rl import EpisodeConfig, SteppingAgent
from archgym.core.errors import DesignError


class DesignParallelEnv(ParallelEnv):
    """PettingZoo ParallelEnv over an archgym env. `groups` maps agent name -> parameter names
    (default: one agent per parameter). Every agent observes the env's observation."""
    metadata = {"name": "archgym_design_parallel_v0"}

    def __init__(self, env, groups: Mapping[str, Sequence[str]] | None = None):
        space = env.unwrapped.space
        groups = dict(groups) if groups else {n: [n] for n in space.names}
        owned = [n for names in groups.values() for n in names]
        for n in owned:
            space[n]  # DesignError for an unknown parameter
        if sorted(owned) != sorted(space.names):
            missing = sorted(set(space.names) - set(owned)) or sorted({n for n in owned if owned.count(n) > 1})
            raise DesignError(f"parameter groups must cover every parameter exactly once; check {missing}")
        self.env = env
        self.possible_agents = list(groups)
        self.agents: list[str] = []
        self._cols = {g: np.array([space.names.index(n) for n in names]) for g, names in groups.items()}
        self._action_spaces = {g: spaces.MultiDiscrete(space.nvec[c]) for g, c in self._cols.items()}
        self._n_params = len(space)

    def observation_space(self, agent):
        return self.env.observation_space

    def action_space(self, agent):
        return self._action_spaces[agent]

    def reset(self, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return {a: obs for a in self.agents}, {a: info for a in self.agents}

    def step(self, actions):
        idx = np.zeros(self._n_params, dtype=np.int64)
        for a, cols in self._cols.items():
            idx[cols] = np.asarray(actions[a]).reshape(-1)
        obs, reward, term, trunc, info = self.env.step(idx)
        reward = float(np.sum(reward))
        agents = self.agents
        if term or trunc:
            self.agents = []
        return ({a: obs for a in agents}, {a: reward for a in agents}, {a: term for a in agents},
                {a: trunc for a in agents}, {a: info for a in agents})


def _learners(obs_dim: int, nvecs: list[np.ndarray], hidden: int):
    """Independent actor-critic MLPs, one per agent, run together: every weight has a leading agent
    (or sub-action) axis, so one batched matmul evaluates all agents while no weight is shared.
    Returns a module mapping obs (T, obs_dim) to sampled sub-actions (T, S) and per-agent log-prob,
    entropy and value (T, A)."""
    import torch
    from torch import nn

    owner = np.concatenate([[a] * len(nv) for a, nv in enumerate(nvecs)])  # sub-action -> agent
    sizes = np.concatenate(nvecs).astype(np.int64)
    n_agents, n_sub, width = len(nvecs), len(sizes), int(sizes.max())

    def weight(*shape, fan_in):  # torch.nn.Linear's default initialisation
        return nn.Parameter(torch.empty(shape).uniform_(-fan_in ** -0.5, fan_in ** -0.5))

    class Learners(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1, self.b1 = weight(n_agents, obs_dim, hidden, fan_in=obs_dim), weight(n_agents, hidden, fan_in=obs_dim)
            self.w2, self.b2 = weight(n_agents, hidden, hidden, fan_in=hidden), weight(n_agents, hidden, fan_in=hidden)
            self.wpi, self.bpi = weight(n_sub, hidden, width, fan_in=hidden), weight(n_sub, width, fan_in=hidden)
            self.wv, self.bv = weight(n_agents, hidden, fan_in=hidden), weight(n_agents, fan_in=hidden)
            self.register_buffer("owner", torch.as_tensor(owner))
            self.register_buffer("invalid", torch.as_tensor(np.arange(width)[None, :] >= sizes[:, None]))
            self.register_buffer("per_agent", nn.functional.one_hot(self.owner, n_agents).float())

        def forward(self, obs, actions=None):
            h = torch.tanh(torch.einsum("to,aoh->tah", obs, self.w1) + self.b1)
            h = torch.tanh(torch.einsum("tah,ahk->tak", h, self.w2) + self.b2)
            logits = torch.einsum("tsh,shl->tsl", h[:, self.owner], self.wpi) + self.bpi
            dist = torch.distributions.Categorical(logits=logits.masked_fill(self.invalid, -1e9))
            if actions is None:
                actions = dist.sample()
            return (actions, dist.log_prob(actions) @ self.per_agent, dist.entropy() @ self.per_agent,
                    (h * self.wv).sum(-1) + self.bv)

    return Learners()


class MARL(SteppingAgent):
    """Independent PPO learners, one per parameter group (default: one per parameter), trained on
    `DesignParallelEnv` with the shared reward. Pass `groups={"agent": [param, ...]}` to group."""
    name, family = "marl", "marl"

    @dataclass(frozen=True)
    class Config(EpisodeConfig):
        n_steps: int = hp(32, 2, 4096, log=True, help="joint steps per update")
        n_epochs: int = hp(4, 1, 50)
        learning_rate: float = hp(3e-3, 1e-5, 1e-1, log=True)
        gamma: float = hp(0.0, 0.0, 0.999, help="discount per proposed design (0: a contextual bandit)")
        gae_lambda: float = hp(0.95, 0.0, 1.0)
        clip_range: float = hp(0.2, 0.01, 1.0)
        ent_coef: float = hp(0.03, 0.0, 0.5, help="entropy bonus per agent (exploration)")
        hidden: int = hp(64, 8, 512, log=True, help="hidden units per layer")

    def __init__(self, seed: int = 0, groups: Mapping[str, Sequence[str]] | None = None, **hparams):
        super().__init__(seed, **hparams)
        self.groups = groups

    def _learn(self, env, rec, budget, seed):
        import torch
        torch.manual_seed(seed)
        penv = DesignParallelEnv(env, self.groups)
        agents = penv.possible_agents
        nvecs = [penv.action_space(a).nvec for a in agents]
        bounds = np.cumsum([0] + [len(nv) for nv in nvecs])  # sub-actions of agent i: bounds[i]:bounds[i+1]
        obs_dim = penv.observation_space(agents[0]).shape[0]
        self.model = _learners(obs_dim, nvecs, self.config.hidden)
        self.learners = dict(zip(agents, range(len(agents))))  # agent -> its slot in the model
        # disjoint weights per agent: one Adam over all of them is each agent's own Adam
        opt = torch.optim.Adam(self.model.parameters(), lr=self.config.learning_rate)
        obs, _ = penv.reset(seed=seed)
        o = torch.as_tensor(obs[agents[0]], dtype=torch.float32)[None]
        while rec.recorder.n < budget:
            T = min(self.config.n_steps, budget - rec.recorder.n)
            O, R, D = torch.zeros(T, obs_dim), torch.zeros(T, 1), torch.zeros(T, 1)
            A, LP, V = [], [], []
            for t in range(T):
                O[t] = o[0]
                with torch.no_grad():
                    act, logp, _, v = self.model(o)
                A.append(act[0]), LP.append(logp[0]), V.append(v[0])
                a = act[0].numpy()
                nxt, rew, term, trunc, _ = penv.step({g: a[bounds[i]:bounds[i + 1]] for i, g in enumerate(agents)})
                R[t, 0], D[t, 0] = rew[agents[0]], float(term[agents[0]] or trunc[agents[0]])
                if not penv.agents:
                    nxt, _ = penv.reset()
                o = torch.as_tensor(nxt[agents[0]], dtype=torch.float32)[None]
            self._update(opt, O, torch.stack(A), torch.stack(LP), torch.stack(V), R, D, o)

    def _update(self, opt, O, A, LP, V, R, D, last_obs):
        """PPO-clip epochs on one rollout for every agent at once: (T, n_agents) advantages from
        GAE with each agent's own critic; an episode end cuts the bootstrap."""
        import torch
        with torch.no_grad():
            next_v = self.model(last_obs)[3][0]
        adv = torch.zeros_like(V)
        g = torch.zeros_like(next_v)
        for t in reversed(range(len(R))):
            nv = next_v if t == len(R) - 1 else V[t + 1]
            delta = R[t] + self.config.gamma * nv * (1 - D[t]) - V[t]
            g = delta + self.config.gamma * self.config.gae_lambda * (1 - D[t]) * g
            adv[t] = g
        ret = adv + V
        if len(adv) > 1:
            adv = (adv - adv.mean(0)) / (adv.std(0) + 1e-8)
        for _ in range(self.config.n_epochs):
            _, logp, ent, v = self.model(O, A)
            ratio = torch.exp(logp - LP)
            pg = -torch.min(ratio * adv, torch.clamp(ratio, 1 - self.config.clip_range, 1 + self.config.clip_range) * adv)
            loss = (pg + 0.5 * (v - ret) ** 2 - self.config.ent_coef * ent).mean(0).sum()  # a sum of per-agent losses
            opt.zero_grad()
            loss.backward()
            opt.step()
