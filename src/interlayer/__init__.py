"""interlayer: move trained neural networks between frameworks through one framework-neutral IR.

``import interlayer`` imports no framework; each frontend and backend imports its own when first used.
"""
__version__ = "0.1.0"

from . import errors
from .api import build, convert, export, load, run, save
from .ir.graph import Graph
from .registry import register
from .transfer import transfer  # noqa: E402  (the function; interlayer.transfer.transfer_file stays importable)
from .verify import verify

__all__ = ["Graph", "build", "convert", "errors", "export", "load", "register", "run", "save", "transfer", "verify",
           "__version__"]
