"""Torch frontend converters: algebra ops."""
from __future__ import annotations
