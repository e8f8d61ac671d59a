"""The kinds within a user's own model: each recognizable sub-module matched to its spec kind.

An engineer who built a model wants what torchinfo and ``nnx.tabulate`` give (the tensors,
the totals, the compute), plus what only paramspec knows: which of its layers are spec kinds,
and which framework convention each follows (``this nn.LSTM keeps torch's second bias: +512
against the canonical count``). An adapter finds its framework's layers in the object
(``Adapter.kinds_within``: each one's path, kind and canonical variables, read from the layer's
own attributes); here each is resolved as a case of its kind and its elements, read from the
tensors under its path, are held to the framework's formula, beside the canonical one.

Example:
    >>> r = paramspec.count(torch.nn.Sequential(torch.nn.LSTM(300, 128)))
    >>> r.within.quantities["0"].got, r.within.quantities["0"].canonical
    (220160, 219648)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import SpecError
from .record import Part, Quantity


@dataclass
class Within(Part):
    """A record's part for a user's object: each sub-module that is a spec kind, by its path.

    Attributes:
        quantities: path -> the elements read under it (``got``) against the framework's
            formula for the kind (``expected``), the canonical one, and the convention's why.
        kinds: path -> ``{"kind", "case", "module"}``: the kind, the case id its attributes
            make, and the module as the framework shows it.
        unmatched: layers the adapter recognized whose variables the spec refuses (with why).
    """

    quantities: dict[str, Quantity] = field(default_factory=dict)
    kinds: dict[str, dict[str, str]] = field(default_factory=dict)
    unmatched: dict[str, str] = field(default_factory=dict)
    not_applicable: str | None = None
    error: str | None = None
    counter: str = ""
    label = "within"

    @property
    def verdict(self) -> str:
        """``pass`` every matched layer reads its framework's formula; ``fail`` one does not;
        ``read`` nothing matched (nothing to compare)."""
        if not self.quantities:
            return "read"
        return "fail" if any(q.agrees is False for q in self.quantities.values()) else "pass"

    def lines(self) -> list[str]:
        """One line a matched layer: ``lstm: LSTM[in300-h128] (torch.nn.LSTM(300, 128)) reads
        220,160 †: torch.nn.LSTM keeps two bias vectors per gate (+512 against the canonical 219,648)``."""
        out = []
        for path, q in self.quantities.items():
            k = self.kinds[path]
            line = f"{path or '(the object)'}: {k['case']} reads {q.got:,} {q.mark}"
            if q.agrees is False:
                line += f", where the spec's formula gives {q.expected:,} (`{q.formula}`)"
            elif q.by_convention and q.got is not None and q.canonical is not None:
                line += f": {q.why} ({q.got - q.canonical:+,} against the canonical {q.canonical:,})"
            out.append(line)
        out += [f"{path}: {why}" for path, why in self.unmatched.items()]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"quantities": {k: q.to_dict() for k, q in self.quantities.items()}, "kinds": self.kinds,
                "unmatched": self.unmatched, "verdict": self.verdict}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Within":
        return cls(quantities={k: Quantity.from_dict(q) for k, q in (d.get("quantities") or {}).items()},
                   kinds=dict(d.get("kinds") or {}), unmatched=dict(d.get("unmatched") or {}))


def within(matches: list[tuple[str, str, dict[str, Any], str]], reading: Any, framework: str,
           separator: str) -> Within:
    """The kinds within an object: ``matches`` are the adapter's (path, kind, variables, module
    text); each is resolved as a case, and the trainable elements under its path are held to
    the framework's formula for it."""
    from .kinds import Case
    from .loader import load_spec

    spec = load_spec()
    part = Within()
    for path, kind_name, values, module in matches:
        kind = spec.kinds[kind_name]
        try:
            resolved = kind.resolve(values, f"{path}: {kind_name}")
        except SpecError as e:
            part.unmatched[path] = f"a {kind_name} the spec cannot state: {e.message}"
            continue
        case = Case(kind, resolved, kind.case_id(resolved))
        if case.not_applicable_reason(framework):
            continue
        exp = case.expected(framework)
        prefix = f"{path}{separator}" if path else ""
        got = sum(t.numel for t in reading.tensors if t.trainable and (not path or t.name.startswith(prefix)))
        part.quantities[path] = Quantity(got, exp.params, exp.params_formula, exp.canonical_params, exp.convention)
        part.kinds[path] = {"kind": kind_name, "case": case.id, "module": module}
    return part
