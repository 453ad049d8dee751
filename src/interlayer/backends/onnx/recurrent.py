"""embedding as Gather; lstm, gru and rnn as one ONNX LSTM/GRU/RNN node per layer.

onnxruntime runs recurrent nodes only time-major (``layout`` 0; its CPU kernels refuse ``layout`` 1), so the
(N, T, F) input is transposed to (T, N, F) and back. Per layer, ``W``, ``R`` and ``B`` are derived initializers
(``<node>.W_l0``, ``<node>.R_l0``, ``<node>.B_l0``): both directions stacked, the gates reordered from the IR's
(PyTorch's) order to ONNX's (LSTM i, f, g, o -> i, o, f, c; GRU r, z, n -> z, r, h) and ``B`` the input and
recurrent biases side by side. The IR's reset_after GRU is ONNX's ``linear_before_reset=1``. Between layers the
two directions are merged as the IR says (concat, sum, mul, ave); go_backwards reverses the input once, which is
what the IR defines (the output then stays in processing order).
"""
from __future__ import annotations

import numpy as np

from ...ir.ops.recurrent import directions, state_count
from ...registry import register
from .context import INT64, Step

_OPS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
_GATES = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn": [0]}
"""for each ONNX gate, the IR gate it is"""
_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}


@register("onnx", "backend", "embedding")
def embedding(ctx: Step, node):
    """Gather of the rows; float indices are truncated to integers (a Cast), as the IR defines."""
    indices = ctx.raw()
    if ctx.dtype_of(indices) not in (np.dtype(np.int32), np.dtype(np.int64)):
        indices = ctx.cast(indices, INT64)
    return ctx.op("Gather", [ctx.weight("weight"), indices], axis=0)


def _reorder(array: np.ndarray, op: str) -> np.ndarray:
    blocks = np.split(np.asarray(array), len(_GATES[op]), axis=0)
    return np.concatenate([blocks[gate] for gate in _GATES[op]], axis=0)


def _layer_weights(ctx: Step, node, layer: int) -> list[str]:
    """W, R and (with a bias) B of one layer, every direction stacked on a leading axis."""
    op, weights = node.op, node.weights
    suffixes = [f"_l{layer}" + ("_reverse" if d else "") for d in range(directions(ctx.attrs))]
    w = np.stack([_reorder(weights["weight_ih" + s], op) for s in suffixes])
    r = np.stack([_reorder(weights["weight_hh" + s], op) for s in suffixes])
    found = [ctx.derived(f"W_l{layer}", w), ctx.derived(f"R_l{layer}", r)]
    if ctx.attrs["bias"]:
        b = np.stack([np.concatenate([_reorder(weights["bias_ih" + s], op), _reorder(weights["bias_hh" + s], op)])
                      for s in suffixes])
        found.append(ctx.derived(f"B_l{layer}", b))
    return found


def _activations(op: str, attrs) -> list[str]:
    act = _ACTIVATIONS[attrs["activation"]]
    if op == "rnn":
        per_direction = [act]
    else:
        sigma = _ACTIVATIONS[attrs["recurrent_activation"]]
        per_direction = [sigma, act, act] if op == "lstm" else [sigma, act]
    return per_direction * directions(attrs)


def _merge(ctx: Step, value: str, axis: int) -> str:
    """The two directions of ``value`` (stacked on ``axis``, size 2) merged by sum, mul or ave; ``axis`` removed."""
    forward, backward = ctx.split(value, [1, 1], axis)
    mode = ctx.attrs["merge_mode"]
    if mode == "mul":
        merged = ctx.op("Mul", [forward, backward])
    else:
        merged = ctx.op("Add", [forward, backward])
        if mode == "ave":
            merged = ctx.op("Div", [merged, ctx.const(2.0, suffix="two")])
    return ctx.squeeze(merged, [axis])


def _sequence(ctx: Step, y: str) -> str:
    """ONNX Y (T, D, N, H) -> the merged sequence (T, N, D*H for concat, else T, N, H)."""
    if directions(ctx.attrs) == 1:
        return ctx.squeeze(y, [1])
    if ctx.attrs["merge_mode"] == "concat":
        return ctx.reshape(ctx.transpose(y, [0, 2, 1, 3]), [0, 0, -1])
    return _merge(ctx, y, 1)


def _last(ctx: Step, y_h: str) -> str:
    """The last layer's final hidden state (D, N, H) -> the merged final output (N, D*H or H)."""
    if directions(ctx.attrs) == 1:
        return ctx.squeeze(y_h, [0])
    if ctx.attrs["merge_mode"] == "concat":
        return ctx.reshape(ctx.transpose(y_h, [1, 0, 2]), [0, -1])
    return _merge(ctx, y_h, 0)


@register("onnx", "backend", "lstm", "gru", "rnn")
def recurrent(ctx: Step, node):
    op, attrs = node.op, ctx.attrs
    count, dirs, layers = state_count(op), directions(attrs), attrs["num_layers"]
    x = ctx.input()
    if attrs["go_backwards"]:
        x = ctx.slice(x, [-1], [-(2**63)], [1], [-1])
    sequence = ctx.transpose(x, [1, 0, 2])  # (T, N, F)
    initial = [ctx.transpose(ctx.input(index), [1, 0, 2]) for index in range(1, len(node.inputs))]  # (L*D, N, H)
    options = {"hidden_size": attrs["hidden_size"], "activations": _activations(op, attrs),
               "direction": "bidirectional" if dirs == 2 else "forward"}
    if op == "gru":
        options["linear_before_reset"] = int(attrs["reset_after"])
    finals: list[list[str]] = [[] for _ in range(count)]
    for layer in range(layers):
        weights = _layer_weights(ctx, node, layer)
        states = [ctx.slice(state, [layer * dirs], [(layer + 1) * dirs], [0]) if layers > 1 else state
                  for state in initial]
        inputs = [sequence, *weights] + [""] * (3 - len(weights)) + [""] + states  # X W R B sequence_lens h c
        while not inputs[-1]:
            inputs.pop()
        y, *final = ctx.op(_OPS[op], inputs, outputs=1 + count, suffix=f"{_OPS[op]}_l{layer}", **options)
        for k in range(count):
            finals[k].append(final[k])
        sequence = _sequence(ctx, y)
    out = ctx.transpose(sequence, [1, 0, 2]) if attrs["return_sequences"] else _last(ctx, finals[0][-1])
    if not attrs["return_state"]:
        return out
    return [out] + [ctx.transpose(ctx.concat(states, 0), [1, 0, 2]) for states in finals]
