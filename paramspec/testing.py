"""Check your own layer: against a formula you write (``assert_param_count``), or against a
kind of the spec over configs drawn from its variables (``assert_matches_kind``, also
``paramspec check --factory``); both are pytest fixtures too. And the generated conformance
the suite and ``bench/conformance.py`` run on the spec's kinds (``assert_kind_conforms``).

Example:
    >>> import torch
    >>> from paramspec.testing import assert_matches_kind, assert_param_count
    >>> assert_param_count(torch.nn.LSTM(300, 128), "4 * (n_in + h) * h + 8 * h", n_in=300, h=128)
    >>> assert_matches_kind(lambda c: torch.nn.Linear(c["in_features"], c["out_features"], c["bias"]),
    ...                     "Linear", examples=10).configs
    10

Each reads the object through the same adapters as the conformance suite: a torch
``nn.Module``; a built Keras layer or model; a Flax linen ``(module, variables)`` pair (or the
variables alone); a Flax ``nnx.Module``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .audit.attribution import counted, explain_difference
from .errors import NotApplicable, SpecError
from .formula import parse
from .objects import read_object
from .reading import Reading
from .render.text import tensor_table


def assert_param_count(obj: Any, formula: str, *, counts: str = "params", **variables: Any) -> Reading:
    """Assert that ``obj`` holds ``formula`` elements (trainable parameters by default).

    Args:
        obj: a built torch, Keras, Flax linen (module, variables) or nnx object.
        formula: the formula, in the variable names you pass (the paramspec formula language).
        counts: ``params`` (trainable), ``state`` (non-trainable), ``total``, or
            ``native:<name>`` (a framework total such as ``native:count_params()``).
        **variables: the formula's variables.

    Returns:
        the reading, for further checks.

    Raises:
        AssertionError: the message gives the expected and read counts, their difference,
            the tensors that make up the difference where they can be named, and the
            per-tensor breakdown.
    """
    __tracebackhide__ = True  # pytest shows a failure at the caller's line, not here
    f = parse(formula, "formula")
    unknown = sorted(f.names - set(variables))
    if unknown:
        raise SpecError(f"formula `{f}` needs `{unknown[0]}`: pass it as a keyword argument")
    expected = f.evaluate_int(variables)
    reading = read_object(obj)
    got = counted(reading, counts, reading.source.name)
    if got != expected:
        diff = got - expected
        why = explain_difference([reading], [diff], counts)
        args = ", ".join(f"{k}={v}" for k, v in variables.items())
        raise AssertionError(
            f"{counts} count of {reading.built} in {reading.source.version}: expected {expected:,} "
            f"from `{f}`" + (f" with {args}" if args else "") + f", read {got:,}; difference (read - formula) {diff:+,}"
            + (f"; {why}" if why else "") + "\n" + tensor_table(reading.tensors))
    return reading


# ---------------------------------------------------------------------- drawn configs
COUNTS = ("params", "state", "total")  # and native:<name>, a framework's own total


@dataclass(frozen=True)
class Matched:
    """What :func:`assert_matches_kind` checked: how many drawn configs, of which kind, read
    in which target, held to which framework's formula, with which seed."""

    kind: str
    configs: int
    target: str
    version: str
    framework: str | None  # the framework whose formula held (None: the canonical one)
    counts: str
    seed: int

    def summary(self, factory: str) -> str:
        """``GRU: 100 drawn configs of my_gru:make (torch 2.13.0) agree with ...``."""
        whose = f"{self.framework}'s" if self.framework else "the canonical"
        return (f"{self.kind}: {self.configs} drawn configs of {factory} ({self.version}) agree with {whose} "
                f"{self.counts} formula (seed {self.seed})")


class Disagreement(AssertionError):
    """A drawn config whose reading is not its formula; ``signature`` names what differs
    (the kind and the quantities), so that a long run can tell one disagreement from another."""

    def __init__(self, message: str, config: dict[str, Any], signature: str):
        super().__init__(message)
        self.config, self.signature = config, signature


def assert_matches_kind(factory: Callable[[dict[str, Any]], Any], kind: str, *, framework: str | None = None,
                        examples: int = 100, counts: str = "params", seed: int | None = None,
                        convention: str | None = None) -> Matched:
    """Assert that the objects ``factory`` builds hold the spec's count of ``kind``, over drawn configs.

    Configs of the kind are drawn from its variables in the spec (:mod:`paramspec.strategies`):
    canonical torch.nn names, input sizes included, every variable present (an option at its
    default where the draw left it). ``factory(config)`` returns a built object, read as
    :func:`assert_param_count` reads one, and its count is held to the spec's formula for the
    object's framework. A disagreement is shrunk (Hypothesis) to a minimal config.

    Args:
        factory: ``config -> object``: a torch module, a built Keras layer, a Flax linen
            ``(module, variables)`` pair or an nnx module. It may raise
            :class:`paramspec.NotApplicable` for a config it does not build (that draw is dropped).
        kind: a kind of the spec (``GRU``, ``Conv2d``, ``llama`` ...).
        framework: whose formula holds (a framework or a target of ``frameworks.yaml``); by
            default the object's own framework, with its recorded convention.
        examples: how many configs to draw.
        counts: ``params``, ``state``, ``total`` or ``native:<name>`` (a framework total).
        seed: the draws' seed; by default ``PARAMSPEC_SEED``, else
            :data:`paramspec.strategies.DEFAULT_SEED`.
        convention: ``"canonical"``: the canonical formula, not the framework's convention.

    Returns:
        what was checked (:class:`Matched`).

    Raises:
        AssertionError: the minimal config that disagrees, as a spec case line, the expected and
            read counts, their difference, the tensors that make it up, and the per-tensor
            breakdown.
        SpecError: bad input, in one line: an unknown kind, a factory that raises (its
            exception named) or returns what no adapter reads, a kind that cannot be drawn.

    Example:
        >>> def lstm(c):  # torch.nn.LSTM keeps two bias vectors a gate: torch's recorded convention
        ...     return torch.nn.LSTM(c["input_size"], c["hidden_size"], c["num_layers"], c["bias"],
        ...                          bidirectional=c["bidirectional"], proj_size=c["proj_size"], device="meta")
        >>> assert_matches_kind(lstm, "LSTM", examples=20).framework
        'torch'
        >>> assert_matches_kind(lstm, "LSTM", examples=20, convention="canonical")
        Traceback (most recent call last):
        AssertionError: LSTM: params count of LSTM(1, 1) in torch 2.13.0+cpu: expected 12 from the canonical ...
    """
    __tracebackhide__ = True
    return matches_kind(factory, kind, framework=framework, examples=examples, counts=counts, seed=seed,
                        convention=convention)


def matches_kind(factory: Callable[[dict[str, Any]], Any], kind: str, *, framework: str | None = None,
                 examples: int = 100, counts: str = "params", seed: int | None = None,
                 convention: str | None = None, database: Any = "profile") -> Matched:
    """:func:`assert_matches_kind`, with Hypothesis's example ``database`` chosen (``"profile"``:
    the active settings profile's; None: none, as ``paramspec check --factory`` runs)."""
    __tracebackhide__ = True
    from .loader import load_spec
    from .strategies import Plan, drawn_case, session_seed, yaml_case

    if not callable(factory):
        raise SpecError(f"factory must be callable (config -> built object), got {type(factory).__name__}")
    spec = load_spec()
    k = spec.kind(kind, "assert_matches_kind")
    if convention not in (None, "canonical"):
        raise SpecError(f"convention takes 'canonical' (or None: the framework's own), got {convention!r}")
    if counts not in COUNTS and not (isinstance(counts, str) and counts.startswith("native:")):
        raise SpecError(f"counts takes {', '.join(COUNTS)} or native:<name>, got {counts!r}")
    _check_examples(examples)
    fw = _framework_id(framework) if framework is not None else None
    Plan.of(k).check()
    seed = session_seed() if seed is None else seed
    name = _name(factory)

    def check(config: dict[str, Any]) -> None:
        __tracebackhide__ = True
        resolved = drawn_case(k, config).values
        given = {n: (list(v) if isinstance(v, tuple) else v) for n, v in resolved.items()}
        try:
            obj = factory(given)
        except NotApplicable:
            from hypothesis import reject

            reject()
        except Exception as e:
            raise SpecError(f"the factory {name} raised {type(e).__name__}: "
                            f"{(str(e).strip().splitlines() or [''])[0][:200]} (config {yaml_case(config)[2:]})") from None
        try:
            reading = read_object(obj)
        except SpecError as e:
            raise SpecError(f"the factory {name} returned what paramspec cannot read: {e.message}") from None
        whose = fw or reading.source.framework
        formula, expected, why = _expected(spec, k, resolved, whose, convention == "canonical", counts)
        got = counted(reading, counts, reading.source.name)
        if got != expected:
            held = "the canonical" if convention == "canonical" else f"{whose}'s"
            failures.append((reading, got - expected))
            raise Disagreement(
                f"{k.name}: {counts} count of {reading.built} in {reading.source.version}: expected {expected:,} "
                f"from {held} formula `{formula}`" + (f" ({whose}'s convention: {why})" if why else "")
                + f", read {got:,}; difference (read - formula) {got - expected:+,}{_EXPLAINED}"
                + f"\n  minimal config (shrunk from configs drawn with seed {seed}), as a case of {k.file}:"
                f"\n      {yaml_case(config)}\n" + tensor_table(reading.tensors),
                config, f"{k.name}: {counts}")
        found.append((reading.source.name, reading.source.version))

    found: list[tuple[str, str]] = []
    failures: list[tuple[Reading, int]] = []
    try:
        run_drawn(k, check, examples=examples, seed=seed, label=f"assert_matches_kind:{name}", database=database)
    except Disagreement as e:
        # Hypothesis raises the minimal config's failure last; the larger failing configs met
        # on the way tell apart tensors a minimal config makes the same size (hidden_size 1)
        minimal, others = failures[-1], _distinct(failures[:-1])
        if len(others) < 2:  # larger configs of the same shape, to tell the tensors apart
            others += _distinct(_more_failures(k, factory, spec, e.config, whose=fw, canonical=convention == "canonical",
                                               counts=counts, sign=minimal[1] > 0), 3 - len(others))
        explained = explain_difference([minimal[0], *(r for r, _ in others)], [minimal[1], *(d for _, d in others)],
                                       counts) or explain_difference([minimal[0]], [minimal[1]], counts)
        raise Disagreement(str(e).replace(_EXPLAINED, f"; {explained}" if explained else ""), e.config,
                           e.signature) from None
    target, version = found[-1] if found else ("", "")
    return Matched(k.name, len(found), target, version, None if convention == "canonical" else (fw or _fw_of(target)),
                   counts, seed)


def _more_failures(kind: Any, factory: Callable, spec: Any, config: dict[str, Any], *, whose: str | None,
                   canonical: bool, counts: str, sign: bool) -> list[tuple[Reading, int]]:
    """Readings of the minimal ``config`` made larger (its integer variables grown, each by its
    own step, so that no two tensors keep one size) that differ from the formula in the same
    direction (``sign``: more): what tells apart tensors a minimal config makes the same size."""
    names = [n for n, v in kind.variables.items() if v.type == "int" and not v.input and isinstance(config.get(n), int)]
    out = []
    for j in (1, 2, 3):
        grown = {**config, **{n: config[n] + j * (2 * i + 3) for i, n in enumerate(names)}}
        try:
            resolved = kind.resolve(grown)
            reading = read_object(factory({n: (list(v) if isinstance(v, tuple) else v) for n, v in resolved.items()}))
            _, expected, _ = _expected(spec, kind, resolved, whose or reading.source.framework, canonical, counts)
            diff = counted(reading, counts, reading.source.name) - expected
        except Exception:  # a config the kind's rules refuse, or the factory declines or fails on: no help here
            continue
        if diff and (diff > 0) == sign:
            out.append((reading, diff))
    return out


_EXPLAINED = "\x00explained\x00"  # where a failure's message says which tensors make up the difference


def _distinct(failures: list[tuple[Reading, int]], n: int = 3) -> list[tuple[Reading, int]]:
    """Up to ``n`` of the failing readings, each with a difference none before it had."""
    out: list[tuple[Reading, int]] = []
    for reading, diff in reversed(failures):
        if diff not in {d for _, d in out}:
            out.append((reading, diff))
    return out[:n]


def assert_kind_conforms(kind: str, target_name: str, *, examples: int = 10, seed: int | None = None) -> int:
    """Draw configs of a spec kind, build and read each in a target, and assert that each
    reading is the spec's (params, state, the native totals, and the counter's reading of one
    forward pass: :func:`paramspec.run.run_case` with ``measure``), and that the build stays
    within the kind's ``tensors`` bound. The generated conformance tests and
    ``bench/conformance.py`` run it.

    Returns:
        how many configs were checked.

    Raises:
        Disagreement: the minimal config that disagrees, as the spec case line to add, and the
            record's explanation (case, target and version, expected vs got, formulas, tensors).
        SpecError: an unknown kind or target; a kind that cannot be drawn.
    """
    __tracebackhide__ = True
    from .loader import load_spec
    from .strategies import Plan, session_seed

    spec = load_spec()
    k = spec.kind(kind)
    _check_examples(examples)
    Plan.of(k).check()
    seed = session_seed() if seed is None else seed
    return run_drawn(k, conformance_check(k, target_name, seed), examples=examples, seed=seed,
                     label=f"conformance:{target_name}")


def conformance_check(kind: Any, target_name: str, seed: int) -> Callable[[dict[str, Any]], Any]:
    """``config -> Record``: one drawn config built, read, measured and compared in a target
    (raising :class:`Disagreement` where it disagrees); see :func:`assert_kind_conforms`."""
    from .loader import load_spec
    from .record import NA, PASS
    from .run import run_case
    from .strategies import drawn_case, yaml_case

    spec = load_spec()

    def check(config: dict[str, Any]):
        __tracebackhide__ = True
        case = drawn_case(kind, config)
        rec = run_case(spec, case, target_name, measure=True, breakdown=False)
        bound = case.tensor_bound()
        over = bound is not None and rec.verdict != NA and len(rec.tensors) > bound
        if rec.verdict in (PASS, NA) and not over:
            return rec
        what = sorted({_what(p) for p in rec.all_problems})
        if over:
            what.append("tensors")
        raise Disagreement(
            f"{case.id} in {target_name} ({rec.framework_version}): a drawn config disagrees with the spec"
            + (f"; {len(rec.tensors)} tensors built, over the kind's `tensors` bound {bound}" if over else "")
            + f"\n  minimal config (shrunk from configs drawn with seed {seed}); to keep it, add it to "
            f"{kind.file}, {kind.name}'s cases:\n      {yaml_case(config)}\n" + rec.explain(),
            config, f"{kind.name} in {target_name}: {', '.join(what)}")

    return check


def _what(problem: str) -> str:
    """What a record's problem is about: ``params``, ``flops``, ``building failed: ValueError``."""
    head = problem.split(" (")[0].split(": ")
    return ": ".join(head[:2]) if head[0] in ("building failed", "reading failed") else head[0]


def run_drawn(kind: Any, check: Callable[[dict[str, Any]], Any], *, examples: int, seed: int, label: str,
              database: Any = "profile") -> int:
    """Run ``check`` over ``examples`` configs of ``kind`` drawn by Hypothesis with ``seed``;
    a failure is shrunk to a minimal config and raised as ``check`` raised it for that config.
    ``database``: Hypothesis's example database (``"profile"``: the active settings profile's;
    None: none). Returns how many configs ``check`` saw."""
    __tracebackhide__ = True
    try:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as fixed_seed
        from hypothesis.errors import Unsatisfiable
    except ImportError:
        raise SpecError("drawing configs needs hypothesis: pip install hypothesis (or 'paramspec[test]')") from None
    from .strategies import configs

    calls = [0]

    def test(config):
        __tracebackhide__ = True
        calls[0] += 1
        check(config)

    options: dict[str, Any] = {"max_examples": examples, "deadline": None, "suppress_health_check": list(HealthCheck),
                               "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
                               "report_multiple_bugs": False, "print_blob": False, "verbosity": Verbosity.quiet}
    if database != "profile":
        options["database"] = database
    run = fixed_seed(seed)(settings(**options)(given(configs(kind))(test)))
    try:  # the example database keys its entries by this (every kind's test has the same source)
        run.hypothesis.inner_test._hypothesis_internal_add_digest = f"{label}:{kind.name}".encode()
    except AttributeError:
        pass
    try:
        run()
    except Unsatisfiable:
        raise SpecError(f"no drawn config of {kind.name} could be checked: every draw was dropped "
                        "(the factory declined each, or the kind's conditions left none)") from None
    return calls[0]


def _check_examples(examples: Any) -> None:
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise SpecError(f"examples must be a whole number of configs, 1 or more, got {examples!r}")


def _expected(spec: Any, kind: Any, resolved: dict[str, Any], framework: str, canonical: bool,
              counts: str) -> tuple[str, int, str | None]:
    """The formula, its value and the convention's why (None: canonical) for ``counts`` of
    ``framework``'s build: its recorded convention, or the canonical formula."""
    from .compare import native_quantities

    e = kind.expected(None if canonical else framework, resolved)
    why = None if canonical else e.convention
    if counts == "params":
        return e.params_formula, e.params, why
    if counts == "state":
        return e.state_formula, e.state, why
    if counts == "total":
        return f"{e.params_formula} + {e.state_formula}", e.params + e.state, why
    name = counts.split(":", 1)[1]
    natives = native_quantities(spec.frameworks[framework], e)
    if f"native:{name}" not in natives:
        known = ", ".join(k.split(":", 1)[1] for k in natives) or "none"
        raise SpecError(f"counts {counts!r}: {framework} has no native total {name!r} (known: {known})")
    q = natives[f"native:{name}"]
    return q.formula, q.canonical if canonical else q.expected, why


def _framework_id(name: Any) -> str:
    """A framework id from a framework or a target name (``keras-jax`` -> ``keras``)."""
    from .frameworks import frameworks, targets

    if isinstance(name, str) and name in frameworks():
        return name
    if isinstance(name, str) and name in targets():
        return targets()[name].framework
    known = ", ".join(dict.fromkeys([*frameworks(), *targets()]))
    raise SpecError(f"unknown framework {name!r} (known: {known})")


def _fw_of(target_name: str) -> str | None:
    from .frameworks import targets

    t = targets().get(target_name)
    return t.framework if t else None


def _name(factory: Any) -> str:
    module = getattr(factory, "__module__", None) or ""
    qual = getattr(factory, "__qualname__", None) or type(factory).__name__
    return f"{module}:{qual}" if module else qual
