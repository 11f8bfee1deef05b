"""Errors raised where bad input enters: every one is a ValueError that names the field."""


class ArchGymError(ValueError):
    """Base class: bad input to archgym, with a message that names the field and allowed values."""


class DesignError(ArchGymError):
    """A design parameter is missing, unknown, or outside its allowed values."""


class WorkloadError(ArchGymError):
    """A workload, topology file or memory trace is malformed (the message gives file:line)."""


class UnknownNameError(ArchGymError):
    """An env, simulator, agent, workload, board, standard or oracle name that does not exist."""


def unknown(kind: str, name: object, allowed) -> UnknownNameError:
    """Build the standard 'unknown X' error listing the valid names."""
    return UnknownNameError(f"unknown {kind} {name!r}; valid: {', '.join(map(str, allowed))}")


class SimulatorError(RuntimeError):
    """A simulator returned a non-finite metric for a valid design: a bug in archgym, not bad input."""
