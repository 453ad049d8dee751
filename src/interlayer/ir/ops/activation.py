"""Element-wise activations and softmax. Every parameter a framework may change is an attribute."""
from __future__ import annotations

from ...errors import ValidationError
from .schema import Attr, OpSchema, Weight, define


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
MISH = _unary("mish", "x * tanh(softplus(x))")
SOFTMAX = _unary("softmax", "exp(x) / sum(exp(x)) along one axis",
                 Attr("axis", "int", doc="non-negative axis of the channels-first (canonical) tensor"))


def _prelu_shape(attrs, shapes):
    shape, count = shapes[0], attrs["num_parameters"]
    if count > 1 and (len(shape) < 2 or (isinstance(shape[1], int) and shape[1] != count)):
        raise ValidationError(f"op 'prelu': {count} slopes need {count} channels on axis 1. "
                              f"Received: shape={list(shape)}.")
    return [shape]


def _prelu_check(attrs):
    count = attrs["num_parameters"]
    return [] if count >= 1 else [f"'num_parameters' must be >= 1. Received: num_parameters={count}"]


PRELU = define(OpSchema(
    name="prelu", family="activation",
    doc="x if x >= 0 else slope * x; one slope for every element, or one per channel (axis 1)",
    attrs=(Attr("num_parameters", "int", 1, doc="1, or the number of channels (axis 1)"),),
    weights=(Weight("slope", "(num_parameters,)", lambda a: (a["num_parameters"],)),),
    infer=_prelu_shape,
    check=_prelu_check,
))
