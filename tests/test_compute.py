"""Compute in each active target: ``count(..., measure=True)``, ``r.flops``, ``count --flops``,
the published GMACs, and the counter facts the spec records as n/a.

Every figure here is a counter's reading of a real forward pass (on abstract inputs); the
expected values come from the spec's formulas or from a published figure.
"""
import json
import shutil

import pytest
from published import on_a_case

import paramspec
from paramspec.frameworks import target
from paramspec.record import FAIL, NA, PASS

pytestmark = pytest.mark.framework

CONV = {"kind": "Conv2d", "in_channels": 3, "out_channels": 64, "kernel_size": 3, "padding": 1}


def test_counting_parameters_measures_nothing_unless_asked(target_name):
    r = paramspec.count({"kind": "LSTM", "input_size": 300, "hidden_size": 128}, framework=target_name)
    assert r.flops is None and r.compute is None and "flops" not in r.quantities
    assert r.verdict_of("flops") is None and r.verdict_of("params") == PASS


def test_an_input_size_in_the_config_measures(target_name):
    r = paramspec.count({**CONV, "height": 32, "width": 32}, framework=target_name)
    f = r.compute
    assert f is not None and f.agrees and f.verdict == PASS, r.all_problems
    assert r.flops is f  # the same part, under the name the README uses
    assert f.macs == 64 * 32 * 32 * 3 * 9  # every tap over the padded 32x32 input
    assert f.canonical == 2 * f.macs
    conv_ops = [op for op in f.by_op if op in f.matmul_ops]
    assert len(conv_ops) == 1 and f.by_op[conv_ops[0]] == f.matmul, f.by_op  # one convolution, in the breakdown
    assert f.counter == target(target_name).counter and f.counter_label.startswith(f.counter_name)


def test_measure_true_reads_the_counter_and_holds_it_to_its_formula(target_name):
    r = paramspec.count({"kind": "Linear", "in_features": 300, "out_features": 128, "batch": 4},
                        framework=target_name, measure=True)
    f = r.flops
    assert f.macs == 4 * 300 * 128
    assert f.agrees and r.verdict_of("flops") == PASS
    assert f.matmul == 2 * f.macs  # a dense layer's matmul: 2 x MACs in every counter
    if target(target_name).counter == "flop_counter":  # it counts matmul-like ops only
        assert f.measured == 2 * f.macs and f.mark == "✓"
    else:  # XLA and TF's profiler add one flop per bias element, which the spec records
        assert f.measured == 2 * f.macs + 4 * 128 and f.mark == "✓†" and f.compares == "total"


def test_a_recurrent_layer_is_counted_at_every_step_or_by_a_recorded_convention(target_name):
    r = paramspec.count({"kind": "LSTM", "input_size": 300, "hidden_size": 128, "seq_len": 16}, framework=target_name)
    f = r.flops
    weights = 4 * 128 * (300 + 128)
    assert f.macs == 16 * weights and f.agrees
    if target(target_name).counter == "flop_counter":  # meta tensors: torch's fused CPU kernel is not in the way
        assert f.matmul == 2 * 16 * weights and f.mark == "✓"
    else:  # XLA counts a scan's body once; TF's profiler counts the one step outside the while loop
        assert f.matmul == 2 * weights and f.mark == "✓†" and "once" in f.convention


def test_count_flops_prints_the_per_op_table_and_json_has_a_flops_key(target_name, cli, tmp_path):
    out = tmp_path / "r.json"
    p = cli("count", "-f", target_name, "--spec", json.dumps(CONV), "--flops", "--json", str(out))
    assert p.returncode == 0, p.stderr
    assert "op" in p.stdout and "total" in p.stdout and "MACs (canonical): 1,769,472" in p.stdout
    d = json.loads(out.read_text())
    f = d["compute"]
    assert f["macs"] == 1_769_472 and f["verdict"] == PASS and f["measured"] is not None
    if f["counter"] == "flop_counter":  # matmul-like ops alone, every tap: 2 x MACs
        assert f["measured"] == f["quantities"]["matmul"]["got"] == 2 * 1_769_472
    assert f["counter"] == target(target_name).counter and f["agrees"] is True
    assert f["inputs"][0]["shape"] in ([1, 3, 32, 32], [1, 32, 32, 3])


def test_cli_input_sizes(target_name, cli):
    p = cli("count", "-f", target_name, "--spec", json.dumps(CONV), "--input", "batch=2", "--input", "height=8",
            "--json", "-")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["case"] == "Conv2d[in3-out64-k3x3-pad1x1-N2-H8]"
    assert d["compute"]["macs"] == 2 * 64 * 8 * 32 * 27


@pytest.mark.only("torch")
def test_an_hf_config_takes_its_sequence_length_beside_it(target_name):
    hf = {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
          "num_hidden_layers": 1, "num_attention_heads": 4}
    r = paramspec.count({"hf_config": hf, "seq_len": 32}, framework=target_name)
    assert r.case.endswith("-S32]") and r.flops is not None and r.flops.agrees
    d, ff, V, L = 64, 128, 100, 32
    assert r.flops.macs == L * 4 * d * d + 2 * L * L * d + 3 * L * d * ff + L * d * V  # one layer, then the head
    estimates = r.compute.estimates
    n = 1 * (4 * d * d + 3 * d * ff + 2 * d) + d + V * d  # non-embedding parameters
    assert estimates["training_6n_per_token"]["value"] == 6 * n
    assert estimates["kaplan_forward_per_token"]["value"] == 2 * n + 2 * 1 * L * d


def published_gmacs():
    """The figures about a preset that is no spec case (test_conformance holds the others on
    their cases' readings: tests/published.py)."""
    spec = paramspec.load_spec()
    return [pytest.param(k.name, p, id=p.preset) for k in spec.kinds.values() for p in k.published
            if p.gmacs and not on_a_case(p)]


@pytest.mark.parametrize("family, pub", published_gmacs())
def test_torchvision_ops_are_macs_of_convolutions_and_linear_layers(target_name, family, pub):
    """torchvision's `_ops` ("GFLOPS") at 1x3x224x224 (EfficientNet's at its weights' crop size,
    the preset's input) are billions of MACs: FlopCounterMode's flops halved. A counter that
    skips padded taps (XLA) reads fewer, by its recorded convention. A figure read in torch only
    (most of torchvision's) is not measured here in the other frameworks: their conformance
    cases hold them to the same formulas, and the formula to the figure (test_spec_files)."""
    if pub.framework and pub.framework != target(target_name).framework:
        pytest.skip(f"a figure read in {pub.framework}'s env; this framework is held to the same formula by its cases")
    r = paramspec.count({"model": family, "preset": pub.preset}, framework=target_name, measure=True,
                        native=False, breakdown=False)  # the matmul part is all this needs
    f = r.flops
    assert f.agrees, r.problems
    assert pub.gmacs_matches(f.macs), (f.macs, pub.gmacs)  # the spec's canonical MACs
    assert pub.gmacs_matches(f.matmul // 2) == (f.mark == "✓"), (f.matmul, f.convention)


@pytest.mark.only("keras")
def test_keras_tf_global_adaptive_pooling_fails_in_graph_mode(target_name):
    """The n/a the spec records for tf_profiler on AdaptiveAvgPool2d to 1x1 is Keras's own
    failure, reproduced here: when Keras fixes it, this fails and the n/a must go."""
    if target(target_name).counter != "tf_profiler":
        pytest.skip("the fact is about Keras on TensorFlow")
    r = paramspec.count({"kind": "AdaptiveAvgPool2d", "output_size": 1}, framework=target_name, measure=True)
    assert r.verdict_of("flops") == NA and r.verdict == PASS
    assert "Negative dimension size" in r.flops.error


@pytest.mark.only("torch")
def test_a_counter_that_measures_what_the_spec_calls_na_fails(target_name, tmp_path):
    from paramspec.loader import load_spec
    from paramspec.run import run_case

    spec_dir = tmp_path / "spec"
    shutil.copytree(load_spec().root, spec_dir)
    dense = spec_dir / "layers" / "dense.yaml"
    line = "    counters:\n      - counters: [xla]\n"  # Linear's
    text = dense.read_text()
    assert line in text
    dense.write_text(text.replace(line, "    counters:\n      - {counters: [flop_counter], not_applicable: true, "
                                  "why: \"a false claim, for this test\"}\n      - counters: [xla]\n", 1))
    spec = load_spec(spec_dir)
    r = run_case(spec, spec.kinds["Linear"].cases[0], target_name, measure=True)
    assert r.verdict == FAIL and r.verdict_of("flops") == FAIL and r.verdict_of("params") == PASS
    assert r.compute.not_applicable == "a false claim, for this test" and r.compute.measured == 2 * 128 * 10
    assert r.problems == [] and any("n/a here" in p and "but it measured" in p for p in r.all_problems)


@pytest.mark.only("keras-jax", "flax-linen", "flax-nnx")
def test_xla_costs_the_same_in_a_shared_mlir_context(target_name):
    """adapters/jax_cost.py lowers in one shared MLIR context (JAX makes one a lowering): the
    costs are those of lowerings in contexts of their own, and JAX's own function is put back."""
    import jax
    from jax._src.interpreters import mlir

    from paramspec._layout import import_adapter_module

    jc = import_adapter_module("jax_cost")
    make = mlir.make_ir_context

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, (2, 1), "SAME", rhs_dilation=(1, 2))

    def dot(a, b):
        return a @ b

    f32 = jax.numpy.float32
    fns = [(conv, (jax.ShapeDtypeStruct((2, 3, 17, 9), f32), jax.ShapeDtypeStruct((5, 3, 4, 3), f32))),
           (dot, (jax.ShapeDtypeStruct((7, 11), f32), jax.ShapeDtypeStruct((11, 13), f32)))]
    alone = [jc._flops(jax.jit(f).lower(*a)) for f, a in fns]
    shared_context, contexts, shared = jc._SharedContext(), [], []
    for _ in range(2):
        for f, a in fns:
            with shared_context():
                lowered = jax.jit(f).lower(*a)
                contexts.append(mlir.make_ir_context())  # what JAX's lowering was given
            assert mlir.make_ir_context is make
            shared.append(jc._flops(lowered))
    assert shared == alone * 2 and alone[1] == 2 * 7 * 11 * 13
    assert all(c is contexts[0] for c in contexts)  # one context for the four lowerings
