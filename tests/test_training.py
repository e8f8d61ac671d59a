"""A training step in each active target: ``count(..., train=True)`` measures the forward and
backward pass under the target's own counter, the gradients, the framework's own optimizer
state and the activations it keeps for backward, each held to the spec's formulas.

Every figure is read from the framework (a real step, on abstract inputs); the expected values
come from the spec (the kind's ``training:`` entry, the counters' rules, spec/training.yaml).
Every case of every kind is held to the same formulas by ``paramspec check --train`` (the main
job); these are representative ones, with and without the input's gradient (``input_grad``).
"""
from __future__ import annotations

import pytest

import paramspec
from paramspec.frameworks import target
from paramspec.record import PASS
from paramspec.training import TrainOptions

pytestmark = pytest.mark.framework

LINEAR = {"kind": "Linear", "in_features": 300, "out_features": 128, "batch": 4}
CASES = {
    "linear": LINEAR,
    "grouped-conv2d": {"kind": "Conv2d", "in_channels": 32, "out_channels": 64, "kernel_size": 3, "groups": 4},
    "dilated-conv1d": {"kind": "Conv1d", "in_channels": 4, "out_channels": 8, "kernel_size": 3, "dilation": 2,
                       "padding": "same", "batch": 3},
    "conv-transpose2d": {"kind": "ConvTranspose2d", "in_channels": 8, "out_channels": 3, "kernel_size": 5},
    "separable-conv2d": {"kind": "SeparableConv2D", "in_channels": 8, "filters": 16, "kernel_size": 3,
                         "padding": "same", "height": 12, "width": 10},
    "embedding": {"kind": "Embedding", "num_embeddings": 100, "embedding_dim": 8, "batch": 4, "seq_len": 32},
    "lstm": {"kind": "LSTM", "input_size": 10, "hidden_size": 20, "num_layers": 2, "bidirectional": True},
    "gru": {"kind": "GRU", "input_size": 16, "hidden_size": 8, "bidirectional": True, "batch": 3, "seq_len": 5},
    "attention": {"kind": "MultiheadAttention", "embed_dim": 64, "num_heads": 4, "batch": 2, "seq_len": 33},
    "batchnorm2d": {"kind": "BatchNorm2d", "num_features": 16, "batch": 2, "height": 7, "width": 9},
    "relu": {"kind": "ReLU", "batch": 2, "height": 5, "width": 7},
    "maxpool2d": {"kind": "MaxPool2d", "kernel_size": [2, 3], "stride": 1, "batch": 2},
}
# the kinds above with an `activations` formula in the spec: the bytes kept for backward are judged
JUDGED_ACTIVATIONS = {"linear", "grouped-conv2d", "dilated-conv1d", "conv-transpose2d", "separable-conv2d",
                      "embedding", "relu", "maxpool2d"}


@pytest.mark.parametrize("input_grad", [False, True], ids=["params", "input-grad"])
@pytest.mark.parametrize("name", list(CASES))
def test_every_training_quantity_agrees(name, input_grad, target_name):
    r = paramspec.count(CASES[name], framework=target_name, train=TrainOptions(input_grad=input_grad))
    t = r.training
    problems = {k: (q.got, q.expected, q.formula) for k, q in t.quantities.items()
                if q.expected is not None and q.got != q.expected}
    assert t.verdict == PASS and not problems and r.verdict == PASS, (t.error, problems, t.by_op, r.all_problems)
    assert t.counter == target(target_name).counter and t.input_grad is input_grad
    # what each framework measured, not only what the spec expects
    for part in ("forward", "backward", "gradients", "optimizer"):
        assert t.quantities[part].got is not None, part
    assert t.quantities["gradients"].got == 4 * r.params  # fp32 gradients, one a trainable element
    activations = t.quantities["activations"]
    assert activations.got is not None and activations.got >= 0
    assert (activations.expected is not None) is (name in JUDGED_ACTIVATIONS), activations


def test_the_canonical_backward_of_a_linear_is_the_weight_and_input_gradients(target_name):
    """weight: macs; first: macs, counted only when the input needs a gradient."""
    macs = 4 * 300 * 128
    steps = {ig: paramspec.count(LINEAR, framework=target_name, train=TrainOptions(input_grad=ig)).training
             for ig in (False, True)}
    assert (steps[False].weight_macs, steps[False].input_macs, steps[False].first_macs) == (macs, 0, macs)
    assert (steps[False].backward_macs, steps[True].backward_macs) == (macs, 2 * macs)
    assert all(t.verdict == PASS for t in steps.values()), {ig: t.quantities for ig, t in steps.items()}
    # every counter reads the weight's gradient, and the input's only when asked
    assert steps[True].measured_backward == 2 * steps[False].measured_backward > 0


def test_a_relu_keeps_nothing_unless_its_input_needs_a_gradient(target_name):
    """No parameters: without the input's gradient nothing flows back and nothing is kept."""
    config = CASES["relu"]
    off = paramspec.count(config, framework=target_name, train=True).training
    on = paramspec.count(config, framework=target_name, train=TrainOptions(input_grad=True)).training
    assert off.quantities["activations"].got == 0 and off.verdict == PASS, off.quantities
    assert on.quantities["activations"].got == on.quantities["activations"].expected > 0, on.quantities
    assert on.quantities["activations"].canonical == 4 * 2 * 3 * 5 * 7  # the output, at fp32


GPT2 = {"model": "gpt2", "n_embd": 128, "n_layer": 2, "n_head": 4, "batch": 2, "seq_len": 40}


def test_a_model_step_agrees_and_keeps_less_with_recomputation(target_name):
    """A model's step (GPT-2: every op's input gradient, QKᵀ and AV twice) in every target;
    in torch, the same step with each block checkpointed (full) and each attention core
    checkpointed (selective): the backward pass runs the recomputed forward MACs as the spec's
    recompute formulas and torch's early-stop convention say, and keeps fewer activations."""
    steps = {"none": paramspec.count(GPT2, framework=target_name, train=True)}
    if target(target_name).framework == "torch":
        steps.update({m: paramspec.count(GPT2, framework=target_name, train={"recompute": m})
                      for m in ("selective", "full")})
    for mode, r in steps.items():
        t = r.training
        problems = {k: (q.got, q.expected) for k, q in t.quantities.items()
                    if q.expected is not None and q.got != q.expected}
        assert t.verdict == PASS and not problems, (mode, t.error, problems)
    if len(steps) == 3:
        acts = {m: r.training.quantities["activations"].got for m, r in steps.items()}
        assert acts["full"] < acts["selective"] < acts["none"], acts
        assert (steps["full"].training.recompute_macs, steps["selective"].training.recompute_macs) > (0, 0)
        assert any("checkpointed" in n for n in steps["full"].training.notes)
