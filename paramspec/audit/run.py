"""Running an audit: one target's part (built and read in that target's process), and the
merge of every target's part with the canonical formula and the worked examples' arithmetic.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping

from ..errors import NotApplicable, SpecError
from ..kinds import Spec
from ..loader import load_spec
from ..frameworks import target as target_of
from ..objects import read_object
from ..reading import Reading
from ..record import Record
from ..run import count
from .attribution import TRAINING_COUNTS, counted, explain_compute, explain_difference, is_compute, is_training
from .course import Course, Entry, spec_values
from .examples import check_example, final_claim
from .fit import fit_difference


class Measurer:
    """What a framework reads for an entry at the author's variable values (one target)."""

    def __init__(self, entry: Entry, target: str, spec: Spec):
        self.entry, self.target, self.spec = entry, target, spec
        self.readings: dict[tuple, Reading] = {}

    def config(self, values: Mapping[str, int]) -> dict[str, Any]:
        e = self.entry
        key = "model" if self.spec.kinds[e.kind].group == "models" else "kind"
        return {key: e.kind, **spec_values(e, values)}

    def reading(self, values: Mapping[str, int]) -> Reading:
        key = tuple(sorted(values.items()))
        if key not in self.readings:
            self.readings[key] = self._read(values)
        return self.readings[key]

    def _read(self, values: Mapping[str, int]) -> Reading | Record:
        e = self.entry
        if e.factory:
            if target_of(self.target).framework != e.framework:
                raise NotApplicable(f"the factory builds a {e.framework} object")
            reading = read_object(_factory(e.factory)(**spec_values(e, values)))
            if reading.source.framework != e.framework:
                raise SpecError(f"the factory {e.factory} built a {reading.source.framework} object, not {e.framework}")
            return reading
        # a bad config raises SpecError before building; the native totals only where the entry counts one;
        # a forward pass only where it counts compute
        compute, train = is_compute(e.counts, self.spec.counters), is_training(e.counts)
        return count(self.config(values), framework=self.target,
                     native=e.counts.startswith("native:") and not compute, measure=compute, breakdown=False,
                     train=train)

    def __call__(self, values: Mapping[str, int]) -> int:
        return counted(self.reading(values), self.entry.counts, self.target)


def _factory(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise SpecError(f"cannot import the factory {path!r} ({type(e).__name__}: {e})") from None


def canonical_measurer(entry: Entry, spec: Spec) -> Callable[[Mapping[str, int]], int] | None:
    """The spec's canonical formula as a reader (no framework), for a kind's params, state,
    total, macs or flops (2 x macs)."""
    if not entry.kind or entry.counts not in ("params", "state", "total", "macs", "flops", *TRAINING_COUNTS):
        return None
    kind = spec.kinds[entry.kind]
    if is_training(entry.counts):
        return _canonical_training(entry, spec)

    def measure(values: Mapping[str, int]) -> int:
        cfg = kind.apply_preset(spec_values(entry, values))
        if entry.counts in ("macs", "flops"):
            macs = kind.expected_compute(None, kind.resolve(cfg)).macs
            return macs if entry.counts == "macs" else 2 * macs
        e = kind.expected(None, kind.resolve(cfg))
        return {"params": e.params, "state": e.state, "total": e.params + e.state}[entry.counts]

    return measure



def _canonical_training(entry: Entry, spec: Spec) -> Callable[[Mapping[str, int]], int] | None:
    """The spec's canonical figure of a training step for ``entry.counts`` (None where the spec
    has none: the activations of a kind with no formula for them)."""
    from ..kinds import Case
    from ..training import expected_step, training_spec

    kind = spec.kinds[entry.kind]
    if entry.counts == "activations_bytes" and kind.training.activations is None:
        return None

    def measure(values: Mapping[str, int]) -> int:
        resolved = kind.resolve(kind.apply_preset(spec_values(entry, values)))
        case = Case(kind, resolved, kind.case_id(resolved))
        if entry.counts in ("gradients_bytes", "optimizer_bytes"):
            params = kind.expected(None, resolved).params
            return 4 * params if entry.counts == "gradients_bytes" else \
                training_spec().optimizers["adamw"].state_bytes([(params,)])[0]  # linear in the elements
        e = expected_step(case)
        return {"backward_macs": e.backward_macs, "backward_flops": 2 * e.backward_macs,
                "step_flops": 2 * e.step_macs, "activations_bytes": e.canonical_activations}[entry.counts]
    return measure


def attribute(entry: Entry, measurer: Measurer, formula_points: list[dict[str, int]]) -> str:
    """Which tensors make up the difference (framework - formula), checked at two configs."""
    pts = formula_points[:2]
    readings = [measurer.reading(p) for p in pts]
    diffs = [counted(r, entry.counts, measurer.target) - entry.formula.evaluate(dict(p))  # type: ignore[union-attr]
             for r, p in zip(readings, pts)]
    return explain_difference(readings, diffs, entry.counts)



def audit_target(course: Course, target_name: str, spec: Spec | None = None) -> dict[str, Any]:
    """One target's part of the audit: per entry, the verdict, the difference and the reason,
    and the readings at each worked example."""
    spec = spec or load_spec()
    fw = target_of(target_name).framework
    out: dict[str, Any] = {}
    for entry in course.entries:
        res: dict[str, Any] = {}
        if not entry.kind and not entry.factory:
            out[entry.id] = {"verdict": "n/a", "difference": None, "example_readings": [],
                             "reason": "an arithmetic check only: the entry names no layer or model"}
            continue
        measurer = Measurer(entry, target_name, spec)
        kind = spec.kinds.get(entry.kind) if entry.kind else None
        try:
            examples_at = [dict(ex.values) for ex in entry.examples]
            if entry.formula is not None:
                d = fit_difference(entry, measurer, spec, examples_at)
                if d.verdict == "disagrees" and is_compute(entry.counts, spec.counters):
                    # the fit measured without a full per-op table; the first fitted config again, with one
                    first = dict(next(iter(measurer.readings)))
                    full = count(measurer.config(first), framework=target_name, native=False, measure=True)
                    d.reason = "; ".join(x for x in (d.reason, explain_compute(full)) if x)
                elif d.verdict == "disagrees" and d.polynomial:
                    fitted = [dict(k) for k in measurer.readings]
                    found = attribute(entry, measurer, fitted)
                    conv = kind.convention(fw) if kind else None
                    relevant = conv and ((entry.counts == "params" and conv.params)
                                         or (entry.counts in ("state", "total") and conv.state))
                    why = [x for x in (found, f"{fw} convention: {conv.why}" if relevant else "") if x]
                    d.reason = "; ".join(why)
                res = d.to_dict()
            else:
                res = {"verdict": "n/a", "difference": None, "polynomial": True,
                       "reason": "no formula: the entry is a claim about the model (see its examples)"}
            readings = []
            for ex in entry.examples:
                try:
                    readings.append(measurer(dict(ex.values)))
                except SpecError as e:
                    readings.append(f"bad example config: {e}")
            res["example_readings"] = readings
            res["framework_version"] = next(iter(measurer.readings.values())).source.version \
                if measurer.readings else ""
        except NotApplicable as e:
            res = {"verdict": "n/a", "difference": None, "reason": e.reason, "example_readings": []}
        except SpecError:
            raise
        except Exception as e:  # a framework error building a sampled config: this entry fails here
            res = {"verdict": "error", "difference": None, "example_readings": [],
                   "reason": f"building failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"}
        out[entry.id] = res
    return out


def audit(course: Course, targets: list[str], per_target: Mapping[str, dict[str, Any]],
          spec: Spec | None = None) -> dict[str, Any]:
    """Merge the targets' parts with the canonical formula and the worked examples' arithmetic."""
    spec = spec or load_spec()
    entries = []
    problems: list[str] = []  # one a claim: a formula, a worked step, a bottom line
    for entry in course.entries:
        e: dict[str, Any] = {"id": entry.id, "where": entry.where, "text": entry.text,
                             "formula": str(entry.formula) if entry.formula else None, "counts": entry.counts,
                             "kind": entry.kind, "factory": entry.factory, "variables": entry.variables,
                             "fixed": entry.fixed, "note": entry.note, "frameworks": {}}
        canon = canonical_measurer(entry, spec)
        if canon is not None and entry.formula is not None:
            e["canonical"] = fit_difference(entry, canon, spec, [dict(x.values) for x in entry.examples]).to_dict()
        for t in targets:
            part = dict(per_target[t][entry.id])
            e["frameworks"][t] = {k: v for k, v in part.items() if k != "example_readings"}
        wrong_in = [t for t in targets if e["frameworks"][t]["verdict"] in ("disagrees", "error")]
        canonical_wrong = e.get("canonical", {}).get("verdict") == "disagrees"
        if canonical_wrong or wrong_in:
            where = (["the canonical formula"] if canonical_wrong else []) + (
                [f"{len(wrong_in)} of {len(targets)} frameworks ({', '.join(wrong_in)})"] if wrong_in else [])
            problems.append(f"{entry.id}: the formula `{entry.formula}` disagrees with {' and '.join(where)}")
        exs = []
        for i, ex in enumerate(entry.examples):
            claims = check_example(entry, ex)
            final = final_claim(ex)
            at = ex.claims.index(final) if final is not None else None
            vals = ", ".join(f"{k}={v}" for k, v in ex.values.items())
            # a wrong step counts once; the bottom line counts once, wrong by arithmetic or in a framework
            problems += [f"{entry.id} ({vals}): the step `{c['of']}` is {c['formula_value']:,}, not {c['claimed']:,}"
                         for j, c in enumerate(claims) if j != at and c["arithmetic_ok"] is False]
            truth = {}
            if final is not None:
                for t in targets:
                    readings = per_target[t][entry.id].get("example_readings") or []
                    got = readings[i] if i < len(readings) else None
                    truth[t] = {"reading": got,
                                "claim_true": final.matches(got) if isinstance(got, int) else None}
                false_in = [t for t, v in truth.items() if v["claim_true"] is False]
                if claims[at]["arithmetic_ok"] is False or false_in:
                    why = (["its arithmetic"] if claims[at]["arithmetic_ok"] is False else []) + (
                        [f"the model in {len(false_in)} of {len(targets)} frameworks"] if false_in else [])
                    problems.append(f"{entry.id} ({vals}): the text's {final.value:,} is wrong by {' and by '.join(why)}")
            exs.append({"values": ex.values, "text": ex.text, "claims": claims,
                        "claimed": final.value if final else None,
                        "formula_value": claims[at]["formula_value"] if final else None,
                        "readings": {t: v["reading"] for t, v in truth.items()},
                        "true_in": {t: v["claim_true"] for t, v in truth.items()},
                        "arithmetic_ok": all(c["arithmetic_ok"] is not False for c in claims)})
        e["examples"] = exs
        entries.append(e)
    return {"course": course.name, "file": course.path, "source": course.source, "targets": targets,
            "entries": entries, "problems": len(problems), "problem_list": problems}
