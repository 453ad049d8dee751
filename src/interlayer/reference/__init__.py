"""The numpy reference interpreter: the oracle that every frontend and backend is tested against."""
from .interpreter import KERNELS, run

__all__ = ["KERNELS", "run"]
