"""Reference kernels: transposed convolution, resize."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel
