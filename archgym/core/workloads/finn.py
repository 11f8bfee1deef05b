"""Small quantised networks that fit real FPGA boards as FINN dataflow accelerators (batch 1).

- `cnv`: the BNN-PYNQ CIFAR-10 CNV topology (Umuroglu et al., "FINN", FPGA 2017; shapes from
  brevitas `src/brevitas_examples/bnn_pynq/models/CNV.py`: CNV_OUT_CH_POOL = [(64, F), (64, T),
  (128, F), (128, T), (256, F), (256, F)], 3x3 kernels without padding, 2x2 max-pools,
  INTERMEDIATE_FC_FEATURES = [(256, 512), (512, 512)], LAST_FC_IN_FEATURES = 512, 10 classes).
- `tfc`, `sfc`, `lfc`: the BNN-PYNQ MNIST MLPs, three hidden layers of 64, 256 and 1024 units
  (brevitas `bnn_pynq/models/FC.py`; FINN paper Table 2), 784 inputs, 10 classes.
- `mobilenet_v1_0.25`: MobileNetV1 (Howard et al., arXiv:1704.04861) at width 0.25 and 128 px,
  the smallest published variant (14 MMACs, 0.47 M weights).
- `cnv_bnnpynq`, `lfc_bnnpynq`: the matrices BNN-PYNQ's hardware actually computes (its
  bnn/src/network/<net>/hw/config.h): the classifiers padded to 64 outputs, LFC's input padded
  from 784 to 832 (so that SIMD 64 divides it); the published utilisation reports are of these.
- `cybsec_mlp`: FINN's UNSW-NB15 intrusion-detection MLP, 600 (593 padded) bipolar inputs, three
  hidden layers of 64, one output (finn notebooks/end2end_example/cybersecurity).
"""
from __future__ import annotations

from collections.abc import Callable

from archgym.core.workloads.networks import NetBuilder, mobilenet_v1
from archgym.core.workloads.table import Workload


def _cnv(name: str, outputs: int) -> Workload:
    n = NetBuilder(name, 32, 32, 3)
    n.conv("conv1", 64, 3, pad=0).conv("conv2", 64, 3, pad=0).pool("pool1", 2)
    n.conv("conv3", 128, 3, pad=0).conv("conv4", 128, 3, pad=0).pool("pool2", 2)
    n.conv("conv5", 256, 3, pad=0).conv("conv6", 256, 3, pad=0)
    return n.fc("fc1", 512).fc("fc2", 512).fc("fc3", outputs).build()


def cnv() -> Workload:
    """BNN-PYNQ CNV for CIFAR-10 (32x32x3): 6 unpadded 3x3 convs, 2 max-pools, 3 FC layers."""
    return _cnv("cnv", 10)


def _mlp(name: str, hidden: int, inputs: int = 784, outputs: int = 10) -> Workload:
    n = NetBuilder(name, 1, 1, inputs)
    return n.fc("fc1", hidden).fc("fc2", hidden).fc("fc3", hidden).fc("fc4", outputs).build()


def tfc() -> Workload:
    """BNN-PYNQ TFC for MNIST: 784-64-64-64-10."""
    return _mlp("tfc", 64)


def sfc() -> Workload:
    """BNN-PYNQ SFC for MNIST: 784-256-256-256-10."""
    return _mlp("sfc", 256)


def lfc() -> Workload:
    """BNN-PYNQ LFC for MNIST: 784-1024-1024-1024-10."""
    return _mlp("lfc", 1024)


def cnv_bnnpynq() -> Workload:
    """CNV as BNN-PYNQ synthesises it: fc3 padded to MH = 64 (config.h L8_MH)."""
    return _cnv("cnv_bnnpynq", 64)


def lfc_bnnpynq() -> Workload:
    """LFC as BNN-PYNQ synthesises it: input padded to MW = 832, classifier to MH = 64 (config.h)."""
    return _mlp("lfc_bnnpynq", 1024, inputs=832, outputs=64)


def cybsec_mlp() -> Workload:
    """FINN's cybersecurity MLP: 600-64-64-64-1 (notebooks 1-train-mlp-with-brevitas, input_size 593
    padded to 600 for export)."""
    return _mlp("cybsec_mlp", 64, inputs=600, outputs=1)


def mobilenet_v1_025() -> Workload:
    """MobileNetV1 at width 0.25, 128x128 input: 13 depthwise-separable blocks, global pool, FC."""
    return mobilenet_v1(0.25, 128, name="mobilenet_v1_0.25")


NETWORKS: dict[str, Callable[[], Workload]] = {
    "cnv": cnv,
    "tfc": tfc,
    "sfc": sfc,
    "lfc": lfc,
    "mobilenet_v1_0.25": mobilenet_v1_025,
    "cnv_bnnpynq": cnv_bnnpynq,
    "lfc_bnnpynq": lfc_bnnpynq,
    "cybsec_mlp": cybsec_mlp,
}
