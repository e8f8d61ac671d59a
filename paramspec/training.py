"""Training: a step's compute (the forward and the backward pass), its memory, and how long a
run takes. One typed part of the record (:class:`Training`), on the one path every count takes.

- **A training step** is the forward and backward pass of a scalar loss, the sum of the
  outputs, at the case's input, with the input not requiring a gradient (as in training;
  ``input_grad`` counts it too). It runs deterministically, in every framework alike: dropout
  off, BatchNorm on its running statistics (the matmul work is a training step's; no dropout
  mask is saved).
- **Canonical compute** is closed form, per kind, in the spec (``training:`` in a kind):
  backward MACs are weight-gradient MACs (``weight``, default ``macs``) plus the gradients of
  the kind's own intermediate activations (``input``, default 0), plus, with ``input_grad``,
  the gradient of its input (``first``, default ``macs``). None flows to an embedding's
  indices. Each counter's reading of the backward's matmul-like part is held exactly to its
  formula: its default in ``frameworks.yaml`` (``backward``), or a kind's own rule, with why.
- **Memory** by part: weights, gradients and fp32 master copies by precision, optimizer
  states by optimizer (``spec/training.yaml``: per-tensor formulas with sources, each
  framework's own optimizer held to its convention), and activations: what the framework
  keeps for backward, measured, beside the kind's canonical formula where it has one.
- **Time**: the step's FLOPs over an accelerator's peak dense throughput (``hardware``) at a
  model FLOPs utilization (``mfu``, default in the spec); or, from a measured step time, the
  MFU it implies.

Example:
    >>> r = paramspec.count({"kind": "Linear", "in_features": 300, "out_features": 128, "batch": 4}, train=True)
    >>> r.training.backward_macs, r.training.verdict
    (153600, 'pass')
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import yamlio
from .errors import FormulaError, SpecError
from .formula import Formula, count_at as _count, parse, truth_at as _evaluate_bool
from .record import Part, Quantity

FILE = "training.yaml"
RECOMPUTE = ("none", "selective", "full")
GB = 10**9


# ------------------------------------------------------------------ the kinds' training data
@dataclass(frozen=True)
class TrainingRule:
    """A counter's own formula for the backward pass's matmul-like part of a kind, or n/a."""

    counters: tuple[str, ...]
    why: str
    backward: Formula | None = None
    when: Formula | None = None
    not_applicable: bool = False
    frameworks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ActivationConvention:
    """A framework (or a target of one: Keras on TensorFlow and on JAX measure differently) that
    keeps other activations for backward than the canonical ones, and why."""

    frameworks: tuple[str, ...]
    activations: Formula
    why: str
    when: Formula | None = None
    targets: tuple[str, ...] = ()

    def applies(self, framework: str | None, target: str | None) -> bool:
        return (target is not None and target in self.targets) or (framework is not None and framework in self.frameworks)


@dataclass(frozen=True)
class KindTraining:
    """A kind's ``training:`` entry (every part optional; see the module's docstring)."""

    weight: Formula | None = None
    input: Formula | None = None
    first: Formula | None = None
    activations: Formula | None = None
    activations_source: str = ""
    rules: tuple[TrainingRule, ...] = ()
    conventions: tuple[ActivationConvention, ...] = ()
    recompute: Mapping[str, Formula] = field(default_factory=dict)  # mode -> the forward MACs recomputed in backward


def parse_kind_training(raw: Mapping[str, Any] | None, formula: Any, counters: Iterable[str]) -> KindTraining:
    """A kind's ``training:`` entry; ``formula(text, at, extra_names)`` parses one formula
    over the kind's names (the loader's, which names the kind in its errors)."""
    if not raw:
        return KindTraining()
    counters = set(counters)

    def f(key: str, at: str, extra: frozenset[str] = frozenset({"macs"})) -> Formula | None:
        return formula(raw[key], at, extra) if key in raw else None

    rules = []
    for i, r in enumerate(raw.get("counters") or []):
        at = f"training.counters[{i}]"
        unknown = sorted(set(r["counters"]) - counters)
        if unknown:
            raise SpecError(f"unknown counter {unknown[0]!r} (known: {', '.join(sorted(counters))})", at)
        step_names = frozenset({"macs", "backward_macs", "weight_macs", "input_macs", "first_macs", "recompute_macs",
                                "recompute"})
        rules.append(TrainingRule(tuple(r["counters"]), r["why"],
                                  formula(r["backward"], f"{at}.backward", step_names) if "backward" in r else None,
                                  formula(r["when"], f"{at}.when", step_names) if "when" in r else None,
                                  bool(r.get("not_applicable", False)),
                                  tuple(r["frameworks"]) if "frameworks" in r else None))
    # activations may depend on whether the input needs a gradient, and on the recompute mode ('none', ...)
    act_names = frozenset({"macs", "input_grad", "recompute"})
    convs = tuple(ActivationConvention(tuple(c.get("frameworks", ())),
                                       formula(c["activations"], f"training.conventions[{i}]", act_names), c["why"],
                                       formula(c["when"], f"training.conventions[{i}].when", act_names)
                                       if "when" in c else None, tuple(c.get("targets", ())))
                  for i, c in enumerate(raw.get("conventions") or []))
    recompute = raw.get("recompute") or {}
    unknown = sorted(set(recompute) - set(RECOMPUTE[1:]))
    if unknown:
        raise SpecError(f"unknown recompute mode {unknown[0]!r} (known: {', '.join(RECOMPUTE[1:])})", "training.recompute")
    return KindTraining(f("weight", "training.weight"), f("input", "training.input"), f("first", "training.first"),
                        f("activations", "training.activations", act_names), raw.get("activations_source", ""),
                        tuple(rules), convs,
                        {mode: formula(text, f"training.recompute.{mode}", frozenset({"macs"}))
                         for mode, text in recompute.items()})


@dataclass
class ExpectedStep:
    """What the spec expects of one training step of a case (and one counter, one framework)."""

    macs: int
    weight_macs: int
    input_macs: int
    first_macs: int
    input_grad: bool = False
    recompute_macs: int = 0  # forward MACs run again in the backward pass (activation recomputation)
    counter: str | None = None
    backward: int | None = None  # the counter's backward matmul-like part
    backward_formula: str | None = None
    why: str | None = None
    by_convention: bool = False
    not_applicable: str | None = None
    activations: int | None = None  # the framework's bytes kept for backward (its convention or the canonical)
    activations_formula: str | None = None
    canonical_activations: int | None = None
    activations_why: str | None = None

    @property
    def backward_macs(self) -> int:
        """The MACs the backward pass runs: the gradients', and the forward MACs it recomputes."""
        return self.weight_macs + self.input_macs + (self.first_macs if self.input_grad else 0) + self.recompute_macs

    @property
    def step_macs(self) -> int:
        return self.macs + self.backward_macs


def expected_step(case: Any, counter: Any | None = None, framework: str | None = None,
                  input_grad: bool = False, target: str | None = None, recompute: str = "none") -> ExpectedStep:
    """The canonical MACs of a training step of ``case`` and, with a counter, what it should
    read of ``framework``'s backward pass; and the activations the framework (or ``target``)
    keeps (formulas that may read ``input_grad``, 0 or 1, and ``recompute``, the mode).

    Raises:
        SpecError: the kind has no ``macs`` formula (no forward pass to train through), or no
            formula for the forward MACs ``recompute`` runs again.
    """
    kind = case.kind
    if kind.macs is None:
        raise SpecError(f"{kind.name} has no macs formula: it has no forward pass to train through", kind.where)
    t: KindTraining = kind.training
    env = kind.env(case.values)
    macs = _count(kind.macs, env, f"{kind.where}.macs")
    menv = _with(env, {"macs": macs})
    at = f"{kind.where}.training"
    recomputed = 0
    if recompute != "none":
        if recompute not in t.recompute:
            raise SpecError(f"--recompute {recompute}: the spec has no formula for the forward MACs {kind.name} "
                            f"recomputes (training.recompute.{recompute}): "
                            + ("a layer has no blocks to recompute" if kind.group == "layers" else
                               "not yet for this family"), kind.where)
        recomputed = _count(t.recompute[recompute], menv, f"{at}.recompute.{recompute}")
    out = ExpectedStep(macs,
                       _count(t.weight, menv, f"{at}.weight") if t.weight else macs,
                       _count(t.input, menv, f"{at}.input") if t.input else 0,
                       _count(t.first, menv, f"{at}.first") if t.first else macs, input_grad, recomputed)
    if t.activations is not None:
        aenv = _with(menv, {"input_grad": int(input_grad), "recompute": recompute})
        out.canonical_activations = _count(t.activations, aenv, f"{at}.activations")
        out.activations, out.activations_formula = out.canonical_activations, t.activations.text
        for conv in t.conventions:
            if conv.applies(framework, target) and (conv.when is None
                                                    or _evaluate_bool(conv.when, aenv, f"{at}.conventions")):
                out.activations = _count(conv.activations, aenv, f"{at}.conventions")
                out.activations_formula, out.activations_why = conv.activations.text, conv.why
                break
    if counter is None:
        return out
    senv = _with(menv, {"backward_macs": out.backward_macs, "weight_macs": out.weight_macs,
                        "input_macs": out.input_macs, "first_macs": out.first_macs, "recompute_macs": recomputed,
                        "recompute": recompute})
    rule = next((r for r in t.rules if counter.id in r.counters and (r.frameworks is None or framework in r.frameworks)
                 and (r.when is None or _evaluate_bool(r.when, senv, f"{at}.counters"))), None)
    out.counter = counter.id
    if rule is not None and rule.not_applicable:
        out.not_applicable = out.why = rule.why
        return out
    bf = rule.backward if rule is not None and rule.backward is not None else counter.backward
    if bf is not None:
        out.backward = _count(bf, senv, f"{at}.counters[{counter.id}].backward")
        out.backward_formula = bf.text
    out.by_convention = rule is not None
    out.why = rule.why if rule is not None else counter.why
    return out


def _with(env: Mapping[str, Any], extra: dict[str, Any]) -> Mapping[str, Any]:
    from .formula import scope

    return scope(env, extra)


# ------------------------------------------------------------------ spec/training.yaml
@dataclass(frozen=True)
class OptimizerConvention:
    frameworks: tuple[str, ...]
    why: str
    state: Formula | None = None
    global_bytes: int | None = None
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Optimizer:
    """An optimizer's state: a formula per trainable tensor (bytes, over ``n`` and ``shape``),
    and what it keeps once (``global_bytes``); each framework's own where it differs."""

    id: str
    name: str
    state: Formula
    source: str
    frameworks: dict[str, str]  # where the framework has it: how paramspec builds it
    conventions: tuple[OptimizerConvention, ...] = ()
    global_bytes: int = 0

    def convention(self, framework: str | None, target: str | None = None) -> OptimizerConvention | None:
        """The convention for a target (one naming it), else for its framework, else None."""
        return (next((c for c in self.conventions if target is not None and target in c.targets), None)
                or next((c for c in self.conventions if framework is not None and framework in c.frameworks), None))

    def state_bytes(self, shapes: Iterable[tuple[int, ...]], framework: str | None = None,
                    target: str | None = None) -> tuple[int, str, str | None]:
        """The bytes of state for trainable tensors of ``shapes``: (bytes, the formula, the
        convention's why where the target or its framework follows one)."""
        conv = self.convention(framework, target)
        f = conv.state if conv and conv.state is not None else self.state
        g = conv.global_bytes if conv and conv.global_bytes is not None else self.global_bytes
        total = g
        for shape in shapes:
            try:
                total += f.evaluate_int({"n": math.prod(shape), "shape": tuple(shape)})
            except FormulaError as e:
                raise e.at(f"spec/{FILE}: optimizers.{self.id}.state") from None
        text = f.text + (f" a tensor, + {g} once" if g else " a tensor")
        return total, text, conv.why if conv else None


@dataclass(frozen=True)
class Precision:
    id: str
    name: str
    weight: int
    gradient: int
    master: int
    activation: int
    source: str


@dataclass(frozen=True)
class Hardware:
    id: str
    name: str
    memory_gb: float
    peak_tflops: dict[str, float]
    source: str

    def peak_flops(self, dtype: str) -> float:
        if dtype not in self.peak_tflops:
            raise SpecError(f"{self.id} has no {dtype} figure (it has {', '.join(self.peak_tflops)})", "--hardware")
        return self.peak_tflops[dtype] * 1e12


@dataclass(frozen=True)
class TrainingSpec:
    optimizers: dict[str, Optimizer]
    precisions: dict[str, Precision]
    hardware: dict[str, Hardware]
    mfu: float
    mfu_source: str


def _state_formula(text: Any, where: str) -> Formula:
    f = parse(text, where)
    unknown = sorted(f.names - {"n", "shape"})
    if unknown:
        raise FormulaError(f"unknown variable `{unknown[0]}` in `{f}` (a state formula reads n and shape)", where)
    return f


def parse_training_spec(data: Any, where: str = f"spec/{FILE}") -> TrainingSpec:
    from .schema import schema_check

    schema_check(data, "training.schema.json", where, remember=True)
    optimizers = {}
    for o in data["optimizers"]:
        at = f"{where}: optimizers.{o['id']}"
        convs = tuple(OptimizerConvention(tuple(c.get("frameworks", ())), c["why"],
                                          _state_formula(c["state"], f"{at}.conventions") if "state" in c else None,
                                          c.get("global"), tuple(c.get("targets", ())))
                      for c in o.get("conventions") or [])
        optimizers[o["id"]] = Optimizer(o["id"], o["name"], _state_formula(o["state"], f"{at}.state"), o["source"],
                                        dict(o.get("frameworks") or {}), convs, o.get("global", 0))
    precisions = {p["id"]: Precision(p["id"], p["name"], p["weight"], p["gradient"], p["master"], p["activation"],
                                     p["source"]) for p in data["precisions"]}
    hardware = {h["id"]: Hardware(h["id"], h["name"], h["memory_gb"], dict(h["peak_tflops"]), h["source"])
                for h in data["hardware"]}
    return TrainingSpec(optimizers, precisions, hardware, data["mfu"]["default"], data["mfu"]["source"])


@functools.lru_cache(maxsize=4)
def _load(root: str) -> TrainingSpec:
    return parse_training_spec(yamlio.load_path(Path(root) / FILE))


def training_spec(root: Path | str | None = None) -> TrainingSpec:
    from ._layout import spec_root

    return _load(str(Path(root) if root else spec_root()))


# ------------------------------------------------------------------ options
@dataclass(frozen=True)
class TrainOptions:
    """What a user asks of a training step (``paramspec count --train ...``)."""

    optimizer: str = "adamw"
    precision: str = "fp32"
    recompute: str = "none"
    input_grad: bool = False
    hardware: str | None = None
    mfu: float | None = None
    tokens: float | None = None
    steps: float | None = None
    step_time: float | None = None
    memory_gb: float | None = None

    def checked(self, spec: TrainingSpec | None = None) -> "TrainOptions":
        """These options, each checked against the spec.

        Raises:
            SpecError: one line naming the option and what it takes.
        """
        spec = spec or training_spec()
        for option, value, known in (("--optimizer", self.optimizer, spec.optimizers),
                                     ("--precision", self.precision, spec.precisions),
                                     ("--recompute", self.recompute, RECOMPUTE)):
            if value not in known:
                raise SpecError(f"unknown {option[2:]} {value!r} (known: {', '.join(known)})", option)
        if self.hardware is not None and self.hardware not in spec.hardware:
            import difflib

            given = str(self.hardware).lower()
            hint = ([h for h in spec.hardware if h.lower().startswith(given)]
                    or difflib.get_close_matches(str(self.hardware), list(spec.hardware), n=1))
            raise SpecError(f"unknown hardware {self.hardware!r}" + (f" (did you mean {' or '.join(hint)}?)" if hint
                                                                      else "")
                            + f"; known: {', '.join(spec.hardware)}", "--hardware")
        if self.mfu is not None and not (0 < self.mfu <= 1):
            raise SpecError(f"must be in (0, 1], got {self.mfu}", "--mfu")
        for option, value in (("--tokens", self.tokens), ("--steps", self.steps), ("--step-time", self.step_time),
                              ("--memory", self.memory_gb)):
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise SpecError(f"must be a positive number, got {value}", option)
        if self.tokens is not None and self.steps is not None:
            raise SpecError("give --tokens or --steps, not both", "--tokens")
        needs_hw = [o for o, v in (("--mfu", self.mfu), ("--tokens", self.tokens), ("--steps", self.steps),
                                   ("--step-time", self.step_time)) if v is not None]
        if needs_hw and self.hardware is None:
            raise SpecError(f"{needs_hw[0]} needs --hardware (its peak FLOPS)", needs_hw[0])
        if self.step_time is not None and self.mfu is not None:
            raise SpecError("--step-time gives the MFU it implies: give it or --mfu, not both", "--step-time")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


# ------------------------------------------------------------------ the record's part
@dataclass
class Training(Part):
    """A record's training part: one training step at the case's input, the spec's canonical
    count of it, a counter's reading of it held to that counter's formulas, and its memory.

    Attributes:
        counter, counter_name, version: the counter that read the step, as in :class:`~paramspec.record.Compute`.
        options: what was asked (optimizer, precision, recompute, input_grad, hardware, ...).
        macs, weight_macs, input_macs, first_macs: the spec's canonical MACs of the forward pass and
            of the backward's parts; ``backward_macs`` and ``step_flops`` follow.
        quantities: ``backward`` (the counter's backward matmul-like part against its formula),
            ``forward`` (its forward matmul part within the step), ``step`` (its whole reading of
            the step, against an exact formula where the spec has one), ``activations`` (bytes the
            framework keeps for backward, against its formula where the kind has one),
            ``gradients`` (bytes of the gradients, against 4 a parameter), ``optimizer`` (bytes of
            the framework's own optimizer's state, against its formula).
        memory: bytes by part at the asked precision (weights, gradients, master, optimizer,
            activations, total), with how each was found.
        estimates: the papers' training FLOPs for the step, each with its source and its ratio
            to the measured step.
        time: the run's time and accelerator-hours, or the MFU a measured step time implies.
        fits: whether the step fits in memory (the hardware's, or ``--memory``), and by how much.
        by_op: the counter's per-op figures: ``forward`` and ``backward``.
    """

    counter: str
    counter_name: str = ""
    version: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    macs: int = 0
    weight_macs: int = 0
    input_macs: int = 0
    first_macs: int = 0
    recompute_macs: int = 0
    quantities: dict[str, Quantity] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)
    time: dict[str, Any] = field(default_factory=dict)
    fits: dict[str, Any] = field(default_factory=dict)
    by_op: dict[str, dict[str, int]] = field(default_factory=dict)
    convention: str | None = None
    notes: list[str] = field(default_factory=list)
    not_applicable: str | None = None
    error: str | None = None
    label = "training"

    @property
    def input_grad(self) -> bool:
        return bool(self.options.get("input_grad"))

    @property
    def backward_macs(self) -> int:
        """The MACs the backward pass runs: the gradients', and the forward MACs it recomputes."""
        return self.weight_macs + self.input_macs + (self.first_macs if self.input_grad else 0) + self.recompute_macs

    @property
    def forward_flops(self) -> int:
        return 2 * self.macs

    @property
    def backward_flops(self) -> int:
        return 2 * self.backward_macs

    @property
    def step_flops(self) -> int:
        """The canonical FLOPs of the step: 2 x (forward + backward MACs)."""
        return self.forward_flops + self.backward_flops

    def _got(self, name: str) -> int | None:
        q = self.quantities.get(name)
        return None if q is None else q.got

    @property
    def measured_backward(self) -> int | None:
        return self._got("backward")

    @property
    def measured_step(self) -> int | None:
        """The counter's whole reading of the step (forward and backward, every op it counts)."""
        return self._got("step")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "counter": self.counter, "counter_name": self.counter_name, "version": self.version,
            "options": dict(self.options), "macs": self.macs, "weight_macs": self.weight_macs,
            "input_macs": self.input_macs, "first_macs": self.first_macs, "recompute_macs": self.recompute_macs,
            "quantities": {k: q.to_dict() for k, q in self.quantities.items()},
            "memory": self.memory, "estimates": self.estimates, "time": self.time, "fits": self.fits,
            "by_op": self.by_op, "notes": list(self.notes),
        }
        for key in ("convention", "not_applicable", "error"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        d.update(verdict=self.verdict, mark=self.mark, backward_macs=self.backward_macs,
                 forward_flops=self.forward_flops, backward_flops=self.backward_flops, step_flops=self.step_flops,
                 measured_step=self.measured_step)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Training":
        return cls(counter=d["counter"], counter_name=d.get("counter_name", ""), version=d.get("version", ""),
                   options=dict(d.get("options") or {}), macs=d.get("macs", 0), weight_macs=d.get("weight_macs", 0),
                   input_macs=d.get("input_macs", 0), first_macs=d.get("first_macs", 0),
                   recompute_macs=d.get("recompute_macs", 0),
                   quantities={k: Quantity.from_dict(q) for k, q in (d.get("quantities") or {}).items()},
                   memory=dict(d.get("memory") or {}), estimates=dict(d.get("estimates") or {}),
                   time=dict(d.get("time") or {}), fits=dict(d.get("fits") or {}),
                   by_op={k: dict(v) for k, v in (d.get("by_op") or {}).items()}, convention=d.get("convention"),
                   notes=list(d.get("notes") or []), not_applicable=d.get("not_applicable"), error=d.get("error"))


# ------------------------------------------------------------------ memory and time
def memory(params: int, trainable_shapes: list[tuple[int, ...]], options: TrainOptions, activations: int | None,
           activations_how: str, spec: TrainingSpec | None = None) -> dict[str, Any]:
    """Bytes by part for a step at ``options.precision`` with ``options.optimizer``: weights,
    gradients and master copies by the precision, the optimizer's state by its canonical
    formula over the trainable tensors, the activations (fp32 bytes, at the precision's width)."""
    spec = spec or training_spec()
    p, o = spec.precisions[options.precision], spec.optimizers[options.optimizer]
    state, state_formula, _ = o.state_bytes(trainable_shapes)
    parts = {"weights": params * p.weight, "gradients": params * p.gradient, "master": params * p.master,
             "optimizer": state}
    how = {"weights": f"{params:,} parameters x {p.weight} bytes ({p.name})",
           "gradients": f"{params:,} x {p.gradient} bytes",
           "master": f"{params:,} x {p.master} bytes (fp32 master copy)" if p.master else "none (no master copy)",
           "optimizer": f"{o.name}: {state_formula} ({o.source})"}
    if activations is not None:
        parts["activations"] = activations * p.activation // 4
        how["activations"] = activations_how + ("" if p.activation == 4 else f", at {p.activation} bytes an element")
    parts["total"] = sum(parts.values())
    return {"bytes": parts, "how": how, "precision": p.id, "optimizer": o.id}


def fits(total: int, options: TrainOptions, spec: TrainingSpec | None = None) -> dict[str, Any]:
    """Whether ``total`` bytes fit in ``--memory`` GB or the hardware's memory, and by how much."""
    spec = spec or training_spec()
    if options.memory_gb is not None:
        capacity, where = int(options.memory_gb * GB), f"{options.memory_gb:g} GB (--memory)"
    elif options.hardware is not None:
        hw = spec.hardware[options.hardware]
        capacity, where = int(hw.memory_gb * GB), f"{hw.memory_gb:g} GB ({hw.id})"
    else:
        return {}
    return {"capacity": capacity, "where": where, "total": total, "fits": total <= capacity,
            "margin": capacity - total, "share": total / capacity}


def run_time(step_flops: int, tokens_per_step: int | None, options: TrainOptions,
             spec: TrainingSpec | None = None) -> dict[str, Any]:
    """A step's time on the hardware at the MFU, and the run's (``--tokens``/``--steps``); or,
    from ``--step-time``, the MFU it implies."""
    spec = spec or training_spec()
    if options.hardware is None:
        return {}
    hw = spec.hardware[options.hardware]
    dtype = "fp32" if options.precision == "fp32" else options.precision.split("-")[0]
    peak = hw.peak_flops(dtype)
    out: dict[str, Any] = {"hardware": hw.id, "dtype": dtype, "peak_flops": peak, "source": hw.source,
                           "step_flops": step_flops}
    if options.step_time is not None:
        out.update(step_time=options.step_time, mfu=step_flops / (options.step_time * peak), mfu_from="--step-time")
        return out
    mfu = options.mfu if options.mfu is not None else spec.mfu
    out.update(mfu=mfu, mfu_from="--mfu" if options.mfu is not None else f"the spec's default ({spec.mfu_source})",
               step_time=step_flops / (peak * mfu))
    steps = options.steps
    if options.tokens is not None:
        if not tokens_per_step:
            raise SpecError("this kind's input has no tokens (batch x seq_len): give --steps", "--tokens")
        steps = options.tokens / tokens_per_step
        out["tokens"], out["tokens_per_step"] = options.tokens, tokens_per_step
    if steps is not None:
        seconds = steps * out["step_time"]
        out.update(steps=steps, seconds=seconds, accelerator_hours=seconds / 3600,
                   total_flops=steps * step_flops)
    return out


__all__ = ["ActivationConvention", "ExpectedStep", "Hardware", "KindTraining", "Optimizer", "Precision", "RECOMPUTE",
           "TrainOptions", "Training", "TrainingRule", "TrainingSpec", "expected_step", "fits", "memory",
           "parse_kind_training", "run_time", "training_spec"]


# ------------------------------------------------------------------ comparing a step
def _take_step(t: Training, sm: Any, counter: Any) -> None:
    """The counter's readings of a measured step into ``t``: its version, per-op tables and notes,
    the forward's and backward's matmul-like parts and the step's total."""
    t.version = sm.forward.version
    t.by_op = {"forward": dict(sm.forward.by_op), "backward": dict(sm.backward.by_op)}
    t.notes += list(sm.notes)
    t.quantities["forward"].got = sum(v for op, v in sm.forward.by_op.items() if op in counter.matmul_ops)
    t.quantities["backward"].got = sum(v for op, v in sm.backward.by_op.items() if op in counter.matmul_ops)
    t.quantities["step"].got = sm.step_total


def compare_training(record: Any, case: Any, counter: Any, sm: Any | None, error: str | None,
                     options: TrainOptions, spec: TrainingSpec | None = None,
                     not_applicable: str | None = None) -> Training:
    """Add the training part to ``record``: the spec's canonical MACs of the step, and a
    counter's reading of it (``sm``: a :class:`~paramspec.reading.StepMeasurement`) held to
    that counter's formulas; the memory the framework measured held to the spec's formulas;
    the memory by part at the asked precision, the papers' estimates, the time and whether it
    fits. ``error``: the step could not be measured (an n/a where the spec records one, else
    a failure); ``not_applicable``: the target cannot take what was asked (a recompute mode).
    The record fails when the part does."""
    spec = spec or training_spec()
    framework = record.source.framework
    exp = expected_step(case, counter, framework, options.input_grad, record.source.name, options.recompute)
    ec = case.expected_compute(counter, framework)
    why = exp.why if exp.by_convention else None
    t = Training(counter=counter.id, counter_name=counter.name, options=options.to_dict(), macs=exp.macs,
                 weight_macs=exp.weight_macs, input_macs=exp.input_macs, first_macs=exp.first_macs,
                 recompute_macs=exp.recompute_macs, convention=why, not_applicable=exp.not_applicable or not_applicable, error=error)
    step_exact = (ec.total + exp.backward if ec.total is not None and exp.backward is not None and counter.total is not None
                  and counter.total.text == "matmul" and not ec.by_convention and not exp.by_convention else None)
    t.quantities = {
        "forward": Quantity(None, ec.matmul, ec.matmul_formula, 2 * exp.macs, ec.why if ec.by_convention else None),
        "backward": Quantity(None, exp.backward, exp.backward_formula, 2 * exp.backward_macs, why),
        "step": Quantity(None, step_exact, f"forward + backward (`{counter.total}`: the counter counts matmul-like "
                         "ops alone)" if step_exact is not None else None, 2 * exp.step_macs),
    }
    params_q, params = record.quantities.get("params"), record.params or 0
    shapes = [t_.shape for t_ in record.tensors if t_.trainable]
    if params_q is not None and params_q.expected is not None:
        t.quantities["gradients"] = Quantity(None, 4 * params_q.expected, "4 * params (an fp32 gradient a parameter)",
                                             4 * (params_q.canonical or params_q.expected))
    if exp.activations is not None:
        t.quantities["activations"] = Quantity(None, exp.activations, exp.activations_formula,
                                               exp.canonical_activations, exp.activations_why)
    opt = spec.optimizers[options.optimizer]
    if sm is not None:
        _take_step(t, sm, counter)
        if "gradients" in t.quantities:
            t.quantities["gradients"].got = sm.gradients
        if sm.activations is not None:
            t.quantities.setdefault("activations", Quantity(formula=None, why="the kind has no activations formula "
                                                            "in the spec: measured, not judged"))
            t.quantities["activations"].got = sm.activations
        elif sm.activations_note:
            t.notes.append(f"activations: {sm.activations_note}")
        if sm.optimizer is not None:
            exp_bytes, formula, owhy = opt.state_bytes(shapes, framework, record.source.name)
            canonical, _, _ = opt.state_bytes(shapes)
            t.quantities["optimizer"] = Quantity(sm.optimizer, exp_bytes, f"{formula} ({opt.name})", canonical, owhy)
        if sm.optimizer_note:
            t.notes.append(f"optimizer: {sm.optimizer_note}")
    measured_act = t.quantities.get("activations")
    act = (measured_act.got if measured_act is not None and measured_act.got is not None
           else exp.canonical_activations)
    how = ("measured in the framework" if measured_act is not None and measured_act.got is not None
           else f"the spec's `{case.kind.training.activations}`" if act is not None else "")
    t.memory = memory(params, shapes, options, act, how, spec)
    if act is None:
        t.memory["how"]["activations"] = "not measured here and no formula in the spec: not in the total"
    t.fits = fits(t.memory["bytes"]["total"], options, spec)
    tokens = _tokens_per_step_of(case)
    measured = t.measured_step
    t.estimates = _estimates(case, tokens, measured if measured else t.step_flops, options,
                             t.memory["bytes"].get("activations"), how == "measured in the framework")
    t.time = run_time(measured or t.step_flops, tokens, options, spec)
    record.training = t
    if t.verdict == "fail" and record.verdict == "pass":
        record.verdict = "fail"
    return t


def _estimates(case: Any, tokens: int | None, step: int, options: TrainOptions | None = None,
               activations: int | None = None, measured_activations: bool = False) -> dict[str, dict[str, Any]]:
    """The papers' figures for the step, each with its source and its ratio to ours: training
    FLOPs (a per-token estimate times the step's tokens, or a whole step's) against ``step``
    (the measured step, or the canonical one); activation bytes, for the recompute mode asked,
    against ``activations`` (the memory part's bytes at the precision asked)."""
    out: dict[str, dict[str, Any]] = {}
    if case.kind.macs is None:
        return out
    recompute = options.recompute if options is not None else "none"
    for name, e in case.expected_compute().estimates.items():
        if e.get("of") == "activations":
            if recompute not in e["recompute"]:
                continue
            value = e["value"] * tokens if e.get("per", "token") == "token" and tokens else e["value"]
            out[name] = {**e, "value": value, "against": "measured" if measured_activations else "canonical",
                         "ratio": value / activations if activations else None}
            continue
        if not e.get("training"):
            continue
        per = e.get("per", "token")
        if per == "token" and not tokens:
            continue
        value = e["value"] * tokens if per == "token" else e["value"]
        out[name] = {"value": value, "per": per, "formula": e["formula"], "source": e["source"],
                     "ratio": value / step if step else None,
                     **({"differs": e["differs"]} if e.get("differs") else {})}
    return out


def formula_training(case: Any, params: int, options: TrainOptions, spec: TrainingSpec | None = None) -> Training:
    """The spec's values for a training step of ``case`` (no framework): canonical MACs,
    memory by part where the optimizer's formula needs no tensor shapes, estimates, time."""
    spec = spec or training_spec()
    exp = expected_step(case, None, None, options.input_grad, recompute=options.recompute)
    t = Training(counter="formula", counter_name="the spec's formulas", options=options.to_dict(), macs=exp.macs,
                 weight_macs=exp.weight_macs, input_macs=exp.input_macs, first_macs=exp.first_macs,
                 recompute_macs=exp.recompute_macs)
    opt = spec.optimizers[options.optimizer]
    shaped = {"n", "shape"} & opt.state.names
    act = exp.canonical_activations
    how = f"the spec's `{case.kind.training.activations}`" if act is not None else ""
    if "shape" in shaped:  # a formula over each tensor's shape: the tensors come from a build
        t.memory = memory(params, [], options, act, how, spec)
        t.memory["bytes"]["optimizer"] = None
        t.memory["how"]["optimizer"] = (f"{opt.name} keeps state by each tensor's shape: count in a framework "
                                        "(-f torch ...) to have it")
        t.memory["bytes"]["total"] = sum(v for k, v in t.memory["bytes"].items() if k not in ("total", "optimizer")
                                         and v is not None)
    else:  # linear in the elements: one tensor of all the parameters gives the same
        t.memory = memory(params, [(params,)] if params else [], options, act, how, spec)
    if act is None:
        t.memory["how"]["activations"] = "no formula in the spec for this kind: count in a framework to measure them"
    t.fits = fits(t.memory["bytes"]["total"], options, spec)
    tokens = _tokens_per_step_of(case)
    t.estimates = _estimates(case, tokens, t.step_flops, options, t.memory["bytes"].get("activations"))
    t.time = run_time(t.step_flops, tokens, options, spec)
    return t


def _tokens_per_step_of(case: Any) -> int | None:
    """Tokens a step reads: the elements of its token-id input (batch x seq_len), else None."""
    inputs = case.inputs() if case.kind.inputs else ()
    return math.prod(inputs[0].shape) if inputs and inputs[0].dtype.startswith("int") else None


def read_training(record: Any, counter: Any, sm: Any | None, error: str | None, options: TrainOptions,
                  not_applicable: str | None = None, spec: TrainingSpec | None = None) -> Training:
    """The training part of a user's own object (no spec formula for its compute): the
    counter's readings of the step, shown not judged; the gradients and the framework's
    optimizer state held to their formulas over the tensors read; the memory, fit and time."""
    spec = spec or training_spec()
    t = Training(counter=counter.id, counter_name=counter.name, options=options.to_dict(), error=error,
                 not_applicable=not_applicable)
    params = record.params or 0
    shapes = [x.shape for x in record.tensors if x.trainable]
    t.quantities = {"forward": Quantity(), "backward": Quantity(), "step": Quantity(),
                    "gradients": Quantity(None, 4 * params, "4 * params (an fp32 gradient a parameter, as read)")}
    opt = spec.optimizers[options.optimizer]
    if sm is not None:
        _take_step(t, sm, counter)
        t.quantities["gradients"].got = sm.gradients
        if sm.activations is not None:
            t.quantities["activations"] = Quantity(sm.activations)
        if sm.optimizer is not None:
            exp_bytes, formula, owhy = opt.state_bytes(shapes, record.source.framework, record.source.name)
            t.quantities["optimizer"] = Quantity(sm.optimizer, exp_bytes, f"{formula} ({opt.name})",
                                                 opt.state_bytes(shapes)[0], owhy)
    act = t.quantities["activations"].got if "activations" in t.quantities else None
    t.memory = memory(params, shapes, options, act, "measured in the framework" if act is not None else "", spec)
    if act is None:
        t.memory["how"]["activations"] = "not measured: no input shape was given"
    t.fits = fits(t.memory["bytes"]["total"], options, spec)
    t.time = run_time(t.measured_step or 0, None, options, spec) if t.measured_step else {}
    record.training = t
    return t
