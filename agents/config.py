"""Agent hyper-parameters as typed, frozen configs.

Each agent declares one frozen dataclass, a subclass of AgentConfig, whose fields are `hp(...)`:
a default plus a numeric range [low, high] (log-scaled for sampling if `log`) or a tuple of
`choices`. Building a config checks every value (type, finiteness, range) and rejects unknown
names, each error naming the field and its allowed values; `validate` adds cross-field rules.
`HyperParam` is the field's plain description, for sweeps that check and sample settings.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, ClassVar

import numpy as np

from archgym.core.errors import ArchGymError, unknown
from archgym.core.validate import show


class HyperParameterError(ArchGymError):
    """A hyper-parameter value of the wrong type or out of its declared range, or an unknown name."""


@dataclass(frozen=True)
class HyperParam:
    """One knob: its default, and either a numeric range [low, high] (log-scaled for sampling if
    `log`) or a tuple of `choices`. The default's type (int, float) is the knob's type."""
    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    log: bool = False
    help: str = ""

    def check(self, value, agent: str = "agent"):
        """`value` cast to the knob's type; HyperParameterError if the type or range is wrong."""
        where = f"{agent}: hyper-parameter {self.name!r}"
        if self.choices is not None:
            if isinstance(value, (bool, np.bool_)) != isinstance(self.choices[0], bool) or value not in self.choices:
                raise HyperParameterError(f"{where} must be one of {list(self.choices)}, got {show(value)}")
            return value
        integral = isinstance(self.default, int)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not _finite(value) \
                or (integral and float(value) != int(value)):
            raise HyperParameterError(f"{where} must be {'an integer' if integral else 'a number'} in "
                                      f"[{self.low:g}, {self.high:g}], got {show(value)}")
        value = int(value) if integral else float(value)
        if not self.low <= value <= self.high:
            raise HyperParameterError(f"{where} = {value!r} is out of range [{self.low:g}, {self.high:g}]")
        return value

    def sample(self, rng: np.random.Generator):
        """A random value from the declared range (log-uniform if `log`)."""
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if isinstance(self.default, int):
            if self.log:
                return int(min(np.exp(rng.uniform(np.log(self.low), np.log(self.high + 1))), self.high))
            return int(rng.integers(self.low, self.high + 1))
        if self.log:
            return float(np.exp(rng.uniform(np.log(self.low), np.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def to_config(self) -> dict:
        out = {"name": self.name, "default": self.default, "help": self.help}
        if self.choices is not None:
            out["choices"] = list(self.choices)
        else:
            out.update(low=self.low, high=self.high, log=self.log)
        return out


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except OverflowError:  # an int beyond float range
        return False


def hp(default, low: float | None = None, high: float | None = None, *, choices: tuple | None = None,
       log: bool = False, help: str = ""):
    """A config field: its default and its range (or choices), checked whenever a config is built."""
    if (choices is None) == (low is None or high is None):
        raise TypeError("hp() takes either low and high, or choices")
    return field(default=default, metadata={"low": low, "high": high, "choices": choices, "log": log, "help": help})


@dataclass(frozen=True)
class AgentConfig:
    """Base of every agent's hyper-parameters (see the module docstring). Subclasses are frozen
    dataclasses of `hp(...)` fields and may override `validate` for rules across fields."""
    agent: ClassVar[str] = "agent"  # the agent's registry name, for error messages

    def __post_init__(self):
        for h in self.hyperparams():
            object.__setattr__(self, h.name, h.check(getattr(self, h.name), self.agent))
        self.validate()

    def validate(self) -> None:
        """Cross-field rules; raise HyperParameterError naming the fields."""

    @classmethod
    def hyperparams(cls) -> tuple[HyperParam, ...]:
        return tuple(HyperParam(f.name, f.default, f.metadata["low"], f.metadata["high"], f.metadata["choices"],
                                f.metadata["log"], f.metadata["help"]) for f in dataclasses.fields(cls))

    @classmethod
    def build(cls, given: Mapping) -> "AgentConfig":
        """Defaults overridden by `given`; unknown names list the valid ones."""
        names = [f.name for f in dataclasses.fields(cls)]
        for k in given:
            if k not in names:
                raise unknown(f"{cls.agent} hyper-parameter", k, names or ["(none: this agent has no hyper-parameters)"])
        return cls(**given)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
