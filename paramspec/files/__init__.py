"""Read the tensors a metadata or checkpoint file declares, without loading the weights.

:func:`read_file` accepts a shape list (JSON/YAML), safetensors (one file, a sharded set's
``*.index.json``, or a folder), PyTorch ``.pt``/``.bin``, Keras ``.weights.h5`` and
``.keras``, Flax msgpack, GGUF and ONNX. See :mod:`paramspec.files.rules` for what decides
state, ties and packing where a file does not mark them itself.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import yamlio
from ..errors import FileFormatError
from ..reading import Reading, Source, Tensor
from . import ggml, quantized, readers, rules
from .quantization import Quantization

__all__ = ["FileReading", "read_file"]


@dataclass
class FileReading(Reading):
    """A file's reading, with the quantization part of a quantized file (None otherwise)."""

    quantization: Quantization | None = None


def _hf_config(folder: Path) -> dict[str, Any]:
    p = folder / "config.json"
    if not p.is_file():
        return {}
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FileFormatError("is not JSON", str(p)) from None
    return cfg if isinstance(cfg, dict) else {}


def _apply_hf(tensors: list[Tensor], ties: readers.Ties, cfg: dict[str, Any], notes: list[str]) -> list[Tensor]:
    """Hugging Face's ties (tie_word_embeddings), from config.json."""
    if not cfg:
        return tensors
    tie = cfg.get("tie_word_embeddings", rules.HF_TIE_DEFAULT.get(cfg.get("model_type"), False))
    by_name = {t.name: t for t in tensors}
    if tie:
        for head, embeds in rules.HF_TIED.items():
            h = by_name.get(head)
            e = next((by_name[n] for n in embeds if n in by_name), None)
            if h is not None and e is not None and h.shape == e.shape and head not in ties:
                ties[head] = e.name
                notes.append(f"{head} is tied to {e.name} (config.json: tie_word_embeddings)")
    return tensors


def _fold_ties(tensors: list[Tensor], ties: readers.Ties) -> list[Tensor]:
    """Each alias leaves the list and joins its tensor's ``shared_with`` (counted once)."""
    aliases: dict[str, list[str]] = {}
    for alias, name in ties.items():
        aliases.setdefault(name, []).append(alias)
    return [dataclasses.replace(t, shared_with=(*t.shared_with, *aliases[t.name])) if t.name in aliases else t
            for t in tensors if t.name not in ties]


_FORMATS = (  # (name ending, format): the first that matches
    (".safetensors.index.json", "safetensors (sharded)"), (".safetensors", "safetensors"),
    (".json", "shape list"), (".yaml", "shape list"), (".yml", "shape list"),
    (".pt", "PyTorch"), (".pth", "PyTorch"), (".bin", "PyTorch"), (".ckpt", "PyTorch"),
    (".keras", "Keras archive"), (".h5", "Keras weights (HDF5)"), (".msgpack", "Flax msgpack"),
    (".gguf", "GGUF"), (".onnx", "ONNX"),
)
_FOLDER_FILES = ("model.safetensors.index.json", "model.safetensors", "pytorch_model.bin", "model.weights.h5",
                 "flax_model.msgpack", "model.onnx")


def read_file(path: str | Path) -> FileReading:
    """Read the tensors a file declares (see :func:`paramspec.count_file`). A quantized file's
    weights count their logical elements, and its quantization metadata none; the reading's
    ``quantization`` says how (:mod:`paramspec.files.quantized`).

    Raises:
        FileFormatError: one line, the file and what is wrong; nothing in the file runs.
    """
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise FileFormatError("does not exist", where)
    notes: list[str] = []
    folder = p if p.is_dir() else p.parent
    if p.is_dir():
        found = next((p / c for c in _FOLDER_FILES if (p / c).is_file()), None)
        if found is None:
            raise FileFormatError("holds no model file (model.safetensors[.index.json], pytorch_model.bin, ...)", where)
        p, where = found, str(found)
    name = p.name.lower()
    fmt = next((f for end, f in _FORMATS if name.endswith(end)), None)
    if fmt is None:
        raise FileFormatError("has an unknown format (by its name: .safetensors, .pt, .bin, .h5, .keras, "
                              ".msgpack, .gguf, .onnx, .json, .yaml)", where)
    state_known = True
    ties: readers.Ties = {}
    locations: readers.Locations = {}
    metadata: dict[str, str] = {}
    quant: Quantization | None = None
    checkpoint = fmt in ("safetensors (sharded)", "safetensors", "PyTorch")
    if fmt == "safetensors (sharded)":
        tensors = readers.read_safetensors_index(p, locations, metadata)
    elif fmt == "safetensors":
        tensors, metadata = readers.read_safetensors(p, locations)
    elif fmt == "shape list":
        tensors, ties = readers.read_shape_list(yamlio.load_path(p), where)
    elif fmt == "PyTorch":
        tensors, ties, extra = readers.read_torch(p)
        notes += extra
    elif fmt == "Keras archive":
        tensors, state_known, extra = readers.read_keras_archive(p)
        notes += extra
    elif fmt == "Keras weights (HDF5)":
        tensors = readers.read_keras_h5(str(p), where)
        state_known = False
        notes.append("a bare .weights.h5 does not record which variables are trainable: parameters here "
                     "include any state; count the .keras archive to separate it")
    elif fmt == "Flax msgpack":
        tensors, state_known, extra = readers.read_flax_msgpack(p)
        notes += extra
    elif fmt == "GGUF":
        tensors, extra, quant = ggml.read_gguf(p)
        notes += extra
    else:
        tensors, quant = readers.read_onnx(p)
    if not state_known:
        tensors = [dataclasses.replace(t, trainable=True, why_state="") for t in tensors]
    cfg = _hf_config(folder)
    if checkpoint:
        tensors, quant = quantized.recognize(
            tensors, config=cfg, quantize_config=quantized.read_quantize_config(folder), metadata=metadata,
            small=(lambda name: readers.read_small(locations, name)) if locations else None, where=where)
    if quant is not None:
        notes.append(f"quantized ({quant.label}): parameters count each weight's logical elements; the "
                     f"quantization metadata ({quant.metadata_elements:,} elements) is counted apart")
    tensors = _fold_ties(_apply_hf(tensors, ties, cfg, notes), ties)
    return FileReading(Source("file", fmt), str(path), tensors, notes=notes, state_known=state_known,
                       quantization=quant)
