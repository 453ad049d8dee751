"""Torch backend converters: normalization ops."""
from __future__ import annotations
