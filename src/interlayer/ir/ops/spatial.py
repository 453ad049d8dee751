"""Spatial ops beyond convolution and pooling: transposed convolution and resizing."""
from __future__ import annotations
