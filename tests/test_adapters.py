"""Adapters in the ecosystem's own terms: Optuna samplers and storages through the Optuna agents,
a pymoo Problem for any env, the vector env's reward_space and per-env info (MO-Gymnasium and
Gymnasium conventions), SB3's make_vec_env, and DQN on large spaces through factored actions."""
import gymnasium as gym
import numpy as np
import optuna
import pytest

import archgym  # noqa: F401  (registers the envs)
from agents import make_agent
from agents.config import HyperParameterError
from agents.rl import FactoredActions
from archgym.core import pareto

SMALL = "archgym/Systolic-ResNet18-Small-v0"


def test_optuna_sampler_and_dashboard_storage(tmp_path):
    env = gym.make(SMALL)
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    stored = make_agent("tpe", seed=3, storage=url).search(env, 12)
    again = make_agent("tpe", seed=3, storage=url).search(env, 12)  # a second study, numbered
    plain = make_agent("tpe", seed=3).search(env, 12)
    np.testing.assert_array_equal(stored.history.indices, plain.history.indices)  # storage changes nothing
    np.testing.assert_array_equal(again.history.indices, plain.history.indices)
    assert optuna.get_all_study_names(url) == ["tpe-seed3", "tpe-seed3-2"]
    study = optuna.load_study(study_name="tpe-seed3", storage=url)  # what optuna-dashboard reads
    trials = study.get_trials()
    assert len(trials) == 12
    first = stored.history.designs[0]
    assert trials[0].user_attrs["design"] == first
    assert trials[0].user_attrs["metrics"]["latency_s"] == pytest.approx(stored.history.metrics["latency_s"][0], rel=1e-12)
    assert study.best_value == pytest.approx(stored.best_score, rel=1e-12)

    sampler = optuna.samplers.RandomSampler(seed=5)
    result = make_agent("tpe", sampler=sampler).search(env, 16)
    reference = make_agent("tpe", sampler=optuna.samplers.RandomSampler(seed=5)).search(env, 16)
    np.testing.assert_array_equal(result.history.indices, reference.history.indices)
    assert not np.array_equal(result.history.indices, make_agent("tpe").search(env, 16).history.indices)
    with pytest.raises(HyperParameterError, match="pass either sampler= or those hyper-parameters"):
        make_agent("tpe", sampler=sampler, n_startup_trials=5)
    with pytest.raises(HyperParameterError, match="must be an optuna.samplers.BaseSampler"):
        make_agent("nsga2", sampler="tpe")
    with pytest.raises(archgym.ArchGymError, match="pass another study_name"):
        make_agent("tpe", storage=url, study_name="tpe-seed3").search(env, 4)


def test_pymoo_problem_searches_any_env():
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize
    from archgym.adapters.pymoo import ArchGymProblem, integer_operators
    env = gym.make("archgym/FPGADataflow-v0")  # constrained: over-budget designs are infeasible
    problem = ArchGymProblem(env)
    assert problem.n_var == len(env.unwrapped.space) and problem.n_obj == 4 and problem.n_ieq_constr == 1
    res = minimize(problem, NSGA2(pop_size=16, **integer_operators()), ("n_eval", 96), seed=0)
    assert problem.evaluations == res.algorithm.evaluator.n_eval >= 96
    designs = problem.designs(res.X)
    out = env.unwrapped.evaluate(designs)  # pymoo's F and G are the env's own numbers
    np.testing.assert_allclose(res.F, pareto.objective_matrix(env.unwrapped.objective, out), rtol=1e-12)
    assert out["feasible"].all() and (res.G <= 0).all()
    X = problem.indices(np.random.default_rng(0).uniform(-1, problem.xu + 1, size=(64, problem.n_var)))
    G = problem.evaluate(X, return_values_of=["G"])
    assert ((G[:, 0] > 0) == ~env.unwrapped.evaluate(X)["feasible"]).all()
    scalar = ArchGymProblem(gym.make(SMALL), scalar=True)
    Xs = np.random.default_rng(1).integers(0, scalar.space.nvec, size=(32, 7))
    F = scalar.evaluate(Xs, return_values_of=["F"])
    np.testing.assert_allclose(-F[:, 0], gym.make(SMALL).unwrapped.evaluate(Xs)["reward"])


def test_vector_env_reward_space_and_per_env_info():
    vec = gym.make_vec(SMALL, num_envs=3, vectorization_mode="vector_entry_point", objective="vector",
                       max_episode_steps=2)
    base = vec.unwrapped
    assert base.reward_space == base.single_reward_space == gym.make(SMALL, objective="vector").unwrapped.reward_space
    obs, info = vec.reset(seed=0)
    assert info["design_index"].shape == (3, 7) and info["_metrics"].all()
    actions = np.array([[0] * 7, [1] * 7, [2, 2, 2, 2, 2, 2, 1]])
    for step in range(3):
        obs, reward, terminated, truncated, info = vec.step(actions)
        assert reward.shape == (3, 3)
        expected = actions if step < 2 else np.tile(base._default_idx, (3, 1))  # step 3: next-step autoreset
        np.testing.assert_array_equal(info["design_index"], expected)
        out = base.evaluate(expected)
        for m in ("latency_s", "energy_j", "area_mm2"):
            np.testing.assert_array_equal(info["metrics"][m], out[m])
        assert truncated.all() == (step == 1)
    assert not hasattr(gym.make_vec(SMALL, num_envs=2, vectorization_mode="vector_entry_point").unwrapped, "reward_space")


def test_sb3_make_vec_env_and_rgb_array_render():
    from stable_baselines3.common.env_util import make_vec_env
    vec = make_vec_env(SMALL, n_envs=2, seed=0)  # SB3 asks for render_mode="rgb_array"
    vec.reset()
    vec.step(np.array([vec.action_space.sample(), vec.action_space.sample()]))
    frames = vec.get_images()
    assert len(frames) == 2 and frames[0].dtype == np.uint8 and frames[0].shape == (12 * (7 + 3), 256, 3)
    env = gym.make(SMALL, render_mode="rgb_array")
    env.reset(seed=0)
    assert (env.render() == 255).all()  # nothing evaluated yet: a blank picture
    env.step(np.array([6, 6, 0, 4, 4, 4, 1]))  # the largest array and SRAMs: every bar long
    img = env.render()
    assert (img[1:11, :200] == (110, 110, 110)).all()  # rows: index 6 of 7, 13/14 of the width
    with pytest.raises(archgym.ArchGymError, match="render_mode must be None, 'ansi' or 'rgb_array'"):
        gym.make(SMALL, render_mode="human")


@pytest.mark.parametrize("env_id", ["archgym/DRAMController-AES-v0", "archgym/CoDesign-Systolic-v0"])
def test_dqn_scales_through_factored_actions(env_id):
    env = gym.make(env_id)
    space = env.unwrapped.space
    fast = {"learning_starts": 8, "minibatch_size": 8, "train_freq": 2, "target_update_interval": 10}
    with pytest.raises(archgym.ArchGymError, match=rf"or dqn with actions=factored \({int(space.nvec.sum())} actions"):
        make_agent("dqn", **fast).search(env, 8)  # flat: one Q-value per design is too many
    agent = make_agent("dqn", actions="factored", **fast)
    result = agent.search(env, 40)
    assert len(result.history) == 40 and agent.model.q_net.action_space.n == int(space.nvec.sum())
    assert space.size > 1000 * int(space.nvec.sum())
    wrapped = FactoredActions(env)
    wrapped.reset(seed=0)
    default = space.to_indices(space.default())
    _, _, _, _, info = wrapped.step(int(space.nvec[0]) + 0)  # the first value of the second parameter
    expected = default.copy()
    expected[1] = 0
    assert space.to_indices(info["design"]).tolist() == expected.tolist()
