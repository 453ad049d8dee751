"""ONNX files as sources: ``load_model(path)`` reads a ``.onnx`` file with its external data and checks it.

A failure says which it is: no such file, not an ONNX protobuf, external data missing beside it, or a model
``onnx.checker`` rejects.
"""
from __future__ import annotations

from pathlib import Path

import onnx

from ...errors import SourceError

_PROTOBUF_LIMIT = 2**31 - 1


def load_model(path: str | Path) -> onnx.ModelProto:
    """The checked ``onnx.ModelProto`` saved at ``path``, external data loaded; a :class:`SourceError` saying why
    it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"source '{path}': no such file. Expected an .onnx file.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and others for a file that is not a model
        raise SourceError(f"source '{path}': not an ONNX model file. Expected a serialized onnx.ModelProto "
                          f"(written by onnx.save or an exporter). Received: a file protobuf cannot parse "
                          f"({type(exc).__name__}: {_first_line(exc)}).") from exc
    if not model.graph.node and not model.graph.output:
        raise SourceError(f"source '{path}': not an ONNX model file. Expected a serialized onnx.ModelProto with a "
                          f"graph. Received: a protobuf message without nodes or outputs.")
    try:
        onnx.load_external_data_for_model(model, str(path.parent))
    except Exception as exc:
        raise SourceError(f"source '{path}': its external data cannot be read. Expected the tensor files the model "
                          f"names beside it in '{path.parent}'. Received: {type(exc).__name__}: {_first_line(exc)}. "
                          f"Copy the data files next to the model") from exc
    try:
        if model.ByteSize() < _PROTOBUF_LIMIT:
            onnx.checker.check_model(model)
        else:  # too large for one protobuf message: the checker reads the file itself
            onnx.checker.check_model(str(path))
    except onnx.checker.ValidationError as exc:
        raise SourceError(f"source '{path}': the model fails onnx.checker. Expected a valid ONNX model. Received: "
                          f"{_first_line(exc)}. Fix or re-export the file") from exc
    return model


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
