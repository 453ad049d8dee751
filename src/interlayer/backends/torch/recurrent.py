"""embedding, lstm, gru, rnn as nn.Embedding, nn.LSTM/GRU/RNN(batch_first=True) with the IR weights assigned
exactly. Merge modes other than 'concat' run one bidirectional module per layer and combine its two halves."""
from __future__ import annotations

import operator

import torch
from torch import nn

from ...ir.ops.recurrent import directions, state_count
from ...registry import register
from .context import Step, parameter

_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


@register("torch", "backend", "embedding")
def embedding(ctx: Step, node):
    attrs = ctx.attrs
    module = nn.Embedding(attrs["num_embeddings"], attrs["embedding_dim"], padding_idx=attrs["padding_idx"])
    module.weight = parameter(node.weights["weight"])
    indices = ctx.method("long", ctx.input, suffix="_indices")
    return ctx.module(module, indices)


def _merge(mode: str, forward, backward):
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    return (forward + backward) / 2


class MergedRecurrent(nn.Module):
    """Stacked bidirectional layers whose directions are summed, multiplied or averaged (PyTorch only
    concatenates): one single-layer module per layer, its output split in halves and merged."""

    def __init__(self, layers: list[nn.Module], merge_mode: str):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.merge_mode = merge_mode

    def forward(self, x, *initial):
        finals = []
        for index, layer in enumerate(self.layers):
            states = [s[2 * index:2 * index + 2] for s in initial]
            state = states if len(states) != 1 else states[0]
            out, final = layer(x, tuple(states) if len(states) == 2 else (state if states else None))
            forward, backward = out.chunk(2, dim=-1)
            x = _merge(self.merge_mode, forward, backward)
            finals.append(final)
        if isinstance(finals[0], tuple):
            return x, tuple(torch.cat([f[k] for f in finals]) for k in range(2))
        return x, torch.cat(finals)


def _module(op: str, attrs, weights, layer: int | None) -> nn.Module:
    """The torch module of all layers (``layer`` None) or of one layer, its weights the IR's exactly."""
    kwargs = {"num_layers": attrs["num_layers"] if layer is None else 1, "bias": attrs["bias"],
              "batch_first": True, "bidirectional": attrs["bidirectional"],
              "dropout": attrs["dropout"] if layer is None and attrs["num_layers"] > 1 else 0.0}
    if op == "rnn":
        kwargs["nonlinearity"] = attrs["activation"]
    input_size = attrs["input_size"] if not layer else attrs["hidden_size"]
    module = _MODULES[op](input_size, attrs["hidden_size"], **kwargs)
    for name, _ in list(module.named_parameters()):
        source = name if layer is None else name.replace("_l0", f"_l{layer}")
        setattr(module, name, parameter(weights[source]))
    module.flatten_parameters()
    return module


def _refusal(op: str, attrs) -> str | None:
    if op == "gru" and not attrs["reset_after"]:
        return ("reset_after must be True: PyTorch's GRU applies the reset gate after the recurrent matmul, and "
                "no torch module computes Keras's reset_after=False form. Received: reset_after=False. Convert "
                "a Keras GRU built with reset_after=True")
    if op == "rnn" and attrs["activation"] not in ("tanh", "relu"):
        return (f"activation must be 'tanh' or 'relu' (nn.RNN's nonlinearity). Received: "
                f"activation={attrs['activation']!r}")
    if op != "rnn" and (attrs["activation"], attrs["recurrent_activation"]) != ("tanh", "sigmoid"):
        return (f"activation must be 'tanh' and recurrent_activation 'sigmoid' (the only ones nn.{op.upper()} "
                f"computes). Received: activation={attrs['activation']!r}, "
                f"recurrent_activation={attrs['recurrent_activation']!r}")
    return None


@register("torch", "backend", "lstm", "gru", "rnn")
def recurrent(ctx: Step, node):
    op, attrs = node.op, ctx.attrs
    problem = _refusal(op, attrs)
    if problem is not None:
        return ctx.unsupported(problem)
    count, dirs = state_count(op), directions(attrs)
    merged = attrs["bidirectional"] and attrs["merge_mode"] != "concat"
    if merged:
        module = MergedRecurrent([_module(op, attrs, node.weights, k) for k in range(attrs["num_layers"])],
                                 attrs["merge_mode"])
    else:
        module = _module(op, attrs, node.weights, None)
    x = ctx.input
    if attrs["go_backwards"]:
        x = ctx.call(torch.flip, x, (1,), suffix="_reversed")
    args = [x]
    if len(node.inputs) > 1:  # initial states (N, L*D, H) -> PyTorch's (L*D, N, H)
        states = [ctx.call(torch.transpose, s, 0, 1, suffix=f"_state{i}") for i, s in enumerate(ctx.inputs[1:])]
        args.append(states[0] if count == 1 else tuple(states))
    result = ctx.module(module, *args)
    out = ctx.call(operator.getitem, result, 0, suffix="_output")
    if attrs["return_sequences"] and not attrs["return_state"]:
        return out
    final = ctx.call(operator.getitem, result, 1, suffix="_final")
    finals = [final] if count == 1 else [ctx.call(operator.getitem, final, k, suffix=f"_final{k}") for k in range(2)]
    if not attrs["return_sequences"]:  # the last layer's final hidden state of each direction, merged
        h = finals[0]
        if dirs == 1:
            out = ctx.call(operator.getitem, h, -1, suffix="_last")
        else:
            forward = ctx.call(operator.getitem, h, -2, suffix="_last_forward")
            backward = ctx.call(operator.getitem, h, -1, suffix="_last_backward")
            out = (ctx.call(torch.cat, (forward, backward), -1, suffix="_last") if not merged
                   else ctx.call(_merge, attrs["merge_mode"], forward, backward, suffix="_last"))
    if not attrs["return_state"]:
        return out
    return [out] + [ctx.call(torch.transpose, f, 0, 1, suffix=f"_state_out{k}") for k, f in enumerate(finals)]
