"""paramspec.count and `paramspec count` / `paramspec check`, in each active target."""
import json

import pytest

import paramspec
from paramspec.frameworks import target
from paramspec.record import SCHEMA_VERSION

pytestmark = pytest.mark.framework

LSTM = {"kind": "LSTM", "input_size": 300, "hidden_size": 128}

# The brief's table for LSTM(300 -> 128): published facts, a third source beside the
# formulas and the readings (PyTorch: two bias vectors per gate; Keras and Flax: one).
PUBLISHED_LSTM_300_128 = {"torch": 220_160, "keras": 219_648, "flax-linen": 219_648, "flax-nnx": 219_648}


def test_count_returns_the_reading_and_the_formula(target_name):
    r = paramspec.count(LSTM, framework=target_name)
    assert r.agrees, r.problems
    q = r.quantities["params"]
    assert q.got == PUBLISHED_LSTM_300_128[target(target_name).framework]  # the reading, against the brief
    assert q.expected == PUBLISHED_LSTM_300_128[target(target_name).framework]  # the formula, against the brief
    assert q.canonical == 219_648 and r.state == 0
    assert r.framework_version.startswith(target(target_name).needs[0]) and r.built
    assert r.native and all(r.native[k] == r.quantities[f"native:{k}"].expected for k in r.native)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["schema_version"] == SCHEMA_VERSION and d["quantities"]["params"]["got"] == q.got and d["tensors"][0]["name"]
    assert paramspec.Record.from_dict(d).quantities == r.quantities


def test_count_accepts_yaml_and_json_text(target_name):
    a = paramspec.count("{kind: Linear, in_features: 128, out_features: 10}", framework=target_name)
    b = paramspec.count(json.dumps({"kind": "Linear", "in_features": 128, "out_features": 10}), framework=target_name)
    assert a.params == b.params == 1290  # (128 + 1) * 10


def test_state_is_separate_from_params(target_name):
    r = paramspec.count({"kind": "BatchNorm2d", "num_features": 64}, framework=target_name)
    assert r.agrees, r.problems
    assert r.params == 128  # weight and bias, 64 each
    assert r.state == (129 if target(target_name).framework == "torch" else 128)  # torch adds num_batches_tracked


def test_not_applicable_raises_with_the_reason(target_name):
    spec = paramspec.load_spec()
    fw = target(target_name).framework
    case = next(c for c in spec.cases() if c.not_applicable_reason(fw))
    with pytest.raises(paramspec.NotApplicable) as info:
        paramspec.count(case.config(), framework=target_name)
    assert info.value.reason == case.not_applicable_reason(fw)


def test_an_n_a_record_keeps_the_adapters_own_reason(target_name, spec):
    """The n/a verdict needs the adapter to refuse too; its own words are kept beside the spec's."""
    from paramspec.run import run_case

    fw = target(target_name).framework
    case = next(c for c in spec.cases() if c.not_applicable_reason(fw))
    r = run_case(spec, case, target_name)
    assert r.verdict == "n/a" and r.notes and r.notes[0].startswith("the adapter says: ")
    assert len(r.notes[0]) > len("the adapter says: ")


def test_cli_not_applicable_exits_3(target_name, cli):
    spec = paramspec.load_spec()
    fw = target(target_name).framework
    case = next(c for c in spec.cases() if c.not_applicable_reason(fw))
    p = cli("count", "--framework", target_name, "--spec", json.dumps(case.config()))
    assert p.returncode == 3 and p.stderr.strip() == f"paramspec: n/a: {case.not_applicable_reason(fw)}"


def test_bad_input_raises_spec_error(target_name):
    with pytest.raises(paramspec.SpecError, match="hidden_size must be an integer >= 1, got -1"):
        paramspec.count({**LSTM, "hidden_size": -1}, framework=target_name)


def test_cli_count_table_and_json(target_name, cli):
    p = cli("count", "--framework", target_name, "--spec", json.dumps(LSTM))
    assert p.returncode == 0, p.stderr
    assert f"LSTM[in300-h128] in {target_name}" in p.stdout and "params" in p.stdout and "✓" in p.stdout
    # 80 columns; a tensor table whose names leave no room is wider, never cut (test_output_width.py)
    names = json.loads(cli("count", "--framework", target_name, "--spec", json.dumps(LSTM), "--json", "-").stdout)
    allowed = max([80] + [len(t["name"]) + 45 for t in names["tensors"]])
    assert max(len(line) for line in p.stdout.splitlines()) <= allowed, p.stdout
    p = cli("count", "--framework", target_name, "--spec", json.dumps(LSTM), "--json", "-")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["verdict"] == "pass"
    assert d["quantities"]["params"]["got"] == PUBLISHED_LSTM_300_128[d["source"]["framework"]]


def test_cli_check_one_kind_writes_records_and_matrix(target_name, cli, tmp_path):
    p = cli("check", "--framework", target_name, "--kind", "Linear", "--record-dir", str(tmp_path),
            "--markdown", str(tmp_path / "m.md"), "--json", str(tmp_path / "m.json"))
    assert p.returncode == 0, p.stderr
    assert "Linear[in128-out10]" in p.stdout
    doc = json.loads((tmp_path / f"{target_name}.json").read_text())
    assert {r["kind"] for r in doc["records"]} == {"Linear"}
    assert "| `Linear[in128-out10]` |" in (tmp_path / "m.md").read_text()
