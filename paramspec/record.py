"""The one result type: a :class:`Record`, whatever its source, and its one serializer.

A record says who counted (its :class:`~paramspec.reading.Source`: a framework target, a
file reader, the formula, a tool), what (a case, or a file), and each quantity it counted:
what the source read (``got``), what the spec expects that source to read (``expected``,
by the canonical formula or the source's recorded convention) and the formula it comes
from. ``paramspec.count``, ``paramspec.count_file``, the CLI's ``--json``, the test suite's
record files and the report all use it. ``Record.to_dict()`` is the JSON shape (documented
in the README, checked by ``spec/records.schema.json``); ``Record.from_dict`` reads it back.

Example:
    >>> r = paramspec.count({"kind": "LSTM", "input_size": 300, "hidden_size": 128})
    >>> q = r.quantities["params"]
    >>> q.got, q.expected, q.canonical, q.mark
    (220160, 220160, 219648, '†')
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .dtypes import bytes_per_element
from .reading import Source, Tensor, named_counts

SCHEMA_VERSION = 2  # 2: compute is a typed part with its own quantities (was an untyped dict)
PASS, FAIL, NA = "pass", "fail", "n/a"
READ = "read"  # a file's reading: nothing to compare it with
FORMULA = "formula"  # the spec's formula value: no reading at all
VERDICTS = (PASS, FAIL, NA, READ, FORMULA)
PARTS = ("params", "flops", "training")  # the parts with a verdict of their own: parameters and state; compute; training
# The typed parts beside the quantities, by the record's attribute (and JSON key), and where each
# type lives: a module adds a part by adding itself here, never by a new path.
PART_TYPES = {"compute": "paramspec.record:Compute", "training": "paramspec.training:Training",
              "quantization": "paramspec.files.quantization:Quantization", "within": "paramspec.within:Within"}


@dataclass
class Quantity:
    """One counted quantity: ``params``, ``state``, ``tied``, ``embedding`` or ``native:<api>``.

    Attributes:
        got: what the source read (None: it did not read this quantity).
        expected: what the spec expects this source to read (None: nothing to compare).
        formula: the formula ``expected`` comes from.
        canonical: the canonical formula's value (equal to ``expected`` unless the source
            follows a recorded convention).
        why: the convention's one-line reason, when it follows one.
        independent: False when ``got`` comes from the same list as another reading of it
            (agreement proves nothing; shown as ``=``).
        finding: for a tool's wrong reading, what kind of wrong (``silent zero``, ...).
        explain: for a tool's reading that differs, how (``reads 0 where its own definition
            gives 1,290, with no warning``).
    """

    got: int | None = None
    expected: int | None = None
    formula: str | None = None
    canonical: int | None = None
    why: str | None = None
    independent: bool = True
    finding: str | None = None
    explain: str | None = None

    @property
    def agrees(self) -> bool | None:
        if self.got is None or self.expected is None:
            return None
        return self.got == self.expected

    @property
    def by_convention(self) -> bool:
        """It follows a recorded convention whose value differs from the canonical one."""
        return self.canonical is not None and self.expected is not None and self.canonical != self.expected

    @property
    def mark(self) -> str:
        """``✓`` agrees; ``†`` agrees by a recorded convention; ``=`` agrees with itself (not
        independent); ``✗`` disagrees; empty when there is nothing to compare."""
        if self.agrees is None:
            return ""
        if not self.agrees:
            return "✗"
        if not self.independent:
            return "="
        return "†" if self.by_convention else "✓"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"got": self.got, "expected": self.expected}
        for key in ("formula", "canonical", "why", "finding", "explain"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if not self.independent:
            d["independent"] = False
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Quantity":
        return cls(d.get("got"), d.get("expected"), d.get("formula"), d.get("canonical"), d.get("why"),
                   d.get("independent", True), d.get("finding"), d.get("explain"))


@dataclass
class Record:
    """One counted result: who counted what, and how it compares with the spec.

    Attributes:
        source: who counted (``source.type`` is framework, file, formula or tool).
        verdict: ``pass`` (every expected quantity agrees), ``fail``, ``n/a`` (the spec
            records that the framework lacks the layer or option; ``reason`` says why),
            ``read`` (a file: nothing to compare) or ``formula`` (a formula value, no reading).
        case: the case id (``LSTM[in300-h128]``); None for a file.
        kind: the kind or model family.
        config: the config as a user writes it (a file's record holds its ``path``).
        quantities: name -> :class:`Quantity`, in a fixed order: params, state, tied,
            embedding, then each ``native:<api>``.
        problems: one line per disagreement.
        built: what was built or read, derived from the built object itself.
        tensors: the per-tensor list.
        notes: what a file reader decided on the way.
    """

    source: Source
    verdict: str
    case: str | None = None
    kind: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    quantities: dict[str, Quantity] = field(default_factory=dict)
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    built: str = ""
    tensors: list[Tensor] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    state_known: bool = True
    compute: "Compute | None" = None  # one forward pass: the spec's MACs and a counter's reading, judged
    training: "Any | None" = None  # a training step: its compute and memory (paramspec.training.Training)
    quantization: "Any | None" = None  # a quantized file's method and storage (paramspec.files.quantization)
    within: "Any | None" = None  # a user's own object: the spec kinds among its layers (paramspec.within)

    # ------------------------------------------------------------------ reading it
    @property
    def agrees(self) -> bool:
        return self.verdict in (PASS, READ, FORMULA)

    def value(self, name: str) -> int | None:
        """A quantity's value: what the source read (the formula's value, for a formula record)."""
        q = self.quantities.get(name)
        if q is None:
            return None
        return q.expected if self.verdict == FORMULA else q.got

    @property
    def params(self) -> int | None:
        """Trainable parameter elements, each unique tensor once (the formula's value for a
        formula record)."""
        return self.value("params")

    @property
    def state(self) -> int | None:
        """Non-trainable elements (running statistics); None where the source cannot tell."""
        return self.value("state")

    @property
    def total(self) -> int | None:
        return None if self.params is None or self.state is None else self.params + self.state

    @property
    def native(self) -> dict[str, int | None]:
        """The framework's own totals, by API name (``count_params()``), verbatim."""
        return {k.split(":", 1)[1]: q.got for k, q in self.quantities.items() if k.startswith("native:")}

    @property
    def expected(self) -> dict[str, int | None]:
        """What the spec expects this source to read, by quantity name."""
        return {k: q.expected for k, q in self.quantities.items()}

    @property
    def convention(self) -> str | None:
        """The why of the framework's recorded convention for this kind, if it has one (the
        quantities it changes are marked †)."""
        return next((q.why for name, q in self.quantities.items() if q.why and not name.startswith("native:")), None)

    def verdict_of(self, part: str) -> str | None:
        """One part's verdict: ``params`` (the tensors' counts and the framework's own totals)
        or ``flops`` (the compute part: a counter's reading of a forward pass): pass, fail or
        n/a, computed from the part's values; None where the part was not counted (no
        measurement was asked for)."""
        if part not in PARTS:
            raise ValueError(f"no part {part!r}: one of {', '.join(PARTS)}")
        if self.verdict in (NA, READ, FORMULA):
            return self.verdict
        if part in ("flops", "training"):
            p = self.compute if part == "flops" else self.training
            return None if p is None else p.verdict
        qs = list(self.quantities.values())
        return FAIL if not qs or any(q.agrees is False for q in qs) else PASS

    @property
    def all_problems(self) -> list[str]:
        """The parameter count's problems, then each part's, rendered from their values."""
        out = list(self.problems)
        if self.verdict not in (NA, READ, FORMULA):
            for p in (self.compute, self.training):
                if p is not None:
                    out += p.problems(p.counter)
        return out

    @property
    def target(self) -> str:
        return self.source.name

    @property
    def framework(self) -> str | None:
        return self.source.framework

    @property
    def framework_version(self) -> str:
        return self.source.version

    @property
    def counts(self) -> dict[str, int | None]:
        """Named counts from the tensors: unique, per_reference, tied, state, embedding, non_embedding."""
        return named_counts(self.tensors, self.state_known)

    @property
    def tied_groups(self) -> list[list[str]]:
        """Names that share one tensor (the first is the one counted)."""
        return [[t.name, *t.shared_with] for t in self.tensors if t.shared_with]

    @property
    def by_dtype(self) -> dict[str, dict[str, int]]:
        """dtype -> {"elements", "bytes"} over unique tensors."""
        out: dict[str, dict[str, int]] = {}
        for t in self.tensors:
            d = out.setdefault(t.dtype, {"elements": 0, "bytes": 0})
            d["elements"] += t.numel
            d["bytes"] += tensor_bytes(t)
        return out

    @property
    def nbytes(self) -> int:
        return sum(tensor_bytes(t) for t in self.tensors)

    def memory(self) -> dict[str, Any]:
        """Estimates in the manner of ``accelerate estimate-memory`` (parameters only, state aside).

        weights: the parameters at fp32/fp16/bf16/int8/int4; the largest tensor at each.
        training with Adam: fp32 weights, gradients and two moments (16 bytes a parameter);
        mixed precision: fp16/bf16 weights and gradients, fp32 master weights and moments
        (2 + 2 + 4 + 8 = 16 bytes a parameter). Activations are not included.
        """
        p = self.params or 0
        largest = max((t.numel for t in self.tensors if t.trainable), default=0)
        widths = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 0.5}
        return {
            "weights": {k: int(math.ceil(p * w)) for k, w in widths.items()},
            "largest_tensor": {k: int(math.ceil(largest * w)) for k, w in widths.items()},
            "training_adam_fp32": 16 * p,
            "training_adam_mixed_precision": 16 * p,
        }

    @property
    def flops(self) -> "Compute | None":
        """The compute part (the same object as ``compute``), when the count measured one
        (``count(..., measure=True)``) or, for a formula record, the spec's canonical MACs."""
        return self.compute

    def tree(self, depth: int = 1) -> list:
        """The per-module tree to ``depth`` levels (see :mod:`paramspec.tree`)."""
        from .tree import module_tree

        return module_tree(self.tensors, depth, self.separator, strip_collection=self.framework == "flax-linen")

    @property
    def separator(self) -> str:
        """How names nest modules: ``.`` (torch, safetensors) or ``/`` (Keras, Flax)."""
        if self.source.type == "framework":
            return "." if self.framework == "torch" else "/"
        dots = sum(t.name.count(".") for t in self.tensors)
        return "." if dots >= sum(t.name.count("/") for t in self.tensors) else "/"

    # ------------------------------------------------------------------ serializing
    def to_dict(self, tree_depth: int | None = None) -> dict[str, Any]:
        """The JSON shape (``schema_version`` 1). Derived fields (``counts``, ``by_dtype``,
        ``memory``, ``tree``) are written for readers and ignored by :meth:`from_dict`."""
        d: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "source": self.source.to_dict(),
            "case": self.case, "kind": self.kind, "config": self.config,
            "verdict": self.verdict, "reason": self.reason,
            "quantities": {k: q.to_dict() for k, q in self.quantities.items()},
            "counts": self.counts, "problems": list(self.problems), "notes": list(self.notes),
            "built": self.built, "state_known": self.state_known,
            "by_dtype": self.by_dtype, "memory": self.memory(),
            "tensors": [t.to_dict() for t in self.tensors],
        }
        for name in PART_TYPES:
            part = getattr(self, name)
            if part is not None:
                d[name] = part.to_dict()
        if tree_depth:
            d["tree"] = [n.to_dict(self.separator) for n in self.tree(tree_depth)]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Record":
        return cls(
            source=Source.from_dict(d["source"]), verdict=d["verdict"], case=d.get("case"), kind=d.get("kind"),
            config=dict(d.get("config") or {}),
            quantities={k: Quantity.from_dict(q) for k, q in (d.get("quantities") or {}).items()},
            reason=d.get("reason", ""), problems=list(d.get("problems") or []), built=d.get("built", ""),
            tensors=[Tensor.from_dict(t) for t in d.get("tensors") or []], notes=list(d.get("notes") or []),
            state_known=d.get("state_known", True),
            **{name: part_type(name).from_dict(d[name]) for name in PART_TYPES if d.get(name)})

    def explain(self) -> str:
        """A failure message: case, source and version, expected vs got, formulas, tensors."""
        from .render.text import tensor_table

        lines = [f"{self.case or self.config.get('path', '')} in {self.target} ({self.framework_version}): {self.verdict}"]
        if self.built:
            lines.append(f"  built: {self.built}")
        lines += [f"  {p}" for p in self.all_problems]
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        for name, q in self.quantities.items():
            if q.formula is not None and not name.startswith("native:"):
                lines.append(f"  {name} formula: {q.formula}" + (f" (convention: {q.why})" if q.why else ""))
        if self.tensors:
            lines.append("  tensors:")
            lines.append(tensor_table(self.tensors, indent="    "))
        return "\n".join(lines)


def part_type(name: str) -> type:
    """The class of the part ``name`` (:data:`PART_TYPES`), imported when first needed."""
    import importlib

    module, _, cls = PART_TYPES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


class Part:
    """A typed part of a record that is measured and judged on its own (compute; training):
    named quantities, each with what was read and what the spec expects, and the part's own
    verdict, computed from those values, never from a message.

    Attributes:
        quantities: name -> :class:`Quantity`.
        not_applicable: the spec records that the source cannot measure this (the reason).
        error: the source's own error where it could not measure (an n/a's evidence, or a failure).
    """

    quantities: dict[str, Quantity]
    not_applicable: str | None
    error: str | None
    label: str = "part"

    @property
    def measured_anything(self) -> bool:
        return any(q.got is not None for q in self.quantities.values())

    @property
    def verdict(self) -> str:
        """``n/a``: the spec records it, and the source indeed could not measure; ``fail``: an
        error, nothing measured, a measurement where the spec records n/a, or any quantity that
        disagrees; ``pass``: everything compared agrees; ``formula``: the part holds the spec's
        values alone (a formula record: nothing was to be measured)."""
        if not self.quantities and self.error is None and self.not_applicable is None:
            return FORMULA
        if self.not_applicable is not None:
            return FAIL if self.measured_anything else NA
        if self.error is not None or not self.measured_anything:
            return FAIL
        return FAIL if any(q.agrees is False for q in self.quantities.values()) else PASS

    @property
    def agrees(self) -> bool | None:
        """Whether every compared quantity agrees (None: nothing was compared)."""
        verdicts = [q.agrees for q in self.quantities.values() if q.agrees is not None]
        return all(verdicts) if verdicts else None

    @property
    def mark(self) -> str:
        """``✓`` agrees; ``✓†`` by a recorded convention; ``✗`` disagrees; ``n/a``."""
        v = self.verdict
        if v != PASS:
            return {NA: "n/a", FAIL: "✗", FORMULA: ""}[v]
        return "✓†" if any(q.mark == "†" for q in self.quantities.values()) else "✓"

    def problems(self, who: str = "") -> list[str]:
        """One line per disagreement, rendered from the values (for people; no verdict reads it)."""
        tag = f"{self.label} ({who})" if who else self.label
        if self.not_applicable is not None:
            if not self.measured_anything:
                return []
            got = ", ".join(f"{k} {q.got:,}" for k, q in self.quantities.items() if q.got is not None)
            return [f"{tag}: the spec records it as n/a here ({self.not_applicable}), but it measured {got}"]
        if self.error is not None:
            return [f"{tag}: measuring failed: {self.error}"]
        if not self.measured_anything:
            return [f"{tag}: not measured"]
        return [f"{tag} {name}: expected {q.expected:,} (`{q.formula}`), got {q.got:,}"
                for name, q in self.quantities.items() if q.agrees is False]


@dataclass
class Compute(Part):
    """A record's compute part: one forward pass at the case's input, the spec's canonical
    count of it, and a counter's reading of it held to that counter's formulas.

    Attributes:
        counter: the counter's id in frameworks.yaml (``flop_counter``, ``xla``, ``tf_profiler``).
        counter_name: its name (``torch.utils.flop_counter.FlopCounterMode``).
        macs: the spec's canonical multiply-accumulates; ``flops`` is ``2 * macs``.
        macs_formula: the kind's ``macs`` formula.
        terms: other work the spec has exact formulas for (bias adds...), by name.
        estimates: the papers' figures (per token), each with its formula and source.
        matmul_ops: the ops the counter lists as matmul-like.
        convention: the why of the counter's recorded convention for this kind, when it follows one.
        quantities: ``matmul`` (the counter's matmul-like part against its formula) and
            ``total`` (its whole reading, against an exact formula where the spec has one).
        version: the counter's (and its framework's) version.
        by_op: the counter's own per-op figures, verbatim.
        inputs: the input shapes and dtypes the forward pass ran on, in the framework's layout.
        notes: what the measuring did on the way.
        not_applicable, error: see :class:`Part`.
    """

    counter: str
    counter_name: str = ""
    macs: int | None = 0  # None: no spec formula (a user's own object, measured as it is)
    macs_formula: str = ""
    terms: dict[str, int] = field(default_factory=dict)
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)
    matmul_ops: tuple[str, ...] = ()
    convention: str | None = None
    quantities: dict[str, Quantity] = field(default_factory=dict)
    version: str = ""
    by_op: dict[str, int] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_applicable: str | None = None
    error: str | None = None
    label = "flops"

    @property
    def flops(self) -> int | None:
        """The canonical flops: 2 x MACs (None: no spec formula)."""
        return None if self.macs is None else 2 * self.macs

    canonical = flops

    def _got(self, name: str) -> int | None:
        q = self.quantities.get(name)
        return None if q is None else q.got

    @property
    def measured(self) -> int | None:
        """The counter's total, verbatim (None: it did not measure)."""
        return self._got("total")

    @property
    def matmul(self) -> int | None:
        """The part of the counter's total in its matmul-like ops."""
        return self._got("matmul")

    @property
    def remainder(self) -> int | None:
        """The rest of the counter's total (bias adds, elementwise ops, softmax...)."""
        return None if self.measured is None or self.matmul is None else self.measured - self.matmul

    @property
    def compares(self) -> str:
        """``total`` where the spec has an exact formula for the counter's total, else ``matmul``."""
        q = self.quantities.get("total")
        return "total" if q is not None and q.expected is not None else "matmul"

    @property
    def expected(self) -> int | None:
        q = self.quantities.get(self.compares)
        return None if q is None else q.expected

    @property
    def compared(self) -> int | None:
        """The figure the spec compares: the total where it has an exact formula for it, else
        the matmul part."""
        return self._got(self.compares)

    @property
    def by_convention(self) -> bool:
        return any(q.by_convention for q in self.quantities.values())

    @property
    def counter_label(self) -> str:
        """``torch.utils.flop_counter.FlopCounterMode (torch 2.13.0+cpu)``."""
        return f"{self.counter_name or self.counter} ({self.version})" if self.version else (self.counter_name
                                                                                             or self.counter)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape; ``verdict``, ``mark``, ``flops``, ``measured``, ``matmul``,
        ``remainder``, ``compares``, ``expected`` and ``agrees`` are derived (for readers)."""
        d: dict[str, Any] = {
            "counter": self.counter, "counter_name": self.counter_name, "version": self.version,
            "macs": self.macs, "macs_formula": self.macs_formula, "terms": dict(self.terms),
            "estimates": dict(self.estimates), "matmul_ops": list(self.matmul_ops),
            "quantities": {k: q.to_dict() for k, q in self.quantities.items()},
            "by_op": dict(self.by_op), "inputs": list(self.inputs), "notes": list(self.notes),
        }
        for key in ("convention", "not_applicable", "error"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        d.update(verdict=self.verdict, mark=self.mark, flops=self.flops, measured=self.measured, matmul=self.matmul,
                 remainder=self.remainder, compares=self.compares, expected=self.expected, agrees=self.agrees)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Compute":
        return cls(counter=d["counter"], counter_name=d.get("counter_name", ""), macs=d.get("macs", 0),
                   macs_formula=d.get("macs_formula", ""), terms=dict(d.get("terms") or {}),
                   estimates=dict(d.get("estimates") or {}), matmul_ops=tuple(d.get("matmul_ops") or ()),
                   convention=d.get("convention"),
                   quantities={k: Quantity.from_dict(q) for k, q in (d.get("quantities") or {}).items()},
                   version=d.get("version", ""), by_op=dict(d.get("by_op") or {}), inputs=list(d.get("inputs") or []),
                   notes=list(d.get("notes") or []), not_applicable=d.get("not_applicable"), error=d.get("error"))

    def __repr__(self) -> str:
        return (f"Compute(measured={self.measured}, matmul={self.matmul}, macs={self.macs}, expected={self.expected}, "
                f"verdict={self.verdict!r}, counter={self.counter!r})")


def tensor_bytes(t: Tensor) -> int:
    """Bytes a tensor takes: what its file stores, or its elements at its dtype's width."""
    if t.nbytes is not None:
        return t.nbytes
    width = bytes_per_element(t.dtype)
    return int(math.ceil(t.numel * width)) if width is not None else 0
