"""The distribution: a framework-free core, and no generic top-level import names."""
import importlib.metadata
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from conftest import from_checkout, subprocess_env

ROOT = Path(__file__).resolve().parent.parent


def test_the_core_imports_no_framework():
    """Every module of the core, imported, and the spec loaded: no framework comes with them."""
    code = ("import sys, pkgutil, importlib, paramspec; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(paramspec.__path__, 'paramspec.') "
            "if m.name.split('.')[1] not in ('adapters', 'spec', 'pytest_plugin', '__main__') and not m.name.endswith('__main__')]; "
            "paramspec.load_spec(); "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'jax', 'flax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir(),
                         env=subprocess_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_pyproject_ships_everything_under_the_paramspec_namespace():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert all(p == "paramspec" or p.startswith("paramspec.") for p in cfg["packages"])
    subpackages = {"paramspec." + ".".join(p.parent.relative_to(ROOT / "paramspec").parts)
                   for p in (ROOT / "paramspec").rglob("__init__.py") if p.parent != ROOT / "paramspec"}
    assert subpackages <= set(cfg["packages"]), "a subpackage of paramspec/ is not listed in pyproject.toml"
    assert cfg["package-dir"] == {"paramspec": "paramspec", "paramspec.adapters": "adapters", "paramspec.spec": "spec"}


def test_the_installed_distribution_adds_only_paramspec():
    """Under tox the package is installed from its wheel; in a bare checkout it is not."""
    if from_checkout():
        pytest.skip("paramspec runs from the checkout: no wheel is installed to inspect (tox installs one)")
    import paramspec

    # the dist-info beside the imported package (a build leaves paramspec.egg-info in the
    # checkout, which importlib.metadata would find first from the checkout's folder)
    site = str(Path(paramspec.__file__).resolve().parent.parent)
    dist = next(importlib.metadata.distributions(name="paramspec", path=[site]))
    tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
    assert tops == {"paramspec", f"paramspec-{dist.version}.dist-info"}, tops
    files = {str(f) for f in dist.files}
    assert "paramspec/spec/layers/recurrent.yaml" in files
    assert "paramspec/adapters/torch_adapter.py" in files


def test_the_pytest_plugin_is_an_entry_point():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cfg["entry-points"]["pytest11"] == {"paramspec": "paramspec.pytest_plugin"}
    if from_checkout():
        pytest.skip("paramspec runs from the checkout: no entry point is registered (tox installs the wheel)")
    eps = importlib.metadata.entry_points(group="pytest11")
    assert any(ep.name == "paramspec" and ep.value == "paramspec.pytest_plugin" for ep in eps)
