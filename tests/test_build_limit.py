"""Bounded builds: a config whose build would create more tensors than spec/index.yaml's
``build_limit`` is refused in one line (exit 2) before anything is built, in every target,
naming the variable and the limit and pointing to ``-f formula``, which answers at once.

The bound itself (each kind's ``tensors`` formula) is held to the real builds in
tests/test_conformance.py: every target's tensor list of every case stays within it.
"""
from __future__ import annotations

import json
import time

import pytest

from conftest import run_cli
from paramspec.loader import load_spec

LLAMA = {"model": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1_000_000_000,
         "vocab_size": 100, "intermediate_size": 128}
BERT = {"model": "bert", "num_hidden_layers": 10**12}
LSTM = {"kind": "LSTM", "input_size": 8, "hidden_size": 4, "num_layers": 2**40}
HF = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 10**9,
      "vocab_size": 100, "intermediate_size": 128}


def assert_refused(p, variable: str) -> str:
    assert p.returncode == 2, p.stderr
    line, = p.stderr.strip().splitlines()
    limit = load_spec().build_limit.tensors
    assert f"{variable} = " in line and f"over the limit of {limit:,}" in line and "`-f formula`" in line, line
    assert "Traceback" not in p.stderr
    return line


@pytest.mark.parametrize("config, variable", [(LLAMA, "num_hidden_layers"), (BERT, "num_hidden_layers"),
                                              (LSTM, "num_layers")], ids=["llama", "bert", "LSTM"])
def test_a_billion_layers_end_in_one_line_without_the_framework(config, variable):
    """The refusal comes before the framework is imported: the spec env (no framework) says it too."""
    t0 = time.perf_counter()
    assert_refused(run_cli("count", "-f", "torch", "--spec", json.dumps(config)), variable)
    assert time.perf_counter() - t0 < 30


def test_through_hf_config_too(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HF))
    line = assert_refused(run_cli("count", "-f", "keras-jax", "--hf-config", str(path)), "num_hidden_layers")
    assert line.startswith("paramspec: error: llama[")


def test_the_formula_answers_at_once():
    p = run_cli("count", "-f", "formula", "--spec", json.dumps(LLAMA), "--json", "-")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["quantities"]["params"]["expected"] > 10**12


def test_the_bundled_limit_leaves_every_preset_buildable():
    from paramspec.kinds import Case

    spec = load_spec()
    for kind in spec.kinds.values():
        for name in kind.presets:
            resolved = kind.resolve({"preset": name})
            case = Case(kind, resolved, kind.case_id(resolved, name), name)
            assert case.tensor_bound() is None or case.tensor_bound() <= spec.build_limit.tensors, case.id
            case.check_buildable(spec.build_limit)


@pytest.mark.parametrize("text, needle", [("build_limit: {tensors: 0, why: x}", "tensors must be a whole number"),
                                          ("build_limit: {tensors: 10, why: x, extra: 1}", "must be a mapping"),
                                          ("build_limit: 7", "must be a mapping")])
def test_a_bad_limit_in_the_spec_is_one_line(tmp_path, text, needle):
    import shutil

    from conftest import ROOT

    spec = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", spec)
    index = spec / "index.yaml"
    index.write_text(index.read_text().split("build_limit:")[0] + text + "\n")
    p = run_cli("count", "-f", "formula", "--spec", "{kind: ReLU}", env={"PARAMSPEC_SPEC_DIR": str(spec)})
    assert p.returncode == 2 and needle in p.stderr and "spec/index.yaml: build_limit" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.framework
@pytest.mark.parametrize("config, variable", [(LLAMA, "num_hidden_layers"), (LSTM, "num_layers")], ids=["llama", "LSTM"])
def test_every_target_refuses_it(target_name, cli, config, variable):
    assert_refused(cli("count", "-f", target_name, "--spec", json.dumps(config)), variable)
