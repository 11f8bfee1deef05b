"""Workloads: layer tables for the systolic and FPGA models (see table.py)."""
from archgym.workloads.table import COLUMNS, KINDS, Workload, conv_row, linear_row, matmul_row, pool_row

__all__ = ["COLUMNS", "KINDS", "Workload", "conv_row", "linear_row", "matmul_row", "pool_row"]
