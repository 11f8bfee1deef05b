"""Network search spaces in torch and pluggable accuracy oracles, for NN + hardware co-design.

    from archgym.nas import get_space, make_oracle
    space = get_space("mbv2")                      # or "mbv2-tab", "resnet", "nb201" (NAS-Bench-201)
    arch = space.space.default()                   # a dict of choices
    model = space.build(arch)                      # a real torch.nn.Module
    table = space.layer_table(arch)                # its layer table (via archgym.core.workloads.from_torch)
    acc = make_oracle("tabular")(arch)             # or "trained", "predictor", "zero-cost", "nb201" (CIFAR-10)

Importing this package does not import torch; building, training and scoring do.
"""
from archgym.nas.data import DatasetError
from archgym.nas.nb201_space import NB201Space
from archgym.nas.oracles import (ORACLES, MissingEntryError, NB201Oracle, Oracle, PredictorOracle, TabularOracle,
                                 TrainedOracle, ZeroCostOracle, make_oracle)
from archgym.nas.spaces import MobileNetV2Space, NetworkSpace, ResNetSpace, get_space, space_names
from archgym.nas.train import Budget

__all__ = ["get_space", "space_names", "NetworkSpace", "MobileNetV2Space", "ResNetSpace", "NB201Space", "make_oracle",
           "ORACLES", "Oracle", "TrainedOracle", "TabularOracle", "PredictorOracle", "ZeroCostOracle", "NB201Oracle",
           "Budget", "DatasetError", "MissingEntryError"]
