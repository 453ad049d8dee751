"""Recurrent layers: nn.Embedding, nn.LSTM, nn.GRU, nn.RNN (batch_first=True), their weights under PyTorch's
own names. The output tuple ``(output, h_n[, c_n])`` converts its sequence output; reading h_n or c_n, initial
states and batch_first=False (time-major, whose batch axis is not first) are refused for now."""
from __future__ import annotations

import operator

from torch import nn

from ...registry import register
from .context import Call, to_numpy

_OPS = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}


@register("torch", "frontend", nn.Embedding)
def embedding(ctx: Call, module: nn.Embedding):
    if module.max_norm is not None:
        return ctx.unsupported(f"max_norm must be None: it renormalises the weight rows during the forward. "
                               f"Received: max_norm={module.max_norm}")
    attrs = {"num_embeddings": module.num_embeddings, "embedding_dim": module.embedding_dim,
             "padding_idx": module.padding_idx}
    return ctx.add("embedding", [ctx.input], attrs, {"weight": to_numpy(module.weight)}, sources={"weight": "weight"})


def _read_states(node) -> bool:
    """Whether anything reads the call's h_n/c_n (``result[1]``), beyond unpacking it unused."""
    for user in node.users:
        if user.target is not operator.getitem or user.args[1] != 0:
            if user.target is not operator.getitem or user.users:
                return True
    return False


@register("torch", "frontend", nn.LSTM, nn.GRU, nn.RNN)
def recurrent(ctx: Call, module):
    op = _OPS[type(module)]
    problems = []
    if not module.batch_first:
        problems.append("batch_first must be True. Expected (N, T, F) input: a time-major (T, N, F) sequence has "
                        "its batch axis second, which no IR value holds. Received: batch_first=False. Rebuild the "
                        "module with batch_first=True and transpose its input")
    if getattr(module, "proj_size", 0):
        problems.append(f"proj_size must be 0. Expected an LSTM without projections (Keras has none). "
                        f"Received: proj_size={module.proj_size}")
    if len(ctx.node.args) > 1 or ctx.node.kwargs:
        problems.append("initial states are not converted yet. Expected a call with the input only. "
                        "Received: an initial state argument")
    if _read_states(ctx.node):
        problems.append("reading the final states (h_n, c_n) is not converted yet. Expected only output[0] used. "
                        "Received: a use of output[1]")
    if len(ctx.shape(ctx.node.args[0])) != 3:
        problems.append(f"the input must be batched. Expected (N, T, F). Received: shape={ctx.shape(ctx.node.args[0])}")
    if problems:
        return ctx.unsupported(". ".join(problems))
    attrs = {"input_size": module.input_size, "hidden_size": module.hidden_size, "num_layers": module.num_layers,
             "bias": module.bias, "bidirectional": module.bidirectional, "dropout": float(module.dropout)}
    if op == "rnn":
        attrs["activation"] = module.nonlinearity
    weights = {name: to_numpy(tensor) for name, tensor in module.named_parameters()}
    out = ctx.add(op, [ctx.input], attrs, weights, sources={name: name for name in weights})
    unread = f"<unconverted {ctx.name} final state>"
    return [out, [unread, unread] if op == "lstm" else unread]
