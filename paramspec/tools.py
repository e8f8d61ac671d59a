"""The counting tools' audit: each tool's claim, as data, and the grading of its readings.

``spec/tools.yaml`` lists the tools (torchinfo, thop, ptflops, fvcore, calflops, DeepSpeed's
flops profiler, torch's FlopCounterMode, Hugging Face ``num_parameters()`` and
``Trainer.floating_point_ops()``, Keras ``summary()``, Flax ``tabulate``), what each one says it
reports (its *claim*: a formula over the case's true counts) for each of its figures
(``params``; ``compute``, the forward pass; ``training``, a training step or its backward), the
conventions it documents, and the cases it is run on. A runner (``adapters/tools/``) builds
each case through the existing adapters, calls the tool's public API as its README shows, and
returns a :class:`ToolRun`: the figures the tool gave, what it printed and warned. This
module grades that run against the claim, into one :class:`~paramspec.record.Record` per
case and tool, with the same record files and merge as the agreement matrix.

A reading is one of:

- ✓ right by the tool's own definition (its claim's formula);
- † a documented convention (a rule of the tool's in ``spec/tools.yaml``, with why), or a
  figure the tool itself warns about (it says what it skipped);
- ✗ ``silent zero``: the tool read 0 where the claim gives more, and said nothing;
- ✗ ``double counted``: too high by exactly the elements of the tensors listed under a
  second name (tied embeddings);
- ✗ ``missing``: too low by exactly the root module's own parameters, the frozen ones, or
  the buffers;
- ✗ ``other``: anything else (the difference is shown), or the tool raised.

The true counts the claims are written over come from the spec's formulas for the case
(``params``, ``state``, ``tied``, ``macs`` and the kind's terms; a training step's
``backward_macs``, ``step_macs``... from :func:`paramspec.training.expected_step`) and from
the built object itself (``root``, ``frozen``, ``bias_params``), never from the tool.

Example:
    >>> spec = load_tools()
    >>> spec.tools["thop"].claims["compute"].formula.text
    'macs'
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import yamlio
from ._layout import spec_root
from .errors import FormulaError, NotApplicable, SpecError
from .formula import Formula, parse
from .reading import Source
from .record import FAIL, NA, PASS, Quantity, Record
from .schema import schema_check

FILE = "tools.yaml"
QUANTITIES = ("params", "compute", "training")
# A training step's true counts (paramspec.training.expected_step: the input needs no gradient).
STEP = frozenset({"backward_macs", "step_macs", "weight_macs", "input_macs", "first_macs"})
# XLA's reading of a training step's backward, where the spec's formulas make it exact (:func:`step_truth`).
XLA_STEP = frozenset({"xla_backward", "xla_first"})
F32_EXACT = 2**24  # every whole number below it is exact in float32, which XLA's cost analysis adds in
# The names a claim's formula may read: the case's true counts (module docstring).
VARIABLES = frozenset({"params", "state", "tied", "root", "frozen", "trainable", "macs", "flops", "embedding", "elementwise",
                       "batch", "xla_total", "flop_counter_total", "tf_profiler_total"}) | STEP | XLA_STEP
FINDINGS = ("silent zero", "double counted", "missing", "other")
RIGHT, CONVENTION, WRONG = "✓", "†", "✗"


@dataclass(frozen=True)
class Claim:
    """What a tool says one of its figures is: ``says`` in its own words, ``formula`` over the
    true counts."""

    says: str
    formula: Formula
    unit: str = ""  # the compute figure's unit as the tool names it (MACs, FLOPs)


@dataclass(frozen=True)
class Rule:
    """A convention the tool documents for some kinds: its formula there, and why."""

    quantity: str
    kinds: tuple[str, ...]
    formula: Formula
    why: str


@dataclass(frozen=True)
class Tool:
    id: str
    name: str
    package: str  # the distribution whose version a record carries
    framework: str  # the target whose adapter builds its input
    runner: str  # adapters/tools/<module>.<function>
    api: str  # the call, as the tool's README shows it
    docs: str
    claims: dict[str, Claim]
    rules: tuple[Rule, ...] = ()
    kinds: tuple[str, ...] = ()  # only these kinds or families (empty: every one the runner takes)
    absent: dict[str, str] = field(default_factory=dict)  # a quantity the tool gives no figure of, and why

    def claim_for(self, quantity: str, kind: str) -> tuple[Formula, str | None] | None:
        """The formula a figure is held to for ``kind``, and the rule's why if a rule applies."""
        for r in self.rules:
            if r.quantity == quantity and kind in r.kinds:
                return r.formula, r.why
        c = self.claims.get(quantity)
        return (c.formula, None) if c else None


@dataclass(frozen=True)
class ToolCase:
    """A config the tools run on, and ``freeze``: submodules whose parameters are frozen
    (``requires_grad=False`` in torch) before the tool runs."""

    config: Mapping[str, Any]
    freeze: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolsSpec:
    tools: dict[str, Tool]
    layer_cases: str  # "all": every layer case of the spec
    models: tuple[ToolCase, ...]


@dataclass
class ToolRun:
    """What a runner got from one tool on one case.

    Attributes:
        figures: the tool's figures by quantity (``params``, ``compute``, ``training``), as it
            gave them (None: the tool gives no such figure for this input).
        extra: other figures it gave (``trainable``, ``flops`` beside ``macs``), for the record.
        warnings: what the tool warned (the warnings module, logging, or printed warnings).
        printed: the start of what it printed.
        error: the tool raised: ``TypeError: ...`` (one line).
        truth: the true counts of the built object that the spec cannot know: ``root`` (the
            root module's own parameter elements), ``frozen`` (frozen parameter elements),
            ``bias_params`` (the elements of the parameters named ``bias``, where a runner reads them).
        call: the call that was made.
    """

    figures: dict[str, int | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    printed: str = ""
    error: str | None = None
    truth: dict[str, int] = field(default_factory=dict)
    call: str = ""


def _claim(data: Any, where: str, allowed: frozenset[str]) -> Claim:
    return Claim(str(data.get("says", "")), _formula(data["formula"], where, allowed), str(data.get("unit", "")))


def _formula(text: Any, where: str, allowed: frozenset[str]) -> Formula:
    try:
        f = parse(text)
    except FormulaError as e:
        raise e.at(where) from None
    unknown = sorted(f.names - allowed)
    if unknown:
        raise SpecError(f"unknown name {unknown[0]!r} in `{text}` (allowed: {' '.join(sorted(allowed))})", where)
    return f


def parse_tools(data: Any, where: str = f"spec/{FILE}", terms: frozenset[str] = frozenset()) -> ToolsSpec:
    """Parse ``spec/tools.yaml``; ``terms``: the names of the kinds' compute terms
    (``bias_adds``), which a claim may read besides :data:`VARIABLES`."""
    schema_check(data, "tools.schema.json", where, remember=True)
    allowed = VARIABLES | terms
    tools: dict[str, Tool] = {}
    for i, t in enumerate(data["tools"]):
        w = f"{where}: tools[{i}] ({t['id']})"
        if t["id"] in tools:
            raise SpecError(f"tool {t['id']!r} is listed twice", w)
        claims = {q: _claim(t["claims"][q], f"{w}.claims.{q}", allowed) for q in QUANTITIES if q in t["claims"]}
        rules = tuple(Rule(r["quantity"], tuple(r["kinds"]), _formula(r["formula"], f"{w}.rules[{j}]", allowed), r["why"])
                      for j, r in enumerate(t.get("rules", [])))
        tools[t["id"]] = Tool(t["id"], t["name"], t["package"], t["framework"], t["runner"], t["api"],
                              t.get("docs", ""), claims, rules, tuple(t.get("kinds", [])), dict(t.get("absent", {})))
    cases = data["cases"]
    models = tuple(ToolCase(c["config"], tuple(c.get("freeze", []))) for c in cases["models"])
    return ToolsSpec(tools, cases["layers"], models)


@functools.lru_cache(maxsize=4)
def _load(root: str) -> ToolsSpec:
    from .loader import load_spec

    spec = load_spec(root)
    terms = frozenset(t for k in spec.kinds.values() for t in k.terms)
    return parse_tools(yamlio.load_path(Path(root) / FILE), f"spec/{FILE}", terms)


def load_tools(root: Path | str | None = None) -> ToolsSpec:
    return _load(str(Path(root) if root else spec_root()))


def tool(name: str, root: Path | str | None = None) -> Tool:
    tools = load_tools(root).tools
    if name not in tools:
        raise SpecError(f"unknown tool {name!r} (known: {', '.join(tools)})")
    return tools[name]


# ------------------------------------------------------------------ grading
def truth(case, framework: str, run: ToolRun, needs: frozenset[str] = frozenset()) -> dict[str, int]:
    """The true counts a claim is written over: the spec's for the case in ``framework``,
    and the built object's own ``root`` and ``frozen``; with ``needs`` naming a training
    step's counts (:data:`STEP`, :data:`XLA_STEP`), those too, where the spec has them
    (:func:`step_truth`)."""
    e = case.expected(framework)
    env = {k: v for k, v in case.values.items() if isinstance(v, int)}  # batch, seq_len, ...
    env.update(params=e.params, state=e.state, tied=e.tied, embedding=e.embedding or 0, root=0, frozen=0)
    env.update(run.truth)
    env["trainable"] = env["params"] - env["frozen"]
    if case.kind.macs is not None:
        c = case.expected_compute()
        env.update(macs=c.macs, flops=c.flops, **c.terms)
        from .loader import load_spec

        for cid, counter in load_spec().counters.items():  # what each counter reads, where the spec knows exactly
            ec = case.expected_compute(counter, framework)
            if ec.total is not None and ec.not_applicable is None:
                env[f"{cid}_total"] = ec.total
    if needs & (STEP | XLA_STEP):
        env.update(step_truth(case, framework, env, xla=bool(needs & XLA_STEP))[0])
    return env


def no_training(case) -> str | None:
    """Why the spec has no training step's counts for ``case`` (None: it has them). A layer
    kind's ``training:`` defaults are its canonical backward (the weights' gradients take its
    MACs again); a model family's backward also runs its layers' input gradients, which only
    its own ``training:`` entry states."""
    from .training import KindTraining

    kind = case.kind
    if kind.macs is None:
        return f"the spec has no training formula for {kind.name}: it has no macs formula"
    if kind.group == "models" and kind.training == KindTraining():
        return (f"the spec has no training formula for {kind.name} yet (a `training:` entry in spec/models: a "
                "model's backward also runs its layers' input gradients, which the one-layer defaults leave out)")
    return None


def step_truth(case, framework: str, env: Mapping[str, int], xla: bool = False) -> tuple[dict[str, int], str | None]:
    """A training step's true counts (the input needs no gradient): ``backward_macs``,
    ``step_macs``, ``weight_macs``, ``input_macs``, ``first_macs`` (the input's gradient,
    which the step does not run); with ``xla``, XLA's reading of the step's backward,
    ``xla_backward``, and of the input's gradient, ``xla_first``, where the spec's formulas
    make them exact: the matmul-like part is the kind's xla training formula; the rest is what
    transposing the forward's elementwise ops costs, known where the forward's only elementwise
    op is its bias add (its xla total less its matmul part is ``bias_adds``, and the runner read
    the ``bias_params`` elements): the bias's gradient sums the output's gradient over every
    position, ``bias_adds - bias_params`` adds (XLA's HloCostAnalysis counts a reduction's input
    elements less its output's). XLA's cost analysis adds its figures in float32, so they are
    given only where the forward, the backward, the input's gradient and an add per variable
    element come to less than 2**24, every sum of them exact. Returns the counts and, where
    there are none, why."""
    why = no_training(case)
    if why:
        return {}, why
    from .training import expected_step

    e = expected_step(case)
    out = {"backward_macs": e.backward_macs, "step_macs": e.step_macs, "weight_macs": e.weight_macs,
           "input_macs": e.input_macs, "first_macs": e.first_macs}
    if not xla:
        return out, None
    from .loader import load_spec

    counter = load_spec().counters.get("xla")
    if counter is None or "xla_total" not in env:
        return out, None
    ec = case.expected_compute(counter, framework)
    elementwise = env["xla_total"] - (ec.matmul or 0)
    if elementwise and (elementwise != env.get("bias_adds") or "bias_params" not in env):
        return out, None  # elementwise work besides the bias add: its transpose has no formula here
    e0, e1 = expected_step(case, counter, framework), expected_step(case, counter, framework, input_grad=True)
    if e0.not_applicable or e0.backward is None or e1.backward is None:
        return out, None
    backward = e0.backward + (elementwise - env["bias_params"] if elementwise else 0)
    first = e1.backward - e0.backward
    if env["xla_total"] + backward + first + env["params"] + env["state"] >= F32_EXACT:
        return out, None  # XLA adds its figures in float32: a sum this large is rounded
    out["xla_backward"], out["xla_first"] = backward, first
    return out, None


def _finding(got: int, expected: int, env: Mapping[str, int], warned: bool,
             quantity: str = "params", causes: list[tuple[str, int]] | None = None) -> tuple[str, str | None, str]:
    """The mark, the finding (None for †) and a one-line explanation of a reading that is not
    what the claim gives. A training figure is not held to the parameter findings (tied,
    root, frozen, buffers); its difference is explained by ``causes`` (:func:`step_causes`)."""
    d = got - expected
    if quantity != "training":
        if d > 0 and env.get("tied") and d == env["tied"]:
            return WRONG, "double counted", f"{d:,} too many: the tied tensors ({env['tied']:,} elements) counted twice"
        if d < 0:
            parts = {"root": "the root module's own parameters", "frozen": "the frozen parameters",
                     "state": "the buffers"}
            for names in (("root",), ("frozen",), ("state",), ("root", "frozen")):
                n = sum(env.get(k, 0) for k in names)
                if n and -d == n:
                    return WRONG, "missing", f"{-d:,} too few: {' and '.join(parts[k] for k in names)} are not counted"
    if got == 0 and expected > 0:
        if warned:
            return CONVENTION, None, "reads 0, and the tool warns that it does not count this"
        return WRONG, "silent zero", f"reads 0 where its own definition gives {expected:,}, with no warning"
    if warned:
        return CONVENTION, None, f"differs by {d:+,}, and the tool warns that it skips part of the model"
    cause = _sum_cause(d, causes) if quantity == "training" else _cause(d, env)
    return WRONG, "other", f"differs from its own definition by {d:+,}" + cause


# What a difference may be made of, where the grading can name it: the true counts it equals.
CAUSES = {"bias_adds": "the bias adds", "state": "the buffers", "tied": "the tied tensors' second names",
          "embedding": "the embeddings", "root": "the root module's own parameters",
          "frozen": "the frozen parameters", "elementwise": "the elementwise work (norms, activations, pooling)",
          "macs": "the MACs (a factor of 2: MACs for FLOPs, or FLOPs for MACs)", "params": "every parameter"}


def _cause(d: int, env: Mapping[str, int]) -> str:
    """``: it leaves out the bias adds (-512)`` where the difference is one of the true counts
    (or a whole multiple of one), else an empty string: a cause is named only where found."""
    for name, what in CAUSES.items():
        n = env.get(name)
        if not n:
            continue
        if d == n:
            return f": it adds {what} ({n:,}) that its definition leaves out"
        if d == -n:
            return f": it leaves out {what} ({n:,})"
        if d % n == 0 and abs(d // n) <= 4:
            return f": {d // n:+d} x {what} ({n:,})"
    return ""


def step_causes(formula: Formula, unit: str, env: Mapping[str, int]) -> list[tuple[str, int]]:
    """What a training figure's difference may be made of, in the claim's unit: XLA's readings
    of the forward pass and of the input's gradient, and an add per variable element, for a
    claim over XLA's reading; else the input's gradient (which a training step does not run)
    and the forward pass, in MACs (x2 in FLOPs)."""
    if formula.names & XLA_STEP:
        parts = [("the forward pass", env.get("xla_total")),
                 ("the input's gradient, which a training step does not run", env.get("xla_first")),
                 ("an add per variable element", env.get("params", 0) + env.get("state", 0))]
    else:
        k = 2 if unit == "FLOPs" else 1
        parts = [("the input's gradient, which a training step does not run", k * env["first_macs"]
                  if "first_macs" in env else None),
                 ("the forward pass", k * env["macs"] if "macs" in env else None)]
    return [(what, n) for what, n in parts if n]


def _sum_cause(d: int, causes: list[tuple[str, int]] | None) -> str:
    """``: it adds the forward pass (2,570) and the input's gradient (2,560)`` where the
    difference is the sum of some of ``causes`` (the fewest), else an empty string."""
    from itertools import combinations

    for size in range(1, len(causes or ()) + 1):
        for chosen in combinations(causes or (), size):
            total = sum(n for _, n in chosen)
            if abs(d) == total:
                names = [f"{what} ({n:,})" for what, n in chosen]
                listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
                return f": it {'adds' if d > 0 else 'leaves out'} {listed}"
    return ""


def grade(tool_: Tool, case, run: ToolRun, version: str) -> Record:
    """One :class:`Record` for one tool on one case (source type ``tool``)."""
    source = Source("tool", tool_.id, version, tool_.framework)
    rec = Record(source, PASS, case.id, case.kind.name, case.config(), built=run.call)
    if run.truth.get("frozen"):
        rec.config = {**rec.config, "freeze": run.extra.get("freeze", [])}
    claims = {q: tool_.claim_for(q, case.kind.name) for q in QUANTITIES}
    needs = frozenset().union(*(c[0].names for c in claims.values() if c is not None))
    framework = _spec_framework(tool_.framework)
    env = truth(case, framework, run, needs)
    rec.notes = [f"warning: {w}" for w in run.warnings[:20]] + [f"{k}: {v}" for k, v in run.extra.items()]
    if run.error:
        rec.verdict, rec.reason = FAIL, run.error
        rec.problems.append(f"the tool raised: {run.error}")
    for q in QUANTITIES:
        claim = claims[q]
        if claim is None:
            continue
        formula, why = claim
        got = run.figures.get(q)
        missing = sorted(formula.names - set(env))
        if missing:  # the spec has no exact formula for a term the claim reads, for this kind
            if got is not None:
                step_why = no_training(case) if q == "training" and set(missing) & (STEP | XLA_STEP) else None
                rec.quantities[q] = Quantity(got, None, formula.text, env.get("step_macs") if q == "training" else None,
                                             why=why or f"not graded: {step_why or _no_formula(missing, case)}")
            continue
        expected = formula.evaluate_int(env)
        canonical = {"params": env["params"], "compute": env.get("macs"), "training": env.get("step_macs")}[q]
        if got is None:
            if run.error:
                rec.quantities[q] = Quantity(None, expected, formula.text, canonical, why, finding="other")
            continue
        if got == expected:
            rec.quantities[q] = Quantity(got, expected, formula.text, canonical, why)
            continue
        unit = tool_.claims[q].unit if q in tool_.claims else ""
        mark, finding, explain = _finding(got, expected, env, bool(run.warnings), q,
                                          step_causes(formula, unit, env) if q == "training" else None)
        rec.quantities[q] = Quantity(got, expected, formula.text, canonical, why if mark != CONVENTION else
                                     (why or explain), finding=finding, explain=explain)
        if finding:
            rec.verdict = FAIL
            rec.problems.append(f"{q}: {explain}")
        else:
            rec.notes.append(f"{q}: {explain}")
    if not rec.quantities and not run.error:
        rec.verdict, rec.reason = NA, "the tool gives no figure for this case"
    return rec


def _no_formula(missing: list[str], case) -> str:
    names = set(missing)
    if names & XLA_STEP:
        return (f"the spec has no exact formula for XLA's reading of {case.kind.name}'s backward here: elementwise "
                "work besides a bias add (whose transpose XLA counts too), or figures of 2**24 or more, which XLA "
                "adds in float32")
    return f"the spec has no formula for {' and '.join(missing)} in {case.kind.name}"


def mark_of(q: Quantity | None) -> str:
    """✓ right by the tool's own definition; † by a rule it documents, or a figure it warns
    about; ✗ wrong ('' when there is no figure)."""
    if q is None or q.got is None and q.finding is None:
        return ""
    if q.finding:
        return WRONG
    return CONVENTION if q.why else RIGHT


def _spec_framework(target_name: str) -> str:
    from .frameworks import target

    return target(target_name).framework


# ------------------------------------------------------------------ running
def cases(spec, tools_spec: ToolsSpec, kinds: list[str] | None = None) -> list[tuple[Any, tuple[str, ...]]]:
    """The (case, freeze) pairs the tools run on: every layer case, then the models of
    ``spec/tools.yaml``; with ``kinds``, only cases of those kinds or families."""
    from .configs import resolve_case

    out = [(c, ()) for c in spec.cases("layers")]
    for i, m in enumerate(tools_spec.models):
        out.append((resolve_case(dict(m.config), spec, f"spec/{FILE}: cases.models[{i}]"), m.freeze))
    return [(c, f) for c, f in out if not kinds or c.kind.name in kinds]


def case_id(case, freeze: tuple[str, ...]) -> str:
    """The case's id, with ``+frozen[conv1,layer1]`` when submodules are frozen."""
    return case.id + (f"+frozen[{','.join(freeze)}]" if freeze else "")


def run_tool(tool_: Tool, case, freeze: tuple[str, ...] = ()) -> Record:
    """Run one tool on one case through its runner, and grade it."""
    from ._layout import import_adapter_module

    module_name, function = tool_.runner.split(".")
    module = import_adapter_module(f"tools.{module_name}")
    version = module.version(tool_)
    if tool_.kinds and case.kind.name not in tool_.kinds:
        rec = Record(Source("tool", tool_.id, version, tool_.framework), NA, case_id(case, freeze), case.kind.name,
                     case.config())
        rec.reason = f"{tool_.name} counts only {', '.join(tool_.kinds)}"
        return rec
    try:
        run = getattr(module, function)(tool_, case, freeze)
    except NotApplicable as e:  # the framework cannot build the case (a recorded n/a of the spec)
        rec = Record(Source("tool", tool_.id, version, tool_.framework), NA, case_id(case, freeze), case.kind.name,
                     case.config())
        rec.reason = e.reason
        return rec
    rec = grade(tool_, case, run, version)
    rec.case = case_id(case, freeze)
    return rec
