"""What a file reader yields, and the counts built from it.

A reader lists the file's tensors (name, shape, dtype, bytes) from its header or index,
never its weights, and marks what the file itself marks: state (a collection, a
framework's non-trainable flag) and ties (shared storage, declared aliases). Where the file
marks nothing, :mod:`paramspec.files.rules` decides by documented name rules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..reading import Tensor
from ..tree import module_tree

UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def human(n: float) -> str:
    """``124439808`` -> ``124.4M`` (K, M, B, T; powers of 1000, as model cards use)."""
    for size, unit in UNITS:
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return str(int(n))


def human_bytes(n: float) -> str:
    for size, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


@dataclass
class FileTensor:
    """One tensor as the file lists it.

    Attributes:
        elements: logical elements (for packed sub-byte tensors, the unpacked count).
        nbytes: bytes the file stores for it.
        state: True for non-trainable state (running statistics, index buffers).
        why_state: which marking or rule made it state.
        packing: how sub-byte values are packed, when they are (``2 x int4 per uint8``).
        tied_to: the name of the tensor it shares data with (counted once, there).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    elements: int = -1
    state: bool = False
    why_state: str = ""
    packing: str = ""
    tied_to: str = ""

    def __post_init__(self) -> None:
        if self.elements < 0:
            self.elements = math.prod(self.shape)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                             "elements": self.elements, "bytes": self.nbytes, "state": self.state}
        for key in ("why_state", "packing", "tied_to"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        return d


@dataclass
class FileCount:
    """What :func:`paramspec.count_file` returns.

    Attributes:
        parameters: unique parameter elements (state and tied duplicates excluded).
        state: state elements, or None when the file cannot tell state apart.
        tied: groups of tensor names that share data (the first is the one counted).
        by_dtype: dtype name -> {"elements", "bytes"} over unique tensors.
        tensors: every tensor the file lists.
    """

    path: str
    format: str
    tensors: list[FileTensor]
    notes: list[str] = field(default_factory=list)
    state_known: bool = True

    @property
    def unique(self) -> list[FileTensor]:
        return [t for t in self.tensors if not t.tied_to]

    @property
    def parameters(self) -> int:
        return sum(t.elements for t in self.unique if not t.state)

    @property
    def state(self) -> int | None:
        return sum(t.elements for t in self.unique if t.state) if self.state_known else None

    @property
    def per_reference(self) -> int:
        """What a naive sum over every name gives (state excluded): tied tensors once per name."""
        return sum(t.elements for t in self.tensors if not t.state)

    @property
    def tied(self) -> list[list[str]]:
        groups: dict[str, list[str]] = {}
        for t in self.tensors:
            if t.tied_to:
                groups.setdefault(t.tied_to, [t.tied_to]).append(t.name)
        return list(groups.values())

    @property
    def by_dtype(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for t in self.unique:
            d = out.setdefault(t.dtype, {"elements": 0, "bytes": 0})
            d["elements"] += t.elements
            d["bytes"] += t.nbytes
        return out

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.unique)

    def memory(self) -> dict[str, Any]:
        """Estimates in the manner of ``accelerate estimate-memory`` (parameters only, state aside).

        weights: the parameters at fp32/fp16/bf16/int8/int4; the largest tensor at each.
        training with Adam: weights + gradients + two moments, all fp32 (16 bytes a parameter);
        mixed precision: fp16/bf16 weights and gradients, fp32 master weights and moments
        (2 + 2 + 4 + 8 = 16 bytes a parameter), activations not included.
        """
        p = self.parameters
        largest = max((t.elements for t in self.unique if not t.state), default=0)
        widths = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 0.5}
        return {
            "weights": {k: int(math.ceil(p * w)) for k, w in widths.items()},
            "largest_tensor": {k: int(math.ceil(largest * w)) for k, w in widths.items()},
            "training_adam_fp32": 16 * p,
            "training_adam_mixed_precision": 16 * p,
        }

    def as_reading_tensors(self) -> list[Tensor]:
        """The unique tensors in the suite's Tensor form (for the module tree)."""
        aliases: dict[str, list[str]] = {}
        for t in self.tensors:
            if t.tied_to:
                aliases.setdefault(t.tied_to, []).append(t.name)
        return [Tensor(t.name, t.shape, t.dtype, not t.state, tuple(aliases.get(t.name, ()))) for t in self.unique]

    @property
    def separator(self) -> str:
        """How the file's names nest modules: ``.`` (torch, safetensors) or ``/`` (Keras, Flax)."""
        dots = sum(t.name.count(".") for t in self.tensors)
        return "." if dots >= sum(t.name.count("/") for t in self.tensors) else "/"

    def tree(self, depth: int = 1) -> list:
        return module_tree(self.as_reading_tensors(), "torch" if self.separator == "." else "file", depth)

    def to_dict(self, depth: int | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path, "format": self.format,
            "parameters": self.parameters, "parameters_human": human(self.parameters),
            "state": self.state, "per_reference": self.per_reference, "tied": self.tied,
            "by_dtype": self.by_dtype, "bytes": self.nbytes, "memory": self.memory(),
            "notes": self.notes, "tensors": [t.to_dict() for t in self.tensors],
        }
        if depth:
            d["tree"] = [n.to_dict(self.separator) for n in self.tree(depth)]
        return d
