"""The one path every count takes: spec → case → build → read → compare → record.

:func:`run_case` is it. ``paramspec.count``, ``paramspec count``, ``paramspec check``, the
conformance tests and the audit all go through it; ``paramspec.count_file`` takes the same
path with a file reader in place of build and read.

Example:
    >>> r = count({"kind": "LSTM", "input_size": 300, "hidden_size": 128}, framework="torch")
    >>> r.params, r.quantities["params"].canonical, r.agrees
    (220160, 219648, True)
"""
from __future__ import annotations

import traceback
from pathlib import Path
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .compare import compare, compare_compute, failed, file_record, not_applicable
from .configs import resolve_case
from .errors import NotApplicable, SpecError
from .frameworks import adapter as get_adapter, target, targets
from .kinds import Case, Spec
from .loader import load_spec
from .reading import Source
from .record import FORMULA, NA, Compute, Quantity, Record

if TYPE_CHECKING:
    from .training import TrainOptions


def run_case(spec: Spec, case: Case, target_name: str, *, strict: bool = False, native: bool = True,
             measure: bool = False, breakdown: bool = True, train: "TrainOptions | None" = None) -> Record:
    """Build ``case`` in a target, read it, and compare the reading with the spec.

    A case whose build would create more tensors than the spec's ``build_limit`` is bad input
    (a ``SpecError``), refused before anything is built. n/a only where the spec records it
    and the adapter agrees. A framework error while
    building or reading is a ``fail`` record (the suite goes on), or, with ``strict``, raised.
    Without ``native``, the framework's own totals are not read (nor compared): the audit,
    which fits hundreds of configs, reads them only for an entry that counts one. With
    ``measure``, a forward pass at the case's inputs runs under the target's compute counter,
    compared with that counter's formulas (only for a kind with a ``macs`` formula); without
    ``breakdown``, the counter's per-op table holds the matmul-like ops and the rest as one
    figure (the suite: what the comparison needs, and faster under XLA). With ``train``, a
    training step (forward and backward) is measured too, and its memory
    (:func:`paramspec.training.compare_training`).
    """
    case.check_buildable(spec.build_limit)  # before the framework is even imported
    t = target(target_name)
    ad = get_adapter(target_name)
    source = Source("framework", t.name, ad.version(), t.framework)
    record, built = _build_and_read(spec, case, t, ad, source, strict, native)
    counted = case.kind.macs is not None and t.counter is not None and record.verdict != NA
    step = None
    if train is not None and counted:
        step = _train(record, case, spec.counters[t.counter], ad, built, train, strict, breakdown)
    if measure and counted:
        # Measured even where the spec records the counter as n/a: a counter that measures
        # what the spec says it cannot fails, as an adapter that builds a recorded n/a does.
        # A training step's forward pass is the forward pass (measure_step reads it as measure
        # would), so it is not run twice.
        counter = spec.counters[t.counter]
        m, error = (step.forward if step is not None else None), None
        if m is None and built is None:
            error = "not measured: the case could not be built and read"
        elif m is None:
            try:
                m = ad.measure(built, breakdown)
            except Exception as e:
                limit = ad.beyond_limit(e, case.values)  # a size the counter cannot hold: bad input, as in the build
                if limit is not None:
                    raise limit from None
                if strict and case.expected_compute(counter, t.framework).not_applicable is None:
                    raise
                error = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"
        compare_compute(record, case, counter, m, error)
    return record


def _train(record: Record, case: Case, counter, ad, built, options, strict: bool, breakdown: bool):
    """Measure a training step of ``built`` and add the training part to ``record``; the step's
    measurement (None where it could not be measured)."""
    from .training import compare_training, expected_step

    sm, error, na = None, None, None
    if built is None:
        error = "not measured: the case could not be built and read"
    else:
        try:
            sm = ad.measure_step(built, optimizer=options.optimizer, input_grad=options.input_grad,
                                 recompute=options.recompute, breakdown=breakdown)
        except NotApplicable as e:  # the target cannot take what was asked (a recompute mode, an optimizer)
            na = e.reason
        except Exception as e:
            limit = ad.beyond_limit(e, case.values)
            if limit is not None:
                raise limit from None
            if strict and expected_step(case, counter, record.source.framework).not_applicable is None:
                raise
            error = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"
    compare_training(record, case, counter, sm, error, options, not_applicable=na)
    return sm


def _build_and_read(spec: Spec, case: Case, t, ad, source: Source, strict: bool, native: bool) -> tuple[Record, Any]:
    """The record of building and reading ``case``, and what was built (None where nothing
    was built that can be measured: an n/a, a failed build or read, a recorded n/a built)."""
    declared = case.not_applicable_reason(t.framework)
    try:
        built = ad.build(case.kind.name, case.values, case.inputs() if case.kind.inputs else (), native=native)
    except NotApplicable as e:
        if declared:
            return not_applicable(case, source, declared, e.reason), None
        return failed(case, source, "the adapter cannot build this case, and the spec does not record it as n/a",
                      reason=e.reason), None
    except SpecError:
        raise
    except Exception as e:  # a framework error is a failure of this case, not of the run
        if strict:
            raise
        return failed(case, source, f"building failed: {type(e).__name__}: {e}",
                      reason=traceback.format_exc(limit=-3)), None
    if declared:
        return failed(case, source, "the spec records this case as n/a, but the adapter built it", reason=declared,
                      built=ad.describe(built)), None
    try:
        reading = ad.read(built, native)
    except Exception as e:
        if strict:
            raise
        return failed(case, source, f"reading failed: {type(e).__name__}: {e}", built=ad.describe(built)), None
    return compare(spec, case, reading, native), built


def count(spec: Any, framework: str | None = None, where: str = "spec", *, native: bool = True,
          measure: bool | None = None, breakdown: bool = True, train: Any = False, input: Any = None,
          input_dtype: str = "float32") -> Record:
    """Build a config in a framework, read it, and compare it with the spec's formula.

    Args:
        spec: a mapping such as ``{"kind": "LSTM", "input_size": 300, "hidden_size": 128}``,
            ``{"model": "resnet", "preset": "resnet50", "num_classes": 10}`` or
            ``{"hf_config": {...}}`` (a config.json), or YAML/JSON text of one, or a file's
            path; or a model you built (a torch module, a built Keras layer or model, a linen
            ``(module, variables)`` pair, an nnx module): :func:`paramspec.objects.count_object`.
        framework: a target from ``spec/frameworks.yaml``: ``torch`` (the default),
            ``keras`` (Keras 3 on TensorFlow), ``keras-jax``, ``flax-linen`` or ``flax-nnx``;
            or ``formula``: the spec's formulas alone (:func:`formula_record`), no framework.
        where: names the input in error messages (a file name, for instance).
        native: also read the framework's own totals (``count_params()``, ``parameters()``...).
        measure: run one forward pass under the framework's compute counter (``r.flops``).
            Unset: measure when the config names an input size (``batch``, ``seq_len``...).
        breakdown: the counter's per-op table in full; False: the matmul-like ops and the
            rest as one figure (faster under XLA; the comparison needs no more).
        train: also a training step (``r.training``): True, or a mapping of
            :class:`~paramspec.training.TrainOptions` (``{"optimizer": "adamw", "precision":
            "bf16-mixed", "hardware": "H100-SXM", "tokens": 1e12}``), or TrainOptions itself.
        input: for a built object, its input's shape (or a list of shapes), in its own layout:
            the forward pass (and a training step) run at it.

    Returns:
        a :class:`~paramspec.record.Record`: ``r.params``, ``r.state``, ``r.quantities``
        (got, expected, formula, canonical, why), ``r.native``, ``r.tensors``, ``r.counts``.

    Raises:
        SpecError: bad input (unknown kind or variable, wrong type, malformed YAML, ...).
        NotApplicable: the framework lacks this layer or option (the reason says which).

    Example:
        >>> r = count({"kind": "BatchNorm2d", "num_features": 64}, framework="keras")
        >>> r.params, r.state, r.native["count_params()"]
        (128, 128, 256)
    """
    options = train_options(train)
    if not isinstance(spec, (Mapping, str, bytes, Path)):  # a model the user built
        from .objects import count_object

        if framework is not None:
            raise SpecError("a built object is read in its own framework: give no framework", "framework")
        return count_object(spec, input=input, input_dtype=input_dtype, measure=measure, train=options,
                            native=native)
    if input is not None:
        raise SpecError("input is a built object's shape; a config gives its sizes as variables (batch, seq_len...)",
                        "input")
    framework = framework or "torch"
    data = load_spec()
    names = [*targets(), FORMULA]
    if framework not in names:
        from .hints import suggest

        raise SpecError(f"unknown framework {framework!r}{suggest(framework, names)}; known: {', '.join(names)}")
    if framework == FORMULA:
        case = resolve_case(spec, data, where)
        return formula_record(case, measure if measure is not None else names_an_input(spec, case), options)
    t = target(framework)
    case = resolve_case(spec, data, where)
    if measure is None:
        measure = names_an_input(spec, case) or options is not None
    record = run_case(data, case, t.name, strict=True, native=native, measure=measure, breakdown=breakdown,
                      train=options)
    if record.verdict == NA:
        raise NotApplicable(record.reason)
    return record


def train_options(train: Any) -> "Any | None":
    """``count``'s ``train``: None (no training step), or checked :class:`TrainOptions`.

    Raises:
        SpecError: an unknown option or a value it does not take, in one line.
    """
    from .training import TrainOptions

    if train is None or train is False:
        return None
    if train is True:
        return TrainOptions().checked()
    if isinstance(train, TrainOptions):
        return train.checked()
    if isinstance(train, dict):
        known = set(TrainOptions.__dataclass_fields__)
        unknown = sorted(set(train) - known)
        if unknown:
            raise SpecError(f"unknown training option {unknown[0]!r} (known: {', '.join(sorted(known))})", "train")
        return TrainOptions(**train).checked()
    raise SpecError(f"train takes True, a mapping of training options or TrainOptions, got {type(train).__name__}",
                    "train")


def formula_record(case: Case, compute: bool = False, train: Any = None) -> Record:
    """The spec's canonical formulas for ``case``: a value, not a reading (verdict
    ``formula``, source ``formula``). It builds nothing and imports no framework: the fast
    answer for "how many parameters does this config have" (``paramspec count -f formula``).
    With ``compute``, also the canonical MACs and FLOPs at the case's input."""
    from . import __version__

    e = case.expected(None)
    rec = Record(Source("formula", FORMULA, f"paramspec {__version__}"), FORMULA, case.id, case.kind.name,
                 case.config())
    rec.quantities = {"params": Quantity(None, e.params, e.params_formula, e.canonical_params),
                      "state": Quantity(None, e.state, e.state_formula, e.canonical_state)}
    if e.tied:
        rec.quantities["tied"] = Quantity(None, e.tied, e.tied_formula, e.canonical_tied)
    if e.embedding is not None:
        rec.quantities["embedding"] = Quantity(None, e.embedding, e.embedding_formula, e.embedding)
    if e.active is not None:
        rec.quantities["active"] = Quantity(None, e.active, e.active_formula, e.active)
    rec.notes = list(case.notes)
    if compute and case.kind.macs is not None:
        c = case.expected_compute()
        rec.compute = Compute(counter=FORMULA, counter_name="the spec's formulas", macs=c.macs,
                              macs_formula=c.macs_formula, terms=dict(c.terms), estimates=dict(c.estimates))
    if train is not None:
        if case.kind.macs is None:
            raise SpecError(f"{case.kind.name} has no forward pass in the spec (no macs formula) to train through",
                            case.id)
        from .training import formula_training

        rec.training = formula_training(case, e.params, train)
    return rec


def names_an_input(spec: Any, case: Case) -> bool:
    """Whether a user's config gives an input size (then a count measures compute too)."""
    from .configs import parse_config

    config = parse_config(spec)
    given = set(config) | set(config.get("hf_config") or {}) if isinstance(config.get("hf_config"), dict) else set(config)
    return bool(given & set(case.kind.input_variables))


def count_file(path: str | Path) -> Record:
    """Count the parameters a file declares, from its header or index, never its weights.

    Returns:
        a :class:`~paramspec.record.Record` with ``source.type == "file"``: ``r.params``
        (unique), ``r.state`` (None where the format cannot tell), ``r.tied_groups``,
        ``r.by_dtype``, ``r.memory()``, ``r.tree(depth)``, ``r.notes``.

    Raises:
        FileFormatError: one line, the file and what is wrong; nothing in the file runs.
    """
    from .files import read_file

    return file_record(read_file(path), str(path))
