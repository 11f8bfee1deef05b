"""Training proxy cost models from a run's evaluation log, and measuring them against the simulator.

The models themselves, their file format and the evaluator that serves them live in
`archgym.envs.proxy`; this module fits them on logged evaluations and reports held-out accuracy
and speed measured in the same run.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archgym.envs.evaluator import Evaluator
from archgym.envs.proxy import SUFFIX, Encoding, Proxy, ProxyError, _make_model, indices_of


# --- training and evaluation ----------------------------------------------------------------------------------------
@dataclass
class ProxyReport:
    """Held-out accuracy per metric and the speedup over the real simulator."""
    env: str
    env_id: str
    kind: str
    n_train: int
    n_test: int
    train_time_s: float
    metrics: dict          # metric -> {"rmse_pct_range", "median_rel_err_pct", "kendall_tau"}
    speed: dict            # {"real_batch_us", "proxy_batch_us", "real_single_us", "proxy_single_us", ...}
    path: str = ""
    constant: list = field(default_factory=list)  # metrics constant over the log (predicted exactly)
    feasible_accuracy_pct: float | None = None     # held-out feasibility accuracy (None: all feasible)

    def table(self) -> str:
        s = self.speed
        lines = [f"{self.env} — {self.kind} proxy: {self.n_train:,} training / {self.n_test:,} held-out designs, "
                 f"trained in {self.train_time_s:.1f} s",
                 f"{'metric':24s} {'RMSE % range':>12s} {'median rel err %':>17s} {'Kendall tau':>12s}"]
        for m, r in self.metrics.items():
            lines.append(f"{m:24s} {r['rmse_pct_range']:12.3f} {r['median_rel_err_pct']:17.3f} {r['kendall_tau']:12.4f}")
        if self.feasible_accuracy_pct is not None:
            lines.append(f"feasibility predicted correctly for {self.feasible_accuracy_pct:.1f}% of held-out designs")
        if self.constant:
            lines.append(f"constant over the log (reproduced exactly): {', '.join(self.constant)}")
        lines.append(f"time per evaluation: batch of {s['batch']}: real {s['real_batch_us']:.2f} us, proxy "
                     f"{s['proxy_batch_us']:.2f} us (speedup {s['speedup_batch']:.2f}x); one design per call: real "
                     f"{s['real_single_us']:.1f} us, proxy {s['proxy_single_us']:.1f} us (speedup {s['speedup_single']:.2f}x)")
        return "\n".join(lines)


def _per_eval_us(fn, arg, n: int, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t)
    return best / n * 1e6


def _single_us(fn, idx: np.ndarray) -> float:
    t = time.perf_counter()
    for row in idx:
        fn(row[None, :])
    return (time.perf_counter() - t) / len(idx) * 1e6


def train(df, info, kind: str = "mlp", label: str = "", test_fraction: float = 0.2, seed: int = 0,
          metrics: Sequence[str] | None = None, evaluator: Evaluator | None = None, **model_kw) -> tuple[Proxy, ProxyReport]:
    """Train a `kind` proxy on the log rows `df` of one env (`info`: its log EnvInfo) and evaluate it
    on held-out distinct designs. `evaluator` (the real one; built from `info` if None) is timed
    against the proxy on the same designs."""
    from scipy.stats import kendalltau
    if not 0 < test_fraction < 1:
        raise ProxyError(f"test_fraction must be in (0, 1), got {test_fraction}")
    targets = list(metrics) if metrics else [m for m in info.metrics if m in df.columns]
    if df["feasible"].nunique() > 1 and "feasible" not in targets:
        targets.append("feasible")
    idx, Y = _distinct_designs(indices_of(df, info.params), df, targets)
    if len(idx) < 20:
        raise ProxyError(f"only {len(idx)} distinct designs in the log of {label or info.env_id}; need at least 20")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(idx))
    n_test = max(1, int(round(test_fraction * len(idx))))
    test, tr = order[:n_test], order[n_test:]
    enc = Encoding.fit(info.params, idx[tr], Y[tr], targets)
    t0 = time.perf_counter()
    model = _make_model(kind, seed, **model_kw).fit(enc.features(idx[tr]), enc.encode_y(Y[tr]))
    train_time = time.perf_counter() - t0
    proxy = Proxy(kind, info.env_id, info.kwargs, info.params, enc, model)
    pred = proxy.predict(idx[test])
    scores, constant = {}, []
    for k, t in enumerate(targets):
        span = Y[:, k].max() - Y[:, k].min()
        if t == "feasible" or span == 0:
            constant += [t] if span == 0 else []
            continue
        y, p = Y[test, k], np.asarray(pred[t], dtype=np.float64)
        rmse = float(np.sqrt(np.mean((p - y) ** 2)))
        nz = y != 0  # relative error is undefined where the true value is 0 (e.g. no refreshes)
        rel = np.abs(p[nz] - y[nz]) / np.abs(y[nz])
        tau = kendalltau(y, p).statistic if np.ptp(y) > 0 else float("nan")
        scores[t] = {"rmse_pct_range": 100 * rmse / span,
                     "median_rel_err_pct": float(100 * np.median(rel)) if len(rel) else float("nan"),
                     "kendall_tau": float(tau)}
    feasible_acc = None
    if "feasible" in targets:
        truth = Y[test, targets.index("feasible")].astype(bool)
        feasible_acc = float(100 * np.mean(pred["feasible"] == truth))
    if evaluator is None:
        import gymnasium as gym
        import archgym  # noqa: F401
        evaluator = gym.make(info.env_id, **info.kwargs).unwrapped.evaluator
    speed = _speed(evaluator, proxy, idx[test])
    report = ProxyReport(label or info.env_id, info.env_id, kind, len(tr), len(test), train_time, scores, speed,
                         constant=constant, feasible_accuracy_pct=feasible_acc)
    proxy.report = {**report.__dict__}
    return proxy, report


@contextmanager
def _numba_threads(n: int):
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(min(n, before))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _distinct_designs(idx_all: np.ndarray, df, targets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One row per distinct design (the simulators are deterministic), taking each target's first
    logged value. A metric missing for some designs (RL agents log no `violation`) is filled when it
    is constant elsewhere; otherwise those designs are dropped."""
    import pandas as pd
    idx, key = np.unique(idx_all, axis=0, return_inverse=True)
    Y = pd.DataFrame({t: df[t].to_numpy(dtype=np.float64) for t in targets}).groupby(key.reshape(-1)).first()
    for t in targets:
        values = Y[t].dropna().unique()
        if len(values) <= 1:
            Y[t] = Y[t].fillna(values[0] if len(values) else 0.0)
    keep = Y.notna().all(axis=1).to_numpy()
    return idx[keep], Y.to_numpy()[keep]


def _speed(evaluator: Evaluator, proxy: Proxy, idx: np.ndarray, single: int = 50) -> dict:
    """Time per evaluation of the real evaluator and of the proxy on the same designs (us): the
    whole held-out set in one call (the batch kernels use every core), and one design per call
    (timed with one numba thread: a kernel parallel over designs cannot use more for one design,
    and on a busy machine extra threads only add launch and contention cost)."""
    evaluator(idx[:2]), proxy.predict(idx[:2])  # warm both (numba dispatch, caches)
    n = len(idx)
    s = idx[:single]
    out = {"batch": n, "real_batch_us": _per_eval_us(evaluator, idx, n), "proxy_batch_us": _per_eval_us(proxy.predict, idx, n),
           "single": len(s)}
    with _numba_threads(1):
        evaluator(s[:1])
        out.update(real_single_us=_single_us(evaluator, s), proxy_single_us=_single_us(proxy.predict, s))
    out["speedup_batch"] = out["real_batch_us"] / out["proxy_batch_us"]
    out["speedup_single"] = out["real_single_us"] / out["proxy_single_us"]
    return out


def train_from_run(run_dir, env: str | None = None, models: Sequence[str] = ("mlp", "forest"),
                   out_dir: str | Path | None = None, seed: int = 0, test_fraction: float = 0.2,
                   **model_kw) -> list[ProxyReport]:
    """Train and save one proxy per (env, model) from a run's log (files in `out_dir`, default
    RUN_DIR/proxy/<env>-<model>.npz); returns their reports."""
    import archgym
    from archgym.experiments.log import env_infos
    from archgym.progress import progress
    df = archgym.load(run_dir)
    infos = env_infos(run_dir)
    labels = [env] if env else list(infos)
    for lab in labels:
        if lab not in infos:
            from archgym.core.errors import unknown
            raise unknown("env of this run", lab, list(infos))
    out_dir = Path(out_dir) if out_dir is not None else Path(run_dir) / "proxy"
    reports = []
    bar = progress(len(labels) * len(models), "proxy models", "model")
    for lab in labels:
        rows = df[df["env"] == lab]
        for kind in models:
            bar.write(f"training a {kind} proxy on {lab} ({len(rows):,} logged evaluations)")
            proxy, report = train(rows, infos[lab], kind, label=lab, test_fraction=test_fraction, seed=seed, **model_kw)
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in lab)
            report.path = str(proxy.save(out_dir / f"{safe}-{kind}{SUFFIX}"))
            reports.append(report)
            bar.update(1)
    bar.close()
    return reports
