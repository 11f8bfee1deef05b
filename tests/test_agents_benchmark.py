"""benchmarks/agents.py: the findings statistics on hand-made gaps, argument checks, and a tiny run that
saves JSON, resumes and renders again from the file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import scripts


@pytest.fixture(scope="module")
def bench():
    return scripts.load("benchmarks/agents.py")


def _gaps(x):
    return {100: np.asarray(x, dtype=float), 300: np.asarray(x, dtype=float)}


def test_compare_counts_successes_tests_one_sided_and_holm_corrects_over_every_env(bench):
    by = {"random": _gaps([0.5, 0.6, 0.7]), "good": _gaps([0.01, 0.02, 0.03]), "bad": _gaps([0.8, 0.9, 1.0])}
    flat = {"random": _gaps([0.0, 0.0]), "zero": _gaps([0.0, 0.0])}
    res = bench.compare({"e": by, "f": dict(by), "g": flat}, early=100, final=300)
    good, bad = res["e"]["good"], res["e"]["bad"]
    assert (good["within"], good["n"], res["e"]["random"]["within"]) == (3, 3, 0)
    # Wilson 95% interval: k = n gives [n / (n + z^2), 1]; k = 0 gives [0, z^2 / (n + z^2)]
    z2 = 1.959963984540054 ** 2
    assert good["within_lo"] == pytest.approx(3 / (3 + z2), abs=1e-9) and good["within_hi"] == pytest.approx(1.0)
    assert res["e"]["random"]["within_hi"] == pytest.approx(z2 / (3 + z2), abs=1e-9)
    # exact one-sided U: all three below all of random's three is 1 ordering in C(6, 3) = 20
    assert good["p"] == pytest.approx(0.05, abs=1e-12) and bad["p"] == pytest.approx(1.0)
    assert res["g"]["zero"]["p"] == 1.0  # every run equal: no evidence either way
    # Holm over the 5 comparisons of all envs: the two 0.05s become 5 * 0.05 = 0.25 and max(4 * 0.05, 0.25)
    assert [res[e]["good"]["p_holm"] for e in "ef"] == pytest.approx([0.25, 0.25], abs=1e-12)
    assert bad["p_holm"] == pytest.approx(1.0) and np.isnan(res["e"]["random"]["p"])
    assert good["early"][0] == pytest.approx(0.02) and 0.01 <= good["early"][1] <= 0.02 <= good["early"][2] <= 0.03


def test_findings_name_the_agents_better_than_random_and_the_tuning_seeds(bench):
    agents = {"random": {"gaps": _gaps([0.5, 0.6, 0.7, 0.8, 0.9, 1.0]), "hv": np.full(6, 0.9)},
              "good": {"gaps": _gaps([0.0, 0.005, 0.01, 0.02, 0.03, 0.04]), "hv": np.full(6, 0.995)},
              "bad": {"gaps": _gaps([0.6, 0.7, 0.8, 0.9, 1.0, 1.1]), "hv": np.full(6, 0.8)},
              "dqn": {"unsupported": "dqn needs one Discrete action per design"}}
    text = bench.findings([{"env": "toy", "agents": agents}], budget=300, seeds=range(100, 106), figures={"sa": 2.0})
    # one-sided exact p = 1 / C(12, 6) = 1/924 for `good`, Holm x 2
    assert "Holm-corrected over the 2 comparisons" in text
    assert "- Better than `random` at 300 evaluations (Holm-corrected p < 0.05): `good`; not shown better: `bad`." in text
    assert "- Within 5% on all 6 seeds: `good`; on fewer than half: `random` 0/6, `bad` 0/6." in text
    assert "- Median HV / true HV ≥ 0.99: `good` 0.995." in text
    assert "- Not applicable: `dqn` (dqn needs one Discrete action per design)." in text
    row = next(line for line in text.splitlines() if line.startswith("| good |"))
    assert row.startswith("| good | 6/6 [61%, 100%] | 1.5% [") and row.endswith(f"| {2 / 924:.2g} |")
    assert "seeds 0-4" in text and "disjoint from the tuning seeds" in text and "`sa` 2 (≤ 1)" in text
    overlapping = bench.findings([{"env": "toy", "agents": agents}], budget=300, seeds=range(3), figures={})
    assert "**These seeds overlap the tuning seeds (0, 1, 2).**" in overlapping


@pytest.mark.parametrize("argv, field", [(["--agents", "random,nope"], "--agents: unknown nope; allowed: random,"),
                                         (["--envs", "mars"], "--envs: unknown mars; allowed: systolic, dram, fpga"),
                                         (["--seeds", "0"], "--seeds: 0; allowed: >= 1"),
                                         (["--budget", "99"], "--budget: 99; allowed: >= 100"),
                                         (["--jobs", "0"], "--jobs: 0; allowed: >= 1"),
                                         (["--seed-base", "0"], "seeds 0..19; the docs need >= 20 seeds disjoint")])
def test_bad_arguments_exit_2_with_one_line(bench, capsys, argv, field):
    with pytest.raises(SystemExit) as e:
        bench.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and field in err and len(err.strip().splitlines()) == 1


def test_tiny_run_saves_json_resumes_and_renders_from_the_file(bench, tmp_path, capsys):
    save = tmp_path / "runs.json"
    argv = ["--agents", "random,sa", "--envs", "systolic", "--budget", "100", "--no-doc", "--save", str(save)]
    assert bench.main([*argv, "--seeds", "2"]) == 0
    saved = json.loads(save.read_text())
    assert sorted((r["agent"], r["seed"]) for r in saved["runs"]) == [("random", 100), ("random", 101), ("sa", 100),
                                                                        ("sa", 101)]
    assert all(len(r["best_curve"]) == 100 for r in saved["runs"]) and set(saved["figures"]) == {"random", "sa"}
    assert not Path(f"{save}.partial").exists()
    first = capsys.readouterr().out
    # an interrupted third seed: one run finished, the next line cut short
    run = dict(saved["runs"][0], seed=102)
    Path(f"{save}.partial").write_text(json.dumps(run) + "\n" + json.dumps(run)[:40])
    assert bench.main([*argv, "--seeds", "3"]) == 0
    err = capsys.readouterr().err
    assert "[1/1] archgym/Systolic-ResNet18-Small-v0 sa seed 102" in err and "[2/" not in err
    assert len(json.loads(save.read_text())["runs"]) == 6
    assert bench.main(["--load", str(save), "--no-doc"]) == 0
    out = capsys.readouterr().out
    assert "Seeds 100..102 (3 per agent and env)" in out and "Seeds 100..101" in first
    assert "| random | 0/3 [0%, 56%] |" in out
