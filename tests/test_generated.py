"""Generated conformance: configs drawn from each kind's variables in the spec
(paramspec.strategies), built and read in each active target and compared with the formulas:
params, state, the native totals, the counter's reading of one forward pass, and the kind's
``tensors`` bound (paramspec.testing.assert_kind_conforms, which runs run_case with measure).

Each target's run draws :func:`examples` configs per kind, fitted to the per-target time budget
(60 s, docs/benchmarks.md): :data:`EXAMPLES`, and :data:`FAMILY_EXAMPLES_UNDER_XLA` for a model
family in a target whose counter is XLA's; ``PARAMSPEC_EXAMPLES`` sets one N for every kind. The
seed is the one pytest's header prints (``PARAMSPEC_SEED``, default
paramspec.strategies.DEFAULT_SEED). A disagreement is shrunk to a
minimal config, and the failure gives it as the line to add to the kind's spec file.
``python bench/conformance.py N`` is the long run.

The framework-free tests below hold the strategies themselves: every kind can be drawn, each
draw meets its kind's rules and bounds and its formulas evaluate, what is constructed is
constructed, and a failure's line reads back as the same case.
"""
from __future__ import annotations

import dataclasses
import os

import pytest

from paramspec import yamlio
from paramspec.errors import SpecError
from paramspec.formula import parse
from paramspec.frameworks import target
from paramspec.kinds import Requirement
from paramspec.loader import load_spec
from paramspec.run import formula_record
from paramspec.strategies import DEFAULT_BOUNDS, Plan, RandomSource, configs, drawn_case, session_seed, yaml_case
from paramspec.testing import assert_kind_conforms

EXAMPLES = 2  # per kind and target: the first is Hypothesis's simplest config, the others drawn at random
# Under XLA (keras-jax, flax-linen, flax-nnx) a model family's config is traced, lowered and
# costed op by op: 0.3-1.5 s a config in linen, where a layer's takes 0.05-0.2 s, and the 16
# families' second configs were about 9 s of linen's 19 s here. There a family draws its simplest
# config only; layers, where the edges are (padding 'same' with an even kernel, dilation with
# stride, groups, proj_size), draw as many as in every target. bench/conformance.py is the long run.
FAMILY_EXAMPLES_UNDER_XLA = 1
KINDS = list(load_spec().kinds)


def examples(kind: str, target_name: str) -> int:
    """How many configs of ``kind`` this target's run draws."""
    raw = os.environ.get("PARAMSPEC_EXAMPLES")
    if raw is not None:
        if not raw.isdigit() or int(raw) < 1:
            raise pytest.UsageError(f"PARAMSPEC_EXAMPLES must be a whole number, 1 or more, got {raw!r}")
        return int(raw)
    if load_spec().kind(kind).group == "models" and target(target_name).counter == "xla":
        return FAMILY_EXAMPLES_UNDER_XLA
    return EXAMPLES


@pytest.mark.framework
@pytest.mark.parametrize("kind", KINDS)
def test_drawn_configs_agree_with_the_spec(kind, target_name):
    assert assert_kind_conforms(kind, target_name, examples=examples(kind, target_name), seed=session_seed()) >= 1


# ---------------------------------------------------------------------- the strategies, framework-free
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_drawn_within_its_rules_and_bounds_and_its_formulas_evaluate(kind):
    k = load_spec().kind(kind)
    plan = Plan.of(k)
    plan.check()  # one line, naming the condition, where a kind cannot be drawn
    source, drawn = RandomSource(20261124), 0
    for _ in range(10):
        config = plan.draw(source)
        if config is None:
            continue
        drawn += 1
        case = drawn_case(k, config)  # resolves: every `require` holds
        assert all(k.variables[n].required or case.values[n] != k.variables[n].coerce(k.variables[n].default)
                   for n in config), config  # an option named is an option set
        bound = case.tensor_bound()
        assert bound is None or bound <= DEFAULT_BOUNDS.tensors, (config, bound)
        for name, var in k.variables.items():
            if var.type == "int" and name in config and var.max is None and not plan.constructed.get(name):
                assert config[name] < (var.min or 0) + max(DEFAULT_BOUNDS.size, DEFAULT_BOUNDS.input), config
        r = formula_record(case, compute=True)  # every formula gives a whole, non-negative count
        assert r.params >= 0 and (k.macs is None or r.compute.macs >= 0)
    assert drawn >= 8, f"{kind}: {drawn} of 10 draws met the kind's rules"


def test_a_simple_divisibility_or_bound_is_constructed_not_filtered():
    spec = load_spec()
    assert Plan.of(spec.kind("Conv2d")).constructed == {"in_channels": ("groups",), "out_channels": ("groups",)}
    assert Plan.of(spec.kind("LSTM")).constructed == {"proj_size": ("hidden_size",)}
    plan, source = Plan.of(spec.kind("Conv2d")), RandomSource(1)
    grouped = [c for c in (plan.draw(source) for _ in range(200)) if c and c.get("groups", 1) > 1]
    assert len(grouped) > 50  # half the draws set groups; a filter would keep few of them
    assert all(c["in_channels"] % c["groups"] == 0 == c["out_channels"] % c["groups"] for c in grouped)
    plan = Plan.of(spec.kind("LSTM"))
    for c in filter(None, (plan.draw(source) for _ in range(100))):
        assert c.get("proj_size", 0) < c["hidden_size"]


def test_hypothesis_shrinks_a_draw_to_the_fewest_and_smallest_variables():
    from hypothesis import find, settings

    kind = load_spec().kind("Conv1d")
    minimal = find(configs(kind), lambda c: c.get("groups", 1) > 1 and c.get("padding") == "same",
                   settings=settings(database=None, max_examples=2000))
    assert minimal == {"in_channels": 2, "out_channels": 2, "kernel_size": 1, "padding": "same", "groups": 2}
    minimal = find(configs(load_spec().kind("LSTM")), lambda c: c.get("proj_size", 0) > 0 and c.get("bidirectional"),
                   settings=settings(database=None, max_examples=2000))
    assert minimal == {"input_size": 1, "hidden_size": 2, "bidirectional": True, "proj_size": 1}


@pytest.mark.parametrize("config", [
    {"in_channels": 2, "out_channels": 4, "kernel_size": [3, 1], "padding": "same", "groups": 2, "bias": False},
    {"in_features": 3, "hidden_sizes": [4, 5], "out_features": 1},
    {"width_mult": 0.35, "num_classes": 3},
])
def test_a_drawn_config_is_written_as_the_case_line_that_reads_back_as_it(config):
    line = yaml_case(config)
    assert line.startswith("- {") and "\n" not in line
    assert yamlio.loads(line, "case") == [config]


def test_a_kind_that_cannot_be_drawn_is_said_in_one_line(monkeypatch):
    kind = load_spec().kind("Linear")
    impossible = Requirement(parse("in_features > 1000"), "in_features must be over 1000")
    monkeypatch.setattr(kind, "require", (impossible,))
    with pytest.raises(SpecError) as e:
        Plan.of(kind).check()
    assert "\n" not in str(e.value)
    assert str(e.value).startswith("spec/layers/dense.yaml: Linear: no config of Linear could be drawn")
    assert "`in_features > 1000` held in none" in str(e.value)
    wider = dataclasses.replace(DEFAULT_BOUNDS, size=2000)  # within its bounds it can be drawn
    assert Plan.of(kind, wider).draw(RandomSource(3))["in_features"] > 1000


def test_the_seed_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PARAMSPEC_SEED", "12345")
    assert session_seed() == 12345
    monkeypatch.setenv("PARAMSPEC_SEED", "random")
    seed = session_seed()
    assert os.environ["PARAMSPEC_SEED"] == str(seed) and session_seed() == seed  # kept for the workers
    monkeypatch.setenv("PARAMSPEC_SEED", "twelve")
    with pytest.raises(SpecError, match="PARAMSPEC_SEED must be an integer or `random`, got 'twelve'"):
        session_seed()
