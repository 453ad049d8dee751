"""Reference kernels: arithmetic, matmul, reductions, stack, split."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel
