"""Bad input on the command line: one line on stderr, exit code 2, never a traceback.

These run before any framework is needed, so they run in the framework-free `spec` env.
"""
import json

import pytest

from conftest import run_cli

BAD = [
    # (argv, what the line must say)
    (["count", "--spec", "{kind: LSTMX, input_size: 3, hidden_size: 4}"], "unknown kind 'LSTMX' (did you mean LSTM?)"),
    (["count", "--spec", "{input_size: 3, hidden_size: 4}"], "missing 'kind'"),
    (["count", "--spec", "{kind: LSTM, input_size: 3, hiden_size: 4}"], "unknown variable 'hiden_size' (did you mean hidden_size?)"),
    (["count", "--spec", "{kind: LSTM, input_size: 3}"], "missing variable 'hidden_size'"),
    (["count", "--spec", "{kind: LSTM, input_size: 3, hidden_size: '4'}"], "hidden_size must be an integer >= 1, got \"4\""),
    (["count", "--spec", "{kind: LSTM, input_size: 3, hidden_size: 4.5}"], "hidden_size must be an integer >= 1, got 4.5"),
    (["count", "--spec", "{kind: LSTM, input_size: 3, hidden_size: 4, bias: 1}"], "bias must be true or false, got 1"),
    (["count", "--spec", "{kind: LSTM, input_size: -300, hidden_size: 128}"], "input_size must be an integer >= 1, got -300"),
    (["count", "--spec", "{kind: Conv2d, in_channels: 3, out_channels: 8, kernel_size: [3, 3, 3]}"],
     "kernel_size must be an integer or a list of 2 integers >= 1"),
    (["count", "--spec", "{kind: Conv2d, in_channels: 3, out_channels: 8, kernel_size: 3, groups: 2}"],
     "in_channels must be divisible by groups"),
    (["count", "--spec", "{kind: LSTM, input_size: [3"], "spec: malformed YAML at the end of the text"),
    (["count", "--spec", "{kind: LSTM, input_size: [3}"], "malformed YAML at column 28"),
    (["count", "--spec", "no-such-lstm.yaml"], "is neither (no such file)"),
    (["count", "-f", "pytorch", "--spec", "{kind: ReLU}"], "(did you mean torch?); known: torch"),
    (["count", "--spec", "{kind: lstm}"], "unknown kind 'lstm' (did you mean LSTM?)"),
    (["count", "--spec", "{model: ResNet}"], "unknown model family 'ResNet' (did you mean resnet?)"),
    (["count", "--sepc", "x"], "--sepc (did you mean --spec?)"),
    (["count", "-f", "formula", "--no-flops", "--flops", "--spec", "{kind: ReLU}"], "--no-flops measures nothing"),
    (["kinds", "lstm"], "unknown kind 'lstm' (did you mean LSTM?)"),
    (["count", "--spec", "{kind: LSTM, kind: GRU}"], "duplicate key 'kind'"),
    (["count", "--spec", "!!python/object/apply:os.system ['echo pwned']"], "malformed YAML"),
    (["count", "--spec", "[1, 2]"], "must be a mapping"),
    (["count", "--spec", json.dumps({"kind": "LSTM", "input_size": 300, "hidden_size": 128})[:-1]], "malformed YAML"),
    (["count", "--framework", "tf", "--spec", "{kind: ReLU}"], "unknown framework 'tf'"),
    (["count"], "give --spec"),
    (["count", "--bogus"], "unrecognized arguments: --bogus"),
    (["check", "--framework", "pytorch"], "unknown framework 'pytorch'"),
    (["check", "--kind", "Lienar"], "unknown kind 'Lienar' (did you mean Linear?)"),
    (["report", "/nonexistent/records.json"], "/nonexistent/records.json: does not exist"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["check", "--jobs", "0"], "argument --jobs/-j: must be 1 or more, got 0"),
    (["tools", "-j", "two"], "argument --jobs/-j: must be a whole number of processes, got 'two'"),
    (["audit", "spec/courses/ch4_models.yaml", "--jobs", "-1"], "argument --jobs/-j: must be 1 or more, got -1"),
]


@pytest.mark.parametrize("argv, needle", BAD, ids=[n[:40] for _, n in BAD])
def test_bad_input_is_one_line_and_exit_2(argv, needle):
    p = run_cli(*argv)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("paramspec: error: ")
    assert needle in lines[0], lines[0]
    assert "Traceback" not in p.stderr + p.stdout


def test_a_yaml_tag_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    p = run_cli("count", "--spec", f"!!python/object/apply:os.system ['touch {marker}']")
    assert p.returncode == 2 and not marker.exists()


def test_python_dash_m_and_the_console_script_agree():
    import shutil
    import subprocess

    exe = shutil.which("paramspec")
    p1 = run_cli("kinds")
    assert p1.returncode == 0 and "LSTM(input_size, hidden_size" in p1.stdout
    if exe:  # installed (tox): the console script is the same program
        p2 = subprocess.run([exe, "kinds"], capture_output=True, text=True)
        assert p2.stdout == p1.stdout


def test_validate_prints_a_summary():
    p = run_cli("validate")
    assert p.returncode == 0 and ": valid" in p.stdout
