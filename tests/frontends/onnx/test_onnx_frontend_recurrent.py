"""LSTM, GRU, RNN: torch.onnx exports of batch_first modules (the Transpose -> LSTM -> Squeeze/Transpose pattern
becomes one IR node on batch-first values) and hand-made ONNX nodes: captured graph == onnxruntime."""
from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import helper
from torch import nn

from interlayer import run
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.onnx import capture
from onnx_frontend_support import check, model, ops, tensor, weight


class Sequence(nn.Module):
    """A recurrent layer (batch_first) and a linear head on every step, or on the last step only."""

    def __init__(self, cls, last: bool = False, **options):
        super().__init__()
        self.rnn = cls(4, 6, batch_first=True, **options)
        self.head = nn.Linear(6 * (2 if options.get("bidirectional") else 1), 3)
        self.last = last

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1] if self.last else y)


def exported(module: nn.Module, dynamo: bool = False, opset: int = 14) -> onnx.ModelProto:
    torch.manual_seed(0)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            parameter.copy_(torch.randn(parameter.shape) * (0.5 if parameter.dim() > 1 else 0.3))
    module.eval()
    x = torch.randn(2, 5, 4)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(module, (x,), buffer, dynamo=True, dynamic_shapes=({0: torch.export.Dim("batch")},))
        else:
            torch.onnx.export(module, (x,), buffer, dynamo=False, opset_version=opset, input_names=["x"],
                              dynamic_axes={"x": {0: "batch"}})
    return onnx.load_from_string(buffer.getvalue())


TORCH_CASES = [
    pytest.param(lambda: Sequence(nn.LSTM), "lstm", id="LSTM"),
    pytest.param(lambda: Sequence(nn.LSTM, bidirectional=True), "lstm", id="LSTM-bidirectional"),
    pytest.param(lambda: Sequence(nn.LSTM, last=True, num_layers=2), "lstm", id="LSTM-two-layers-last-step"),
    pytest.param(lambda: Sequence(nn.GRU), "gru", id="GRU"),
    pytest.param(lambda: Sequence(nn.GRU, bidirectional=True, num_layers=2), "gru", id="GRU-bidirectional-two-layers"),
    pytest.param(lambda: Sequence(nn.RNN), "rnn", id="RNN"),
    pytest.param(lambda: Sequence(nn.RNN, nonlinearity="relu", bidirectional=True), "rnn", id="RNN-relu-bidirectional"),
]


@pytest.mark.parametrize("make, op", TORCH_CASES)
def test_torch_onnx_export_matches_onnxruntime(make, op):
    graph = check(exported(make()))
    assert op in ops(graph)
    assert "transpose" not in ops(graph)


def test_torch_onnx_lstm_is_one_node_on_batch_first_values():
    graph = check(exported(Sequence(nn.LSTM)), batches=(1, 3))
    assert [(n.name, n.op) for n in graph.nodes] == [("rnn/LSTM", "lstm"), ("head/MatMul", "linear")]
    assert graph.nodes[0].inputs == [graph.inputs[0].name]


def test_dynamo_export_of_an_lstm():
    graph = check(exported(Sequence(nn.LSTM, bidirectional=True), dynamo=True))
    assert ops(graph) == ["lstm", "linear"]


@pytest.mark.slow
def test_dynamo_export_of_a_gru():
    graph = check(exported(Sequence(nn.GRU, num_layers=2), dynamo=True))
    assert ops(graph) == ["gru", "gru", "linear"]


def onnx_recurrent(op_type: str, layout: int = 0, hidden: int = 3, direction: str = "forward", **attrs):
    """One ONNX recurrent node on a batch-first input: layout=1 reads it directly, layout=0 through Transposes."""
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op_type]
    directions = 2 if direction == "bidirectional" else 1
    initializers = [tensor("W", weight((directions, gates * hidden, 4), 1)),
                    tensor("R", weight((directions, gates * hidden, hidden), 2)),
                    tensor("B", weight((directions, 2 * gates * hidden), 3))]
    if layout == 1:
        nodes = [helper.make_node(op_type, ["x", "W", "R", "B"], ["y", "h"], name="rnn", hidden_size=hidden,
                                  layout=1, direction=direction, **attrs)]
        outputs = [("y", ("N", 5, directions, hidden)), ("h", ("N", directions, hidden))]
    else:
        nodes = [helper.make_node("Transpose", ["x"], ["t"], name="to_time", perm=[1, 0, 2]),
                 helper.make_node(op_type, ["t", "W", "R", "B"], ["y", "h"], name="rnn", hidden_size=hidden,
                                  direction=direction, **attrs),
                 helper.make_node("Transpose", ["y"], ["y_batch"], name="to_batch", perm=[2, 0, 1, 3]),
                 helper.make_node("Transpose", ["h"], ["h_batch"], name="h_batch", perm=[1, 0, 2])]
        outputs = [("y_batch", ("N", 5, directions, hidden)), ("h_batch", ("N", directions, hidden))]
    return model(nodes, [("x", ("N", 5, 4))], outputs, initializers, opset=14)


ONNX_CASES = [
    pytest.param(lambda: onnx_recurrent("LSTM"), id="LSTM-layout0"),
    pytest.param(lambda: onnx_recurrent("LSTM", direction="bidirectional"), id="LSTM-bidirectional"),
    pytest.param(lambda: onnx_recurrent("GRU", linear_before_reset=1), id="GRU-reset-after"),
    pytest.param(lambda: onnx_recurrent("GRU"), id="GRU-reset-before"),
    pytest.param(lambda: onnx_recurrent("RNN", activations=["Relu"]), id="RNN-relu"),
    pytest.param(lambda: onnx_recurrent("LSTM", activations=["Sigmoid", "Relu", "Relu"]), id="LSTM-relu-cell"),
]


@pytest.mark.parametrize("make", ONNX_CASES)
def test_onnx_recurrent_node_matches_onnxruntime(make):
    graph = check(make())
    assert ops(graph)[0] in ("lstm", "gru", "rnn")


@pytest.mark.parametrize("op_type, attrs", [("LSTM", {"direction": "bidirectional"}), ("GRU", {})], ids=["LSTM", "GRU"])
def test_layout1_reads_batch_first_values_as_layout0_does(op_type, attrs):
    """onnxruntime does not run layout=1: the same node with layout=0 between Transposes is the reference."""
    batch_first = capture(onnx_recurrent(op_type, layout=1, **attrs))
    time_major = capture(onnx_recurrent(op_type, **attrs))
    assert ops(batch_first) == ops(time_major) == [op_type.lower(), "reshape"]  # Y is (N, T, D, H)
    x = np.random.default_rng(0).standard_normal((3, 5, 4)).astype(np.float32)
    for got, want in zip(run(batch_first, [x]).values(), run(time_major, [x]).values()):
        np.testing.assert_array_equal(got, want)


def test_gate_order_and_reset_flag():
    graph = capture(onnx_recurrent("GRU"))
    node = graph.nodes[0]
    assert node.attrs["reset_after"] is False
    w = weight((1, 9, 4), 1)[0]
    np.testing.assert_array_equal(node.weights["weight_ih_l0"], np.concatenate([w[3:6], w[0:3], w[6:9]]))
    assert graph.source["name_map"]["W"] == "rnn.weight_ih_l0"


@pytest.mark.parametrize("make, message", [
    (lambda: onnx_recurrent("LSTM", direction="reverse"), "direction must be 'forward' or 'bidirectional'"),
    (lambda: onnx_recurrent("LSTM", clip=1.0), "clip must be absent"),
    (lambda: onnx_recurrent("LSTM", activations=["Sigmoid", "Tanh", "Relu"]), "must be the same: the IR has one"),
], ids=["reverse", "clip", "mixed-activations"])
def test_what_the_ir_lacks_is_refused(make, message):
    with pytest.raises(UnsupportedLayerError, match=rf"node 'rnn' \(LSTM\): .*{message}"):
        capture(make())


def test_a_time_major_graph_input_is_refused():
    initializers = [tensor("W", weight((1, 12, 4), 1)), tensor("R", weight((1, 12, 3), 2))]
    node = helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="rnn", hidden_size=3)
    proto = model([node], [("x", (5, "N", 4))], [("y", (5, 1, "N", 3))], initializers, opset=14)
    with pytest.raises(UnsupportedLayerError, match=r"X is time-major \(T, N, I\) \(layout=0\), but its axis 0 is "
                                                    r"the batch of the graph input"):
        capture(proto)
