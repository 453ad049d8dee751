"""embedding -> Embedding; lstm, gru, rnn -> LSTM, GRU, SimpleRNN (wrapped in Bidirectional for two directions),
one Keras layer per stacked layer, weights in Keras's order: kernel (input, gates*units) with gates i, f, c, o
(LSTM) or z, r, h (GRU), and one bias = bias_ih + bias_hh (the float32 sum) except GRU reset_after's (2, 3*units)."""
from __future__ import annotations

import keras
import numpy as np

from ...ir.ops.recurrent import directions, state_count
from ...registry import register
from .build import BuildContext, Held, assign, prefers

_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


@register("keras", "backend", "embedding")
@prefers("identity")
def embedding(ctx: BuildContext, node, inputs):
    x = ctx.identity(inputs[0])
    attrs = ctx.attrs
    layer = ctx.layer(keras.layers.Embedding, input_dim=attrs["num_embeddings"], output_dim=attrs["embedding_dim"],
                      mask_zero=attrs["mask_zero"])
    y = layer(x.tensor)
    assign(layer.embeddings, node.weights["weight"])
    return ctx.output(y, tuple(range(x.rank + 1)))


def _gru_gates(array: np.ndarray, axis: int) -> np.ndarray:
    """PyTorch's r, z, n blocks in Keras's z, r, h order (the same permutation both ways)."""
    r, z, n = np.split(array, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def keras_weights(op: str, attrs, weights, suffix: str) -> list[np.ndarray]:
    """One cell's Keras weights [kernel, recurrent_kernel(, bias)] from the IR weights of layer/direction ``suffix``."""
    kernel, recurrent = weights["weight_ih" + suffix].T, weights["weight_hh" + suffix].T
    found = [kernel, recurrent]
    if attrs["bias"]:
        b_ih, b_hh = weights["bias_ih" + suffix], weights["bias_hh" + suffix]
        if op == "gru" and attrs["reset_after"]:
            found.append(np.stack([b_ih, b_hh]))
        else:
            found.append((b_ih.astype(np.float32) + b_hh.astype(np.float32)))
    if op == "gru":
        found = [_gru_gates(w, -1) for w in found]
    return found


@register("keras", "backend", "lstm", "gru", "rnn")
@prefers("identity")
def recurrent(ctx: BuildContext, node, inputs):
    op, attrs = node.op, ctx.attrs
    x = ctx.identity(inputs[0])
    count, dirs, layers = state_count(op), directions(attrs), attrs["num_layers"]
    initial = [ctx.identity(s).tensor for s in inputs[1:]]
    tensor, finals = x.tensor, [[] for _ in range(count)]
    for k in range(layers):
        last = k == layers - 1
        options = {"units": attrs["hidden_size"], "activation": attrs["activation"], "use_bias": attrs["bias"],
                   "return_sequences": attrs["return_sequences"] or not last, "return_state": attrs["return_state"],
                   "go_backwards": attrs["go_backwards"]}
        if op != "rnn":
            options["recurrent_activation"] = attrs["recurrent_activation"]
        if op == "gru":
            options["reset_after"] = attrs["reset_after"]
        suffix = None if layers == 1 else f"l{k}"
        states = [s[:, k * dirs + d] for d in range(dirs) for s in initial] or None
        if dirs == 1:
            layer = ctx.layer(_LAYERS[op], suffix, **options)
            results = layer(tensor, initial_state=states)
            cells = [(layer.cell, f"_l{k}")]
        else:
            inner = _LAYERS[op](**options)
            layer = ctx.layer(keras.layers.Bidirectional, suffix, layer=inner, merge_mode=attrs["merge_mode"])
            results = layer(tensor, initial_state=states)
            cells = [(layer.forward_layer.cell, f"_l{k}"), (layer.backward_layer.cell, f"_l{k}_reverse")]
        for cell, weight_suffix in cells:
            for variable, array in zip(cell.weights, keras_weights(op, attrs, node.weights, weight_suffix)):
                assign(variable, array)
        if not attrs["return_state"]:
            tensor = results
            continue
        tensor = results[0]
        for d in range(dirs):
            for s in range(count):
                finals[s].append(results[1 + d * count + s])
    out = ctx.output(tensor, tuple(range(3 if attrs["return_sequences"] else 2)))
    if not attrs["return_state"]:
        return out
    shapes = ctx.output_shapes  # each state (N, num_layers*directions, hidden), PyTorch's h_n order
    return [out] + [Held(keras.ops.stack(f, axis=1), (0, 1, 2), shape) for f, shape in zip(finals, shapes[1:])]
