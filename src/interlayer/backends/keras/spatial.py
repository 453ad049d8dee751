"""Keras backend converters: spatial ops."""
from __future__ import annotations
