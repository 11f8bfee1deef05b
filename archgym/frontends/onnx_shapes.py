"""Shapes of an ONNX model for `onnx_import.from_onnx`: graph inputs fixed (`input_shapes`, else batch 1),
then the `onnx` package's shape inference, repeated while Reshape targets computed from shapes can be
evaluated and stored (below opset 14 inference reads a stored target only)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from archgym.core.errors import WorkloadError


def inferred(model, path: Path, shapes: dict):
    """`model` with its inputs fixed and every shape inference can give; WorkloadError names what it cannot."""
    import onnx
    fix_inputs(model, path, shapes)
    while True:  # until no Reshape's computed target shape is left to store
        try:
            model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        except Exception as e:  # onnx raises its own InferenceError and plain RuntimeErrors
            raise WorkloadError(f"{path}: ONNX shape inference failed: {str(e).splitlines()[0][:200]}") from None
        if not store_reshape_targets(model):
            return model


def fix_inputs(model, path: Path, shapes: dict) -> None:
    """Set each graph input's symbolic dimensions: its `shapes` entry, else 1 for the batch dimension."""
    initializers = {i.name for i in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in initializers or not inp.type.HasField("tensor_type"):
            continue
        dims = inp.type.tensor_type.shape.dim
        given = shapes.pop(inp.name, None)
        if given is not None:
            if len(given) != len(dims) or not all(isinstance(d, int) and d > 0 for d in given):
                raise WorkloadError(f"{path}: input_shapes[{inp.name!r}] must be {len(dims)} positive integers, got {given!r}")
            for d, v in zip(dims, given):
                d.dim_value = v
        for i, d in enumerate(dims):
            if not d.HasField("dim_value"):
                if i > 0:
                    raise WorkloadError(f"{path}: input {inp.name!r} has a symbolic dimension {i} ({d.dim_param!r}); "
                                        f"give its shape with input_shapes={{{inp.name!r}: [...]}}")
                d.dim_value = 1
    if shapes:
        raise WorkloadError(f"{path}: input_shapes names no graph input: {sorted(shapes)}")


def store_reshape_targets(model) -> bool:
    """Reshape below opset 14 infers its output's shape from a stored target shape only, not from one computed from
    shapes (GroupNorm's Reshape to Shape(x), a dynamic-axes export's Shape, Gather, Unsqueeze, Concat): evaluate
    (onnx.reference) each target computable from stored tensors and inferred shapes and store it as an initializer
    the Reshape reads instead; whether any was."""
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator
    g = model.graph
    stored = {i.name: i for i in g.initializer}
    known = {vi.name: vi for vi in [*g.input, *g.value_info, *g.output] if vi.type.tensor_type.HasField("shape")
             and all(d.HasField("dim_value") for d in vi.type.tensor_type.shape.dim)}
    computable, producer = set(stored), {}
    for node in g.node:  # tensors computable from stored ones and the shapes of known ones
        producer.update({o: node for o in node.output})
        if (node.input and (node.input[0] in known or node.input[0] in stored)) if node.op_type == "Shape" else \
                all(i in computable for i in node.input if i):
            computable.update(node.output)
    reshapes = [n for n in g.node if n.op_type == "Reshape" and len(n.input) == 2 and n.output and n.output[0] not in known
                and n.input[1] not in stored and n.input[1] in computable]
    if not reshapes:
        return False
    needed, todo = {}, [n.input[1] for n in reshapes]
    while todo:  # the nodes the targets are computed with
        node = producer.get(todo.pop())
        if node is not None and id(node) not in needed:
            needed[id(node)] = node
            todo += [] if node.op_type == "Shape" else [i for i in node.input if i]
    nodes = [n for n in g.node if id(n) in needed]
    feeds = {n.input[0]: known[n.input[0]] for n in nodes if n.op_type == "Shape" and n.input[0] not in stored}
    targets = list(dict.fromkeys(n.input[1] for n in reshapes))
    sub = helper.make_graph(nodes, "reshape_targets", list(feeds.values()),
                            [helper.make_tensor_value_info(t, TensorProto.INT64, None) for t in targets],
                            list({i: stored[i] for n in nodes for i in n.input if i in stored}.values()))
    inputs = {name: np.zeros([d.dim_value for d in vi.type.tensor_type.shape.dim],
                             helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)) for name, vi in feeds.items()}
    try:
        values = ReferenceEvaluator(helper.make_model(sub, opset_imports=model.opset_import)).run(None, inputs)
    except Exception:  # an op onnx.reference does not run: the shapes stay unknown, and the node reading them says so
        return False
    for target, value in zip(targets, values):
        g.initializer.append(numpy_helper.from_array(np.asarray(value, np.int64), f"{target}/stored"))
    for n in reshapes:
        n.input[1] = f"{n.input[1]}/stored"
    return True
