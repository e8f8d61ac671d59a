"""Load and validate the spec: kinds, their variables, formulas, conventions and cases.

The spec lives in ``spec/`` (installed as ``paramspec/spec``):

- ``frameworks.yaml``: the four frameworks and the native totals each reports;
- ``layers/*.yaml``: one file per layer family, each a list of kinds (see ``schema.json``).

Loading checks the files against the JSON Schema and then checks what a schema cannot:
every formula parses and names only known variables, case ids are unique, each kind has a
case with every option at its default, every option is exercised by some case, and every
formula gives a whole, non-negative count on every case.

Example:
    >>> spec = load_spec()
    >>> kind = spec.kind("LSTM")
    >>> kind.expected("torch", kind.resolve({"input_size": 300, "hidden_size": 128})).params
    220160
"""
from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Mapping
from typing import Any

from . import yamlio
from ._layout import spec_root
from .errors import FormulaError, SpecError
from .formula import Formula, Helper, parse

FRAMEWORKS: tuple[str, ...] = ("torch", "keras", "flax-linen", "flax-nnx")
GROUPS: tuple[str, ...] = ("layers", "models")
_MISSING = object()


# --------------------------------------------------------------------------- variables
@dataclass(frozen=True)
class Variable:
    """One variable of a kind: a constructor argument that changes a count.

    A variable without a default is a required dimension; one with a default is an option.
    """

    name: str
    type: str
    abbr: str
    default: Any = _MISSING
    min: float | None = None
    max: float | None = None
    length: int | None = None
    choices: tuple | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def describe(self) -> str:
        """The accepted values, in words (for error messages and the README)."""
        bounds = ""
        if self.min is not None and self.max is not None:
            bounds = f" in {self.min:g}..{self.max:g}"
        elif self.min is not None:
            bounds = f" >= {self.min:g}"
        elif self.max is not None:
            bounds = f" <= {self.max:g}"
        if self.type == "int":
            return f"an integer{bounds}"
        if self.type == "float":
            return f"a number{bounds}"
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(map(str, self.choices or ()))
        n = f"{self.length} " if self.length else ""
        return f"an integer or a list of {n}integers{bounds}"

    def coerce(self, value: Any) -> Any:
        """Check ``value`` and return it normalized (``ints`` become tuples).

        Raises:
            SpecError: ``hidden_size must be an integer >= 1, got -5``.
        """
        bad = SpecError(f"{self.name} must be {self.describe()}, got {json.dumps(value, default=str)}")
        if value is None and self.default is None:
            return None  # an unset optional integer (torch's `kdim=None`)
        if self.type == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        if self.type == "choice":
            if isinstance(value, bool) or value not in (self.choices or ()):
                raise bad
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
            self._bounds(value, bad)
            return value
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise bad
            self._bounds(value, bad)
            return value
        # ints: an int broadcasts to `length`, or a list of ints
        if isinstance(value, int) and not isinstance(value, bool):
            items = [value] * (self.length or 1)
        elif isinstance(value, (list, tuple)) and value:
            items = list(value)
        else:
            raise bad
        if self.length is not None and len(items) != self.length:
            raise bad
        if len(items) > 8:
            raise bad
        for v in items:
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad
            self._bounds(v, bad)
        return tuple(items)

    def _bounds(self, v: float, bad: SpecError) -> None:
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            raise bad
        if abs(v) > 2**62:
            raise bad

    def id_part(self, value: Any) -> str:
        """How ``value`` shows in a case id: ``h128``, ``bidir``, ``nobias``, ``k3x3``."""
        if self.type == "bool":
            return self.abbr if value else f"no{self.abbr}"
        if self.type == "ints":
            return self.abbr + "x".join(map(str, value))
        if self.type == "float":
            return f"{self.abbr}{value:g}"
        return f"{self.abbr}{value}"


# --------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class Convention:
    """A framework's own formula where it differs from the canonical one, and why."""

    frameworks: tuple[str, ...]
    why: str
    params: Formula | None = None
    state: Formula | None = None
    tied: Formula | None = None
    embedding: Formula | None = None


@dataclass(frozen=True)
class Published:
    """A published figure a model must reproduce, with its source."""

    preset: str
    source: str
    params: int | None = None
    framework: str | None = None
    native: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class HFMapping:
    """How a Hugging Face config.json of one model_type maps onto a family's variables."""

    model_type: str
    defaults: dict[str, Any]
    fixed: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NARule:
    """A case a framework cannot build (it lacks the layer or the option), and why."""

    frameworks: tuple[str, ...]
    why: str
    when: Formula | None = None


@dataclass(frozen=True)
class Requirement:
    """A condition a config must meet (``in_channels % groups == 0``)."""

    that: Formula
    message: str


@dataclass(frozen=True)
class Expected:
    """What the spec says a framework reads for one config."""

    params: int
    state: int
    params_formula: str
    state_formula: str
    canonical_params: int
    canonical_state: int
    convention: str | None = None  # the `why`, when the framework follows its own formula
    tied: int = 0  # elements a per-reference (state_dict) sum counts a second time
    embedding: int | None = None  # elements in embedding layers (None: the kind has no formula)

    def to_dict(self) -> dict:
        return {
            "params": self.params, "state": self.state,
            "params_formula": self.params_formula, "state_formula": self.state_formula,
            "canonical_params": self.canonical_params, "canonical_state": self.canonical_state,
            "convention": self.convention, "tied": self.tied, "embedding": self.embedding,
        }


# --------------------------------------------------------------------------- kinds and cases
@dataclass
class Kind:
    """A canonical layer (``LSTM``) with its variables, formulas, conventions and cases."""

    name: str
    summary: str
    file: str
    group: str
    variables: dict[str, Variable]
    let: dict[str, Formula]
    require: tuple[Requirement, ...]
    params: Formula
    state: Formula
    conventions: tuple[Convention, ...]
    not_applicable: tuple[NARule, ...]
    notes: tuple[tuple[tuple[str, ...], str], ...] = ()
    cases: list["Case"] = field(default_factory=list)
    helpers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # let functions: name -> params
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: tuple[Published, ...] = ()
    hf: tuple[HFMapping, ...] = ()
    embedding: Formula | None = None
    tied: Formula | None = None

    @property
    def where(self) -> str:
        return f"{self.file}: {self.name}"

    def resolve(self, values: Mapping[str, Any], where: str | None = None) -> dict[str, Any]:
        """Validate a config and fill in defaults.

        Raises:
            SpecError: an unknown or missing variable, a wrong type or a value out of range.
        """
        where = where or self.name
        if not isinstance(values, Mapping):
            raise SpecError(f"a config must be a mapping of variables, got {type(values).__name__}", where)
        values = self.apply_preset(values, where)
        out: dict[str, Any] = {}
        for key in values:
            if key not in self.variables:
                hint = difflib.get_close_matches(str(key), list(self.variables), n=1)
                known = ", ".join(self.variables) or "none"
                tip = f" (did you mean {hint[0]}?)" if hint else f" (known: {known})"
                raise SpecError(f"unknown variable {key!r}{tip}", where)
        for name, var in self.variables.items():
            if name in values:
                try:
                    out[name] = var.coerce(values[name])
                except SpecError as e:
                    raise e.at(where) from None
            elif var.required:
                raise SpecError(f"missing variable {name!r} ({var.describe()})", where)
            else:
                out[name] = var.coerce(var.default)
        env = self.env(out, where)
        for req in self.require:
            if not _evaluate_bool(req.that, env, where):
                raise SpecError(f"{req.message} (`{req.that}`)", where)
        return out

    def apply_preset(self, values: Mapping[str, Any], where: str | None = None) -> dict[str, Any]:
        """``{"preset": "resnet50", "num_classes": 10}``: the preset's variables, then the rest."""
        values = dict(values)
        if "preset" not in values:
            return values
        name = values.pop("preset")
        if not isinstance(name, str) or name not in self.presets:
            known = ", ".join(self.presets) or "none"
            raise SpecError(f"unknown preset {name!r} (known: {known})", where or self.name)
        return {**self.presets[name], **values}

    def preset_of(self, values: Mapping[str, Any]) -> str | None:
        return values.get("preset") if isinstance(values.get("preset"), str) else None

    def env(self, resolved: Mapping[str, Any], where: str | None = None) -> "LazyEnv":
        """The variables plus the kind's ``let`` helpers (each evaluated when first used)."""
        return LazyEnv(self, resolved, where or self.where)

    def convention(self, framework: str) -> Convention | None:
        for conv in self.conventions:
            if framework in conv.frameworks:
                return conv
        return None

    def expected(self, framework: str | None, resolved: Mapping[str, Any]) -> Expected:
        """The counts the spec expects ``framework`` to read (``None``: the canonical counts)."""
        env = self.env(resolved)
        cp = _count(self.params, env, f"{self.where}.params")
        cs = _count(self.state, env, f"{self.where}.state")
        conv = self.convention(framework) if framework else None
        tf = (conv.tied if conv and conv.tied else None) or self.tied
        ef = (conv.embedding if conv and conv.embedding else None) or self.embedding
        tied = _count(tf, env, f"{self.where}.tied") if tf else 0
        emb = _count(ef, env, f"{self.where}.embedding") if ef else None
        if conv is None:
            return Expected(cp, cs, self.params.text, self.state.text, cp, cs, None, tied, emb)
        pf = conv.params or self.params
        sf = conv.state or self.state
        return Expected(
            _count(pf, env, f"{self.where}.conventions[{framework}].params"),
            _count(sf, env, f"{self.where}.conventions[{framework}].state"),
            pf.text, sf.text, cp, cs, conv.why, tied, emb)

    def not_applicable_reason(self, framework: str, resolved: Mapping[str, Any]) -> str | None:
        """The spec's recorded reason ``framework`` cannot build this config, if any."""
        env = None
        for rule in self.not_applicable:
            if framework not in rule.frameworks:
                continue
            if rule.when is None:
                return rule.why
            env = env if env is not None else self.env(resolved)
            if _evaluate_bool(rule.when, env, f"{self.where}.not_applicable"):
                return rule.why
        return None

    def case_id(self, resolved: Mapping[str, Any], preset: str | None = None) -> str:
        """``LSTM[in300-h128]``: required variables, then options that differ from their default.

        With a preset: ``resnet[resnet50-cls10]``, the preset, then what differs from it.
        """
        parts = [preset] if preset else []
        base = self.resolve({"preset": preset}) if preset else None
        for name, var in self.variables.items():
            value = resolved[name]
            if base is not None:
                if value != base[name]:
                    parts.append(var.id_part(value))
            elif var.required or value != var.coerce(var.default):
                parts.append(var.id_part(value))
        return f"{self.name}[{'-'.join(parts) or 'default'}]"

    def is_baseline(self, resolved: Mapping[str, Any]) -> bool:
        """True when every option is at its default (the plain constructor call)."""
        return all(var.required or resolved[n] == var.coerce(var.default) for n, var in self.variables.items())


class LazyEnv(Mapping):
    """A kind's formula environment: variables (unset ones read 0), then ``let`` values and
    helper functions, each computed the first time a formula reads it."""

    def __init__(self, kind: "Kind", resolved: Mapping[str, Any], where: str):
        self.kind, self.where = kind, where
        self.values: dict[str, Any] = {k: 0 if v is None else v for k, v in resolved.items()}

    def __getitem__(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        f = self.kind.let.get(name)
        if f is None:
            raise KeyError(name)
        if name in self.kind.helpers:
            value: Any = Helper(name, self.kind.helpers[name], f, self)
        else:
            try:
                value = f.evaluate(self)
            except FormulaError as e:
                raise e.at(f"{self.where}.let.{name}") from None
        self.values[name] = value
        return value

    def __contains__(self, name: object) -> bool:
        return name in self.values or name in self.kind.let

    def __iter__(self):
        return iter({**dict.fromkeys(self.values), **dict.fromkeys(self.kind.let)})

    def __len__(self) -> int:
        return len(set(self.values) | set(self.kind.let))


@dataclass(frozen=True)
class Case:
    """A kind with concrete variables and a stable id."""

    kind: Kind
    values: Mapping[str, Any]
    id: str
    preset: str | None = None

    def expected(self, framework: str | None) -> Expected:
        return self.kind.expected(framework, self.values)

    def not_applicable_reason(self, framework: str) -> str | None:
        return self.kind.not_applicable_reason(framework, self.values)

    def config(self) -> dict[str, Any]:
        """The config as a user would write it: ``{"kind": "LSTM", "input_size": 300, ...}``
        (``{"model": "resnet", ...}`` for a model family)."""
        key = "model" if self.kind.group == "models" else "kind"
        return {key: self.kind.name, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.values.items()}}


@dataclass(frozen=True)
class Native:
    """A native total a framework reports, and the formula (over ``params``, ``state``) it equals."""

    name: str
    api: str
    formula: Formula
    why: str = ""


@dataclass(frozen=True)
class FrameworkInfo:
    id: str
    name: str
    reads: str
    native: tuple[Native, ...]


@dataclass
class Spec:
    """Every kind, case and framework in the spec."""

    root: Path
    kinds: dict[str, Kind]
    frameworks: dict[str, FrameworkInfo]

    def kind(self, name: Any, where: str | None = None) -> Kind:
        if isinstance(name, str) and name in self.kinds:
            return self.kinds[name]
        hint = difflib.get_close_matches(str(name), list(self.kinds), n=1)
        tip = f" (did you mean {hint[0]}?)" if hint else ""
        raise SpecError(f"unknown kind {name!r}{tip}; `paramspec kinds` lists them", where)

    def cases(self, group: str | None = None) -> list[Case]:
        return [c for k in self.kinds.values() if group in (None, k.group) for c in k.cases]

    def hf_mapping(self, model_type: Any, where: str | None = None) -> tuple[Kind, HFMapping]:
        for kind in self.kinds.values():
            for m in kind.hf:
                if m.model_type == model_type:
                    return kind, m
        known = ", ".join(m.model_type for k in self.kinds.values() for m in k.hf)
        raise SpecError(f"unknown model_type {model_type!r} (known: {known})", where)

    def case(self, case_id: str) -> Case:
        for c in self.cases():
            if c.id == case_id:
                return c
        raise SpecError(f"unknown case id {case_id!r}")


# --------------------------------------------------------------------------- loading
def _count(f: Formula, env: Mapping[str, Any], where: str) -> int:
    try:
        n = f.evaluate_int(env)
    except FormulaError as e:
        raise e.at(where) from None
    if n < 0:
        raise FormulaError(f"`{f}` gives a negative count ({n})", where)
    return n


def _evaluate_bool(f: Formula, env: Mapping[str, Any], where: str) -> bool:
    try:
        return bool(f.evaluate(env))
    except FormulaError as e:
        raise e.at(where) from None


@functools.lru_cache(maxsize=4)
def _validator(schema_name: str):
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads((spec_root() / schema_name).read_text()))


def schema_check(data: Any, schema_name: str, where: str) -> None:
    """Check ``data`` against ``spec/<schema_name>``; the first error as one line naming where."""
    import jsonschema

    validator = _validator(schema_name)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        path = _pretty_path(data, list(err.absolute_path))
        msg = err.message if len(err.message) < 200 else err.message[:200] + "..."
        raise SpecError(f"{path or 'top level'}: {msg}", where)


_NAMED_LISTS = {"kinds": "kind", "entries": "id"}  # top-level lists whose items have a name


def _pretty_path(data: Any, path: list) -> str:
    """``kinds[3].variables.bias`` becomes ``LSTM.variables.bias`` (and a course's
    ``entries[2].counts`` becomes ``lstm.counts``) when the item has a name."""
    out = ""
    node = data
    for part in path:
        try:
            child = node[part]
        except (KeyError, IndexError, TypeError):
            child = None
        if isinstance(part, int):
            key = _NAMED_LISTS.get(out)
            named = key is not None and isinstance(child, dict) and isinstance(child.get(key), str)
            out = child[key] if named else f"{out}[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
        node = child
    return out


def _parse_variable(name: str, raw: dict, where: str) -> Variable:
    var = Variable(
        name=name, type=raw["type"], abbr=raw["abbr"], default=raw.get("default", _MISSING),
        min=raw.get("min"), max=raw.get("max"), length=raw.get("length"),
        choices=tuple(raw["choices"]) if "choices" in raw else None, doc=raw.get("doc", ""))
    if var.type == "choice" and not var.choices:
        raise SpecError("a choice variable needs `choices`", f"{where}.variables.{name}")
    if not var.required:
        try:
            var.coerce(var.default)
        except SpecError as e:
            raise SpecError(f"default: {e.message}", f"{where}.variables.{name}") from None
    return var


def _parse_kind(raw: dict, file: str, group: str) -> Kind:
    name = raw["kind"]
    where = f"{file}: {name}"
    variables = {n: _parse_variable(n, v, where) for n, v in raw["variables"].items()}
    abbrs = [v.abbr for v in variables.values()]
    if len(set(abbrs)) != len(abbrs):
        raise SpecError(f"two variables share an abbr in {abbrs}", f"{where}.variables")
    known = set(variables)
    functions: set[str] = set()
    let: dict[str, Formula] = {}
    helpers: dict[str, tuple[str, ...]] = {}
    for key, text in (raw.get("let") or {}).items():
        m = _LET_FUNCTION.match(key)
        lname = m.group(1) if m else key
        if lname in known or lname in functions:
            raise SpecError(f"`{lname}` is already defined", f"{where}.let")
        if m:
            params = tuple(p.strip() for p in m.group(2).split(","))
            let[lname] = _formula(text, known | set(params), f"{where}.let.{key}", functions)
            helpers[lname] = params
            functions.add(lname)
        else:
            let[lname] = _formula(text, known, f"{where}.let.{lname}", functions)
            known.add(lname)

    def f(text: Any, at: str) -> Formula:
        return _formula(text, known, f"{where}.{at}", functions)

    conventions = []
    seen: set[str] = set()
    for i, c in enumerate(raw.get("conventions") or []):
        dup = seen.intersection(c["frameworks"])
        if dup:
            raise SpecError(f"a second convention for {sorted(dup)}", f"{where}.conventions[{i}]")
        seen.update(c["frameworks"])
        conventions.append(Convention(
            tuple(c["frameworks"]), c["why"],
            f(c["params"], f"conventions[{i}].params") if "params" in c else None,
            f(c["state"], f"conventions[{i}].state") if "state" in c else None,
            f(c["tied"], f"conventions[{i}].tied") if "tied" in c else None,
            f(c["embedding"], f"conventions[{i}].embedding") if "embedding" in c else None))
    nas = [NARule(tuple(r["frameworks"]), r["why"],
                  f(r["when"], f"not_applicable[{i}].when") if "when" in r else None)
           for i, r in enumerate(raw.get("not_applicable") or [])]
    reqs = [Requirement(f(r["that"], f"require[{i}]"), r["message"]) for i, r in enumerate(raw.get("require") or [])]
    notes = tuple((tuple(n["frameworks"]), n["note"]) for n in raw.get("notes") or [])
    published = tuple(Published(p["preset"], p["source"], p.get("params"), p.get("framework"), dict(p.get("native", {})))
                      for p in raw.get("published") or [])
    hf = tuple(HFMapping(m["model_type"], dict(m["defaults"]), dict(m.get("fixed", {}))) for m in raw.get("hf") or [])
    kind = Kind(name, raw["summary"], file, group, variables, let, tuple(reqs),
                f(raw["params"], "params"), f(raw["state"], "state"), tuple(conventions), tuple(nas), notes,
                helpers=helpers, presets=dict(raw.get("presets") or {}), published=published, hf=hf,
                embedding=f(raw["embedding"], "embedding") if "embedding" in raw else None,
                tied=f(raw["tied"], "tied") if "tied" in raw else None)
    for pname in kind.presets:
        kind.resolve({"preset": pname}, f"{where}.presets.{pname}")
    for i, p in enumerate(published):
        if p.preset not in kind.presets:
            raise SpecError(f"unknown preset {p.preset!r}", f"{where}.published[{i}]")
    for i, m in enumerate(hf):
        for key in (*m.defaults, *m.fixed):
            if key not in kind.variables:
                raise SpecError(f"{key!r} is not a variable of {name}", f"{where}.hf[{i}]")
    for i, values in enumerate(raw["cases"]):
        resolved = kind.resolve(values, f"{where}.cases[{i}]")
        preset = kind.preset_of(values)
        kind.cases.append(Case(kind, resolved, kind.case_id(resolved, preset), preset))
    return kind


_LET_FUNCTION = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\(\s*([A-Za-z][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z][A-Za-z0-9_]*)*)\s*\)$")


def _formula(text: Any, known: set[str], where: str, functions: Iterable[str] = ()) -> Formula:
    f = parse(text, where, functions)
    unknown = sorted(f.names - known)
    if unknown:
        raise FormulaError(f"unknown variable `{unknown[0]}` in `{f}`", where)
    return f


def _check_kind(kind: Kind, ids: dict[str, str], deep: bool) -> None:
    where = kind.where
    for case in kind.cases:
        if case.id in ids:
            raise SpecError(f"duplicate case id {case.id} (also in {ids[case.id]})", where)
        ids[case.id] = where
        if not deep:
            continue
        for fw in (None, *FRAMEWORKS):  # every formula gives a whole, non-negative count
            case.expected(fw)
            if fw:
                case.not_applicable_reason(fw)
    if not any(kind.is_baseline(c.values) or c.preset for c in kind.cases):
        raise SpecError("no case has every option at its default (the plain constructor call)", where)
    for name, var in kind.variables.items():
        if var.required:
            continue
        default = var.coerce(var.default)
        if not any(c.values[name] != default for c in kind.cases):
            raise SpecError(f"no case exercises option {name!r} (every case leaves it at {var.default!r})", where)


def _parse_frameworks(data: dict, where: str) -> dict[str, FrameworkInfo]:
    out = {}
    for fw in data["frameworks"]:
        if fw["id"] in out:
            raise SpecError(f"duplicate framework {fw['id']!r}", where)
        natives = tuple(
            Native(n["name"], n["api"], _formula(n["formula"], {"params", "state", "tied"}, f"{where}: {fw['id']}.native"),
                   n.get("why", ""))
            for n in fw["native"])
        out[fw["id"]] = FrameworkInfo(fw["id"], fw["name"], fw["reads"], natives)
    missing = set(FRAMEWORKS) - set(out)
    if missing:
        raise SpecError(f"no entry for {sorted(missing)}", where)
    return out


def load_spec_files(root: Path, groups: Iterable[str] = GROUPS, deep: bool = True) -> Spec:
    """Load and check every spec file under ``root`` (uncached; see :func:`load_spec`).

    ``deep`` also evaluates every formula on every case for every framework (what
    ``paramspec validate`` and the tests do); without it, loading checks the schema, the
    formulas' syntax and names, presets and case ids, and evaluates only what is used.
    """
    fw_file = root / "frameworks.yaml"
    fw_data = yamlio.load_path(fw_file)
    schema_check(fw_data, "frameworks.schema.json", "spec/frameworks.yaml")
    frameworks = _parse_frameworks(fw_data, "spec/frameworks.yaml")
    kinds: dict[str, Kind] = {}
    ids: dict[str, str] = {}
    index = yamlio.load_path(root / "index.yaml")
    for group in groups:
        names = index.get(group) if isinstance(index, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SpecError(f"`{group}` must list the files of spec/{group}/", "spec/index.yaml")
        on_disk = sorted(p.stem for p in (root / group).glob("*.yaml"))
        unlisted = sorted(set(on_disk) - set(names))
        if unlisted:
            raise SpecError(f"spec/{group}/{unlisted[0]}.yaml is not listed under `{group}`", "spec/index.yaml")
        for stem in names:
            path = root / group / f"{stem}.yaml"
            rel = f"spec/{group}/{path.name}"
            data = yamlio.load_path(path)
            schema_check(data, "schema.json", rel)
            for raw in data["kinds"]:
                if raw["kind"] in kinds:
                    raise SpecError(f"kind {raw['kind']!r} is also defined in {kinds[raw['kind']].file}", rel)
                kind = _parse_kind(raw, rel, group)
                _check_kind(kind, ids, deep)
                kinds[kind.name] = kind
    return Spec(root, kinds, frameworks)


@functools.lru_cache(maxsize=4)
def _load_cached(root: str, groups: tuple[str, ...]) -> Spec:
    return load_spec_files(Path(root), groups, deep=False)


def load_spec(root: Path | str | None = None, groups: Iterable[str] = GROUPS) -> Spec:
    """The spec under ``root`` (default: the bundled one), loaded once per process.

    ``paramspec validate`` and the test suite run the deep check of :func:`load_spec_files`.
    """
    return _load_cached(str(Path(root) if root else spec_root()), tuple(groups))
