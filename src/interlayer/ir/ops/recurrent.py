"""Recurrent layers: embedding, lstm, gru, rnn.

One canonical form for every framework: batch-first ``(N, T, F)`` sequences, PyTorch's gate order (LSTM i, f, g, o;
GRU r, z, n), PyTorch's weight names per layer and direction (``weight_ih_l{k}``, ``_reverse`` for the backward
direction) and separate input and recurrent biases. Keras's (input, gates*units) kernels with i, f, c, o / z, r, h
gate order and its single bias are converted by the Keras frontend and backend.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import ValidationError
from .schema import Attr, OpSchema, Weight, define

MAX_LAYERS = 4
"""The largest ``num_layers`` whose weights are declared (stack more as several nodes)."""


def _embedding_shape(attrs, shapes):
    return [(*shapes[0], attrs["embedding_dim"])]


EMBEDDING = define(OpSchema(
    name="embedding", family="recurrent",
    doc="out = weight[x]: integer indices of any shape (float inputs are truncated to integers, as Keras casts "
        "them) give input shape + (embedding_dim,). padding_idx and mask_zero are recorded; neither changes "
        "the inference output.",
    attrs=(
        Attr("num_embeddings", "int"),
        Attr("embedding_dim", "int"),
        Attr("padding_idx", "int", None, nullable=True, doc="PyTorch: the row kept at zero in training"),
        Attr("mask_zero", "bool", False, doc="Keras: index 0 masks later layers (recorded, not applied)"),
    ),
    weights=(Weight("weight", "(num_embeddings, embedding_dim)",
                    lambda a: (a["num_embeddings"], a["embedding_dim"])),),
    infer=_embedding_shape,
))


@dataclass(frozen=True)
class LayerWeight(Weight):
    """A weight of one layer and direction: present when the layer exists (and, for the reverse direction,
    when the op is bidirectional; for a bias, when ``bias`` is True)."""

    layer: int = 0
    reverse: bool = False
    is_bias: bool = False

    def present(self, attrs) -> bool:
        return (self.layer < attrs["num_layers"] and (attrs["bidirectional"] or not self.reverse)
                and (attrs["bias"] or not self.is_bias))


def _layer_weights(gates: int) -> tuple[Weight, ...]:
    found = []
    for k in range(MAX_LAYERS):
        for reverse in (False, True):
            suffix = f"_l{k}" + ("_reverse" if reverse else "")
            when = f"layer {k}" + (", bidirectional" if reverse else "")

            def inputs(a, k=k):
                return a["input_size"] if k == 0 else a["hidden_size"] * (
                    2 if a["bidirectional"] and a["merge_mode"] == "concat" else 1)

            found += [
                LayerWeight(f"weight_ih{suffix}", f"({gates}*hidden_size, layer input) ({when})",
                            lambda a, f=inputs: (gates * a["hidden_size"], f(a)), layer=k, reverse=reverse),
                LayerWeight(f"weight_hh{suffix}", f"({gates}*hidden_size, hidden_size) ({when})",
                            lambda a: (gates * a["hidden_size"], a["hidden_size"]), layer=k, reverse=reverse),
                LayerWeight(f"bias_ih{suffix}", f"({gates}*hidden_size,) ({when}, bias)",
                            lambda a: (gates * a["hidden_size"],), layer=k, reverse=reverse, is_bias=True),
                LayerWeight(f"bias_hh{suffix}", f"({gates}*hidden_size,) ({when}, bias)",
                            lambda a: (gates * a["hidden_size"],), layer=k, reverse=reverse, is_bias=True),
            ]
    return tuple(found)


def state_count(op: str) -> int:
    return 2 if op == "lstm" else 1


def directions(attrs) -> int:
    return 2 if attrs["bidirectional"] else 1


def output_size(attrs) -> int:
    """Features of the output: both directions side by side for 'concat', else hidden_size."""
    merged = attrs["bidirectional"] and attrs["merge_mode"] == "concat"
    return attrs["hidden_size"] * (2 if merged else 1)


def _recurrent_shape(op):
    def infer(attrs, shapes):
        shape = shapes[0]
        if len(shape) != 3:
            raise ValidationError(f"op '{op}': needs a (N, T, F) input. Received: shape={shape}.")
        if not isinstance(shape[2], str) and shape[2] != attrs["input_size"]:
            raise ValidationError(f"op '{op}': input has {shape[2]} features. Expected input_size="
                                  f"{attrs['input_size']}.")
        size = output_size(attrs)
        out = (shape[0], shape[1], size) if attrs["return_sequences"] else (shape[0], size)
        state = (shape[0], attrs["num_layers"] * directions(attrs), attrs["hidden_size"])
        for index, initial in enumerate(shapes[1:]):
            if tuple(initial[1:]) != state[1:]:
                raise ValidationError(f"op '{op}': initial state {index} must have shape {state}. "
                                      f"Received: shape={initial}.")
        return [out] + ([state] * state_count(op) if attrs["return_state"] else [])
    return infer


def _recurrent_check(op):
    def check(attrs):
        found = []
        if not 1 <= attrs["num_layers"] <= MAX_LAYERS:
            found.append(f"'num_layers' must be in 1..{MAX_LAYERS}. Received: num_layers={attrs['num_layers']}")
        if attrs["go_backwards"] and attrs["bidirectional"]:
            found.append("'go_backwards' and 'bidirectional' exclude each other. Received: both True")
        return found
    return check


_ACTIVATIONS = ("tanh", "sigmoid", "relu")


def _recurrent(op: str, gates: int, doc: str, extra=()):
    common = (
        Attr("input_size", "int", doc="features of the input (N, T, input_size)"),
        Attr("hidden_size", "int", doc="units of each direction"),
        Attr("num_layers", "int", 1, doc="stacked layers; layer k+1 reads layer k's merged output sequence"),
        Attr("bias", "bool", True, doc="whether the bias_ih/bias_hh weights exist"),
        Attr("bidirectional", "bool", False, doc="a reverse direction reads the sequence backwards; its output "
                                                 "sequence is aligned to input time"),
        Attr("merge_mode", "str", "concat", choices=("concat", "sum", "mul", "ave"),
             doc="how the two directions' outputs combine (feature concat, f + b, f * b, (f + b) / 2)"),
        Attr("return_sequences", "bool", True, doc="output (N, T, .) at every step, else the final step (N, .): "
                                                   "each direction's final hidden state, merged"),
        Attr("return_state", "bool", False, doc="extra outputs: final h (and c for lstm), each "
                                                "(N, num_layers*directions, hidden_size) in PyTorch's h_n order"),
        Attr("go_backwards", "bool", False, doc="read the input from the last step to the first; the output "
                                                "sequence is in processing (reversed) order (Keras)"),
        Attr("activation", "str", "tanh", choices=_ACTIVATIONS, doc="the cell's candidate/output activation"),
        Attr("dropout", "float", 0.0, doc="dropout between layers; none at inference (recorded)"),
    )
    return define(OpSchema(
        name=op, family="recurrent",
        doc=doc + " Input x (N, T, input_size), then optionally the initial h (and c) as inputs shaped "
                  "(N, num_layers*directions, hidden_size) (zeros when absent). Per step, with "
                  "W_i = weight_ih, W_h = weight_hh, gates split in the order given.",
        attrs=common + tuple(extra),
        weights=_layer_weights(gates),
        inputs=(1, 1 + state_count(op)),
        outputs=lambda a: 1 + (state_count(op) if a["return_state"] else 0),
        infer=_recurrent_shape(op),
        check=_recurrent_check(op),
    ))


_SIGMA = Attr("recurrent_activation", "str", "sigmoid", choices=_ACTIVATIONS,
              doc="the gates' activation (sigma above)")

LSTM = _recurrent(
    "lstm", 4,
    "Long short-term memory, gates i, f, g, o: [i f g o] = x W_i^T + b_ih + h W_h^T + b_hh; "
    "c' = sigma(f) * c + sigma(i) * act(g); h' = sigma(o) * act(c').",
    extra=(_SIGMA,))
GRU = _recurrent(
    "gru", 3,
    "Gated recurrent unit, gates r, z, n: a = x W_i^T + b_ih, b = h W_h^T + b_hh; r = sigma(a_r + b_r), "
    "z = sigma(a_z + b_z); reset_after: n = act(a_n + r * b_n), else n = act(a_n + (r * h) W_hn^T + b_hn); "
    "h' = (1 - z) * n + z * h.",
    extra=(_SIGMA, Attr("reset_after", "bool", True,
                        doc="True: PyTorch's form (and Keras's default); False: Keras's reset-before form")))
RNN = _recurrent(
    "rnn", 1,
    "Elman recurrent layer (PyTorch RNN, Keras SimpleRNN): h' = act(x W_i^T + b_ih + h W_h^T + b_hh).")
