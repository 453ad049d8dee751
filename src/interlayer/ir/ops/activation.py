"""Element-wise activations and softmax. Every parameter a framework may change is an attribute."""
from __future__ import annotations

from .schema import Attr, OpSchema, define


def _unary(name: str, doc: str, *attrs: Attr) -> OpSchema:
    return define(OpSchema(name=name, family="activation", doc=doc, attrs=attrs))


RELU = _unary("relu", "max(x, 0)")
CLIP = _unary("clip", "min(max(x, min), max): ReLU6 is clip(0, 6), Hardtanh clip(-1, 1)",
              Attr("min", "float", nullable=True), Attr("max", "float", nullable=True))
LEAKY_RELU = _unary("leaky_relu", "x if x >= 0 else alpha * x",
                    Attr("alpha", "float", 0.01, doc="PyTorch negative_slope; Keras LeakyReLU defaults to 0.2"))
ELU = _unary("elu", "x if x > 0 else alpha * (exp(x) - 1)", Attr("alpha", "float", 1.0))
GELU = _unary("gelu", "x * Phi(x); 'tanh' is the tanh approximation",
              Attr("approximate", "str", "none", choices=("none", "tanh")))
SILU = _unary("silu", "x * sigmoid(x) (swish)")
SIGMOID = _unary("sigmoid", "1 / (1 + exp(-x))")
TANH = _unary("tanh", "tanh(x)")
HARD_SIGMOID = _unary("hard_sigmoid", "clip(alpha * x + beta, 0, 1); PyTorch and Keras 3 use alpha=1/6, "
                                      "ONNX defaults to alpha=0.2",
                      Attr("alpha", "float", 1.0 / 6.0), Attr("beta", "float", 0.5))
HARD_SWISH = _unary("hard_swish", "x * clip(x / 6 + 1 / 2, 0, 1)")
SOFTMAX = _unary("softmax", "exp(x) / sum(exp(x)) along one axis",
                 Attr("axis", "int", doc="non-negative axis of the channels-first (canonical) tensor"))
