"""Record files and the matrix merged from them (framework-free: the records are built here).

These records are synthetic on purpose: they test the record format and the merge, not any
count. Every bad record file must stop the merge with one line naming the file, and leave
no report behind.
"""
import json

import pytest

from conftest import run_cli
from paramspec.errors import SpecError
from paramspec.reading import Source
from paramspec.record import FAIL, NA, PASS, SCHEMA_VERSION, Compute, Quantity, Record
from paramspec.report import merge, read_records, write_records
from paramspec.report.markdown import markdown, text

DIGEST = "0123456789abcdef"


def rec(case, target, verdict, got=None, expected=10, canonical=10, why=None, reason="", state=0):
    src = Source("framework", target, f"{target} 1.0", target.split("-")[0])
    if verdict == NA:
        qs = {"params": Quantity(canonical=canonical, formula="p"), "state": Quantity(canonical=0, formula="s")}
    else:
        qs = {"params": Quantity(got, expected, "p", canonical, why), "state": Quantity(state, state, "s", state)}
    return Record(source=src, verdict=verdict, case=case, kind=case.split("[")[0], config={"kind": case.split("[")[0]},
                  quantities=qs, problems=["params: expected 10, got 12"] if verdict == FAIL else [], reason=reason)


def files(tmp_path):
    a = write_records(tmp_path / "torch.json", Source("framework", "torch", "torch 1.0", "torch"),
                      [rec("K[a1]", "torch", PASS, 12, 12, 10, why="two biases"),
                       rec("K[a2]", "torch", NA, reason="no such option")], DIGEST)
    b = write_records(tmp_path / "keras.json", Source("framework", "keras", "keras 1.0", "keras"),
                      [rec("K[a1]", "keras", PASS, 10, state=4), rec("K[a2]", "keras", FAIL, 12)], DIGEST)
    return [read_records(a), read_records(b)]


def test_a_record_round_trips_through_json():
    r = rec("K[a1]", "torch", PASS, 12, 12, 10, why="two biases")
    d = json.loads(json.dumps(r.to_dict()))
    assert d["schema_version"] == SCHEMA_VERSION and d["source"]["name"] == "torch"
    back = Record.from_dict(d)
    assert back.quantities == r.quantities and back.source == r.source and back.verdict == PASS
    assert r.quantities["params"].mark == "†" and back.convention == "two biases"


@pytest.mark.parametrize("got, verdict", [(100, PASS), (90, FAIL), (None, FAIL)])
def test_the_compute_part_round_trips_and_keeps_its_verdict(got, verdict):
    r = measured("K[a1]", "torch", 50, got, 100, counter="flop_counter")
    back = Record.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.compute == r.compute and back.verdict_of("flops") == r.verdict_of("flops") == verdict
    assert back.to_dict()["compute"]["verdict"] == verdict


def test_a_verdict_never_reads_a_message():
    """Rewording (or dropping) every problem line changes no verdict: they are rendered from values."""
    r = measured("K[a2]", "torch", 50, 90, 100, counter="flop_counter")
    assert r.verdict_of("flops") == FAIL and r.all_problems
    r.problems = ["anything at all"]
    assert r.verdict_of("flops") == FAIL and r.verdict_of("params") == PASS
    ok = measured("K[a1]", "torch", 50, 100, 100, counter="flop_counter")
    ok.problems = ["flops.matmul (flop_counter): expected 1, got 2"]  # what the old parser took for a failure
    assert ok.verdict_of("flops") == PASS


def test_merge_is_a_pure_function_of_the_records_in_any_order(tmp_path):
    fs = files(tmp_path)
    m1, m2 = merge(fs), merge(list(reversed(fs)))
    assert m1.to_dict() == m2.to_dict()
    assert markdown(m1) == markdown(m2)
    assert m1.targets == ["torch", "keras"]  # the frameworks.yaml order, whatever order the files came in
    assert [r.case for r in m1.rows] == ["K[a1]", "K[a2]"]
    assert m1.summary() == {"torch": {PASS: 1, FAIL: 0, NA: 1}, "keras": {PASS: 1, FAIL: 1, NA: 0}}
    assert [f.case for f in m1.failures] == ["K[a2]"]


def test_markdown_shows_marks_conventions_na_reasons_and_failures(tmp_path):
    md = markdown(merge(files(tmp_path)))
    assert "| `K[a1]` | 10 | 12 ✓† | 10 + 4 state ✓ |" in md
    assert "| `K[a2]` | 10 | n/a | 12 ✗ |" in md
    assert "- **K** in torch: two biases" in md
    assert "- torch: no such option (`K[a2]`)" in md
    assert "params: expected 10, got 12" in md


def test_text_table_fits_80_columns_and_json(tmp_path):
    m = merge(files(tmp_path))
    out = text(m)
    assert "keras 1.0: 1 pass, 1 fail, 0 n/a" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert json.loads(json.dumps(m.to_dict()))["schema_version"] == SCHEMA_VERSION


def test_report_command_merges_a_record_dir(tmp_path):
    files(tmp_path)
    out = tmp_path / "out" / "matrix.md"
    p = run_cli("report", "--record-dir", str(tmp_path), "--markdown", str(out), "--json", str(tmp_path / "m.json"))
    assert p.returncode == 1, p.stderr  # the keras record disagrees
    assert "| `K[a1]` |" in out.read_text()
    assert json.loads((tmp_path / "m.json").read_text())["summary"]["keras"][FAIL] == 1
    p = run_cli("report", str(tmp_path / "torch.json"), "--json", "-")
    assert p.returncode == 0 and json.loads(p.stdout)["targets"] == ["torch"]
    p = run_cli("report", str(tmp_path / "torch.json"), str(tmp_path / "keras.json"), "--exit-zero")
    assert p.returncode == 0 and "K[a2]" in p.stdout, p.stderr  # the same failure, shown, and exit 0


def _corrupt(tmp_path, edit):
    path = files(tmp_path)[1].path
    doc = json.loads(open(path).read())
    edit(doc)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


BAD = [
    ("not-json", lambda p: p.write_text("{"), "not a record file: not JSON (line 1, column 2"),
    ("not-a-record-file", lambda p: p.write_text('{"format": "something else"}'), "not a paramspec record file"),
    ("another-version", lambda p: p.write_text('{"format": "paramspec-records", "schema_version": 7}'),
     "has schema_version 7"),
]


@pytest.mark.parametrize("name, make, needle", BAD, ids=[b[0] for b in BAD])
def test_a_file_that_is_not_a_record_file(tmp_path, name, make, needle):
    bad = tmp_path / "x.json"
    make(bad)
    with pytest.raises(SpecError, match="x.json: " + needle.replace("(", r"\(").replace(")", r"\)")):
        read_records(bad)


EDITS = [
    ("a-bad-verdict", lambda d: d["records"][0].update(verdict="maybe"), "K[a1].verdict: 'maybe' is not one of"),
    ("a-count-that-is-a-string", lambda d: d["records"][1]["quantities"]["params"].update(got="12"),
     "K[a2].quantities.params.got: '12' is not of type"),
    ("a-case-recorded-twice", lambda d: d["records"].append(d["records"][0]), "K[a1]: recorded twice"),
    ("a-record-from-another-source", lambda d: d["records"][0]["source"].update(name="torch"),
     "K[a1]: its source 'torch' is not the file's ('keras')"),
    ("no-header", lambda d: d.pop("header"), "top level: 'header' is a required property"),
]


@pytest.mark.parametrize("name, edit, needle", EDITS, ids=[e[0] for e in EDITS])
def test_a_damaged_record_file_is_refused_in_one_line(tmp_path, name, edit, needle):
    path = _corrupt(tmp_path, edit)
    with pytest.raises(SpecError) as info:
        read_records(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_two_files_for_one_target_do_not_merge(tmp_path):
    a, _ = files(tmp_path)
    (tmp_path / "again").mkdir()
    b = read_records(write_records(tmp_path / "again" / "torch.json", a.source, a.records, DIGEST))
    with pytest.raises(SpecError, match="a second record file for torch"):
        merge([a, b])


def test_records_from_two_versions_of_the_spec_do_not_merge(tmp_path):
    a, b = files(tmp_path)
    b.header["spec"] = "fedcba9876543210"
    with pytest.raises(SpecError, match="compared with another version of the spec"):
        merge([a, b])


def test_a_bad_file_leaves_no_half_written_report(tmp_path):
    files(tmp_path)
    _corrupt(tmp_path, lambda d: d["records"][0].update(verdict="maybe"))
    out = tmp_path / "out"
    p = run_cli("report", "--record-dir", str(tmp_path), "--markdown", str(out / "m.md"), "--json", str(out / "m.json"))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not out.exists()


def measured(case, target, macs, got, expected, why=None, counter="xla", not_applicable=None, error=None):
    """A record with a compute part (synthetic: the format and the FLOPs matrix, not a count)."""
    r = rec(case, target, PASS, 10)
    r.compute = Compute(counter=counter, counter_name=f"{counter} counter", version="1.0", macs=macs,
                        convention=why, not_applicable=not_applicable,
                        error=(error or "it cannot") if not_applicable else None)
    r.compute.quantities = {"matmul": Quantity(None, expected, "2 * macs", 2 * macs,
                                               why if expected != 2 * macs else None),
                            "total": Quantity(None, None, None, 2 * macs)}
    if not not_applicable:
        r.compute.by_op = {"dot_general": got}
        r.compute.quantities["matmul"].got = r.compute.quantities["total"].got = got
    if r.compute.verdict == FAIL:
        r.verdict = FAIL
    return r


def flops_files(tmp_path):
    a = write_records(tmp_path / "torch.json", Source("framework", "torch", "torch 1.0", "torch"),
                      [measured("K[a1]", "torch", 50, 100, 100, counter="flop_counter"),
                       measured("K[a2]", "torch", 50, 90, 100, counter="flop_counter")], DIGEST)
    b = write_records(tmp_path / "keras.json", Source("framework", "keras", "keras 1.0", "keras"),
                      [measured("K[a1]", "keras", 50, 0, 0, why="the counter does not see this op"),
                       measured("K[a2]", "keras", 50, None, None, not_applicable="the framework fails")], DIGEST)
    return [read_records(a), read_records(b)]


def test_the_flops_matrix_shows_each_counter_its_conventions_and_never_a_silent_zero(tmp_path):
    m = merge(flops_files(tmp_path))
    md = markdown(m)
    assert "## FLOPs" in md
    assert "| `K[a1]` | 50 | 100 ✓ | 0 † (unseen) |" in md  # a zero by a recorded convention, said so
    assert "| `K[a2]` | 50 | ✗ | n/a |" not in md and "| `K[a2]` | 50 | 90 ✗ | n/a |" in md
    assert "- **K**, xla (keras): the counter does not see this op" in md
    assert "- keras: the framework fails (`K[a2]`)" in md
    assert m.summary("flops") == {"torch": {PASS: 1, FAIL: 1, NA: 0}, "keras": {PASS: 1, FAIL: 0, NA: 1}}
    # the parameter table is not the FLOPs table: a FLOPs disagreement leaves the count's ✓ alone
    assert m.summary() == {"torch": {PASS: 2, FAIL: 0, NA: 0}, "keras": {PASS: 2, FAIL: 0, NA: 0}}
    assert "| `K[a2]` | 10 | 10 ✓ | 10 ✓ |" in md
    assert [r.case for r in m.failures] == ["K[a2]"]  # but the run fails
    d = json.loads(json.dumps(m.to_dict()))
    assert d["flops_summary"]["torch"][FAIL] == 1 and d["rows"][0]["macs"] == 50
    assert d["rows"][0]["cells"]["keras"]["flops"]["mark"] == "✓†"
    out = text(m)
    assert "flop_counter counter (1.0): 1 pass, 1 fail, 0 n/a" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_a_record_without_a_measurement_has_no_flops_table(tmp_path):
    md = markdown(merge(files(tmp_path)))
    assert "## FLOPs" not in md


def trained(case, target, backward, expected, counter="flop_counter"):
    """A record with a training part (synthetic: the format, the training matrix and the page)."""
    from paramspec.training import Training

    r = rec(case, target, PASS, 10)
    r.training = Training(counter=counter, counter_name=f"{counter} counter", macs=50, weight_macs=50,
                          quantities={"backward": Quantity(backward, expected, "2 * backward_macs", 100)},
                          memory={"bytes": {"weights": 40, "total": 40}})
    if r.training.verdict == FAIL:
        r.verdict = FAIL
    return r


def test_the_training_matrix_shows_each_step_and_its_verdict(tmp_path):
    from paramspec.report.html import html

    a = write_records(tmp_path / "torch.json", Source("framework", "torch", "torch 1.0", "torch"),
                      [trained("K[a1]", "torch", 100, 100), trained("K[a2]", "torch", 90, 100)], DIGEST)
    m = merge([read_records(a)])
    assert m.trained and m.summary("training") == {"torch": {PASS: 1, FAIL: 1, NA: 0}}
    md = markdown(m)
    assert "## Training step" in md and "| `K[a1]` | 50 | 100 ✓ |" in md and "| `K[a2]` | 50 | 90 ✗ |" in md
    d = m.to_dict()
    assert d["training_summary"]["torch"][FAIL] == 1
    cell = d["rows"][1]["cells"]["torch"]["training"]
    assert cell["measured_backward"] == 90 and cell["expected_backward"] == 100 and cell["problems"]
    page = html(d, None)
    assert "training step" in page and "<span class=\"q\">step</span>90" in page
    assert [r.case for r in m.failures] == ["K[a2]"]


def test_a_folder_given_as_a_record_file_is_said_so(tmp_path):
    with pytest.raises(SpecError, match="is a folder: give the record files in it"):
        read_records(tmp_path)


def test_report_takes_a_folder_of_record_files(tmp_path):
    files(tmp_path)
    p = run_cli("report", str(tmp_path), "--json", "-")
    assert p.returncode == 1, p.stderr  # K[a2] fails in the synthetic files
    assert json.loads(p.stdout)["targets"] == ["torch", "keras"]
