"""What an ONNX backend converter sees: one IR node, its inputs as ONNX value names, and a way to emit ONNX nodes.

A converter is ``fn(ctx, node) -> str | list[str] | None``: it emits ONNX nodes with ``ctx.op(...)`` (and the
helpers built on it: ``ctx.transpose``, ``ctx.reduce``...), reads the node's weights as initializers with
``ctx.weight(name)`` (the IR tensor as is, named ``<node>.<weight>``) or ``ctx.derived(purpose, array)`` (a
reorganised weight, named ``<node>.<purpose>``), and returns the ONNX value of each IR output; or it returns
``ctx.unsupported(...)`` when the node cannot be expressed exactly. The build renames each returned value to the
IR value name (an ``Identity`` when the value is not the node's own) and names the node that makes the first
output after the IR node. Helper constants (shapes, scalars) are ``Constant`` nodes, so the initializers are
exactly the model's weights. A size attribute (an int or a size expression) becomes an int64 tensor with
``ctx.dims`` / ``ctx.size`` / ``ctx.scalar``, computed at run time from the inputs' shapes (``sizes.py``).
Integer and boolean values keep their dtypes: ``ctx.raw`` reads an input as it is, ``ctx.common`` brings operands
to the dtype numpy would compute them in, and a graph output is cast to its declared dtype.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ...ir import ops
from ...ir.archive import release
from ...ir.graph import Node
from . import sizes as run_time

INT64 = np.dtype(np.int64)
BOOL = np.dtype(bool)


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype of an IR dtype name (bfloat16 through ml_dtypes)."""
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def onnx_type(dtype: np.dtype) -> int:
    """The ``TensorProto`` element type of a numpy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def is_float(dtype: np.dtype) -> bool:
    return np.dtype(dtype).kind == "f" or np.dtype(dtype).name == "bfloat16"


def _take(taken: set[str], name: str) -> str:
    """``name``, or the first of ``name_1``, ``name_2``... not in ``taken``; added to ``taken``."""
    candidate, index = name, 0
    while candidate in taken:
        index += 1
        candidate = f"{name}_{index}"
    taken.add(candidate)
    return candidate


class Emitter:
    """The ONNX graph under construction: nodes, initializers, the dtype of every value, and every problem met."""

    def __init__(self, opset: int, shapes: dict, shared: dict[str, str], reserved: set[str],
                 readers: dict[str, list[str]] | None = None):
        self.opset = opset
        self.readers = readers or {}
        """IR value -> the ops of the nodes that read it"""
        self.shapes = shapes
        self.shared = shared
        """node -> the earlier node whose weights it shares (it reads the same initializers)"""
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}
        """name -> the array an initializer holds; made into the graph's TensorProtos once, at the end"""
        self.dtypes: dict[str, np.dtype] = {}
        self.values: dict[str, str] = {}
        """IR value -> its ONNX value (the same name once its node is built)"""
        self.taken: set[str] = set(reserved)
        self.node_names: set[str] = set()
        self.made: dict[tuple[str, str], str] = {}
        """(owner node, purpose) -> initializer name, so that shared nodes read one initializer"""
        self.bound: dict[str, tuple[str, int]] = {}
        """size name -> (graph input, axis) that binds it"""
        self.sizes: dict[tuple, str] = {}
        """the run-time sizes made so far (``sizes.py``), shared by every node"""
        self.natural: set[str] = set()
        """int64 size values known to be >= 0"""
        self.declared: dict[str, np.dtype] = {}
        """graph output -> its declared dtype"""
        self.problems: list[tuple[str, str]] = []

    def unique(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``... if a value or initializer of that name exists."""
        return _take(self.taken, name)

    def node_name(self, name: str) -> str:
        """``name``, or ``name_1``... if a node of that name exists."""
        return _take(self.node_names, name)

    def initializer(self, name: str, array: np.ndarray) -> str:
        """Add ``array`` as an initializer called ``name`` (made unique); returns its name."""
        name = self.unique(name)
        array = np.asarray(array)
        self.initializers[name] = array
        self.dtypes[name] = array.dtype
        return name


class Step:
    """One IR node under conversion."""

    def __init__(self, emitter: Emitter, node: Node):
        self.emitter = emitter
        self.node = node
        self.attrs = ops.get(node.op).fill(dict(node.attrs))
        self.where = f"node '{node.name}' ({node.op})"
        self.first = len(emitter.nodes)
        self.casts: dict[tuple[str, np.dtype], str] = {}
        self.owner = emitter.shared.get(node.name, node.name)
        self.dtype = self._compute_dtype()

    def _compute_dtype(self) -> np.dtype:
        """The float dtype the node computes in: its first float input's, else its first weight's, else float32."""
        for value in self.node.inputs:
            dtype = self.emitter.dtypes[self.emitter.values[value]]
            if is_float(dtype):
                return dtype
        for array in self.node.weights.values():
            if is_float(array.dtype):
                return np.asarray(array).dtype
        return np.dtype(np.float32)

    @property
    def opset(self) -> int:
        return self.emitter.opset

    # inputs, shapes, weights ---------------------------------------------------------------------------------

    def raw(self, index: int = 0) -> str:
        """The ONNX value of input ``index`` as it is (an integer or boolean input keeps its type)."""
        return self.emitter.values[self.node.inputs[index]]

    def input(self, index: int = 0) -> str:
        """Input ``index`` in the node's float dtype (a cast for an integer input)."""
        return self.cast(self.raw(index), self.dtype)

    @property
    def inputs(self) -> list[str]:
        return [self.input(index) for index in range(len(self.node.inputs))]

    @property
    def raws(self) -> list[str]:
        return [self.raw(index) for index in range(len(self.node.inputs))]

    def shape(self, index: int = 0) -> tuple:
        """The IR shape of an input (symbolic sizes as strings)."""
        return tuple(self.emitter.shapes[self.node.inputs[index]])

    def out_shape(self, index: int = 0) -> tuple:
        return tuple(self.emitter.shapes[self.node.outputs[index]])

    def dtype_of(self, value: str) -> np.dtype:
        return self.emitter.dtypes[value]

    def weight(self, name: str, cast: bool = True) -> str:
        """The initializer holding the IR weight ``name`` as is, named ``<node>.<weight>`` (a shared node reads
        its original's), cast to the node's dtype when it differs (unless ``cast`` is False: an integer or boolean
        constant keeps its dtype)."""
        key = (self.owner, name)
        if key not in self.emitter.made:
            self.emitter.made[key] = self.emitter.initializer(f"{self.owner}.{name}", self.node.weights[name])
        return self.cast(self.emitter.made[key], self.dtype) if cast else self.emitter.made[key]

    def derived(self, purpose: str, array: np.ndarray) -> str:
        """An initializer holding a reorganised weight (transposed, gates reordered...), named
        ``<node>.<purpose>``, cast to the node's dtype when it differs."""
        key = (self.owner, purpose)
        if key not in self.emitter.made:
            self.emitter.made[key] = self.emitter.initializer(f"{self.owner}.{purpose}", array)
        return self.cast(self.emitter.made[key], self.dtype)

    def const(self, value: Any, dtype: Any = None, suffix: str = "const") -> str:
        """A ``Constant`` node holding ``value`` in ``dtype`` (the node's float dtype by default)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.emitter.unique(f"{self.node.name}/{suffix}")
        tensor = numpy_helper.from_array(array, name)
        self._append(helper.make_node("Constant", [], [name], name=self.emitter.node_name(name), value=tensor))
        self.emitter.dtypes[name] = array.dtype
        return name

    def ints(self, values: Sequence[int], suffix: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), INT64, suffix)

    def dims(self, sizes: Sequence[Any]) -> str:
        """A 1-D int64 shape tensor of ``sizes``: ints as they are, size expressions computed at run time from the
        shapes of the graph inputs that bind their names (``sizes.py``)."""
        return run_time.shape_tensor(self, sizes)

    def size(self, dim: Any) -> str:
        """A 1-element int64 tensor of one size (an int or a size expression)."""
        return run_time.size(self, dim)

    def scalar(self, dim: Any) -> str:
        """A 0-d int64 tensor of one size."""
        return run_time.scalar(self, dim)

    # emitting ------------------------------------------------------------------------------------------------

    def _append(self, proto: onnx.NodeProto) -> None:
        self.emitter.nodes.append(proto)

    def op(self, op_type: str, inputs: Sequence[str], outputs: int = 1, dtype: Any = None, suffix: str | None = None,
           **attrs: Any) -> Any:
        """Emit one ONNX node; returns its output value (a list of them when ``outputs`` > 1). Outputs have
        ``dtype``, by default the first input's."""
        base = f"{self.node.name}/{suffix or op_type}"
        names = [self.emitter.unique(base if outputs == 1 else f"{base}:{index}") for index in range(outputs)]
        attrs = {key: value for key, value in attrs.items() if value is not None}
        self._append(helper.make_node(op_type, list(inputs), names, name=self.emitter.node_name(base), **attrs))
        kind = np.dtype(dtype) if dtype is not None else self.emitter.dtypes.get(inputs[0], self.dtype)
        for name in names:
            self.emitter.dtypes[name] = kind
        return names[0] if outputs == 1 else names

    def cast(self, value: str, dtype: Any) -> str:
        """``value`` in ``dtype``: itself, or one Cast per value and dtype in this node."""
        dtype = np.dtype(dtype)
        if self.emitter.dtypes[value] == dtype:
            return value
        if (value, dtype) not in self.casts:
            self.casts[value, dtype] = self.op("Cast", [value], to=onnx_type(dtype), dtype=dtype, suffix="cast")
        return self.casts[value, dtype]

    def common(self, values: Sequence[str], floats: bool = False) -> list[str]:
        """``values`` in one dtype, as numpy would compute them: the node's float dtype when one of them is a
        float (or ``floats``: true division, a float kernel), else the integer (or bool) dtype they promote to."""
        kinds = [self.emitter.dtypes[value] for value in values]
        if floats or any(is_float(dtype) for dtype in kinds):
            target = self.dtype
        else:
            target = np.result_type(*kinds)
            target = np.dtype(np.int64) if target.kind not in "biu" else target
        return [self.cast(value, target) for value in values]

    def transpose(self, value: str, perm: Sequence[int]) -> str:
        if list(perm) == sorted(perm):
            return value
        return self.op("Transpose", [value], perm=list(perm))

    def reshape(self, value: str, sizes: Sequence[Any]) -> str:
        """ONNX Reshape: 0 copies the input's size on that axis, -1 is inferred."""
        return self.op("Reshape", [value, self.ints(sizes)])

    def unsqueeze(self, value: str, axes: Sequence[int]) -> str:
        return self.op("Unsqueeze", [value, self.ints(axes, "axes")])

    def squeeze(self, value: str, axes: Sequence[int]) -> str:
        return self.op("Squeeze", [value, self.ints(axes, "axes")])

    def concat(self, values: Sequence[str], axis: int) -> str:
        return values[0] if len(values) == 1 else self.op("Concat", list(values), axis=axis)

    def split(self, value: str, sizes: Sequence[int], axis: int) -> list[str]:
        if len(sizes) == 1:
            return [value]
        return self.op("Split", [value, self.ints(sizes, "split")], outputs=len(sizes), axis=axis)

    def slice(self, value: str, starts: Sequence[int], ends: Sequence[int], axes: Sequence[int],
              steps: Sequence[int] | None = None) -> str:
        inputs = [value, self.ints(starts, "starts"), self.ints(ends, "ends"), self.ints(axes, "axes")]
        if steps is not None:
            inputs.append(self.ints(steps, "steps"))
        return self.op("Slice", inputs)

    def reduce(self, op_type: str, value: str, axes: Sequence[int], keepdims: bool) -> str:
        """ReduceMean/ReduceMax take their axes as an attribute before opset 18, ReduceSum as an input since 13."""
        keep = int(bool(keepdims))
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, [value, self.ints(axes, "axes")], keepdims=keep)
        return self.op(op_type, [value], axes=list(axes), keepdims=keep)

    def unsupported(self, message: str) -> None:
        message = message if message.endswith(".") else message + "."
        self.emitter.problems.append((self.where, message))
        return None

    # finishing -----------------------------------------------------------------------------------------------

    def finish(self, results: Sequence[str]) -> None:
        """Give each IR output of the node its IR name: the returned value is renamed when this node made it,
        else copied by an ``Identity``; the node making the first output is named after the IR node. A graph
        output is cast to its declared dtype first."""
        results = [self.cast(value, self.emitter.declared[ir_value]) if ir_value in self.emitter.declared else value
                   for ir_value, value in zip(self.node.outputs, results)]  # a graph output in its declared dtype
        emitted = self.emitter.nodes[self.first:]
        renamed: dict[str, str] = {}
        made = {output for proto in emitted for output in proto.output} - set(self.emitter.sizes.values())
        for ir_value, value in zip(self.node.outputs, results):
            if value in made and value not in renamed:
                renamed[value] = ir_value
            else:
                self._append(helper.make_node("Identity", [value], [ir_value],
                                              name=self.emitter.node_name(f"{self.node.name}/identity")))
            self.emitter.dtypes[ir_value] = self.emitter.dtypes[value]
            self.emitter.values[ir_value] = ir_value
        for proto in emitted:
            proto.input[:] = [renamed.get(name, name) for name in proto.input]
            proto.output[:] = [renamed.get(name, name) for name in proto.output]
        main = next((proto for proto in reversed(self.emitter.nodes[self.first:])
                     if self.node.outputs[0] in proto.output), None)
        if main is not None and self.node.name not in self.emitter.node_names:
            self.emitter.node_names.discard(main.name)
            main.name = self.node.name
            self.emitter.node_names.add(self.node.name)


def add_initializers(graph: onnx.GraphProto, arrays: dict[str, np.ndarray]) -> None:
    """Each array written straight into a new initializer of ``graph`` (one copy: a large model is held once, in
    the protobuf), its file pages handed back when it came from an archive."""
    for name, array in arrays.items():
        tensor = graph.initializer.add()
        tensor.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array), name))
        release(array)
