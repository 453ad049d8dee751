"""Intermediate values of a Keras model, for layer-by-layer verification (``interlayer.verify``).

A model built by interlayer keeps the Keras tensor and layout of every IR value (``_interlayer_values``): one
sub-model returns them all, each brought back to the canonical layout. Any other model exposes the output of
each layer called once, by layer name (the name the Keras frontend gives the node), brought back through the
layout it is known to hold: the one interlayer recorded when it wrote the file (``_interlayer_perms["values"]``),
or the one the Keras frontend recorded capturing this model (``source["held_perms"]``). Without either, the
layout is read from the shape when only one of the canonical and the channels-last layouts fits it; a value
whose layout stays unknown is :class:`Unmapped`, with the reason, never compared in a guessed layout.
"""
from __future__ import annotations

from typing import Sequence

import keras
import numpy as np

from ...ir import layout
from ...ir.graph import Graph
from ...verify import Unmapped
from .build import run_native


def activations(model, inputs: Sequence[np.ndarray], graph: Graph) -> dict[str, np.ndarray]:
    held = getattr(model, "_interlayer_values", None)
    built = getattr(model, "_interlayer_perms", None)  # a model interlayer built, or a .keras file it wrote
    perms = built["inputs"] if built else [spec.perm for spec in graph.inputs]
    if built is not None:
        known = built.get("values")
    elif graph.source.get("framework") == "keras":
        known = graph.source.get("held_perms", {})
    else:
        known = None
    if held:
        names = list(held)
        tensors, value_perms = zip(*(held[name] for name in names))
    else:
        names, tensors = _layer_outputs(model, graph)
        value_perms = [None] * len(names)
    if not names:
        return {}
    functional = getattr(model, "_functional", None) or model
    probe = keras.Model(functional.inputs, list(tensors))
    arrays = [np.asarray(x) if perm is None else np.transpose(x, perm) for x, perm in zip(inputs, perms)]
    outputs = run_native(probe, arrays)
    shapes = graph.shapes()
    batch = len(inputs[0]) if len(inputs) else 1
    found = {}
    for name, output, perm in zip(names, outputs, value_perms):
        if perm is None and known is not None:
            perm = tuple(known.get(name) or layout.identity(np.ndim(output)))
        if perm is None:
            perm = _perm_from_shape(output.shape, shapes.get(name), batch)
        if perm is None:
            found[name] = Unmapped(f"held as {tuple(output.shape)}, which fits both the IR's layout and "
                                   f"channels-last, or neither")
        elif len(perm) != np.ndim(output):
            found[name] = Unmapped(f"held as {tuple(output.shape)}, not in a layout of rank {len(perm)}")
        else:
            found[name] = np.transpose(output, layout.invert(perm)).astype(np.float32, copy=False)
    return found


def _layer_outputs(model, graph: Graph) -> tuple[list[str], list]:
    """(IR value, Keras tensor) of every layer the model calls once: the values its capture recorded for its
    outputs (``source["layer_outputs"]``, where they are not its namesake node's, as a Dense's fused activation
    is ``<layer>_activation``), else those of the graph node named after it."""
    functional = getattr(model, "_functional", None) or model
    layers = {layer.name: layer for layer in functional.layers}
    moved = graph.source.get("layer_outputs", {})
    names, tensors = [], []
    for node in graph.nodes:
        layer = layers.get(node.name)
        if layer is None or isinstance(layer, keras.layers.InputLayer) or len(layer._inbound_nodes) != 1:
            continue
        values = moved.get(node.name, node.outputs)
        outputs = layer._inbound_nodes[0].output_tensors
        if len(outputs) >= len(values):
            names += values
            tensors += outputs[:len(values)]
    return names, tensors


def _perm_from_shape(held_shape, canonical, batch: int):
    """The perm that holds ``canonical`` as ``held_shape`` when exactly one of identity and channels-last fits."""
    if canonical is None or len(held_shape) != len(canonical):
        return None
    sizes = [batch if index == 0 else d for index, d in enumerate(canonical)]
    rank = len(sizes)
    fits = {perm for perm in (layout.identity(rank), layout.channels_last(rank) if rank >= 3 else None)
            if perm is not None and all(isinstance(sizes[axis], str) or sizes[axis] == size
                                        for axis, size in zip(perm, held_shape))}
    return fits.pop() if len(fits) == 1 else None
