"""Transfer: move trained weights into a model someone already wrote, in the same or the other framework.

Users often have one architecture written twice, in PyTorch and in Keras, with other layer names and another
construction order; they need the weights moved, exactly. Names are never trusted; structure is:

1. Both models become IR graphs (``interlayer.export``; a PyTorch model is traced on ``example_inputs`` or on
   seeded inputs shaped from the other model's canonical input shapes, batch 2). Linear layers reading a
   flattened feature map are read in one column order (``columns.py``: Keras flattens NHWC, PyTorch NCHW).
2. ``match.py`` pairs the nodes holding parameters by an isomorphism of the graphs reduced to those nodes
   (networkx), op, weight shapes and the order of concatenated branches compared, names and construction order
   ignored; several pairings that differ are an ambiguity for ``hints`` to settle; failing an isomorphism, an
   alignment in graph order names every layer without a partner or of another shape.
3. ``write.py`` puts each source node's canonical weights into the paired destination node of the
   destination's own graph and lets the destination framework's backend compute the native tensors (kernel
   layouts, refolded linear columns, recurrent gates) by building that graph; a build of the unchanged graph
   first proves, parameter by parameter, that the backend gives back the destination's current values bit for
   bit, so the copy by name into the live model is exact. Copying canonical arrays into native parameters by
   hand would mean a second, untested inverse of every frontend converter; reusing the backends keeps one.
4. Every problem (no partner, another shape, an ambiguity, a parameter nothing fills or that cannot be rebuilt
   exactly) is raised as one :class:`TransferError` before any weight is written. After writing, both models run
   on the same seeded inputs; a destination that does not reproduce the source gets its weights back.

Weights-only sources have no structure: a PyTorch state dict goes into a PyTorch destination by position
(``state.py``); across frameworks, pass the source architecture with the weights (``transfer_file(...,
weights=...)``).
"""
from .core import transfer
from .files import transfer_file
from .report import TensorPair, TransferError, TransferReport, Verification

__all__ = ["TensorPair", "TransferError", "TransferReport", "Verification", "transfer", "transfer_file"]
