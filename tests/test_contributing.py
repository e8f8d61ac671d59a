"""CONTRIBUTING.md's recipe for a sixth framework, followed with a throwaway one.

The throwaway framework ("toy") needs no package: its "modules" are dicts of shapes. Its
adapter lives outside this repository (a dotted module path), its entry is added to a copy
of the spec, and PARAMSPEC_SPEC_DIR points at the copy. Then, with no other change: the
CLI takes it, `check` runs it and the report has its column, the pytest parametrization
runs the conformance tests in it, and the tox check says which env is missing.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, subprocess_env

ADAPTER = '''
"""A throwaway framework for tests: a Linear "module" is a dict of shapes."""
from paramspec.adapters.base import Adapter, Built
from paramspec.errors import NotApplicable
from paramspec.reading import Reading, Tensor


class ToyLinear(dict):
    """The toy framework's module: its tensors' shapes, by name."""


class ToyAdapter(Adapter):
    framework = "toy"

    def version(self):
        return "toy 0.0.1"

    @classmethod
    def owns(cls, obj):
        return cls.targets()[0] if isinstance(obj, ToyLinear) else None

    def describe(self, built):
        return "ToyLinear(" + ", ".join(f"{k}={v}" for k, v in built.module.items()) + ")"

    def read(self, built, native=True):
        tensors = [Tensor(name, shape, "float32", True) for name, shape in built.module.items()]
        totals = {"total()": sum(t.numel for t in tensors)} if native else {}
        return Reading(self.source(), self.describe(built), tensors, totals)

    def build_Linear(self, v, x):
        module = ToyLinear(w=(v.out_features, v.in_features))
        if v.bias:
            module["b"] = (v.out_features,)
        return Built(module)


ADAPTER_CLASS = ToyAdapter
'''

ENTRY = '''
  - id: toy
    name: Toy
    adapter: toyfw.adapter
    targets:
      - {name: toy, needs: []}
    tensors: "the dict's entries"
    native:
      - name: total()
        api: "sum of the dict's shapes"
        formula: params
'''


def linear_cases() -> int:
    from paramspec.loader import load_spec

    return len(load_spec().kinds["Linear"].cases)


@pytest.fixture
def toy(tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", spec)
    with open(spec / "frameworks.yaml", "a") as f:
        f.write(ENTRY)
    (tmp_path / "toyfw").mkdir()
    (tmp_path / "toyfw" / "__init__.py").write_text("")
    (tmp_path / "toyfw" / "adapter.py").write_text(ADAPTER)
    env = {"PARAMSPEC_SPEC_DIR": str(spec)}
    env["PYTHONPATH"] = str(tmp_path) + (":" + subprocess_env()["PYTHONPATH"] if "PYTHONPATH" in subprocess_env() else "")
    return env


def test_the_cli_counts_in_the_new_framework(toy):
    p = run_cli("count", "-f", "toy", "--spec", "{kind: Linear, in_features: 128, out_features: 10}", "--json", "-",
                env=toy)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["quantities"]["params"]["got"] == 1290 and d["quantities"]["native:total()"]["got"] == 1290
    p = run_cli("count", "-f", "nope", "--spec", "{kind: ReLU}", env=toy)
    assert p.returncode == 2 and "toy" in p.stderr  # listed among the known targets


def test_check_runs_it_and_the_report_has_its_column(toy, tmp_path):
    p = run_cli("check", "-f", "toy", "--kind", "Linear", "--record-dir", str(tmp_path / "rec"), "--json", "-",
                env=toy)
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    assert m["targets"] == ["toy"] and m["summary"]["toy"] == {"pass": linear_cases(), "fail": 0, "n/a": 0}


def test_the_test_suite_parametrizes_it(toy):
    env = {**subprocess_env(toy), "PARAMSPEC_FRAMEWORKS": "toy"}
    env.pop("PARAMSPEC_RECORD_DIR", None)  # the toy's records must not land beside the real ones (tox sets it)
    p = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_conformance.py"), "-q",
                        "-p", "no:cacheprovider", "-k", "Linear and toy"], capture_output=True, text=True, env=env,
                       cwd=str(ROOT))
    assert p.returncode == 0, p.stdout[-2000:]
    assert f"{linear_cases()} passed" in p.stdout, p.stdout[-500:]  # every Linear case


def test_its_adapter_owns_its_objects_for_the_python_api(toy):
    """``assert_param_count`` reads a toy object through the toy adapter's ``owns``: nothing in
    paramspec names the new framework."""
    code = ("from toyfw.adapter import ToyLinear\n"
            "from paramspec.objects import target_of\n"
            "from paramspec.testing import assert_param_count\n"
            "r = assert_param_count(ToyLinear(w=(10, 128), b=(10,)), 'o * (i + 1)', o=10, i=128)\n"
            "print(target_of(ToyLinear()), r.source.name, r.params, r.built)\n"
            "try:\n"
            "    target_of({'w': (10, 128)})\n"
            "except Exception as e:\n"
            "    print(f'{type(e).__name__}: {e}')\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(toy),
                       cwd=str(Path(toy["PARAMSPEC_SPEC_DIR"]).parent))
    assert p.returncode == 0, p.stderr
    owned, refused = p.stdout.splitlines()
    assert owned == "toy toy 1290 ToyLinear(w=(10, 128), b=(10,))"
    assert refused.startswith("SpecError: cannot read a builtins.dict: no adapter") and "Toy" in refused


def test_the_tox_check_asks_for_its_env(toy):
    from test_tox import tox_mismatches

    from paramspec.frameworks import targets

    found = tox_mismatches((ROOT / "tox.ini").read_text(), targets(Path(toy["PARAMSPEC_SPEC_DIR"])))
    assert found == ["no tox env runs `pytest -m framework` for target toy"]
