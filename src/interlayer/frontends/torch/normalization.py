"""Torch frontend converters: normalization ops."""
from __future__ import annotations
