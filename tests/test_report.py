"""The record files and the matrix merged from them (framework-free: records are built here).

These records are synthetic on purpose: they test the merge machinery, not any count.
"""
import json

from conftest import run_cli
from paramspec.compare import FAIL, NA, PASS, Record
from paramspec.report import markdown, merge, read_records, text_table, write_records


def rec(case, target, verdict, params=None, conv=None, reason="", state=0):
    expected = {"params": params, "state": state, "params_formula": "p", "state_formula": "s",
                "canonical_params": 10, "canonical_state": 0, "convention": conv, "native": {}}
    return Record(case=case, kind=case.split("[")[0], config={"kind": case.split("[")[0]}, target=target,
                  framework=target.split("-")[0], framework_version=f"{target} 1.0", verdict=verdict,
                  expected=expected if verdict != NA else {}, got={"params": params, "state": state} if params is not None else {},
                  problems=["params: expected 10, got 12"] if verdict == FAIL else [], reason=reason)


def files(tmp_path):
    a = write_records(tmp_path / "torch.json", "torch", "torch 1.0",
                      [rec("K[a1]", "torch", PASS, 12, conv="two biases"), rec("K[a2]", "torch", NA, reason="no such option")])
    b = write_records(tmp_path / "keras.json", "keras", "keras 1.0",
                      [rec("K[a1]", "keras", PASS, 10, state=4), rec("K[a2]", "keras", FAIL, 12)])
    return [read_records(a), read_records(b)]


def test_merge_is_a_pure_function_of_the_records(tmp_path):
    fs = files(tmp_path)
    m1, m2 = merge(fs), merge(fs)
    assert m1.to_dict() == m2.to_dict()
    assert m1.targets == ["torch", "keras"]
    assert [r["case"] for r in m1.rows] == ["K[a1]", "K[a2]"]
    assert m1.summary() == {"torch": {PASS: 1, FAIL: 0, NA: 1}, "keras": {PASS: 1, FAIL: 1, NA: 0}}
    assert [f.case for f in m1.failures] == ["K[a2]"]


def test_markdown_shows_marks_conventions_na_reasons_and_failures(tmp_path):
    md = markdown(merge(files(tmp_path)))
    assert "| `K[a1]` | 10 | 12 ✓† | 10 + 4 state ✓ |" in md
    assert "| `K[a2]` | 10 | n/a | 12 ✗ |" in md
    assert "- **K** in torch: two biases" in md
    assert "- torch: no such option (`K[a2]`)" in md
    assert "params: expected 10, got 12" in md


def test_text_table_and_json(tmp_path):
    m = merge(files(tmp_path))
    assert "keras 1.0: 1 pass, 1 fail, 0 n/a" in text_table(m)
    json.dumps(m.to_dict())


def test_report_command_merges_a_record_dir(tmp_path):
    files(tmp_path)
    out = tmp_path / "matrix.md"
    p = run_cli("report", "--record-dir", str(tmp_path), "--markdown", str(out), "--json", str(tmp_path / "m.json"))
    assert p.returncode == 0, p.stderr
    assert "| `K[a1]` |" in out.read_text()
    assert json.loads((tmp_path / "m.json").read_text())["summary"]["keras"][FAIL] == 1


def test_a_file_that_is_not_a_record_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something else"}')
    p = run_cli("report", str(bad))
    assert p.returncode == 2 and "not a paramspec record file" in p.stderr and "Traceback" not in p.stderr
