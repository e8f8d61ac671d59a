"""The spec's data model: kinds, their rules, cases, and what a kind expects a framework to read.

A :class:`Kind` is a canonical layer (``LSTM``) or model family (``resnet``) with its
variables, ``let`` helpers, formulas, framework conventions, n/a rules and cases. A
:class:`Case` is a kind with concrete variables and a stable id. :meth:`Kind.expected`
evaluates the formulas for one framework. Loading is in :mod:`paramspec.loader`.

Example:
    >>> from paramspec.loader import load_spec
    >>> kind = load_spec().kind("LSTM")
    >>> kind.expected("torch", kind.resolve({"input_size": 300, "hidden_size": 128})).params
    220160
"""
from __future__ import annotations

import difflib
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FormulaError, SpecError
from .formula import Formula, Helper, Memo, count_at, truth_at
from .compute import (Counter, CounterRule, ExpectedCompute, Input, InputSpec, compute_env, evaluate_inputs)
from .frameworks import Framework
from .training import KindTraining
from .variables import Variable

@dataclass(frozen=True)
class BuildLimit:
    """How many tensors a framework build may create (spec/index.yaml: ``build_limit``)."""

    tensors: int
    why: str = ""
    where: str = "spec/index.yaml: build_limit"


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
    gmacs: str | None = None  # billions of MACs as printed: "4.089" (its digits are its precision)
    gparams: str | None = None  # billions of parameters as printed: "46.7" (a model card's rounded figure)
    gactive: str | None = None  # billions of active parameters (one token's) as printed: "12.9"

    def gmacs_matches(self, macs: int) -> bool:
        """Whether ``macs``, in billions and rounded to the printed digits, is the figure."""
        return billions_match(self.gmacs, macs)


def billions_match(printed: str | None, n: int, truncated: bool = False) -> bool:
    """Whether ``n``, in billions and rounded to the digits ``printed`` shows ("4.089", "46.7"), is
    it; with ``truncated``, also whether cut to those digits it is (model cards do either:
    Mixtral's 12.88B active is printed 12.9, Qwen3-30B-A3B's 3.35B is printed 3.3)."""
    from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

    if printed is None:
        return False
    figure, value = Decimal(printed), Decimal(n) / Decimal(10**9)
    return any(value.quantize(figure, rounding=r) == figure
               for r in ((ROUND_HALF_EVEN, ROUND_DOWN) if truncated else (ROUND_HALF_EVEN,)))


@dataclass(frozen=True)
class HFMapping:
    """How a Hugging Face config.json of one model_type maps onto a family's variables
    (spec/schema.json, ``hf``; :func:`paramspec.configs.hf_case` applies it).

    ``defaults``: every key that changes the count, with its transformers config class's
    default; ``aliases``: that class's ``attribute_map`` (alias -> key); ``post_init``: keys
    its ``__post_init__`` derives (formulas over the keys, before the aliases apply);
    ``variables``: family variables given by a formula over the keys; ``fixed``: variables
    the model_type fixes; ``refuse``: key -> (the values the family builds, why); ``ignore``:
    key -> why it changes no count; ``note``: key -> the note a record carries when it is set.
    """

    model_type: str
    defaults: dict[str, Any]
    fixed: dict[str, Any] = field(default_factory=dict)
    cls: str = ""
    config: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    post_init: dict[str, Formula] = field(default_factory=dict)
    variables: dict[str, Formula] = field(default_factory=dict)
    refuse: dict[str, tuple[tuple[Any, ...], str]] = field(default_factory=dict)
    ignore: dict[str, str] = field(default_factory=dict)
    note: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> set[str]:
        """Every config key this entry names (read, aliased, refused, ignored or noted)."""
        return {"model_type", *self.defaults, *self.aliases, *self.refuse, *self.ignore, *self.note}


@dataclass(frozen=True)
class Estimate:
    """A published estimate beside a measurement: a formula with its source.

    ``of``: ``flops`` (a forward pass's, or with ``training`` a training step's) or
    ``activations`` (the bytes a training step keeps for backward, shown beside the measured
    ones, for the ``recompute`` modes it describes). ``per``: a token (times the step's
    tokens) or a whole step at the case's input. ``differs``: where the paper's convention
    differs from what a framework measures (dropout masks, 16-bit activations, ...)."""

    formula: Formula
    source: str
    training: bool = False
    per: str = "token"
    of: str = "flops"
    recompute: tuple[str, ...] = ("none",)
    differs: str | None = None

    def to_dict(self, value: int) -> dict[str, Any]:
        return {"value": value, "formula": self.formula.text, "source": self.source,
                **({"training": True} if self.training else {}), **({"per": self.per} if self.per != "token" else {}),
                **({"of": self.of, "recompute": list(self.recompute)} if self.of != "flops" else {}),
                **({"differs": self.differs} if self.differs else {})}


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
    """What the spec says a framework reads for one config (``framework=None``: canonical)."""

    params: int
    state: int
    params_formula: str
    state_formula: str
    canonical_params: int
    canonical_state: int
    convention: str | None = None  # the `why`, when the framework follows its own formula
    tied: int = 0  # elements a per-reference (state_dict) sum counts a second time
    tied_formula: str = "0"
    canonical_tied: int = 0
    embedding: int | None = None  # elements in embedding layers (None: the kind has no formula)
    embedding_formula: str | None = None
    active: int | None = None  # parameters one token uses (None: the kind has no `active` formula)
    active_formula: str | None = None


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
    inputs: tuple[InputSpec, ...] = ()
    macs: Formula | None = None
    terms: dict[str, Formula] = field(default_factory=dict)
    counter_rules: tuple[CounterRule, ...] = ()
    estimates: dict[str, Estimate] = field(default_factory=dict)  # the papers' figures, by name
    tensors: Formula | None = None  # at most how many tensors a framework build creates (the build limit reads it)
    active: Formula | None = None  # the parameters one token uses (a mixture of experts: top_k of the routed experts)
    training: KindTraining = KindTraining()  # a training step's backward MACs and activations (paramspec.training)
    # the environments made lately, by the identity of the config they were made of (Kind.env)
    _envs: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def where(self) -> str:
        return f"{self.file}: {self.name}"

    @property
    def input_variables(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.input]

    def inputs_for(self, resolved: Mapping[str, Any]) -> tuple[Input, ...]:
        """The forward pass's inputs for a config, in torch.nn's layout."""
        return evaluate_inputs(self.inputs, self.env(resolved), self.where)

    def expected_compute(self, counter: Counter | None, resolved: Mapping[str, Any],
                         framework: str | None = None) -> ExpectedCompute:
        """The canonical MACs and terms, and (with a counter) what that counter should read of
        ``framework``'s build (a rule may hold for one framework's implementation only).

        Raises:
            SpecError: the kind has no ``macs`` formula.
        """
        if self.macs is None:
            raise SpecError(f"{self.name} has no macs formula in the spec", self.where)
        env = self.env(resolved)
        macs = _count(self.macs, env, f"{self.where}.macs")
        terms = {name: _count(f, env, f"{self.where}.terms.{name}") for name, f in self.terms.items()}
        out = ExpectedCompute(macs, terms, self.macs.text)
        out.estimates = {name: e.to_dict(_count(e.formula, env, f"{self.where}.estimates.{name}"))
                         for name, e in self.estimates.items()}
        if counter is None:
            return out
        cenv = compute_env(env, macs, terms)
        rule = None
        for r in self.counter_rules:
            if (counter.id in r.counters and (r.frameworks is None or framework in r.frameworks)
                    and (r.when is None or _evaluate_bool(r.when, cenv, f"{self.where}.counters"))):
                rule = r
                break
        out.counter = counter.id
        if rule is not None and rule.not_applicable:
            out.not_applicable, out.why = rule.why, rule.why
            return out
        mf = rule.matmul if rule is not None and rule.matmul is not None else counter.matmul
        tf = rule.total if rule is not None and rule.total is not None else counter.total
        at = f"{self.where}.counters[{counter.id}]"
        out.matmul, out.matmul_formula = _count(mf, cenv, f"{at}.matmul"), mf.text
        if tf is not None:  # a counter's total may read `matmul` (FlopCounterMode's is its matmul part)
            out.total = _count(tf, ChainMap({"matmul": out.matmul}, cenv), f"{at}.total")
            out.total_formula = tf.text
        out.by_convention = rule is not None
        out.why = rule.why if rule is not None else counter.why
        return out

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

    ENVS = 64  # environments kept (a config's is asked for again by each counter and framework)

    def env(self, resolved: Mapping[str, Any], where: str | None = None) -> "LazyEnv":
        """The variables plus the kind's ``let`` helpers (each evaluated when first used). The
        same config, asked again, gets the same environment, with what it has evaluated: the
        config object itself, holding the same values (a config changed in place gets a new
        one)."""
        where = where or self.where
        key = (id(resolved), where)
        kept = self._envs.get(key)  # held with its config, whose id is not reused meanwhile
        if kept is not None and kept[1] == dict(resolved):
            return kept[2]
        env = LazyEnv(self, resolved, where)
        if len(self._envs) >= self.ENVS:
            self._envs.pop(next(iter(self._envs)))
        self._envs[key] = (resolved, dict(resolved), env)
        return env

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
        ct = _count(self.tied, env, f"{self.where}.tied") if self.tied else 0
        conv = self.convention(framework) if framework else None
        at = f"{self.where}.conventions[{framework}]"
        tf = (conv.tied if conv and conv.tied else None) or self.tied
        ef = (conv.embedding if conv and conv.embedding else None) or self.embedding
        tied = _count(tf, env, f"{at}.tied" if tf is not self.tied else f"{self.where}.tied") if tf else 0
        emb = _count(ef, env, f"{self.where}.embedding") if ef else None
        pf = conv.params if conv and conv.params else self.params
        sf = conv.state if conv and conv.state else self.state
        params = _count(pf, env, f"{at}.params") if pf is not self.params else cp
        state = _count(sf, env, f"{at}.state") if sf is not self.state else cs
        act = _count(self.active, env, f"{self.where}.active") if self.active is not None else None
        return Expected(params, state, pf.text, sf.text, cp, cs, conv.why if conv else None, tied,
                        tf.text if tf else "0", ct, emb, ef.text if ef else None, act,
                        self.active.text if self.active is not None else None)

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


class LazyEnv(Memo):
    """A kind's formula environment: variables (unset ones read 0), then ``let`` values and
    helper functions, each computed the first time a formula reads it; the counts evaluated
    in it are kept (:class:`paramspec.formula.Memo`)."""

    def __init__(self, kind: "Kind", resolved: Mapping[str, Any], where: str):
        self.kind, self.where = kind, where
        self.values: dict[str, Any] = {k: 0 if v is None else v for k, v in resolved.items()}
        self.counts, self._over = {}, {}

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
    notes: tuple[str, ...] = ()  # what reading its config decided (a config.json's keys not read: hf_case)

    def expected(self, framework: str | None) -> Expected:
        return self.kind.expected(framework, self.values)

    def not_applicable_reason(self, framework: str) -> str | None:
        return self.kind.not_applicable_reason(framework, self.values)

    def inputs(self) -> tuple[Input, ...]:
        return self.kind.inputs_for(self.values)

    def expected_compute(self, counter: Counter | None = None, framework: str | None = None) -> ExpectedCompute:
        return self.kind.expected_compute(counter, self.values, framework)

    def tensor_bound(self) -> int | None:
        """At most how many tensors a framework build of this case creates (the kind's
        ``tensors`` formula; None where it has none: a layer of a few tensors)."""
        if self.kind.tensors is None:
            return None
        return _count(self.kind.tensors, self.kind.env(self.values), f"{self.kind.where}.tensors")

    def check_buildable(self, limit: "BuildLimit") -> None:
        """Refuse, before anything is built, a case whose build would create more tensors than
        ``limit`` allows (a framework builds tensor by tensor, module by module, even
        abstractly: a billion layers never return).

        Raises:
            SpecError: one line naming the case, the kind's ``tensors`` formula, its variables'
                values and the limit, and pointing to ``-f formula``, which builds nothing.
        """
        n = self.tensor_bound()
        if n is None or n <= limit.tensors:
            return
        env = self.kind.env(self.values)
        names = sorted(self.kind.tensors.names & set(self.kind.variables))
        given = ", ".join(f"{name} = {_shown(env[name])}" for name in names)
        raise SpecError(f"a build would create up to {n:,} tensors (`{self.kind.tensors}`"
                        + (f" with {given}" if given else "") + f"), over the limit of {limit.tensors:,} "
                        f"({limit.where}); `-f formula` counts it without building", self.id)

    def config(self) -> dict[str, Any]:
        """The config as a user would write it: ``{"kind": "LSTM", "input_size": 300, ...}``
        (``{"model": "resnet", ...}`` for a model family)."""
        key = "model" if self.kind.group == "models" else "kind"
        return {key: self.kind.name, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.values.items()}}


@dataclass
class Spec:
    """Every kind, case and framework in the spec."""

    root: Path
    kinds: Mapping[str, Kind]  # a loader.KindTable: each kind is parsed when first used
    frameworks: dict[str, Framework]
    digest: str = ""
    counters: dict[str, Counter] = field(default_factory=dict)
    build_limit: BuildLimit = BuildLimit(100_000)  # spec/index.yaml's

    def kind(self, name: Any, where: str | None = None, group: str | None = None) -> Kind:
        """The kind called ``name`` (``group``: ``layers`` or ``models``, to name it and to
        suggest among them in the error).

        Raises:
            SpecError: ``unknown model family 'ResNet' (did you mean resnet?)``.
        """
        if isinstance(name, str) and name in self.kinds:
            return self.kinds[name]
        from .hints import suggest

        names = [k for k in self.kinds if group is None or self.kinds.group_of(k) == group]
        what = {"models": "model family", "layers": "layer kind"}.get(group or "", "kind")
        raise SpecError(f"unknown {what} {name!r}{suggest(name, names)}; `paramspec kinds` lists them", where)

    def cases(self, group: str | None = None) -> list[Case]:
        return [c for k in self.kinds.values() if group in (None, k.group) for c in k.cases]

    def hf_mapping(self, model_type: Any, where: str | None = None) -> tuple[Kind, HFMapping]:
        hf_kind = getattr(self.kinds, "hf_kind", None)  # a KindTable finds it without parsing every kind
        named = hf_kind(model_type) if hf_kind is not None else None
        for kind in ([self.kinds[named]] if named else self.kinds.values()):
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


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    text = str(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


_count = count_at  # a count: a whole, non-negative number (paramspec.formula)
_evaluate_bool = truth_at
