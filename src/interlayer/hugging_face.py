"""Hugging Face folders as sources: what ``save_pretrained`` writes (``config.json`` and safetensors weights).

The model is made by transformers' Auto classes from the folder alone (``local_files_only``: nothing is fetched),
its weights loaded from the folder's safetensors files (a pickled ``pytorch_model.bin`` is never read), and it is
exported on inputs that fit its config: token ids (``input_ids``, with ``decoder_input_ids`` for an
encoder-decoder) with the batch and sequence generic, images (``pixel_values`` of the config's channels and
size, batch, height and width generic where the model allows), audio (``input_values``) or spectrogram features
(``input_features`` of the config's mel bins and the length the encoder expects).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import SourceError


def is_folder(spec: Any) -> bool:
    """A folder holding ``config.json`` (what ``save_pretrained`` writes)."""
    return isinstance(spec, (str, os.PathLike)) and Path(spec).is_dir() and (Path(spec) / "config.json").is_file()


def load(folder: str | os.PathLike) -> Any:
    """The model of a Hugging Face folder, its weights from the folder's safetensors files, in eval mode."""
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise SourceError(f"source '{folder}': config.json cannot be read ({exc}). Expected the JSON that "
                          f"save_pretrained writes.") from exc
    if not isinstance(config, dict) or "model_type" not in config:
        raise SourceError(f"source '{folder}': config.json names no model_type. Expected a Hugging Face model "
                          f"folder (what save_pretrained writes).")
    if not any(folder.glob("*.safetensors")):
        raise SourceError(f"source '{folder}': no safetensors weights. Expected model.safetensors (or shards) "
                          f"beside config.json; interlayer never unpickles pytorch_model.bin. Save the model with "
                          f"save_pretrained(..., safe_serialization=True).")
    try:
        import transformers
    except ImportError as exc:
        raise SourceError(f"source '{folder}': a Hugging Face folder needs transformers. Expected it installed "
                          f"(pip install transformers).") from exc
    try:
        model = transformers.AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)
    except Exception as exc:  # transformers raises many types for a folder it cannot use
        raise SourceError(f"source '{folder}': transformers cannot make the model from it ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}).") from exc
    return model.eval()


def example_inputs(model) -> list[str]:
    """Input specs that fit the model's config (``inputs.py`` reads them)."""
    config = model.config
    main = getattr(model, "main_input_name", "input_ids")
    if main == "input_ids":
        specs = ["input_ids:int64[N,T=9]"]
        if getattr(config, "is_encoder_decoder", False):
            specs.append("decoder_input_ids:int64[N,S=5]")
        return specs
    if main == "pixel_values":
        size = getattr(config, "image_size", 224)
        size = size[0] if isinstance(size, (list, tuple)) else size
        channels = getattr(config, "num_channels", 3)
        return [f"pixel_values:float32[N,{channels},?={size},?={size}]"]
    if main == "input_values":
        return ["input_values:float32[N,L=16000]"]
    if main == "input_features":
        bins = getattr(config, "num_mel_bins", 80)
        length = 2 * getattr(config, "max_source_positions", 1500)
        return [f"input_features:float32[N,{bins},{length}]"]
    raise SourceError(f"Hugging Face model {type(model).__name__}: its input '{main}' has no default. Expected "
                      f"input_ids, pixel_values, input_values or input_features. Give the inputs as specs "
                      f"(--input name:dtype[axes]).")
