"""paramspec.objects: a user's own object is read by the adapter that owns it (``Adapter.owns``,
asked through ``paramspec.frameworks.owner``), and finding that adapter imports no framework."""
import subprocess
import sys

import pytest

from conftest import subprocess_env
from paramspec.errors import SpecError
from paramspec.frameworks import target
from paramspec.objects import read_object, target_of

FRAMEWORK_PACKAGES = ("torch", "keras", "tensorflow", "jax", "flax")

# a small built object of each framework, made with that framework alone
BUILD = {
    "torch": "import torch\nobj = torch.nn.Linear(2, 3)",
    "keras": "import keras\nobj = keras.layers.Dense(3)\nobj.build((None, 2))",
    "flax-linen": "import jax\nfrom flax import linen\nm = linen.Dense(3)\n"
                  "obj = (m, m.init(jax.random.key(0), jax.numpy.ones((1, 2))))",
    "flax-nnx": "from flax import nnx\nobj = nnx.Linear(2, 3, rngs=nnx.Rngs(0))",
}


def _run(code: str) -> list[str]:
    """What ``code`` prints, run in a fresh process (where no other test has imported anything)."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(),
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.splitlines()


def _program(setup: str, body: str) -> str:
    """A program that runs ``setup``, then ``body`` (which prints), then prints the framework
    packages first imported after ``setup``."""
    return (f"import sys\n{setup}\nbefore = set(sys.modules)\n"
            f"from paramspec.objects import target_of\n{body}\n"
            f"print(sorted({{m.split('.')[0] for m in set(sys.modules) - before}} & set({FRAMEWORK_PACKAGES!r})))\n")


def test_no_framework_is_imported_to_find_that_nothing_owns_an_object():
    refused, imported = _run(_program("", "try:\n    target_of(3)\n"
                                          "except Exception as e:\n    print(f'{type(e).__name__}: {e}')"))
    assert refused.startswith("SpecError: cannot read a builtins.int: no adapter of a framework imported here (none)")
    assert imported == "[]"


@pytest.mark.framework
def test_the_owner_lookup_imports_no_other_framework(target_name):
    owner, imported = _run(_program(BUILD[target(target_name).framework], "print(target_of(obj))"))
    assert owner == target_name  # keras or keras-jax: the backend this process runs Keras on
    assert imported == "[]"


@pytest.mark.framework
def test_the_object_is_read_by_the_target_running_here(target_name):
    from test_testing import lstm_300_128

    obj = lstm_300_128(target_name)
    assert target_of(obj) == target_name
    reading = read_object(obj)
    assert reading.source.name == target_name and reading.params in (220_160, 219_648)


@pytest.mark.framework
@pytest.mark.only("keras")
def test_an_unbuilt_keras_layer_is_refused_in_one_line(target_name):
    import keras

    with pytest.raises(SpecError, match=r"^the Keras layer 'unbuilt' is not built: call it or build\(input_shape\) "
                                        r"first$"):
        read_object(keras.layers.Dense(3, name="unbuilt"))


@pytest.mark.framework
@pytest.mark.only("flax-linen")
def test_linen_variables_alone_are_read_without_their_module(target_name):
    import jax
    from flax import linen

    variables = linen.Dense(3).init(jax.random.key(0), jax.numpy.ones((1, 2)))
    reading = read_object(variables)
    assert reading.source.name == "flax-linen" and reading.built == "variables"
    assert reading.params == 2 * 3 + 3 and reading.native == {}  # no module: nothing to tabulate
