"""Proxy cost models: held-out accuracy, timing, save/load, and the drop-in `simulator="proxy:PATH"`."""
import gymnasium as gym
import numpy as np
import pytest

import archgym
from agents import make_agent
from archgym.experiments import load_experiment, run_sweep
from archgym.experiments.log import env_infos
from archgym.envs.proxy import Proxy, ProxyError, indices_of
from archgym.experiments.proxy import train

ENV = "archgym/Systolic-ResNet18-Small-v0"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("proxy") / "run"
    exp = {"name": "proxy", "budget": 500, "seeds": 2, "envs": [ENV], "agents": ["random"]}
    run_sweep(load_experiment(exp), out=out, workers=2, progress=False)
    df = archgym.load(out)
    return out, df, env_infos(out)[ENV]


@pytest.fixture(scope="module")
def mlp(run):
    _, df, info = run
    return train(df, info, "mlp", seed=0, epochs=80, patience=15)


def test_mlp_proxy_is_accurate_on_held_out_designs(run, mlp):
    _, df, info = run
    proxy, report = mlp
    distinct = len(np.unique(indices_of(df, info.params), axis=0))
    assert report.n_train + report.n_test == distinct and report.n_test == round(0.2 * distinct)
    assert set(report.constant) >= {"macs", "violation"}  # constant over the log: reproduced exactly
    for m in ("latency_s", "energy_j", "area_mm2"):
        r = report.metrics[m]
        assert r["rmse_pct_range"] < 5.0, (m, r)
        assert r["kendall_tau"] > 0.85, (m, r)
        assert r["median_rel_err_pct"] < 15.0, (m, r)
    s = report.speed
    assert s["batch"] == report.n_test and s["single"] == min(50, report.n_test)
    for k in ("real_batch_us", "proxy_batch_us", "real_single_us", "proxy_single_us"):
        assert 0 < s[k] < 1e6, (k, s[k])
    assert s["speedup_batch"] == pytest.approx(s["real_batch_us"] / s["proxy_batch_us"])
    assert "RMSE % range" in report.table() and "speedup" in report.table()


def test_save_load_and_drop_in_simulator(run, mlp, tmp_path):
    proxy, _ = mlp
    path = proxy.save(tmp_path / "p.pt")
    back = Proxy.load(path)
    idx = gym.make(ENV).unwrapped.space.sample_indices(np.random.default_rng(1), 300)
    np.testing.assert_array_equal(back.predict(idx)["latency_s"], proxy.predict(idx)["latency_s"])

    env = gym.make(ENV, simulator=f"proxy:{path}")
    base = env.unwrapped
    assert "mlp proxy" in base.evaluator.describe()
    out = base.evaluate(idx)
    np.testing.assert_allclose(out["latency_s"], proxy.predict(idx)["latency_s"], rtol=1e-12)
    assert out["feasible"].all() and out["reward"].shape == (300,)
    real = gym.make(ENV).unwrapped.evaluate(idx)
    assert np.median(np.abs(out["latency_s"] / real["latency_s"] - 1)) < 0.1
    result = make_agent("ga", seed=0).search(env, budget=64)  # agents search the proxy like any env
    assert len(result.history) == 64
    vec = gym.make_vec(ENV, num_envs=3, vectorization_mode="vector_entry_point", simulator=f"proxy:{path}")
    vec.reset(seed=0)
    _, reward, *_ = vec.step(idx[:3])
    np.testing.assert_allclose(reward, out["reward"][:3])


def test_bad_simulator_values(tmp_path, mlp):
    with pytest.raises(ProxyError, match="simulator must be 'real' or 'proxy:PATH'"):
        gym.make(ENV, simulator="fast")
    with pytest.raises(ProxyError, match="does not exist"):
        gym.make(ENV, simulator=f"proxy:{tmp_path / 'none.pt'}")
    path = mlp[0].save(tmp_path / "p.pt")
    with pytest.raises(ProxyError, match="was trained on parameters"):
        gym.make("archgym/Systolic-v0", simulator=f"proxy:{path}")  # another design space
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ProxyError, match="is not a proxy file"):
        gym.make(ENV, simulator=f"proxy:{junk}")


def test_cli_trains_the_forest_baseline(run, tmp_path, capsys):
    from archgym.cli import main
    out, df, info = run
    assert main(["proxy", str(out), "--model", "forest", "-o", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "forest proxy" in text and "Kendall tau" in text and "simulator='proxy:" in text
    saved = list(tmp_path.glob("*.npz"))  # proxies are .npz archives (no pickle) since the safe-files change
    assert len(saved) == 1
    proxy = Proxy.load(saved[0])
    r = proxy.report["metrics"]["latency_s"]
    assert proxy.kind == "forest" and r["kendall_tau"] > 0.8 and r["rmse_pct_range"] < 10
    with pytest.raises(archgym.UnknownNameError, match="unknown proxy model 'svm'"):
        train(df, info, "svm")
    assert main(["proxy", str(out), "--env", "nope"]) == 2
    assert "unknown env of this run 'nope'" in capsys.readouterr().err
