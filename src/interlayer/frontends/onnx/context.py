"""What an ONNX frontend converter works with: the :class:`Capture` state and the :class:`NodeContext` of one node.

See :mod:`interlayer.frontends.onnx.capture` for how a model is walked and what a converter is.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ...errors import ValidationError
from ...ir import ops
from ...ir.builder import GraphBuilder
from . import operands
from .values import Const, Dual, Failed, Held
from .viewing import Views


class Capture:
    """The state of one capture: the builder, what each ONNX value is, every IR value's shape."""

    def __init__(self, builder: GraphBuilder, graph: onnx.GraphProto, opsets: dict[str, int],
                 fixed_batch: int | None, dtypes: dict[str, str]):
        self.builder = builder
        self.graph = graph
        self.opsets = opsets
        self.fixed_batch = fixed_batch
        """the batch size the file fixed on its inputs (1 in model-zoo files), None when symbolic"""
        self.dtypes = dtypes
        """ONNX value name -> numpy dtype name, from shape inference"""
        self.values: dict[str, Any] = {}
        """ONNX value name -> Const | Dual | Held | Failed"""
        self.shapes: dict[str, tuple] = {}
        """IR value -> canonical shape"""
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        self.absorbed: set[int] = set()
        """ids of nodes a converter fused into its own (``ctx.absorb``)"""
        self.materialized: dict[tuple, str] = {}

    def declare(self, name: str, shape: tuple, dtype: str) -> Held:
        value = self.builder.input(name, shape, dtype)
        self.shapes[value] = tuple(shape)
        return Held(value, tuple(shape), tuple(range(len(shape))), dtype)


class NodeContext(Views):
    """One ONNX node under conversion: reading its attributes and inputs, writing IR nodes (and, from
    :class:`~.viewing.Views`, the views of values whose batch is not first)."""

    def __init__(self, capture: Capture, node: onnx.NodeProto, name: str):
        self.capture = capture
        self.node = node
        self.name = name
        """the IR node name: the ONNX node's name, sanitised (``<op_type>_<index>`` when it has none)"""
        self.where = f"node '{name}' ({node.op_type})"
        self.opset = capture.opsets.get(node.domain or "", 1)
        """the model's opset version for the node's domain"""
        self.failed = False
        self._attrs = {a.name: a for a in node.attribute}

    # reading the node -------------------------------------------------------------------------------------

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute's value: ints, floats, lists, str (decoded), a numpy array for a tensor."""
        proto = self._attrs.get(name)
        if proto is None:
            return default
        value = helper.get_attribute_value(proto)
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, onnx.TensorProto):
            return numpy_helper.to_array(value)
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            return [v.decode() for v in value]
        return value

    def present(self, index: int) -> bool:
        """Whether optional input ``index`` is given."""
        return index < len(self.node.input) and bool(self.node.input[index])

    def input(self, index: int):
        """What input ``index`` is: Const, Dual, Held, or None when absent."""
        if not self.present(index):
            return None
        return self.capture.values[self.node.input[index]]

    def constant(self, index: int, what: str = "") -> np.ndarray | None:
        """The value of a constant input; reports and returns None when the input is computed by the model."""
        value = self.input(index)
        if isinstance(value, Const):
            return value.array
        if isinstance(value, Dual):
            row = value.batch_free()
            if row is not None and what.endswith("(batch broadcast)"):
                return row
        label = what or f"input {index}"
        self.unsupported(f"{label} must be a constant (an initializer or a Constant node). Expected a value that "
                         f"does not depend on the model's inputs. Received: '{self.node.input[index]}' computed from "
                         f"the inputs. Fold it into the file (onnxsim, or export with constant folding)")
        return None

    def ints(self, index: int, what: str) -> list[int] | None:
        """A constant integer input as a flat list; None after reporting."""
        array = self.constant(index, what)
        return None if array is None else [int(v) for v in array.reshape(-1)]

    def shape_operand(self, index: int, what: str) -> list | None:
        """A 1-D shape-like input as ints, ``"N"`` where it is the batch and ``"N*k"`` where it is the batch
        times k (a shape computed from ``Shape``); None after reporting."""
        value = self.input(index)
        if isinstance(value, Const):
            return [int(v) for v in value.array.reshape(-1)]
        if isinstance(value, Dual):
            entries = value.entries()
            if entries is None:
                return self.unsupported(f"{what} computes a size from the batch other than the batch times a "
                                        f"constant. Expected sizes that hold the batch as one factor of one axis")
            return entries
        self.constant(index, what)
        return None

    def dtype(self, index: int) -> str:
        """The numpy dtype name of input ``index`` (from ONNX's shape inference; a computed value's own)."""
        value = self.input(index)
        if isinstance(value, Const):
            return value.array.dtype.name
        known = self.capture.dtypes.get(self.node.input[index])
        return known or (value.dtype if isinstance(value, Held) else "float32")

    def source(self, index: int) -> str | None:
        """The ONNX name of a constant input's weight, for ``sources=``."""
        value = self.input(index)
        return value.source if isinstance(value, Const) else None

    def held(self, index: int) -> Held | None:
        """A computed input as the model holds it; reports and returns None for a constant."""
        value = self.input(index)
        if isinstance(value, Held):
            return value
        self.unsupported(f"input {index} ('{self.node.input[index]}') must be computed from the model's inputs. "
                         f"Expected a tensor produced by the model. Received: a constant. The IR has no node that "
                         f"produces a constant tensor")
        return None

    def value(self, index: int) -> str | None:
        """The IR value of a computed input, batch-first as ONNX holds it (writing a reshape/transpose when it is
        held through a view); None after reporting when that cannot be."""
        held = self.held(index)
        return None if held is None else self.materialize(held)

    def tensor(self, index: int, role: str | None = None) -> str | None:
        """Input ``index`` as an IR value whatever it is: computed (written batch-first), a constant (a
        ``constant`` node) or a batch-dependent constant (``operands.py``); None after reporting."""
        return operands.tensor(self, index, role)

    def shape(self, index: int) -> tuple:
        """The ONNX shape of input ``index`` (``"N"`` for the batch)."""
        value = self.input(index)
        if isinstance(value, Const):
            return tuple(value.array.shape)
        return value.shape

    def ir_shape(self, value: str) -> tuple:
        return self.capture.shapes[value]

    def axis(self, axis: int, rank: int, what: str = "axis") -> int | None:
        """A non-negative axis (the batch's too: no IR axis is special); None after reporting."""
        index = axis + rank if axis < 0 else axis
        if not 0 <= index < rank:
            self.unsupported(f"{what} must be an axis of the rank {rank} input. Expected {-rank} <= {what} < {rank}. "
                             f"Received: {what}={axis}")
            return None
        return index

    def consumers(self, output: int = 0) -> list[onnx.NodeProto]:
        """The nodes that read output ``output`` of this node."""
        return self.capture.consumers.get(self.node.output[output], [])

    def is_read(self, output: int) -> bool:
        """Whether output ``output`` exists and a node or the graph's outputs read it."""
        if output >= len(self.node.output) or not self.node.output[output]:
            return False
        name = self.node.output[output]
        return bool(self.consumers(output)) or name in {o.name for o in self.capture.graph.output}

    def only_consumer(self, output: int = 0) -> onnx.NodeProto | None:
        """The single node reading output ``output``, when it is not also a graph output."""
        readers = self.consumers(output)
        outputs = {o.name for o in self.capture.graph.output}
        if len(readers) == 1 and self.node.output[output] not in outputs:
            return readers[0]
        return None

    def value_of(self, name: str):
        """What the ONNX value ``name`` is (for converters that look at a neighbour's inputs)."""
        return self.capture.values.get(name) if name else None

    # writing IR -------------------------------------------------------------------------------------------

    def add(self, op: str, inputs: list[str], attrs: dict | None = None, weights: dict | None = None, *,
            sources: dict[str, str | None] | None = None, role: str | None = None) -> str | None:
        """Write an IR node named after this ONNX node (``<name>_<role>`` for a helper node) and return its output;
        None after reporting when the IR cannot express it."""
        values = self.add_outputs(op, inputs, attrs, weights, sources=sources, role=role)
        return None if values is None else values[0]

    def add_outputs(self, op: str, inputs: list[str], attrs: dict | None = None, weights: dict | None = None, *,
                    sources: dict[str, str | None] | None = None, role: str | None = None) -> list[str] | None:
        if any(value is None for value in inputs):
            return None
        schema = ops.get(op)
        filled = schema.fill(dict(attrs or {}))
        problems = schema.problems(filled)
        try:
            shapes = None if problems else schema.infer(filled, [self.capture.shapes[v] for v in inputs])
        except ValidationError as exc:
            problems = [str(exc)]
        if not problems:
            problems = _weight_problems(schema, filled, weights or {})
        if problems:
            self.unsupported(f"the IR's '{op}' cannot express it: {'; '.join(problems)}")
            return None
        mapped = {weight: source for weight, source in (sources or {}).items() if source}
        name = self.name if role is None else f"{self.name}_{role}"
        outputs = self.capture.builder.add_node(op, inputs, filled, weights, name=name, sources=mapped)
        for value, shape in zip(outputs, shapes):
            self.capture.shapes[value] = tuple(shape)
        return outputs

    def held_as(self, value: str | None, dtype: str = "float32") -> Held | None:
        """An IR value as the ONNX value it is (batch-first, no view)."""
        if value is None:
            return None
        shape = self.capture.shapes[value]
        return Held(value, shape, tuple(range(len(shape))), dtype)

    def absorb(self, node: onnx.NodeProto, results: list) -> None:
        """Mark ``node`` as converted by this converter (a fused pattern) with ``results`` for its outputs."""
        self.capture.absorbed.add(id(node))
        for name, result in zip(node.output, results):
            if name:
                self.capture.values[name] = as_value(self, result)

    def unsupported(self, message: str) -> None:
        message = message if message.endswith(".") else message + "."
        if not self.failed or (self.where, message) not in self.capture.builder.problems:
            self.capture.builder.unsupported(self.where, message)
        self.failed = True
        return None


def as_value(ctx: NodeContext, result) -> Any:
    """A converter's result for one output as what the capture stores."""
    if result is None or isinstance(result, (Const, Dual, Held, Failed)):
        return result
    if isinstance(result, np.ndarray):
        return Const(result)
    return ctx.held_as(result)


def _weight_problems(schema, attrs: dict, weights: dict) -> list[str]:
    """Weights whose shapes are not the ones the op's attributes declare (a file whose bias does not fit)."""
    found = []
    for declared in schema.weights:
        array = weights.get(declared.name)
        if array is not None and declared.present(attrs) and tuple(np.shape(array)) != tuple(declared.shape(attrs)):
            found.append(f"weight '{declared.name}' must have shape {tuple(declared.shape(attrs))} {declared.layout}. "
                         f"Received: shape={tuple(np.shape(array))}")
    return found


def readable(value: float) -> float:
    """An ONNX float attribute (a float32) as the shortest decimal that reads back to it: 1e-05, not
    9.99999974738e-06, so that the IR's attributes read as the source's author wrote them."""
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
