"""Helpers of the ONNX frontend tests: small models made with onnx.helper, seeded weights, and
"captured graph == onnxruntime"."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import interlayer
from interlayer.frontends.onnx import capture
from support import assert_equivalent, assert_varies

IR_VERSION = 10
"""An IR version every installed onnxruntime reads (onnx.helper would write the newest)."""
BATCH = 3


def weight(shape, seed: int = 0, scale: float | None = None) -> np.ndarray:
    """Seeded float32 values: weights scaled by fan-in, 1-D tensors (biases, statistics) around 0.5 magnitude."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    if scale is None:
        scale = 1.0 / np.sqrt(max(int(np.prod(shape[1:])), 1)) if len(shape) >= 2 else 0.5
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def positive(shape, seed: int = 0) -> np.ndarray:
    """Seeded values in [0.5, 2): variances."""
    return np.random.default_rng(seed).uniform(0.5, 2.0, tuple(shape)).astype(np.float32)


def tensor(name: str, array) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def value(name: str, shape, elem=TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, list(shape) if shape is not None else None)


def model(nodes, inputs, outputs, initializers=(), opset: int = 17, name: str = "test") -> onnx.ModelProto:
    """A checked ONNX model. ``inputs``/``outputs``: ValueInfoProtos or (name, shape) pairs (float32)."""
    inputs = [i if isinstance(i, onnx.ValueInfoProto) else value(*i) for i in inputs]
    outputs = [o if isinstance(o, onnx.ValueInfoProto) else value(*o) for o in outputs]
    graph = helper.make_graph(list(nodes), name, inputs, outputs, list(initializers))
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    made = onnx.shape_inference.infer_shapes(made)  # fills in the output shapes left open
    onnx.checker.check_model(made)
    return made


def single(op_type: str, input_shape, out_shape=None, initializers=(), opset: int = 17, extra_inputs=(),
           **attrs) -> onnx.ModelProto:
    """One node reading the graph input ``x`` (and the names in ``extra_inputs``: initializers, or '' for an
    absent optional input), writing ``y``."""
    node = helper.make_node(op_type, ["x", *extra_inputs], ["y"], name=op_type.lower(), **attrs)
    return model([node], [("x", input_shape)], [("y", out_shape)], initializers, opset)


def inputs_for(proto: onnx.ModelProto, batch: int = BATCH, seed: int = 1) -> dict[str, np.ndarray]:
    """Seeded inputs for every graph input (not initializers): floats normal, integers in [0, 4), bools mostly
    True; axis 0 is ``batch``, but where the inputs fix different sizes there (no batch: the frontend keeps them)."""
    rng = np.random.default_rng(seed)
    initializers = {i.name for i in proto.graph.initializer}
    real = [item for item in proto.graph.input if item.name not in initializers]
    fixed = {d[0].dim_value if d[0].HasField("dim_value") else None for d in
             (item.type.tensor_type.shape.dim for item in real)}
    feeds = {}
    for item in real:
        dims = item.type.tensor_type.shape.dim
        own = dims[0].dim_value if dims[0].HasField("dim_value") and len(fixed) > 1 else batch  # not a batch
        shape = [own] + [d.dim_value if d.HasField("dim_value") else 5 for d in dims[1:]]
        elem = item.type.tensor_type.elem_type
        if elem in (TensorProto.INT64, TensorProto.INT32):
            feeds[item.name] = rng.integers(0, 4, shape).astype(helper.tensor_dtype_to_np_dtype(elem))
        elif elem == TensorProto.BOOL:
            feeds[item.name] = rng.random(shape) < 0.7
        else:
            feeds[item.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def onnxruntime_outputs(proto: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def check(proto: onnx.ModelProto, batches=(BATCH,), rtol: float = 1e-5, varies: bool = True):
    """Capture ``proto`` and compare the reference interpreter with onnxruntime for each batch size."""
    graph = capture(proto)
    first = None
    for batch in batches:
        feeds = inputs_for(proto, batch)
        expected = onnxruntime_outputs(proto, feeds)
        actual = list(interlayer.run(graph, [feeds[spec.name] for spec in graph.inputs]).values())
        assert len(actual) == len(expected)
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert_equivalent(got, want, rtol=rtol, what=f"batch {batch} output {index}")
        first = first if first is not None else actual[0]
    if varies:
        feeds = inputs_for(proto, batches[0], seed=2)
        other = list(interlayer.run(graph, [feeds[spec.name] for spec in graph.inputs]).values())
        assert_varies(other[0], first)
    return graph


def ops(graph) -> list[str]:
    return [node.op for node in graph.nodes]
