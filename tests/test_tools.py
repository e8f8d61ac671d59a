"""The counting tools' audit (spec/tools.yaml, paramspec/tools.py, adapters/tools/).

The `tools` tests run the real tools (the `tools` tox env installs them) and check the
findings the README reports, each on its smallest case, and that the committed report
(docs/tools/) is what a fresh run of the tools gives for a sample of its cases. The rest need
no framework: tools.yaml's checks, and the CLI's bad input.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paramspec.configs import resolve_case
from paramspec.errors import SpecError
from paramspec.tools import load_tools, parse_tools, run_tool

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
    assert {"torchinfo", "thop", "ptflops", "fvcore", "calflops"} <= set(torch_tools)
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


SAMPLE = ["Linear[in128-out10]", "Conv2d[in3-out64-k3x3-pad1x1-H32-W32]", "LSTM[in300-h128]", "BatchNorm2d[C64]",
          "MultiheadAttention[E64-heads4]", "gpt2[d128-L2-heads4-S64]"]


@pytest.mark.tools
@pytest.mark.parametrize("tool", ["torchinfo", "thop", "ptflops", "fvcore", "calflops", "flop_counter"])
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
        for name in ("params", "compute"):
            assert got[name] == want[name], (tool, case.id, name)
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
