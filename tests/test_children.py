"""The child protocol (paramspec/cli/children.py): a child writes its result, the parent reads
results only, and how a child ends decides the parent's exit code, never its words.

The children here run a throwaway framework (the toy of test_contributing.py) whose adapter
breaks on demand: an internal error in a child is an internal error of the command (exit 4),
a child's bad input is bad input (exit 2), and neither is ever a verdict.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli, subprocess_env
from test_contributing import ADAPTER, toy  # noqa: F401 - the fixture

BREAKING = ADAPTER + '''
import os
from paramspec.errors import SpecError


class BreakingAdapter(ToyAdapter):
    def version(self):
        if os.environ.get("TOY_BREAKS") == "internal":
            raise RuntimeError("the toy adapter broke")  # outside what run_case turns into a failed case
        return super().version()

    def build(self, kind, values, inputs=None, **kwargs):
        how = os.environ.get("TOY_BREAKS")
        if how == "exit":
            raise SystemExit(7)  # the process ends, as on a crash
        if how == "bad input":  # as a framework refuses a size it cannot hold (Adapter.beyond_limit)
            raise SpecError("the toy adapter refuses this config", "toy")
        return super().build(kind, values, inputs, **kwargs)


ADAPTER_CLASS = BreakingAdapter
'''


@pytest.fixture
def breaking(toy, tmp_path):  # noqa: F811
    (tmp_path / "toyfw" / "adapter.py").write_text(BREAKING)
    return toy


def check(env, tmp_path, breaks=None):
    return run_cli("check", "-f", "toy", "--kind", "Linear", "--record-dir", str(tmp_path / "rec"),
                   env={**env, **({"TOY_BREAKS": breaks} if breaks else {})})


def test_a_child_that_writes_its_records_is_summed_up_from_them(breaking, tmp_path):
    p = check(breaking, tmp_path)
    assert p.returncode == 0, p.stderr
    records = json.loads((tmp_path / "rec" / "toy.json").read_text())
    n = len(records["records"])
    assert f"toy         toy 0.0.1: {n} cases, {n} pass, 0 fail, 0 n/a" in p.stderr
    assert records["header"]["seconds"] >= 0


@pytest.mark.parametrize("breaks, ended", [("internal", "exited 4: paramspec: internal error (a bug in paramspec"),
                                           ("exit", "exited 7: (no output)")])
def test_a_crashed_child_is_an_internal_error_not_bad_input(breaking, tmp_path, breaks, ended):
    p = check(breaking, tmp_path, breaks)
    assert p.returncode == 4, p.stderr
    line, = p.stderr.strip().splitlines()
    assert line.startswith(f"paramspec: internal error: the toy check child {ended}"), line
    assert "Traceback" not in line and not (tmp_path / "rec" / "toy.json").exists()


def test_a_child_that_refuses_its_input_is_bad_input(breaking, tmp_path):
    p = check(breaking, tmp_path, "bad input")
    assert p.returncode == 2, p.stderr
    line, = p.stderr.strip().splitlines()
    assert line == "paramspec: error: toy (check): toy: the toy adapter refuses this config"


@pytest.mark.parametrize("job", ["not json", '{"job": "nope", "target": "torch", "out": "x"}', '{"job": "check"}'])
def test_a_child_given_no_job_says_so_in_one_line(job, tmp_path):
    p = subprocess.run([sys.executable, "-m", "paramspec.cli.children", job], capture_output=True, text=True,
                       env=subprocess_env(), cwd=str(tmp_path))
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "a child takes one JSON job" in p.stderr, p.stderr
    assert not list(tmp_path.iterdir())
