"""paramspec audit: the course format, exact difference fitting, and the bundled course's findings.

The framework-free part checks the machinery (fitting on known polynomials, arithmetic of
worked examples, bad course files). The framework part audits the bundled courses and
new course files in each active target, against the spec and the committed reports.
"""
import functools
import json
import random

import pytest

from conftest import ROOT, run_cli
from paramspec import audit as A
from paramspec import symbolic
from paramspec.loader import load_spec
from paramspec.frameworks import target

COURSES = sorted((ROOT / "spec" / "courses").glob("*.yaml"))
AUDITS = ROOT / "docs" / "audits"


# ----------------------------------------------------------------------------- machinery (no framework)
def test_fit_recovers_a_known_polynomial_exactly():
    rng = random.Random(1)
    points = [{"a": rng.randint(2, 40), "b": rng.randint(2, 40)} for _ in range(12)]
    values = [3 * p["a"] * p["b"] + 7 * p["b"] - 5 for p in points]
    expr = symbolic.fit(points, values, ["a", "b"], 2)
    assert symbolic.show(expr) in ("3*a*b + 7*b - 5", "b*(3*a + 7) - 5")
    assert symbolic.fit(points, values, ["a", "b"], 1) is None  # degree 1 cannot pass through them


@pytest.mark.parametrize("seed", range(40))
def test_integer_elimination_gives_what_elimination_over_fractions_gives(seed):
    """solve_exact (integers, gcd-reduced) against plain Gauss-Jordan over Fraction, on square,
    overdetermined, singular and inconsistent systems with fractional entries too."""
    from fractions import Fraction

    rng = random.Random(seed)
    n = rng.randint(1, 7)
    shape = rng.choice(["square", "over", "singular", "inconsistent"])
    rows = [[Fraction(rng.randint(-9, 9), rng.choice([1, 1, 2, 3])) for _ in range(n)] for _ in range(n)]
    x = [Fraction(rng.randint(-20, 20), rng.randint(1, 5)) for _ in range(n)]
    if shape == "singular" and n > 1:
        rows[-1] = [a + b for a, b in zip(rows[0], rows[1 % n])] if n > 2 else list(rows[0])
    if shape in ("over", "inconsistent"):
        rows += [[Fraction(rng.randint(-9, 9)) for _ in range(n)] for _ in range(3)]
    rhs = [sum(a * b for a, b in zip(r, x)) for r in rows]
    if shape == "inconsistent":
        rhs[-1] += 1
    got, want = symbolic.solve_exact(rows, rhs), symbolic._solve_fractions(rows, rhs)
    assert got == want
    if want is not None and shape in ("square", "over"):
        assert got == x


def test_a_difference_that_is_no_polynomial_is_said_to_be_so():
    course = A.Course("t", "t", "", "", [])
    entry = A.Entry("floor", A.parse("n"), "params", None, None, {"n": "n"}, {}, (), max_degree=2)
    d = A.fit_difference(entry, lambda p: p["n"] + p["n"] // 3, load_spec())
    assert d.verdict == "disagrees" and not d.polynomial and "not a polynomial of degree <= 2" in d.reason
    del course


def test_a_line_of_configs_rules_out_every_polynomial_before_the_large_fits():
    """Five variables, degree <= 3: the degree-3 fit alone takes 56 configs. A difference that
    alternates with a variable's parity has a nonzero 4th difference along any line, so the
    line (5 configs) says so before that fit is tried."""
    names = {v: v for v in "abcde"}
    entry = A.Entry("parity", A.parse("a * b"), "params", None, None, names, {}, (), max_degree=3)
    calls = []

    def measure(p):
        calls.append(dict(p))
        return p["a"] * p["b"] + p["c"] // 2

    d = A.fit_difference(entry, measure, load_spec())
    assert d.verdict == "disagrees" and not d.polynomial and "along a line of 5 configs" in d.reason
    assert d.points == len(calls) < 56  # every config measured is counted
    line = calls[-5:]
    steps = [{v: q[v] - p[v] for v in names} for p, q in zip(line, line[1:])]
    assert all(s == steps[0] for s in steps) and set(steps[0].values()) == {1}  # equally spaced, one step


def test_a_polynomial_difference_still_fits_and_holds_on_the_line():
    names = {v: v for v in "abcde"}
    entry = A.Entry("cubic", A.parse("a * b"), "params", None, None, names, {}, (), max_degree=3)
    calls = []

    def measure(p):
        calls.append(dict(p))
        return p["a"] * p["b"] + p["c"] * p["d"] * p["e"] - 2 * p["a"]

    d = A.fit_difference(entry, measure, load_spec())
    assert d.verdict == "disagrees" and d.polynomial and d.difference == "-2*a + c*d*e"
    assert d.points == len(calls) > 56 + 5  # the degree-3 fit, its checks, and the line


def test_worked_example_arithmetic_follows_the_text():
    course = A.load_course(ROOT / "spec" / "courses" / "ch4_models.yaml")
    lstm = next(e for e in course.entries if e.id == "lstm")
    rows = A.check_example(lstm, lstm.examples[0])
    inner, times4, final = rows
    assert (inner["claimed"], inner["formula_value"], inner["arithmetic_ok"]) == (54_656, 54_784, False)
    assert (times4["formula_value"], times4["arithmetic_ok"], times4["follows_from_the_text"]) == (219_136, False, True)
    assert final["formula_value"] == 219_136  # 4 x (300 + 128) x 128


def test_every_bundled_course_loads():
    assert {p.stem for p in COURSES} == {"ch4_models", "layer_formulas", "mini_transformer", "metadata"}
    for path in COURSES:
        assert A.load_course(path).entries


BAD = [
    ("entries:\n  - {id: x, kind: LSTM, variables: {}}\n", "top level: 'course' is a required property"),
    ("course: c\nentries:\n  - {id: x, kind: LSTMX, variables: {}}\n", "unknown kind 'LSTMX'"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, variables: {n: hiden_size}}\n", "'hiden_size' is not a variable of LSTM"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, formula: \"__import__('os')\", variables: {n: hidden_size}}\n",
     "x.formula: unknown function `__import__`"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, formula: n.real, variables: {n: hidden_size}}\n", ".real"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, formula: m * 2, variables: {n: hidden_size}}\n",
     "`m` is not one of the entry's variables"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, formula: n, variables: {n: hidden_size},"
     " examples: [{values: {}, claims: [{value: 1}]}]}\n", "x.examples[0]: no value for `n`"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, formula: n, variables: {n: hidden_size}}\n"
     "  - {id: x, kind: GRU, formula: n, variables: {n: hidden_size}}\n", "duplicate entry id 'x'"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, model: gpt2, variables: {}}\n", "x:"),
    ("course: c\nentries:\n  - {id: x, model: LSTM, variables: {}}\n", "layer kind: use kind"),
    ("course: c\nentries: [\n", "malformed YAML"),
    ("course: c\nentries:\n  - {id: x, kind: LSTM, formula: n, counts: weights, variables: {n: hidden_size}}\n", "counts"),
    ("course: c\nentries:\n  - {id: x, factory: 'm:f', framework: torch, formula: n, counts: flops,"
     " variables: {n: hidden_size}}\n", "counts flops: a forward pass needs a spec kind or model"),
]


@pytest.mark.parametrize("text, needle", BAD, ids=[n[:30] for _, n in BAD])
def test_a_malformed_course_file_is_one_line_and_exit_2(tmp_path, text, needle):
    path = tmp_path / "course.yaml"
    path.write_text(text)
    p = run_cli("audit", str(path), "--framework", "torch")
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paramspec: error: ") and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("path", COURSES, ids=lambda p: p.stem)
def test_drift_committed_reports_are_what_the_json_renders(path):
    """docs/audits/*.md is a pure function of docs/audits/*.json; the framework envs check the JSON."""
    report = json.loads((AUDITS / f"{path.stem}.json").read_text())
    assert (AUDITS / f"{path.stem}.md").read_text() == A.markdown(report)


@pytest.mark.parametrize("path", COURSES, ids=lambda p: p.stem)
def test_committed_reports_match_the_course_and_the_canonical_formula(path):
    report = json.loads((AUDITS / f"{path.stem}.json").read_text())
    course = A.load_course(path)
    fresh = A.audit(course, [], {})
    for got, want in zip(fresh["entries"], report["entries"], strict=True):
        assert got["id"] == want["id"] and got["formula"] == want["formula"]
        assert got.get("canonical") == want.get("canonical"), got["id"]
        assert [[c for c in ex["claims"]] for ex in got["examples"]] == \
            [[c for c in ex["claims"]] for ex in want["examples"]], got["id"]


# ----------------------------------------------------------------------------- in each framework
@functools.lru_cache(maxsize=None)
def _part(course_path, target):
    """One target's audit of a bundled course, once per session (several tests read it)."""
    return A.audit_target(A.load_course(course_path), target)


@pytest.mark.framework
@pytest.mark.parametrize("path", COURSES, ids=lambda p: p.stem)
def test_drift_committed_audits_are_what_each_target_reads_now(target_name, path):
    """Regenerate this target's part of each bundled course's audit; it must equal docs/audits/."""
    report = json.loads((AUDITS / f"{path.stem}.json").read_text())
    assert target_name in report["targets"], f"docs/audits/{path.stem}.json has no {target_name} column"
    part = _part(path, target_name)
    for e in report["entries"]:
        got = {k: v for k, v in part[e["id"]].items() if k not in ("framework_version", "example_readings")}
        want = {k: v for k, v in e["frameworks"][target_name].items() if k != "framework_version"}
        assert got == want, (e["id"], got, want)
        assert part[e["id"]]["example_readings"] == [ex["readings"].get(target_name) for ex in e["examples"]
                                                     if ex["claimed"] is not None] or not e["examples"]


@pytest.mark.framework
def test_the_issue_findings(target_name):
    fw = target(target_name).framework
    part = _part(ROOT / "spec" / "courses" / "ch4_models.yaml", target_name)
    assert part["lstm"]["difference"] == ("8*n_hidden" if fw == "torch" else "4*n_hidden")
    assert part["worked-example"]["example_readings"] == [3_221_450 if fw == "torch" else 3_220_938]
    assert part["embedding"]["example_readings"] == [3_000_000]  # not 30,000,000
    mini = _part(ROOT / "spec" / "courses" / "mini_transformer.yaml", target_name)
    assert mini["compare_configs-estimate"]["example_readings"][-1] == 26_432
    # the chapter's conv FLOPs formula: every tap, no bias
    flops = part["conv2d-flops"]
    counter = target(target_name).counter
    if counter == "flop_counter":  # 2 x MACs of matmul-like ops only: exactly the formula
        assert flops["verdict"] == "agrees"
    elif counter == "tf_profiler":  # every tap, plus one flop per bias element (BiasAdd)
        assert flops["difference"] == "C_out*H_out*W_out" and "BiasAdd" in flops["reason"]
    else:  # XLA: padded taps skipped, bias adds counted: no polynomial in the kernel size
        assert flops["verdict"] == "disagrees" and not flops["polynomial"] and "padding" in flops["reason"]


COMPUTE_COURSE = """
course: compute claims
entries:
  - {id: dense-macs, kind: Linear, formula: N * i * o, counts: macs, variables: {N: batch, i: in_features, o: out_features}}
  - {id: dense-flops, kind: Linear, formula: 2 * N * i * o, counts: flops, variables: {N: batch, i: in_features, o: out_features}}
  - {id: dense-xla, kind: Linear, formula: 2 * N * i * o, counts: "native:xla", variables: {N: batch, i: in_features, o: out_features}}
  - {id: lstm-macs, kind: LSTM, formula: 4 * T * (i + h) * h, counts: macs, variables: {T: seq_len, i: input_size, h: hidden_size}}
"""


@pytest.mark.framework
def test_a_course_can_claim_macs_and_flops_with_input_sizes_among_its_variables(target_name, tmp_path):
    path = tmp_path / "compute.yaml"
    path.write_text(COMPUTE_COURSE)
    part = A.audit_target(A.load_course(path), target_name)
    counter = target(target_name).counter
    assert part["dense-macs"]["verdict"] == "agrees"  # every counter reads a dense layer's matmul as 2 x MACs
    if counter == "flop_counter":
        assert part["dense-flops"]["verdict"] == "agrees"
    else:  # XLA and TF's profiler add one flop per bias element
        assert part["dense-flops"]["difference"] == "N*o"
    if counter == "xla":
        assert part["dense-xla"]["difference"] == "N*o"
    else:
        assert part["dense-xla"]["verdict"] == "n/a" and f"measures with {counter}" in part["dense-xla"]["reason"]
    if counter == "flop_counter":  # on the meta device: every time step
        assert part["lstm-macs"]["verdict"] == "agrees"
    else:  # a loop body read once: the formula counts T - 1 steps too many
        diff = A.parse(part["lstm-macs"]["difference"])
        for p in ({"T": 3, "i": 2, "h": 5}, {"T": 7, "i": 11, "h": 4}):
            assert diff.evaluate_int(p) == -(p["T"] - 1) * 4 * (p["i"] + p["h"]) * p["h"], part["lstm-macs"]


NEW_COURSE = """
course: wrong formulas for other kinds
entries:
  - {id: gru, kind: GRU, formula: 3 * (i + h) * h, variables: {i: input_size, h: hidden_size}}
  - {id: conv-no-bias, kind: Conv2d, formula: o * c * k * k, variables: {o: out_channels, c: in_channels, k: kernel_size}}
  - {id: bn-total, kind: BatchNorm2d, formula: 2 * n, counts: total, variables: {n: num_features}}
  - {id: mha, kind: MultiheadAttention, formula: 3 * e * e, variables: {e: embed_dim}, fixed: {num_heads: 1}}
  - {id: rmsnorm-ok, kind: RMSNorm, formula: d, variables: {d: normalized_shape}}
"""


@pytest.mark.framework
def test_a_new_course_with_wrong_formulas_needs_no_code_change(target_name, tmp_path):
    """Each difference the audit fits must equal (the spec's formula for this framework) -
    (the author's formula) on configs drawn here, which the audit never saw."""
    path = tmp_path / "new.yaml"
    path.write_text(NEW_COURSE)
    course = A.load_course(path)
    part = A.audit_target(course, target_name)
    spec = load_spec()
    fw = target(target_name).framework
    rng = random.Random(7)
    for entry in course.entries:
        res = part[entry.id]
        kind = spec.kinds[entry.kind]
        assert res["verdict"] in ("agrees", "disagrees"), (entry.id, res)
        assert res["difference"], (entry.id, res)
        expr = A.parse(res["difference"])  # the audit prints its differences in the formula language
        for _ in range(3):
            values = {a: rng.randint(2, 30) for a in entry.variables}
            cfg = kind.apply_preset(A.spec_values(entry, values))
            exp = kind.expected(fw, kind.resolve(cfg))
            want = {"params": exp.params, "total": exp.params + exp.state}[entry.counts] - entry.formula.evaluate_int(values)
            assert expr.evaluate_int(values) == want, (entry.id, res["difference"])
    assert part["rmsnorm-ok"]["verdict"] == "agrees"


@pytest.mark.framework
def test_a_factory_entry_checks_your_own_layer(target_name, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("course: mine\nentries:\n"
                    "  - {id: gates, factory: 'factories:torch_peephole_free_lstm', framework: torch, formula: '4 * (i + h) * h',"
                    " variables: {i: input_size, h: hidden_size}}\n")
    part = A.audit_target(A.load_course(path), target_name)
    if target(target_name).framework == "torch":
        assert part["gates"]["verdict"] == "disagrees" and part["gates"]["difference"] == "4*h"
        assert "x.bias" in part["gates"]["reason"]
    else:
        assert part["gates"]["verdict"] == "n/a" and "builds a torch object" in part["gates"]["reason"]


TRAINING_COURSE = """
course: training claims (seed 002 defines FLOPs for "one forward or backward pass")
entries:
  - {id: dense-backward, kind: Linear, formula: 2 * N * i * o, counts: backward_flops, variables: {N: batch, i: in_features, o: out_features}}
  - {id: dense-backward-doubled, kind: Linear, formula: 4 * N * i * o, counts: backward_flops, variables: {N: batch, i: in_features, o: out_features}}
  - {id: dense-gradients, kind: Linear, formula: 4 * (i * o + o), counts: gradients_bytes, variables: {i: in_features, o: out_features}}
"""


@pytest.mark.framework
def test_a_course_can_claim_a_backward_pass_and_training_memory(target_name, tmp_path):
    """A dense layer's backward with its input needing no gradient is its weight gradient: 2 x
    batch x in x out flops in every counter. The author who counts the input's gradient too
    (the "backward is twice the forward" rule) is off by that much, and the audit says so."""
    path = tmp_path / "training.yaml"
    path.write_text(TRAINING_COURSE)
    part = A.audit_target(A.load_course(path), target_name)
    assert part["dense-backward"]["verdict"] == "agrees", part["dense-backward"]
    assert part["dense-gradients"]["verdict"] == "agrees", part["dense-gradients"]
    assert part["dense-backward-doubled"]["verdict"] == "disagrees"
    diff = A.parse(part["dense-backward-doubled"]["difference"])
    for p in ({"N": 3, "i": 5, "o": 7}, {"N": 2, "i": 11, "o": 4}):
        assert diff.evaluate_int(p) == -2 * p["N"] * p["i"] * p["o"], part["dense-backward-doubled"]
