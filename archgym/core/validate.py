"""The validation boundary: checks every value from a user passes where it enters archgym.

Experiment files, CSV topologies, memory traces, designs, objectives, budgets, seeds, env kwargs
and logs call these before anything runs or allocates. Each check raises an ArchGymError subclass
(the CLI turns it into exit status 2 and one line) whose message names the field and the allowed
values. The limits below bound what one value can make archgym allocate or compute; each says why.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from archgym.core.errors import ArchGymError

# --- documented limits ----------------------------------------------------------------------------
MAX_BUDGET = 10_000_000      # evaluations per search: a History keeps every one in memory (~0.3 kB each)
MAX_SEED = 2**32 - 1         # SB3 and numpy's legacy RandomState seed with 32-bit integers
MAX_SAMPLE = 10_000          # random hyper-parameter settings drawn per agent entry of an experiment
MAX_CELLS = 100_000          # searches in one experiment: the driver lists every cell up front
MAX_YAML_BYTES = 1 << 20     # an experiment file (the bundled ones are < 2 kB)
MAX_YAML_NODES = 100_000     # YAML nodes after expanding aliases: an alias bomb expands exponentially
MAX_TEXT_BYTES = 64 << 20    # a SCALE-Sim topology CSV (read whole; ResNet-50's is 4 kB)
MAX_LAYERS = 2**15           # rows of a layer table (a 100-block transformer has ~1,000)
MAX_LAYER_DIM = 2**24        # any layer field (pixels, channels, tokens, filter taps): 16.7 M
MAX_LAYER_MACS = 2**47       # MACs of one layer (1.4e14; a GPT-3 layer at 2k tokens has 1.2e12): with
#                              MAX_LAYERS rows every kernel product and total stays below 2**63
MAX_TRACE_CYCLES = 2**34     # last arrival of a memory trace (1.7e10 cycles, 14 s of DDR4-2400): the DRAM
#                              kernel steps every refresh interval, ~1 s per design at this span
MAX_TRACE_REQUESTS = 10**8  # requests of a trace generated in memory (2.4 GB); files stream in chunks
MAX_WORKERS = 1024           # processes of a local pool or CPUs of a local Ray (each a full Python process)
MAX_NUM_ENVS = 4096          # copies in one vector env (each step scores them in one batch)
MAX_MODEL_BYTES = 2 << 30    # a proxy or ONNX model file (protobuf's own limit is 2 GiB)


class LimitError(ArchGymError):
    """A value beyond one of the documented limits of archgym.core.validate."""


def integer(value, name: str, low: int | None = None, high: int | None = None, error=ArchGymError,
            expected: str | None = None) -> int:
    """`value` as an int in [low, high]; bools, floats and text are refused. The error says
    "<name> must be <expected>" (default: "an integer in [low, high]")."""
    expected = expected or f"an integer{_range(low, high)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)) \
            or (low is not None and value < low) or (high is not None and value > high):
        raise error(f"{name} must be {expected}, got {show(value)}")
    return int(value)


def number(value, name: str, low: float | None = None, high: float | None = None, *, positive: bool = False,
           error=ArchGymError) -> float:
    """`value` as a finite float in [low, high] (> 0 if `positive`); NaN, inf, bools and text are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.number)):
        raise error(f"{name} must be a finite number{_range(low, high, positive)}, got {show(value)}")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    if not math.isfinite(v) or (positive and v <= 0) or (low is not None and v < low) or (high is not None and v > high):
        raise error(f"{name} must be a finite number{_range(low, high, positive)}, got {show(value)}")
    return v


def numbers(table, name: str, *, positive: bool = False, error=ArchGymError) -> dict[str, float]:
    """A mapping of metric name -> finite number (objective weights, targets, limits)."""
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise error(f"{name} must be a mapping of metric name to number, got {table!r}")
    out = {}
    for k, v in table.items():
        if not isinstance(k, str):
            raise error(f"{name}: metric names must be strings, got {k!r}")
        out[k] = number(v, f"{name}[{k!r}]", positive=positive, error=error)
    return out


def show(value, width: int = 60) -> str:
    """`repr(value)` cut to `width` characters, for error messages (a 5,000-digit number stays one line)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**width:
        return f"an integer of {len(str(abs(value))):,} digits"
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _range(low, high, positive: bool = False) -> str:
    if positive and high is None:
        return " > 0"
    if low is not None and high is not None:
        return f" in [{low:,}, {high:,}]" if isinstance(low, int) else f" in [{low:g}, {high:g}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high:,}" if isinstance(high, int) else f" <= {high:g}"
    return ""


# --- files --------------------------------------------------------------------------------------------------
def file(path, what: str, max_bytes: int, error=ArchGymError) -> Path:
    """An existing regular file of at most `max_bytes` bytes."""
    if not isinstance(path, (str, Path)) or not str(path):
        raise error(f"{what} must be a file path, got {path!r}")
    p = Path(path)
    if not p.exists():
        raise error(f"{what} {str(p)!r} does not exist")
    if not p.is_file():
        raise error(f"{what} {str(p)!r} is not a regular file")
    size = p.stat().st_size
    if size > max_bytes:
        raise LimitError(f"{what} {str(p)!r} is {size:,} bytes; the limit is {max_bytes:,} (archgym.core.validate)")
    return p


def text(path, what: str, max_bytes: int, error=ArchGymError) -> str:
    """The UTF-8 text of a file of at most `max_bytes` bytes; binary or undecodable files are refused."""
    p = file(path, what, max_bytes, error)
    raw = p.read_bytes()
    if b"\0" in raw[:65536]:
        raise error(f"{p}: {what} is a binary file, not text{_binary_hint(raw)}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise error(f"{p}:{line}: {what} is not UTF-8 text (byte {raw[e.start]:#04x}){_binary_hint(raw)}") from None


_MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"SQLite format 3": "SQLite",
          b"\x89PNG": "PNG", b"\x08": "ONNX/protobuf", b"\x80": "pickle"}


def _binary_hint(raw: bytes) -> str:
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            return f" (it looks like a {kind} file)"
    return ""


# --- YAML ---------------------------------------------------------------------------------------------------
def load_yaml(source: str, filename: str = "<yaml>", max_bytes: int = MAX_YAML_BYTES, max_nodes: int = MAX_YAML_NODES,
              error=ArchGymError):
    """(data, root node) of one YAML document, read with PyYAML's SafeLoader (no code runs), after
    checking its size, that expanding its aliases yields at most `max_nodes` nodes (an alias
    bomb is refused in time linear in its text) and that no mapping repeats a key (PyYAML keeps the
    last one silently). The root node (None for an empty document) gives line numbers."""
    import yaml
    if not isinstance(source, str):
        raise error(f"{filename}: YAML must be text, got {type(source).__name__}")
    if len(source.encode("utf-8", "surrogatepass")) > max_bytes:
        raise LimitError(f"{filename}: YAML text is over the {max_bytes:,}-byte limit (archgym.core.validate)")
    loader = yaml.SafeLoader(source)
    try:
        try:
            root = loader.get_single_node()
            if root is not None:
                n = expanded_nodes(root, max_nodes)
                if n > max_nodes:
                    raise LimitError(f"{filename}: YAML expands to more than {max_nodes:,} nodes through its aliases "
                                     f"(an alias bomb?); the limit is in archgym.core.validate.MAX_YAML_NODES")
                _no_duplicate_keys(root, filename, error)
            data = loader.construct_document(root) if root is not None else None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise error(f"{filename}{line}: invalid YAML: {getattr(e, 'problem', None) or e}") from None
        except RecursionError:
            raise error(f"{filename}: YAML is nested too deeply") from None
        except ValueError as e:  # an integer with more digits than Python converts
            if isinstance(e, ArchGymError):
                raise
            raise error(f"{filename}: invalid YAML value: {str(e).split(';')[0]}") from None
    finally:
        loader.dispose()
    return data, root


def expanded_nodes(root, stop: int) -> int:
    """Nodes of a composed YAML graph with every alias expanded (stops counting past `stop`;
    a recursive alias counts as unbounded). Linear in the number of distinct nodes."""
    import yaml
    size: dict[int, int] = {}
    stack = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = _children(node, yaml)
            size[key] = min(1 + sum(size[id(k)] for k in kids), stop + 1)
            continue
        if key in size:
            continue
        if key in on_path:
            return stop + 1  # a node that contains itself
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node, yaml) if id(k) not in size)
    return size[id(root)]


def _no_duplicate_keys(root, filename: str, error) -> None:
    """Refuse a mapping that repeats a scalar key, naming its line (each distinct node visited once)."""
    import yaml
    seen_nodes, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        raise error(f"{filename}:{key.start_mark.line + 1}: duplicate key {key.value!r}")
                    keys.add(key.value)
        stack.extend(_children(node, yaml))


def _children(node, yaml) -> list:
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
