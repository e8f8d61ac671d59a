"""A quantized file's part of its record: the method, its settings, and what the storage costs.

A quantized checkpoint stores packed integers (GPTQ's int32 ``qweight``, bitsandbytes' uint8
pairs of nf4 values, GGUF's blocks) beside the numbers needed to turn them back into weights
(scales, zero points, ``g_idx``, absmax, quant maps). The file readers give each quantized
weight its logical element count (each original weight element once, so the record's
``params`` is the model's) and mark the rest as quantization metadata, which holds no weight
element; this part sums both, as elements and bytes, and gives the bits each weight costs.

Example:
    >>> r = paramspec.count_file("Llama-GPTQ/")
    >>> q = r.quantization
    >>> q.method, q.settings["bits"], q.weight_elements, round(q.bits_per_weight, 2)
    ('gptq', 4, 491520, 4.32)
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..reading import Tensor

__all__ = ["METADATA", "WEIGHT", "Quantization", "summarize"]

WEIGHT, METADATA = "weight", "metadata"  # a Tensor's quant_role


@dataclass
class Quantization:
    """How a file is quantized, and what its quantized weights cost.

    Attributes:
        method: ``gptq``, ``awq``, ``bitsandbytes``, ``mxfp4``, ``compressed-tensors``, ``fp8``,
            ``gguf``, ``onnx-matmulnbits`` or ``onnx-qdq``.
        format: the method's layout (``gemm``, ``gemv``, ``nf4``, ``int8``, ``pack-quantized``,
            the GGUF file type), where it has one.
        settings: bits, group_size, symmetric, act_order, double_quant, block sizes..., as the
            file declares them (or as its tensors show them, where it declares nothing).
        declared_in: where the settings come from (``config.json quantization_config``,
            ``quantize_config.json``, ``safetensors metadata``, ``the tensors``).
        weights: how many weights are quantized.
        weight_elements: their logical elements (each original weight element once).
        weight_bytes: the bytes the file stores for them (packed values; GGUF's blocks, which
            hold their scales inline).
        metadata_elements, metadata_bytes: the quantization metadata's stored elements and bytes.
        metadata_kinds: the metadata by kind (``scales``, ``zero points``, ``g_idx``...):
            ``{"elements", "bytes"}``.
        stored: every tensor of the file by stored dtype: ``{"elements", "bytes"}``, with the
            packed tensors' stored (not logical) elements.
        types: for GGUF, the quantized weights by ggml type: ``{"weights", "elements", "bytes"}``.
        notes: what the reader decided on the way.
    """

    method: str
    format: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    declared_in: str = ""
    weights: int = 0
    weight_elements: int = 0
    weight_bytes: int = 0
    metadata_elements: int = 0
    metadata_bytes: int = 0
    metadata_kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    stored: dict[str, dict[str, int]] = field(default_factory=dict)
    types: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def bits_per_weight(self) -> float | None:
        """The quantized weights' bytes and their metadata's, × 8, over their logical elements
        (GPTQ 4-bit, groups of 128, act order: 4.32; GGUF Q4_0: 4.5, its scales inside its blocks)."""
        if not self.weight_elements:
            return None
        return (self.weight_bytes + self.metadata_bytes) * 8 / self.weight_elements

    @property
    def value_bits(self) -> float | None:
        """The quantized weights' own bytes × 8 over their logical elements, metadata aside
        (GPTQ 4-bit: 4.0)."""
        return self.weight_bytes * 8 / self.weight_elements if self.weight_elements else None

    @property
    def label(self) -> str:
        """``gptq (4-bit, group_size 128, act_order)``."""
        parts = [f"{self.settings['bits']}-bit"] if isinstance(self.settings.get("bits"), int) else []
        parts += [f"{k} {v}" for k, v in self.settings.items()
                  if k not in ("bits",) and not isinstance(v, (bool, dict, list)) and v is not None]
        parts += [k for k, v in self.settings.items() if v is True]
        name = f"{self.method} {self.format}".strip()
        return f"{name} ({', '.join(parts)})" if parts else name

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape; ``bits_per_weight`` and ``value_bits`` are derived (for readers)."""
        return {"method": self.method, "format": self.format, "settings": dict(self.settings),
                "declared_in": self.declared_in, "weights": self.weights, "weight_elements": self.weight_elements,
                "weight_bytes": self.weight_bytes, "metadata_elements": self.metadata_elements,
                "metadata_bytes": self.metadata_bytes, "metadata_kinds": {k: dict(v) for k, v in
                                                                         self.metadata_kinds.items()},
                "stored": {k: dict(v) for k, v in self.stored.items()},
                "types": {k: dict(v) for k, v in self.types.items()}, "notes": list(self.notes),
                "bits_per_weight": self.bits_per_weight, "value_bits": self.value_bits}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Quantization":
        return cls(method=d["method"], format=d.get("format", ""), settings=dict(d.get("settings") or {}),
                   declared_in=d.get("declared_in", ""), weights=d.get("weights", 0),
                   weight_elements=d.get("weight_elements", 0), weight_bytes=d.get("weight_bytes", 0),
                   metadata_elements=d.get("metadata_elements", 0), metadata_bytes=d.get("metadata_bytes", 0),
                   metadata_kinds={k: dict(v) for k, v in (d.get("metadata_kinds") or {}).items()},
                   stored={k: dict(v) for k, v in (d.get("stored") or {}).items()},
                   types={k: dict(v) for k, v in (d.get("types") or {}).items()}, notes=list(d.get("notes") or []))


def stored_elements(t: Tensor) -> int:
    """The elements a file stores for a tensor (its stored shape's product)."""
    return math.prod(t.shape)


def summarize(method: str, tensors: Iterable[Tensor], *, format: str = "", settings: dict[str, Any] | None = None,
              declared_in: str = "", kinds: dict[str, str] | None = None, notes: Iterable[str] = ()) -> Quantization:
    """The part, summed from tensors whose ``quant_role`` the recognizer set.

    Args:
        kinds: a metadata tensor's name -> its kind (``scales``, ``zero points``...).
    """
    q = Quantization(method, format, dict(settings or {}), declared_in, notes=list(notes))
    kinds = kinds or {}
    for t in tensors:
        nbytes = t.nbytes or 0
        s = q.stored.setdefault(t.dtype, {"elements": 0, "bytes": 0})
        s["elements"] += stored_elements(t)
        s["bytes"] += nbytes
        if t.quant_role == WEIGHT:
            q.weights += 1
            q.weight_elements += t.numel
            q.weight_bytes += nbytes
            if method == "gguf":
                g = q.types.setdefault(t.dtype, {"weights": 0, "elements": 0, "bytes": 0})
                g["weights"] += 1
                g["elements"] += t.numel
                g["bytes"] += nbytes
        elif t.quant_role == METADATA:
            q.metadata_elements += stored_elements(t)
            q.metadata_bytes += nbytes
            k = q.metadata_kinds.setdefault(kinds.get(t.name, "other"), {"elements": 0, "bytes": 0})
            k["elements"] += stored_elements(t)
            k["bytes"] += nbytes
    return q
