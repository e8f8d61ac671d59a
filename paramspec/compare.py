"""Compare a reading with the spec, and run one case against one target.

The verdicts:

- ``pass``: the framework's reading equals its formula (the canonical one, or its recorded
  convention) for params and state, and every native total equals its formula;
- ``fail``: anything else, including an adapter that cannot build a case the spec does
  not record as n/a, and a recorded n/a that the adapter can in fact build;
- ``n/a``: the spec records that the framework lacks the layer or option, with a reason,
  and the adapter agrees.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

from .errors import NotApplicable
from .loader import Case, Expected, Spec
from .reading import Reading, Tensor, breakdown

PASS, FAIL, NA = "pass", "fail", "n/a"


@dataclass
class Record:
    """One compared result: what the report and the tests are built from."""

    case: str
    kind: str
    config: dict[str, Any]
    target: str
    framework: str
    framework_version: str
    verdict: str
    expected: dict[str, Any] = field(default_factory=dict)
    got: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    reason: str = ""
    built: str = ""
    tensors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Record":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def explain(self) -> str:
        """The failure message: case, framework and version, expected vs got, formula, tensors."""
        lines = [f"{self.case} in {self.target} ({self.framework_version}): {self.verdict}"]
        if self.built:
            lines.append(f"  built: {self.built}")
        lines += [f"  {p}" for p in self.problems]
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        e = self.expected
        if e:
            lines.append(f"  params formula: {e['params_formula']}")
            lines.append(f"  state formula:  {e['state_formula']}")
            if e.get("convention"):
                lines.append(f"  convention: {e['convention']}")
        if self.tensors:
            lines.append("  tensors:")
            lines.append(breakdown([Tensor.from_dict(t) for t in self.tensors], indent="    "))
        return "\n".join(lines)


def native_expected(spec: Spec, framework: str, expected: Expected) -> dict[str, int]:
    """What each native total of ``framework`` should read, from its formula in frameworks.yaml."""
    env = {"params": expected.params, "state": expected.state, "tied": expected.tied}
    return {n.name: n.formula.evaluate_int(env) for n in spec.frameworks[framework].native}


def compare(spec: Spec, case: Case, reading: Reading) -> Record:
    """Compare ``reading`` with what the spec expects of its framework for ``case``."""
    exp = case.expected(reading.framework)
    natives = native_expected(spec, reading.framework, exp)
    problems = []
    if reading.trainable != exp.params:
        problems.append(f"params: expected {exp.params:,} (`{exp.params_formula}`), got {reading.trainable:,}")
    if reading.non_trainable != exp.state:
        problems.append(f"state: expected {exp.state:,} (`{exp.state_formula}`), got {reading.non_trainable:,}")
    if reading.tied != exp.tied:
        problems.append(f"tied (listed twice): expected {exp.tied:,}, got {reading.tied:,}")
    if exp.embedding is not None and reading.embedding != exp.embedding:
        problems.append(f"embedding: expected {exp.embedding:,}, got {reading.embedding:,}")
    for name, want in natives.items():
        got = reading.native.get(name)
        if got != want:
            problems.append(f"native {name}: expected {want:,}, got {got if got is None else f'{got:,}'}")
    return Record(
        case=case.id, kind=case.kind.name, config=case.config(), target=reading.target,
        framework=reading.framework, framework_version=reading.framework_version,
        verdict=FAIL if problems else PASS,
        expected={**exp.to_dict(), "native": natives},
        got={"params": reading.trainable, "state": reading.non_trainable, "native": dict(reading.native),
             "counts": reading.named_counts()},
        problems=problems, built=reading.built, tensors=[t.to_dict() for t in reading.tensors])


def run_case(spec: Spec, case: Case, adapter: Any) -> Record:
    """Build ``case`` with ``adapter``, read it and compare; n/a only where the spec records it."""
    framework = adapter.framework
    declared = case.not_applicable_reason(framework)
    base = dict(case=case.id, kind=case.kind.name, config=case.config(), target=adapter.target,
                framework=framework, framework_version=adapter.version())
    try:
        built = adapter.build(case.kind.name, case.values)
    except NotApplicable as e:
        if declared:
            canon = case.expected(None)
            return Record(**base, verdict=NA, reason=declared,
                          expected={"canonical_params": canon.params, "canonical_state": canon.state})
        return Record(**base, verdict=FAIL, reason=e.reason, problems=[
            "the adapter cannot build this case, and the spec does not record it as n/a"])
    except Exception as e:  # a framework error is a failure of this case, not of the run
        return Record(**base, verdict=FAIL, problems=[f"building failed: {type(e).__name__}: {e}"],
                      reason=traceback.format_exc(limit=-3))
    if declared:
        return Record(**base, verdict=FAIL, reason=declared, built=built.description, problems=[
            "the spec records this case as n/a, but the adapter built it"])
    try:
        reading = adapter.read(built)
    except Exception as e:
        return Record(**base, verdict=FAIL, built=built.description,
                      problems=[f"reading failed: {type(e).__name__}: {e}"])
    return compare(spec, case, reading)
