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


def random_inputs(graph: Graph, batch: int = 2, seed: int = 1, length: int = 5) -> list[np.ndarray]:
    """Seeded float32 inputs: the batch is ``batch``, every other symbolic size (a sequence length) ``length``."""
    rng = np.random.default_rng(seed)
    shapes = [(batch, *(length if isinstance(d, str) else d for d in spec.shape[1:])) for spec in graph.inputs]
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
