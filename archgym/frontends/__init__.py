"""Workload frontends: layer tables extracted from models of other frameworks (torch; ONNX).

They import their framework only when called, and stand above the numpy-only base layer, so that
simulators never pull in torch.
"""
from archgym.frontends.onnx_import import from_onnx
from archgym.frontends.torch_extract import from_torch, trace_torch

__all__ = ["from_onnx", "from_torch", "trace_torch"]
