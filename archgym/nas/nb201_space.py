"""NAS-Bench-201 as a network space: six categorical parameters `edge_{i}_{j}`, one op each, whose
row-major enumeration is exactly NB201's generation order (architecture number = position before
the index shuffle; see nb201.py). `build` returns the torch network (nb201_torch.py); `layer_table`
reads the network's layer table from the shipped composition (nb201_compose.py), without torch.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from archgym.core.space import Categorical, DesignSpace
from archgym.core.workloads import Workload
from archgym.core.workloads.table import KIND, KINDS
from archgym.nas.nb201 import (
    CELLS_PER_STAGE,
    EDGE_NAMES,
    IN_CHANNELS,
    NUM_CLASSES,
    OPS,
    STAGE_CHANNELS,
    STAGE_SIZES,
    check_ops,
    index_of_number,
    number_of_index,
    number_of_ops,
    ops_of_number,
    parse,
    to_string,
)
from archgym.nas.nb201_compose import Networks, read_networks
from archgym.nas.spaces import NetworkSpace, register_space

# The default (reference) cell: NB201's ResNet, node 1 = conv3x3(0), node 2 = conv3x3(1), node 3 = 0 + 2
# (AutoDL-Projects xautodl/models/cell_searchs/genotypes.py, `ResNet_CODE`).
RESNET = parse("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")

# --- the network space ----------------------------------------------------------------------------------
class NB201Space(NetworkSpace):
    """The 15,625 NAS-Bench-201 cells on the CIFAR-10 macro skeleton (see the module docstring).
    Architectures are dicts {edge_0_1: op, ..., edge_2_3: op}; `arch(x)` also takes an arch string,
    an official index (int) or six op names."""
    kind = "nb201"

    def __init__(self, name: str = "nb201"):
        config = {"in_channels": IN_CHANNELS, "num_classes": NUM_CLASSES, "stages": list(STAGE_CHANNELS),
                  "cells_per_stage": CELLS_PER_STAGE, "resolution": STAGE_SIZES[0]}
        super().__init__(name, config, DesignSpace([Categorical(n, OPS, default=op) for n, op in zip(EDGE_NAMES, RESNET)]))
        self._networks: Networks | None = None

    @property
    def networks(self) -> Networks:
        """Every network's layer table (the shipped composition, read on first use)."""
        if self._networks is None:
            self._networks = read_networks()
        return self._networks

    def arch(self, x) -> dict:
        """An architecture dict from a dict, an arch string, an official index or six op names."""
        if isinstance(x, Mapping):
            return self.validate(x)
        if isinstance(x, str):
            ops = parse(x)
        elif isinstance(x, (int, np.integer, bool, np.bool_)):  # check_index rejects booleans
            ops = ops_of_number(number_of_index(x))
        else:
            ops = check_ops(x)
        return dict(zip(EDGE_NAMES, ops))

    def ops(self, arch) -> tuple[str, ...]:
        a = self.arch(arch)
        return tuple(a[n] for n in EDGE_NAMES)

    def arch_string(self, arch) -> str:
        return to_string(self.ops(arch))

    def index(self, arch) -> int:
        """The official NB201 index of an architecture."""
        return index_of_number(number_of_ops(self.ops(arch)))

    def example_input(self, arch=None):
        import torch
        return torch.zeros(1, IN_CHANNELS, STAGE_SIZES[0], STAGE_SIZES[0])

    def build(self, arch, seed: int | None = None):
        from archgym.nas.nb201_torch import NB201Network
        from archgym.nas.spaces import _seeded
        ops = self.ops(arch)
        return _seeded(lambda: NB201Network(ops), seed)

    def layer_table(self, arch) -> Workload:
        """The network's layer table, from_torch's exactly (shipped; no torch)."""
        ops = self.ops(arch)
        table = self.networks.table(number_of_ops(ops))
        key = self.hash(dict(zip(EDGE_NAMES, ops)))
        names = tuple(f"{KINDS[k]}{j}" for j, k in enumerate(table[:, KIND]))
        return Workload(f"{self.name}-{key}", table, names)


register_space("nb201", NB201Space)
