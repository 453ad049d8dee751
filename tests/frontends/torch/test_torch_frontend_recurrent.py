"""nn.LSTM / nn.GRU / nn.RNN / nn.Embedding captured == torch; refusals name the option."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from torch_frontend_support import Fn, check_capture

SEQUENCE = torch.zeros(2, 6, 5)

MODULES = {
    "lstm": lambda: nn.LSTM(5, 4, batch_first=True),
    "lstm-two-layers": lambda: nn.LSTM(5, 4, num_layers=2, batch_first=True, dropout=0.3),
    "lstm-bidirectional": lambda: nn.LSTM(5, 4, bidirectional=True, batch_first=True),
    "lstm-no-bias": lambda: nn.LSTM(5, 4, bias=False, batch_first=True),
    "gru": lambda: nn.GRU(5, 4, batch_first=True),
    "gru-two-layers-bidirectional": lambda: nn.GRU(5, 4, num_layers=2, bidirectional=True, batch_first=True),
    "rnn-tanh": lambda: nn.RNN(5, 4, batch_first=True),
    "rnn-relu-bidirectional": lambda: nn.RNN(5, 4, nonlinearity="relu", bidirectional=True, batch_first=True),
}


@pytest.mark.parametrize("case", sorted(MODULES))
def test_recurrent_output_matches_torch(case):
    check_capture(Fn(lambda self, x: self.layers[0](x)[0], MODULES[case]()), SEQUENCE)


@pytest.mark.parametrize("case", ["lstm", "gru"])
def test_output_unpacked_and_read_downstream(case):
    def last(self, x):
        out, _ = self.layers[0](x)
        return self.layers[1](out.mean(dim=1))

    check_capture(Fn(last, MODULES[case](), nn.Linear(4, 3)), SEQUENCE)


def test_embedding_with_integer_indices():
    model = Fn(lambda self, x: self.layers[0](x), nn.Embedding(30, 4, padding_idx=0)).eval()
    indices = torch.randint(0, 30, (2, 7))
    graph = capture(model, example_inputs=indices)
    assert graph.inputs[0].dtype == "int64" and graph.nodes[0].attrs["padding_idx"] == 0
    other = torch.randint(0, 30, (3, 7))
    with torch.no_grad():
        np.testing.assert_array_equal(list(interlayer.run(graph, other.numpy()).values())[0], model(other).numpy())


REFUSED = {
    "projection": (lambda: nn.LSTM(5, 4, proj_size=2, batch_first=True), lambda m, x: m(x)[0], "proj_size=2"),
}


def _zeros(layers: int):
    return lambda x: torch.zeros(layers, x.size(0), 4)


STATES = {
    # forward(self, x) over one recurrent layer: initial states made from the batch, final states read
    "lstm-last-layer-h": (lambda: nn.LSTM(5, 4, num_layers=2, batch_first=True),
                          lambda m, x: m(x)[1][0][-1]),
    "lstm-c-zero-start": (lambda: nn.LSTM(5, 4, batch_first=True),
                          lambda m, x: m(x, (_zeros(1)(x), _zeros(1)(x)))[1][1][0]),
    "gru-bidirectional-both-directions": (lambda: nn.GRU(5, 4, bidirectional=True, batch_first=True),
                                          lambda m, x: torch.cat((m(x)[1][-2], m(x)[1][-1]), dim=1)),
    "gru-states-batch-first": (lambda: nn.GRU(5, 4, num_layers=2, batch_first=True),
                               lambda m, x: m(x)[1].transpose(0, 1)),
    "gru-final-state-returned": (lambda: nn.GRU(5, 4, num_layers=2, batch_first=True), lambda m, x: m(x)[1]),
    "gru-final-state-summed": (lambda: nn.GRU(5, 4, num_layers=2, batch_first=True), lambda m, x: m(x)[1].sum(0)),
    "rnn-constant-start": (lambda: nn.RNN(5, 4, batch_first=True),
                           lambda m, x: m(x, torch.full((1, x.size(0), 4), 0.5))[0]),
    # refused by the concrete tracer (the batch merged into the features; a constant state whose rows differ, which
    # fixes the batch at its 2 rows): what torch computes
    "final-state-flattened": (lambda: nn.GRU(5, 4, batch_first=True), lambda m, x: m(x)[1].flatten()),
    "fixed-initial-state": (lambda: nn.GRU(5, 4, batch_first=True),
                            lambda m, x: m(x, torch.arange(8.0).reshape(1, 2, 4))[0]),
}


@pytest.mark.parametrize("case", sorted(STATES))
def test_recurrent_states_match_torch(case):
    make, forward = STATES[case]
    check_capture(Fn(lambda self, x: forward(self.layers[0], x), make()), torch.randn(2, 6, 5))


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsupported_recurrent_option_is_refused(case):
    make, forward, option = REFUSED[case]
    with pytest.raises(UnsupportedLayerError, match="layers.0") as error:
        capture(Fn(lambda self, x: forward(self.layers[0], x), make()), example_inputs=SEQUENCE)
    assert option in str(error.value)


@pytest.mark.parametrize("case", ["lstm", "gru-two-layers-bidirectional", "rnn-relu-bidirectional"])
def test_sequence_length_stays_generic(case):
    """torch.export's own aten.lstm steps through the example's length, which would fix it; the layers compute
    through interlayer::recurrent while exporting, so a graph takes any length."""
    graph = check_capture(Fn(lambda self, x: self.layers[0](x)[0], MODULES[case]()), SEQUENCE)
    assert graph.inputs[0].shape == ("N", "T", 5) and graph.outputs[0].shape[:2] == ("N", "T")
    assert [node.op for node in graph.nodes] == [case.split("-")[0]]


def test_unbatched_sequence():
    graph = check_capture(Fn(lambda self, x: self.layers[0](x)[0], nn.GRU(5, 4)), (7, 5))
    assert graph.inputs[0].shape == ("N", 5)  # (T, F): its length is named as any axis 0
    # nn.GRU adds a batch of 1 on axis 1 (time-major), the converter makes it batch-first and back
    assert [node.op for node in graph.nodes] == ["reshape", "transpose", "gru", "transpose", "flatten"]
