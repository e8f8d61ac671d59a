"""The adapter protocol's parts (adapters/base.py): what each field of ``Built`` holds after a
build, in the frameworks that use it, and the one error linen's construct gets past."""
import sys

import pytest

from paramspec.configs import resolve_case
from paramspec.frameworks import adapter
from paramspec.loader import load_spec

pytestmark = pytest.mark.framework


def build(target_name: str, config: dict, native: bool = True):
    case = resolve_case(config, load_spec())
    ad = adapter(target_name)
    return ad, ad.build(case.kind.name, case.values, case.inputs(), native=native)


LINEAR = {"kind": "Linear", "in_features": 8, "out_features": 4}


@pytest.mark.only("flax-nnx")
def test_an_nnx_builder_gives_a_factory_and_construct_makes_the_module(target_name):
    from flax import nnx

    _, b = build(target_name, LINEAR)
    assert callable(b.factory) and isinstance(b.module, nnx.Linear)
    assert b.variables is None and b.native_totals == {}  # nnx keeps its variables in the module


@pytest.mark.only("flax-linen")
def test_a_linen_build_holds_its_variables_and_linen_own_total_apart_from_the_module(target_name):
    import flax.linen as nn

    _, b = build(target_name, LINEAR)
    assert isinstance(b.module, nn.Dense)
    assert {k: tuple(x.shape) for k, x in b.variables["params"].items()} == {"kernel": (8, 4), "bias": (4,)}
    assert b.native_totals == {"nn.tabulate": 36}
    _, b = build(target_name, LINEAR, native=False)  # the total will not be read: plain init, no tabulate
    assert b.native_totals == {} and "params" in b.variables
    _, b = build(target_name, {"kind": "Dropout"})
    assert b.call_kwargs == {"deterministic": True}


@pytest.mark.only("flax-linen")
def test_linen_builds_inputs_too_large_for_tabulate_and_read_says_why(target_name):
    """nn.tabulate runs on concrete inputs; a batch of 2**61 rows cannot be allocated (numpy:
    "array is too big"), so the variables come from the abstract init, and asking for linen's
    own total raises what tabulate's inputs raise."""
    ad, b = build(target_name, {**LINEAR, "batch": 2**61})
    assert b.native_totals == {}
    assert ad.read(b, native=False).params == 36
    with pytest.raises(ValueError, match="array is too big"):
        ad.read(b)


@pytest.mark.only("flax-linen")
def test_linen_construct_lets_any_other_error_through(target_name, monkeypatch):
    ad = adapter(target_name)

    def fails(*args, **kwargs):
        raise RuntimeError("tabulate failed")

    monkeypatch.setattr(sys.modules[type(ad).__module__], "tabulate_variables", fails)
    with pytest.raises(RuntimeError, match="tabulate failed"):
        build(target_name, LINEAR)
