"""Dtype names and widths: one table for framework readings and file readers.

Example:
    >>> dtype_name("torch.bfloat16"), bytes_per_element("bfloat16"), nbytes(64, "int4")
    ('bfloat16', 2, 32)
"""
from __future__ import annotations

# bytes per element (sub-byte dtypes: a fraction)
DTYPE_BYTES: dict[str, float] = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2,
    "float8_e4m3fn": 1, "float8_e5m2": 1, "float8_e4m3fnuz": 1, "float8_e5m2fnuz": 1, "float8_e8m0fnu": 1,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint64": 8, "uint32": 4, "uint16": 2, "uint8": 1,
    "bool": 1, "complex64": 8, "complex128": 16,
    "int4": 0.5, "uint4": 0.5, "float4_e2m1fn": 0.5,
}

ALIASES = {"float": "float32", "half": "float16", "double": "float64", "long": "int64", "int": "int32",
           "fp32": "float32", "fp16": "float16", "bf16": "bfloat16", "f32": "float32", "f16": "float16",
           "fp8": "float8_e4m3fn", "float8": "float8_e4m3fn"}


def dtype_name(raw: str) -> str | None:
    """A canonical dtype name, or None when unknown."""
    name = str(raw).lower().removeprefix("torch.")
    name = ALIASES.get(name, name)
    return name if name in DTYPE_BYTES else None


def nbytes(elements: int, dtype: str) -> int:
    """Bytes for ``elements`` values of ``dtype`` (sub-byte dtypes round up)."""
    return int(-(-elements * DTYPE_BYTES[dtype] // 1))


def bytes_per_element(dtype: str) -> float | None:
    """The width of a dtype in bytes, or None when unknown (a quantized block format)."""
    name = dtype_name(dtype)
    return None if name is None else DTYPE_BYTES[name]
