"""Network search spaces: a DesignSpace of choices plus the torch network each choice builds.

An architecture is a dict, e.g. `{"resolution": 16, "s1_depth": 2, "s1_kernel": 5, ...}`.
`space.build(arch)` returns a real `torch.nn.Module`; `space.layer_table(arch)` runs it once
through `archgym.frontends.from_torch` and caches the table by `space.hash(arch)`, so torch is
touched once per architecture (never, for tables loaded with `attach_tables`).

The built-in spaces are sized for the offline `digits-canvas` task (see `data.py`): 1-channel
16x16 images, 10 classes. They are scaled-down ImageNet families, not ImageNet networks.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from archgym.core.errors import DesignError, unknown
from archgym.core.space import Categorical, DesignSpace
from archgym.core.workloads import Workload


def _divisible(c: float, divisor: int = 4) -> int:
    """MobileNet's channel rounding: nearest multiple of `divisor`, never below 90% of `c`."""
    out = max(divisor, int(c + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * c else out


class NetworkSpace:
    """A family of networks (fixed `config`) and the DesignSpace of its per-architecture choices."""
    kind = "network"

    def __init__(self, name: str, config: Mapping, space: DesignSpace):
        self.name, self.config, self.space = name, dict(config), space
        self.family = f"{self.kind}:" + json.dumps(self.config, sort_keys=True)
        self._tables: dict[str, Workload] = {}
        self.layers_file: Path | None = None  # precomputed tables, loaded on the first cache miss

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.space.size:,} architectures)"

    @property
    def in_channels(self) -> int:
        return self.config["in_channels"]

    @property
    def num_classes(self) -> int:
        return self.config["num_classes"]

    def validate(self, arch: Mapping) -> dict:
        """The canonical architecture dict; DesignError naming the field if it is outside the space."""
        try:
            return self.space.from_indices(self.space.to_indices(arch))
        except DesignError as e:
            raise DesignError(f"architecture outside search space {self.name!r}: {e}") from None

    def hash(self, arch: Mapping) -> str:
        """A stable 16-hex-digit id of the network (family config + choices), shared by sub-spaces."""
        text = json.dumps({"family": self.family, "arch": self.validate(arch)}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def restrict(self, name: str, **values: Sequence) -> "NetworkSpace":
        """A sub-space with the same networks (and hashes) and fewer choices per parameter."""
        sub = type(self).__new__(type(self))
        NetworkSpace.__init__(sub, name, self.config, self.space.restrict(**values))
        sub._tables = self._tables
        return sub

    def stages(self, arch: dict) -> list[tuple]:
        raise NotImplementedError

    def build(self, arch: Mapping, seed: int | None = None):
        """The torch.nn.Module for `arch` (weights initialised from `seed` when given)."""
        raise NotImplementedError

    def example_input(self, arch: Mapping):
        """A zero batch of one image at the architecture's input resolution."""
        import torch
        r = self.validate(arch)["resolution"]
        return torch.zeros(1, self.in_channels, r, r)

    def layer_table(self, arch: Mapping) -> Workload:
        """The layer table of the network, extracted from torch once and cached by hash."""
        key = self.hash(arch)
        table = self._tables.get(key)
        if table is None and self.layers_file is not None and self.layers_file.is_file():
            from archgym.nas.tables import read_layers
            self.attach_tables(read_layers(self.layers_file, prefix=f"{self.name}-"))
            self.layers_file = None
            table = self._tables.get(key)
        if table is None:
            from archgym.frontends import from_torch
            table = from_torch(self.build(arch), self.example_input(arch), name=f"{self.name}-{key}")
            self._tables[key] = table
        return table

    def attach_tables(self, tables: Mapping[str, Workload]) -> None:
        """Add precomputed layer tables (hash -> Workload), e.g. the shipped ones for a tabular space."""
        self._tables.update(tables)

    def cached(self, arch: Mapping) -> bool:
        return self.hash(arch) in self._tables

    def macs(self, arch: Mapping) -> int:
        """Multiply-accumulates of one inference: the FLOPs proxy."""
        return self.layer_table(arch).macs


def _seeded(build, seed):
    import torch
    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


class MobileNetV2Space(NetworkSpace):
    """MobileNetV2 / ProxylessNAS-style space: per stage depth, kernel (3/5/7), expansion ratio and
    width multiplier, plus input resolution. Stages run MBConv blocks; the first block of each
    stage has the stage's stride. Channels are `base * width` rounded to a multiple of 4."""
    kind = "mbv2"

    def __init__(self, name: str = "mbv2", *, in_channels: int = 1, num_classes: int = 10, stem: int = 16,
                 head: int = 128, stages: Sequence[tuple[int, int]] = ((16, 2), (32, 2), (64, 2)),
                 depths: Sequence[int] = (1, 2, 3), kernels: Sequence[int] = (3, 5, 7),
                 expands: Sequence[int] = (3, 4, 6), widths: Sequence[float] = (0.5, 0.75, 1.0),
                 resolutions: Sequence[int] = (8, 12, 16)):
        config = {"in_channels": in_channels, "num_classes": num_classes, "stem": stem, "head": head,
                  "stages": [list(s) for s in stages]}
        params = [Categorical("resolution", list(resolutions))]
        for i in range(1, len(stages) + 1):
            params += [Categorical(f"s{i}_depth", list(depths)), Categorical(f"s{i}_kernel", list(kernels)), Categorical(f"s{i}_expand", list(expands)),
                       Categorical(f"s{i}_width", list(widths))]
        super().__init__(name, config, DesignSpace(params))

    def stages(self, arch: dict) -> list[tuple[int, int, int, int, int]]:
        """(channels, depth, kernel, expand, stride) per stage."""
        return [(_divisible(base * arch[f"s{i}_width"]), arch[f"s{i}_depth"], arch[f"s{i}_kernel"],
                 arch[f"s{i}_expand"], stride)
                for i, (base, stride) in enumerate(self.config["stages"], start=1)]

    def build(self, arch: Mapping, seed: int | None = None):
        from archgym.nas.models import mobilenet_v2
        a, c = self.validate(arch), self.config
        return _seeded(lambda: mobilenet_v2(c["in_channels"], c["num_classes"], c["stem"], c["head"], self.stages(a)), seed)


class ResNetSpace(NetworkSpace):
    """A small ResNet-style space: per stage depth, kernel (3/5) and width multiplier of basic
    residual blocks, plus input resolution."""
    kind = "resnet"

    def __init__(self, name: str = "resnet", *, in_channels: int = 1, num_classes: int = 10, stem: int = 16,
                 stages: Sequence[tuple[int, int]] = ((16, 1), (32, 2), (64, 2)),
                 depths: Sequence[int] = (1, 2, 3), kernels: Sequence[int] = (3, 5),
                 widths: Sequence[float] = (0.5, 0.75, 1.0), resolutions: Sequence[int] = (8, 12, 16)):
        config = {"in_channels": in_channels, "num_classes": num_classes, "stem": stem,
                  "stages": [list(s) for s in stages]}
        params = [Categorical("resolution", list(resolutions))]
        for i in range(1, len(stages) + 1):
            params += [Categorical(f"s{i}_depth", list(depths)), Categorical(f"s{i}_kernel", list(kernels)),
                       Categorical(f"s{i}_width", list(widths))]
        super().__init__(name, config, DesignSpace(params))

    def stages(self, arch: dict) -> list[tuple[int, int, int, int]]:
        """(channels, depth, kernel, stride) per stage."""
        return [(_divisible(base * arch[f"s{i}_width"]), arch[f"s{i}_depth"], arch[f"s{i}_kernel"], stride)
                for i, (base, stride) in enumerate(self.config["stages"], start=1)]

    def build(self, arch: Mapping, seed: int | None = None):
        from archgym.nas.models import resnet
        a, c = self.validate(arch), self.config
        return _seeded(lambda: resnet(c["in_channels"], c["num_classes"], c["stem"], self.stages(a)), seed)


# The tabular benchmark's sub-space of "mbv2": 1,152 architectures, biased to the cheaper choices
# so that training all of them fits in under 2 hours on one CPU thread (see docs/oracles.md).
TAB_CHOICES = {"resolution": (8, 12, 16),
               "s1_depth": (1,), "s1_kernel": (3, 5, 7), "s1_expand": (3,), "s1_width": (1.0,),
               "s2_depth": (1, 2), "s2_kernel": (3, 7), "s2_expand": (4,), "s2_width": (0.5, 1.0),
               "s3_depth": (1, 2), "s3_kernel": (3, 7), "s3_expand": (3, 6), "s3_width": (0.5, 1.0)}

_BUILDERS = {
    "mbv2": MobileNetV2Space,
    "mbv2-tab": lambda: _shipped(get_space("mbv2").restrict("mbv2-tab", **TAB_CHOICES)),
    "resnet": ResNetSpace,
}
_instances: dict[str, NetworkSpace] = {}
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "nas"


def register_space(name: str, builder) -> None:
    """Add a built-in space: `builder()` makes it on the first `get_space(name)`."""
    _BUILDERS[name] = builder


def _shipped(space: NetworkSpace) -> NetworkSpace:
    """Point a built-in tabular space at its shipped layer tables."""
    space.layers_file = DATA_DIR / f"{space.name}.layers.npz"
    return space


def space_names() -> list[str]:
    return list(_BUILDERS)


def get_space(space: str | NetworkSpace) -> NetworkSpace:
    """A built-in network space by name ("mbv2", "mbv2-tab", "resnet", "nb201"), or a NetworkSpace as is."""
    if isinstance(space, NetworkSpace):
        return space
    if space not in _BUILDERS:
        raise unknown("network space", space, _BUILDERS)
    if space not in _instances:
        _instances[space] = _BUILDERS[space]()
    return _instances[space]

