"""Check your own layer against its formula: ``assert_param_count`` (also a pytest fixture).

Example:
    >>> import torch
    >>> from paramspec.testing import assert_param_count
    >>> assert_param_count(torch.nn.LSTM(300, 128), "4 * (n_in + h) * h + 8 * h", n_in=300, h=128)

It reads the object through the same adapters as the conformance suite: a torch
``nn.Module``; a built Keras layer or model; a Flax linen ``(module, variables)`` pair (or the
variables alone); a Flax ``nnx.Module``.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from .adapters_access import built
from .errors import SpecError
from .formula import parse
from .reading import Reading, breakdown


def _target_of(obj: Any) -> tuple[str, Any, Any]:
    """(target, object, extra) for a built framework object; imports nothing new."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return "torch", obj, None
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(obj, keras.layers.Layer):
        if not obj.built:
            raise SpecError(f"the Keras layer {obj.name!r} is not built: call it or build(input_shape) first")
        return ("keras-jax" if keras.backend.backend() == "jax" else "keras"), obj, None
    if "flax" in sys.modules:
        from flax import linen, nnx

        if isinstance(obj, nnx.Module):
            return "flax-nnx", obj, None
        if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], linen.Module):
            return "flax-linen", obj[0], _plain(obj[1])
        if isinstance(obj, Mapping) and "params" in obj:
            return "flax-linen", None, _plain(obj)
    raise SpecError(f"cannot read a {type(obj).__module__}.{type(obj).__name__}: give a torch nn.Module, a built "
                    "Keras layer, a Flax linen (module, variables) pair or an nnx.Module")


def _plain(variables: Any) -> dict:
    import flax

    return dict(flax.linen.meta.unbox(flax.core.unfreeze(variables)))


def read_object(obj: Any) -> Reading:
    """The reading of a built framework object (tensors and native totals)."""
    target, o, extra = _target_of(obj)
    return built(target, o, extra)


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
    from .audit import counted, explain_difference

    f = parse(formula, "formula")
    unknown = sorted(f.names - set(variables))
    if unknown:
        raise SpecError(f"formula `{f}` needs `{unknown[0]}`: pass it as a keyword argument")
    expected = f.evaluate_int(variables)
    reading = read_object(obj)
    got = counted(reading, counts, reading.target)
    if got != expected:
        diff = got - expected
        why = explain_difference([reading], [diff], counts)
        args = ", ".join(f"{k}={v}" for k, v in variables.items())
        raise AssertionError(
            f"{counts} count of {reading.built} in {reading.framework_version}: expected {expected:,} "
            f"from `{f}` with {args}, read {got:,}; difference (read - formula) {diff:+,}"
            + (f"; {why}" if why else "") + "\n" + breakdown(reading.tensors))
    return reading
