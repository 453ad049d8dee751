"""``transfer_file``: what ``interlayer transfer SRC --into DST -o OUT`` does, as a Python API."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InterlayerError
from ..files import atomic_file
from ..outputs import check_output
from .core import transfer
from .report import TransferError, TransferReport

OUTPUTS = {"keras": (".keras",), "torch": (".safetensors", ".pt", ".pth")}


def transfer_file(source_spec: Any, destination_spec: str | os.PathLike, output: str | os.PathLike, *,
                  hints: dict[str, str] | None = None, weights: str | os.PathLike | None = None,
                  example_inputs: Any = None, overwrite: bool = False, verify: bool = True) -> TransferReport:
    """Transfer the weights of ``source_spec`` into the model ``destination_spec`` and write it to ``output``.

    ``source_spec``: anything :func:`transfer` accepts; with ``weights``, a ``package.module:factory`` or a Keras
    model file whose weights (a PyTorch state dict, a Keras ``.weights.h5``) are loaded first.
    ``destination_spec``: a ``.keras``/``.h5`` file or a ``package.module:factory``. ``output``: a ``.keras``
    file for a Keras destination; a ``.safetensors`` state dict or a ``.pt``/``.pth`` state dict (readable with
    ``torch.load(weights_only=True)``) for a PyTorch one. It is written through a temporary file in its folder
    and never replaces an existing file unless ``overwrite``.
    """
    from ..api import framework_of
    from ..sources import load_model

    output = Path(output)
    check_output("transfer", output, [source_spec, destination_spec, weights])
    _refuse_existing(output, overwrite)
    source = _source(source_spec, weights)
    destination = load_model(destination_spec)
    framework = framework_of(destination)
    if framework not in OUTPUTS or output.suffix.lower() not in OUTPUTS[framework]:
        raise TransferError(f"transfer: the output '{output}' does not fit a {framework} destination. Expected a "
                            f"suffix in {list(OUTPUTS.get(framework, ()))}. Received: suffix={output.suffix!r}.")
    report = transfer(source, destination, hints=hints, example_inputs=example_inputs, verify=verify)
    _write(destination, framework, output, overwrite)
    report.output = str(output)
    return report


def _refuse_existing(output: Path, overwrite: bool) -> None:
    if output.exists() and not overwrite:
        raise _exists(output)


def _exists(output: Path) -> InterlayerError:
    return InterlayerError(f"transfer: the output '{output}' exists. Expected a new file. Received: an existing "
                           f"file. Pass overwrite=True (--force) to replace it.")


def _source(spec: Any, weights: str | os.PathLike | None) -> Any:
    from ..sources import KERAS_SUFFIXES, _load_weights, is_factory, load_model

    if weights is None:
        return spec
    if isinstance(spec, (str, os.PathLike)) and is_factory(spec):
        return load_model(spec, weights)
    if isinstance(spec, (str, os.PathLike)) and Path(spec).suffix.lower() in KERAS_SUFFIXES:
        model = load_model(spec)
        _load_weights(model, Path(weights))
        return model
    raise TransferError(f"transfer: weights= gives a source architecture its weights. Expected a factory "
                        f"package.module:function or a Keras model file as the source. Received: {spec!r}.")


def _write(model: Any, framework: str, output: Path, overwrite: bool) -> None:
    with atomic_file(output, overwrite=overwrite, exists=lambda: _exists(output)) as temporary:
        if framework == "keras":
            model.save(temporary)
            perms = getattr(model, "_interlayer_perms", None)
            if perms is not None:
                from ..frontends.keras.files import write_layouts

                write_layouts(temporary, perms)
        else:
            _save_state(model, temporary)


def _save_state(model: Any, path: Path) -> None:
    """The state dict, each tensor a contiguous copy (safetensors refuses tensors sharing memory)."""
    import torch

    state = {key: value.detach().cpu().clone().contiguous() for key, value in model.state_dict().items()}
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path)
