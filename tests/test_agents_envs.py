"""Every agent runs on every registered env (read from envs.yaml at test time, so new envs are
covered as they land), with a tiny budget."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import archgym  # noqa: F401  (registers the envs)
from agents import AGENTS, UnsupportedSpaceError, make_agent
from agents.codesign import BaselineConfigError
from archgym.envs.registration import env_ids
from test_agents_toy import FAST

BUDGET = 12
CONFIG_ERRORS = {  # the baselines' own checks: latency limits that no network meets on the space's default
    # (reference) hardware (the envs' budgets follow archgym.analysis.coupling.budget_rule; NASAIC's are its own)
    ("latency_aware_nas", "archgym/CoDesign-NASAIC-v0"): "latency_2_s limit 1.5e-05 s admits no network",
    ("latency_aware_nas", "archgym/CoDesign-FPGA-v0"): "latency_s limit 6.6e-05 s admits no network",
    ("latency_aware_nas", "archgym/NB201-FPGA-v0"): "latency_s limit 0.0031 s admits no network",  # needs >= 3.22 ms
}
_ENVS: dict = {}


def _env(env_id):
    if env_id not in _ENVS:
        _ENVS[env_id] = gym.make(env_id)
    return _ENVS[env_id]


@pytest.mark.parametrize("name", list(AGENTS))
@pytest.mark.parametrize("env_id", env_ids())
def test_agent_runs_on_env(env_id, name):
    env = _env(env_id)
    space = env.unwrapped.space
    agent = make_agent(name, seed=0, **FAST[name])
    if name == "dqn" and space.size > agent.config.max_actions:
        with pytest.raises(UnsupportedSpaceError, match="use ppo, a2c or marl"):
            agent.search(env, BUDGET)
        return
    if AGENTS[name].family == "baseline" and set(space.groups) != {"network", "hardware"}:
        with pytest.raises(UnsupportedSpaceError, match="co-design"):
            agent.search(env, BUDGET)
        return
    if name == "sequential" and "NASAIC" in env_id:
        with pytest.raises(UnsupportedSpaceError, match="single-network co-design env"):
            agent.search(env, BUDGET)
        return
    if (name, env_id) in CONFIG_ERRORS:  # the baseline's own check: its budget admits no network
        with pytest.raises(BaselineConfigError, match=CONFIG_ERRORS[name, env_id]):
            agent.search(env, BUDGET)
        return
    result = agent.search(env, BUDGET)
    h = result.history
    assert len(h) == BUDGET
    assert np.all((h.indices >= 0) & (h.indices < space.nvec))
    assert np.all(np.isfinite(h.score)) and result.best_score == h.score.max()
    assert space.validate(result.best_design) == result.best_design
