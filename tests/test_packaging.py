"""The distribution: a framework-free core, no generic top-level import names, a license, and a
plain install (no extras) that answers `-f formula` and counts a file."""
import importlib.metadata
import re
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


def test_the_license_ships_with_the_distribution():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n\nCopyright (c) 2026 the paramspec authors\n")


def _plain_install_modules() -> set[str]:
    """The top-level import names a plain `pip install paramspec` (no extras) provides: the
    standard library, paramspec, and the modules of its declared dependencies and of theirs."""
    from packaging.requirements import Requirement

    def canon(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    modules_of: dict[str, set[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for d in dists:
            modules_of.setdefault(canon(d), set()).add(module)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    todo, seen = [Requirement(r) for r in deps], set()
    while todo:
        req = todo.pop()
        if canon(req.name) in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(canon(req.name))
        todo += [Requirement(r) for r in importlib.metadata.requires(req.name) or ()]
    return set(sys.stdlib_module_names) | {"paramspec"} | set().union(*(modules_of.get(d, set()) for d in seen))


# Run in a child where every installed module a plain install lacks is absent, as it would be
# there (numpy, torch and the rest are installed in the test envs, so a plain run would hide an
# import of one): `import numpy` fails, and importlib.util.find_spec("numpy") is None.
_NO_EXTRAS = """
import importlib.metadata, runpy, sys
allowed = set(sys.argv[1].split(","))
for name in set(importlib.metadata.packages_distributions()) - allowed - set(sys.modules):
    sys.modules[name] = None
sys.argv = ["paramspec", *sys.argv[2:]]
runpy.run_module("paramspec", run_name="__main__")
"""


@pytest.mark.parametrize("argv, shows", [
    (["count", "-f", "formula", "--spec", "{kind: LSTM, input_size: 300, hidden_size: 128}"], "219,648"),
    (["count", "docs/examples/metadata.json"], "1,181,184"),
], ids=["count -f formula", "count a shape list"])
def test_a_plain_install_without_extras_counts(argv, shows):
    allowed = ",".join(sorted(_plain_install_modules()))
    p = subprocess.run([sys.executable, "-c", _NO_EXTRAS, allowed, *argv], capture_output=True, text=True, cwd=ROOT,
                       env=subprocess_env())
    assert p.returncode == 0, p.stderr
    assert shows in p.stdout, p.stdout
