"""Recurrent layers: nn.Embedding, nn.LSTM, nn.GRU, nn.RNN (batch_first=True), their weights under PyTorch's
own names.

PyTorch holds the states h_0/h_n (and c_0/c_n) as ``(layers*directions, N, H)`` even with batch_first=True; the IR
as ``(N, layers*directions, H)``. The converter therefore reads the uses of h_n itself: ``h_n[k]`` (the last
layer's state, ``h_n[-1]``; both directions, ``h_n[-2]`` and ``h_n[-1]``) becomes a slice of the IR state, and
``h_n.transpose(0, 1)`` / ``h_n.permute(1, 0, 2)`` the IR state itself; any other use is refused. An initial
state made in ``forward`` from the batch size (``torch.zeros(layers, x.size(0), H)``, a learned ``h0`` expanded
to the batch) is its one row repeated over the batch, zeros being no input at all; the final state of another
recurrent layer (an encoder's h_n handed to a decoder) is that layer's IR state. batch_first=False
(time-major, whose batch axis is not first) is refused for now.
"""
from __future__ import annotations

import operator

import numpy as np
import torch
from torch import nn

from ...registry import register
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


_TRANSPOSES = {("transpose", (0, 1)), ("transpose", (1, 0)), ("permute", (1, 0, 2))}


def _state_uses(ctx: Call, state: str, holder, hidden: int) -> list[str]:
    """Convert every use of one torch state tensor (held (L*D, N, H)) from the IR state ``state`` (N, L*D, H)."""
    problems = []
    count = ctx.shape(holder)[0]
    for user in list(holder.users):
        args = tuple(ctx.const(arg) for arg in user.args[1:])
        if _is_recurrent_call(ctx, user):
            continue  # the initial state of another recurrent layer: read there from ctx.capture.states
        if user.op == "call_method" and (user.target, args) in _TRANSPOSES:
            ctx.capture.values[user] = state
        elif user.target is operator.getitem and isinstance(args[0], int) and -count <= args[0] < count:
            k = args[0] % count
            sizes = [size for size in (k, 1, count - k - 1) if size]
            parts = ctx.capture.builder.add_node("split", [state], {"axis": 1, "sizes": sizes},
                                                 name=f"{ctx.name}_state_{holder.name}") if count > 1 else [state]
            picked = parts[1 if k else 0]
            ctx.capture.values[user] = ctx.capture.builder.add("reshape", [picked], {"shape": [hidden]},
                                                               name=f"{ctx.name}_{user.name}")
        else:
            problems.append(f"'{user.name}' uses a final state as {describe_use(user)}; only h_n[k] and "
                            f"h_n.transpose(0, 1) (or .permute(1, 0, 2)) convert, the state being (layers*"
                            f"directions, N, H) in PyTorch and batch-first in the IR")
    return problems


def _is_recurrent_call(ctx: Call, user) -> bool:
    return user.op == "call_module" and type(ctx.capture.root.get_submodule(user.target)) in _OPS


def describe_use(user) -> str:
    return f"{user.target}{tuple(user.args[1:])}" if user.op == "call_method" else getattr(user.target, "__name__",
                                                                                          str(user.target))


def _initial_states(ctx: Call, op: str, x) -> list[str] | None:
    """The IR initial-state inputs of the call (empty when there are none or they are zeros)."""
    given = ctx.arg(1, "hx", None)
    if given is None:
        return []
    parts = list(given) if isinstance(given, (tuple, list)) else [given]
    found, problems = [], []
    for part in parts:
        state = ctx.capture.states.get(part)
        if state is not None:
            found.append(state)
            continue
        value = part.meta.get("interlayer.value") if hasattr(part, "meta") else None
        if ctx.is_constant(part) or "interlayer.batch_of" not in getattr(part, "meta", {}):
            problems.append(f"initial state '{getattr(part, 'name', part)}' must be made in forward from the batch "
                            f"size (torch.zeros(layers, x.size(0), H), h0.expand(-1, x.size(0), -1)) or be "
                            f"another recurrent layer's final state")
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
    op = _OPS[type(module)]
    problems = []
    if not module.batch_first:
        problems.append("batch_first must be True. Expected (N, T, F) input: a time-major (T, N, F) sequence has "
                        "its batch axis second, which no IR value holds. Received: batch_first=False. Rebuild the "
                        "module with batch_first=True and transpose its input")
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
    read = any(holder.users for kind in holders for holder in kind)
    attrs = {"input_size": module.input_size, "hidden_size": module.hidden_size, "num_layers": module.num_layers,
             "bias": module.bias, "bidirectional": module.bidirectional, "dropout": float(module.dropout),
             "return_state": read}
    if op == "rnn":
        attrs["activation"] = module.nonlinearity
    weights = {name: to_numpy(tensor) for name, tensor in module.named_parameters()}
    sources = {name: name for name in weights}
    outputs = ctx.capture.builder.add_node(op, [ctx.input, *initial], attrs, weights, name=ctx.name,
                                           sources={w: ctx.prefix + s for w, s in sources.items()})
    unread = f"<unconverted {ctx.name} final state>"
    if not read:
        return [outputs[0], [unread, unread] if op == "lstm" else unread]
    problems = []
    for kind, state in zip(holders, outputs[1:]):
        for holder in kind:
            ctx.capture.states[holder] = state
            problems += _state_uses(ctx, state, holder, module.hidden_size)
    if problems:
        return ctx.unsupported(". ".join(problems))
    states = outputs[1:]
    return [outputs[0], states if op == "lstm" else states[0]]
