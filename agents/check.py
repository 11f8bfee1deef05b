"""`check_agent`: the agent contract as executable checks, in the spirit of Gymnasium's env_checker.

It checks an agent class's typed config (frozen, every default valid, bad values rejected with
the field's name and range) and its behaviour on an env the caller provides: exactly `budget`
evaluations of valid designs, the same history for the same seed, and ask/tell for ask/tell agents.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent
from agents.config import AgentConfig, HyperParameterError
from archgym.core.errors import ArchGymError, UnknownNameError


class AgentContractError(ArchGymError):
    """An agent class that breaks the agent contract."""


def _fail(cls, what: str) -> AgentContractError:
    return AgentContractError(f"agent {cls.name!r}: {what}")


def check_config(cls: type[Agent]) -> None:
    """The config is a frozen AgentConfig dataclass whose defaults are valid and whose checks bite."""
    cfg = cls.Config
    if not (isinstance(cfg, type) and issubclass(cfg, AgentConfig) and dataclasses.is_dataclass(cfg)):
        raise _fail(cls, "Config must be a dataclass subclass of agents.config.AgentConfig")
    if not cfg.__dataclass_params__.frozen:
        raise _fail(cls, "Config must be a frozen dataclass")
    cfg.build({})  # every default is valid
    try:
        cfg.build({"no_such_knob": 1})
    except UnknownNameError as e:
        if "no_such_knob" not in str(e):
            raise _fail(cls, f"an unknown hyper-parameter's error does not name it: {e}") from None
    else:
        raise _fail(cls, "accepted an unknown hyper-parameter")
    for h in cls.hyperparams:
        bad = ["not-a-value"] if h.choices is not None else [h.low - 1 - abs(h.low), h.high * 2 + 1, float("nan")]
        for value in bad:
            try:
                cfg.build({h.name: value})
            except HyperParameterError as e:
                if h.name not in str(e):
                    raise _fail(cls, f"the error for {h.name}={value!r} does not name the field: {e}") from None
            else:
                raise _fail(cls, f"accepted {h.name}={value!r} outside its declared range")


def check_agent(cls: type[Agent], env, budget: int = 24, **hparams) -> None:
    """Raise AgentContractError unless agent class `cls` honours the contract on `env`
    (`hparams` keep the run small)."""
    check_config(cls)
    space = env.unwrapped.space
    runs = [cls(seed=s, **hparams).search(env, budget) for s in (3, 3)]
    for r in runs:
        h = r.history
        if len(h) != budget:
            raise _fail(cls, f"evaluated {len(h)} designs for a budget of {budget}")
        if not np.all((h.indices >= 0) & (h.indices < space.nvec)):
            raise _fail(cls, "proposed an index outside the space")
        if not np.all(np.isfinite(h.score)) or r.best_score != h.score.max():
            raise _fail(cls, "scores must be finite and best_score their maximum")
    if not np.array_equal(runs[0].history.indices, runs[1].history.indices):
        raise _fail(cls, "the same seed gave a different history")
    if cls.steps_env or cls.family == "baseline":
        return
    agent = cls(seed=0, **hparams).reset(space, env.unwrapped.objective, budget)
    designs = agent.ask(2)
    if len(designs) != 2 or any(space.validate(d) != d for d in designs):
        raise _fail(cls, "ask(2) must return two valid designs")
    agent.tell(designs, env.unwrapped.evaluate(designs))
