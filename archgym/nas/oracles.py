"""Accuracy oracles: one number per architecture of a network space, named for what they measure.

- `trained`: trains the network with torch on an offline dataset for a fixed small budget and
  returns its test top-1 accuracy (fraction). Cached by architecture hash.
- `tabular`: looks the architecture up in the shipped mini-benchmark (`trained` results over the
  `mbv2-tab` space). Never invents a number: a missing entry raises `MissingEntryError`.
- `predictor`: a small torch MLP fit on the table (or an evaluation log); reports held-out RMSE
  and Kendall tau against the `trained` numbers it was fit on.
- `nb201`: NAS-Bench-201 cells' CIFAR-10 test accuracy from the shipped AnalogNAS-Bench table
  (200 epochs, one run per cell): float32 (`baseline`), or W8A8 post-training quantised (`ptq`)
  or quantisation-aware trained (`qat`).
- `zero-cost`: a training-free score at initialisation (NASWOT or synflow). Not an accuracy: it
  is reported as the metric `score`, and only its ranking means anything.

Only `nb201` is a standard benchmark (CIFAR-10); none is ImageNet accuracy; docs/oracles.md says how far each one is from it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from archgym.core.errors import ArchGymError, unknown
from archgym.nas.spaces import DATA_DIR, NetworkSpace, get_space
from archgym.nas.train import Budget


class MissingEntryError(ArchGymError):
    """The tabular benchmark has no entry for an architecture (it never invents one)."""


class Oracle:
    """Maps architectures of `space` to one float each (`metric`: "accuracy" or "score")."""
    name = "oracle"
    metric = "accuracy"
    measures = ""

    def __init__(self, space: str | NetworkSpace):
        self.space = get_space(space)
        self._cache: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space.name!r})"

    def __call__(self, archs: Sequence[Mapping] | Mapping) -> np.ndarray:
        """The metric for a list of architecture dicts (or one dict), as a float64 array."""
        if isinstance(archs, Mapping):
            archs = [archs]
        return np.array([self.query(a) for a in archs], dtype=np.float64)

    def query(self, arch: Mapping) -> float:
        """The metric for one architecture (cached by its hash)."""
        key = self.space.hash(arch)
        if key not in self._cache:
            self._cache[key] = float(self._compute(self.space.validate(arch), key))
        return self._cache[key]

    def values(self, idx: np.ndarray, space: NetworkSpace | None = None) -> np.ndarray:
        """The metric for an (n, n_params) index array over `space` (default: the oracle's own);
        envs call this on their hot path."""
        sub = space or self.space
        return self(list(map(sub.space.from_indices, np.atleast_2d(idx))))

    def _compute(self, arch: dict, key: str) -> float:
        raise NotImplementedError


def arch_seed(key: str, seed: int) -> int:
    """A per-architecture seed from the architecture hash and the run seed."""
    return (int(key[:8], 16) + 1_000_003 * int(seed)) % 2**31


# --- trained ------------------------------------------------------------------------------------------
class TrainedOracle(Oracle):
    """Train each architecture on `dataset` ("digits-canvas", or a torch Dataset of (C x H x W
    image, label) pairs, with an optional `test_dataset`) for `budget`; return test accuracy.
    `quant_bits`: (weight bits, activation bits) pairs at which `train` also reports the
    post-training-quantised accuracy `accuracy_w{w}a{a}`. Results are cached by hash in memory
    and, with `cache_path`, in a JSON-lines file."""
    name = "trained"
    measures = "test top-1 accuracy after a short fixed training budget on a small offline task"

    def __init__(self, space: str | NetworkSpace = "mbv2", dataset="digits-canvas", test_dataset=None,
                 budget: Budget | Mapping | None = None, seed: int = 0, cache_path: str | Path | None = None,
                 quant_bits: Sequence[tuple[int, int]] = ()):
        super().__init__(space)
        from archgym.nas.data import load_data
        self.data = load_data(dataset, test_dataset)
        self.data.check(self.space.in_channels, self.space.num_classes, self.space.name)
        self.budget = budget if isinstance(budget, Budget) else Budget(**(budget or {}))
        self.seed = int(seed)
        self.quant_bits = [(int(w), int(a)) for w, a in quant_bits]
        self.results: dict[str, dict] = {}
        self.setting = {"dataset": self.data.name, "budget": self.budget.to_config(), "seed": self.seed}
        if self.quant_bits:
            self.setting["quant_bits"] = [list(b) for b in self.quant_bits]
        self.cache_path = Path(cache_path) if cache_path else None
        if self.cache_path and self.cache_path.exists():
            for line in self.cache_path.read_text().splitlines():
                row = json.loads(line) if line.strip() else None
                if row and row.get("setting") == self.setting:
                    self.results[row["hash"]] = row
                    self._cache[row["hash"]] = row["accuracy"]

    def train(self, arch: Mapping) -> dict:
        """Train `arch` (or return the cached run): accuracy, train_loss, train_time_s, params, macs."""
        arch = self.space.validate(arch)
        key = self.space.hash(arch)
        if key not in self.results:
            from archgym.nas.train import activation_ranges, quantized_accuracy, train_and_evaluate
            from archgym.threads import one_torch_thread
            s = arch_seed(key, self.seed)
            model = self.space.build(arch, seed=s)
            x_train, y_train, x_test, y_test = self.data.at(arch["resolution"])
            with one_torch_thread():
                out = train_and_evaluate(model, x_train, y_train, x_test, y_test, self.budget, seed=s)
                ranges = activation_ranges(model, x_train[:128]) if self.quant_bits else None
                for w, a in self.quant_bits:
                    out[f"accuracy_w{w}a{a}"] = quantized_accuracy(model, ranges, x_test, y_test, w, a)
            out.update(params=sum(p.numel() for p in model.parameters()), macs=self.space.macs(arch))
            row = {"hash": key, "arch": arch, "setting": self.setting, **out}
            self.results[key] = row
            if self.cache_path:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                with self.cache_path.open("a") as f:
                    f.write(json.dumps(row) + "\n")
        return self.results[key]

    def _compute(self, arch: dict, key: str) -> float:
        return self.train(arch)["accuracy"]


# --- tabular ------------------------------------------------------------------------------------------
TABLE = DATA_DIR / "mbv2-tab.csv"


class TabularOracle(Oracle):
    """Look architectures up in a precomputed table (default: the shipped `mbv2-tab` benchmark).
    Any architecture of the table's family space is accepted; one without an entry raises
    `MissingEntryError`, pointing to `trained` or `predictor`."""
    name = "tabular"
    measures = "the `trained` oracle's accuracy, precomputed (one training run per architecture)"

    def __init__(self, space: str | NetworkSpace = "mbv2", path: str | Path | None = None, column: str = "accuracy"):
        from archgym.nas.tables import read_table
        self.table = read_table(path or TABLE)
        self.sub = get_space(self.table.meta["space"])
        super().__init__(space)
        if self.space.family != self.sub.family:
            raise ArchGymError(f"table {self.table.path.name} is over space {self.sub.name!r}, "
                               f"which is not a sub-space of {self.space.name!r}")
        if column not in self.table.columns:
            raise unknown("table column", column, self.table.columns)
        self.column = column
        self.by_hash = dict(zip(self.table.hashes, self.table.columns[column]))
        self.dense = self.table.dense(self.sub, column)  # over sub's row-major enumeration (NaN: missing); envs index it

    def _compute(self, arch: dict, key: str) -> float:
        if key not in self.by_hash:
            raise MissingEntryError(
                f"architecture {key} ({_short(arch)}) has no entry in the tabular benchmark {self.table.path.name} "
                f"({len(self.by_hash):,} architectures of space {self.sub.name!r}); tabular numbers are never "
                f"invented: use oracle 'trained' to train it, or 'predictor' to estimate it")
        return self.by_hash[key]

    def complete(self) -> bool:
        """Whether every architecture of the table's space has an entry."""
        return not np.isnan(self.dense).any()


def _short(arch: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in arch.items())


# --- nb201 --------------------------------------------------------------------------------------------
class NB201Oracle(Oracle):
    """CIFAR-10 test accuracy (fraction) of NAS-Bench-201 cells from the shipped table
    (archgym.nas.nb201_table): `source` "baseline" (float32), "ptq" or "qat" (W8A8)."""
    name = "nb201"
    measures = ("CIFAR-10 test top-1 after 200 epochs of training (AnalogNAS-Bench's retraining of every "
                "NAS-Bench-201 cell; one run per cell)")

    def __init__(self, space: str | NetworkSpace = "nb201", source: str = "baseline"):
        from archgym.nas.nb201_table import read_nb201_table
        super().__init__(space)
        if self.space.kind != "nb201":
            raise ArchGymError(f"oracle 'nb201' scores the NAS-Bench-201 space 'nb201' only, not {self.space.name!r}")
        self.source = source
        self.dense = read_nb201_table().fraction_by_number(source)  # by architecture number; envs index it

    def _compute(self, arch: dict, key: str) -> float:
        from archgym.nas.nb201 import number_of_ops
        return float(self.dense[number_of_ops(self.space.ops(arch))])


# --- predictor ----------------------------------------------------------------------------------------
class PredictorOracle(Oracle):
    """A small MLP fit on (architecture -> `target`) pairs: the shipped table by default, or any
    DataFrame with one column per space parameter plus `target` (e.g. an evaluation log).
    `rmse` and `kendall_tau` are measured on a seeded held-out `holdout` fraction."""
    name = "predictor"
    measures = "an MLP's estimate of the `trained` accuracy, fit on the tabular benchmark or a log"

    def __init__(self, space: str | NetworkSpace = "mbv2", data=None, target: str = "accuracy",
                 hidden: Sequence[int] = (64, 64), steps: int = 1500, holdout: float = 0.2, seed: int = 0):
        super().__init__(space)
        from archgym.nas.predictor import fit_mlp
        from archgym.threads import one_torch_thread
        x, y = self._training_data(data, target)
        self.target = target
        with one_torch_thread():
            self.model, self.report = fit_mlp(self._features(x), y, hidden=hidden, steps=steps, holdout=holdout, seed=seed)
        self.rmse, self.kendall_tau = self.report["rmse"], self.report["kendall_tau"]

    def _training_data(self, data, target):
        import pandas as pd
        if data is None:
            from archgym.nas.tables import read_table
            data = read_table(TABLE).frame()
        elif isinstance(data, (str, Path)):
            data = pd.read_csv(data, comment="#")
        if not isinstance(data, pd.DataFrame):
            raise ArchGymError(f"predictor data must be a DataFrame or a CSV path, got {type(data).__name__}")
        missing = [c for c in (*self.space.space.names, target) if c not in data.columns]
        if missing:
            raise ArchGymError(f"predictor data lacks column {missing[0]!r}; it needs one column per parameter of "
                               f"space {self.space.name!r} ({', '.join(self.space.space.names)}) and {target!r}")
        names = list(self.space.space.names)
        # one row per architecture (a log repeats a network under many hardware designs), so that
        # the held-out split never sees an architecture it was trained on
        data = data.dropna(subset=[target]).groupby(names, as_index=False)[target].mean()
        if len(data) < 10:
            raise ArchGymError(f"predictor needs at least 10 architectures with a {target!r} value, got {len(data)}")
        idx = self.space.space.designs_to_indices(data[names].to_dict("records"))
        return self.space.space.decode(idx), data[target].to_numpy(np.float64)

    def _features(self, values: np.ndarray) -> np.ndarray:
        """Numeric parameter values scaled to [0, 1] by the range of the oracle's space."""
        lo = np.array([p.numeric_values().min() for p in self.space.space])
        hi = np.array([p.numeric_values().max() for p in self.space.space])
        return (values - lo) / np.where(hi > lo, hi - lo, 1.0)

    def _compute(self, arch: dict, key: str) -> float:
        return float(self.values(self.space.space.to_indices(arch)[None, :])[0])

    def values(self, idx: np.ndarray, space: NetworkSpace | None = None) -> np.ndarray:
        sub = space or self.space
        if sub.family != self.space.family or sub.space.names != self.space.space.names:
            raise ArchGymError(f"predictor fit on space {self.space.name!r} cannot score space {sub.name!r}")
        return self.model(self._features(sub.space.decode(idx)))


# --- zero-cost ----------------------------------------------------------------------------------------
class ZeroCostOracle(Oracle):
    """A training-free score of the network at initialisation: `naswot` (Mellor et al., ICML 2021:
    log-determinant of the ReLU activation-pattern kernel over one batch of `dataset` images) or
    `synflow` (Tanaka et al., NeurIPS 2020: log of the synaptic-flow saliency, data-free)."""
    name = "zero-cost"
    metric = "score"
    measures = "a ranking score at initialisation (NASWOT or synflow); not an accuracy"

    def __init__(self, space: str | NetworkSpace = "mbv2", method: str = "naswot", dataset="digits-canvas",
                 batch_size: int = 64, seed: int = 0):
        super().__init__(space)
        from archgym.nas import zerocost
        if method not in zerocost.METHODS:
            raise unknown("zero-cost method", method, zerocost.METHODS)
        self.method, self.batch_size, self.seed = method, int(batch_size), int(seed)
        self._fn = zerocost.METHODS[method]
        self.data = None
        if method == "naswot":
            from archgym.nas.data import load_data
            self.data = load_data(dataset)
            self.data.check(self.space.in_channels, self.space.num_classes, self.space.name)

    def _compute(self, arch: dict, key: str) -> float:
        from archgym.threads import one_torch_thread
        s = arch_seed(key, self.seed)
        model = self.space.build(arch, seed=s)
        x = self.data.at(arch["resolution"])[0][:self.batch_size] if self.data is not None else self.space.example_input(arch)
        with one_torch_thread():
            return self._fn(model, x)


ORACLES = {"trained": TrainedOracle, "tabular": TabularOracle, "predictor": PredictorOracle, "zero-cost": ZeroCostOracle,
           "nb201": NB201Oracle}


def make_oracle(name: str | Oracle, space: str | NetworkSpace = "mbv2", **kwargs) -> Oracle:
    """An oracle by name ("trained", "tabular", "predictor", "zero-cost", "nb201"), or an Oracle as is."""
    if isinstance(name, Oracle):
        return name
    if name not in ORACLES:
        raise unknown("accuracy oracle", name, ORACLES)
    return ORACLES[name](space, **kwargs)
