"""The agent contract: exact budgets, reproducibility, results, ask/tell, bad input, and the CLI."""
from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from agents import AGENTS, BudgetError, HyperParameterError, UnsupportedSpaceError, make_agent
from archgym import analysis
from archgym.core.errors import ArchGymError, DesignError, UnknownNameError
from test_agents_toy import FAST, toy_env

ALL = [n for n in AGENTS if AGENTS[n].family != "baseline"]  # co-design baselines need a co-design env (test_codesign)
RL = [n for n in ALL if AGENTS[n].steps_env]
ASK_TELL = [n for n in ALL if n not in RL]


def test_registry_names_are_the_contract():
    assert RL == ["ppo", "a2c", "dqn", "marl"]
    assert list(AGENTS) == ["random", "grid", "qmc", "ga", "regularized_evolution", "aco", "sa", "hill_climbing",
                            "one_plus_one_ea", "tpe", "gp", "nsga2", "motpe", "ppo", "a2c", "dqn", "marl", "sequential",
                            "hardware_first", "latency_aware_nas"]
    for name in AGENTS:
        assert AGENTS[name].name == name and AGENTS[name].family


def _counting(env):
    """Record the number of designs in every env.unwrapped.evaluate call."""
    base, calls = env.unwrapped, []
    inner = base.evaluate

    def evaluate(designs):
        out = inner(designs)
        calls.append(len(out["reward"]))
        return out
    base.evaluate = evaluate
    return calls


@pytest.mark.parametrize("name", ASK_TELL)
def test_ask_tell_budget_is_exact_and_batched(name):
    env = toy_env()
    calls = _counting(env)
    agent = make_agent(name, seed=1, **FAST[name])
    result = agent.search(env, budget=37)
    assert len(result.history) == 37 and list(result.history.steps) == list(range(37))
    # every evaluation counts: one call per asked batch, then one for the hypervolume reference point
    assert sum(calls[:-1]) == 37 and calls[-1] == 1
    assert len(calls) - 1 == math.ceil(37 / agent.designs_per_ask)


@pytest.mark.parametrize("name", RL)
def test_rl_budget_is_exact_env_steps(name):
    import gymnasium as gym

    class CountSteps(gym.Wrapper):
        steps = 0

        def step(self, action):
            CountSteps.steps += 1
            return self.env.step(action)

    env = CountSteps(toy_env())
    result = make_agent(name, seed=0, **FAST[name]).search(env, budget=37)
    assert CountSteps.steps == 37 and len(result.history) == 37


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_history(name):
    budget = 40
    a = make_agent(name, seed=3, **FAST[name]).search(toy_env(), budget)
    b = make_agent(name, seed=3, **FAST[name]).search(toy_env(), budget)
    c = make_agent(name, seed=4, **FAST[name]).search(toy_env(), budget)
    np.testing.assert_array_equal(a.history.indices, b.history.indices)
    np.testing.assert_array_equal(a.history.score, b.history.score)
    assert not np.array_equal(a.history.indices, c.history.indices)
    # search(seed=...) overrides the constructor's seed
    d = make_agent(name, seed=0, **FAST[name]).search(toy_env(), budget, seed=3)
    np.testing.assert_array_equal(a.history.indices, d.history.indices)


def test_search_result_holds_best_front_and_hypervolume():
    env = toy_env()
    seen = []
    result = make_agent("ga", seed=0, population=16).search(env, budget=200, callback=lambda b: seen.append(b.steps))
    h = result.history
    assert np.array_equal(np.concatenate(seen), np.arange(200))
    assert result.best_score == h.score.max() and h.feasible[result.best_row]
    out = env.unwrapped.evaluate([result.best_design])
    assert out["reward"][0] == pytest.approx(result.best_score)
    assert result.best_metrics["latency_s"] == pytest.approx(out["latency_s"][0])
    # the front: feasible, mutually non-dominated, and dominating every other feasible row
    F, rows = h.objectives, result.pareto_rows
    assert len(rows) > 3 and h.feasible[rows].all()
    for r in rows:
        assert not np.any(np.all(F[rows] <= F[r], axis=1) & np.any(F[rows] < F[r], axis=1))
    others = np.setdiff1d(np.flatnonzero(h.feasible), rows)
    assert all(np.any(np.all(F[rows] <= F[o], axis=1)) for o in others)
    hv = result.hypervolume_curve
    assert len(hv) == 200 and np.all(np.diff(hv) >= -1e-12) and hv[0] >= 0
    assert result.hypervolume == pytest.approx(analysis.hypervolume(result.pareto_front, result.ref_point))
    assert result.wall_time_s > 0 and result.agent_time_s > 0 and result.eval_time_s > 0
    frame = h.to_frame()
    assert len(frame) == 200 and {"rows", "dataflow", "latency_s", "reward", "score", "feasible"} <= set(frame.columns)
    assert set(frame["dataflow"]) <= {"os", "ws", "is"}
    json.dumps(result.summary(), default=float)
    # results cross process boundaries in sweeps
    again = pickle.loads(pickle.dumps(result))
    assert again.best_design == result.best_design and again.hypervolume == result.hypervolume


def test_vector_objective_uses_summed_scores():
    result = make_agent("nsga2", seed=0, population_size=8).search(toy_env("vector"), budget=24)
    assert result.history.reward.shape == (24, 3)
    np.testing.assert_allclose(result.history.score, result.history.reward.sum(axis=1))
    assert "reward_latency_s" in result.history.to_frame().columns


@pytest.mark.parametrize("name", ASK_TELL)
def test_ask_tell_with_design_dicts(name):
    env = toy_env()
    base = env.unwrapped
    agent = make_agent(name, seed=0, **FAST[name]).reset(base.space, base.objective, budget=30)
    for _ in range(3):
        designs = agent.ask(5)
        assert len(designs) == 5 and all(base.space.validate(d) == d for d in designs)
        agent.tell(designs, base.evaluate(designs))
    # designs the agent never proposed are learned from too
    own = [base.space.default(), {**base.space.default(), "rows": 64}]
    agent.tell(own, base.evaluate(own))
    assert len(agent.ask(2)) == 2


def test_ask_before_reset_and_rl_ask_are_clear_errors():
    with pytest.raises(ArchGymError, match="reset"):
        make_agent("ga").ask(2)
    env = toy_env()
    agent = make_agent("ppo").reset(env.unwrapped.space, env.unwrapped.objective)
    with pytest.raises(ArchGymError, match="search"):
        agent.ask(1)


# --- bad input ------------------------------------------------------------------------------------------
def test_unknown_agent_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="unknown agent 'gx'.*random, grid, qmc, ga"):
        make_agent("gx")


def test_unknown_hyperparameter_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="unknown ga hyper-parameter 'pop'; valid: population, crossover_prob"):
        make_agent("ga", pop=3)


@pytest.mark.parametrize("name,hp,match", [
    ("ga", {"population": 2}, r"'population' = 2 is out of range \[4, 1024\]"),
    ("ga", {"mutation_rate": 1.5}, "out of range"),
    ("ga", {"population": 8.5}, "must be an integer"),
    ("ga", {"population": "big"}, "must be an integer"),
    ("tpe", {"multivariate": "yes"}, r"must be one of \[True, False\]"),
    ("sa", {"t_start": 0.01, "t_end": 0.1}, "t_end"),
    ("regularized_evolution", {"population": 8, "sample_size": 16}, "sample_size"),
    ("aco", {"ants": 4, "elite": 8}, "elite"),
    ("ppo", {"n_steps": 16, "minibatch_size": 32}, "minibatch_size"),
    ("ga", {"population": float("nan")}, "must be an integer"),
])
def test_hyperparameter_out_of_range(name, hp, match):
    with pytest.raises(HyperParameterError, match=match):
        make_agent(name, **hp)


@pytest.mark.parametrize("budget", [0, -5, 2.5, "10", True])
def test_bad_budget(budget):
    with pytest.raises(BudgetError, match="budget must be a positive integer"):
        make_agent("random").search(toy_env(), budget)


def test_bad_seed():
    with pytest.raises(HyperParameterError, match="seed"):
        make_agent("random", seed=-1)


def test_grid_without_a_budget_refuses_a_space_too_large_to_enumerate():
    from archgym.core.objectives import Objective
    from archgym.core.space import DesignSpace, Integer
    space = DesignSpace([Integer(f"p{i}", 0, 99) for i in range(8)])  # 10^16 designs
    objective = Objective("product", ["latency_s"])
    with pytest.raises(UnsupportedSpaceError, match="10,000,000,000,000,000 designs; pass budget="):
        make_agent("grid").reset(space, objective)
    grid = make_agent("grid").reset(space, objective, budget=300).ask_indices(300)
    # the largest grid within 300 points is 2 levels (the ends) per parameter: 256 points, then 44 random ones
    assert all(set(c) == {0, 99} for c in grid[:256].T) and len(np.unique(grid[:256], axis=0)) == 256
    assert not np.isin(grid[256:], [0, 99]).all()


def test_dqn_refuses_a_space_too_large_to_flatten_and_suggests_others():
    with pytest.raises(UnsupportedSpaceError, match=r"6,912 designs.*max_actions=100.*use ppo, a2c or marl"):
        make_agent("dqn", max_actions=100).search(toy_env(), 10)
    assert issubclass(UnsupportedSpaceError, ValueError)


@pytest.mark.parametrize("name", ALL)
def test_sampled_hyperparameters_are_valid(name):
    rng = np.random.default_rng(0)
    cls = AGENTS[name]
    for _ in range(20):
        hp = cls.sample_hparams(rng)
        assert cls(seed=0, **hp).hparams == hp
    assert all(h.to_config()["name"] == h.name for h in cls.hyperparams)


# --- multi-agent view -------------------------------------------------------------------------------------
def test_design_parallel_env_follows_the_pettingzoo_api():
    from pettingzoo.test import parallel_api_test

    from agents.marl import DesignParallelEnv
    env = DesignParallelEnv(toy_env(max_episode_steps=8))
    parallel_api_test(env, num_cycles=20)
    assert env.possible_agents == ["rows", "cols", "dataflow", "sram_kb", "clock_ghz"]
    grouped = DesignParallelEnv(toy_env(), {"array": ["rows", "cols", "dataflow"], "memory": ["sram_kb", "clock_ghz"]})
    obs, _ = grouped.reset(seed=0)
    _, rewards, *_ = grouped.step({a: grouped.action_space(a).sample() for a in grouped.agents})
    assert rewards["array"] == rewards["memory"]  # one shared reward


def test_design_parallel_env_rejects_bad_groups():
    from agents.marl import DesignParallelEnv
    with pytest.raises(DesignError, match="unknown parameter 'depth'"):
        DesignParallelEnv(toy_env(), {"a": ["rows", "depth"]})
    with pytest.raises(DesignError, match="exactly once"):
        DesignParallelEnv(toy_env(), {"a": ["rows", "cols"]})


def test_marl_with_groups_runs():
    groups = {"array": ["rows", "cols", "dataflow"], "memory": ["sram_kb", "clock_ghz"]}
    agent = AGENTS["marl"](seed=0, groups=groups, n_steps=8)
    assert len(agent.search(toy_env(), 20).history) == 20
    assert list(agent.learners) == ["array", "memory"]


# --- CLI -------------------------------------------------------------------------------------------------
def test_cli_search_writes_history_plot_and_summary(tmp_path, capsys):
    import pandas as pd

    from archgym.cli import main
    out = tmp_path / "run"
    rc = main(["search", "archgym/Systolic-ResNet18-Small-v0", "--agent", "regularized_evolution", "--budget", "60",
               "--seed", "2", "--set", "population=16", "--set", "sample_size=4", "--out", str(out), "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "best design: rows=" in text and "latency_s" in text
    frame = pd.read_csv(out / "history.csv")
    assert len(frame) == 60 and list(frame["step"]) == list(range(60))
    assert (out / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["evaluations"] == 60 and summary["best_score"] == pytest.approx(frame["score"].max())
    rc = main(["search", "archgym/Systolic-ResNet18-Small-v0", "--agent", "random", "--budget", "10",
               "--out", str(out), "--format", "parquet", "--no-progress"])
    assert rc == 0 and len(pd.read_parquet(out / "history.parquet")) == 10


@pytest.mark.parametrize("argv,message", [
    (["--agent", "nope", "--budget", "5"], "unknown agent 'nope'"),
    (["--agent", "ga", "--budget", "0"], "budget must be a positive integer"),
    (["--agent", "ga", "--budget", "5", "--set", "population=1"], "out of range"),
    (["--agent", "ga", "--budget", "5", "--set", "speed=3"], "unknown ga hyper-parameter 'speed'"),
    (["--agent", "dqn", "--budget", "5", "--set", "max_actions=10"], "use ppo, a2c or marl"),
])
def test_cli_search_bad_input_exits_2(argv, message, capsys, tmp_path):
    from archgym.cli import main
    rc = main(["search", "archgym/Systolic-ResNet18-Small-v0", *argv, "--out", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1


def test_cli_search_unknown_env_exits_2(capsys):
    from archgym.cli import main
    assert main(["search", "archgym/Nope-v0", "--agent", "ga", "--budget", "5"]) == 2
    assert "unknown env 'archgym/Nope-v0'; valid: archgym/Systolic-v0" in capsys.readouterr().err
