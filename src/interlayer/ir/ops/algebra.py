"""Element-wise arithmetic with broadcasting and constants, matmul, reductions, stack and split."""
from __future__ import annotations
