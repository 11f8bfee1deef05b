"""Register every env listed in envs.yaml with Gymnasium (ids like `archgym/Systolic-v0`)."""
from __future__ import annotations

from importlib import resources

import gymnasium as gym

from archgym.core import validate
from archgym.core.errors import ArchGymError

ENTRY_POINT = "archgym.envs.base:make_env"
VECTOR_ENTRY_POINT = "archgym.envs.base:make_vector_env"
_KEYS = {"evaluator", "description", "kwargs", "max_episode_steps"}


def load_registry(text: str | None = None, source: str = "envs.yaml") -> dict[str, dict]:
    """Parse and validate envs.yaml: {env id: {evaluator, description, kwargs, max_episode_steps}}."""
    if text is None:
        text = resources.files("archgym").joinpath("envs.yaml").read_text()
    data = validate.load_yaml(text, source)[0] or {}
    if not isinstance(data, dict):
        raise ArchGymError(f"{source}: expected a mapping of env id to entry")
    for env_id, entry in data.items():
        if not isinstance(entry, dict) or "evaluator" not in entry:
            raise ArchGymError(f"{source}: entry {env_id!r} needs an 'evaluator: module:Class' key")
        bad = set(entry) - _KEYS
        if bad:
            raise ArchGymError(f"{source}: entry {env_id!r} has unknown key {sorted(bad)[0]!r}; allowed: {sorted(_KEYS)}")
        if not isinstance(entry.get("kwargs", {}), dict):
            raise ArchGymError(f"{source}: entry {env_id!r}: 'kwargs' must be a mapping")
    return data


def register_envs() -> list[str]:
    """Register all envs from envs.yaml (idempotent). Returns their ids."""
    registry = load_registry()
    for env_id, entry in registry.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            max_episode_steps=entry.get("max_episode_steps"),
            kwargs={"evaluator": entry["evaluator"], **entry.get("kwargs", {})},
        )
    return list(registry)


def env_ids() -> list[str]:
    return list(load_registry())


def describe() -> dict[str, str]:
    return {k: v.get("description", "") for k, v in load_registry().items()}
