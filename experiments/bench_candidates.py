"""Landscapes of the tasks the benchmark suite rejected, beside the suite's own: writes the
`candidates` block of docs/leaderboard.md.

    python experiments/bench_candidates.py

Each candidate is enumerated once (cached like the suite's truth, `archgym.analysis.truth`).
"""
from __future__ import annotations

from pathlib import Path

from archgym.analysis.truth import task_truth
from archgym.experiments.bench import Task, load_suite
from archgym.report.leaderboard import landscape_markdown, write_block

DOC = Path(__file__).resolve().parent.parent / "docs" / "leaderboard.md"
DRAM = load_suite().task("dram-mix-p99")  # the suite's DRAM task: trace, fixed knobs and floor (suite.yaml says why)
REJECTED = [  # (task, why it is not in the suite)
    (Task("systolic-bert-edap", "archgym/Systolic-v0", {"workload": "bert_base_128"}),
     "BERT-base, EDAP over the general systolic space: few local optima, steepest ascent reaches the optimum from most starts"),
    (Task("systolic-vit-edap", "archgym/Systolic-v0", {"workload": "vit_b16"}),
     "ViT-B/16, EDAP: as easy; kept as a multi-objective task (systolic-vit-front), where the front is the goal"),
    (Task("dram-cloud1-powercap", "archgym/DRAMController-Cloud1-v0",
          {"refresh_max_postponed": 0, "refresh_max_pulledin": 0},
          {"mode": "constraint", "optimize": "latency_s", "limits": {"power_w": 0.9}}),
     "suite v1's DRAM task (cloud-1, latency under a 0.9 W cap): under DRAMSys 4.0's semantics 648 designs tie "
     "for the optimum and random search gets within 1% in a median of 84 evaluations, so suite v2 dropped it"),
    (Task("dram-mix-p99-archgym-knobs", "archgym/DRAMController-v0",
          {k: v for k, v in DRAM.kwargs.items() if k not in ("refresh_policy", "power_down_policy")}, DRAM.objective),
     "dram-mix-p99 with ArchGym's refresh-policy and power-down knobs left open: its optimum switches refresh off, "
     "which no DRAM may do, so the suite's task keeps all-bank refresh (and power-down, ours and never entered "
     "on this trace, off)"),
    (Task("dram-mix-avg-read", "archgym/DRAMController-v0", DRAM.kwargs,
          {**DRAM.objective, "optimize": "avg_read_latency_ns"}),
     "DRAMController-MixedLatency-v0's objective (average read latency) on dram-mix-p99's space and floor: it passes "
     "the random-search rule, but its few local optima and wide steepest-ascent basin leave it to any climber, and an "
     "average hides the tail that a latency QoS is written against"),
    (Task("dram-mix-powercap", "archgym/DRAMController-v0", DRAM.kwargs,
          {"mode": "constraint", "optimize": "latency_s", "limits": {"power_w": 0.8}}),
     "suite v1's kind of objective (total time under a 0.8 W power cap) on dram-mix-p99's trace and space: random "
     "search gets within 1% in fewer than 100 evaluations"),
    (Task("fpga-dataflow-cnv", "archgym/FPGADataflow-v0"),
     "CNV on FPGADataflow-v0 (the earlier comparison's FPGA env): too small to search"),
]


def main() -> None:
    suite = load_suite()
    data = {"tasks": {}}
    notes = []
    for task, why in REJECTED:
        data["tasks"][task.name] = {"landscape": task_truth(task, report=print).landscape}
        notes.append(f"- `{task.name}`: {why}.")
    for name, task in {**suite.tuning_tasks, **suite.tasks}.items():
        data["tasks"][name] = {"landscape": task_truth(task, report=print).landscape}
        where = "tuning task (the lottery's; not in the leaderboard)" if name in suite.tuning_tasks else "suite task"
        notes.append(f"- `{name}`: {where}.")
    write_block(DOC, "candidates", "python experiments/bench_candidates.py",
                 landscape_markdown(data) + "\n\n" + "\n".join(notes))
    print(f"wrote the candidates block of {DOC}")


if __name__ == "__main__":
    main()
