"""Envs: Gymnasium contract, batch evaluation, vector env, reproducibility, SB3, bad input."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import archgym
from archgym.envs.registration import env_ids, load_registry
from archgym.core.errors import ArchGymError, DesignError, UnknownNameError


@pytest.mark.parametrize("env_id", env_ids())
def test_every_registered_env_passes_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert np.isfinite(reward) and set(info) >= {"design", "metrics", "feasible"}
    assert env.unwrapped.space.validate(info["design"]) == info["design"]


@pytest.mark.parametrize("env_id", env_ids())
def test_every_registered_env_vectorises_with_one_kernel_call(env_id):
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    single = gym.make(env_id).unwrapped
    venv.reset(seed=0)
    actions = venv.action_space.sample()
    obs, rewards, *_ = venv.step(actions)
    assert obs.shape == (3,) + single.observation_space.shape
    np.testing.assert_allclose(rewards, single.evaluate(actions)["reward"])


def test_systolic_step_matches_simulator():
    env = gym.make("archgym/Systolic-v0", workload="mobilenet_v2")
    env.reset(seed=0)
    design = {"rows": 64, "cols": 16, "dataflow": "os", "ifmap_sram_kb": 256, "filter_sram_kb": 32,
              "ofmap_sram_kb": 8, "dram_bytes_per_cycle": 32}
    _, reward, _, _, info = env.step(env.unwrapped.space.to_indices(design))
    res = archgym.envs.systolic.systolic.simulate(design, "mobilenet_v2")
    assert info["metrics"]["latency_s"] == res.metrics["latency_s"]
    m = res.metrics
    assert reward == pytest.approx(-np.log10(m["latency_s"] * m["energy_j"] * m["area_mm2"]))


def test_evaluate_batch_takes_dicts_or_indices():
    env = gym.make("archgym/Systolic-ResNet18-Small-v0").unwrapped
    rng = np.random.default_rng(0)
    idx = env.space.sample_indices(rng, 50)
    by_idx = env.evaluate(idx)
    by_dict = env.evaluate([env.space.from_indices(i) for i in idx])
    for key in ("latency_s", "energy_j", "reward", "feasible"):
        np.testing.assert_array_equal(by_idx[key], by_dict[key])
    assert by_idx["latency_s"].shape == (50,)


def test_episodes_truncate_and_reset_is_seeded():
    env = gym.make("archgym/Systolic-v0")
    obs1, _ = env.reset(seed=3)
    a1 = [env.action_space.sample() for _ in range(3)]
    env.reset(seed=3)
    a2 = [env.action_space.sample() for _ in range(3)]
    assert all((x == y).all() for x, y in zip(a1, a2))
    truncated = False
    for t in range(env.spec.max_episode_steps):
        truncated = env.step(env.action_space.sample())[3]
    assert truncated and t == 31


def test_vector_env_matches_single_env():
    venv = gym.make_vec("archgym/Systolic-v0", num_envs=8, vectorization_mode="vector_entry_point")
    env = gym.make("archgym/Systolic-v0")
    venv.reset(seed=0)
    env.reset(seed=0)
    actions = venv.action_space.sample()
    obs, rewards, terminated, truncated, info = venv.step(actions)
    assert obs.shape == (8, env.observation_space.shape[0]) and rewards.shape == (8,)
    for i in range(8):
        o, r, *_ = env.step(actions[i])
        assert r == pytest.approx(rewards[i]) and np.allclose(o, obs[i])
    for _ in range(31):
        obs, rewards, terminated, truncated, info = venv.step(venv.action_space.sample())
    assert truncated.all()
    obs, rewards, *_ = venv.step(venv.action_space.sample())  # next-step autoreset
    assert (rewards == 0).all()


@pytest.mark.parametrize("objective", ["target", "weighted", "product", "constraint",
                                       {"mode": "constraint", "optimize": "energy_j", "limits": {"latency_s": 1e-3}}])
def test_objective_modes(objective):
    env = gym.make("archgym/Systolic-v0", objective=objective)
    env.reset(seed=0)
    assert np.isfinite(env.step(env.action_space.sample())[1])


@pytest.mark.filterwarnings("ignore:.*reward returned by `step\\(\\)` must be a float")
def test_vector_reward():
    env = gym.make("archgym/Systolic-v0", objective="vector")
    env.reset(seed=0)
    reward = env.step(env.action_space.sample())[1]
    assert reward.shape == (3,) and env.unwrapped.reward_space.shape == (3,)


def test_fixed_parameters_and_custom_space():
    env = gym.make("archgym/Systolic-v0", workload="alexnet", clock_ghz=0.5, bits=16,
                   space={"rows": [8, 16], "dataflow": ["os", "is"]}).unwrapped
    assert env.space.names == ("rows", "dataflow") and env.space.size == 4
    out = env.evaluate([{"rows": 16, "dataflow": "is"}])
    ref = archgym.envs.systolic.systolic.simulate({"rows": 16, "dataflow": "is", "clock_ghz": 0.5, "bits": 16}, "alexnet")
    assert out["latency_s"][0] == ref.metrics["latency_s"]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"workload": "resnet99"}, UnknownNameError, "unknown workload 'resnet99'"),
    ({"space": "huge"}, UnknownNameError, "unknown systolic space 'huge'"),
    ({"objective": "fastest"}, UnknownNameError, "unknown objective mode 'fastest'"),
    ({"objective": {"mode": "constraint", "optimize": "joules"}}, UnknownNameError, "unknown objective metric 'joules'"),
    ({"rows": 64}, DesignError, "'rows' is searched by the space"),
    ({"clock_ghz": -1.0}, DesignError, "'clock_ghz': -1.0 is not allowed"),
])
def test_bad_env_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make("archgym/Systolic-v0", **kwargs)


def test_bad_actions_and_designs():
    env = gym.make("archgym/Systolic-v0")
    env.reset(seed=0)
    with pytest.raises(DesignError, match="parameter 'rows': index 9 is out of range 0..6"):
        env.step(np.array([9, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(DesignError, match="unknown parameter 'pe'"):
        env.unwrapped.evaluate([{"pe": 3}])
    with pytest.raises(DesignError, match="missing parameter"):
        env.unwrapped.evaluate([{"rows": 8}])


def test_registry_is_validated():
    with pytest.raises(ArchGymError, match="needs an 'evaluator"):
        load_registry("archgym/X-v0: {kwargs: {}}")
    with pytest.raises(ArchGymError, match="unknown key 'kwarg'"):
        load_registry("archgym/X-v0: {evaluator: a:B, kwarg: {}}")
    with pytest.raises(ArchGymError, match="invalid YAML"):
        load_registry("a: [")
    with pytest.raises(ArchGymError, match="envs.yaml:3: duplicate key 'archgym/X-v0'"):  # yaml would keep the last
        load_registry("archgym/X-v0: {evaluator: a:B}\narchgym/Y-v0: {evaluator: a:B}\narchgym/X-v0: {evaluator: c:D}")


def test_sb3_ppo_trains_unmodified():
    from stable_baselines3 import PPO
    env = gym.make("archgym/Systolic-v0")
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=128)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(action)
