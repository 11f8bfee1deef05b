"""Model-based search: Optuna's TPE, multi-objective TPE and NSGA-II samplers behind ask/tell, and
GP Bayesian optimisation on a scikit-learn Gaussian process.

Optuna sees every parameter as an index: ordered parameters (integers, powers of two, reals, and
increasing numeric choices) as an `IntDistribution`, so its models can use the order; other
categorical ones as a `CategoricalDistribution`.
Single-objective samplers maximise the scalar reward. Multi-objective ones minimise the objective
matrix (log10 of each metric, see archgym.core.pareto). Every trial carries the constraint
`violation` (0 when feasible), so infeasible designs rank below feasible ones.

Optuna's own objects plug in: `sampler=` replaces the agent's sampler (any optuna BaseSampler, e.g.
`optuna.samplers.CmaEsSampler(seed=0)`), and `storage=` keeps every study in an Optuna storage, e.g.
`storage="sqlite:///runs/tpe.db"`, which `optuna-dashboard sqlite:///runs/tpe.db` shows live. Each
search is one study, named `study_name` or `<agent>-seed<seed>` (numbered if taken); with a storage,
every trial also carries the design's values and metrics as user attributes.

    TPE(seed=0, storage="sqlite:///runs/tpe.db").search(env, budget=200)
    make_agent("tpe", sampler=optuna.samplers.QMCSampler(seed=0)).search(env, budget=200)
"""
from __future__ import annotations

import warnings
from typing import ClassVar

from dataclasses import dataclass

import numpy as np

from agents.base import Agent, is_ordered, mutate
from agents.config import AgentConfig, HyperParameterError, hp
from archgym.core import pareto
from archgym.core.errors import ArchGymError

LS_MIN = 0.1  # length-scale floor on the unit cube: below it the GP collapses to white noise


class _OptunaAgent(Agent):
    """Shared ask/tell bridge to an Optuna study; subclasses provide `_sampler()`. `sampler`,
    `storage` and `study_name` are Optuna's own (see the module docstring)."""
    multi_objective: ClassVar[bool] = False
    own_knobs: ClassVar[tuple[str, ...]] = ("designs_per_ask",)  # hyper-parameters that are not the sampler's

    def __init__(self, seed: int = 0, *, sampler=None, storage=None, study_name: str | None = None, **hparams):
        super().__init__(seed, **hparams)
        if sampler is not None:
            import optuna
            if not isinstance(sampler, optuna.samplers.BaseSampler):
                raise HyperParameterError(f"{self.name}: sampler must be an optuna.samplers.BaseSampler, got {sampler!r}")
            clash = sorted(set(hparams) - set(self.own_knobs))
            if clash:
                raise HyperParameterError(f"{self.name}: {clash} configure the built-in sampler; pass either sampler= "
                                          f"or those hyper-parameters")
        if study_name is not None and not (isinstance(study_name, str) and study_name):
            raise HyperParameterError(f"{self.name}: study_name must be a non-empty string, got {study_name!r}")
        self.user_sampler, self.storage, self.study_name = sampler, storage, study_name

    def _sampler(self):
        raise NotImplementedError

    def _study_name(self, optuna) -> str | None:
        if self.storage is None:
            return self.study_name
        if self.study_name is not None:
            return self.study_name
        taken = set(optuna.get_all_study_names(self.storage))
        base = f"{self.name}-seed{self.seed}"
        return next(n for n in (base, *(f"{base}-{i}" for i in range(2, len(taken) + 3))) if n not in taken)

    def _start(self):
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        from optuna.distributions import CategoricalDistribution, IntDistribution
        k = len(self.objective.metrics)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.study = optuna.create_study(
                    sampler=self.user_sampler or self._sampler(), storage=self.storage, study_name=self._study_name(optuna),
                    directions=["minimize"] * k if self.multi_objective else ["maximize"])
            except optuna.exceptions.DuplicatedStudyError as e:
                raise ArchGymError(f"{self.name}: {e}; pass another study_name") from None
            except (ValueError, ImportError) as e:  # a malformed storage URL or a missing database driver
                raise ArchGymError(f"{self.name}: cannot open Optuna storage {self.storage!r}: {e}") from None
        self._dists = {p.name: (IntDistribution(0, len(p) - 1) if is_ordered(p)
                                else CategoricalDistribution(tuple(range(len(p))))) for p in self.space.params}
        self._pending: dict[bytes, list] = {}

    def _ask(self, n):
        out = np.empty((n, len(self.space)), dtype=np.int64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(n):
                trial = self.study.ask(self._dists)
                params = trial.params  # a deep copy per access: take it once
                out[i] = [params[name] for name in self.space.names]
                self._pending.setdefault(out[i].tobytes(), []).append(trial)
        return out

    def _tell(self, idx, results):
        values = pareto.objective_matrix(self.objective, results) if self.multi_objective \
            else results["score"][:, None]
        violation = np.where(results["feasible"], 0.0,
                             np.maximum(np.asarray(results.get("violation", np.ones(len(idx))), dtype=float), 1e-9))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, (row, v, c) in enumerate(zip(idx, values, violation)):
                waiting = self._pending.get(row.tobytes())
                if waiting:
                    trial = waiting.pop(0)
                else:  # a design this study did not propose: enqueue it so a trial carries it
                    self.study.enqueue_trial(dict(zip(self.space.names, map(int, row))))
                    trial = self.study.ask(self._dists)
                trial.set_constraint("violation", float(c))
                if self.storage is not None:  # readable in optuna-dashboard: the values, not their indices
                    trial.set_user_attr("design", self.space.design_at(row))
                    trial.set_user_attr("metrics", {m: float(results[m][i]) for m in self.objective.metrics})
                self.study.tell(trial, [float(x) for x in v])


class TPE(_OptunaAgent):
    """Tree-structured Parzen estimator (Bergstra et al. 2011), Optuna's TPESampler."""
    name, family = "tpe", "bayesian"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        n_startup_trials: int = hp(10, 1, 1000, log=True, help="random trials before the model")
        n_ei_candidates: int = hp(24, 1, 1024, log=True, help="candidates scored per ask")
        multivariate: bool = hp(True, choices=(True, False), help="joint (multivariate) Parzen estimators")
        designs_per_ask: int = hp(1, 1, 64, log=True, help="trials asked per evaluate call (constant liar)")

    def _sampler(self):
        import optuna
        c = self.config
        return optuna.samplers.TPESampler(seed=int(self.rng.integers(2**31)), n_startup_trials=c.n_startup_trials,
                                          n_ei_candidates=c.n_ei_candidates, multivariate=c.multivariate,
                                          constant_liar=c.designs_per_ask > 1)


class MOTPE(TPE):
    """Multi-objective TPE (Ozaki et al. 2020) over the objective's metrics."""
    name, family = "motpe", "multi_objective"
    multi_objective = True


class NSGA2(_OptunaAgent):
    """NSGA-II (Deb et al. 2002), Optuna's NSGAIISampler: one generation per evaluate call,
    constrained domination for infeasible designs."""
    name, family = "nsga2", "multi_objective"
    multi_objective = True
    own_knobs = ()

    @dataclass(frozen=True)
    class Config(AgentConfig):
        population_size: int = hp(50, 4, 1024, log=True, help="designs per generation")
        mutation_prob: float = hp(0.15, 0.0, 1.0, help="per-parameter mutation probability")
        crossover_prob: float = hp(0.9, 0.0, 1.0, help="probability a child is a crossover")
        swapping_prob: float = hp(0.5, 0.0, 1.0, help="uniform-crossover swap probability")

    @property
    def designs_per_ask(self) -> int:
        return self.config.population_size

    def _sampler(self):
        import optuna
        return optuna.samplers.NSGAIISampler(seed=int(self.rng.integers(2**31)), population_size=self.config.population_size,
                                             mutation_prob=self.config.mutation_prob, crossover_prob=self.config.crossover_prob,
                                             swapping_prob=self.config.swapping_prob)


def _lbfgs(obj_func, x0, bounds):
    """sklearn GP optimiser: L-BFGS-B from the warm start, capped at 50 iterations."""
    from scipy.optimize import minimize
    res = minimize(obj_func, x0, method="L-BFGS-B", jac=True, bounds=bounds, options={"maxiter": 50})
    return res.x, res.fun


class GaussianProcessBO(Agent):
    """GP Bayesian optimisation: a scikit-learn GaussianProcessRegressor (constant x Matérn-5/2 with
    one length scale per parameter) on the designs' unit-cube encoding, and expected improvement
    maximised over a pool of unseen candidates (uniform designs plus mutations of the best ones).
    A batch takes the top-`batch_size` candidates of one fit.

    Not Optuna's GPSampler: at 500 observations it took 8.5 s of CPU per ask on the systolic space
    (benchmarks/agents.py) and 0.3-0.5 s on seven integer parameters, against a 50 ms budget. It
    refits and runs a continuous L-BFGS acquisition search on every ask; our spaces are finite, so
    acquisition is scored directly on candidates, and the kernel is re-optimised (warm-started from
    the last fit) only when the data grew by `refit_growth`.
    """
    name, family = "gp", "bayesian"

    @dataclass(frozen=True)
    class Config(AgentConfig):
        n_startup_trials: int = hp(10, 2, 1000, log=True, help="random designs before the model")
        designs_per_ask: int = hp(8, 1, 64, log=True, help="designs per fit and evaluate call")
        n_candidates: int = hp(2048, 64, 65_536, log=True, help="candidate pool scored per batch")
        refit_growth: float = hp(0.1, 0.0, 10.0, help="re-optimise the kernel when the data grew by this fraction")
        max_train: int = hp(500, 50, 5000, log=True, help="observations the GP is fitted on (best and latest)")
        xi: float = hp(0.0, 0.0, 1.0, help="EI exploration margin, in standardised reward units")

    def _start(self):
        self._X = np.zeros((0, len(self.space)), dtype=np.int64)
        self._y = np.zeros(0)
        self._ok = np.zeros(0, dtype=bool)
        self._seen: set[bytes] = set()
        self._kernel, self._fitted_at = None, 0

    def _encode(self, idx):
        return (idx + 0.5) / self.space.nvec

    def _targets(self):
        """Scores, with infeasible ones lifted to just below the worst feasible (a -100 penalty
        would swamp the GP's scale)."""
        y = self._y.copy()
        if self._ok.any() and not self._ok.all():
            good = y[self._ok]
            y[~self._ok] = good.min() - 0.5 * (np.ptp(good) + 1e-9)
        return y

    def _fit(self):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        from threadpoolctl import threadpool_limits
        y = self._targets()
        rows = np.arange(len(y))
        if len(rows) > self.config.max_train:  # the best half and the most recent half
            half = self.config.max_train // 2
            best = np.argsort(-y, kind="stable")[:half]
            rows = np.union1d(best, np.setdiff1d(rows, best)[-(self.config.max_train - len(best)):])
        refit = len(y) >= self._fitted_at * (1 + self.config.refit_growth)
        if self._kernel is None:
            self._kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(np.full(len(self.space), 0.5), (LS_MIN, 1e2), nu=2.5) \
                + WhiteKernel(1e-2, (1e-6, 1.0))
        gp = GaussianProcessRegressor(self._kernel, alpha=1e-8, normalize_y=True,
                                      optimizer=_lbfgs if refit else None)
        with warnings.catch_warnings(), threadpool_limits(1):  # BLAS threads fight numba's on small matrices
            warnings.simplefilter("ignore")  # length scales at their bounds are fine
            gp.fit(self._encode(self._X[rows]), y[rows])
        if refit:
            self._kernel, self._fitted_at = gp.kernel_, len(y)
        return gp, y[rows]

    def _candidates(self):
        n = self.config.n_candidates
        top = self._X[np.argsort(-self._targets(), kind="stable")[:8]]
        near = mutate(top[self.rng.integers(len(top), size=n // 2)], self.space, self.rng)
        pool = np.vstack([near, self.space.sample_indices(self.rng, n - n // 2)])
        pool = np.unique(pool, axis=0)
        fresh = np.fromiter((r.tobytes() not in self._seen for r in pool), dtype=bool, count=len(pool))
        return pool[fresh]

    def _ask(self, n):
        if len(self._y) < self.config.n_startup_trials:
            return self.space.sample_indices(self.rng, n)
        from scipy.stats import norm
        from threadpoolctl import threadpool_limits
        pool = self._candidates()
        if len(pool) < n:  # nearly everything seen: top up at random
            return np.vstack([pool, self.space.sample_indices(self.rng, n - len(pool))])
        gp, y = self._fit()
        with threadpool_limits(1):
            mu, sd = gp.predict(self._encode(pool), return_std=True)
        sd = np.maximum(sd, 1e-12)
        gain = mu - y.max() - self.config.xi * y.std()
        ei = gain * norm.cdf(gain / sd) + sd * norm.pdf(gain / sd)
        return pool[np.argsort(-ei, kind="stable")[:n]]

    def _tell(self, idx, results):
        self._X = np.vstack([self._X, idx])
        self._y = np.concatenate([self._y, results["score"]])
        self._ok = np.concatenate([self._ok, results["feasible"]])
        self._seen.update(r.tobytes() for r in idx)
