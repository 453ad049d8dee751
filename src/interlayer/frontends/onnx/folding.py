"""Constant folding: nodes whose inputs are all constants are evaluated, never converted.

A node whose inputs are all :class:`~.values.Const` is run once by ``onnx.reference.ReferenceEvaluator`` and its
outputs are constants. ``Shape`` and ``Size`` of a value the model computes are constants too, except for the
batch: they become :class:`~.values.Dual` values, evaluated for two batch sizes, and so does every node that
reads a ``Dual`` and otherwise constants. That is how ``Shape -> Gather -> Unsqueeze -> Concat -> Reshape``
(torch.onnx's and tf2onnx's ``x.view(x.size(0), -1)``) reaches ``Reshape`` as a target ``[N, -1]``: one clean
``reshape`` that keeps the batch symbolic, and how the zeros of ``ConstantOfShape(Shape(x))`` (the initial state
of an exported LSTM) are recognised as zeros.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ...ir.graph import BATCH
from .values import BATCHES, Const, Dual, Held, Shapes

NEVER_FOLDED = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                "Bernoulli", "Dropout"}
"""Ops whose result is not a function of their inputs alone (Dropout is identity at inference: converted)."""


def foldable(node: onnx.NodeProto, inputs: list) -> bool:
    """Whether every input of ``node`` is a constant (or batch-dependent constant) and it can be evaluated."""
    if node.op_type in NEVER_FOLDED or any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                                           for a in node.attribute):
        return False
    present = [value for name, value in zip(node.input, inputs) if name]
    if node.op_type == "Range" and any(isinstance(value, Dual) for value in present):
        return False  # positions up to a size of the batch: the IR's arange (``index.py``)
    return all(isinstance(value, (Const, Dual)) for value in present)


def fold(node: onnx.NodeProto, inputs: list, opsets: dict[str, int]) -> list:
    """The node's outputs as :class:`Const` (or :class:`Dual` when they depend on the batch)."""
    dual = any(isinstance(value, Dual) for value in inputs)
    first = _evaluate(node, [_pick(value, 0) for value in inputs], opsets)
    if not dual:
        source = _inherited_source(node, inputs)
        return [Const(array, source if len(first) == 1 else None) for array in first]
    second = _evaluate(node, [_pick(value, 1) for value in inputs], opsets)
    return [Const(a) if a.shape == b.shape and np.array_equal(a, b) else Dual(a, b) for a, b in zip(first, second)]


def shape_of(node: onnx.NodeProto, held: Held, opset: int) -> Const | Dual | str:
    """``Shape`` (with opset 15's start/end) or ``Size`` of a computed value; a message when a size other than
    the batch is unknown."""
    shape = list(held.shape)
    if node.op_type == "Shape" and opset >= 15:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        start, end = attrs.get("start", 0), attrs.get("end", len(shape))
        shape = shape[slice(start, end)]
    whole = held.shape if node.op_type == "Size" else shape
    dynamic = [d for d in whole if isinstance(d, str) and Shapes.of([d]).symbols != [BATCH]]
    if dynamic:
        return (f"the shape of its input has dynamic size(s) {dynamic} besides the batch, which this frontend's "
                f"constant folding (shapes evaluated at two batch sizes) cannot follow. Expected static sizes "
                f"except the batch. Received: shape={list(held.shape)}. Export the model with those sizes fixed")
    arrays = []
    for batch in BATCHES:
        sizes = [Shapes.of([d]).factor * (batch if isinstance(d, str) else 1) for d in whole]
        arrays.append(np.array(sizes, np.int64) if node.op_type == "Shape" else np.array(np.prod(sizes), np.int64))
    if np.array_equal(*arrays):
        return Const(arrays[0])
    return Dual(*arrays)


def _pick(value, index: int):
    if value is None:
        return None
    if isinstance(value, Dual):
        return value.first if index == 0 else value.second
    return value.array


class FoldError(Exception):
    """A node whose inputs are all constants could not be evaluated."""


def _gather_elements(node: onnx.NodeProto, data: np.ndarray, indices: np.ndarray) -> list[np.ndarray]:
    """GatherElements (onnx.reference's own fails when ``indices`` is shorter than ``data`` along another axis,
    as BertEmbeddings' ``gather(token_type_ids, 1, position_ids)`` exported by torch.onnx is)."""
    axis = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), 0)
    indices = np.where(indices < 0, indices + data.shape[axis], indices)
    return [np.take_along_axis(data, indices.astype(np.int64), axis=axis)]


_IN_NUMPY = {"GatherElements": _gather_elements}
"""ai.onnx ops evaluated with numpy rather than onnx.reference."""


def _evaluate(node: onnx.NodeProto, arrays: list, opsets: dict[str, int]) -> list[np.ndarray]:
    if (node.domain or "") == "" and node.op_type in _IN_NUMPY:
        return _IN_NUMPY[node.op_type](node, *arrays)
    try:
        return _run_reference(node, arrays, opsets)
    except Exception as exc:
        raise FoldError(f"its inputs are all constants, and evaluating it with onnx.reference failed: "
                        f"{type(exc).__name__}: {str(exc).rstrip('.')}. Expected a node onnx.reference runs. Received: "
                        f"input shapes={[None if a is None else list(np.shape(a)) for a in arrays]}") from exc


def _run_reference(node: onnx.NodeProto, arrays: list, opsets: dict[str, int]) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    renamed = onnx.NodeProto()
    renamed.CopyFrom(node)
    del renamed.input[:]
    del renamed.output[:]
    feeds = {}
    for index, (name, array) in enumerate(zip(node.input, arrays)):
        if not name:
            renamed.input.append("")
            continue
        renamed.input.append(f"in{index}")
        feeds[f"in{index}"] = array
    renamed.output.extend(f"out{index}" if name else "" for index, name in enumerate(node.output))
    domain = node.domain or ""
    graph = helper.make_graph(
        [renamed], "fold",
        [helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None) for name in feeds],
        [helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None) for name in renamed.output if name])
    evaluator = ReferenceEvaluator(graph, opsets={**opsets, domain: opsets.get(domain, opsets.get("", 1))})
    results = evaluator.run(None, feeds)
    return [np.asarray(result) for result in results]


def _inherited_source(node: onnx.NodeProto, inputs: list) -> str | None:
    """The source name a folded result keeps: that of its one named input holding more than shape numbers
    (``Transpose(W)``, ``Unsqueeze(bias)``, ``Cast(W)``), else its own ONNX name."""
    if node.op_type == "Identity":  # an alias the exporter named (torch.onnx's shared parameters)
        return node.output[0]
    named = [value for value in inputs if isinstance(value, Const) and value.source is not None
             and value.array.dtype.kind == "f" and value.array.size > 1]
    if len(named) == 1 and len(node.output) == 1:
        return named[0].source
    return node.output[0] if node.output else None
