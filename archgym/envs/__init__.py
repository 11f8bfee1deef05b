"""Gymnasium envs: a DesignSpace, a simulator evaluator and an Objective (see base.py)."""
from archgym.envs.base import ArchGymEnv, ArchGymVectorEnv, make_env, make_vector_env
from archgym.envs.evaluator import DesignEncoder, Evaluator, SimulatorEvaluator
from archgym.envs.registration import env_ids, register_envs

register_envs()

__all__ = ["ArchGymEnv", "ArchGymVectorEnv", "Evaluator", "SimulatorEvaluator", "DesignEncoder", "make_env", "make_vector_env", "env_ids", "register_envs"]
