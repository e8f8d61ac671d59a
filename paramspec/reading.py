"""What a source saw: its tensors and its own totals (a :class:`Reading`).

One shape for every source: an adapter reading a built framework object, and a file reader
reading a checkpoint's header. A reading never holds a count computed from a config:
``params`` and ``state`` are sums over the tensors the source itself listed, and ``native``
holds the totals the framework's own APIs returned, verbatim. :mod:`paramspec.compare`
turns a reading into a :class:`~paramspec.record.Record`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable



@dataclass(frozen=True)
class Source:
    """Who produced a reading or a record.

    Attributes:
        type: ``framework`` (an adapter's reading of a built object), ``file`` (a file
            reader), ``formula`` (the spec's formula: a value, not a reading) or ``tool``
            (a third-party counting tool).
        name: the target (``torch``, ``keras-jax``), the file format, ``formula``, the tool.
        version: ``torch 2.13.0+cpu``, ``keras 3.15.1 (jax 0.10.2)``, ``thop 0.1.1``.
        framework: the spec framework whose conventions apply (``keras`` for ``keras-jax``).
    """

    type: str
    name: str
    version: str = ""
    framework: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "version": self.version, "framework": self.framework}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Source":
        return cls(d["type"], d["name"], d.get("version", ""), d.get("framework"))


@dataclass(frozen=True)
class Tensor:
    """One tensor as its source lists it.

    Attributes:
        name: the framework's name or path (``weight_ih_l0``, ``lstm/lstm_cell/kernel``).
        shape: its shape.
        dtype: its dtype name (``float32``, ``bfloat16``, ``q8_0``).
        trainable: a parameter (True) or state (False: running statistics, index buffers).
        shared_with: the other names of the same tensor (tied weights); it is counted once.
        embedding: it belongs to an embedding layer (nn.Embedding, keras Embedding, flax Embed):
            the weights Hugging Face's ``exclude_embeddings=True`` leaves out.
        elements: logical elements, where they are not the shape's product (packed
            sub-byte data: GPTQ's int32 ``qweight`` holds 8 int4 values each).
        nbytes: bytes a file stores for it (None: not from a file).
        packing: how sub-byte values are packed (``Q8_0: blocks of 32 values in 34 bytes``).
        why_state: which marking or rule made it state, where a file says nothing itself.
        logical_shape: a quantized weight's own shape (the model's ``(out_features,
            in_features)``), where the file stores it packed in another ``shape`` (GPTQ's
            ``qweight`` ``(in_features * bits / 32, out_features)`` int32).
        quant_role: ``weight`` (a quantized weight: ``elements`` are its logical elements) or
            ``metadata`` (scales, zero points, ``g_idx``, absmax, quant maps: they hold no weight
            element, so ``elements`` is 0; their stored elements are the shape's product).
        experts: the routed experts a mixture of experts' tensor holds, stacked on its first
            axis (0: not a routed expert's), and ``top_k``, how many of them each token uses:
            both set by the adapter from the built module (the experts' ``num_experts``, their
            router's ``top_k``), never from a config.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    trainable: bool
    shared_with: tuple[str, ...] = ()
    embedding: bool = False
    elements: int | None = None
    nbytes: int | None = None
    packing: str = ""
    why_state: str = ""
    logical_shape: tuple[int, ...] | None = None
    quant_role: str = ""
    experts: int = 0
    top_k: int = 0

    @property
    def numel(self) -> int:
        return math.prod(self.shape) if self.elements is None else self.elements

    @property
    def active(self) -> int:
        """Elements one token uses: all of them, or top_k of a routed tensor's experts."""
        return self.numel * self.top_k // self.experts if self.experts else self.numel

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                             "trainable": self.trainable, "numel": self.numel}
        for key in ("shared_with", "embedding", "nbytes", "packing", "why_state", "quant_role", "experts", "top_k"):
            value = getattr(self, key)
            if value:
                d[key] = list(value) if isinstance(value, tuple) else value
        if self.elements is not None:
            d["elements"] = self.elements
        if self.logical_shape is not None:
            d["logical_shape"] = list(self.logical_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Tensor":
        return cls(d["name"], tuple(d["shape"]), d["dtype"], d["trainable"], tuple(d.get("shared_with", ())),
                   bool(d.get("embedding", False)), d.get("elements"), d.get("nbytes"), d.get("packing", ""),
                   d.get("why_state", ""),
                   tuple(d["logical_shape"]) if d.get("logical_shape") is not None else None,
                   d.get("quant_role", ""), d.get("experts", 0), d.get("top_k", 0))


@dataclass
class Measurement:
    """What a compute counter read for one forward pass.

    Attributes:
        counter: the counter's id in frameworks.yaml (``flop_counter``, ``xla``, ``tf_profiler``).
        version: the counter's (and its framework's) version.
        total: the counter's total, verbatim.
        by_op: the counter's own per-op figures (``aten.addmm``, ``dot_general``, ``MatMul``).
        inputs: the input shapes and dtypes the forward pass ran on, in the framework's layout.
        notes: what the measuring did on the way.
    """

    counter: str
    version: str
    total: int
    by_op: dict[str, int] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"counter": self.counter, "version": self.version, "total": self.total, "by_op": dict(self.by_op),
                "inputs": list(self.inputs), "notes": list(self.notes)}


@dataclass
class StepMeasurement:
    """What a target measured of one training step (paramspec.training).

    Attributes:
        forward: the counter's reading of the step's forward pass.
        backward: the counter's reading of the backward pass alone (torch: a counter of its
            own around ``loss.backward()``; XLA and TensorFlow: the step's reading less the
            forward's, op by op).
        step_total: the counter's whole reading of the step, verbatim (forward and backward).
        activations: bytes the framework keeps for backward (its input included, its
            parameters not); None where it cannot tell (``activations_note`` says why).
        gradients: bytes of the gradients of the trainable parameters.
        optimizer: bytes of the framework's own optimizer's state, built on the parameters
            (None: the framework has no such optimizer; ``optimizer_note`` says which was built).
        notes: what the measuring did on the way.
    """

    forward: Measurement
    backward: Measurement
    step_total: int
    activations: int | None = None
    activations_note: str = ""
    gradients: int | None = None
    optimizer: int | None = None
    optimizer_note: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """The tensors and native totals read from one built object or file.

    Attributes:
        source: who read it (a framework target, a file format).
        built: what was built or read, in the source's own words.
        tensors: every unique tensor, in the source's order.
        native: the framework's own totals, by API name (``count_params()``: 219648).
        notes: what a reader decided on the way (a checkpoint's model entry, a name rule).
        state_known: False when the source cannot tell state from parameters (a bare
            ``.weights.h5``): then ``state`` is None and ``params`` includes any state.
    """

    source: Source
    built: str
    tensors: list[Tensor] = field(default_factory=list)
    native: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    state_known: bool = True

    @property
    def params(self) -> int:
        """Trainable elements, each unique tensor once."""
        return sum(t.numel for t in self.tensors if t.trainable)

    @property
    def state(self) -> int | None:
        return sum(t.numel for t in self.tensors if not t.trainable) if self.state_known else None

    @property
    def tied(self) -> int:
        """Parameter elements the source lists under a second (third...) name."""
        return sum(t.numel * len(t.shared_with) for t in self.tensors if t.trainable)

    @property
    def embedding(self) -> int:
        return sum(t.numel for t in self.tensors if t.trainable and t.embedding)

    @property
    def active(self) -> int:
        """Parameters one token uses: every trainable element, but of a routed expert tensor
        (``Tensor.experts``), its ``top_k`` experts' share."""
        return sum(t.active for t in self.tensors if t.trainable)

    def named_counts(self) -> dict[str, int | None]:
        return named_counts(self.tensors, self.state_known)


def named_counts(tensors: Iterable[Tensor], state_known: bool = True) -> dict[str, int | None]:
    """unique, per_reference (a naive per-name sum), tied, state, embedding, non_embedding."""
    tensors = list(tensors)
    unique = sum(t.numel for t in tensors if t.trainable)
    tied = sum(t.numel * len(t.shared_with) for t in tensors if t.trainable)
    embedding = sum(t.numel for t in tensors if t.trainable and t.embedding)
    state = sum(t.numel for t in tensors if not t.trainable) if state_known else None
    return {"unique": unique, "per_reference": unique + tied, "tied": tied, "state": state,
            "embedding": embedding, "non_embedding": unique - embedding}


def shape_text(shape: Iterable[int]) -> str:
    """``(64,)``, ``(512, 300)``, ``()``."""
    shape = tuple(shape)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
