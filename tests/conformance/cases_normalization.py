"""Conformance cases of local response normalisation (lrn): odd and even sizes with ONNX's window (before =
(size - 1) // 2, the default) and PyTorch's (before = size // 2), other starts, and 1 to 3 spatial axes. alpha is
large enough that a window off by one channel changes the output far beyond the tolerance."""
from __future__ import annotations

from support import chain_graph

from .cases import case

MAP = (2, 7, 4, 5)
STRONG = {"alpha": 0.8, "beta": 0.75, "bias": 1.5}


def lrn(size: int, shape=MAP, **attrs):
    return lambda: chain_graph([("lrn", {"size": size, **STRONG, **attrs})], shape)


case("lrn-defaults", lambda: chain_graph([("lrn", {"size": 5})], MAP))
case("lrn-size1", lrn(1))
case("lrn-size3-onnx", lrn(3))
case("lrn-size5-onnx", lrn(5))
case("lrn-size4-onnx", lrn(4))
case("lrn-size4-torch", lrn(4, before=2))
case("lrn-size2-torch", lrn(2, before=1))
case("lrn-size6-before0", lrn(6, before=0))
case("lrn-size3-before2", lrn(3, before=2))
case("lrn-size9-wider-than-channels", lrn(9, alpha=0.3))
case("lrn-1d-size3", lrn(3, (2, 6, 9)))
case("lrn-1d-size4-torch", lrn(4, (2, 6, 9), before=2))
case("lrn-3d-size5", lrn(5, (2, 6, 3, 4, 2)))
case("lrn-3d-size2-onnx", lrn(2, (2, 6, 3, 4, 2)))
