"""Conformance cases of the pad op's modes: each mode in 1-D, 2-D and 3-D with symmetric and asymmetric pads, and
reflection padding feeding a convolution (PyTorch's Conv2d(padding_mode='reflect'), CycleGAN's ReflectionPad2d)."""
from __future__ import annotations

from support import chain_graph, single_op_graph

from .cases import case, conv

SHAPES = {1: (2, 3, 7), 2: (2, 3, 5, 6), 3: (2, 2, 4, 5, 6)}
PADS = {
    # symmetric: the same amount at both ends of every axis; asymmetric: begin != end, one end left unpadded and
    # the largest pad each mode allows on the shortest axis (reflect: size - 1, wrap and edge: size)
    ("symmetric", 1): [2, 2],
    ("symmetric", 2): [1, 2, 1, 2],
    ("symmetric", 3): [1, 1, 2, 1, 1, 2],
    ("asymmetric", 1): [3, 0],
    ("asymmetric", 2): [0, 2, 3, 1],
    ("asymmetric", 3): [2, 0, 1, 1, 3, 0],
}
WIDEST = {"reflect": [3, 4], "edge": [6, 5], "wrap": [4, 5]}
"""pads reaching as far as each mode allows on a (2, 3, 4, 5) input: reflect size - 1, wrap the size, edge beyond"""

for _mode in ("constant", "reflect", "edge", "wrap"):
    for (_kind, _rank), _pads in PADS.items():
        case(f"pad{_rank}d-{_mode}-{_kind}", lambda m=_mode, r=_rank, p=_pads: single_op_graph(
            "pad", {"pads": p, "mode": m}, [SHAPES[r]]))
for _mode, _pads in WIDEST.items():
    case(f"pad2d-{_mode}-widest", lambda m=_mode, p=_pads: single_op_graph(
        "pad", {"pads": [p[0], p[1], p[0], p[1]], "mode": m}, [(2, 3, 4, 5)]))
case("pad2d-constant-value", lambda: single_op_graph("pad", {"pads": [1, 0, 2, 1], "value": -1.5}, [(2, 3, 4, 5)]))

case("pad2d-reflect-conv", lambda: chain_graph([
    ("pad", {"pads": [1, 1, 1, 1], "mode": "reflect"}), ("conv", conv(3, 4, (3, 3))), ("relu", {})], (2, 3, 6, 7)))
case("pad2d-reflect-conv-stride-chain", lambda: chain_graph([
    ("pad", {"pads": [3, 3, 3, 3], "mode": "reflect"}), ("conv", conv(3, 4, (7, 7))), ("relu", {}),
    ("pad", {"pads": [1, 0, 1, 0], "mode": "edge"}), ("conv", conv(4, 4, (2, 2), strides=[2, 2])),
    ("pad", {"pads": [1, 1, 1, 1], "mode": "wrap"}), ("conv", conv(4, 2, (3, 3)))], (2, 3, 8, 9)))
case("pad1d-reflect-conv", lambda: chain_graph([
    ("pad", {"pads": [2, 1], "mode": "reflect"}), ("conv", conv(3, 5, (4,)))], (2, 3, 9)))
