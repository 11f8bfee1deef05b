"""The experiment file: YAML listing envs × agents × hyper-parameter settings × seeds × budget.

    name: lottery                     # optional; default: the file's stem
    budget: 500                       # evaluations per cell (an env entry may override it)
    seeds: 5                          # seeds 0..4, or a list such as [0, 7, 42]
    envs:
      - archgym/Systolic-ResNet18-Small-v0
      - id: archgym/DRAMController-v0
        label: dram-random            # its name in the log (default: the id, plus kwargs if any)
        kwargs: {trace: random}       # passed to gymnasium.make
        objective: target             # a mode name, or a dict as in archgym.core.objectives
        budget: 300
        pareto: [latency_s, power_w]  # 2 or 3 metrics for plots (default: the objective's)
    agents:
      - random                        # a registered agent with its default hyper-parameters
      - name: ga                      # a registered agent, or "module:Class" (an agents.Agent)
        hparams: {population: 32}     # fixed in every setting
        grid: {mutation_rate: [0.05, 0.15, 0.3]}   # full-factorial product
        sample: 20                    # random settings from the declared ranges...
        ranges: {tournament_size: [2, 8]}          # ...optionally narrowed ([low, high] or choices)
        sample_seed: 0

A cell is one (env, agent, hyper-parameter setting, seed) search of `budget` evaluations. The file
is read with yaml.safe_load; yaml.compose supplies line numbers, so every error names the file,
line and key. Checks that need the env itself (its kwargs, objective and metric names) run in
`Experiment.check_envs`, which also builds each env once.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import import_module
from numbers import Integral
from pathlib import Path

import numpy as np
import yaml

from archgym.core import validate
from archgym.core.errors import ArchGymError

_TOP = ("name", "description", "budget", "seeds", "envs", "agents")
_ENV = ("id", "label", "kwargs", "objective", "budget", "pareto")
_AGENT = ("name", "hparams", "grid", "sample", "ranges", "sample_seed")
_MAX_SAMPLE_TRIES = 1000  # rejection sampling of settings that break an agent's cross-field rules


class ExperimentError(ArchGymError):
    """A bad experiment file; the message starts with file:line and names the key."""


def canonical(obj) -> str:
    """Stable JSON text (sorted keys, no spaces) used for hashes and for hyper-parameters in the log."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON-serialisable")


def _jsonable(obj):
    """YAML data as JSON data: keys as text, dates, sets and bytes as their repr (for the file's hash)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj)


def _digest(obj, n: int = 16) -> str:
    return hashlib.sha256(canonical(obj).encode()).hexdigest()[:n]


# --- the parsed file with its line numbers ------------------------------------------------------------
class Source:
    """A YAML document's data (yaml.safe_load) plus the line of every key and item (yaml.compose)."""

    def __init__(self, text: str, filename: str = "<experiment>"):
        self.filename = filename
        self.data, root = validate.load_yaml(text, filename, error=ExperimentError)
        self.lines: dict[tuple, int] = {}
        if root is not None:
            self._walk(root, ())

    def _walk(self, node, path: tuple) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):   # validate.load_yaml refused repeated keys
            for key, value in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else f"<{key.tag.rpartition(':')[2]} key>"
                self.lines[path + (k,)] = key.start_mark.line + 1
                self._walk(value, path + (k,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, path + (i,))

    def line(self, path: tuple) -> int:
        """Line of `path`, or of its closest parent that has one."""
        path = tuple(p if isinstance(p, int) else str(p) for p in path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def error(self, path: tuple, message: str) -> ExperimentError:
        return ExperimentError(f"{self.filename}:{self.line(path)}: {_where(path)}: {message}")


def _where(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "experiment"


# --- what the file describes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnvSpec:
    """One env entry: a registered id (or 'module:Id'), its gymnasium.make kwargs and objective."""
    id: str
    label: str
    kwargs: dict = field(default_factory=dict)
    objective: object = None
    budget: int = 0
    pareto: tuple = ()
    where: str = field(default="", compare=False)  # "file:line: envs[i]" for later errors

    @property
    def identity(self) -> dict:
        """What makes two entries the same env (the cell key is built from it)."""
        return {"id": self.id, "kwargs": self.kwargs, "objective": self.objective}

    def make(self):
        """gymnasium.make(id, **kwargs, objective=...) (archgym envs register on import)."""
        import gymnasium as gym
        import archgym  # noqa: F401  (registers the envs)
        kwargs = dict(self.kwargs)
        if self.objective is not None:
            kwargs["objective"] = self.objective
        return gym.make(self.id, **kwargs)


@dataclass(frozen=True)
class Cell:
    """One search: `agent` with `hparams` on `env` for `budget` evaluations from `seed`."""
    env: EnvSpec
    agent: str
    hparams: dict
    setting: int  # index of the hyper-parameter setting among this agent's settings
    seed: int
    budget: int

    @cached_property
    def key(self) -> str:
        """Stable 16-hex-digit id: equal cells in any run or file get the same key."""
        return _digest({"env": self.env.identity, "agent": self.agent, "hparams": self.hparams,
                        "seed": self.seed, "budget": self.budget})

    def __repr__(self) -> str:
        return f"Cell({self.env.label}, {self.agent}#{self.setting}, seed={self.seed})"


@dataclass
class Experiment:
    """A validated experiment file. `cells()` lists every search, env-major."""
    name: str
    envs: list[EnvSpec]
    agents: dict[str, list[dict]]  # agent name -> its distinct hyper-parameter settings
    seeds: list[int]
    text: str = ""
    path: str | None = None
    description: str = ""
    data: dict = field(default_factory=dict, repr=False)

    @cached_property
    def hash(self) -> str:
        """Hash of the file's content as data (comments, spacing and key order do not count)."""
        return hashlib.sha256(json.dumps(_jsonable(self.data), sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def cells(self) -> list[Cell]:
        return [Cell(env, agent, hp, i, seed, env.budget)
                for env in self.envs for agent, settings in self.agents.items()
                for i, hp in enumerate(settings) for seed in self.seeds]

    @property
    def n_evaluations(self) -> int:
        n = sum(len(s) for s in self.agents.values()) * len(self.seeds)
        return n * sum(e.budget for e in self.envs)

    def check_envs(self) -> dict:
        """Build every env once (label -> env) and check its kwargs, objective and pareto metrics;
        errors name the env entry's line."""
        out = {}
        for spec in self.envs:
            try:
                env = spec.make()
            except ArchGymError as e:
                raise ExperimentError(f"{spec.where}: {e}") from None
            except TypeError as e:  # a kwarg the evaluator does not take
                raise ExperimentError(f"{spec.where}: {e}") from None
            names = list(env.unwrapped.evaluator.metric_names)
            for m in spec.pareto:
                if m not in names:
                    raise ExperimentError(f"{spec.where}.pareto: unknown metric {m!r}; valid: {', '.join(names)}")
            out[spec.label] = env
        return out


# --- loading -------------------------------------------------------------------------------------------
def load_experiment(source: str | Path | Mapping, filename: str | None = None) -> Experiment:
    """Parse and validate an experiment: a file path, YAML text (with `filename` for messages), or a dict."""
    path = None
    if isinstance(source, Mapping):
        try:
            text = yaml.safe_dump(dict(source), sort_keys=False)
        except yaml.YAMLError as e:
            raise ExperimentError(f"{filename or '<experiment>'}: cannot write this experiment as YAML: {e}") from None
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        text = validate.text(path, "experiment file", validate.MAX_YAML_BYTES, error=ExperimentError)
        filename = filename or str(path)
    else:
        text = source
    src = Source(text, filename or "<experiment>")
    data = src.data
    if not isinstance(data, dict):
        raise src.error((), "an experiment file is a mapping with keys " + ", ".join(_TOP))
    _check_keys(src, (), data, _TOP)
    for key in ("envs", "agents"):
        if key not in data:
            raise src.error((), f"missing key {key!r}")
    budget = _budget(src, ("budget",), data["budget"]) if "budget" in data else None
    seeds = _seeds(src, data.get("seeds", 1))
    envs = _envs(src, data["envs"], budget)
    agents = _agents(src, data["agents"])
    n_cells = sum(len(v) for v in agents.values()) * len(seeds) * len(envs)
    if n_cells > validate.MAX_CELLS:
        raise src.error((), f"{n_cells:,} cells (envs x settings x seeds) is over the limit of {validate.MAX_CELLS:,} "
                            f"searches per experiment; split it into several files")
    default_name = path.stem if path is not None else "experiment"
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name or "/" in name:
        raise src.error(("name",), f"must be a non-empty string without '/', got {name!r}")
    return Experiment(name, envs, agents, seeds, text, None if path is None else str(path),
                      str(data.get("description", "")), data)


def _check_keys(src: Source, path: tuple, entry: Mapping, allowed) -> None:
    for k in entry:
        if k not in allowed:
            raise src.error(path + (k,), f"unknown key {k!r}; allowed: {', '.join(allowed)}")


def _positive_int(src: Source, path: tuple, v, high: int) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral) or not 1 <= v <= high:
        raise src.error(path, f"must be a positive integer up to {high:,}, got {v!r}")
    return int(v)


def _budget(src: Source, path: tuple, v) -> int:
    return _positive_int(src, path, v, validate.MAX_BUDGET)


def _seed(src: Source, path: tuple, v, what: str = "a seed") -> int:
    if isinstance(v, bool) or not isinstance(v, Integral) or not 0 <= v <= validate.MAX_SEED:
        raise src.error(path, f"{what} must be an integer in [0, {validate.MAX_SEED:,}], got {v!r}")
    return int(v)


def _seeds(src: Source, v) -> list[int]:
    if isinstance(v, Integral) and not isinstance(v, bool):
        return list(range(_positive_int(src, ("seeds",), v, validate.MAX_CELLS)))
    if not isinstance(v, list) or not v:
        raise src.error(("seeds",), f"must be a count or a non-empty list of seeds, got {v!r}")
    for i, s in enumerate(v):
        _seed(src, ("seeds", i), s)
    if len(set(v)) != len(v):
        raise src.error(("seeds",), f"repeated seeds in {v}")
    return [int(s) for s in v]


def _envs(src: Source, entries, budget: int | None) -> list[EnvSpec]:
    import gymnasium as gym
    import archgym  # noqa: F401  (registers the envs)
    if not isinstance(entries, list) or not entries:
        raise src.error(("envs",), "must be a non-empty list of env ids or {id: ...} entries")
    out, labels = [], {}
    for i, entry in enumerate(entries):
        path = ("envs", i)
        if isinstance(entry, str):
            entry = {"id": entry}
        if not isinstance(entry, dict) or "id" not in entry:
            raise src.error(path, "an env entry is an id string or a mapping with an 'id' key")
        _check_keys(src, path, entry, _ENV)
        env_id = entry["id"]
        if not isinstance(env_id, str):
            raise src.error(path + ("id",), f"must be a string, got {env_id!r}")
        _check_env_id(src, path + ("id",), env_id, gym)
        kwargs = entry.get("kwargs", {}) or {}
        if not isinstance(kwargs, dict):
            raise src.error(path + ("kwargs",), "must be a mapping of gymnasium.make keyword arguments")
        if "objective" in kwargs:
            raise src.error(path + ("kwargs", "objective"), "put the objective in the entry's 'objective' key")
        objective = entry.get("objective")
        if objective is not None and not isinstance(objective, (str, dict)):
            raise src.error(path + ("objective",), "must be a mode name or a mapping with 'mode'")
        if "budget" in entry:
            b = _budget(src, path + ("budget",), entry["budget"])
        elif budget is None:
            raise src.error(path, "no budget: set a top-level 'budget' or one in this entry")
        else:
            b = budget
        pareto = entry.get("pareto", ())
        if pareto and (not isinstance(pareto, list) or not 2 <= len(pareto) <= 3
                       or not all(isinstance(m, str) for m in pareto)):
            raise src.error(path + ("pareto",), f"must list 2 or 3 metric names, got {pareto!r}")
        label = entry.get("label") or (env_id + (canonical(kwargs) if kwargs else ""))
        if not isinstance(label, str):
            raise src.error(path + ("label",), f"must be a string, got {label!r}")
        if label in labels:
            raise src.error(path, f"env label {label!r} is also used by envs[{labels[label]}]; give one a 'label'")
        labels[label] = i
        where = f"{src.filename}:{src.line(path)}: {_where(path)} ({env_id})"
        out.append(EnvSpec(env_id, label, kwargs, objective, b, tuple(pareto), where))
    return out


def _check_env_id(src: Source, path: tuple, env_id: str, gym) -> None:
    module, sep, name = env_id.partition(":")
    if sep:  # Gymnasium's "module:EnvId": importing the module registers the env
        try:
            import_module(module)
        except ImportError as e:
            raise src.error(path, f"cannot import module {module!r} for env {env_id!r}: {e}") from None
        env_id = name
    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("archgym/"))
        raise src.error(path, f"unknown env {env_id!r}; valid: {', '.join(known)}")


def agent_class(name: str):
    """The Agent class for a registry name or a 'module:Class' path (UnknownNameError if neither)."""
    from agents import AGENTS, Agent
    if ":" not in name:
        return AGENTS[name]
    module, _, attr = name.partition(":")
    cls = getattr(import_module(module), attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise ArchGymError(f"{name!r} is not an agents.Agent subclass")
    return cls


def _agents(src: Source, entries) -> dict[str, list[dict]]:
    if not isinstance(entries, list) or not entries:
        raise src.error(("agents",), "must be a non-empty list of agent names or {name: ...} entries")
    out: dict[str, list[dict]] = {}
    for i, entry in enumerate(entries):
        path = ("agents", i)
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise src.error(path, "an agent entry is a name or a mapping with a 'name' key")
        _check_keys(src, path, entry, _AGENT)
        try:
            cls = agent_class(entry["name"])
        except (ArchGymError, ImportError) as e:
            raise src.error(path + ("name",), str(e)) from None
        settings = out.setdefault(entry["name"], [])
        for s in _settings(src, path, entry, cls):
            if s not in settings:
                settings.append(s)
    return out


def _settings(src: Source, path: tuple, entry: dict, cls) -> list[dict]:
    """The entry's hyper-parameter settings: fixed values × grid product × random samples."""
    decl = {h.name: h for h in cls.hyperparams}

    def declared(key: str) -> dict:
        table = entry.get(key, {}) or {}
        if not isinstance(table, dict):
            raise src.error(path + (key,), "must be a mapping of hyper-parameter name to value(s)")
        for k in table:
            if k not in decl:
                raise src.error(path + (key, k), f"unknown hyper-parameter {k!r} of agent {entry['name']!r}; "
                                                 f"valid: {', '.join(decl) or '(none)'}")
        return table

    def check(key: tuple, h, value):
        try:
            return h.check(value, entry["name"])
        except ArchGymError as e:
            raise src.error(path + key, str(e)) from None

    fixed = {k: check(("hparams", k), decl[k], v) for k, v in declared("hparams").items()}
    grid = declared("grid")
    axes = []
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise src.error(path + ("grid", k), "must be a non-empty list of values")
        axes.append([(k, check(("grid", k, j), decl[k], v)) for j, v in enumerate(values)])
    free = {k: h for k, h in decl.items() if k not in fixed and k not in grid}
    for k, r in declared("ranges").items():
        if k not in free:
            raise src.error(path + ("ranges", k), f"{k!r} is fixed or on the grid; it cannot also be sampled")
        free[k] = _narrow(src, path, ("ranges", k), decl[k], r, check)
    n = _positive_int(src, path + ("sample",), entry["sample"], validate.MAX_SAMPLE) if "sample" in entry else 0
    if n == 0 and "ranges" in entry:
        raise src.error(path + ("ranges",), "'ranges' needs 'sample: N'")
    settings = math.prod(len(a) for a in axes) * max(n, 1)
    if settings > validate.MAX_CELLS:
        raise src.error(path, f"grid x sample makes {settings:,} hyper-parameter settings, over the limit of "
                              f"{validate.MAX_CELLS:,} searches per experiment")
    seed = _seed(src, path + ("sample_seed",), entry.get("sample_seed", 0), "sample_seed")
    rng = np.random.default_rng(seed)
    out = []
    for combo in itertools.product(*axes):
        base = {**fixed, **dict(combo)}
        if not n:
            out.append(_valid(src, path, cls, base))
        for _ in range(n):
            for _try in range(_MAX_SAMPLE_TRIES):
                setting = {**base, **{k: _plain_value(h.sample(rng)) for k, h in free.items()}}
                try:
                    out.append(_valid(src, path, cls, setting, raw=True))
                    break
                except ArchGymError:
                    continue
            else:
                _valid(src, path, cls, setting)  # raises the located error
    return out


def _plain_value(v):
    return v.item() if isinstance(v, np.generic) else v


def _narrow(src: Source, path: tuple, key: tuple, h, r, check):
    """A copy of HyperParam `h` sampled from [low, high] or from a subset of its choices."""
    if h.choices is not None:
        if not isinstance(r, list) or not r:
            raise src.error(path + key, f"must be a non-empty list of choices from {list(h.choices)}")
        return replace(h, choices=tuple(check(key, h, v) for v in r))
    if not isinstance(r, list) or len(r) != 2:
        raise src.error(path + key, f"must be [low, high] within [{h.low:g}, {h.high:g}], got {r!r}")
    low, high = (check(key, h, v) for v in r)
    if low > high:
        raise src.error(path + key, f"low {low} is above high {high}")
    return replace(h, low=low, high=high)


def _valid(src: Source, path: tuple, cls, setting: dict, raw: bool = False) -> dict:
    """`setting` completed with defaults, after the agent's own checks (cross-field rules included)."""
    try:
        agent = cls(seed=0, **setting)
    except ArchGymError as e:
        if raw:
            raise
        raise src.error(path, str(e)) from None
    return {k: _plain_value(v) for k, v in agent.hparams.items()}
