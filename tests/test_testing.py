"""paramspec.testing.assert_param_count and its pytest fixture, on objects built here natively."""
import functools

import pytest

from paramspec.frameworks import target

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
    if fw == "flax-linen":
        module = linen.RNN(linen.LSTMCell(128))
        return module, module.init(jax.random.key(0), jax.numpy.ones((1, 5, 300)))
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
