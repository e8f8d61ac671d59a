"""Count parameters from metadata and checkpoint files, without loading the weights.

:func:`count_file` accepts a shape list (JSON/YAML), safetensors (one file, a sharded set's
``*.index.json``, or a folder), PyTorch ``.pt``/``.bin``, Keras ``.weights.h5`` and
``.keras``, Flax msgpack, GGUF and ONNX. See :mod:`paramspec.files.rules` for what decides
state, ties and packing where a file does not mark them itself.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import yamlio
from ..errors import FileFormatError, SpecError
from . import readers, rules
from .model import FileCount, FileTensor, human, human_bytes

__all__ = ["FileCount", "FileTensor", "count_file", "human", "human_bytes"]


def _hf_config(folder: Path) -> dict[str, Any]:
    p = folder / "config.json"
    if not p.is_file():
        return {}
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FileFormatError("is not JSON", str(p)) from None
    return cfg if isinstance(cfg, dict) else {}


def _apply_hf(tensors: list[FileTensor], cfg: dict[str, Any], notes: list[str]) -> None:
    """Hugging Face's ties (tie_word_embeddings) and GPTQ/AWQ packing, from config.json."""
    if not cfg:
        return
    tie = cfg.get("tie_word_embeddings", rules.HF_TIE_DEFAULT.get(cfg.get("model_type"), False))
    by_name = {t.name: t for t in tensors}
    if tie:
        for head, embeds in rules.HF_TIED.items():
            h = by_name.get(head)
            e = next((by_name[n] for n in embeds if n in by_name), None)
            if h is not None and e is not None and h.shape == e.shape and not h.tied_to:
                h.tied_to = e.name
                notes.append(f"{head} is tied to {e.name} (config.json: tie_word_embeddings)")
    q = cfg.get("quantization_config") or {}
    bits = q.get("bits") if isinstance(q, dict) else None
    if isinstance(bits, int) and bits in (2, 3, 4, 8):
        for t in tensors:
            if t.name.endswith((".qweight", ".qzeros")) and t.dtype == "int32":
                t.elements = t.elements * 32 // bits
                t.packing = f"int32 packs {32 // bits} x int{bits} ({q.get('quant_method', 'gptq')})"
        notes.append(f"{q.get('quant_method', 'quantized')} {bits}-bit: qweight/qzeros count unpacked values")


def count_file(path: str | Path) -> FileCount:
    """Count the parameters a file declares.

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
        for candidate in ("model.safetensors.index.json", "model.safetensors", "pytorch_model.bin",
                          "model.weights.h5", "flax_model.msgpack", "model.onnx"):
            if (p / candidate).is_file():
                p = p / candidate
                break
        else:
            raise FileFormatError("holds no model file (model.safetensors[.index.json], pytorch_model.bin, ...)", where)
        where = str(p)
    name = p.name.lower()
    state_known = True
    if name.endswith(".safetensors.index.json"):
        fmt, tensors = "safetensors (sharded)", readers.read_safetensors_index(p)
    elif name.endswith(".safetensors"):
        fmt = "safetensors"
        tensors, _meta = readers.read_safetensors(p)
    elif name.endswith((".json", ".yaml", ".yml")):
        fmt = "shape list"
        data = yamlio.load_path(p)
        try:
            tensors = readers.read_shape_list(data, where)
        except SpecError:
            raise
    elif name.endswith((".pt", ".pth", ".bin", ".ckpt")):
        fmt = "PyTorch"
        tensors, extra = readers.read_torch(p)
        notes += extra
    elif name.endswith(".keras"):
        fmt = "Keras archive"
        tensors, state_known, extra = readers.read_keras_archive(p)
        notes += extra
    elif name.endswith(".h5"):
        fmt = "Keras weights (HDF5)"
        tensors = readers.read_keras_h5(str(p), where)
        state_known = False
        notes.append("a bare .weights.h5 does not record which variables are trainable: parameters here "
                     "include any state; count the .keras archive to separate it")
    elif name.endswith(".msgpack"):
        fmt = "Flax msgpack"
        tensors, state_known, extra = readers.read_flax_msgpack(p)
        notes += extra
    elif name.endswith(".gguf"):
        fmt = "GGUF"
        tensors, extra = readers.read_gguf(p)
        notes += extra
    elif name.endswith(".onnx"):
        fmt = "ONNX"
        tensors = readers.read_onnx(p)
    else:
        raise FileFormatError("has an unknown format (by its name: .safetensors, .pt, .bin, .h5, .keras, "
                              ".msgpack, .gguf, .onnx, .json, .yaml)", where)
    if not state_known:
        for t in tensors:
            t.state, t.why_state = False, ""
    _apply_hf(tensors, _hf_config(folder), notes)
    return FileCount(str(path), fmt, tensors, notes, state_known)
