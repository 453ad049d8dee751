"""Conformance cases of tile: channel and spatial repeats of 1-D to 3-D maps, a feature vector, repeats all 1,
a symbolic sequence length repeated (its size becomes unknown) and kept, and tiles between convolutions, where
the Keras backend holds the map channels-last and each repeat has to move with its axis."""
from __future__ import annotations

from support import chain_graph

from .cases import case, conv


def tile(*repeats):
    return ("tile", {"repeats": [1, *repeats]})


case("tile-1d-channels", lambda: chain_graph([tile(2, 1)], (2, 3, 5)))
case("tile-1d-length", lambda: chain_graph([tile(1, 3)], (2, 3, 5)))
case("tile-2d-channels", lambda: chain_graph([tile(3, 1, 1)], (2, 2, 4, 5)))
case("tile-2d-spatial", lambda: chain_graph([tile(1, 2, 3)], (2, 3, 4, 5)))
case("tile-2d-channels-spatial", lambda: chain_graph([tile(2, 3, 1)], (2, 3, 4, 5)))
case("tile-3d", lambda: chain_graph([tile(2, 1, 3, 2)], (2, 2, 3, 4, 2)))
case("tile-features", lambda: chain_graph([tile(3)], (2, 6)))
case("tile-ones", lambda: chain_graph([tile(1, 1, 1)], (2, 3, 4, 5)))
case("tile-symbolic-length-repeated", lambda: chain_graph([tile(2, 1)], ("N", "T", 6)))
case("tile-symbolic-length-kept", lambda: chain_graph([tile(1, 3)], ("N", "T", 6)))
case("conv-tile-conv", lambda: chain_graph([
    ("conv", conv(3, 4, (3, 3))), tile(2, 1, 3), ("conv", conv(8, 3, (3, 3))), ("relu", {})], (2, 3, 6, 5)))
case("conv-tile-spatial-flatten", lambda: chain_graph([
    ("conv", conv(2, 3, (3, 3))), tile(1, 3, 2), ("flatten", {})], (2, 2, 5, 6)))
case("conv1d-tile-channels-length", lambda: chain_graph([
    ("conv", conv(2, 3, (3,))), tile(2, 2), ("conv", conv(6, 2, (3,)))], (2, 2, 7)))
case("conv3d-tile", lambda: chain_graph([
    ("conv", conv(2, 3, (2, 2, 2))), tile(1, 2, 1, 3)], (2, 2, 4, 3, 5)))
case("transpose-tile", lambda: chain_graph([
    ("conv", conv(3, 4, (3, 3))), ("transpose", {"perm": [0, 3, 1, 2]}), tile(2, 1, 3)], (2, 3, 6, 5)))
