"""paramspec.testing.assert_param_count and assert_matches_kind, their pytest fixtures and
``paramspec check --factory``, on objects built here natively."""
import functools
import sys
from pathlib import Path

import pytest

from paramspec.formula import parse
from paramspec.frameworks import target
from paramspec.kinds import Requirement
from paramspec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.framework


@functools.lru_cache(maxsize=None)
def lstm_300_128(target_name):
    """LSTM(300 -> 128) as each framework's own user would build it, with real weights (built
    once per target: linen's real init compiles for seconds, and the tests only read it)."""
    fw = target(target_name).framework
    if fw == "torch":
        import torch
        return torch.nn.LSTM(300, 128)
    if fw == "keras":
        import keras
        layer = keras.layers.LSTM(128)
        layer.build((None, 5, 300))
        return layer
    import jax
    from flax import linen, nnx
    if fw == "flax-linen":  # init under jit: one XLA compilation, not one for each initializer and op
        module = linen.RNN(linen.LSTMCell(128))
        return module, jax.jit(module.init)(jax.random.key(0), jax.numpy.ones((1, 5, 300)))
    return nnx.RNN(nnx.LSTMCell(300, 128, rngs=nnx.Rngs(0)))


def test_assert_param_count_passes_with_the_framework_formula(target_name, assert_param_count):
    torch_two_biases = target(target_name).framework == "torch"
    formula = "4 * (n_in + h) * h + " + ("8 * h" if torch_two_biases else "4 * h")
    reading = assert_param_count(lstm_300_128(target_name), formula, n_in=300, h=128)
    assert reading.params == (220_160 if torch_two_biases else 219_648)  # the brief's table


def test_assert_param_count_fails_with_the_difference_and_the_tensors(target_name, assert_param_count):
    with pytest.raises(AssertionError) as info:
        assert_param_count(lstm_300_128(target_name), "4 * (n_in + h) * h", n_in=300, h=128)
    msg = str(info.value)
    extra = "+1,024" if target(target_name).framework == "torch" else "+512"
    assert "expected 219,136" in msg and f"difference (read - formula) {extra}" in msg
    assert "the difference is exactly" in msg and "bias" in msg
    assert "trainable" in msg.splitlines()[1]  # the per-tensor breakdown follows


@pytest.mark.only("keras")
def test_counts_can_be_a_native_total(target_name, assert_param_count):
    import keras
    bn = keras.layers.BatchNormalization()
    bn.build((None, 64))
    assert_param_count(bn, "2 * c", c=64)
    assert_param_count(bn, "4 * c", c=64, counts="native:count_params()")


def test_a_missing_variable_or_an_unbuilt_layer_is_bad_input(target_name, assert_param_count):
    from paramspec.errors import SpecError
    with pytest.raises(SpecError, match="needs `h`"):
        assert_param_count(lstm_300_128(target_name), "4 * h")
    with pytest.raises(SpecError, match="cannot read a builtins.int"):
        assert_param_count(3, "1")


USER_TEST = """
import torch


def test_my_layer(assert_param_count):
    layer = torch.nn.Linear(3, 4)
    assert_param_count(layer, "o * i", o=4, i=3)  # the user's line: the bias is missing
"""


@pytest.mark.only("torch")
def test_a_failing_assertion_points_at_the_users_line(target_name, tmp_path):
    """pytest's report of a failed ``assert_param_count`` shows the user's test line, not
    paramspec's internals (``__tracebackhide__``)."""
    import subprocess
    import sys

    from conftest import subprocess_env

    from importlib.metadata import entry_points

    (tmp_path / "test_user.py").write_text(USER_TEST)
    registered = any(e.name == "paramspec" for e in entry_points(group="pytest11"))  # an installed paramspec
    plugin = [] if registered else ["-p", "paramspec.pytest_plugin"]
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin,
                        str(tmp_path / "test_user.py")], capture_output=True, text=True, cwd=str(tmp_path),
                       env=subprocess_env())
    assert p.returncode == 1, p.stdout[-2000:]
    assert '>       assert_param_count(layer, "o * i", o=4, i=3)  # the user\'s line' in p.stdout, p.stdout[-3000:]
    assert "paramspec/testing.py" not in p.stdout and "expected 12" in p.stdout and "read 16" in p.stdout


# ---------------------------------------------------------------------- assert_matches_kind
def torch_linear(c, drop_bias_over=None):
    import torch
    with torch.device("meta"):
        return torch.nn.Linear(c["in_features"], c["out_features"], bias=_bias(c, drop_bias_over))


def keras_linear(c, drop_bias_over=None):
    """Built with its weights deferred, as the other factories build abstract ones: on JAX, a real
    build compiles each new shape's initializer (0.1-0.3 s a config)."""
    import keras
    layer = keras.layers.Dense(c["out_features"], use_bias=_bias(c, drop_bias_over))
    with keras.StatelessScope(initialize_variables=False):
        layer.build((None, c["in_features"]))
    return layer


def flax_linen_linear(c, drop_bias_over=None):
    import jax
    from flax import linen
    module = linen.Dense(c["out_features"], use_bias=_bias(c, drop_bias_over))
    return module, jax.eval_shape(lambda: module.init(jax.random.key(0), jax.numpy.ones((1, c["in_features"]))))


def flax_nnx_linear(c, drop_bias_over=None):
    from flax import nnx
    return nnx.eval_shape(lambda: nnx.Linear(c["in_features"], c["out_features"], use_bias=_bias(c, drop_bias_over),
                                             rngs=nnx.Rngs(0)))


def _bias(c, drop_bias_over):
    """The config's bias, dropped (a user's bug) when out_features is over ``drop_bias_over``."""
    return c["bias"] and (drop_bias_over is None or c["out_features"] <= drop_bias_over)


def linear_for(target_name):
    """The name of this module's Linear factory for the target's framework (``flax_nnx_linear``)."""
    return f"{target(target_name).framework.replace('-', '_')}_linear"


def test_assert_matches_kind_passes_on_a_layer_that_holds_its_formula(target_name, assert_matches_kind):
    factory = globals()[linear_for(target_name)]
    matched = assert_matches_kind(factory, "Linear", examples=10, seed=7)
    assert matched.configs == 10 and matched.target == target_name
    assert matched.framework == target(target_name).framework and matched.seed == 7


def test_assert_matches_kind_shrinks_a_disagreement_to_the_minimal_config(target_name, assert_matches_kind):
    factory = globals()[linear_for(target_name)]
    with pytest.raises(AssertionError) as info:
        assert_matches_kind(lambda c: factory(c, drop_bias_over=3), "Linear", examples=30, seed=7)
    msg = str(info.value)
    assert msg.startswith("Linear: params count of ") and "expected 8 from " in msg and "read 4;" in msg
    assert "difference (read - formula) -4; the formula counts more than the framework holds" in msg
    assert "a case of spec/layers/dense.yaml:\n      - {in_features: 1, out_features: 4}\n" in msg
    assert "seed 7" in msg and "trainable" in msg  # the per-tensor breakdown follows


@pytest.mark.only("torch")
def test_assert_matches_kind_holds_to_the_convention_unless_asked_for_another(target_name, assert_matches_kind):
    """torch.nn.LSTM keeps two bias vectors a gate: torch's recorded convention holds by default;
    the canonical formula (one a gate), or another framework's, only where asked, and then it differs."""
    import torch

    def lstm(c):
        with torch.device("meta"):
            return torch.nn.LSTM(c["input_size"], c["hidden_size"], c["num_layers"], c["bias"], batch_first=True,
                                 bidirectional=c["bidirectional"], proj_size=c["proj_size"])

    assert assert_matches_kind(lstm, "LSTM", examples=10).framework == "torch"
    for how, whose in (({"convention": "canonical"}, "the canonical"), ({"framework": "keras-jax"}, "keras's")):
        with pytest.raises(AssertionError) as info:
            assert_matches_kind(lstm, "LSTM", examples=10, **how)
        msg = str(info.value)
        assert f"expected 12 from {whose} formula `" in msg and "read 16; difference (read - formula) +4" in msg
        assert "- {input_size: 1, hidden_size: 1}" in msg


def assert_one_line_spec_error(call, message: str) -> str:
    """The SpecError ``call()`` raises: one line, matching ``message`` (a regex)."""
    from paramspec.errors import SpecError

    with pytest.raises(SpecError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_factory_that_raises_is_bad_input_naming_its_exception_and_the_smallest_config(assert_matches_kind):
    def raises(c):
        raise ValueError(f"no layer of {c['in_features']} features")

    assert_one_line_spec_error(lambda: assert_matches_kind(raises, "Linear", examples=5),
                        r"^the factory test_testing:test_a_factory_that_raises_.*\.raises raised ValueError: no layer "
                        r"of 1 features \(config \{in_features: 1, out_features: 1\}\)$")


def test_a_factory_that_returns_the_wrong_type_is_bad_input(assert_matches_kind):
    assert_one_line_spec_error(lambda: assert_matches_kind(lambda c: 3, "Linear", examples=5),
                        r"^the factory .*<lambda> returned what paramspec cannot read: cannot read a builtins\.int: "
                        r"no adapter")
    assert_one_line_spec_error(lambda: assert_matches_kind("Linear", "Linear", examples=5),
                        r"^factory must be callable \(config -> built object\), got str$")


def test_an_unknown_kind_is_bad_input(target_name, assert_matches_kind):
    assert_one_line_spec_error(lambda: assert_matches_kind(globals()[linear_for(target_name)], "Linaer", examples=5),
                        r"^assert_matches_kind: unknown kind 'Linaer' \(did you mean Linear\?\)")


def test_a_kind_whose_variables_cannot_be_drawn_is_bad_input(target_name, assert_matches_kind, monkeypatch):
    kind = load_spec().kind("Linear")
    monkeypatch.setattr(kind, "require", (Requirement(parse("in_features > 1000"), "over 1000"),))
    assert_one_line_spec_error(lambda: assert_matches_kind(globals()[linear_for(target_name)], "Linear", examples=5),
                        r"^spec/layers/dense.yaml: Linear: no config of Linear could be drawn in 60 tries \(30 "
                        r"repairs each\): `in_features > 1000` held in none$")


def test_check_factory_runs_a_users_layer_from_the_command_line(target_name, cli, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "TARGET", target_name)  # dropping_bias_over_3's framework
    factory = f"test_testing:{linear_for(target_name)}"
    p = cli("check", "--factory", factory, "--kind", "Linear", "--examples", "5")
    assert p.returncode == 0, p.stderr
    framework = target(target_name).framework
    assert p.stdout.startswith(f"Linear: 5 drawn configs of {factory} (") and p.stdout.count("\n") == 1
    assert f"agree with {framework}'s params formula (seed " in p.stdout
    p = cli("check", "--factory", "test_testing:dropping_bias_over_3", "--kind", "Linear", "-f", target_name)
    assert p.returncode == 1 and p.stdout.count("\n") == 1, p.stdout + p.stderr
    assert "- {in_features: 1, out_features: 4}" in p.stderr and "difference (read - formula) -4" in p.stderr


def dropping_bias_over_3(c):
    """A user's Linear factory with a bug: no bias above 3 outputs (in the framework of ``TARGET``)."""
    return globals()[linear_for(TARGET)](c, drop_bias_over=3)


TARGET = "torch"


@pytest.mark.parametrize("argv, message", [
    (["--factory", "test_testing", "--kind", "Linear"],
     "--factory test_testing: takes module:function or path/to/file.py:function"),
    (["--factory", "no_such_module_here:f", "--kind", "Linear"],
     ("--factory no_such_module_here:f: cannot import no_such_module_here: ModuleNotFoundError: No module named "
      "'no_such_module_here'")),
    (["--factory", "test_testing:nothing", "--kind", "Linear"], "--factory test_testing:nothing: test_testing has no 'nothing'"),
    (["--factory", "test_testing:raising", "--kind", "Linear"],
     "the factory test_testing:raising raised ZeroDivisionError: division by zero"),
    (["--factory", "test_testing:returning_a_string", "--kind", "Linear"],
     "the factory test_testing:returning_a_string returned what paramspec cannot read: cannot read a builtins.str"),
    (["--factory", "test_testing:raising", "--kind", "Linaer"], "unknown kind 'Linaer' (did you mean Linear?)"),
    (["--factory", "test_testing:raising", "--kind", "Linear", "--kind", "GRU"], "--factory checks one kind"),
    (["--factory", "test_testing:raising", "--kind", "Linear", "--train"], "--train is not an option of --factory"),
    (["--kind", "Linear", "--examples", "3"], "--examples is an option of --factory"),
    (["--factory", "test_testing:raising", "--kind", "Linear", "--examples", "0"], "must be 1 or more, got 0"),
], ids=["not-module:function", "no-module", "no-function", "raises", "wrong-type", "unknown-kind", "two-kinds",
        "train", "examples-alone", "examples-0"])
def test_bad_input_to_check_factory_is_one_line_and_exit_2(cli, argv, message):
    p = cli("check", *argv)
    assert p.returncode == 2 and p.stdout == "", p.stdout
    assert p.stderr.count("\n") == 1 and message in p.stderr and "Traceback" not in p.stderr, p.stderr


def raising(c):
    return 1 / 0


def returning_a_string(c):
    return "Linear"


def test_the_testing_page_shows_the_code_of_its_example_files():
    """docs/reference/testing.md quotes each hand-written GRU; the quotes are the files' own lines."""
    import re

    page = (ROOT / "docs" / "reference" / "testing.md").read_text(encoding="utf-8")
    files = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs" / "examples").glob("gru_*.py")))
    quoted = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)[1:]  # the first is the API's call
    assert len(quoted) == 4 and all(q in files for q in quoted)
