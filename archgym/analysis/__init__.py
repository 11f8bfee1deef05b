"""Analysis: exact ground truth (exhaustive enumeration), fronts, regret and statistics.

Pure computation over envs, search histories and evaluation logs; plots and the report only draw
what this package computes. The Pareto and hypervolume math itself lives in archgym.core.pareto.
"""
from archgym.analysis.exact import (EXHAUSTIVE_LIMIT, ExactFront, GroundTruth, exact_front, exhaustive, pareto_2d,
                                    reference_point, regret, streaming_exact)
from archgym.core.pareto import (REF_MARGIN, best_so_far, gap, hypervolume, hypervolume_curve, objective_matrix,
                                 pareto_mask)

__all__ = ["EXHAUSTIVE_LIMIT", "GroundTruth", "exhaustive", "streaming_exact", "ExactFront", "exact_front", "regret", "pareto_2d", "reference_point", "REF_MARGIN", "best_so_far", "gap",
           "hypervolume", "hypervolume_curve", "objective_matrix", "pareto_mask"]
