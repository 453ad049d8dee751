"""Converters for Hugging Face ``transformers`` layers whose forward is better read as one IR op.

Imported by the capture only when ``transformers`` is already imported (a model of it is being captured), so
interlayer never imports transformers itself. The converters are keyed on the classes, like every frontend
converter, but kept in this module's own ``CONVERTERS`` table rather than the registry: what the registry (and
the support tables generated from it) lists never depends on which libraries a process happened to import. A
converter registered with ``interlayer.register`` for the same class takes precedence. Subclasses of ``nn``
layers that only change ``__init__`` (EfficientNet's depthwise Conv2d, PoolFormer's GroupNorm) need nothing here:
the capture converts them with their parent's converter (``context.converted_class``).

Everything else in a transformers model is traced: drop path / stochastic depth returns its input at inference
(``if not self.training: return x``), so the trace records nothing for it; ``QuickGELUActivation``,
``MishActivation`` and similar compose ops the frontend converts one by one. A class missing from the installed
transformers version is skipped.
"""
from __future__ import annotations

import importlib
from typing import Callable

from .context import Call, to_numpy

CONVERTERS: dict[type, Callable] = {}


def _class(name: str) -> type | None:
    """The class ``"module:Class"`` of transformers, or None when the installed version has none."""
    module_name, class_name = name.split(":")
    try:
        return getattr(importlib.import_module(f"transformers.{module_name}"), class_name)
    except (ImportError, AttributeError):
        return None


def _converter(*names: str) -> Callable[[Callable], Callable]:
    """Register ``fn`` for each ``"module:Class"`` of transformers that exists in the installed version."""

    def decorate(fn: Callable) -> Callable:
        for cls in filter(None, map(_class, names)):
            CONVERTERS[cls] = fn
        return fn

    return decorate


@_converter("models.convnext.modeling_convnext:ConvNextLayerNorm",
            "models.convnextv2.modeling_convnextv2:ConvNextV2LayerNorm",
            "models.dinov3_convnext.modeling_dinov3_convnext:DINOv3ConvNextLayerNorm")
def convnext_layer_norm(ctx: Call, module):
    """A LayerNorm over the channels: axis 1 of (N, C, H, W) for ``channels_first``, the last axis otherwise."""
    rank = len(ctx.shape(ctx.node.args[0]))
    sizes = [int(d) for d in module.normalized_shape]
    if module.data_format == "channels_first":
        if len(sizes) != 1 or rank < 2:
            return ctx.unsupported(f"a channels_first LayerNorm normalises axis 1 only. Expected one channel size "
                                   f"and a (N, C, ...) input. Received: normalized_shape={tuple(sizes)}, rank={rank}")
        axes = [1]
    elif module.data_format == "channels_last":
        axes = list(range(rank - len(sizes), rank))
    else:
        return ctx.unsupported(f"data_format must be 'channels_first' or 'channels_last'. "
                               f"Received: data_format={module.data_format!r}")
    weight, bias = module.weight, module.bias
    attrs = {"axes": axes, "normalized_shape": sizes, "epsilon": float(module.eps),
             "scale": weight is not None, "center": bias is not None}
    weights = {"scale": None if weight is None else to_numpy(weight),
               "offset": None if bias is None else to_numpy(bias)}
    return ctx.add("layer_norm", [ctx.input], attrs, weights, sources={"scale": "weight", "offset": "bias"})


@_converter("activations:GELUActivation")
def gelu(ctx: Call, module):
    """``F.gelu`` or its erf formula (``use_gelu_python``): the exact GELU either way."""
    return ctx.add("gelu", [ctx.input], {"approximate": "none"})


@_converter("activations:GELUTanh", "activations:NewGELUActivation", "activations:FastGELUActivation",
            "activations:AccurateGELUActivation")
def gelu_tanh(ctx: Call, module):
    """The tanh approximation, ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, however it is written
    (FastGELU's 0.7978845608 differs from sqrt(2/pi) by 3e-12)."""
    return ctx.add("gelu", [ctx.input], {"approximate": "tanh"})


@_converter("activations:ClippedGELUActivation")
def clipped_gelu(ctx: Call, module):
    value = ctx.add("gelu", [ctx.input], {"approximate": "none"})
    return ctx.capture.builder.add("clip", [value], {"min": float(module.min), "max": float(module.max)},
                                   name=f"{ctx.name}_clip")


@_converter("activations:SiLUActivation")
def silu(ctx: Call, module):
    return ctx.add("silu", [ctx.input])


@_converter("activations:LinearActivation")
def linear_activation(ctx: Call, module):
    return ctx.add("identity", [ctx.input])


@_converter("models.bert.modeling_bert:BertEmbeddings")
def bert_embeddings(ctx: Call, module):
    """``input_ids`` alone (token types and positions at their defaults): the word embedding, plus the first
    token-type row, plus the first ``seq`` position rows (two constant adds, in the model's order), then the
    LayerNorm; dropout is nothing at inference. fx cannot trace its ``buffer.expand(batch_size, ...)``."""
    given = [key for key in ("token_type_ids", "position_ids", "inputs_embeds")
             if ctx.arg(None, key, None) is not None]
    ids = ctx.arg(0, "input_ids", None)
    if given or ids is None or ctx.const(ctx.arg(None, "past_key_values_length", 0)) \
            or getattr(module, "position_embedding_type", "absolute") != "absolute":
        return ctx.unsupported(f"only input_ids with default token types and absolute positions convert. Expected "
                               f"input_ids alone. Received: {given or ['inputs_embeds']}")
    length = ctx.shape(ids)[1]
    builder, norm = ctx.capture.builder, module.LayerNorm
    table = module.word_embeddings
    words = ctx.add("embedding", [ctx.value(ids)], {"num_embeddings": table.num_embeddings,
                                                      "embedding_dim": table.embedding_dim,
                                                      "padding_idx": table.padding_idx},
                    {"weight": to_numpy(table.weight)}, sources={"weight": "word_embeddings.weight"})
    types = to_numpy(module.token_type_embeddings.weight[0])
    value = builder.add("add", [words], {"constant": True, "constant_shape": list(types.shape)}, {"other": types},
                        name=f"{ctx.name}_token_type")
    positions = to_numpy(module.position_embeddings.weight[:length])[None]
    value = builder.add("add", [value], {"constant": True, "constant_shape": list(positions.shape)},
                        {"other": positions}, name=f"{ctx.name}_position")
    attrs = {"axes": [2], "normalized_shape": [int(norm.normalized_shape[0])], "epsilon": float(norm.eps)}
    return builder.add("layer_norm", [value], attrs, {"scale": to_numpy(norm.weight), "offset": to_numpy(norm.bias)},
                       name=f"{ctx.name}_layer_norm",
                       sources={"scale": ctx.prefix + "LayerNorm.weight", "offset": ctx.prefix + "LayerNorm.bias"})


@_converter("pytorch_utils:Conv1D")
def gpt2_conv1d(ctx: Call, module):
    """GPT-2's Conv1D is a linear layer whose weight is stored (in, out): ``x @ weight + bias``."""
    weight = to_numpy(module.weight)
    attrs = {"in_features": int(weight.shape[0]), "out_features": int(weight.shape[1])}
    return ctx.add("linear", [ctx.input], attrs, {"weight": weight.T.copy(), "bias": to_numpy(module.bias)},
                   sources={"weight": "weight", "bias": "bias"})
