"""Reference kernels: group_norm, layer_norm."""
from __future__ import annotations

import numpy as np

from .interpreter import kernel
