"""Hypothesis strategies that generate more malformed input for every entry point of the corpus:
each example ends in a clean ArchGymError or a result that checks out. Examples are derandomised
(the same on every run) and bounded in size, so the suite stays fast and reproducible."""
import math

import gymnasium as gym
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings, strategies as st

import archgym
from archgym.core import validate
from archgym.core.errors import ArchGymError
from archgym.core.workloads import table as T

SMALL = "archgym/Systolic-ResNet18-Small-v0"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

numbers = (st.floats(allow_nan=True, allow_infinity=True) | st.integers(-2**70, 2**70) | st.booleans()
           | st.sampled_from([0, -1, 1, 2**31, 2**63, 10**400, float("nan"), float("inf"), -0.0, 1e-320]))
anything = numbers | st.text(max_size=8) | st.none() | st.lists(st.integers(-3, 3), max_size=3)


@pytest.fixture(scope="module")
def env():
    return gym.make(SMALL).unwrapped


@FUZZ
@given(mode=st.sampled_from(["target", "weighted", "product", "constraint", "vector", "nope"]),
       table=st.dictionaries(st.sampled_from(["latency_s", "energy_j", "area_mm2", "bogus_s"]), anything, max_size=3),
       key=st.sampled_from(["weights", "targets", "limits"]), optimize=st.sampled_from([None, "latency_s", 7]))
def test_objectives(env, mode, table, key, optimize):
    spec = {"mode": mode, key: table, **({"optimize": optimize} if optimize is not None else {})}
    try:
        objective = archgym.Objective.build(spec, env.evaluator.objective_defaults)
        objective.check_metrics(env.evaluator.metric_names)
    except ArchGymError:
        event("clean error")
        return
    out = env.evaluator(env.space.sample_indices(np.random.default_rng(0), 8))
    reward = objective.reward(out, out["feasible"], out["violation"])
    assert np.isfinite(reward).all()


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(["rows", "cols", "dataflow", "ifmap_sram_kb", "warp"]),
                               st.sampled_from([4, 8, 64, 256, 32.0, "os", "ws", 128, 2048]) | anything, max_size=3))
def test_designs(env, changes):
    try:
        design = env.space.validate({**env.space.default(), **changes})
    except ArchGymError:
        event("clean error")
        return
    out = env.evaluate([design])
    assert np.isfinite(out["reward"]).all() and out["latency_s"][0] > 0


dims = st.integers(1, 300) | st.integers(1, 300) | st.integers(-3, 2**26) | st.sampled_from([1, 7, 2**24, 2**24 + 1, 2**40])


@FUZZ
@given(h=dims, w=dims, c=dims, nf=dims, k=st.integers(1, 7) | st.integers(-1, 9), stride=st.integers(1, 3) | st.integers(-1, 5),
       pad=st.integers(0, 3) | st.integers(-1, 4), groups=st.sampled_from([1, 1, 1, 2, 3, 2**20]))
def test_layer_rows(h, w, c, nf, k, stride, pad, groups):
    from simulators import systolic
    try:
        row = T.conv_row(h, w, c, nf, k, stride=stride, pad=pad, groups=groups)
    except ArchGymError:
        event("clean error")
        return
    macs = int(row[T.EH]) * int(row[T.EW]) * k * k * (c // groups) * nf
    assert macs == int(row[T.G]) * int(row[T.M]) * int(row[T.N]) * int(row[T.K]) <= validate.MAX_LAYER_MACS
    res = systolic.simulate({}, T.Workload.from_rows("x", [("c", row)] * 3))
    assert res.metrics["macs"] == 3 * macs
    assert all(math.isfinite(res.metrics[m]) and res.metrics[m] > 0 for m in ("latency_s", "energy_j", "cycles"))


@FUZZ
@given(rows=st.lists(st.tuples(st.integers(-2, 2**35), st.integers(-1, 2), st.integers(-2, 2**36)), min_size=0, max_size=40),
       sort=st.booleans())
def test_traces(rows, sort):
    from simulators import dram
    arr = np.array(sorted(rows, key=lambda r: r[2]) if sort else rows, dtype=np.int64).reshape(-1, 3)
    try:
        res = dram.simulate({}, arr)
    except ArchGymError:
        event("clean error")
        return
    assert res.metrics["n_requests"] == len(arr) and math.isfinite(res.metrics["latency_s"])
    assert res.metrics["cycles"] >= arr[:, 2].max()


json_values = st.recursive(anything, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                           max_leaves=12)


@FUZZ
@given(top=st.dictionaries(st.sampled_from(["name", "budget", "seeds", "description", "extra"]), json_values, max_size=3),
       env_entry=st.dictionaries(st.sampled_from(["id", "kwargs", "objective", "budget", "pareto", "label"]), json_values, max_size=3),
       agent_entry=st.dictionaries(st.sampled_from(["hparams", "grid", "sample", "ranges", "sample_seed"]), json_values, max_size=3))
def test_experiment_files(tmp_path_factory, top, env_entry, agent_entry):
    from archgym.experiments import load_experiment
    data = {"name": "fuzz", "budget": 4, "envs": [{"id": SMALL, **env_entry}], "agents": [{"name": "ga", **agent_entry}], **top}
    try:
        text = yaml.safe_dump(data)
    except yaml.YAMLError:
        return
    path = tmp_path_factory.mktemp("exp") / "e.yaml"
    path.write_text(text)
    try:
        exp = load_experiment(path)
    except ArchGymError:
        event("clean error")
        return
    assert 0 < len(exp.cells()) <= validate.MAX_CELLS and all(1 <= c.budget <= validate.MAX_BUDGET for c in exp.cells())
    assert len(exp.hash) == 64


@FUZZ
@given(blob=st.binary(max_size=3000), kind=st.sampled_from(["yaml", "csv", "stl", "stl.gz", "onnx", "npz", "sqlite"]))
def test_binary_blobs_in_every_file_reader(tmp_path_factory, blob, kind):
    d = tmp_path_factory.mktemp("blob")
    path = d / ("log.sqlite" if kind == "sqlite" else f"x.{kind}")
    path.write_bytes(blob)
    try:
        if kind == "yaml":
            from archgym.experiments import load_experiment
            load_experiment(path)
        elif kind == "csv":
            archgym.workloads.load(str(path))
        elif kind.startswith("stl"):
            from simulators import dram
            dram.simulate({}, path)
        elif kind == "onnx":
            archgym.workloads.from_onnx(path)
        elif kind == "npz":
            from archgym.envs.proxy import Proxy
            Proxy.load(path)
        else:
            archgym.load(d)
    except ArchGymError:
        pass


@FUZZ
@given(agent=st.sampled_from(["ga", "sa", "aco", "tpe", "ppo", "dqn", "regularized_evolution"]),
       hparams=st.dictionaries(st.sampled_from(["population", "mutation_rate", "n_steps", "learning_rate", "temperature",
                                                "tournament_size", "buffer_size", "actions", "bogus"]), anything, max_size=3),
       seed=numbers, budget=numbers)
def test_agent_settings(agent, hparams, seed, budget):
    from agents import make_agent
    from agents.base import check_budget
    try:
        made = make_agent(agent, seed=seed, **hparams)
        check_budget(budget)
    except ArchGymError:
        event("clean error")
        return
    assert 0 <= made.seed <= validate.MAX_SEED and made.hparams.keys() >= hparams.keys()
