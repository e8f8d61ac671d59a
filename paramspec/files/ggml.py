"""GGUF files: the header walk, the tensors, and each ggml type's block (values) and its bytes; a GGUF file's
quantization part.

The table is the ``gguf`` package's own (``gguf.GGML_QUANT_SIZES``: ``Q4_0`` is 32 values in
18 bytes, ``Q4_K`` 256 in 144, ``F16`` 1 in 2). A quantized tensor's stored shape is its rows
of bytes, as ``gguf.GGUFReader`` exposes them (``(rows, row_bytes)`` uint8); its logical shape
is the dims the header declares, in numpy order. A row that is not a whole number of blocks,
a type id the table does not know and data that runs past the end are bad input.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from ..errors import FileFormatError
from ..reading import Tensor
from .quantization import WEIGHT, Quantization, summarize
from .readers import _check_shape, _tensor

__all__ = ["PLAIN", "check_info", "gguf_tensor", "quantization", "read_gguf"]

PLAIN = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64",
         "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64"}  # ggml types that are plain dtypes


def _sizes() -> dict[int, tuple[str, int, int]]:
    """ggml type id -> (name, values a block, bytes a block), from the gguf package."""
    import gguf

    return {int(t): (t.name, block, size) for t, (block, size) in gguf.GGML_QUANT_SIZES.items()}


def check_info(name: str, dims: list[int], type_id: int, where: str) -> int:
    """A tensor info from a GGUF header: a known type, whole blocks a row. Returns its bytes."""
    sizes = _sizes()
    if type_id not in sizes:
        raise FileFormatError(f"tensor {name!r} has an unknown ggml type {type_id} (known: "
                              f"{', '.join(str(k) for k in sorted(sizes))})", where)
    tname, block, size = sizes[type_id]
    if dims and block > 1 and dims[0] % block:
        raise FileFormatError(f"tensor {name!r} has rows of {dims[0]:,} values, not whole {tname} blocks of "
                              f"{block} (a truncated block)", where)
    return math.prod(dims) // block * size


def gguf_tensor(t: Any, file_size: int, where: str, make: Any) -> Tensor:
    """A ``gguf.ReaderTensor`` as a Tensor: plain types as they are; quantized ones with their
    stored rows of bytes as the shape and the declared dims as the logical shape."""
    sizes = _sizes()
    tname, block, size = sizes[int(t.tensor_type)]
    dims = [int(d) for d in t.shape]  # ggml order: the fastest-moving dim first
    logical = tuple(reversed(dims))
    n = math.prod(dims)
    nbytes = n // block * size
    if int(t.n_bytes) != nbytes:
        raise FileFormatError(f"tensor {t.name!r} declares {int(t.n_bytes):,} bytes, but {list(logical)} {tname} "
                              f"needs {nbytes:,}", where)
    if int(t.data_offset) + nbytes > file_size:
        raise FileFormatError(f"tensor {t.name!r} runs past the end of the file ({int(t.data_offset) + nbytes:,} > "
                              f"{file_size:,} bytes: a truncated block)", where)
    if tname in PLAIN:
        return make(t.name, logical, PLAIN[tname], nbytes, elements=n)
    stored = (*logical[:-1], logical[-1] // block * size) if logical else (nbytes,)
    out = make(t.name, stored, tname.lower(), nbytes, elements=n,
               packing=f"{tname}: blocks of {block} values in {size} bytes")
    return dataclasses.replace(out, logical_shape=logical, quant_role=WEIGHT)


def quantization(tensors: list[Tensor], fields: dict[str, Any]) -> Quantization | None:
    """The part for a GGUF file with quantized tensors (None when it has none)."""
    if not any(t.quant_role == WEIGHT for t in tensors):
        return None
    settings: dict[str, Any] = {}
    fmt = ""
    ftype = fields.get("general.file_type")
    if isinstance(ftype, int):
        import gguf

        try:
            fmt = gguf.LlamaFileType(ftype).name
        except ValueError:
            fmt = f"file type {ftype}"
    qv = fields.get("general.quantization_version")
    if isinstance(qv, int):
        settings["quantization_version"] = qv
    q = summarize("gguf", tensors, format=fmt, settings=settings,
                  declared_in="the GGUF header" + (" (general.file_type)" if fmt else ""),
                  notes=["GGUF blocks hold their scales inline: they are in the weights' bytes"])
    if len(q.types) == 1:
        q.settings["type"] = next(iter(q.types))
    return q


_GGUF_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}  # fixed-size value types
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def _check_gguf_header(f: Any, size: int, where: str) -> None:
    """Walk a GGUF header (version, counts, every key/value and tensor info) seeking past the
    data, and refuse any count or length that the bytes left cannot hold, before the ``gguf``
    package sees the file: a flipped bit in a count made it allocate gigabytes."""
    def u(n: int) -> int:
        b = f.read(n)
        if len(b) != n:
            raise FileFormatError("is truncated (the GGUF header runs past the end)", where)
        return int.from_bytes(b, "little")

    def left() -> int:
        return size - f.tell()

    def skip(n: int, what: str) -> None:
        if n > left():
            raise FileFormatError(f"has a GGUF {what} of {n:,} bytes, more than the {left():,} left", where)
        f.seek(n, 1)

    def value(vtype: int, depth: int = 0) -> None:
        if vtype in _GGUF_SIZES:
            skip(_GGUF_SIZES[vtype], "value")
        elif vtype == _GGUF_STRING:
            skip(u(8), "string")
        elif vtype == _GGUF_ARRAY and depth == 0:
            item, count = u(4), u(8)
            if item in _GGUF_SIZES:
                skip(count * _GGUF_SIZES[item], "array")
            elif count * 8 > left():  # strings and nested arrays: each at least 8 bytes
                raise FileFormatError(f"has a GGUF array of {count:,} items, more than the file can hold", where)
            else:
                for _ in range(count):
                    value(item, depth + 1)
        else:
            raise FileFormatError(f"has an unknown GGUF value type {vtype}", where)

    version = u(4)
    if version not in (2, 3):
        raise FileFormatError(f"has GGUF version {version}; this reader knows 2 and 3", where)
    n_tensors, n_kv = u(8), u(8)
    if n_kv * 13 > left() or n_tensors * 24 > left():  # the smallest key/value and tensor info
        raise FileFormatError(f"claims {n_tensors:,} tensors and {n_kv:,} keys, more than its "
                              f"{size:,} bytes can hold", where)
    alignment = 32  # GGUF's default; general.alignment overrides it
    for _ in range(n_kv):
        n = u(8)
        if n > 64 or n > left():
            skip(n, "key")
            value(u(4))
            continue
        key, vtype = f.read(n), u(4)
        if key == b"general.alignment" and vtype == 4:  # uint32
            alignment = u(4) or 1
        else:
            value(vtype)
    spans = []
    for _ in range(n_tensors):
        n = u(8)
        if n > min(left(), 1 << 16):
            raise FileFormatError(f"has a GGUF tensor name of {n:,} bytes, more than the {left():,} left", where)
        name = f.read(n).decode("utf-8", "replace")
        n_dims = u(4)
        if n_dims > 8:
            raise FileFormatError(f"has a GGUF tensor of {n_dims:,} dimensions", where)
        dims = [u(8) for _ in range(n_dims)]
        type_id = u(4)
        spans.append((name, u(8), check_info(name, dims, type_id, where)))
    start = -(-f.tell() // alignment) * alignment
    for name, offset, nbytes in spans:
        if start + offset + nbytes > size:
            raise FileFormatError(f"tensor {name!r} runs past the end of the file ({start + offset + nbytes:,} > "
                                  f"{size:,} bytes: a truncated block)", where)


def read_gguf(path: Path) -> tuple[list[Tensor], list[str], Quantization | None]:
    """A GGUF file through the ``gguf`` package (memory-mapped; tensor infos only)."""
    where = str(path)
    try:
        import gguf
    except ImportError:
        raise FileFormatError("reading GGUF needs the gguf package: pip install gguf", where) from None
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise FileFormatError("is not a GGUF file (no GGUF magic)", where)
        _check_gguf_header(f, path.stat().st_size, where)
    try:
        reader = gguf.GGUFReader(str(path), "r")
    except Exception as e:
        raise FileFormatError(f"is not a readable GGUF file ({type(e).__name__}: {str(e)[:120]})", where) from None
    size = path.stat().st_size
    out = []
    for t in reader.tensors:
        _check_shape([int(d) for d in t.shape], t.name, where)
        out.append(gguf_tensor(t, size, where, _tensor))
    fields = {}
    for key in ("general.file_type", "general.quantization_version"):
        field = reader.fields.get(key)
        if field is not None and field.types and field.types[0] in (gguf.GGUFValueType.UINT32, gguf.GGUFValueType.INT32):
            fields[key] = int(field.parts[field.data[0]][0])
    notes = ["quantized GGUF tensors count their logical (unpacked) elements"] if any(t.packing for t in out) else []
    return out, notes, quantization(out, fields)
