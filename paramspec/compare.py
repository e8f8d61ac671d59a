"""Compare a reading with what the spec expects of its source: a :class:`~paramspec.record.Record`.

The verdicts:

- ``pass``: the reading equals the source's formula (the canonical one, or its recorded
  convention) for params and state, tied and embedding elements where the kind has a
  formula for them, and every native total equals its formula in ``frameworks.yaml``;
- ``fail``: anything else, including an adapter that cannot build a case the spec does
  not record as n/a, and a recorded n/a that the adapter can in fact build;
- ``n/a``: the spec records that the framework lacks the layer or option, with a reason,
  and the adapter agrees;
- ``read``: a file's reading, with nothing to compare it with.
"""
from __future__ import annotations

from typing import Any

from .frameworks import Framework
from .compute import Counter
from .kinds import Case, Expected, Spec
from .reading import Measurement, Reading, Source
from .record import FAIL, NA, PASS, READ, Compute, Quantity, Record


def expected_quantities(spec: Spec, case: Case, framework: str) -> dict[str, Quantity]:
    """What the spec expects ``framework`` to read for ``case``: params, state, tied,
    embedding and active (where the kind has a formula) and each native total, with formulas."""
    exp = case.expected(framework)
    qs = {
        "params": Quantity(expected=exp.params, formula=exp.params_formula, canonical=exp.canonical_params,
                           why=exp.convention),
        "state": Quantity(expected=exp.state, formula=exp.state_formula, canonical=exp.canonical_state,
                          why=exp.convention),
        "tied": Quantity(expected=exp.tied, formula=exp.tied_formula, canonical=exp.canonical_tied,
                         why=exp.convention),
    }
    if exp.embedding is not None:
        qs["embedding"] = Quantity(expected=exp.embedding, formula=exp.embedding_formula)
    if exp.active is not None:
        qs["active"] = Quantity(expected=exp.active, formula=exp.active_formula)
    qs.update(native_quantities(spec.frameworks[framework], exp))
    return qs


def native_quantities(fw: Framework, exp: Expected) -> dict[str, Quantity]:
    """Each native total's expected value, from its formula over params, state and tied (the
    framework's own, its convention where it has one; ``canonical`` from the canonical ones)."""
    env = {"params": exp.params, "state": exp.state, "tied": exp.tied}
    canon = {"params": exp.canonical_params, "state": exp.canonical_state, "tied": exp.canonical_tied}
    return {f"native:{n.name}": Quantity(expected=n.formula.evaluate_int(env), formula=n.formula.text,
                                         canonical=n.formula.evaluate_int(canon), why=n.why or exp.convention,
                                         independent=n.independent)
            for n in fw.native}


def compare(spec: Spec, case: Case, reading: Reading, native: bool = True) -> Record:
    """Compare ``reading`` with what the spec expects of its framework for ``case`` (and its
    native totals, unless ``native`` is False: then the reading was made without them)."""
    qs = expected_quantities(spec, case, reading.source.framework)
    if not native:
        qs = {k: q for k, q in qs.items() if not k.startswith("native:")}
    got: dict[str, Any] = {"params": reading.params, "state": reading.state, "tied": reading.tied,
                           "embedding": reading.embedding, "active": reading.active}
    got.update({f"native:{k}": v for k, v in reading.native.items()})
    problems = []
    for name, q in qs.items():
        q.got = got.get(name)
        if q.got != q.expected:
            shown = "-" if q.got is None else f"{q.got:,}"
            problems.append(f"{_label(name)}: expected {q.expected:,} (`{q.formula}`), got {shown}")
    return Record(source=reading.source, verdict=FAIL if problems else PASS, case=case.id, kind=case.kind.name,
                  config=case.config(), quantities=qs, problems=problems, built=reading.built,
                  tensors=list(reading.tensors), notes=[*case.notes, *reading.notes])


def compare_compute(record: Record, case: Case, counter: Counter, m: Measurement | None,
                    error: str | None = None) -> Record:
    """Add the compute part to ``record``: the spec's canonical MACs for the case, and a
    counter's reading of one forward pass (its matmul-like part and its total) against the
    counter's formulas for the kind, as exact integers, with the per-op breakdown.

    ``error``: the counter could not measure (an n/a where the spec records one, else a
    failure). A counter that measures where the spec records n/a fails, as an adapter that
    builds a recorded n/a does. The part's verdict is computed from these values
    (:attr:`Compute.verdict`); the record fails when it does.
    """
    exp = case.expected_compute(counter, record.source.framework)
    c = Compute(counter=counter.id, counter_name=counter.name, macs=exp.macs, macs_formula=exp.macs_formula,
                terms=dict(exp.terms), estimates=dict(exp.estimates), matmul_ops=tuple(counter.matmul_ops),
                convention=exp.why if exp.by_convention else None, not_applicable=exp.not_applicable, error=error)
    why = exp.why if exp.by_convention else None
    c.quantities = {"matmul": Quantity(None, exp.matmul, exp.matmul_formula, exp.flops, why),
                    "total": Quantity(None, exp.total, exp.total_formula, exp.flops, why)}
    if m is not None:
        c.version, c.by_op, c.inputs, c.notes = m.version, dict(m.by_op), list(m.inputs), list(m.notes)
        c.quantities["matmul"].got = sum(v for op, v in m.by_op.items() if op in counter.matmul_ops)
        c.quantities["total"].got = m.total
    record.compute = c
    if c.verdict == FAIL and record.verdict == PASS:
        record.verdict = FAIL
    return record


def _label(name: str) -> str:
    return {"tied": "tied (listed twice)"}.get(name, name.replace("native:", "native "))


def not_applicable(case: Case, source: Source, reason: str, adapter_says: str = "") -> Record:
    """A recorded n/a: the canonical formula's values, the spec's reason, and the adapter's own."""
    canon = case.expected(None)
    return Record(source=source, verdict=NA, case=case.id, kind=case.kind.name, config=case.config(),
                  quantities={"params": Quantity(canonical=canon.params, formula=canon.params_formula),
                              "state": Quantity(canonical=canon.state, formula=canon.state_formula)},
                  reason=reason, notes=[f"the adapter says: {adapter_says}"] if adapter_says else [])


def failed(case: Case, source: Source, problem: str, reason: str = "", built: str = "") -> Record:
    """A case that could not be compared: a build that failed, an n/a the spec does not record."""
    return Record(source=source, verdict=FAIL, case=case.id, kind=case.kind.name, config=case.config(),
                  problems=[problem], reason=reason, built=built)


def file_record(reading: Reading, path: str) -> Record:
    """A file's reading as a record: what it declares, with nothing to compare it with."""
    counts = reading.named_counts()
    qs = {"params": Quantity(got=reading.params), "state": Quantity(got=reading.state),
          "tied": Quantity(got=counts["tied"])}
    return Record(source=reading.source, verdict=READ, config={"path": path}, quantities=qs, built=reading.built,
                  tensors=list(reading.tensors), notes=list(reading.notes), state_known=reading.state_known,
                  quantization=getattr(reading, "quantization", None))
