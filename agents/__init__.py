"""Search agents behind one ask/tell interface (see agents/base.py), registered by name.

    from agents import make_agent
    result = make_agent("ga", seed=0, population=64).search(env, budget=500)

`AGENTS` maps each name to its class; agent modules (and torch, SB3, Optuna, scipy) load on first use.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module

from agents.base import Agent, BudgetError, History, SearchResult, UnsupportedSpaceError
from agents.config import AgentConfig, HyperParam, HyperParameterError, hp
from archgym.core.errors import unknown

_PATHS = {
    "random": "agents.sampling:RandomSearch",
    "grid": "agents.sampling:GridSearch",
    "qmc": "agents.sampling:SobolSearch",
    "ga": "agents.ga:GeneticAlgorithm",
    "regularized_evolution": "agents.regularized_evolution:RegularizedEvolution",
    "aco": "agents.aco:AntColony",
    "sa": "agents.sa:SimulatedAnnealing",
    "hill_climbing": "agents.hill_climbing:HillClimbing",
    "one_plus_one_ea": "agents.one_plus_one:OnePlusOneEA",
    "tpe": "agents.bo:TPE",
    "gp": "agents.bo:GaussianProcessBO",
    "nsga2": "agents.bo:NSGA2",
    "motpe": "agents.bo:MOTPE",
    "ppo": "agents.rl:PPO",
    "a2c": "agents.rl:A2C",
    "dqn": "agents.rl:DQN",
    "marl": "agents.marl:MARL",
    "sequential": "agents.codesign:Sequential",
    "hardware_first": "agents.codesign:HardwareFirst",
    "latency_aware_nas": "agents.codesign:LatencyAwareNAS",
}


class _Registry(Mapping):
    """name -> Agent class, imported on first access (so `archgym list` stays fast)."""

    def __getitem__(self, name: str) -> type[Agent]:
        if name not in _PATHS:
            raise unknown("agent", name, list(_PATHS))
        module, _, cls = _PATHS[name].partition(":")
        return getattr(import_module(module), cls)

    def __contains__(self, name) -> bool:
        return name in _PATHS

    def __iter__(self):
        return iter(_PATHS)

    def __len__(self) -> int:
        return len(_PATHS)


AGENTS: Mapping[str, type[Agent]] = _Registry()


def make_agent(name: str, seed: int = 0, **hparams) -> Agent:
    """An agent by registry name, with its hyper-parameters checked (unknown names list the valid ones)."""
    return AGENTS[name](seed=seed, **hparams)


__all__ = ["AGENTS", "make_agent", "Agent", "AgentConfig", "hp", "HyperParam", "History", "SearchResult", "BudgetError",
           "HyperParameterError", "UnsupportedSpaceError"]
