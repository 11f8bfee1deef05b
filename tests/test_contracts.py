"""check_simulator on every simulator and check_agent on every registered agent, plus checks that
the checkers themselves catch broken simulators and agents."""
from dataclasses import dataclass

import gymnasium as gym
import pytest

import simulators
from agents import AGENTS, Agent
from agents.check import AgentContractError, check_agent, check_config
from simulators.check import SimulatorContractError, check_simulator
from test_agents_toy import FAST, toy_env

SMALL_WORKLOAD = {"systolic": "resnet18", "dram": "stream", "fpga": "tfc"}


@pytest.mark.parametrize("name", simulators.NAMES)
def test_every_simulator_passes_check_simulator(name):
    check_simulator(simulators.get(name), SMALL_WORKLOAD[name], n=80)


@pytest.mark.parametrize("name", list(AGENTS))
def test_every_agent_passes_check_agent(name):
    # co-design baselines need a co-design env whose budgets admit networks on its reference hardware (a budget
    # that admits none is a configuration error: test_codesign.py)
    env = gym.make("archgym/NB201-Systolic-v0") if AGENTS[name].family == "baseline" else toy_env()
    check_agent(AGENTS[name], env, budget=20, **FAST[name])


class _BrokenSim:
    """systolic with a lying evaluate: row 0 depends on the batch size."""
    __name__ = "broken"

    def __init__(self):
        from simulators import systolic
        self._s = systolic
        for k in ("PARAMETERS", "METRICS", "prepare", "parameters", "simulate"):
            setattr(self, k, getattr(systolic, k))

    def evaluate(self, vectors, prepared):
        out = self._s.evaluate(vectors, prepared)
        out["latency_s"] = out["latency_s"] * (1 + 1e-3 * (len(vectors) > 1))
        return out


def test_check_simulator_catches_a_batch_dependent_result():
    with pytest.raises(SimulatorContractError, match="depends on its batch"):
        check_simulator(_BrokenSim(), "resnet18", n=16)


def test_check_agent_catches_a_loose_config_and_a_budget_overrun():
    class Loose(Agent):
        name, family = "loose", "test"

        @dataclass  # a plain, mutable dataclass: no ranges, no checks
        class Config:
            width: int = 4

    with pytest.raises(AgentContractError, match="subclass of agents.config.AgentConfig"):
        check_config(Loose)

    class Greedy(Agent):
        name, family = "greedy", "test"

        def _ask(self, n):
            return self.space.sample_indices(self.rng, n)

        def search(self, env, budget, seed=None, callback=None):
            return super().search(env, budget + 1, seed, callback)

    with pytest.raises(AgentContractError, match="evaluated 21 designs for a budget of 20"):
        check_agent(Greedy, toy_env(), budget=20)


def test_agent_configs_are_typed_frozen_and_reject_bad_values():
    from agents import make_agent
    ga = make_agent("ga", population=16)
    assert ga.config.population == 16 and ga.hparams["population"] == 16
    with pytest.raises(Exception, match="cannot assign"):
        ga.config.population = 3
    assert not hasattr(ga, "population")  # knobs live on the config, not the agent
    assert {h.name for h in AGENTS["ppo"].hyperparams} >= {"minibatch_size", "n_steps"}
    assert "designs_per_ask" in {h.name for h in AGENTS["random"].hyperparams}
    for name in AGENTS:
        assert "batch_size" not in {h.name for h in AGENTS[name].hyperparams}, name  # one meaning per name
    assert make_agent("motpe").Config.agent == "motpe"
