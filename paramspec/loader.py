"""Load and check the spec files into :class:`~paramspec.kinds.Spec`.

The spec lives in ``spec/`` (installed as ``paramspec/spec``): ``frameworks.yaml`` (the
frameworks and targets), ``index.yaml`` (the files, in order), ``layers/*.yaml`` and
``models/*.yaml`` (kinds; their format is ``schema.json``).

Loading checks each file against its JSON Schema, then what a schema cannot: every formula
parses and names only known variables, case ids are unique, each kind has a case with every
option at its default, every option is exercised by some case, and (the deep check that
``paramspec validate`` and the tests run) every formula gives a whole, non-negative count on
every case for every framework.

Example:
    >>> spec = load_spec()
    >>> spec.case("LSTM[in300-h128]").expected("torch").params
    220160
"""
from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import yamlio
from ._layout import spec_root
from .errors import FormulaError, SpecError
from .formula import Formula, parse
from .frameworks import FILE as FRAMEWORKS_FILE, parse_counters, parse_frameworks
from .compute import INPUT_NAMES, Counter, CounterRule, InputSpec
from .training import expected_step, parse_kind_training
from .kinds import (BuildLimit, Case, Convention, Estimate, HFMapping, Kind, NARule, Published, Requirement, Spec)
from .schema import schema_check
from .variables import MISSING, Variable

GROUPS: tuple[str, ...] = ("layers", "models")

def _parse_variable(name: str, raw: dict, where: str) -> Variable:
    var = Variable(
        name=name, type=raw["type"], abbr=raw["abbr"], default=raw.get("default", MISSING),
        min=raw.get("min"), max=raw.get("max"), length=raw.get("length"),
        choices=tuple(raw["choices"]) if "choices" in raw else None, doc=raw.get("doc", ""),
        input=bool(raw.get("input", False)))
    if var.type == "choice" and not var.choices:
        raise SpecError("a choice variable needs `choices`", f"{where}.variables.{name}")
    if not var.required:
        try:
            var.coerce(var.default)
        except SpecError as e:
            raise SpecError(f"default: {e.message}", f"{where}.variables.{name}") from None
    return var


def _parse_kind(raw: dict, file: str, group: str, counters: dict[str, Counter]) -> Kind:
    name = raw["kind"]
    where = f"{file}: {name}"
    variables = {n: _parse_variable(n, v, where) for n, v in raw["variables"].items() if v is not None}
    for n, v in variables.items():
        if v.input and n not in INPUT_NAMES:
            raise SpecError(f"an input variable is one of {', '.join(INPUT_NAMES)}, not {n!r}", f"{where}.variables")
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
    published = tuple(Published(p["preset"], p["source"], p.get("params"), p.get("framework"), dict(p.get("native", {})),
                                p.get("gmacs"), p.get("gparams"), p.get("gactive")) for p in raw.get("published") or [])
    hf = tuple(_parse_hf(m, f"{where}.hf[{i}]") for i, m in enumerate(raw.get("hf") or []))
    inputs = tuple(InputSpec(f(x["shape"], f"inputs[{i}].shape") if isinstance(x["shape"], str)
                             else tuple(f(d, f"inputs[{i}].shape[{j}]") for j, d in enumerate(x["shape"])),
                             x.get("dtype", "float32"), x.get("channels_first", False))
                   for i, x in enumerate(raw.get("inputs") or []))
    macs = f(raw["macs"], "macs") if "macs" in raw else None
    tensors = f(raw["tensors"], "tensors") if "tensors" in raw else None
    active = f(raw["active"], "active") if "active" in raw else None
    training = parse_kind_training(raw.get("training"), lambda text, at, extra: _formula(
        text, known | extra, f"{where}.{at}", functions), counters)
    if macs is None and training.rules:
        raise SpecError("training counters need a macs formula", where)
    terms = {t: f(text, f"terms.{t}") for t, text in (raw.get("terms") or {}).items()}
    estimates = {e: Estimate(f(x["formula"], f"estimates.{e}"), x["source"], bool(x.get("training")),
                             x.get("per", "token"), x.get("of", "flops"), tuple(x.get("recompute") or ("none",)),
                             x.get("differs"))
                 for e, x in (raw.get("estimates") or {}).items()}
    compute_names = known | {"macs", *terms}
    rules = []
    for i, r in enumerate(raw.get("counters") or []):
        at = f"{where}.counters[{i}]"
        unknown = sorted(set(r["counters"]) - set(counters))
        if unknown:
            raise SpecError(f"unknown counter {unknown[0]!r} (known: {', '.join(counters)})", at)
        rules.append(CounterRule(
            tuple(r["counters"]), r["why"],
            _formula(r["matmul"], compute_names, f"{at}.matmul", functions) if "matmul" in r else None,
            _formula(r["total"], compute_names | {"matmul"}, f"{at}.total", functions) if "total" in r else None,
            _formula(r["when"], compute_names, f"{at}.when", functions) if "when" in r else None,
            bool(r.get("not_applicable", False)), tuple(r["frameworks"]) if "frameworks" in r else None))
    if macs is None and (inputs or terms or rules or estimates):
        raise SpecError("inputs, terms and counters need a macs formula", where)
    kind = Kind(name, raw["summary"], file, group, variables, let, tuple(reqs),
                f(raw["params"], "params"), f(raw["state"], "state"), tuple(conventions), tuple(nas), notes,
                helpers=helpers, presets=dict(raw.get("presets") or {}), published=published, hf=hf,
                embedding=f(raw["embedding"], "embedding") if "embedding" in raw else None,
                tied=f(raw["tied"], "tied") if "tied" in raw else None,
                inputs=inputs, macs=macs, terms=terms, counter_rules=tuple(rules), estimates=estimates,
                tensors=tensors, training=training, active=active)
    for pname in kind.presets:
        kind.resolve({"preset": pname}, f"{where}.presets.{pname}")
    for i, p in enumerate(published):
        if p.preset not in kind.presets:
            raise SpecError(f"unknown preset {p.preset!r}", f"{where}.published[{i}]")
    for i, m in enumerate(hf):
        _check_hf(m, kind, f"{where}.hf[{i}]")
    for i, values in enumerate(raw["cases"]):
        resolved = kind.resolve(values, f"{where}.cases[{i}]")
        preset = kind.preset_of(values)
        kind.cases.append(Case(kind, resolved, kind.case_id(resolved, preset), preset))
    return kind


def _parse_hf(m: dict, where: str) -> HFMapping:
    """One ``hf`` entry: its formulas over the config's keys (``post_init`` may read the keys it
    derives before it), its refusals and the keys it ignores, each with why."""
    keys = set(m["defaults"])
    post = {k: _formula(t, keys, f"{where}.post_init.{k}") for k, t in (m.get("post_init") or {}).items()}
    return HFMapping(
        m["model_type"], dict(m["defaults"]), dict(m.get("fixed") or {}), m["class"], m["config"],
        dict(m.get("aliases") or {}), post,
        {k: _formula(t, keys, f"{where}.variables.{k}") for k, t in (m.get("variables") or {}).items()},
        {k: (tuple(r["builds"]), r["why"]) for k, r in (m.get("refuse") or {}).items()},
        {key: why for why, keys_ in (m.get("ignore") or {}).items() for key in keys_},
        dict(m.get("note") or {}))


def _check_hf(m: HFMapping, kind: Kind, where: str) -> None:
    """Every key an ``hf`` entry reads reaches the family, and every family variable it sets is one."""
    for key in (*m.fixed, *m.variables):
        if key not in kind.variables or kind.variables[key].input:
            raise SpecError(f"{key!r} is not a variable of {kind.name}", where)
    read = {n for f in (*m.post_init.values(), *m.variables.values()) for n in f.names}
    for key in m.defaults:
        if key not in kind.variables and key not in read:
            raise SpecError(f"{key!r} is neither a variable of {kind.name} nor read by a formula", where)
    for alias, key in m.aliases.items():
        if key not in {*m.defaults, *m.refuse, *m.ignore, *m.note}:
            raise SpecError(f"alias {alias!r} names {key!r}, which the entry does not name", where)
    for key in m.post_init:
        if key not in m.defaults:
            raise SpecError(f"post_init derives {key!r}, which is not in defaults", where)
    named = [*m.defaults, *m.aliases, *m.refuse, *m.ignore, *m.note]
    twice = sorted({k for k in named if named.count(k) > 1})
    if twice:
        raise SpecError(f"key {twice[0]!r} is named twice (read, aliased, refused, ignored or noted)", where)


_LET_FUNCTION = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\(\s*([A-Za-z][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z][A-Za-z0-9_]*)*)\s*\)$")


def _formula(text: Any, known: set[str], where: str, functions: Iterable[str] = ()) -> Formula:
    f = parse(text, where, functions)
    unknown = sorted(f.names - known)
    if unknown:
        raise FormulaError(f"unknown variable `{unknown[0]}` in `{f}`", where)
    return f


def _check_kind(kind: Kind, ids: dict[str, str], deep: bool, frameworks: Iterable[str],
                counters: dict[str, Counter] | None = None) -> None:
    where = kind.where
    for case in kind.cases:
        if case.id in ids:
            raise SpecError(f"duplicate case id {case.id} (also in {ids[case.id]})", where)
        ids[case.id] = where
        if not deep:
            continue
        for fw in (None, *frameworks):  # every formula gives a whole, non-negative count
            case.expected(fw)
            if fw:
                case.not_applicable_reason(fw)
        if kind.macs is not None:  # and every compute formula, for every counter, and the inputs
            case.inputs()
            for counter in (None, *(counters or {}).values()):
                for fw in (None, *frameworks):
                    case.expected_compute(counter, fw)
                    expected_step(case, counter, fw, input_grad=True)
    if not any(kind.is_baseline(c.values) or c.preset for c in kind.cases):
        raise SpecError("no case has every option at its default (the plain constructor call)", where)
    for name, var in kind.variables.items():
        if var.required:
            continue
        default = var.coerce(var.default)
        if not any(c.values[name] != default for c in kind.cases):
            raise SpecError(f"no case exercises option {name!r} (every case leaves it at {var.default!r})", where)


class KindTable(Mapping[str, Kind]):
    """The spec's kinds by name, each parsed and checked when first used.

    Loading reads every file and checks its kind names, so the table's names and order are
    whole from the start; a kind's formulas, presets and cases (and, once per file, the
    file's schema) are parsed on first access. One kind then costs what one kind needs:
    ``paramspec count -f formula`` of one model does not parse the other 39 kinds. The deep
    check (``paramspec validate``, the tests) parses every kind at load.
    """

    def __init__(self, entries: dict[str, tuple[dict, str, str]], check: Callable[[str], Kind]):
        self._entries = entries  # name -> (raw mapping, file, group)
        self._check = check
        self._kinds: dict[str, Kind] = {}

    def __getitem__(self, name: str) -> Kind:
        kind = self._kinds.get(name)
        if kind is None:
            if name not in self._entries:
                raise KeyError(name)
            kind = self._kinds[name] = self._check(name)
        return kind

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def group_of(self, name: str) -> str:
        """``layers`` or ``models``: where the kind is listed (no parsing)."""
        return self._entries[name][2]

    def hf_kind(self, model_type: Any) -> str | None:
        """The kind whose ``hf`` mappings name ``model_type``, read from the raw entries (no parsing)."""
        for name, (raw, _, _) in self._entries.items():
            if any(isinstance(m, dict) and m.get("model_type") == model_type for m in raw.get("hf") or []):
                return name
        return None


def _kind_names(data: Any, rel: str, frameworks: dict) -> list[dict]:
    """The file's kind entries, once they have the shape a kind name can be read from
    (otherwise the schema says what is wrong)."""
    kinds = data.get("kinds") if isinstance(data, dict) else None
    if not (isinstance(kinds, list) and all(isinstance(k, dict) and isinstance(k.get("kind"), str) for k in kinds)):
        schema_check(data, "schema.json", rel, frameworks)
        raise SpecError("`kinds` must list mappings that each name their `kind`", rel)
    return kinds


def load_spec_files(root: Path, groups: Iterable[str] = GROUPS, deep: bool = True) -> Spec:
    """Load and check every spec file under ``root`` (uncached; see :func:`load_spec`).

    ``deep`` checks every file against its schema and parses every kind now, and evaluates
    every formula on every case for every framework (what ``paramspec validate`` and the
    tests do). Without it, loading reads the files and their kind names, and each kind is
    checked (its file's schema, its formulas' syntax and names, presets and case ids) when
    first used (:class:`KindTable`).
    """
    root = Path(root)
    digest = hashlib.sha256()
    fw_data = _read(root / FRAMEWORKS_FILE, digest)
    frameworks = parse_frameworks(fw_data, f"spec/{FRAMEWORKS_FILE}", remember=not deep)
    counters = parse_counters(fw_data, f"spec/{FRAMEWORKS_FILE}")
    entries: dict[str, tuple[dict, str, str]] = {}
    files: dict[str, Any] = {}
    index = _read(root / "index.yaml", digest)
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
            data = files[rel] = _read(path, digest)
            if deep:
                schema_check(data, "schema.json", rel, frameworks)
            for raw in _kind_names(data, rel, frameworks):
                if raw["kind"] in entries:
                    raise SpecError(f"kind {raw['kind']!r} is also defined in {entries[raw['kind']][1]}", rel)
                entries[raw["kind"]] = (raw, rel, group)
    checked: set[str] = set(files) if deep else set()  # files whose schema check has run
    ids: dict[str, str] = {}

    def check(name: str) -> Kind:
        raw, rel, group = entries[name]
        if rel not in checked:
            schema_check(files[rel], "schema.json", rel, frameworks, remember=True)  # not deep
            checked.add(rel)
        kind = _parse_kind(raw, rel, group, counters)
        _check_kind(kind, ids, deep, frameworks, counters)
        return kind

    kinds = KindTable(entries, check)
    if deep:
        for name in kinds:
            kinds[name]  # parsed and checked now
    return Spec(root, kinds, frameworks, digest.hexdigest()[:16], counters, _build_limit(index))


def _build_limit(index: Any) -> BuildLimit:
    raw = index.get("build_limit") if isinstance(index, dict) else None
    where = "spec/index.yaml: build_limit"
    if not isinstance(raw, dict) or set(raw) - {"tensors", "why"} or "tensors" not in raw:
        raise SpecError("must be a mapping with `tensors` (a whole number) and `why`", where)
    n = raw["tensors"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SpecError(f"tensors must be a whole number of 1 or more, got {n!r}", where)
    return BuildLimit(n, str(raw.get("why", "")), where)


def _read(path: Path, digest: Any) -> Any:
    """Parse a spec file, adding its bytes to the spec's digest."""
    try:
        digest.update(path.read_bytes())
    except OSError:
        pass  # yamlio.load_path says what is wrong
    return yamlio.load_path(path)


@functools.lru_cache(maxsize=4)
def _load_cached(root: str, groups: tuple[str, ...]) -> Spec:
    return load_spec_files(Path(root), groups, deep=False)


def load_spec(root: Path | str | None = None, groups: Iterable[str] = GROUPS) -> Spec:
    """The spec under ``root`` (default: the bundled one), loaded once per process.

    ``paramspec validate`` and the test suite run the deep check of :func:`load_spec_files`.
    """
    return _load_cached(str(Path(root) if root else spec_root()), tuple(groups))
