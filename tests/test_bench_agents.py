"""The local-search baselines: hill climbing with restarts and the (1+1)-EA."""
from __future__ import annotations

import numpy as np
import pytest

from agents import make_agent
from agents.hill_climbing import neighbours
from archgym.analysis import exhaustive
from test_agents_toy import toy_env


def test_neighbours_are_every_one_parameter_move():
    nvec = np.array([3, 1, 4])
    n = neighbours(np.array([1, 0, 2]), nvec)
    assert len(n) == 2 + 0 + 3 == len({r.tobytes() for r in n})
    assert np.all((n != [1, 0, 2]).sum(axis=1) == 1) and np.all((n >= 0) & (n < nvec))


@pytest.mark.parametrize("strategy", ["first", "best"])
@pytest.mark.parametrize("batch", [1, 5])
def test_hill_climbing_never_evaluates_a_design_twice_and_restarts_only_at_local_optima(strategy, batch):
    from agents.hill_climbing import HillClimbing
    env = toy_env()
    space = env.unwrapped.space
    table = exhaustive(env).score.reshape(tuple(space.nvec))
    ends = []

    class Recording(HillClimbing):
        def _restart(self):
            ends.append((self._cur.copy(), self._cur_score))
            super()._restart()

    res = Recording(seed=2, strategy=strategy, designs_per_ask=batch).search(env, budget=600)
    idx = res.history.indices
    assert len(np.unique(idx, axis=0)) == len(idx)  # the budget buys 600 distinct designs
    assert len(ends) >= 3
    for design, score in ends:  # no one-parameter move from where a climb stopped improves
        assert score == table[tuple(design)]
        assert table[tuple(neighbours(design, space.nvec).T)].max() <= score


def test_hill_climbing_finds_the_toy_optimum_and_beats_random():
    env = toy_env()
    gt = exhaustive(env)
    hc = [make_agent("hill_climbing", seed=s).search(env, 300).best_score for s in range(5)]
    rnd = [make_agent("random", seed=s).search(env, 300).best_score for s in range(5)]
    assert sum(h == pytest.approx(gt.best_score) for h in hc) >= 4
    assert np.median(hc) > np.median(rnd)


def test_one_plus_one_ea_children_differ_from_the_parent_and_elitism_holds():
    env = toy_env()
    res = make_agent("one_plus_one_ea", seed=1).search(env, budget=400)
    agent = make_agent("one_plus_one_ea", seed=1).reset(env.unwrapped.space, env.unwrapped.objective, 50)
    first = agent.ask_indices(1)
    agent.tell_indices(first, env.unwrapped.evaluate(first))
    kids = agent.ask_indices(64)
    assert not np.any(np.all(kids == first, axis=1))
    assert np.mean((kids != first).sum(axis=1)) < 2.5  # about one parameter changed per child (1/d rate)
    curve = res.best_curve
    assert curve[-1] > curve[0]
    gt = exhaustive(env)
    assert res.best_score >= gt.best_score - 0.2
