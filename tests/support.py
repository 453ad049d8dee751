"""Shared test helpers: equivalence with a stated tolerance, seeded random graphs and weights."""
from __future__ import annotations

import numpy as np

from interlayer.tolerance import relative_error
from interlayer.ir import Graph, Node, TensorSpec
from interlayer.ir import ops

RTOL = 1e-5


def assert_equivalent(actual, expected, rtol: float = RTOL, what: str = "output") -> None:
    """``actual`` within ``rtol`` of ``expected``, relative to the largest magnitude of ``expected``."""
    assert np.shape(actual) == np.shape(expected), f"{what}: shape {np.shape(actual)} != {np.shape(expected)}"
    error = relative_error(actual, expected)
    assert error <= rtol, f"{what}: relative error {error:.3e} > {rtol:.0e}"


def assert_reproduces(actual, graph, inputs, what: str = "output") -> None:
    """``actual`` (the outputs of a model built from ``graph``, or its source, on ``inputs``) within the bound
    ``interlayer.tolerance`` sets for each output of this graph on these inputs, as ``convert`` checks it."""
    from interlayer.tolerance import bounds

    exact, allowed = bounds(graph, inputs)
    assert len(actual) == len(graph.outputs), f"{what}: {len(actual)} outputs, the graph has {len(graph.outputs)}"
    for spec, value in zip(graph.outputs, actual):
        error = relative_error(value, exact[spec.name])
        assert error <= allowed[spec.name].allowed, (
            f"{what} '{spec.name}': relative error {error:.3e} > {allowed[spec.name].describe()}")


def assert_varies(output_a, output_b, what: str = "output") -> None:
    """Two different inputs must give different outputs: a test on a constant function proves nothing."""
    assert relative_error(output_a, output_b) > 1e-4, f"{what} does not depend on its input"


def random_weights(schema: ops.OpSchema, attrs: dict, rng: np.random.Generator, dtype=np.float32) -> dict:
    """Seeded weights for every declared weight; variances positive, nothing left at a framework default."""
    weights = {}
    for weight in schema.weights:
        if not weight.present(attrs):
            continue
        shape = tuple(weight.shape(attrs))
        if weight.name == "variance":
            array = rng.uniform(0.5, 2.0, shape)
        elif weight.name == "weight":
            fan_in = int(np.prod(shape[1:])) or 1
            array = rng.standard_normal(shape) / np.sqrt(fan_in)
        else:
            array = rng.standard_normal(shape) * 0.5
        weights[weight.name] = np.asarray(array, dtype=dtype)  # 0-d weights stay arrays
    return weights


def single_op_graph(op: str, attrs: dict, input_shapes: list[tuple], seed: int = 0) -> Graph:
    """A graph of one node over ``input_shapes`` (batch first, made symbolic), with seeded random weights."""
    schema = ops.get(op)
    filled = schema.fill(attrs)
    rng = np.random.default_rng(seed)
    inputs = [TensorSpec(f"x{i}", ("N", *shape[1:])) for i, shape in enumerate(input_shapes)]
    node = Node(op, op, [spec.name for spec in inputs], [op], filled, random_weights(schema, filled, rng))
    graph = Graph([node], inputs, [TensorSpec(op, ())], name=op)
    graph.outputs[0].shape = graph.shapes()[op]
    return graph


def chain_graph(steps: list[tuple[str, dict]], input_shape: tuple, seed: int = 0, name: str = "chain") -> Graph:
    """A chain of nodes ``[(op, attrs), ...]`` over one input, with seeded random weights."""
    rng = np.random.default_rng(seed)
    nodes, value = [], "x"
    for index, (op, attrs) in enumerate(steps):
        schema = ops.get(op)
        filled = schema.fill(attrs)
        node_name = f"{op}_{index}"
        nodes.append(Node(node_name, op, [value], [node_name], filled, random_weights(schema, filled, rng)))
        value = node_name
    graph = Graph(nodes, [TensorSpec("x", ("N", *input_shape[1:]))], [TensorSpec(value, ())], name=name)
    graph.outputs[0].shape = graph.shapes()[value]
    return graph


def random_inputs(graph: Graph, batch: int = 2, seed: int = 1, length: int = 5,
                  sizes: dict | None = None) -> list[np.ndarray]:
    """Seeded inputs of each graph input's dtype. Sizes: ``"N"`` is ``batch``, any other name ``length`` (or as
    ``sizes`` binds it); an input size that is an expression is computed from them. Floats are standard normal,
    bools mostly True, integers in ``graph.source["input_ranges"][input]`` ([low, high), default [0, 5))."""
    from interlayer.ir import dims

    rng = np.random.default_rng(seed)
    bound = {**{name: batch if name == "N" else length for spec in graph.inputs for name in _names(spec.shape)},
             **(sizes or {})}
    ranges = graph.source.get("input_ranges", {})
    arrays = []
    for spec in graph.inputs:
        shape = tuple(dims.evaluate(d, bound) for d in spec.shape)
        dtype = np.dtype(spec.dtype)
        if dtype == np.bool_:
            arrays.append(rng.random(shape) < 0.7)
        elif dtype.kind in "iu":
            low, high = ranges.get(spec.name, (0, 5))
            arrays.append(rng.integers(low, high, shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def _names(shape) -> list[str]:
    from interlayer.ir import dims

    return sorted(set().union(*(dims.names(d) for d in shape))) if shape else []


def typed_graph(inputs: list[tuple], steps: list, outputs: list, seed: int = 0, name: str = "g",
                ranges: dict | None = None) -> Graph:
    """A graph from inputs ``[(name, shape, dtype)]`` (shapes as written, symbols included) and steps
    ``[(node, op, [inputs], attrs)]`` or ``(..., weights)`` replacing the seeded random ones; ``ranges`` bounds
    integer inputs for :func:`random_inputs`."""
    from interlayer.ir.builder import GraphBuilder

    rng = np.random.default_rng(seed)
    builder = GraphBuilder(name, "test", "0")
    for value, shape, dtype in inputs:
        builder.input(value, tuple(shape), dtype)
    for node, op, sources, attrs, *fixed in steps:
        schema = ops.get(op)
        weights = random_weights(schema, schema.fill(attrs), rng)
        weights.update(*fixed)
        builder.add_node(op, sources, attrs, weights, name=node)
    for value in outputs:
        builder.output(value)
    graph = builder.finish()
    graph.source = {"input_ranges": dict(ranges)} if ranges else {}
    return graph

def upstream(graph, value: str) -> list:
    """Every node of ``graph`` that ``value`` depends on, itself included."""
    producers, found, pending = graph.producers(), {}, [value]
    while pending:
        node = producers.get(pending.pop())
        if node is not None and node.name not in found:
            found[node.name] = node
            pending.extend(node.inputs)
    return list(found.values())
