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

from typing import Any

from .audit.attribution import counted, explain_difference
from .errors import SpecError
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
            f"from `{f}` with {args}, read {got:,}; difference (read - formula) {diff:+,}"
            + (f"; {why}" if why else "") + "\n" + tensor_table(reading.tensors))
    return reading
