"""Normalisation over groups of channels or chosen axes: group_norm, layer_norm."""
from __future__ import annotations
