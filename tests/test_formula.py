"""The formula language: exact arithmetic, the whitelist, and one-line errors."""
from fractions import Fraction

import pytest

from paramspec.errors import FormulaError
from paramspec.formula import parse


def ev(text, **env):
    return parse(text).evaluate_int(env)


def test_booleans_are_zero_and_one():
    assert ev("out_features * in_features + out_features * bias", in_features=128, out_features=10, bias=True) == 1290
    assert ev("out_features * in_features + out_features * bias", in_features=128, out_features=10, bias=False) == 1280


def test_division_is_exact_rational():
    assert parse("a / b").evaluate({"a": 3, "b": 2}) == Fraction(3, 2)
    assert ev("out * (inp / g)", out=8, inp=4, g=2) == 16
    with pytest.raises(FormulaError, match="not a whole number"):
        ev("a / b", a=3, b=2)


def test_decimal_literals_are_exact():
    assert parse("0.1 + 0.2").evaluate({}) == Fraction(3, 10)
    assert ev("x * 0.75", x=4) == 3


def test_big_integers_stay_exact():
    assert ev("vocab * hidden * 10 ** 3", vocab=128256, hidden=16384) == 128256 * 16384 * 1000


def test_conditionals_comparisons_and_logic():
    assert ev("2 if bidirectional else 1", bidirectional=True) == 2
    assert ev("p if p > 0 else h", p=0, h=7) == 7
    assert ev("1 if (a and not b) or c else 0", a=1, b=0, c=0) == 1
    assert ev("1 if block == 'bottleneck' else 0", block="bottleneck") == 1
    assert ev("1 if 0 < x <= 3 else 0", x=3) == 1


def test_lists_indexing_and_comprehensions():
    assert ev("prod(kernel_size)", kernel_size=(3, 5)) == 15
    assert ev("sum(layers[i] * 2 ** i for i in range(len(layers)))", layers=[3, 4, 6, 3]) == 3 + 8 + 24 + 24
    assert ev("sum(x * x for x in xs if x > 1)", xs=[1, 2, 3]) == 13
    assert ev("max(a, b) + min([4, 5, 6]) + abs(-2) + len(xs)", a=1, b=9, xs=[1, 2]) == 9 + 4 + 2 + 2
    assert ev("floor(7 / 2) + ceil(7 / 2)") == 7


def test_list_comprehensions_and_make_divisible():
    assert parse("[x * 2 for x in xs]").evaluate({"xs": [1, 2]}) == (2, 4)
    # torchvision's _make_divisible: MobileNetV2 at width 0.75 and 1.4
    assert ev("make_divisible(32 * 0.75, 8)") == 24
    assert ev("make_divisible(1280 * 1.4, 8)") == 1792
    assert ev("make_divisible(16 * 0.35, 8)") == 8


def test_f32_is_numpys_nearest_float32_exactly():
    """f32() rounds as float32 does (ties to even): the value XLA's cost analysis reports."""
    import numpy as np

    for n in [0, 1, 2 ** 24 - 1, 2 ** 24 + 1, 2 ** 24 + 3, 2 * 4097 * 4099 * 3, 2 ** 40 + 2 ** 16 + 1,
              2 * 7 * 129 * 9 * 227 * 131 - 12345, 10 ** 30 + 7]:
        assert ev("f32(n)", n=n) == int(np.float32(n)), n
    assert parse("f32(x)").evaluate({"x": Fraction(1, 3)}) == Fraction(float(np.float32(1 / 3)))
    assert ev("f32(-(2 ** 24 + 1))") == -(2 ** 24)
    with pytest.raises(FormulaError, match="float32 overflows"):
        ev("f32(2 ** 128)")


def test_helper_functions_are_declared_names_only():
    from paramspec.formula import Helper
    f = parse("block(3, 4) + 1", functions={"block"})
    assert f.evaluate({"block": Helper("block", ("a", "b"), parse("a * b + k"), {"k": 1})}) == 14
    with pytest.raises(FormulaError, match="unknown function `block`"):
        parse("block(3, 4)")
    with pytest.raises(FormulaError, match="takes 2 arguments, got 1"):
        f2 = parse("block(3)", functions={"block"})
        f2.evaluate({"block": Helper("block", ("a", "b"), parse("a * b"), {})})


def test_free_names_exclude_bound_and_functions():
    f = parse("sum(layers[i] * w for i in range(n)) + prod(k)")
    assert f.names == {"layers", "w", "n", "k"}


def test_multiline_formulas_are_folded():
    assert ev("a\n + b", a=1, b=2) == 3


@pytest.mark.parametrize("text, token", [
    ("__import__('os')", "`__import__`"),
    ("open('x')", "`open`"),
    ("x.__class__", ".__class__"),
    ("(1).real", ".real"),
    ("eval('1')", "`eval`"),
    ("exec('1')", "`exec`"),
    ("lambda: 1", "a lambda"),
    ("{x for x in xs}", "comprehension"),
    ("{'a': 1}", "Dict"),
    ("x[1:2]", "Slice"),
    ("f'{x}'", "JoinedStr"),
    ("range(3)", "range()"),
    ("sum(x for x in range(3) for y in range(2))", "one `for`"),
    ("prod(x, key=1)", "keyword"),
    ("prod(*xs)", "`*`"),
    ("_secret + 1", "_secret"),
    ("b'bytes'", "b'bytes'"),
    ("None", "None"),
    ("(y := 3)", "`:=`"),
    ("1 +* 2", "`*`"),
    ("a +", "does not parse"),
    ("", "empty"),
])
def test_hostile_or_malformed_formulas_are_rejected_with_the_token(text, token):
    with pytest.raises(FormulaError) as info:
        parse(text, where="spec/layers/x.yaml: K.params")
    msg = str(info.value)
    assert msg.startswith("spec/layers/x.yaml: K.params: ")
    assert token in msg
    assert "\n" not in msg


def test_evaluation_errors_name_the_problem():
    with pytest.raises(FormulaError, match="division by zero in `a / b`"):
        ev("a / b", a=1, b=0)
    with pytest.raises(FormulaError, match="unknown variable `zz`"):
        ev("zz + 1")
    with pytest.raises(FormulaError, match="exponent"):
        ev("2 ** 1000")
    with pytest.raises(FormulaError, match="exponent"):
        ev("2 ** -1")
    with pytest.raises(FormulaError, match="out of range"):
        ev("xs[5]", xs=[1])
    with pytest.raises(FormulaError, match="steps is over the limit"):
        ev("sum(i for i in range(10 ** 9))")


def test_size_limits():
    with pytest.raises(FormulaError, match="characters long"):
        parse("1 + " * 2000 + "1")
    with pytest.raises(FormulaError, match="size limit"):
        ev("x * x * x * x * x * x * x * x", x=2 ** 1000)


def test_not_a_string_or_int():
    with pytest.raises(FormulaError, match="must be a string or an integer"):
        parse(1.5)
    assert parse(0).evaluate_int({}) == 0


def test_a_kind_environment_keeps_its_counts_and_a_changed_config_gets_a_new_one():
    """A case's environment is made once and counts each formula once (paramspec validate asks
    for the same MACs for every counter and framework); a config changed in place is read anew."""
    from paramspec.formula import count_at
    from paramspec.loader import load_spec

    kind = load_spec().kind("Linear")
    values = kind.resolve({"in_features": 3, "out_features": 4})
    env = kind.env(values)
    assert kind.env(values) is env and kind.env(dict(values)) is not env
    assert count_at(kind.params, env, "here") == 16 and env.counts == {kind.params.text: 16}
    env.counts[kind.params.text] = 17  # what is kept is what is read again
    assert count_at(kind.params, env, "here") == 17
    over = env.with_({"macs": 12})
    assert env.with_({"macs": 12}) is over and over["macs"] == 12 and over["in_features"] == 3
    assert env.with_({"macs": 13}) is not over and "macs" not in env
    values["in_features"] = 5  # changed in place: not the environment of the old values
    fresh = kind.env(values)
    assert fresh is not env and count_at(kind.params, fresh, "here") == 24
    assert kind.expected(None, values).params == 24
