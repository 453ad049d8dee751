"""Tensors with the batch on axis 1 (time-major sequences of batch_first=False layers, recurrent states, states
passed to forward) captured == torch. The graph keeps the model's own layouts at its inputs and outputs (no
``perm``): the recurrent ops read batch-first sequences and (N, layers, H) states, and the converter writes the
transposes to and from them, which cancel against the model's own."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import interlayer
from interlayer.frontends.torch import capture
from support import assert_equivalent
from torch_frontend_support import Fn, Fn2, check_capture, randomise, torch_outputs

TIME_MAJOR = torch.zeros(6, 2, 5)  # (T, N, F)


def _zeros_for_batch(x):
    return torch.zeros(1, x.size(1), 4)  # the batch of a time-major x: a constant of the example's size


SEQUENCES = {
    # forward(self, x) with x time-major (T, N, F)
    "lstm-sequence": (lambda: nn.LSTM(5, 4), lambda m, x: m[0](x)[0]),
    "lstm-everything": (lambda: nn.LSTM(5, 4, num_layers=2, bidirectional=True), lambda m, x: m[0](x)),
    "gru-final-state": (lambda: nn.GRU(5, 4, num_layers=2), lambda m, x: m[0](x)[1]),
    "rnn-relu-last-step": (lambda: nn.RNN(5, 4, nonlinearity="relu"), lambda m, x: m[0](x)[0][-1]),
    "gru-last-layer-state": (lambda: nn.GRU(5, 4, num_layers=2), lambda m, x: m[0](x)[1][-1]),
    "gru-zero-state-for-the-batch": (lambda: nn.GRU(5, 4), lambda m, x: m[0](x, _zeros_for_batch(x))[0]),
    "lstm-mean-over-time": (lambda: nn.LSTM(5, 4), lambda m, x: m[0](x)[0].mean(0)),
    "lstm-window-of-steps": (lambda: nn.LSTM(5, 4), lambda m, x: m[0](x)[0][1:4]),
    "lstm-batch-first-view": (lambda: nn.LSTM(5, 4), lambda m, x: m[0](x)[0].transpose(0, 1)),
    "lstm-permuted-to-channels": (lambda: nn.LSTM(5, 4), lambda m, x: m[0](x)[0].permute(1, 2, 0)),
    "stacked-time-major": (lambda: nn.GRU(5, 4), lambda m, x: m[1](torch.tanh(m[0](x)[0]) * 2.0 + 1.0)[0],
                           lambda: nn.LSTM(4, 3)),
    "linear-layer-norm-softmax": (lambda: nn.GRU(5, 6), lambda m, x: torch.softmax(m[2](m[1](m[0](x)[0])), dim=-1),
                                  lambda: nn.Linear(6, 6), lambda: nn.LayerNorm(6)),
    "cat-and-split-along-features": (lambda: nn.GRU(5, 6), lambda m, x: (lambda a, b: torch.cat([b, a], dim=2))(
        *m[0](x)[0].chunk(2, -1))),
    "cat-along-time": (lambda: nn.GRU(5, 4), lambda m, x: torch.cat([m[0](x)[0], 1.0 + m[0](x)[0]], dim=0)),
    "softshrink-time-major": (lambda: nn.GRU(5, 4), lambda m, x: torch.nn.functional.softshrink(m[0](x)[0], 0.1)),
    "state-summed-over-layers": (lambda: nn.GRU(5, 4, num_layers=2), lambda m, x: m[0](x)[1].sum(0)),
    "states-returned-from-batch-first": (lambda: nn.LSTM(5, 4, num_layers=2, batch_first=True),
                                         lambda m, x: m[0](x.transpose(0, 1))[1]),
}


@pytest.mark.parametrize("case", sorted(SEQUENCES))
def test_time_major_capture_matches_torch(case):
    make, forward, *more = SEQUENCES[case]
    check_capture(Fn(lambda self, x: forward(self.layers, x), make(), *(item() for item in more)), TIME_MAJOR)


def test_time_major_input_keeps_its_layout():
    model = Fn(lambda self, x: self.layers[0](x)[0], nn.LSTM(5, 4))
    graph = check_capture(model, "x:float32[T=6,N=2,5]")
    spec = graph.inputs[0]
    # the length and the batch both stay generic (the LSTM computes through interlayer::recurrent while exporting)
    assert (spec.shape, spec.perm) == (("T", "N", 5), None)
    assert (graph.outputs[0].shape, graph.outputs[0].perm) == (("T", "N", 4), None)
    assert [(node.op, node.attrs.get("perm")) for node in graph.nodes] == [
        ("transpose", [1, 0, 2]), ("lstm", None), ("transpose", [1, 0, 2])]


def test_transposes_around_a_time_major_layer_are_no_nodes():
    model = Fn(lambda self, x: self.layers[0](x.transpose(0, 1))[0].transpose(0, 1), nn.GRU(5, 4))
    graph = check_capture(model, torch.zeros(2, 6, 5))
    assert [node.op for node in graph.nodes] == ["gru"]  # the model's transposes and the converter's cancel
    assert graph.inputs[0].perm is None and graph.outputs[0].perm is None


class LearnedStart(nn.Module):
    """A learned initial state expanded to the batch of a time-major input: ``x.size(1)``."""

    def __init__(self):
        super().__init__()
        self.h0 = nn.Parameter(torch.zeros(1, 1, 4))
        self.gru = nn.GRU(5, 4)

    def forward(self, x):
        return self.gru(x, self.h0.expand(-1, x.size(1), -1).contiguous())[0]


def test_learned_initial_state_of_a_time_major_layer():
    graph = check_capture(LearnedStart(), TIME_MAJOR)
    assert [node.op for node in graph.nodes] == ["constant", "expand", "transpose", "transpose", "gru", "transpose"]
    assert graph.nodes[0].attrs["trainable"] and graph.source["name_map"]["h0"] == "h0.value"
    assert graph.nodes[1].attrs["shape"] == [1, graph.inputs[0].shape[1], 4]  # expanded to the batch


def test_state_computed_from_features_and_unsqueezed():
    """h0 = tanh(fc(x.mean(1))).unsqueeze(0): a batch-first (N, H) made a (1, N, H) state."""
    def conditioned(self, x):
        h0 = torch.tanh(self.layers[0](x.mean(1))).unsqueeze(0)
        return self.layers[1](x, h0)[0]

    graph = check_capture(Fn(conditioned, nn.Linear(5, 4), nn.GRU(5, 4, batch_first=True)), torch.zeros(2, 6, 5))
    assert [node.op for node in graph.nodes] == ["reduce_mean", "linear", "tanh", "reshape", "transpose", "gru"]


class TokenLSTM(nn.Module):
    """Token ids (T, N) -> embeddings -> a time-major LSTM; the last step and the last layer's state."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 6, num_layers=2)
        self.head = nn.Linear(6, 3)

    def forward(self, tokens):
        out, (h, _) = self.lstm(self.embedding(tokens))
        return self.head(out[-1]), self.head(h[-1])


def test_time_major_token_ids():
    model = randomise(TokenLSTM())
    graph = capture(model, example_inputs="tokens:int64[T=9,N=2]")
    assert graph.inputs[0].shape == ("T", "N") and graph.inputs[0].perm is None
    ids = np.random.default_rng(1).integers(0, 20, (9, 3))
    expected = torch_outputs(model, [ids], graph)
    for got, want in zip(interlayer.run(graph, [ids]).values(), expected):
        assert_equivalent(got, want)
    other = list(interlayer.run(graph, [ids[:, ::-1].copy()]).values())[0]
    assert not np.allclose(other, expected[0])


class GivenStates(nn.Module):
    """Initial states passed to forward, (layers, N, H) as PyTorch holds them."""

    def __init__(self, batch_first: bool):
        super().__init__()
        self.lstm = nn.LSTM(5, 4, num_layers=2, batch_first=batch_first)

    def forward(self, x, h0, c0):
        out, (h, c) = self.lstm(x, (h0, c0))
        return out, h, c


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "time-major"])
def test_initial_states_passed_as_inputs(batch_first):
    x = torch.zeros(2, 6, 5) if batch_first else TIME_MAJOR
    graph = check_capture(GivenStates(batch_first), (x, torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)))
    batch = graph.inputs[0].shape[0 if batch_first else 1]
    assert [spec.perm for spec in graph.inputs + graph.outputs] == [None] * 6
    assert [spec.shape for spec in graph.inputs[1:]] == [(2, batch, 4)] * 2  # (layers, N, H), as PyTorch holds them
    swaps = ["transpose"] * (3 if batch_first else 4)
    assert [node.op for node in graph.nodes] == swaps[:-1] + ["lstm"] + swaps[1:]


def test_initial_state_changes_the_result():
    model = randomise(GivenStates(batch_first=True))
    graph = capture(model, example_inputs=(torch.zeros(2, 6, 5), torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)))
    rng = np.random.default_rng(0)
    x, h, c = (rng.standard_normal(shape).astype(np.float32) for shape in ((3, 6, 5), (2, 3, 4), (2, 3, 4)))
    first = list(interlayer.run(graph, [x, h, c]).values())[0]
    second = list(interlayer.run(graph, [x, 2 * h, c]).values())[0]
    assert not np.allclose(first, second)


def test_state_handed_between_time_major_layers():
    def encode_decode(self, x, y):
        _, state = self.layers[0](x)
        return self.layers[1](y, state)[0]

    check_capture(Fn2(encode_decode, nn.GRU(5, 4), nn.GRU(3, 4)), (TIME_MAJOR, torch.zeros(4, 2, 3)))


class PositionalEncoder(nn.Module):
    """The PyTorch tutorial's transformer: a (max_len, 1, E) table sliced to the length, batch_first=False."""

    def __init__(self):
        super().__init__()
        self.register_buffer("table", torch.zeros(50, 1, 16))
        layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, x):
        return self.encoder(x + self.table[:x.size(0)])


def test_time_major_transformer_encoder():
    graph = check_capture(PositionalEncoder(), torch.zeros(7, 2, 16))
    assert graph.inputs[0].perm is None and graph.outputs[0].perm is None
    length = graph.inputs[0].shape[0]
    assert f"{length} <= 50" in graph.guards  # the position table has 50 rows
    # attention's own transposes, as F.multi_head_attention_forward writes them (the packed projection's split,
    # q, k, v and the merge, in each of 2 layers): none for the time-major layout
    assert [node.op for node in graph.nodes].count("transpose") == 10


def test_time_major_multihead_attention_with_padding_and_weights():
    def attend(self, x, padding):
        return self.layers[0](x, x, x, key_padding_mask=padding)

    model = randomise(Fn2(attend, nn.MultiheadAttention(16, 4)))
    padding = torch.zeros(2, 6, dtype=torch.bool)
    padding[1, -2:] = True
    graph = capture(model, example_inputs=(torch.zeros(6, 2, 16), padding))
    assert [spec.perm for spec in graph.inputs + graph.outputs] == [None] * 4
    assert [len(spec.shape) for spec in graph.outputs] == [3, 3]  # (L, N, E) and the weights (N, L, S)
    x = np.random.default_rng(1).standard_normal((6, 2, 16)).astype(np.float32)
    arrays = [x, padding.numpy()]
    for got, want in zip(interlayer.run(graph, arrays).values(), torch_outputs(model, arrays, graph)):
        assert_equivalent(got, want)


def _conv_after(self, x):
    return self.layers[1](self.layers[0](x)[0])


# what the concrete tracer refused as layouts it would misread (a layer reading the batch as channels, steps or
# features, a reduction or a squeeze of the batch, states moved): the graph computes what torch does
UNUSUAL = {
    "conv-on-time-major": (Fn(_conv_after, nn.LSTM(5, 4), nn.Conv1d(2, 3, 1)), TIME_MAJOR),
    "batch-first-layer-on-time-major": (Fn(lambda self, x: self.layers[1](self.layers[0](x)[0])[0], nn.GRU(5, 4),
                                           nn.GRU(4, 3, batch_first=True)), TIME_MAJOR),
    "time-major-layer-on-batch-first": (Fn(lambda self, x: self.layers[1](self.layers[0](x))[0], nn.Conv1d(6, 6, 1),
                                           nn.GRU(5, 3)), torch.zeros(2, 6, 5)),
    "layouts-mixed": (Fn(lambda self, x: self.layers[0](x)[0] + self.layers[1](x.transpose(0, 1)),
                         nn.GRU(5, 4), nn.Linear(5, 4)), torch.zeros(3, 3, 5)),
    "layer-norm-over-the-batch": (Fn(lambda self, x: self.layers[1](self.layers[0](x)[0]), nn.GRU(5, 4),
                                     nn.LayerNorm([2, 4])), TIME_MAJOR),
    "reduce-the-batch": (Fn(lambda self, x: self.layers[0](x)[0].sum(1), nn.GRU(5, 4)), TIME_MAJOR),
    "squeeze-without-dim": (Fn(lambda self, x: self.layers[0](x)[1].squeeze(), nn.GRU(5, 4)), TIME_MAJOR),
    "state-moved-to-the-end": (Fn(lambda self, x: self.layers[0](x)[1].permute(0, 2, 1), nn.GRU(5, 4)), TIME_MAJOR),
}


@pytest.mark.parametrize("case", sorted(UNUSUAL))
def test_layouts_the_concrete_tracer_refused_are_what_torch_computes(case):
    model, example = UNUSUAL[case]
    graph = check_capture(model, example)
    assert all(spec.perm is None for spec in graph.inputs + graph.outputs)


def test_a_layer_that_reads_the_batch_as_channels_fixes_it():
    """Conv1d(2, 3) after a time-major LSTM reads its batch axis as 2 channels: torch.export fixes that size."""
    model, example = UNUSUAL["conv-on-time-major"]
    graph = check_capture(model, example)
    assert graph.inputs[0].shape[1:] == (2, 5) and isinstance(graph.inputs[0].shape[0], str)
