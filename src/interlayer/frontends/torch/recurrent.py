"""Recurrent layers: nn.Embedding (and F.embedding), nn.LSTM, nn.GRU, nn.RNN, their weights under PyTorch's own names.

PyTorch holds the states h_0/h_n (and c_0/c_n) as ``(layers*directions, N, H)`` even with batch_first=True, and
a ``batch_first=False`` sequence as (T, N, F); the IR holds both batch-first, and ``layouts.py`` converts what the
model does with them: ``h_n[-1]`` (the last layer's state) is a slice of the IR state, ``h_n.transpose(0, 1)``
the IR state itself, a returned ``h_n`` a graph output whose ``perm`` says so, and a state handed to another
recurrent layer (an encoder's h_n given to a decoder) or passed to ``forward`` as an input is that layer's IR
initial state. An initial state made in ``forward`` from the batch size (a learned ``h0`` expanded to the batch)
is its one row repeated over the batch, and zeros are no input at all.
"""
from __future__ import annotations

import operator

import numpy as np
import torch.nn.functional as F
from torch import nn

from ...registry import register
from .algebra import constant
from .attention import batch_constant
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


@register("torch", "frontend", F.embedding)
def functional_embedding(ctx: Call, target):
    """``F.embedding(ids, weight)`` with the model's own table (a subclass's forward calling
    ``super().forward``, a tied table): the same lookup as nn.Embedding, the table's state_dict name kept."""
    table = constant(ctx, ctx.arg(1, "weight"))
    if table is None or table.array.ndim != 2:
        return ctx.unsupported("the table must be a 2-D parameter or buffer of the model. Expected a constant "
                               "(num_embeddings, embedding_dim) weight")
    if ctx.const(ctx.arg(3, "max_norm", None)) is not None:
        return ctx.unsupported("max_norm must be None: it renormalises the weight rows during the forward")
    padding = ctx.const(ctx.arg(2, "padding_idx", None))
    attrs = {"num_embeddings": table.array.shape[0], "embedding_dim": table.array.shape[1],
             "padding_idx": None if padding is None else int(padding) % table.array.shape[0]}
    return ctx.add("embedding", [ctx.input], attrs, {"weight": table.array}, sources={"weight": table.source})


def _picks(node, index: int):
    """The fx nodes that take ``node[index]``."""
    return [user for user in node.users if user.target is operator.getitem and user.args[1] == index]


def _state_nodes(node, op: str) -> list:
    """For each state kind (h, and c for an LSTM), the fx nodes holding it: ``result[1]`` or ``result[1][k]``."""
    kinds = []
    for states in _picks(node, 1):
        if op == "lstm":
            while len(kinds) < 2:
                kinds.append([])
            for kind in range(2):
                kinds[kind] += _picks(states, kind)
        else:
            kinds = kinds or [[]]
            kinds[0].append(states)
    return kinds


def _initial_states(ctx: Call, op: str, x) -> list[str] | None:
    """The IR initial-state inputs of the call (empty when there are none or they are zeros).

    A state held swapped (a graph input, another recurrent layer's final state, or a tensor computed from
    those) is its IR value; a state made from the batch size is its one row repeated over the batch, and so is a
    constant of the example's batch size whose rows are equal (``h0.expand(-1, x.size(1), -1)`` of a time-major
    ``x``, whose ``size(1)`` the tracer reads as a number); zeros are no input at all."""
    given = ctx.arg(1, "hx", None)
    if given is None:
        return []
    parts = list(given) if isinstance(given, (tuple, list)) else [given]
    found, problems = [], []
    for part in parts:
        if ctx.is_swapped(part):
            found.append(ctx.value(part))
            continue
        value = part.meta.get("interlayer.value") if hasattr(part, "meta") else None
        if ctx.is_constant(part) and value is not None and not bool(value.any()):
            found.append(None)
            continue
        batch_sized = ctx.is_constant(part) and value.dim() == 3 and value.shape[1] == ctx.shape(x)[0]
        if not batch_sized and (ctx.is_constant(part) or "interlayer.batch_of" not in getattr(part, "meta", {})):
            problems.append(f"initial state '{getattr(part, 'name', part)}' must be a graph input, another "
                            f"recurrent layer's final state, zeros, or be made in forward from the batch size "
                            f"(h0.expand(-1, x.size(0), -1))")
            continue
        rows = value.transpose(0, 1)
        if not bool((rows == rows[:1]).all()):
            problems.append(f"initial state '{part.name}' differs across the batch")
            continue
        found.append(None if not bool(rows.any()) else batch_constant(ctx, to_numpy(rows[:1].contiguous()), x))
    if problems:
        ctx.unsupported(". ".join(problems))
        return None
    if all(state is None for state in found):
        return []
    return [state if state is not None else batch_constant(ctx, np.zeros((1, *ctx.shape(part)[::2]), np.float32), x)
            for state, part in zip(found, parts)]


@register("torch", "frontend", nn.LSTM, nn.GRU, nn.RNN)
def recurrent(ctx: Call, module):
    """One IR node; its sequence output is held swapped for ``batch_first=False``, and its final states always
    (PyTorch's (layers*directions, N, H), the IR's (N, layers*directions, H)): ``layouts.py`` converts their
    uses (``h_n[-1]``, ``h_n.transpose(0, 1)``, returning them, handing them to another recurrent layer)."""
    op = _OPS[ctx.layer_type]
    problems = []
    if getattr(module, "proj_size", 0):
        problems.append(f"proj_size must be 0. Expected an LSTM without projections (Keras has none). "
                        f"Received: proj_size={module.proj_size}")
    if len(ctx.shape(ctx.node.args[0])) != 3:
        problems.append(f"the input must be batched. Expected (N, T, F). Received: shape={ctx.shape(ctx.node.args[0])}")
    if problems:
        return ctx.unsupported(". ".join(problems))
    initial = _initial_states(ctx, op, ctx.node.args[0])
    if initial is None:
        return None
    holders = _state_nodes(ctx.node, op)
    read = (any(holder.users for kind in holders for holder in kind)
            or any(user.op == "output" for node in (ctx.node, *_picks(ctx.node, 1)) for user in node.users))
    attrs = {"input_size": module.input_size, "hidden_size": module.hidden_size, "num_layers": module.num_layers,
             "bias": module.bias, "bidirectional": module.bidirectional, "dropout": float(module.dropout),
             "return_state": read}
    if op == "rnn":
        attrs["activation"] = module.nonlinearity
    weights = {name: to_numpy(tensor) for name, tensor in module.named_parameters()}
    sources = {name: name for name in weights}
    outputs = ctx.capture.builder.add_node(op, [ctx.input, *initial], attrs, weights, name=ctx.name,
                                           sources={w: ctx.prefix + s for w, s in sources.items()})
    ctx.capture.parts[ctx.node] = [not module.batch_first, [True, True] if op == "lstm" else True]
    unread = f"<unconverted {ctx.name} final state>"
    if not read:
        return [outputs[0], [unread, unread] if op == "lstm" else unread]
    states = outputs[1:]
    return [outputs[0], states if op == "lstm" else states[0]]
