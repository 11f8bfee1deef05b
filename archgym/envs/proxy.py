"""Proxy cost models: surrogates of a simulator, trained from a run's evaluation log.

As ArchGym did with its DRAMSys dataset, a proxy learns design -> metrics from logged evaluations
and then stands in for the simulator:

    proxy, report = train(df, info, "mlp")           # df: archgym.load(run_dir); info: its EnvInfo
    proxy.save("runs/x/proxy/dram-mlp.npz")          # or, from the shell: archgym proxy runs/x
    env = gymnasium.make("archgym/DRAMController-v0", simulator="proxy:runs/x/proxy/dram-mlp.npz")

Models: `mlp` (a torch multilayer perceptron over every metric at once; inference in numpy, which
beats torch's per-call overhead on small batches), `forest` (scikit-learn random forest) and `gbm`
(scikit-learn histogram gradient boosting, one model per metric).

Features: one column per numeric parameter (log2 of the value when every value is positive,
since sizes and rates are geometric), one-hot columns per text-valued parameter, standardised.
Targets: log10 of each positive metric with units, the value itself for fractions and
counts that reach zero, standardised; `feasible` is a 0/1 target thresholded at 0.5.
Evaluation holds out a share of the *distinct* designs (duplicates in the log never leak across
the split) and reports, per metric, RMSE in % of the metric's range over the log, the median
relative error, and Kendall's tau; and the time per evaluation of the proxy and of the real
simulator on the same held-out designs, measured in the same run.

Files are `.npz` archives that cannot run code when loaded: a JSON header (format, env, parameters,
scaling, report) and plain arrays (the MLP's weights), or, for forest and GBM, the scikit-learn
model in skops format, loaded only if it holds no types beyond scikit-learn's tree predictors
(`TRUSTED_SKLEARN_TYPES`). Older `.pt` files load for MLPs only (torch's weights-only loader);
the pickled scikit-learn models of older forest and GBM files are refused: retrain them.
"""
from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from archgym.envs.evaluator import Evaluator
from archgym.core import validate
from archgym.core.errors import ArchGymError
from archgym.core.objectives import LINEAR
from archgym.core.space import config_values

FORMAT = "archgym-proxy/1"
SUFFIX = ".npz"
MAX_FEATURE_VALUES = 65_536  # values of one parameter a proxy tabulates as features
# The only non-builtin types a skops model file may hold: the tree structures of the forest and GBM
# models (skops trusts numpy arrays and scikit-learn's estimators itself).
TRUSTED_SKLEARN_TYPES = frozenset({"sklearn.tree._tree.Tree",
                                   "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"})
MODELS = ("mlp", "forest", "gbm")
PREFIX = "proxy:"


# A proxy's matrices are small: a second BLAS thread gains nothing here (512 rows: 1.41 ms with two
# threads, 1.36 ms with one, idle machine) and waits on other processes under load (3.7 ms).
BLAS_MIN_ROWS = 32


@lru_cache(maxsize=1)
def _threadpools():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()   # made once: threadpool_limits rescans the libraries (~0.2 ms a call)


def one_blas_thread():
    """A context in which BLAS (and OpenMP) libraries run on one thread (~6 us to enter)."""
    return _threadpools().limit(limits=1)


class ProxyError(ArchGymError):
    """A proxy file that is missing, malformed, or trained for another design space."""


# --- features and targets ----------------------------------------------------------------------------------
def feature_tables(params: list[dict]) -> list[np.ndarray]:
    """Per parameter, index -> feature row (unstandardised). `params` is DesignSpace.to_config()."""
    out = []
    for p in params:
        values = config_values(p)
        if len(values) > MAX_FEATURE_VALUES:
            raise ProxyError(f"parameter {p['name']!r} has {len(values):,} values, more than a proxy tabulates "
                             f"({MAX_FEATURE_VALUES:,})")
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            v = np.asarray(values, dtype=np.float64)
            out.append((np.log2(v) if (v > 0).all() else v)[:, None])
        else:
            out.append(np.eye(len(values)))
    return out


def indices_of(df, params: list[dict]) -> np.ndarray:
    """(n, n_params) design indices of the log rows `df` (values mapped through each value list)."""
    cols = []
    for p in params:
        values = config_values(p)
        lookup = {v: i for i, v in enumerate(values)}
        lookup.update({str(v): i for i, v in enumerate(values)})  # CSV/Parquet may turn values into text
        try:
            cols.append(np.fromiter((lookup[v] for v in df[p["name"]].tolist()), dtype=np.int64, count=len(df)))
        except KeyError as e:
            raise ProxyError(f"log value {e.args[0]!r} of {p['name']!r} is not in the env's design space") from None
    return np.stack(cols, axis=1)


@dataclass
class Encoding:
    """Feature and target scaling, learnt on the training designs."""
    tables: list[np.ndarray]
    x_mean: np.ndarray
    x_std: np.ndarray
    targets: list[str]
    log: np.ndarray        # bool per target: modelled in log10
    y_mean: np.ndarray
    y_std: np.ndarray

    def features(self, idx: np.ndarray) -> np.ndarray:
        X = np.concatenate([t[idx[:, j]] for j, t in enumerate(self.tables)], axis=1)
        return (X - self.x_mean) / self.x_std

    def encode_y(self, Y: np.ndarray) -> np.ndarray:
        Z = np.where(self.log, np.log10(np.maximum(Y, 1e-300)), Y)
        return (Z - self.y_mean) / self.y_std

    def decode_y(self, Z: np.ndarray) -> np.ndarray:
        Z = Z * self.y_std + self.y_mean
        return np.where(self.log, 10.0 ** np.minimum(Z, 300.0), Z)

    @classmethod
    def fit(cls, params, idx: np.ndarray, Y: np.ndarray, targets: list[str]) -> "Encoding":
        tables = feature_tables(params)
        X = np.concatenate([t[idx[:, j]] for j, t in enumerate(tables)], axis=1)
        log = np.array([t not in LINEAR and t != "feasible" and bool((Y[:, k] > 0).all())
                        for k, t in enumerate(targets)])
        Z = np.where(log, np.log10(np.maximum(Y, 1e-300)), Y)
        std = lambda a: np.where(a.std(axis=0) > 0, a.std(axis=0), 1.0)  # noqa: E731  (constant columns stay put)
        return cls(tables, X.mean(axis=0), std(X), targets, log, Z.mean(axis=0), std(Z))

    def to_state(self) -> dict:
        return {"tables": [t.tolist() for t in self.tables], "x_mean": self.x_mean.tolist(), "x_std": self.x_std.tolist(),
                "targets": list(self.targets), "log": self.log.tolist(), "y_mean": self.y_mean.tolist(),
                "y_std": self.y_std.tolist()}

    @classmethod
    def from_state(cls, s: dict) -> "Encoding":
        return cls([np.asarray(t, dtype=np.float64) for t in s["tables"]], np.asarray(s["x_mean"]),
                   np.asarray(s["x_std"]), list(s["targets"]), np.asarray(s["log"], dtype=bool),
                   np.asarray(s["y_mean"]), np.asarray(s["y_std"]))


# --- models ----------------------------------------------------------------------------------------------------
class MLP:
    """A torch MLP (SiLU, Adam, early stopping on a validation tenth); numpy inference."""

    def __init__(self, hidden: Sequence[int] = (128, 128), lr: float = 3e-3, epochs: int = 300,
                 batch: int | None = None, patience: int = 30, seed: int = 0):
        self.hidden, self.lr, self.epochs, self.batch, self.patience, self.seed = hidden, lr, epochs, batch, patience, seed
        self.weights: list[tuple[np.ndarray, np.ndarray]] = []

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "MLP":
        import torch
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small batches: one thread is fastest, and immune to a busy machine
        try:
            return self._fit(torch, X, Y)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, torch, X: np.ndarray, Y: np.ndarray) -> "MLP":
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(X))
        n_val = max(1, len(X) // 10)
        val, tr = order[:n_val], order[n_val:]
        Xt, Yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y, dtype=torch.float32)
        sizes = [X.shape[1], *self.hidden, Y.shape[1]]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.SiLU()]
        net = torch.nn.Sequential(*layers[:-1])
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=self.patience // 4)
        best, best_state, wait = np.inf, None, 0
        gen = torch.Generator().manual_seed(self.seed)
        batch = self.batch or max(128, len(tr) // 200)  # default: about 200 steps per epoch on large logs
        for _ in range(self.epochs):
            net.train()
            perm = torch.as_tensor(tr)[torch.randperm(len(tr), generator=gen)]
            for lo in range(0, len(perm), batch):
                b = perm[lo:lo + batch]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net(Xt[b]), Yt[b])
                loss.backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                v = float(torch.nn.functional.mse_loss(net(Xt[val]), Yt[val]))
            if not np.isfinite(v):
                raise ProxyError("MLP training diverged (non-finite validation loss); try a lower learning rate")
            sched.step(v)
            if v < best - 1e-6:
                best, wait = v, 0
                best_state = {k: t.clone() for k, t in net.state_dict().items()}
            else:
                wait += 1
                if wait >= self.patience:
                    break
        net.load_state_dict(best_state)
        self.weights = [(m.weight.detach().numpy().T.astype(np.float64), m.bias.detach().numpy().astype(np.float64))
                        for m in net if isinstance(m, torch.nn.Linear)]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if len(X) < BLAS_MIN_ROWS:   # OpenBLAS runs these on one thread anyway
            return self._forward(X)
        with one_blas_thread():
            return self._forward(X)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        h = X
        for k, (W, b) in enumerate(self.weights):
            h = h @ W + b
            if k < len(self.weights) - 1:
                h = h / (1.0 + np.exp(-h))  # SiLU
        return h

    def arrays(self) -> dict[str, np.ndarray]:
        """The weights as named float64 arrays (W0, b0, W1, ...)."""
        return {f"{x}{k}": a for k, (W, b) in enumerate(self.weights) for x, a in (("W", W), ("b", b))}

    @classmethod
    def from_arrays(cls, arrays) -> "MLP":
        m = cls()
        k = 0
        while f"W{k}" in arrays:
            W, b = np.asarray(arrays[f"W{k}"], dtype=np.float64), np.asarray(arrays[f"b{k}"], dtype=np.float64)
            if W.ndim != 2 or b.shape != (W.shape[1],) or (m.weights and m.weights[-1][0].shape[1] != W.shape[0]):
                raise ProxyError(f"MLP layer {k} has inconsistent shapes {W.shape} and {b.shape}")
            m.weights.append((W, b))
            k += 1
        if not m.weights:
            raise ProxyError("an MLP proxy file without weights")
        return m


class SklearnModel:
    """A scikit-learn regressor over every target: a random forest, or gradient boosting per target."""

    def __init__(self, kind: str, seed: int = 0):
        from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
        from sklearn.multioutput import MultiOutputRegressor
        if kind == "forest":
            self.model = RandomForestRegressor(n_estimators=100, min_samples_leaf=1, random_state=seed, n_jobs=1)
        else:
            self.model = MultiOutputRegressor(HistGradientBoostingRegressor(max_iter=300, random_state=seed))
        self.kind = kind

    def fit(self, X, Y):
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1):  # OpenMP spinning on a shared machine costs far more than it gains here
            self.model.fit(X, Y)
        return self

    def predict(self, X):
        with one_blas_thread():
            return np.asarray(self.model.predict(X)).reshape(len(X), -1)

    def arrays(self) -> dict[str, np.ndarray]:
        """The model in skops format (no pickle), as a byte array."""
        import skops.io
        return {"skops": np.frombuffer(skops.io.dumps(self.model), dtype=np.uint8)}

    @classmethod
    def from_arrays(cls, arrays, kind: str) -> "SklearnModel":
        import skops.io
        if "skops" not in arrays:
            raise ProxyError(f"a {kind} proxy file without its model")
        data = np.asarray(arrays["skops"], dtype=np.uint8).tobytes()
        try:
            untrusted = skops.io.get_untrusted_types(data=data)
            extra = sorted(set(untrusted) - TRUSTED_SKLEARN_TYPES)
            if extra:
                raise ProxyError(f"the {kind} model holds types a proxy never needs, refused: {', '.join(extra)}")
            m = cls.__new__(cls)
            m.kind, m.model = kind, skops.io.loads(data, trusted=list(untrusted))
        except ProxyError:
            raise
        except Exception as e:  # skops reports a damaged archive with many exception types
            raise ProxyError(f"the {kind} model cannot be read: {type(e).__name__}: {str(e)[:200]}") from None
        if not hasattr(m.model, "predict"):
            raise ProxyError(f"the {kind} model is a {type(m.model).__name__}, not a regressor")
        return m


def _make_model(kind: str, seed: int, **kw):
    if kind not in MODELS:
        from archgym.core.errors import unknown
        raise unknown("proxy model", kind, MODELS)
    return MLP(seed=seed, **kw) if kind == "mlp" else SklearnModel(kind, seed)


# --- a trained proxy ---------------------------------------------------------------------------------------------
@dataclass
class Proxy:
    """A trained surrogate: `predict(idx)` -> {metric: array} like an Evaluator's output."""
    kind: str
    env_id: str
    env_kwargs: dict
    params: list
    encoding: Encoding
    model: object
    report: dict = field(default_factory=dict)

    def predict(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        Y = self.encoding.decode_y(self.model.predict(self.encoding.features(idx)))
        out = {t: Y[:, k] for k, t in enumerate(self.encoding.targets)}
        if "feasible" in out:
            out["feasible"] = out["feasible"] > 0.5
        if "violation" in out:
            out["violation"] = np.where(out.get("feasible", True), 0.0, np.maximum(out["violation"], 0.0))
        return out

    def save(self, path: str | Path) -> Path:
        """Write the proxy as an `.npz` archive (a JSON header and plain arrays; see the module docstring)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = json.dumps(_plain({"format": FORMAT, "kind": self.kind, "env_id": self.env_id, "env_kwargs": self.env_kwargs,
                                    "params": self.params, "encoding": self.encoding.to_state(), "report": self.report}))
        with open(path, "wb") as f:  # a file object: numpy keeps the name as given
            np.savez(f, header=np.frombuffer(header.encode(), dtype=np.uint8), **self.model.arrays())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Proxy":
        """Read a proxy file; nothing in it can run code (see the module docstring)."""
        path = validate.file(path, "proxy file", validate.MAX_MODEL_BYTES, ProxyError)
        if _is_torch_file(path):
            return cls._load_torch(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            header = json.loads(arrays.pop("header").tobytes().decode())
        except (ValueError, OSError, KeyError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as e:
            raise ProxyError(f"{path} is not a proxy file ({type(e).__name__}: {str(e)[:120]})") from None
        return cls._build(path, header, arrays)

    @classmethod
    def _load_torch(cls, path: Path) -> "Proxy":
        """An older `.pt` proxy: MLP weights through torch's weights-only loader; pickled models refused."""
        import torch
        try:
            data = torch.load(path, weights_only=True)
        except Exception as e:
            raise ProxyError(f"{path} is not a proxy file: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        if not isinstance(data, dict) or data.get("kind") != "mlp" or not isinstance(data.get("model"), dict):
            raise ProxyError(f"{path}: an older proxy file whose model is a pickle, which could run code when loaded; "
                             f"retrain it with `archgym proxy RUN_DIR` (proxies are now saved as {SUFFIX} files)")
        weights = data["model"].get("weights") or []
        arrays = {f"{x}{k}": a for k, (W, b) in enumerate(weights) for x, a in (("W", W), ("b", b))}
        return cls._build(path, {k: v for k, v in data.items() if k != "model"}, arrays)

    @classmethod
    def _build(cls, path: Path, header, arrays: dict) -> "Proxy":
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ProxyError(f"{path} is not an {FORMAT} file")
        kind = header.get("kind")
        if kind not in MODELS:
            raise ProxyError(f"{path}: unknown proxy model {kind!r}; valid: {', '.join(MODELS)}")
        try:
            model = MLP.from_arrays(arrays) if kind == "mlp" else SklearnModel.from_arrays(arrays, kind)
            encoding = Encoding.from_state(header["encoding"])
            return cls(kind, str(header["env_id"]), dict(header["env_kwargs"]), list(header["params"]), encoding, model,
                       header.get("report", {}))
        except ProxyError as e:
            raise ProxyError(f"{path}: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise ProxyError(f"{path}: malformed proxy file ({type(e).__name__}: {e})") from None


def _is_torch_file(path: Path) -> bool:
    """Whether `path` is a torch.save archive (older proxies): a zip holding a data.pkl."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("/data.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _plain(obj):
    """Nested containers of Python scalars only (JSON-ready)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


class ProxyEvaluator(Evaluator):
    """Drop-in simulator: the real evaluator's space, metrics and objective defaults, with metrics
    predicted by a proxy. `simulate(design)` (per-layer/per-request detail) still runs the real model."""

    def __init__(self, real: Evaluator, proxy: Proxy, source: str = ""):
        self.real, self.proxy, self.source = real, proxy, source
        self.space = real.space
        self.metric_names = real.metric_names
        self.objective_defaults = real.objective_defaults
        mine = [(p.name, list(p.values)) for p in real.space]
        theirs = [(p.get("name"), list(config_values(p))) for p in proxy.params]
        if mine != theirs:
            raise ProxyError(f"proxy {source} was trained on parameters {[n for n, _ in theirs]} with other values "
                             f"than this env's {[n for n, _ in mine]}; train it on a log of this env")
        missing = [m for m in real.metric_names if m not in proxy.encoding.targets]
        if missing:
            raise ProxyError(f"proxy {source} does not predict metric(s) {missing}")

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1, len(self.space))
        out = self.proxy.predict(idx)
        n = len(idx)
        out.setdefault("feasible", np.ones(n, dtype=bool))
        out.setdefault("violation", np.zeros(n))
        return out

    def simulate(self, design):
        return self.real.simulate(design)

    def describe(self) -> str:
        return f"{self.proxy.kind} proxy ({self.source}) of {self.real.describe()}"


def wrap_evaluator(real: Evaluator, simulator: str | None) -> Evaluator:
    """`simulator=None` or "real": the evaluator itself; "proxy:PATH": a ProxyEvaluator around it."""
    if simulator in (None, "real"):
        return real
    if not isinstance(simulator, str) or not simulator.startswith(PREFIX):
        raise ProxyError(f"simulator must be 'real' or 'proxy:PATH', got {simulator!r}")
    path = simulator[len(PREFIX):]
    return ProxyEvaluator(real, Proxy.load(path), path)
