"""The search benchmark: a fixed, versioned suite of tasks that ranks searchers (`archgym bench`).

The suite (`archgym/data/bench/suite.yaml`, read with validate.load_yaml: PyYAML's SafeLoader with
size and alias limits, and no repeated key) names each task once: a registered env id, its
gymnasium.make kwargs, its objective, its budget and the budgets at which regret is reported. Adding a task is one entry there. `tuning_tasks` are the lottery's tuning set
and never appear in the leaderboard.

A benchmark run is an ordinary experiment (tasks x agents x seeds, each agent at one setting)
run by `archgym.experiments.sweep.run_sweep` into an evaluation log: the same executors, the same
SQLite log, resumable, and the experiment file it writes (RUN_DIR/experiment.yaml) runs unchanged
with `archgym sweep --executor ray`. The statistics live in `archgym.analysis.bench`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from numbers import Integral
from pathlib import Path

import yaml

from archgym.core import validate
from archgym.core.errors import ArchGymError, unknown

SUITE_FILE = "data/bench/suite.yaml"
_TOP = ("version", "seeds", "tuning_seeds", "budget", "checkpoints", "targets", "agents", "tasks", "tuning_tasks")
_TASK = ("id", "kwargs", "objective", "budget", "checkpoints", "min_budget", "pareto", "about")


class BenchError(ArchGymError):
    """Bad input to the benchmark: an unknown task or agent, a budget below a task's minimum, or
    seeds that overlap the lottery's tuning seeds in a held-out run. The message names the field."""


@dataclass(frozen=True)
class Task:
    """One suite task: env `id` with `kwargs` and `objective`; `budget` evaluations per search;
    regret reported at each of `checkpoints`; a budget below `min_budget` is refused."""
    name: str
    id: str
    kwargs: dict = field(default_factory=dict)
    objective: object = None
    budget: int = 1000
    checkpoints: tuple = (100, 300, 1000)
    min_budget: int = 100
    pareto: tuple = ()
    about: str = ""

    @property
    def multi_objective(self) -> bool:
        """A task scored by its front (hypervolume, IGD+) rather than one scalar."""
        mode = self.objective.get("mode") if isinstance(self.objective, Mapping) else self.objective
        return mode == "vector"

    def make(self):
        """The task's env (gymnasium.make with its kwargs and objective)."""
        import gymnasium as gym
        import archgym  # noqa: F401  (registers the envs)
        kwargs = dict(self.kwargs)
        if self.objective is not None:
            kwargs["objective"] = self.objective
        return gym.make(self.id, **kwargs)

    def env_entry(self, budget: int) -> dict:
        """This task as an env entry of an experiment file."""
        entry = {"id": self.id, "label": self.name, "budget": int(budget)}
        if self.kwargs:
            entry["kwargs"] = dict(self.kwargs)
        if self.objective is not None:
            entry["objective"] = self.objective
        if self.pareto:
            entry["pareto"] = list(self.pareto)
        return entry

    def checkpoints_for(self, budget: int) -> list[int]:
        """The reporting budgets within `budget`, always ending at `budget`."""
        return sorted({c for c in self.checkpoints if c < budget} | {int(budget)})


@dataclass(frozen=True)
class Suite:
    """The parsed suite file (see the module docstring)."""
    version: int
    tasks: dict[str, Task]
    tuning_tasks: dict[str, Task]
    agents: tuple[str, ...]
    seeds: int
    tuning_seeds: tuple[int, ...]
    targets: tuple[float, ...]
    source: str = ""

    def task(self, name: str) -> Task:
        everything = {**self.tasks, **self.tuning_tasks}
        if name not in everything:
            raise BenchError(str(unknown("task", name, list(everything))).replace("unknown task", "--tasks: unknown task"))
        return everything[name]


def load_suite(path: str | Path | None = None) -> Suite:
    """The suite shipped with archgym (or the YAML file at `path`), checked key by key."""
    if path is None:
        text, source = resources.files("archgym").joinpath(SUITE_FILE).read_text(), f"archgym/{SUITE_FILE}"
    else:
        text, source = validate.text(path, "suite file", validate.MAX_YAML_BYTES, BenchError), str(path)
    data = validate.load_yaml(text, source, error=BenchError)[0]
    if not isinstance(data, dict):
        raise BenchError(f"{source}: a suite is a mapping with keys {', '.join(_TOP)}")
    for k in data:
        if k not in _TOP:
            raise BenchError(f"{source}: unknown key {k!r}; allowed: {', '.join(_TOP)}")
    defaults = {"budget": _count(source, "budget", data.get("budget", 1000)),
                "checkpoints": tuple(_counts(source, "checkpoints", data.get("checkpoints", [100, 300, 1000])))}
    tasks = {n: _task(source, n, e, defaults) for n, e in (data.get("tasks") or {}).items()}
    tuning = {n: _task(source, n, e, defaults) for n, e in (data.get("tuning_tasks") or {}).items()}
    clash = sorted(set(tasks) & set(tuning))
    if clash:
        raise BenchError(f"{source}: task {clash[0]!r} is both a suite task and a tuning task")
    if not tasks:
        raise BenchError(f"{source}: tasks: the suite needs at least one task")
    targets = tuple(float(t) for t in data.get("targets", [0.01, 0.05]))
    if not targets or not all(0 < t < 1 for t in targets):
        raise BenchError(f"{source}: targets: regret targets are fractions in (0, 1), got {list(targets)}")
    return Suite(int(data.get("version", 1)), tasks, tuning, tuple(data.get("agents") or ()),
                 _count(source, "seeds", data.get("seeds", 20)),
                 tuple(range(_count(source, "tuning_seeds", data.get("tuning_seeds", 10)))), targets, source)


def _count(source: str, key: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
        raise BenchError(f"{source}: {key}: must be a positive integer, got {v!r}")
    return int(v)


def _counts(source: str, key: str, v) -> list[int]:
    if not isinstance(v, list) or not v:
        raise BenchError(f"{source}: {key}: must be a non-empty list of positive integers, got {v!r}")
    return [_count(source, key, x) for x in v]


def _task(source: str, name: str, entry, defaults: dict) -> Task:
    where = f"{source}: task {name!r}"
    if not isinstance(entry, dict) or "id" not in entry:
        raise BenchError(f"{where}: needs an 'id' (a registered env id)")
    for k in entry:
        if k not in _TASK:
            raise BenchError(f"{where}: unknown key {k!r}; allowed: {', '.join(_TASK)}")
    budget = _count(where, "budget", entry.get("budget", defaults["budget"]))
    checkpoints = tuple(_counts(where, "checkpoints", entry.get("checkpoints", list(defaults["checkpoints"]))))
    min_budget = _count(where, "min_budget", entry.get("min_budget", min(checkpoints)))
    if budget < min_budget:
        raise BenchError(f"{where}: budget {budget} is below its min_budget {min_budget}")
    return Task(name, entry["id"], dict(entry.get("kwargs") or {}), entry.get("objective"), budget, checkpoints,
                min_budget, tuple(entry.get("pareto") or ()), str(entry.get("about", "")).strip())


# --- a benchmark run ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """What one `archgym bench` invocation runs: tasks, agents with their settings, seeds, budget."""
    name: str
    tasks: tuple[Task, ...]
    agents: dict[str, list[dict]]   # agent -> settings (hparams); one ({}: defaults) unless held out
    seeds: tuple[int, ...]
    budget: int | None              # None: each task's own budget
    held_out: bool = False

    def budget_of(self, task: Task) -> int:
        return task.budget if self.budget is None else self.budget

    def experiment(self) -> dict:
        """The experiment file (a dict) that `run_sweep` runs."""
        agents = []
        for name, settings in self.agents.items():
            for hp in settings:
                agents.append({"name": name, "hparams": dict(hp)} if hp else name)
        return {"name": self.name, "description": f"archgym bench ({'held-out seeds' if self.held_out else 'suite'})",
                "seeds": list(self.seeds), "envs": [t.env_entry(self.budget_of(t)) for t in self.tasks],
                "agents": agents}


def plan(suite: Suite, tasks: Sequence[str] | None = None, agents: Sequence[str] | None = None,
         seeds: Sequence[int] | int | None = None, budget: int | None = None, held_out: bool = False,
         tuned: Mapping[str, dict] | None = None, include_tuning_tasks: bool = False, defaults: bool = True) -> Plan:
    """Check a benchmark request against the suite; every error names the field (--tasks, --agents,
    --budget, --seeds). `tuned` maps agent -> tuned hyper-parameters (held-out runs compare each
    agent's default setting with its tuned one); `defaults=False` runs only the tuned settings that
    differ from the defaults."""
    from agents import AGENTS
    names = list(tasks) if tasks else list(suite.tasks) + (list(suite.tuning_tasks) if include_tuning_tasks else [])
    if len(set(names)) != len(names):
        raise BenchError(f"--tasks: repeated task in {names}")
    chosen = tuple(suite.task(n) for n in names)
    agent_names = list(agents) if agents else list(suite.agents)
    for a in agent_names:
        if a not in AGENTS:
            raise BenchError(f"--agents: unknown agent {a!r}; valid: {', '.join(AGENTS)}")
    if len(set(agent_names)) != len(agent_names):
        raise BenchError(f"--agents: repeated agent in {agent_names}")
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, Integral) or budget < 1:
            raise BenchError(f"--budget: must be a positive integer number of evaluations, got {budget!r}")
        for t in chosen:
            if budget < t.min_budget:
                raise BenchError(f"--budget: {budget} is below the minimum budget of task {t.name!r} ({t.min_budget} "
                                 f"evaluations, its first reporting budget)")
    seed_list = _seed_list(suite, seeds, held_out)
    for t in chosen:  # an agent that cannot search a task's space is refused here, not in a worker
        space = _space(t)
        for a in agent_names:
            try:
                AGENTS[a]().check_space(space)
            except ArchGymError as e:
                raise BenchError(f"--agents: agent {a!r} cannot search task {t.name!r}: {e}") from None
    settings = {a: [{}] if defaults else [] for a in agent_names}
    for a, hp in (tuned or {}).items():
        full = AGENTS[a].check_hparams(hp)
        if a in settings and full != AGENTS[a].check_hparams({}):
            settings[a].append(full)
    settings = {a: s for a, s in settings.items() if s}
    if not settings:
        raise BenchError("--agents: no agent setting to run (every tuned setting is its default)")
    kind = "heldout" if held_out else "suite"
    return Plan(f"bench-v{suite.version}-{kind}", chosen, settings, tuple(seed_list), budget, held_out)


def _seed_list(suite: Suite, seeds, held_out: bool) -> list[int]:
    tuning = set(suite.tuning_seeds)
    if seeds is None:
        start = max(tuning) + 1 if held_out else 0
        return list(range(start, start + suite.seeds))
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise BenchError(f"--seeds: must be a positive count or a list of seeds, got {seeds!r}")
        start = max(tuning) + 1 if held_out else 0
        return list(range(start, start + int(seeds)))
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, Integral) or s < 0 for s in out):
        raise BenchError(f"--seeds: seeds are non-negative integers, got {out!r}")
    if len(set(out)) != len(out):
        raise BenchError(f"--seeds: repeated seed in {out}")
    overlap = sorted(tuning & set(out))
    if held_out and overlap:
        raise BenchError(f"--seeds: {overlap} overlap the lottery's tuning seeds {min(tuning)}-{max(tuning)}; "
                         f"a held-out run reports on other seeds (default {max(tuning) + 1}-{max(tuning) + suite.seeds})")
    return [int(s) for s in out]


_SPACES: dict = {}


def _space(task: Task):
    if task.name not in _SPACES:
        _SPACES[task.name] = task.make().unwrapped.space
    return _SPACES[task.name]


def run(p: Plan, out: str | Path | None = None, executor: str = "local", workers: int | None = None,
        address: str | None = None, progress: bool | None = None):
    """Run (or resume) a plan's sweep into `out` (default runs/<plan name>); returns the SweepSummary."""
    from archgym.experiments.spec import load_experiment
    from archgym.experiments.sweep import run_sweep
    text = yaml.safe_dump(p.experiment(), sort_keys=False)
    exp = load_experiment(text, filename=f"<{p.name}>")
    return run_sweep(exp, out=out if out is not None else Path("runs") / p.name, executor=executor, workers=workers,
                     address=address, progress=progress)
