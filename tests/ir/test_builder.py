"""GraphBuilder: weights handed over as views in another order become row-major copies on worker threads, and a
forked child builds graphs too (it starts its own threads)."""
from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from interlayer.ir.builder import GraphBuilder


def _linear_graph(rows: int = 512, columns: int = 1024):
    """One linear node whose (out, in) weight is given as the transposed view of an (in, out) array."""
    builder = GraphBuilder("m", "test", "0")
    x = builder.input("x", ("N", rows))
    kernel = np.random.default_rng(0).standard_normal((rows, columns)).astype(np.float32)
    y = builder.add("linear", [x], {"in_features": rows, "out_features": columns, "bias": False},
                    {"weight": kernel.T}, name="fc")
    builder.output(y)
    return builder.finish(), kernel


@pytest.mark.parametrize("columns", [8, 1024], ids=["small-copied-in-place", "large-copied-on-a-thread"])
def test_transposed_weight_becomes_a_read_only_row_major_copy(columns):
    graph, kernel = _linear_graph(columns=columns)
    weight = graph.nodes[0].weights["weight"]
    assert weight.flags.c_contiguous and not weight.flags.writeable
    np.testing.assert_array_equal(weight, kernel.T)
    kernel[0, 0] = 1e9  # the graph holds its own copy, not a view of the source's memory
    assert weight[0, 0] != 1e9


def _child(queue) -> None:
    graph, kernel = _linear_graph()
    queue.put(bool(np.array_equal(graph.nodes[0].weights["weight"], kernel.T)))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_forked_child_builds_after_its_parent_did():
    _linear_graph()  # the parent's worker threads exist now; a fork does not copy them
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue,))
    process.start()
    process.join(60)
    alive = process.is_alive()
    if alive:
        process.kill()
    assert not alive, "the forked child hung waiting for its parent's threads"
    assert queue.get(timeout=5)
