"""Counting a model the user already has: ``paramspec.count(obj, input=...)`` and ``paramspec
count --object module:attr``, in every target that can hold a user's object.

The object is read as it is (verdict ``read``: nothing to compare its whole with), each of its
layers that is a spec kind is held to the kind's formula for its framework (``r.within``), and
given an input shape, its forward pass and a training step run under the framework's counter.
"""
from __future__ import annotations

import functools
import sys

import pytest

import paramspec
from paramspec.errors import SpecError
from paramspec.frameworks import target

pytestmark = pytest.mark.framework


@functools.lru_cache(maxsize=None)
def user_model(framework: str):
    """An embedding, an LSTM and a dense head, as each framework's user writes them, with its
    input shape (token ids) and the paths the adapter should find. Built once per process (the
    tests only read it; on JAX, a real build compiles each initializer: 1-2 s)."""
    if framework == "torch":
        import torch

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = torch.nn.Embedding(100, 32)
                self.lstm = torch.nn.LSTM(32, 64, batch_first=True)
                self.head = torch.nn.Linear(64, 10)

            def forward(self, x):
                h, _ = self.lstm(self.emb(x))
                return self.head(h[:, -1])
        return Model(), {"emb": 3_200, "lstm": 25_088, "head": 650}
    if framework == "keras":
        import keras

        model = keras.Sequential([keras.layers.Input((16,), dtype="int32"), keras.layers.Embedding(100, 32),
                                  keras.layers.LSTM(64), keras.layers.Dense(10)])
        return model, {"sequential/embedding": 3_200, "sequential/lstm": 24_832, "sequential/dense": 650}
    if framework == "flax-nnx":
        from flax import nnx

        class Model(nnx.Module):
            def __init__(self, rngs):
                self.emb = nnx.Embed(100, 32, rngs=rngs)
                self.head = nnx.Linear(32, 10, rngs=rngs)

            def __call__(self, x):
                return self.head(self.emb(x).mean(axis=1))
        return Model(nnx.Rngs(0)), {"emb": 3_200, "head": 330}
    raise AssertionError(f"no user model written for {framework}")


@pytest.mark.only("torch", "keras", "flax-nnx")  # a linen (module, variables) pair holds no bound layers: below
def test_a_users_model_is_read_and_its_layers_matched_to_their_kinds(target_name):
    model, expected = user_model(target(target_name).framework)
    r = paramspec.count(model, input=(2, 16), input_dtype="int32", train=True)
    assert r.verdict == "read" and r.source.name == target_name and r.params == sum(expected.values())
    assert {p: q.got for p, q in r.within.quantities.items()} == expected
    assert r.within.verdict == "pass" and all(q.agrees for q in r.within.quantities.values())
    # the forward pass and a training step under the counter: the matmul work of every layer, the
    # LSTM's included (torch's module is measured as its meta twin, not by the fused CPU kernel)
    assert r.compute.matmul > 0 and r.training.measured_backward > 0
    assert r.training.quantities["gradients"].agrees


@pytest.mark.only("torch")
def test_torchs_lstm_says_its_convention_against_the_canonical_count(target_name):
    import torch

    r = paramspec.count(torch.nn.Sequential(torch.nn.LSTM(300, 128)))
    q = r.within.quantities["0"]
    assert (q.got, q.expected, q.canonical, q.mark) == (220_160, 220_160, 219_648, "†")
    assert "+512 against the canonical 219,648" in r.within.lines()[0]


@pytest.mark.only("flax-linen")
def test_a_linen_pair_is_read_without_matching(target_name):
    import jax
    from flax import linen

    module = linen.Dense(4)
    r = paramspec.count((module, module.init(jax.random.key(0), jax.numpy.ones((1, 3)))))
    assert r.params == 16 and r.within.verdict == "read" and not r.within.quantities


@pytest.mark.only("torch")
def test_the_cli_counts_an_object_or_a_factory(target_name, tmp_path, cli, monkeypatch, request):
    """In this process (the ``cli`` fixture: the process boundary is the spec env's test), from
    the folder that holds the user's module, as ``python -m paramspec`` is run from it."""
    (tmp_path / "mymodel.py").write_text(
        "import torch\n"
        "model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))\n"
        "def make():\n    return model\n"
        "def broken():\n    raise ValueError('no weights here')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the CLI puts the current folder on it, as `python -m` does
    sys.modules.pop("mymodel", None)
    request.addfinalizer(lambda: sys.modules.pop("mymodel", None))  # the user's module, imported by the CLI
    for name in ("model", "make"):
        p = cli("count", "--object", f"mymodel:{name}", "--input", "3x8")
        assert p.returncode == 0, p.stderr
        assert "Sequential" in p.stdout and "within: 0: Linear[in8-out4] reads 36 ✓" in p.stdout
        assert "Sequential at 3x8:" in p.stdout and "FlopCounterMode reads 240 FLOPs" in p.stdout
    for argv, needle in ((["--object", "mymodel:broken"], "mymodel:broken() raised ValueError: no weights here"),
                         (["--object", "mymodel:nope"], "mymodel has no 'nope'"),
                         (["--object", "nomodule:x"], "cannot import nomodule"),
                         (["--object", "mymodel"], "takes MODULE:NAME"),
                         (["--object", "mymodel:model", "--input", "3xx8"], "takes a shape such as 1x3x224x224"),
                         (["--object", "mymodel:model", "-f", "torch"], "give no --framework")):
        p = cli("count", *argv)
        assert p.returncode == 2 and needle in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


@pytest.mark.only("torch", "keras", "flax-nnx")
def test_a_bad_input_shape_is_one_line(target_name):
    model, _ = user_model(target(target_name).framework)
    with pytest.raises(SpecError, match="an input is a shape of positive whole numbers"):
        paramspec.count(model, input=(2, 0))
    with pytest.raises(SpecError, match="a built object is read in its own framework"):
        paramspec.count(model, framework=target_name)
