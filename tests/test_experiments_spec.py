"""The experiment file: cells, hyper-parameter grids and samples, hashes, and located errors."""
import textwrap

import pytest

from archgym.experiments.spec import ExperimentError, load_experiment

ENV = "archgym/Systolic-ResNet18-Small-v0"

GOOD = f"""\
name: demo
budget: 40
seeds: 3
envs:
  - {ENV}
  - id: {ENV}
    label: small-target
    objective: target
    budget: 20
    pareto: [latency_s, energy_j]
agents:
  - random
  - name: ga
    hparams: {{population: 8}}
    grid:
      mutation_rate: [0.05, 0.15, 0.3]
      tournament_size: [2, 4]
  - name: aco
    sample: 5
    ranges: {{ants: [4, 12], alpha: [0.5, 2.0]}}
    sample_seed: 3
"""


def parse(text, name="exp.yaml"):
    return load_experiment(textwrap.dedent(text), filename=name)


def test_cells_settings_and_budgets():
    exp = parse(GOOD)
    assert exp.name == "demo" and exp.seeds == [0, 1, 2]
    assert [len(exp.agents[a]) for a in ("random", "ga", "aco")] == [1, 6, 5]
    ga = exp.agents["ga"]
    assert {(s["mutation_rate"], s["tournament_size"]) for s in ga} == {(m, t) for m in (0.05, 0.15, 0.3) for t in (2, 4)}
    assert all(s["population"] == 8 and s["crossover_prob"] == 0.9 for s in ga)  # fixed + defaults filled in
    for s in exp.agents["aco"]:
        assert 4 <= s["ants"] <= 12 and 0.5 <= s["alpha"] <= 2.0 and s["elite"] <= s["ants"]
    cells = exp.cells()
    assert len(cells) == 2 * 12 * 3
    assert len({c.key for c in cells}) == len(cells)
    assert sorted({c.budget for c in cells}) == [20, 40]
    assert exp.n_evaluations == 12 * 3 * (40 + 20)
    assert exp.envs[1].pareto == ("latency_s", "energy_j") and exp.envs[0].label == ENV


def test_samples_are_seeded_and_hash_ignores_formatting():
    a, b = parse(GOOD), parse("# a comment\n" + GOOD.replace("seeds: 3", "seeds:    3  # three"))
    assert a.agents["aco"] == b.agents["aco"] and a.hash == b.hash
    c = parse(GOOD.replace("sample_seed: 3", "sample_seed: 4"))
    assert c.agents["aco"] != a.agents["aco"] and c.hash != a.hash
    assert [x.key for x in a.cells()] == [x.key for x in b.cells()]


@pytest.mark.parametrize("edit,line,message", [
    (("- random", "- randomm"), 12, "agents[0].name: unknown agent 'randomm'"),
    ((f"  - {ENV}\n  - id", "  - archgym/Nope-v0\n  - id"), 5, "envs[0].id: unknown env 'archgym/Nope-v0'"),
    (("population: 8", "populaton: 8"), 14, "agents[1].hparams.populaton: unknown hyper-parameter 'populaton'"),
    (("[0.05, 0.15, 0.3]", "[0.05, 1.5]"), 16, "agents[1].grid.mutation_rate[1]"),
    (("ants: [4, 12]", "ants: [12, 4]"), 20, "low 12 is above high 4"),
    (("seeds: 3", "seeds: -1"), 3, "seeds: must be a positive integer"),
    (("budget: 40", "budgit: 40"), 2, "unknown key 'budgit'"),
    (("    budget: 20\n", "    budget: 20\n    budget: 30\n"), 10, "duplicate key"),
    (("label: small-target", f"label: {ENV}"), 6, f"env label '{ENV}' is also used by envs[0]"),
    (("sample: 5", "sample: 0"), 19, "agents[2].sample: must be a positive integer"),
    (("    pareto: [latency_s, energy_j]", "    pareto: [latency_s]"), 10, "must list 2 or 3 metric names"),
])
def test_errors_name_file_line_and_key(edit, line, message):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ExperimentError) as e:
        parse(GOOD.replace(old, new, 1))
    text = str(e.value)
    assert text.startswith(f"exp.yaml:{line}: "), text
    assert message in text


def test_invalid_yaml_and_missing_budget():
    with pytest.raises(ExperimentError, match=r"^exp.yaml:2: invalid YAML: expected .,. or .\]."):
        parse("envs: [a\nagents: [random]\nbudget: }\n")
    with pytest.raises(ExperimentError, match=r"exp.yaml:2: envs\[0\]: no budget"):
        parse(f"envs:\n  - {ENV}\nagents: [random]\n")
    with pytest.raises(ExperimentError, match="does not exist"):
        load_experiment("no/such/experiment.yaml")


def test_env_checks_name_the_entry_line():
    # an unknown metric in the objective and in `pareto`, found when the env is built
    bad_obj = parse(GOOD.replace("objective: target", "objective: {mode: weighted, weights: {speed_ms: 1}}"))
    with pytest.raises(ExperimentError) as e:
        bad_obj.check_envs()
    assert str(e.value).startswith(f"exp.yaml:6: envs[1] ({ENV}): unknown objective metric 'speed_ms'")
    bad_pareto = parse(GOOD.replace("[latency_s, energy_j]", "[latency_s, joules]"))
    with pytest.raises(ExperimentError, match=r"exp.yaml:6: envs\[1\] .*\.pareto: unknown metric 'joules'"):
        bad_pareto.check_envs()
    bad_kwarg = parse(GOOD.replace("    objective: target", "    kwargs: {workload: nonet}\n    objective: target"))
    with pytest.raises(ExperimentError, match=r"exp.yaml:6: .*unknown workload 'nonet'"):
        bad_kwarg.check_envs()
    envs = parse(GOOD).check_envs()
    assert list(envs) == [ENV, "small-target"]
    assert envs["small-target"].unwrapped.objective.mode == "target"
