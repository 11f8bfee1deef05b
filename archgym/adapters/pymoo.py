"""Any archgym env as a pymoo `Problem`, so pymoo's algorithms search it in pymoo's own terms.

    from pymoo.optimize import minimize
    from archgym.adapters.pymoo import ArchGymProblem, integer_operators
    problem = ArchGymProblem(gymnasium.make("archgym/Systolic-v0"))
    res = minimize(problem, NSGA2(pop_size=40, **integer_operators()), ("n_eval", 400), seed=0)
    problem.designs(res.X)   # the front as design dicts

Variables are the parameters' indices (integers 0..len-1, the env's action encoding). Objectives are
the env objective's metrics oriented for minimisation (minus each metric's score: log10 for metrics
with units, see archgym.core.pareto), or minus the scalar reward with `scalar=True`. One inequality
constraint carries the design's violation (G <= 0 when feasible), so pymoo's constrained domination
ranks infeasible designs by how far over budget they are. Each pymoo batch is one `env.evaluate` call.
"""
from __future__ import annotations

import numpy as np
from pymoo.core.problem import Problem

from archgym.core import pareto


class ArchGymProblem(Problem):
    """A pymoo Problem over `env`'s design space (see the module docstring)."""

    def __init__(self, env, scalar: bool = False):
        self.env = env.unwrapped
        self.space, self.objective, self.scalar = self.env.space, self.env.objective, bool(scalar)
        super().__init__(n_var=len(self.space), n_obj=1 if scalar else len(self.objective.metrics), n_ieq_constr=1,
                         xl=np.zeros(len(self.space)), xu=(self.space.nvec - 1).astype(float), vtype=int)
        self.evaluations = 0

    def indices(self, X) -> np.ndarray:
        """pymoo decision vectors -> index arrays (rounded and clipped to the space)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return np.clip(np.rint(X), 0, self.space.nvec - 1).astype(np.int64)

    def designs(self, X) -> list[dict]:
        """pymoo decision vectors (e.g. `res.X`) -> design dicts."""
        return [self.space.from_indices(i) for i in self.indices(X)]

    def _evaluate(self, X, out, *args, **kwargs):
        results = self.env.evaluate(self.indices(X))
        self.evaluations += len(X)
        if self.scalar:
            out["F"] = -self.objective.scalarize(results["reward"])[:, None]
        else:
            out["F"] = pareto.objective_matrix(self.objective, results)
        violation = np.asarray(results.get("violation", np.zeros(len(X))), dtype=np.float64)
        out["G"] = np.where(results["feasible"], 0.0, np.maximum(violation, 1e-9))[:, None]


def integer_operators() -> dict:
    """pymoo's integer operators for these variables: random integer sampling, and SBX and polynomial
    mutation rounded to integers (pymoo's documented recipe for integer variables)."""
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    return {"sampling": IntegerRandomSampling(), "crossover": SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
            "mutation": PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()), "eliminate_duplicates": True}
