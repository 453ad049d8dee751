"""Torch backend converters: algebra ops."""
from __future__ import annotations
