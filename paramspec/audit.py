"""``paramspec audit``: check a course's formulas and worked examples against every framework.

A course file (``spec/courses/*.yaml``, format in ``course.schema.json`` and the README) holds
entries: a formula as the author wrote it, in the author's variable names; what it claims to
count (a spec kind or model family, or the import path of the user's own layer factory;
``params``, ``state``, ``total`` or a framework's ``native:<name>``); the mapping from the
author's variables to the spec's; and worked examples with every number the text claims.

For each entry and framework the audit builds the layer at sampled configs, reads it, and
fits the difference (framework - formula) exactly, as a polynomial in the author's own
variables, with rational arithmetic (``paramspec.symbolic``). It raises the degree until a
fit holds on configs it was not fitted on, up to ``max_degree``; past that it says the
difference is not such a polynomial. Where the spec records the framework's convention it
names it, and it names the tensors that make up the difference.
"""
from __future__ import annotations

import importlib
import random
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from . import yamlio
from .errors import FormulaError, NotApplicable, SpecError
from .formula import Formula, parse
from .loader import Kind, Spec, load_spec, schema_check
from .reading import Reading

DEFAULT_MAX_DEGREE = 4
VERIFY_POINTS = 3


# ----------------------------------------------------------------------------- the course file
@dataclass(frozen=True)
class Claim:
    """A number the text claims. ``of`` is what it claims to be (an expression in the
    author's variables and earlier claims' ids); without ``of`` it is the entry's formula."""

    value: int
    of: Formula | None = None
    id: str | None = None
    text: str = ""
    approx: int | None = None  # "~10K": the claim is right if the truth rounds to it at this step

    def matches(self, truth: int | float) -> bool:
        if self.approx:
            return round(truth / self.approx) * self.approx == self.value
        return truth == self.value


@dataclass(frozen=True)
class Example:
    values: dict[str, int]
    claims: tuple[Claim, ...]
    text: str = ""


@dataclass
class Entry:
    id: str
    formula: Formula | None
    counts: str  # params | state | total | native:<name>
    kind: str | None  # a spec kind or model family
    factory: str | None  # "package.module:function" building the user's own layer
    variables: dict[str, str]  # author's name -> spec (or factory) variable
    fixed: dict[str, Any]
    examples: tuple[Example, ...]
    where: str = ""
    text: str = ""
    note: str = ""
    max_degree: int = DEFAULT_MAX_DEGREE
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    framework: str | None = None  # the framework a factory builds for


@dataclass
class Course:
    name: str
    path: str
    source: str
    about: str
    entries: list[Entry]


def load_course(path: Path | str, spec: Spec | None = None) -> Course:
    """Read and check a course file.

    Raises:
        SpecError: one line naming the file, the entry and what is wrong.
    """
    path = Path(path)
    where = str(path)
    data = yamlio.load_path(path)
    schema_check(data, "course.schema.json", where)
    spec = spec or load_spec()
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in data["entries"]:
        eid = raw["id"]
        at = f"{where}: {eid}"
        if eid in seen:
            raise SpecError(f"duplicate entry id {eid!r}", where)
        seen.add(eid)
        variables = dict(raw.get("variables") or {})
        kind_name = raw.get("kind") or raw.get("model")
        factory = raw.get("factory")
        if kind_name is not None:
            kind = spec.kind(kind_name, at)
            if ("model" in raw) != (kind.group == "models"):
                raise SpecError(f"{kind_name} is a {'model family: use model' if kind.group == 'models' else 'layer kind: use kind'}", at)
            for author, spec_var in variables.items():
                if base_variable(spec_var) not in kind.variables:
                    raise SpecError(f"variables.{author}: {spec_var!r} is not a variable of {kind_name} "
                                    f"(known: {', '.join(kind.variables)})", at)
            for name in raw.get("fixed") or {}:
                if name != "preset" and name not in kind.variables:
                    raise SpecError(f"fixed.{name}: not a variable of {kind_name}", at)
        elif factory is not None:
            if ":" not in factory:
                raise SpecError(f"factory {factory!r} must be 'package.module:function'", at)
            if "framework" not in raw:
                raise SpecError("a factory entry needs `framework` (torch, keras, flax-linen or flax-nnx)", at)
        formula = None
        if raw.get("formula") is not None:
            formula = parse(raw["formula"], f"{at}.formula")
            unknown = sorted(formula.names - set(variables))
            if unknown:
                raise FormulaError(f"`{unknown[0]}` is not one of the entry's variables "
                                   f"({', '.join(variables) or 'none'})", f"{at}.formula")
        counts = raw.get("counts", "params")
        examples = []
        for i, ex in enumerate(raw.get("examples") or []):
            ex_at = f"{at}.examples[{i}]"
            values = dict(ex.get("values") or {})
            missing = sorted(set(variables) - set(values))
            if missing:
                raise SpecError(f"no value for `{missing[0]}`", ex_at)
            extra = sorted(set(values) - set(variables))
            if extra:
                raise SpecError(f"`{extra[0]}` is not one of the entry's variables", ex_at)
            claims: list[Claim] = []
            ids: set[str] = set()
            for j, c in enumerate(ex["claims"]):
                of = None
                if c.get("of") is not None:
                    of = parse(c["of"], f"{ex_at}.claims[{j}].of")
                    unknown = sorted(of.names - set(variables) - ids)
                    if unknown:
                        raise FormulaError(f"`{unknown[0]}` is neither a variable nor an earlier claim's id",
                                           f"{ex_at}.claims[{j}].of")
                elif formula is None:
                    pass  # a bare claim about the model (truth only)
                claim = Claim(int(c["value"]), of, c.get("id"), c.get("text", ""), c.get("approx"))
                if claim.id:
                    if claim.id in variables or claim.id in ids:
                        raise SpecError(f"claim id {claim.id!r} is already used", f"{ex_at}.claims[{j}]")
                    ids.add(claim.id)
                claims.append(claim)
            examples.append(Example(values, tuple(claims), ex.get("text", "")))
        ranges = {k: (int(v[0]), int(v[1])) for k, v in (raw.get("ranges") or {}).items()}
        for k in ranges:
            if k not in variables:
                raise SpecError(f"ranges.{k}: not one of the entry's variables", at)
        entries.append(Entry(eid, formula, counts, kind_name, factory, variables, dict(raw.get("fixed") or {}),
                             tuple(examples), raw.get("where", ""), raw.get("text", ""), raw.get("note", ""),
                             int(raw.get("max_degree", DEFAULT_MAX_DEGREE)), ranges, raw.get("framework")))
    shown = path.resolve()
    try:
        shown = shown.relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    return Course(data.get("course", path.stem), str(shown), data.get("source", ""), data.get("about", ""), entries)


# ----------------------------------------------------------------------------- measuring
_INDEXED = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\[(\d)\]$")


def spec_values(entry: Entry, values: Mapping[str, Any]) -> dict[str, Any]:
    """The author's values as spec variables; ``kernel_size[0]`` and ``kernel_size[1]`` build
    one list from two author variables (k_h, k_w)."""
    out: dict[str, Any] = dict(entry.fixed)
    parts: dict[str, dict[int, Any]] = {}
    for author, target in entry.variables.items():
        m = _INDEXED.match(target)
        if m:
            parts.setdefault(m.group(1), {})[int(m.group(2))] = values[author]
        else:
            out[target] = values[author]
    for name, items in parts.items():
        out[name] = [items[i] for i in sorted(items)]
    return out


def base_variable(target: str) -> str:
    m = _INDEXED.match(target)
    return m.group(1) if m else target

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

    def _read(self, values: Mapping[str, int]) -> Reading:
        from .api import count

        e = self.entry
        if e.factory:
            from .targets import TARGETS
            from .testing import read_object

            if TARGETS[self.target].framework != e.framework:
                raise NotApplicable(f"the factory builds a {e.framework} object")
            reading = read_object(_factory(e.factory)(**spec_values(e, values)))
            if reading.framework != e.framework:
                raise SpecError(f"the factory {e.factory} built a {reading.framework} object, not {e.framework}")
            return reading
        r = count(self.config(values), framework=self.target)  # a bad config raises SpecError before building
        return Reading(r.framework, r.target, r.framework_version, r.built, r.tensors, r.native)

    def __call__(self, values: Mapping[str, int]) -> int:
        return counted(self.reading(values), self.entry.counts, self.target)


def counted(reading: Reading, counts: str, target: str) -> int:
    if counts == "params":
        return reading.trainable
    if counts == "state":
        return reading.non_trainable
    if counts == "total":
        return reading.trainable + reading.non_trainable
    name = counts.split(":", 1)[1]
    if name not in reading.native:
        raise NotApplicable(f"{target} reports no native total {name!r}")
    return reading.native[name]


def _factory(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise SpecError(f"cannot import the factory {path!r} ({type(e).__name__}: {e})") from None


def canonical_measurer(entry: Entry, spec: Spec) -> Callable[[Mapping[str, int]], int] | None:
    """The spec's canonical formula as a reader (no framework), for a kind's params or state."""
    if not entry.kind or entry.counts not in ("params", "state", "total"):
        return None
    kind = spec.kinds[entry.kind]

    def measure(values: Mapping[str, int]) -> int:
        cfg = kind.apply_preset(spec_values(entry, values))
        e = kind.expected(None, kind.resolve(cfg))
        return {"params": e.params, "state": e.state, "total": e.params + e.state}[entry.counts]

    return measure


# ----------------------------------------------------------------------------- fitting
@dataclass
class Difference:
    verdict: str  # agrees | disagrees | n/a
    difference: str | None = None  # framework - formula, in the author's variables
    reason: str = ""
    points: int = 0
    polynomial: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "difference": self.difference, "reason": self.reason,
                "configs": self.points, "polynomial": self.polynomial}


def _sampler(entry: Entry, spec: Spec) -> Callable[[random.Random], dict[str, int]]:
    kind: Kind | None = spec.kinds.get(entry.kind) if entry.kind else None

    def sample(rng: random.Random) -> dict[str, int]:
        out = {}
        for author, spec_var in entry.variables.items():
            var = kind.variables.get(base_variable(spec_var)) if kind else None
            if var is not None and var.type == "bool":
                out[author] = rng.random() < 0.5
                continue
            lo, hi = entry.ranges.get(author, (2, 40))
            if var is not None and var.min is not None:
                lo = max(lo, int(var.min))
            out[author] = rng.randint(lo, hi)
        return out

    return sample


def fit_difference(entry: Entry, measure: Callable[[Mapping[str, int]], int], spec: Spec,
                   extra_points: list[dict[str, int]] = ()) -> Difference:
    """Fit ``measure - formula`` as a polynomial in the author's variables, and confirm it on
    configs it was not fitted on (plus ``extra_points``: the worked examples)."""
    from . import symbolic

    names = list(entry.variables)
    kind = spec.kinds.get(entry.kind) if entry.kind else None
    binary = frozenset(a for a, s in entry.variables.items()
                       if kind and s in kind.variables and kind.variables[s].type == "bool")  # 0/1 variables
    rng = random.Random(zlib.crc32(entry.id.encode()))
    sample = _sampler(entry, spec)
    points: list[dict[str, int]] = []
    diffs: list[int] = []

    def formula_value(p: Mapping[str, int]) -> int:
        v = entry.formula.evaluate(dict(p))  # type: ignore[union-attr]
        return v

    def take(n: int) -> None:
        tries = 0
        while n > 0:
            tries += 1
            if tries > 400:
                raise SpecError(f"could not sample valid configs for {entry.id} (set `ranges`)")
            p = sample(rng)
            if p in points:
                continue
            try:
                got = measure(p)
            except SpecError:
                continue  # e.g. not divisible by num_heads: draw another
            points.append(p)
            diffs.append(got - formula_value(p))
            n -= 1

    if not names:  # no variables: one config, a constant difference
        d = measure({}) - formula_value({})
        return Difference("agrees", "0", points=1) if d == 0 else Difference("disagrees", str(d), points=1)
    take(2)
    for deg in range(0, entry.max_degree + 1):
        need = len(symbolic.monomials(names, deg, binary)) + 1
        if len(points) < need:
            take(need - len(points))
        expr = symbolic.fit(points, diffs, names, deg, binary)
        if expr is None:
            continue
        fitted = len(points)
        take(VERIFY_POINTS)
        checks = list(zip(points[fitted:], diffs[fitted:]))
        for p in extra_points:
            try:
                checks.append((p, measure(p) - formula_value(p)))
            except SpecError:
                pass
        if all(symbolic.evaluate(expr, p) == d for p, d in checks):
            if expr == 0:
                return Difference("agrees", "0", points=len(points))
            return Difference("disagrees", symbolic.show(expr), points=len(points))
    return Difference("disagrees", None, f"the difference is not a polynomial of degree <= {entry.max_degree} "
                      f"in {', '.join(names)}", len(points), polynomial=False)


_INDEX = re.compile(r"(?<=[./_])\d+(?=[./]|$)")
_DIGITS = re.compile(r"\d+")


def _pattern(name: str) -> str:
    """A tensor name with its layer indices starred: ``h.3.attn.bias`` -> ``h.*.attn.bias``."""
    return _INDEX.sub("*", name)


def _coarse(name: str) -> str:
    """Every digit run starred: ``blocks.0.norm1.weight`` -> ``blocks.*.norm*.weight``."""
    return _DIGITS.sub("*", name)


def attribute(entry: Entry, measurer: Measurer, formula_points: list[dict[str, int]]) -> str:
    """Which tensors make up the difference (framework - formula), checked at two configs."""
    pts = formula_points[:2]
    readings = [measurer.reading(p) for p in pts]
    diffs = [counted(r, entry.counts, measurer.target) - entry.formula.evaluate(dict(p))  # type: ignore[union-attr]
             for r, p in zip(readings, pts)]
    return explain_difference(readings, diffs, entry.counts)


def explain_difference(readings: list[Reading], diffs: list[Any], counts: str = "params") -> str:
    """Which tensors make up ``diffs`` (reading - formula), at every reading given.

    Candidate groups: one tensor; every tensor with one leaf name (``bias``), overall or
    under one module; name patterns with layer indices starred (``h.*.ln_1.weight``); the
    non-trainable state. It looks for one group, then sets of up to four, and says when a
    group of the same size could stand in for one it names (sizes alone cannot tell them apart).
    """
    import itertools

    if any(d <= 0 for d in diffs):
        return "the formula counts more than the framework holds" if all(d < 0 for d in diffs) else ""
    keep = (lambda t: t.trainable) if counts == "params" else \
        ((lambda t: not t.trainable) if counts == "state" else (lambda t: True))
    totals: list[dict[str, int]] = [{} for _ in readings]  # group label -> elements, per config
    members: dict[str, set[str]] = {}
    for i, r in enumerate(readings):
        for t in r.tensors:
            if not keep(t):
                continue
            parts = t.name.replace("/", ".").split(".")
            labels = [f"`{t.name}`", f"every `{parts[-1]}` tensor", f"`{_pattern(t.name)}`", f"`{_coarse(t.name)}`"]
            labels += [f"every `{parts[-1]}` in `{'.'.join(parts[:k])}`" for k in range(1, len(parts) - 1)]
            if not t.trainable and counts != "state":
                labels.append("the non-trainable state")
            for label in dict.fromkeys(labels):
                totals[i][label] = totals[i].get(label, 0) + t.numel
                members.setdefault(label, set()).add(_pattern(t.name))
    # a group is worth naming if it is the only name for its members
    seen: dict[frozenset, str] = {}
    for label in totals[0]:
        key = frozenset(members[label])
        if key not in seen or (len(label) < len(seen[key]) and not label.startswith("every")):
            seen[key] = label
    labels = [lab for lab in seen.values() if all(lab in tot for tot in totals)]
    fits = [lab for lab in labels if all(tot[lab] <= d for tot, d in zip(totals, diffs))]

    def same_size(combo: tuple[str, ...]) -> list[str]:
        out = []
        for lab in combo:
            for other in fits:
                if other not in combo and not (members[other] & members[lab]) \
                        and all(tot[other] == tot[lab] for tot in totals) and other.startswith("`"):
                    out.append(f"{other} could stand in for {lab}")
                    break
        return out

    def say(combo: tuple[str, ...]) -> str:
        listed = combo[0] if len(combo) == 1 else ", ".join(combo[:-1]) + f" and {combo[-1]}"
        alt = same_size(combo)
        return f"the difference is exactly {listed}" + (f" ({'; '.join(alt)}: same size)" if alt else "")

    order = sorted(fits, key=lambda lab: (not lab.startswith("the"), not lab.startswith("every"), "*" in lab,
                                          len(members[lab])))
    for lab in order:
        if all(tot[lab] == d for tot, d in zip(totals, diffs)):
            return say((lab,))
    pool = order[:48]
    for size in range(2, 5):
        for combo in itertools.combinations(pool, size):
            if any(members[a] & members[b] for a, b in itertools.combinations(combo, 2)):
                continue
            if all(sum(tot[lab] for lab in combo) == d for tot, d in zip(totals, diffs)):
                return say(combo)
    return ""


# ----------------------------------------------------------------------------- examples
def check_example(entry: Entry, ex: Example) -> list[dict[str, Any]]:
    """Arithmetic: does each claimed number follow from the formula (and from the text's own
    earlier numbers)?"""
    true_env: dict[str, Any] = dict(ex.values)
    text_env: dict[str, Any] = dict(ex.values)
    out = []
    for c in ex.claims:
        f = c.of or entry.formula
        value = text_value = None
        if f is not None:
            value = f.evaluate_int(true_env)
            text_value = f.evaluate_int(text_env)
        row = {"text": c.text, "of": str(c.of) if c.of else (str(entry.formula) if entry.formula else None),
               "claimed": c.value, "formula_value": value,
               "arithmetic_ok": None if value is None else c.matches(value),
               "follows_from_the_text": None if text_value is None else c.matches(text_value)}
        if c.approx:
            row["approx"] = c.approx
        if c.id:
            row["id"] = c.id
            true_env[c.id] = value if value is not None else c.value
            text_env[c.id] = c.value
        out.append(row)
    return out


def final_claim(ex: Example) -> Claim | None:
    """The example's bottom line: its last claim that is the entry's own formula."""
    bare = [c for c in ex.claims if c.of is None]
    return bare[-1] if bare else None


# ----------------------------------------------------------------------------- running
def audit_target(course: Course, target: str, spec: Spec | None = None) -> dict[str, Any]:
    """One target's part of the audit: per entry, the verdict, the difference and the reason,
    and the readings at each worked example."""
    spec = spec or load_spec()
    fw = target.split("-jax")[0] if target.startswith("keras") else target
    out: dict[str, Any] = {}
    for entry in course.entries:
        res: dict[str, Any] = {}
        if not entry.kind and not entry.factory:
            out[entry.id] = {"verdict": "n/a", "difference": None, "example_readings": [],
                             "reason": "an arithmetic check only: the entry names no layer or model"}
            continue
        measurer = Measurer(entry, target, spec)
        kind = spec.kinds.get(entry.kind) if entry.kind else None
        try:
            examples_at = [dict(ex.values) for ex in entry.examples]
            if entry.formula is not None:
                d = fit_difference(entry, measurer, spec, examples_at)
                if d.verdict == "disagrees" and d.polynomial:
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
            res["framework_version"] = next(iter(measurer.readings.values())).framework_version \
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
    wrong = 0
    for entry in course.entries:
        e: dict[str, Any] = {"id": entry.id, "where": entry.where, "text": entry.text,
                             "formula": str(entry.formula) if entry.formula else None, "counts": entry.counts,
                             "kind": entry.kind, "factory": entry.factory, "variables": entry.variables,
                             "fixed": entry.fixed, "note": entry.note, "frameworks": {}}
        canon = canonical_measurer(entry, spec)
        if canon is not None and entry.formula is not None:
            e["canonical"] = fit_difference(entry, canon, spec, [dict(x.values) for x in entry.examples]).to_dict()
            wrong += e["canonical"]["verdict"] == "disagrees"
        for t in targets:
            part = dict(per_target[t][entry.id])
            e["frameworks"][t] = {k: v for k, v in part.items() if k != "example_readings"}
            wrong += part["verdict"] in ("disagrees", "error")
        exs = []
        for i, ex in enumerate(entry.examples):
            claims = check_example(entry, ex)
            final = final_claim(ex)
            at = ex.claims.index(final) if final is not None else None
            # a wrong step counts once; the bottom line counts once, wrong by arithmetic or in a framework
            wrong += sum(c["arithmetic_ok"] is False for j, c in enumerate(claims) if j != at)
            truth = {}
            if final is not None:
                for t in targets:
                    readings = per_target[t][entry.id].get("example_readings") or []
                    got = readings[i] if i < len(readings) else None
                    truth[t] = {"reading": got,
                                "claim_true": final.matches(got) if isinstance(got, int) else None}
                wrong += claims[at]["arithmetic_ok"] is False or any(v["claim_true"] is False for v in truth.values())
            exs.append({"values": ex.values, "text": ex.text, "claims": claims,
                        "claimed": final.value if final else None,
                        "formula_value": claims[at]["formula_value"] if final else None,
                        "readings": {t: v["reading"] for t, v in truth.items()},
                        "true_in": {t: v["claim_true"] for t, v in truth.items()},
                        "arithmetic_ok": all(c["arithmetic_ok"] is not False for c in claims)})
        e["examples"] = exs
        entries.append(e)
    return {"course": course.name, "file": course.path, "source": course.source, "targets": targets,
            "entries": entries, "problems": wrong}


# ----------------------------------------------------------------------------- rendering
def _fmt(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else ("-" if v is None else str(v))


def _off_by(claimed: int, true: int | None) -> str:
    """`` (off by 10×)`` when the claim is the truth times a power of ten."""
    if not true or not claimed or claimed == true:
        return ""
    for k in range(1, 7):
        if claimed == true * 10 ** k or true == claimed * 10 ** k:
            return f" (off by {10 ** k:,}×)"
    return ""


def markdown(report: dict[str, Any]) -> str:
    """A review comment an author can paste."""
    t = report["targets"]
    out = [f"# paramspec audit: {report['course']}", ""]
    if report["source"]:
        out.append(f"Source: `{report['source']}`. Course file: `{report['file']}`.")
        out.append("")
    out.append("Each cell is the verdict for the formula as written, and where it disagrees, the exact "
               "difference (framework − formula) in the author's own variables.")
    out.append("")
    out.append("| entry | formula | counts | canonical | " + " | ".join(t) + " |")
    out.append("| --- | --- | --- | --- | " + " | ".join("---" for _ in t) + " |")
    for e in report["entries"]:
        def cell(r: dict[str, Any] | None) -> str:
            if not r:
                return "-"
            if r["verdict"] == "agrees":
                return "✓"
            if r["verdict"] == "n/a":
                return "n/a"
            return f"✗ `{r['difference']}`" if r.get("difference") else "✗ (not polynomial)"
        out.append(f"| {e['id']} | `{e['formula'] or '(a claim)'}` | {e['counts']} | {cell(e.get('canonical'))} | "
                   + " | ".join(cell(e["frameworks"].get(x)) for x in t) + " |")
    out += ["", "## Findings", ""]
    n = 0
    seen: set[tuple] = set()
    for e in report["entries"]:
        for x in t:
            r = e["frameworks"][x]
            if r["verdict"] == "disagrees":
                n += 1
                diff = f"is short by `{r['difference']}`" if r.get("difference") else "differs"
                out.append(f"- **{e['id']}** in {x}: the formula {diff}" + (f": {r['reason']}" if r.get("reason") else "") + ".")
        for ex in e["examples"]:
            vals = ", ".join(f"{k}={v}" for k, v in ex["values"].items())
            for c in ex["claims"][:-1] if ex["claimed"] is not None else ex["claims"]:
                key = (c["text"], c["claimed"], c["formula_value"])
                if c["arithmetic_ok"] is False and key not in seen:
                    seen.add(key)
                    n += 1
                    kind = ("follows from the text's own wrong numbers" if c["follows_from_the_text"]
                            else "an arithmetic error" + _off_by(c["claimed"], c["formula_value"]))
                    out.append(f"- **{e['id']}** ({vals}): `{c['of']}` is {_fmt(c['formula_value'])}, not "
                               f"{_fmt(c['claimed'])}: {kind}." + (f" The text: “{c['text']}”." if c["text"] else ""))
            if ex["claimed"] is not None:
                final = ex["claims"][-1]
                wrong_sum = final["arithmetic_ok"] is False
                bad = {x: v for x, v in ex["readings"].items() if isinstance(v, int) and not ex["true_in"][x]}
                if wrong_sum or bad:
                    n += 1
                    reads = ", ".join(f"{_fmt(v)} in {x}" for x, v in ex["readings"].items() if isinstance(v, int))
                    formula = f"; the formula gives {_fmt(ex['formula_value'])}" if ex["formula_value"] is not None else ""
                    model = f"; the model has {reads}" if reads else ""
                    off = _off_by(ex["claimed"], ex["formula_value"]) if wrong_sum else ""
                    out.append(f"- **{e['id']}** ({vals}): the text claims {_fmt(ex['claimed'])}{off}{formula}{model}."
                               + (f" The text: “{final['text']}”." if final["text"] else ""))
    for e in report["entries"]:
        for x in t:
            r = e["frameworks"][x]
            if r["verdict"] == "n/a" and e.get("kind"):
                out.append(f"- {e['id']} in {x}: n/a ({r['reason']}).")
    if n == 0:
        out.append("Every formula and worked example agrees with every framework.")
    return "\n".join(out) + "\n"


def text_table(report: dict[str, Any]) -> str:
    t = report["targets"]
    rows = [["entry", "counts", "canonical", *t]]
    for e in report["entries"]:
        def cell(r: dict[str, Any] | None) -> str:
            if not r:
                return "-"
            return {"agrees": "✓", "n/a": "n/a"}.get(r["verdict"], f"✗ {r.get('difference') or 'not polynomial'}")
        rows.append([e["id"], e["counts"], cell(e.get("canonical")), *[cell(e["frameworks"].get(x)) for x in t]])
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    lines.append("")
    for e in report["entries"]:
        for ex in e["examples"]:
            vals = ", ".join(f"{k}={v}" for k, v in ex["values"].items())
            for c in ex["claims"]:
                mark = "ok" if c["arithmetic_ok"] else ("WRONG" if c["arithmetic_ok"] is False else "")
                lines.append(f"{e['id']} ({vals}): claims {_fmt(c['claimed'])} for `{c['of'] or '(the model)'}`"
                             f" = {_fmt(c['formula_value'])} {mark}".rstrip())
            if ex["readings"]:
                lines.append(f"{e['id']} ({vals}): the model reads "
                             + ", ".join(f"{_fmt(v)} in {x}" for x, v in ex["readings"].items()))
    lines.append(f"\n{report['problems']} problem(s)")
    return "\n".join(lines)
