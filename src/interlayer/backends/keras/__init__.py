"""The Keras 3 backend: IR graph -> ``keras.Model`` with its weights assigned.

Importing this package imports keras and registers interlayer's few custom layers for ``keras.saving``.
"""
from . import layers
from .build import BuildContext, Held, build, predict, prefers, run_native

__all__ = ["BuildContext", "Held", "build", "layers", "predict", "prefers", "run_native"]
