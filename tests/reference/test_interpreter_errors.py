"""The reference interpreter's own errors: a missing kernel, a kernel that fails (its error kept and the node
named), and sizes refused before anything runs."""
from __future__ import annotations

import numpy as np
import pytest

import interlayer
from interlayer.errors import ExecutionError, LimitError, ValidationError
from interlayer.reference import KERNELS, load_kernels
from support import chain_graph

X = np.ones((2, 3, 4), np.float32)


@pytest.fixture
def graph():
    load_kernels()
    return chain_graph([("relu", {}), ("tanh", {})], (2, 3, 4))


def test_an_op_without_a_kernel_is_named_before_anything_runs(graph, monkeypatch):
    ran = []
    monkeypatch.setitem(KERNELS, "relu", lambda attrs, weights, x: ran.append(x) or x)
    monkeypatch.delitem(KERNELS, "tanh")
    with pytest.raises(ValidationError, match=r"node 'tanh_1' \(tanh\): the op has no kernel"):
        interlayer.run(graph, X)
    assert ran == []


@pytest.mark.parametrize("error", [KeyError("weight"), IndexError("axis 7"), MemoryError()],
                         ids=["key-error", "index-error", "memory-error"])
def test_a_kernel_error_is_kept_and_names_its_node(graph, monkeypatch, error):
    def failing(attrs, weights, x):
        raise error

    monkeypatch.setitem(KERNELS, "tanh", failing)
    with pytest.raises(ExecutionError, match=rf"node 'tanh_1' \(tanh\) failed: {type(error).__name__}") as caught:
        interlayer.run(graph, X)
    assert caught.value.__cause__ is error


def test_a_kernel_raising_interlayer_errors_passes_them_on(graph, monkeypatch):
    def refusing(attrs, weights, x):
        raise ValidationError("tanh: refused")

    monkeypatch.setitem(KERNELS, "tanh", refusing)
    with pytest.raises(ValidationError, match="tanh: refused"):
        interlayer.run(graph, X)


def test_sizes_are_checked_before_the_first_node_runs(monkeypatch):
    """A large batch makes the second node's output too large: the first node never runs."""
    load_kernels()
    graph = chain_graph([("relu", {}), ("tile", {"repeats": [1, 64, 64]})], (2, 3, 4))
    ran = []
    relu = KERNELS["relu"]
    monkeypatch.setitem(KERNELS, "relu", lambda attrs, weights, x: ran.append(1) or relu(attrs, weights, x))
    monkeypatch.setenv("INTERLAYER_MAX_TENSOR_BYTES", str(2 ** 20))
    with pytest.raises(LimitError, match=r"node 'tile_1' \(tile\): a tensor of shape \[8, 192, 256\] would take 3 MiB"):
        interlayer.run(graph, np.ones((8, 3, 4), np.float32))
    assert ran == []
