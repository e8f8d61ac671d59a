"""The course file (``spec/courses/*.yaml``; its format is ``spec/course.schema.json``).

Each entry holds a formula as the author wrote it, in the author's variable names; what it
claims to count; the mapping from the author's variables to the spec's; and worked examples
with every number the text claims.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .. import yamlio
from ..errors import FormulaError, SpecError
from ..formula import Formula, parse
from ..hints import suggest
from ..kinds import Spec
from ..loader import load_spec
from .attribution import TRAINING_COUNTS
from ..schema import schema_check

DEFAULT_MAX_DEGREE = 4


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
    counts: str  # params | state | total | native:<name> | macs | flops | native:<counter> | a training count
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
                    raise SpecError(f"variables.{author}: {spec_var!r} is not a variable of {kind_name}"
                                    f"{suggest(base_variable(spec_var), kind.variables)}; known: "
                                    f"{', '.join(kind.variables)}", at)
            for name in raw.get("fixed") or {}:
                if name != "preset" and name not in kind.variables:
                    raise SpecError(f"fixed.{name}: not a variable of {kind_name}{suggest(name, kind.variables)}", at)
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
        if counts in ("macs", "flops", *TRAINING_COUNTS) or (counts.startswith("native:")
                                                              and counts.split(":", 1)[1] in spec.counters):
            if kind_name is None:
                raise SpecError(f"counts {counts}: a forward pass needs a spec kind or model (its inputs), "
                                "not a factory", at)
            if kind_name is not None and spec.kinds[kind_name].macs is None:
                raise SpecError(f"counts {counts}: {kind_name} has no macs formula in the spec", at)
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
