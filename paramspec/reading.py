"""What an adapter (or a file reader) saw: the tensors, and the framework's native totals.

A :class:`Reading` never holds a count computed from a config: ``trainable`` and
``non_trainable`` are sums over the tensors the framework itself listed, and ``native``
holds the totals the framework's own APIs returned, verbatim.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass(frozen=True)
class Tensor:
    """One tensor as the framework lists it.

    Attributes:
        name: the framework's name or path (``weight_ih_l0``, ``lstm/lstm_cell/kernel``).
        shape: its shape.
        dtype: its dtype name (``float32``).
        trainable: whether the framework trains it (a parameter) or not (state).
        shared_with: other names of the same tensor (tied weights); counted once.
        embedding: whether it belongs to an embedding layer (nn.Embedding, keras Embedding,
            flax Embed), the weights Hugging Face's ``exclude_embeddings=True`` leaves out.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    trainable: bool
    shared_with: tuple[str, ...] = ()
    embedding: bool = False

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                             "trainable": self.trainable, "numel": self.numel}
        if self.shared_with:
            d["shared_with"] = list(self.shared_with)
        if self.embedding:
            d["embedding"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Tensor":
        return cls(d["name"], tuple(d["shape"]), d["dtype"], d["trainable"], tuple(d.get("shared_with", ())),
                   bool(d.get("embedding", False)))


@dataclass
class Reading:
    """The tensors and native totals read from one built object.

    Attributes:
        framework: ``torch``, ``keras``, ``flax-linen`` or ``flax-nnx``.
        target: the framework plus backend where it matters (``keras-jax``).
        framework_version: for example ``keras 3.15.1 (jax 0.10.2)``.
        built: what the adapter built, in the framework's words.
        tensors: every unique tensor, in the framework's order.
        native: the framework's own totals, by API name (``count_params()``: 219648).
    """

    framework: str
    target: str
    framework_version: str
    built: str
    tensors: list[Tensor] = field(default_factory=list)
    native: dict[str, int] = field(default_factory=dict)

    @property
    def trainable(self) -> int:
        return sum(t.numel for t in self.tensors if t.trainable)

    @property
    def non_trainable(self) -> int:
        return sum(t.numel for t in self.tensors if not t.trainable)

    @property
    def tied(self) -> int:
        """Parameter elements the framework lists under a second (third...) name."""
        return sum(t.numel * len(t.shared_with) for t in self.tensors if t.trainable)

    @property
    def per_reference(self) -> int:
        """What a naive per-name sum of the parameters gives: tied weights once per name."""
        return self.trainable + self.tied

    @property
    def embedding(self) -> int:
        return sum(t.numel for t in self.tensors if t.trainable and t.embedding)

    @property
    def non_embedding(self) -> int:
        """Hugging Face's ``num_parameters(exclude_embeddings=True)``."""
        return self.trainable - self.embedding

    def named_counts(self) -> dict[str, int]:
        return {"unique": self.trainable, "per_reference": self.per_reference, "tied": self.tied,
                "state": self.non_trainable, "embedding": self.embedding, "non_embedding": self.non_embedding}

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework, "target": self.target,
            "framework_version": self.framework_version, "built": self.built,
            "trainable": self.trainable, "non_trainable": self.non_trainable,
            "counts": self.named_counts(),
            "native": dict(self.native), "tensors": [t.to_dict() for t in self.tensors],
        }


def breakdown(tensors: Iterable[Tensor], indent: str = "  ") -> str:
    """The per-tensor table used in failure messages and ``paramspec count``."""
    rows = [("name", "shape", "dtype", "trainable", "count")]
    for t in tensors:
        name = t.name + (f" (= {', '.join(t.shared_with)})" if t.shared_with else "")
        rows.append((name, "(" + ", ".join(map(str, t.shape)) + ("," if len(t.shape) == 1 else "") + ")",
                     t.dtype, "yes" if t.trainable else "no", f"{t.numel:,}"))
    if len(rows) == 1:
        return f"{indent}(no tensors)"
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) if i < 4 else r[i].rjust(widths[i]) for i in range(5)]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)
