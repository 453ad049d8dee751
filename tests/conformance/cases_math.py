"""Conformance cases of the math op family: one case per op; log and sqrt read abs(x) + 0.5, where they are
defined, softplus is also run with a threshold inside the inputs' range, and shrink with PyTorch's Hardshrink
(bias 0) and Softshrink (bias lambd) settings, Keras's threshold 0.5 and a bias of its own. floor and ceil read the
inputs as they are, or times 4 (exact in float32), so that no backend can land on the other side of an integer."""
from __future__ import annotations

import numpy as np

from support import chain_graph

from .cases import case

MAP = (2, 3, 4, 5)
_POSITIVE = [("abs", {}), ("add", {"constant": True, "constant_shape": [], "trainable": False})]


def positive_then(op: str):
    """abs, add 0.5, then ``op``: inputs where log and sqrt are defined."""
    graph = chain_graph([*_POSITIVE, (op, {})], MAP)
    graph.nodes[1].weights["other"] = np.asarray(0.5, np.float32)
    return graph


def times_4_then(op: str):
    """x * 4, then ``op``: more integers crossed than by x alone, and the product exact in float32."""
    graph = chain_graph([("mul", {"constant": True, "constant_shape": [], "trainable": False}), (op, {})], MAP)
    graph.nodes[0].weights["other"] = np.asarray(4.0, np.float32)
    return graph


case("math-exp", lambda: chain_graph([("exp", {})], MAP))
case("math-abs-add-log", lambda: positive_then("log"))
case("math-abs-add-sqrt", lambda: positive_then("sqrt"))
case("math-abs", lambda: chain_graph([("abs", {})], MAP))
case("math-neg", lambda: chain_graph([("neg", {})], MAP))
case("math-softplus", lambda: chain_graph([("softplus", {})], MAP))
case("math-softplus-threshold-20", lambda: chain_graph([("softplus", {"threshold": 20.0})], MAP))
case("math-softplus-threshold-0.5", lambda: chain_graph([("softplus", {"threshold": 0.5})], MAP))
case("math-selu", lambda: chain_graph([("selu", {})], MAP))
case("math-log_softmax-channels", lambda: chain_graph([("log_softmax", {"axis": 1})], MAP))
case("math-log_softmax-last", lambda: chain_graph([("log_softmax", {"axis": 3})], MAP))
case("math-log_softmax-features", lambda: chain_graph([("log_softmax", {"axis": 1})], (2, 6)))
case("math-sign", lambda: chain_graph([("sign", {})], MAP))
case("math-softsign", lambda: chain_graph([("softsign", {})], MAP))
case("math-erf", lambda: chain_graph([("erf", {})], MAP))
case("math-floor", lambda: chain_graph([("floor", {})], MAP))
case("math-ceil", lambda: chain_graph([("ceil", {})], MAP))
case("math-mul-4-floor", lambda: times_4_then("floor"))
case("math-mul-4-ceil", lambda: times_4_then("ceil"))
case("math-shrink-default", lambda: chain_graph([("shrink", {})], MAP))
case("math-shrink-soft-0.5", lambda: chain_graph([("shrink", {"lambd": 0.5, "bias": 0.5})], MAP))
case("math-shrink-hard-0.8", lambda: chain_graph([("shrink", {"lambd": 0.8, "bias": 0.0})], MAP))
case("math-shrink-soft-0.3", lambda: chain_graph([("shrink", {"lambd": 0.3, "bias": 0.3})], MAP))
case("math-shrink-bias-1.5-0.25", lambda: chain_graph([("shrink", {"lambd": 1.5, "bias": 0.25})], MAP))
case("math-shrink-zero-lambd", lambda: chain_graph([("shrink", {"lambd": 0.0, "bias": -0.5})], (2, 6)))
