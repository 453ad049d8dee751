"""The numpy reference interpreter: the oracle that every frontend and backend is tested against."""
from .interpreter import KERNELS, load_kernels, run

__all__ = ["KERNELS", "load_kernels", "run"]
