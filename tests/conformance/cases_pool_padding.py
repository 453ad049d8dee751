"""Conformance cases of average pooling over explicit padding: padding counted and not, 1-D to 3-D, pads symmetric,
asymmetric (both ends, unequal) and at the end only, stride 1 and 2, ceil_mode on and off; and pads that happen to be
TensorFlow's 'same'. The sizes make ceil_mode add a window on some axes, and on the third axis of the 3-D map drop the
one that would start in the end padding."""
from __future__ import annotations

import itertools

from interlayer.ir import layout
from support import single_op_graph

from .cases import case

KERNELS = {1: [4], 2: [4, 3], 3: [4, 3, 2]}
SIZES = {1: (9,), 2: (9, 8), 3: (9, 6, 5)}
PADS = {  # (begins, ends) of the three axes, cut to the rank; each at most half the window
    "symmetric": ([1, 1, 1], [1, 1, 1]),
    "asymmetric": ([1, 1, 0], [2, 0, 1]),
    "end-only": ([0, 0, 0], [2, 1, 1]),
}


def avg_pool(rank: int, strides: int, pads: list[int], ceil_mode: bool, include: bool):
    attrs = {"kernel_size": KERNELS[rank], "strides": [strides] * rank, "pads": pads, "ceil_mode": ceil_mode,
             "count_include_pad": include}
    return single_op_graph("avg_pool", attrs, [(2, 3, *SIZES[rank])])


def _name(rank: int, pads: str, strides: int, ceil_mode: bool, include: bool) -> str:
    return (f"avg_pool{rank}d-pads-{pads}-stride{strides}{'-ceil' if ceil_mode else ''}-"
            f"{'include' if include else 'exclude'}")


for _rank, _kind, _strides, _ceil, _include in itertools.product(KERNELS, PADS, (1, 2), (False, True), (False, True)):
    _begins, _ends = PADS[_kind]
    case(_name(_rank, _kind, _strides, _ceil, _include),
         lambda r=_rank, p=_begins[:_rank] + _ends[:_rank], s=_strides, c=_ceil, i=_include: avg_pool(r, s, p, c, i))
for _rank, _strides, _include in itertools.product(KERNELS, (1, 2), (False, True)):
    _same = layout.same_pads_all(SIZES[_rank], KERNELS[_rank], [_strides] * _rank)
    case(_name(_rank, "same", _strides, False, _include),
         lambda r=_rank, p=_same, s=_strides, i=_include: avg_pool(r, s, p, False, i))
