"""Recurrent layers: Embedding, LSTM, GRU, SimpleRNN, and Bidirectional around one of them.

Keras's cell weights become the IR's PyTorch form: kernel (input, gates*units) -> weight_ih (gates*units, input),
GRU gates z, r, h -> r, z, n, and Keras's one bias -> bias_ih with bias_hh zeros (exact); GRU reset_after's
(2, 3*units) bias holds both. Dropout and recurrent_dropout do nothing at inference; unit_forget_bias only
initialises the bias, which is read as trained.
"""
from __future__ import annotations

import keras
import numpy as np

from ...ir import ops
from ...registry import register
from .context import Held, LayerContext, array, prefers

_OPS = {keras.layers.LSTM: "lstm", keras.layers.GRU: "gru", keras.layers.SimpleRNN: "rnn"}
_ACTIVATIONS = ("tanh", "sigmoid", "relu")


@register("keras", "frontend", keras.layers.Embedding)
@prefers("identity")
def embedding(ctx: LayerContext, layer, inputs):
    """``mask_zero`` is recorded; the mask itself is refused where a layer would use it (RNNs skip masked steps,
    pooling and attention ignore them), as the IR carries no masks yet: see ``capture._masks``."""
    x = ctx.identity(inputs[0])
    table = array(layer.embeddings)
    attrs = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1]),
             "mask_zero": bool(layer.mask_zero)}
    return ctx.add("embedding", [x], attrs, {"weight": table}, perm=tuple(range(x.rank + 1)),
                   sources={"weight": layer.embeddings})


def _gru_gates(values: np.ndarray, axis: int) -> np.ndarray:
    """Keras's z, r, h blocks in PyTorch's r, z, n order (the same swap both ways)."""
    first, second, third = np.split(values, 3, axis=axis)
    return np.concatenate([second, first, third], axis=axis)


def _activation(ctx: LayerContext, cell, attribute: str) -> str | None:
    function = getattr(cell, attribute)
    name = getattr(function, "__name__", repr(function))
    if name not in _ACTIVATIONS:
        ctx.unsupported(f"{attribute} must be one of {list(_ACTIVATIONS)}, the cell activations the IR computes "
                        f"exactly in every target. Received: {attribute}={name!r}")
        return None
    return name


def _options(ctx: LayerContext, layer, op: str) -> dict | None:
    """The IR attributes of one Keras recurrent layer (None after reporting what has no IR form)."""
    if layer.stateful:
        ctx.unsupported("stateful=True carries states across batches, which a converted model cannot. "
                        "Expected stateful=False. Received: stateful=True. Rebuild the layer stateless and pass the "
                        "states as initial_state")
        return None
    cell = layer.cell
    attrs = {"input_size": None, "hidden_size": int(cell.units), "bias": bool(cell.use_bias),
             "return_sequences": bool(layer.return_sequences), "go_backwards": bool(layer.go_backwards),
             "activation": _activation(ctx, cell, "activation")}
    if op != "rnn":
        attrs["recurrent_activation"] = _activation(ctx, cell, "recurrent_activation")
    if op == "gru":
        attrs["reset_after"] = bool(cell.reset_after)
    return None if ctx.failed else attrs


def _cell_weights(op: str, cell, attrs, suffix: str) -> tuple[dict, dict]:
    kernel, recurrent = array(cell.kernel), array(cell.recurrent_kernel)
    gates = (lambda w, axis: _gru_gates(w, axis)) if op == "gru" else (lambda w, axis: w)
    weights = {f"weight_ih{suffix}": gates(kernel, 1).T.copy(), f"weight_hh{suffix}": gates(recurrent, 1).T.copy()}
    sources = {f"weight_ih{suffix}": cell.kernel, f"weight_hh{suffix}": cell.recurrent_kernel}
    if attrs["bias"]:
        bias = array(cell.bias)
        if bias.ndim == 2:  # GRU reset_after: input and recurrent biases
            b_ih, b_hh = gates(bias[0], 0), gates(bias[1], 0)
        else:
            b_ih, b_hh = gates(bias, 0), np.zeros_like(bias)
        weights[f"bias_ih{suffix}"], weights[f"bias_hh{suffix}"] = b_ih, b_hh
        sources[f"bias_ih{suffix}"] = cell.bias
    return weights, sources


def _same_config(forward, backward) -> bool:
    ignored = {"name", "go_backwards", "trainable", "dtype"}
    first, second = forward.get_config(), backward.get_config()
    return {k: v for k, v in first.items() if k not in ignored} == {k: v for k, v in second.items()
                                                                    if k not in ignored}


def _state_inputs(ctx: LayerContext, inputs: list[Held]) -> list[Held] | None:
    """The held initial states of the call (``initial_state=`` or positional; a Keras mask is refused before)."""
    held = {id(tensor): value for tensor, value in zip(ctx.node.input_tensors, inputs)}
    initial = ctx.node.arguments.kwargs.get("initial_state")
    if initial is None:
        initial = list(ctx.node.arguments.args[1:])
    initial = initial if isinstance(initial, (list, tuple)) else [initial]
    return [held[id(tensor)] for tensor in initial if tensor is not None]


def _initial_states(ctx: LayerContext, inputs: list[Held], count: int, dirs: int) -> list[Held]:
    """Keras's per-direction initial states [h_f, (c_f,) h_b, (c_b)] as the IR's (N, directions, H) per kind."""
    found = []
    for kind in range(count):
        parts = [ctx.identity(inputs[d * count + kind]) for d in range(dirs)]
        rows = [ctx.add("reshape", [p], {"shape": [ctx.shape(p)[0], 1, ctx.shape(p)[1]]}, perm=(0, 1, 2),
                        name=f"{ctx.name}_initial{kind}_{d}") for d, p in enumerate(parts)]
        found.append(rows[0] if dirs == 1 else ctx.add("concat", rows, {"axis": 1}, perm=(0, 1, 2),
                                                       name=f"{ctx.name}_initial{kind}"))
    return found


def _add(ctx: LayerContext, op: str, inputs: list[Held], attrs: dict, weights: dict, sources: dict) -> list[Held]:
    """Write the recurrent node (several outputs with return_state) and record its shapes."""
    state = ctx._state
    schema = ops.get(op)
    filled = schema.fill(attrs)
    paths = {weight: variable.path for weight, variable in sources.items()}
    values = state.builder.add_node(op, [x.value for x in inputs], filled, weights, name=ctx.name, sources=paths)
    shapes = schema.infer(filled, [ctx.shape(x) for x in inputs])
    for value, shape in zip(values, shapes):
        state.shapes[value] = tuple(shape)
    for value, dtype in zip(values, schema.output_dtypes(filled, [ctx.dtype(x) for x in inputs])):
        state.dtypes[value] = dtype
    return [Held(value, tuple(range(len(shape)))) for value, shape in zip(values, shapes)]


def _flatten_states(ctx: LayerContext, outputs: list[Held], count: int, dirs: int, hidden: int) -> list[Held]:
    parts = {}
    for kind in range(count):
        state = outputs[1 + kind]
        pieces = [state] if dirs == 1 else ctx.add_outputs("split", [state], {"axis": 1, "sizes": [1, 1]},
                                                           perm=(0, 1, 2), name=f"{ctx.name}_state{kind}")
        for d, piece in enumerate(pieces):
            parts[d, kind] = ctx.add("reshape", [piece], {"shape": [ctx.shape(piece)[0], hidden]}, perm=(0, 1),
                                     name=f"{ctx.name}_state{kind}_{d}")
    return [outputs[0]] + [parts[d, kind] for d in range(dirs) for kind in range(count)]


def _convert(ctx: LayerContext, layer, inputs: list[Held], inner, dirs: int, merge_mode: str = "concat"):
    op = _OPS.get(type(inner))
    if op is None:
        ctx.unsupported(f"only LSTM, GRU and SimpleRNN layers have IR ops. Expected one of them (a keras.layers.RNN "
                        f"around a custom cell has no IR form). Received: layer={type(inner).__name__}")
        return None
    attrs = _options(ctx, inner, op)
    if attrs is None:
        return None
    x = ctx.identity(inputs[0])
    count = 2 if op == "lstm" else 1
    attrs.update(input_size=int(ctx.shape(x)[2]), bidirectional=dirs == 2, merge_mode=merge_mode,
                 return_state=len(ctx.node.outputs) > 1)
    cells = [(inner.cell, "_l0")] + ([(layer.backward_layer.cell, "_l0_reverse")] if dirs == 2 else [])
    weights, sources = {}, {}
    for cell, suffix in cells:
        found, named = _cell_weights(op, cell, attrs, suffix)
        weights.update(found)
        sources.update(named)
    states = _state_inputs(ctx, inputs)
    if states is None:
        return None
    initial = _initial_states(ctx, states, count, dirs) if states else []
    outputs = _add(ctx, op, [x, *initial], attrs, weights, sources)
    return _flatten_states(ctx, outputs, count, dirs, attrs["hidden_size"]) if attrs["return_state"] else outputs


@register("keras", "frontend", keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN)
@prefers("identity")
def recurrent(ctx: LayerContext, layer, inputs):
    return _convert(ctx, layer, inputs, layer, 1)


@register("keras", "frontend", keras.layers.Bidirectional)
@prefers("identity")
def bidirectional(ctx: LayerContext, layer, inputs):
    forward, backward = layer.forward_layer, layer.backward_layer
    if layer.merge_mode is None:
        ctx.unsupported("merge_mode must be 'concat', 'sum', 'mul' or 'ave'. Expected one merged output. "
                        "Received: merge_mode=None")
        return None
    if forward.go_backwards or type(forward) is not type(backward) or not backward.go_backwards \
            or not _same_config(forward, backward):
        ctx.unsupported("the backward layer must mirror the forward one (same class and settings, reading the "
                        "sequence backwards). Expected Bidirectional(layer) without a differing backward_layer "
                        f"and go_backwards=False. Received: forward={type(forward).__name__}, "
                        f"backward={type(backward).__name__}")
        return None
    return _convert(ctx, layer, inputs, forward, 2, layer.merge_mode)


@register("keras", "frontend", keras.layers.RNN)
@prefers("identity")
def custom_cell(ctx: LayerContext, layer, inputs):
    ctx.unsupported(f"a keras.layers.RNN around a custom cell has no IR op. Expected LSTM, GRU or SimpleRNN (or "
                    f"their cells). Received: cell={type(layer.cell).__name__}")
    return None
