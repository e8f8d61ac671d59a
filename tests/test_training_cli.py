"""A training step from the command line and the Python API, framework-free (``-f formula``) and
its bad input: one line, exit 2, never a traceback.

What a framework measures of a step is held to the spec in tests/test_training.py (every target).
"""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

import paramspec
from conftest import run_cli
from paramspec.errors import SpecError
from paramspec.training import TrainOptions, training_spec

LINEAR = "{kind: Linear, in_features: 300, out_features: 128, batch: 4}"


def assert_one_line(p, needle: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    line, = p.stderr.strip().splitlines()
    assert needle in line and "Traceback" not in p.stderr, line


@pytest.mark.parametrize("argv, needle", [
    (["--input", "batch=0"], "batch must be an integer >= 1, got 0"),
    (["--input", "batch=-3"], "--input takes NAME=N"),
    (["--optimizer", "adam"], "unknown optimizer 'adam' (known: sgd, sgd-momentum, adamw, adafactor, adam-8bit)"),
    (["--precision", "fp8"], "unknown precision 'fp8'"),
    (["--recompute", "half"], "unknown recompute 'half'"),
    (["--hardware", "H100"], "unknown hardware 'H100' (did you mean H100-SXM or H100-PCIe?)"),
    (["--hardware", "H100-SXM", "--mfu", "0"], "--mfu: must be in (0, 1], got 0.0"),
    (["--hardware", "H100-SXM", "--mfu", "1.5"], "--mfu: must be in (0, 1], got 1.5"),
    (["--mfu", "0.5"], "--mfu needs --hardware"),
    (["--hardware", "H100-SXM", "--tokens", "-1"], "--tokens: must be a positive number"),
    (["--hardware", "H100-SXM", "--tokens", "1e9"], "this kind's input has no tokens"),
    (["--hardware", "H100-SXM", "--tokens", "1e9", "--steps", "10"], "give --tokens or --steps, not both"),
    (["--input", "seq_len=7"], "unknown variable 'seq_len'"),
])
def test_bad_training_input_is_one_line(argv, needle):
    assert_one_line(run_cli("count", "-f", "formula", "--train", "--spec", LINEAR, *argv), needle)


def test_a_training_option_without_train_is_one_line():
    assert_one_line(run_cli("count", "-f", "formula", "--optimizer", "sgd", "--spec", LINEAR), "--optimizer is an option of --train")


def test_a_file_takes_no_training_step(tmp_path):
    path = tmp_path / "shapes.json"
    path.write_text('{"w": [3, 4]}')
    assert_one_line(run_cli("count", str(path), "--train"), "give --spec or --hf-config, not a file")


def test_a_kind_with_no_forward_pass_has_no_step():
    """Every kind has a macs formula today; one without would say so in one line, not crash."""
    spec = paramspec.load_spec()
    assert all(k.macs is not None for k in spec.kinds.values())


@pytest.mark.parametrize("train, needle", [
    ({"optimizer": "nope"}, "unknown optimizer 'nope'"),
    ({"learning_rate": 1}, "unknown training option 'learning_rate'"),
    ("yes", "train takes True, a mapping of training options or TrainOptions, got str"),
])
def test_the_python_api_refuses_bad_options(train, needle):
    with pytest.raises(SpecError, match=needle):
        paramspec.count({"kind": "ReLU"}, framework="formula", train=train)


def test_the_formula_gives_the_canonical_step_memory_and_time():
    """The step of a Linear at the spec's formulas: forward and backward MACs, memory by part
    at each precision (spec/training.yaml), and the time on an accelerator at an MFU."""
    ts = training_spec()
    r = paramspec.count({"kind": "Linear", "in_features": 300, "out_features": 128, "batch": 4}, framework="formula",
                        train={"precision": "bf16-mixed", "hardware": "H100-SXM", "mfu": 0.5, "steps": 1000})
    t = r.training
    macs = 4 * 300 * 128
    assert (t.macs, t.weight_macs, t.input_macs, t.backward_macs, t.step_flops) == (macs, macs, 0, macs, 4 * macs)
    p, params = ts.precisions["bf16-mixed"], 300 * 128 + 128
    mem = t.memory["bytes"]
    assert mem["weights"] == p.weight * params and mem["master"] == p.master * params
    assert mem["optimizer"] == ts.optimizers["adamw"].state_bytes([(params,)])[0] == 8 * params
    peak = ts.hardware["H100-SXM"].peak_tflops["bf16"] * 1e12
    assert t.time["step_time"] == pytest.approx(4 * macs / (peak * 0.5))
    assert t.time["seconds"] == pytest.approx(1000 * t.time["step_time"])
    assert t.fits["fits"] and t.fits["capacity"] == 80 * 10**9


def test_a_measured_step_time_gives_the_mfu_it_implies():
    t = paramspec.count({"kind": "Linear", "in_features": 300, "out_features": 128, "batch": 4}, framework="formula",
                        train=TrainOptions(hardware="A100-80GB", step_time=1e-6)).training
    assert t.time["mfu"] == pytest.approx(4 * 4 * 300 * 128 / (1e-6 * 19.5e12))  # fp32 peak of the A100


def test_count_train_json_has_the_training_part():
    p = run_cli("count", "-f", "formula", "--train", "--spec", LINEAR, "--json", "-")
    assert p.returncode == 0, p.stderr
    t = json.loads(p.stdout)["training"]
    assert t["verdict"] == "formula" and t["backward_macs"] == 4 * 300 * 128 and t["options"]["optimizer"] == "adamw"


@pytest.mark.parametrize("optimizer", ["sgd", "sgd-momentum", "adamw", "adafactor", "adam-8bit"])
def test_every_optimizer_formula_takes_every_shape(optimizer):
    o = training_spec().optimizers[optimizer]
    for shape in [(1,), (10,), (100, 200), (4, 300, 500), (64, 3, 3, 32)]:
        for fw in (None, "torch", "keras", "flax-linen", "flax-nnx"):
            n, _, _ = o.state_bytes([shape], fw)
            assert n >= 0


GPT2 = {"model": "gpt2", "n_embd": 128, "n_layer": 2, "n_head": 4, "batch": 2, "seq_len": 40}


def test_the_papers_training_estimates_stand_beside_the_step():
    """Megatron-LM's is the published 96 B s l h² (1 + s/6h + V/16lh), computed here exactly from
    its published (factored) form, not the spec's multiplied-out one; every estimate carries its
    source and its ratio to the step."""
    from fractions import Fraction
    t = paramspec.count(GPT2, framework="formula", train=True).training
    B, s, l, h, V = 2, 40, 2, 128, 50257
    published = 96 * B * s * l * h * h * (1 + Fraction(s, 6 * h) + Fraction(V, 16 * l * h))
    assert t.estimates["megatron_training"]["value"] == published
    assert t.estimates["training_6n_per_token"]["value"] == 6 * (2 * (12 * h * h + 13 * h) + 2 * h) * B * s
    for name in ("training_6n_per_token", "palm_training_per_token", "megatron_training", "chinchilla_training"):
        e = t.estimates[name]
        assert e["source"] and e["ratio"] == pytest.approx(e["value"] / t.step_flops)


@pytest.mark.parametrize("recompute, name, per_layer", [
    ("none", "korthikanti_activations", lambda s, b, h, a: s * b * h * (34 + Fraction(5 * a * s, h))),
    ("selective", "korthikanti_activations_selective", lambda s, b, h, a: 34 * s * b * h),
    ("full", "korthikanti_activations_full", lambda s, b, h, a: 2 * s * b * h),
])
def test_korthikanti_activations_follow_the_recompute_mode(recompute, name, per_layer):
    """Korthikanti et al.'s activation bytes for the recompute mode asked, and only that one."""
    t = paramspec.count(GPT2, framework="formula", train={"recompute": recompute}).training
    acts = {n: e for n, e in t.estimates.items() if e.get("of") == "activations"}
    assert list(acts) == [name]
    assert acts[name]["value"] == 2 * per_layer(40, 2, 128, 4)
    assert "16-bit" in acts[name]["differs"]


def test_megatron_is_the_canonical_step_with_full_recompute_for_a_gpt_shaped_model():
    """Two derivations that share nothing: Narayanan et al.'s 96 B s l h² (1 + s/6h + V/16lh)
    assumes a 4h MLP, h-wide attention and full recomputation; the spec's canonical step of
    GPT-2 (whose MLP is 4h) with `--recompute full` sums its kind's weight, input and recompute
    MACs. They agree to the FLOP; without recomputation, the step is 3/4 of the layers' part."""
    full = paramspec.count(GPT2, framework="formula", train={"recompute": "full"}).training
    none = paramspec.count(GPT2, framework="formula", train=True).training
    assert full.estimates["megatron_training"]["value"] == full.step_flops
    B, s, l, h, V = 2, 40, 2, 128, 50257
    head = 6 * B * s * h * V
    assert none.step_flops - head == 3 * (full.step_flops - head) // 4


@pytest.mark.parametrize("recompute", ["full", "selective"])
def test_a_layer_has_no_blocks_to_recompute(recompute):
    assert_one_line(run_cli("count", "-f", "formula", "--train", "--recompute", recompute, "--spec", LINEAR),
                    "a layer has no blocks to recompute")
