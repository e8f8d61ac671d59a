"""The counting tools' audit (spec/tools.yaml, paramspec/tools.py, adapters/tools/).

The `tools` tests run the real tools (the `tools` tox env installs them) and check the
findings the README reports, each on its smallest case, and that the committed report
(docs/tools/) is what a fresh run of the tools gives for a sample of its cases. The training
claims are read from the real tools too (calflops' include_backPropagation, transformers'
Trainer.floating_point_ops) and graded against the spec's training step. The rest need no
framework: tools.yaml's checks, the grading of a training figure on given readings, and the
CLI's bad input.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paramspec.configs import resolve_case
from paramspec.errors import SpecError
from paramspec.tools import Claim, Tool, ToolRun, grade, load_tools, mark_of, no_training, parse_tools, run_tool
from paramspec.training import expected_step

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "tools" / "tools.json"


def _run(tool: str, config: dict, freeze=()):
    return run_tool(load_tools().tools[tool], resolve_case(config), tuple(freeze))


# ------------------------------------------------------------------ framework-free
def test_tools_yaml_parses_and_names_real_runners():
    ts = load_tools()
    assert {"torchinfo", "thop", "ptflops", "fvcore", "calflops", "flop_counter", "hf"} <= set(ts.tools)
    for t in ts.tools.values():
        module, function = t.runner.split(".")
        assert (ROOT / "adapters" / "tools" / f"{module}.py").is_file(), t.runner
        assert f"def {function}(" in (ROOT / "adapters" / "tools" / f"{module}.py").read_text(), t.runner


@pytest.mark.parametrize("change, message", [
    ({"formula": "macs + __import__"}, "names starting with '_' are not allowed"),
    ({"formula": "macs + flopz"}, "unknown name 'flopz'"),
    ({"formula": "macs +"}, "does not parse"),
    ({"unit": 3}, "3 is not of type 'string'"),
])
def test_a_bad_claim_is_one_line_naming_the_tool(change, message):
    import yaml

    data = yaml.safe_load((ROOT / "spec" / "tools.yaml").read_text())
    data["tools"][1]["claims"]["compute"].update(change)
    with pytest.raises(SpecError, match=message) as e:
        parse_tools(data, "spec/tools.yaml", frozenset({"bias_adds"}))
    assert "\n" not in str(e.value) and "spec/tools.yaml" in str(e.value)


def test_a_training_claim_reads_only_step_names_and_absent_names_a_known_quantity():
    import yaml

    data = yaml.safe_load((ROOT / "spec" / "tools.yaml").read_text())
    calflops = next(t for t in data["tools"] if t["id"] == "calflops")
    calflops["claims"]["training"]["formula"] = "step_macs + backward_flops"
    with pytest.raises(SpecError, match="unknown name 'backward_flops'") as e:
        parse_tools(data, "spec/tools.yaml", frozenset({"bias_adds"}))
    assert "\n" not in str(e.value) and "calflops" in str(e.value)
    calflops["claims"]["training"]["formula"] = "step_macs"
    calflops["absent"] = {"speed": "no"}
    with pytest.raises(SpecError, match="speed") as e:
        parse_tools(data, "spec/tools.yaml", frozenset({"bias_adds"}))
    assert "\n" not in str(e.value)


def _claiming(formula: str, unit: str = "MACs") -> Tool:
    from paramspec.formula import parse

    return Tool("t", "a tool", "torch", "torch", "torch_tools.t", "t(model)", "",
                {"training": Claim("", parse(formula), unit)})


def test_a_training_figure_is_held_to_the_spec_s_step_and_its_difference_is_named():
    """The grading alone, on given readings (the tools' own are below): a figure is right only
    at the spec's training step; the forward's MACs three times over (calflops' rule of thumb)
    is the step and the input's gradient, which training does not run; 0 is a silent zero."""
    case = resolve_case(LINEAR)
    e = expected_step(case)
    assert (e.macs, e.weight_macs, e.input_macs, e.first_macs, e.step_macs) == (1280, 1280, 0, 1280, 2560)
    tool = _claiming("step_macs")
    right = grade(tool, case, ToolRun(figures={"training": 2560}), "t 1").quantities["training"]
    assert mark_of(right) == "✓" and right.expected == right.canonical == 2560
    q = grade(tool, case, ToolRun(figures={"training": 3 * 1280}), "t 1").quantities["training"]
    assert (q.finding, q.got - q.expected) == ("other", 1280)
    assert q.explain.endswith("it adds the input's gradient, which a training step does not run (1,280)")
    zero = grade(tool, case, ToolRun(figures={"training": 0}), "t 1")
    assert zero.quantities["training"].finding == "silent zero" and zero.verdict == "fail"
    flops = grade(_claiming("2 * step_macs", "FLOPs"), case, ToolRun(figures={"training": 6 * 1280}), "t 1")
    assert flops.quantities["training"].explain.endswith("does not run (2,560)")  # in the claim's unit


def test_a_kind_without_a_training_formula_is_shown_not_graded_with_why():
    import dataclasses

    from paramspec.kinds import Case
    from paramspec.training import KindTraining

    gpt2 = resolve_case(GPT2)
    bare = dataclasses.replace(gpt2.kind, training=KindTraining())  # a model family before its `training:` entry
    case = Case(bare, gpt2.values, gpt2.id)
    assert "no training formula for gpt2" in no_training(case)
    tool = _claiming("2 * step_macs", "FLOPs")
    q = grade(tool, case, ToolRun(figures={"training": 123}), "t 1").quantities["training"]
    assert q.got == 123 and q.expected is None and q.finding is None and mark_of(q) == "†"
    assert q.why.startswith("not graded: the spec has no training formula for gpt2")
    assert no_training(resolve_case(LINEAR)) is None  # a layer's defaults are its training formula


def test_xla_s_backward_is_known_only_where_the_spec_makes_it_exact():
    """Flax's vjp_flops claim is held to XLA's reading of the step's backward: the kind's xla
    training formula, and the bias gradient's sum (bias_adds - bias adds) where the forward's
    only elementwise op is the bias add; nothing for an LSTM (its gates' elementwise work)."""
    tool = _claiming("xla_backward", "FLOPs")
    nobias = resolve_case({**LINEAR, "in_features": 64, "out_features": 32, "bias": False})
    # a reading made of the forward (4,096), the weights' gradient (4,096), the input's (4,096)
    # and an add per parameter (2,048): what linen's vjp_flops reads here (the flax tests)
    q = grade(tool, nobias, ToolRun(figures={"training": 14336}), "t 1").quantities["training"]
    assert q.expected == 4096 and q.finding == "other"
    assert q.explain.endswith("it adds the forward pass (4,096), the input's gradient, which a training step does "
                              "not run (4,096) and an add per variable element (2,048)")
    batched = resolve_case({**LINEAR, "batch": 32})
    ungraded = grade(tool, batched, ToolRun(figures={"training": 1}), "t 1").quantities["training"]
    assert ungraded.expected is None and "XLA's reading" in ungraded.why  # the bias elements were not read
    with_bias = grade(tool, batched, ToolRun(figures={"training": 1}, truth={"bias_params": 10}), "t 1")
    assert with_bias.quantities["training"].expected == 2 * 40960 + (320 - 10)
    lstm = grade(tool, resolve_case(LSTM), ToolRun(figures={"training": 1}), "t 1").quantities["training"]
    assert lstm.expected is None and lstm.why.startswith("not graded")


def test_an_unknown_tool_exits_2_in_one_line():
    p = subprocess.run([sys.executable, "-m", "paramspec", "tools", "--tool", "nope"], capture_output=True, text=True,
                       cwd=ROOT)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "unknown tool 'nope'" in p.stderr


def test_the_committed_report_is_a_report_of_every_bar():
    """Every tool ran on every layer kind, the vision presets, tied gpt2, and a frozen BN model."""
    from paramspec.loader import load_spec

    report = json.loads(COMMITTED.read_text())
    kinds = {r["kind"] for r in report["rows"]}
    assert {k.name for k in load_spec().kinds.values() if k.group == "layers"} <= kinds
    cases = {r["case"] for r in report["rows"]}
    for needed in ("resnet[resnet18]", "resnet[resnet50]", "vgg[vgg16]", "mobilenet_v2[mobilenet_v2]",
                   "gpt2[gpt2-S128]", "resnet[resnet18]+frozen[conv1,bn1,layer1]"):
        assert needed in cases
    torch_tools = [t["tool"] for t in report["tools"] if t["framework"] == "torch"]
    assert {"torchinfo", "thop", "ptflops", "fvcore", "calflops", "deepspeed"} <= set(torch_tools)
    for row in report["rows"]:
        for t in torch_tools:
            if t != "hf":
                assert t in row["cells"], (row["case"], t)


# ------------------------------------------------------------------ the tools themselves
GPT2 = {"model": "gpt2", "n_embd": 128, "n_layer": 2, "n_head": 4, "seq_len": 64}
LINEAR = {"kind": "Linear", "in_features": 128, "out_features": 10}
LSTM = {"kind": "LSTM", "input_size": 300, "hidden_size": 128}


@pytest.mark.tools
def test_torchinfo_counts_the_tied_gpt2_head_twice():
    r = _run("torchinfo", GPT2)
    q = r.quantities["params"]
    case = resolve_case(GPT2)
    wte = case.values["vocab_size"] * case.values["n_embd"]
    assert q.finding == "double counted" and q.got - q.expected == wte
    assert q.expected == case.expected("torch").params


@pytest.mark.tools
def test_thop_drops_the_root_modules_own_parameters():
    import torch

    r = _run("thop", LINEAR)
    q = r.quantities["params"]
    assert q.got == 0 and q.finding == "missing"
    assert q.expected == sum(p.numel() for p in torch.nn.Linear(128, 10).parameters())
    assert r.quantities["compute"].got == 128 * 10 and r.quantities["compute"].finding is None  # MACs, no bias


@pytest.mark.tools
def test_calflops_and_flop_counter_see_the_lstm_as_zero_without_a_warning():
    for tool in ("calflops", "flop_counter"):
        q = _run(tool, LSTM).quantities["compute"]
        assert q.got == 0 and q.finding == "silent zero", tool
    q = _run("calflops", LSTM).quantities["training"]  # its training figure is the forward's, three times over
    assert q.got == 0 and q.finding == "silent zero" and q.expected == expected_step(resolve_case(LSTM)).step_macs


@pytest.mark.tools
def test_calflops_training_figure_is_three_forwards_and_over_counts_the_input_s_gradient():
    """include_backPropagation=True: the forward's MACs x (1 + compute_bp_factor 2.0). A training
    step of a Linear runs the weight's gradient (its MACs again) but not the input's: calflops'
    figure is too high by exactly that."""
    r = _run("calflops", LINEAR)
    forward, q = r.quantities["compute"], r.quantities["training"]
    assert forward.got == 128 * 10 and forward.finding is None
    assert q.got == 3 * forward.got  # read from calflops' second call
    e = expected_step(resolve_case(LINEAR))
    assert q.expected == q.canonical == e.step_macs == 2 * 128 * 10
    assert q.finding == "other" and q.got - q.expected == e.first_macs
    assert "the input's gradient" in q.explain and r.verdict == "fail"
    assert any(n == "training flops: 7680" for n in r.notes)  # its FLOPs, 2 x MACs, three times over


@pytest.mark.tools
def test_deepspeed_profiles_the_forward_and_gives_no_training_count():
    r = _run("deepspeed", LINEAR)
    assert r.quantities["params"].got == r.quantities["params"].expected == 1290
    assert r.quantities["compute"].got == r.quantities["compute"].expected == 1280  # MACs; bias adds are not
    assert "training" not in r.quantities
    assert "rates" in load_tools().tools["deepspeed"].absent["training"]
    assert r.source.version.startswith("deepspeed ")


@pytest.mark.tools
def test_fvcore_warns_about_the_lstm_so_its_zero_is_not_silent():
    r = _run("fvcore", LSTM)
    q = r.quantities["compute"]
    assert q.got == 0 and q.finding is None and q.why
    assert any("aten::lstm" in n for n in r.notes)


@pytest.mark.tools
def test_ptflops_counts_trainable_parameters_only_as_it_says():
    config = {"model": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "num_classes": 10, "height": 64, "width": 64}
    r = _run("ptflops", config, ["layer1"])
    q = r.quantities["params"]
    assert q.finding is None and q.got == q.expected < q.canonical
    from paramspec.frameworks import adapter

    case = resolve_case(config)
    model = adapter("torch").build(case.kind.name, case.values, case.inputs(), materialize=True).module
    assert q.canonical - q.got == sum(p.numel() for p in model.layer1.parameters())


@pytest.mark.tools
def test_hf_num_parameters_is_the_spec_for_tied_gpt2():
    r = _run("hf", GPT2)
    q = r.quantities["params"]
    assert q.got == q.expected == resolve_case(GPT2).expected("torch").params and q.finding is None


@pytest.mark.tools
def test_hf_floating_point_ops_is_six_tokens_times_the_non_embedding_parameters():
    """Trainer.floating_point_ops on the case's token ids: 6 x tokens x N, N without the
    embeddings (the tied LM head is the token embedding, so it is left out too); graded against
    the spec's training step, 2 FLOPs a MAC, where the gpt2 family has its training formula."""
    import torch
    import transformers

    r = _run("hf", GPT2)
    q = r.quantities["training"]
    config = transformers.GPT2Config(n_embd=128, n_layer=2, n_head=4)
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(config)
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    n = sum(p.numel() for p in model.parameters() if id(p) not in embeddings)
    assert n == 396_800 and q.got == 6 * 1 * 64 * n
    case = resolve_case(GPT2)
    if no_training(case) is None:
        assert q.expected == 2 * q.canonical == 2 * expected_step(case).step_macs  # canonical: the step's MACs
        assert q.finding == "other" and q.got < q.expected  # 6N leaves out the tied head and the attention scores
    else:
        assert q.expected is None and q.why.startswith("not graded") and mark_of(q) == "†"


SAMPLE = ["Linear[in128-out10]", "Conv2d[in3-out64-k3x3-pad1x1-H32-W32]", "LSTM[in300-h128]", "BatchNorm2d[C64]",
          "MultiheadAttention[E64-heads4]", "gpt2[d128-L2-heads4-S64]"]


@pytest.mark.tools
@pytest.mark.parametrize("tool", ["torchinfo", "thop", "ptflops", "fvcore", "calflops", "deepspeed", "flop_counter"])
def test_drift_the_committed_report_is_what_the_tools_read_now(tool):
    """A drift test: a fresh run of each tool on a sample of the committed report's cases reads the same."""
    from paramspec.loader import load_spec
    from paramspec.report.tools import cell
    from paramspec.tools import cases

    report = json.loads(COMMITTED.read_text())
    version = next(t["version"] for t in report["tools"] if t["tool"] == tool)
    rows = {r["case"]: r for r in report["rows"]}
    spec, ts = load_spec(), load_tools()
    checked = 0
    for case, freeze in cases(spec, ts):
        if case.id not in SAMPLE or case.id not in rows:
            continue
        r = run_tool(ts.tools[tool], case, freeze)
        if r.source.version != version:
            pytest.fail(f"{tool} is {r.source.version} here, the report has {version}: re-run `paramspec tools`")
        got, want = cell(r), rows[case.id]["cells"][tool]
        for name in ("params", "compute", "training"):
            assert got[name] == want.get(name), (tool, case.id, name)
        checked += 1
    assert checked >= 4


@pytest.mark.tools
def test_tools_run_in_parallel_read_what_they_read_one_at_a_time():
    """`--jobs 2` runs two tools' processes at once; the report is the same, row for row."""
    def report(jobs: str) -> dict:
        p = subprocess.run([sys.executable, "-m", "paramspec", "tools", "--tool", "torchinfo,thop", "--kind", "Linear",
                            "--jobs", jobs, "--json", "-"], capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 0, p.stderr[-800:]
        return json.loads(p.stdout)

    one, two = report("1"), report("2")
    assert [t["tool"] for t in two["tools"]] == ["torchinfo", "thop"]
    assert two["rows"] == one["rows"] and len(one["rows"]) >= 3
