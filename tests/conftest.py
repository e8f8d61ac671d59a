"""Shared fixtures, the case x target parametrization, and the record files.

Which targets a run tests (the list itself is ``spec/frameworks.yaml``):
- ``PARAMSPEC_FRAMEWORKS`` (comma-separated; empty means none) when set: each tox env sets
  it, and a target it names that is not installed is an error, not a skip;
- otherwise every installed target this process can run (Keras only on the backend
  ``KERAS_BACKEND`` selects).

A test that asks for ``target_name`` runs once per active target. ``@pytest.mark.only("torch")``
limits it to the targets of those frameworks: where none is active, pytest reports it as
skipped (an empty parameter set), never as passed.

With ``PARAMSPEC_RECORD_DIR`` set, the conformance results are written there as one record
file per target, which the ``report`` tox env merges.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import paramspec.frameworks as frameworks_module
from paramspec.frameworks import adapter, runnable_here, target, targets
from paramspec.loader import load_spec
from paramspec.report.records import write_records

ROOT = Path(__file__).resolve().parent.parent


def active_targets() -> list[str]:
    raw = os.environ.get("PARAMSPEC_FRAMEWORKS")
    if raw is not None:
        names = [t.strip() for t in raw.split(",") if t.strip()]
        for t in names:
            if t not in targets():
                raise pytest.UsageError(f"PARAMSPEC_FRAMEWORKS names unknown target {t!r}")
            if not target(t).installed():
                raise pytest.UsageError(f"PARAMSPEC_FRAMEWORKS names {t!r}, which is not installed")
        return names
    return [t for t in targets() if runnable_here(t)]


TARGET_NAMES = active_targets()
# Keras runs on JAX in this process (the keras-jax target's run), where TensorFlow may be installed beside it
KERAS_ON_JAX = "keras-jax" in TARGET_NAMES and os.environ.get("KERAS_BACKEND") == target("keras-jax").env["KERAS_BACKEND"]


@pytest.fixture(autouse=True)
def _no_tensorflow_under_keras_on_jax():
    """Where Keras runs on JAX, no test imports TensorFlow, which the keras-flax env installs
    beside JAX: a count on the JAX backend must not pay its import (2-3 s) nor hold its memory,
    and Keras's serializer would import it (adapters/keras_adapter.py: ``without_tensorflow``).
    A test process is a fresh process, as a user's is, so every build, count and measurement of
    the keras-jax run is held to it; the test that imports it fails in its teardown."""
    before = "tensorflow" in sys.modules
    yield
    if KERAS_ON_JAX and not before and "tensorflow" in sys.modules:
        pytest.fail("this test imported TensorFlow where Keras runs on JAX", pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    """Installed, the pytest11 entry point registers the plugin; in a bare checkout, do it here."""
    if not config.pluginmanager.has_plugin("paramspec"):
        import paramspec.pytest_plugin as plugin

        config.pluginmanager.register(plugin, "paramspec")


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process collects garbage as the command line does (``batch_collector``): what
    collection imported is frozen, and each framework once imported (``FREEZE_AFTER_IMPORT``)."""
    frameworks_module.FREEZE_AFTER_IMPORT = True
    frameworks_module.batch_collector()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser and tools tests first (each is long: a browser, or tools' processes): under
    pytest-xdist's work stealing a long test started last is a tail that one core runs alone."""
    items.sort(key=lambda item: not (item.get_closest_marker("browser") or item.get_closest_marker("tools")))


_RECORDS: dict[str, list] = {}


def _targets_for(metafunc: pytest.Metafunc) -> list[str]:
    only = metafunc.definition.get_closest_marker("only")
    if only is None:
        return TARGET_NAMES
    return [t for t in TARGET_NAMES if target(t).framework in only.args or t in only.args]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = _targets_for(metafunc)
    if "case" in metafunc.fixturenames and "target_name" in metafunc.fixturenames:
        params = [pytest.param(c, t, id=f"{c.id}-{t}") for c in load_spec().cases() for t in names]
        metafunc.parametrize(("case", "target_name"), params)
    elif "target_name" in metafunc.fixturenames:
        metafunc.parametrize("target_name", names)


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture
def adapter_for():
    return adapter


@pytest.fixture(scope="session")
def record():
    """Call with a Record to have it written to the target's record file."""
    def add(rec) -> None:
        _RECORDS.setdefault(rec.target, []).append(rec)
    return add


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller (or a plain run) removes parts an interrupted run left behind."""
    out = os.environ.get("PARAMSPEC_RECORD_DIR")
    if out and not hasattr(session.config, "workerinput"):
        for path in Path(out).glob("*.part"):
            path.unlink()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write each target's record file. Under pytest-xdist (the JAX envs run ``-n 2``) each
    worker writes its part, and the controller, which finishes last, joins the parts into the
    one record file per target, in the spec's case order."""
    out = os.environ.get("PARAMSPEC_RECORD_DIR")
    if not out:
        return
    worker = getattr(session.config, "workerinput", {}).get("workerid")
    if worker is not None:
        for name, records in _RECORDS.items():
            write_records(Path(out) / f"{name}.{worker}.part", records[0].source, records)
        return
    from paramspec.report.records import read_records

    parts: dict[str, list] = {}
    for path in sorted(Path(out).glob("*.part")):
        parts.setdefault(path.name.split(".")[0], []).append(path)
    order = {c.id: i for i, c in enumerate(load_spec().cases())}
    for name in set(_RECORDS) | set(parts):
        records = list(_RECORDS.get(name, []))
        for path in parts.get(name, []):
            records += read_records(path).records
        records.sort(key=lambda r: order.get(r.case, len(order)))
        write_records(Path(out) / f"{name}.json", records[0].source, records)
        for path in parts.get(name, []):
            path.unlink()


@pytest.fixture
def cli(capsys):
    """Run the CLI in this process (``paramspec.cli.main``): exit code, stdout, stderr.

    The framework envs use it: the process boundary is tested once, framework-free, in the
    spec env (``run_cli``), and each new process would import the framework again.
    """
    from paramspec.cli import main

    def run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)
    return run


def run_cli(*args: str, env: dict | None = None, timeout: float = 600, cwd: Path | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m paramspec`` as a user would, from a folder outside the checkout.

    Under tox the installed package runs; in a bare checkout the checkout is put on the path.
    """
    return subprocess.run([sys.executable, "-m", "paramspec", *args], capture_output=True, text=True,
                          env=subprocess_env(env), timeout=timeout, cwd=str(cwd or tempfile.gettempdir()),
                          input=stdin)


def from_checkout() -> bool:
    """Whether paramspec runs from this checkout (not installed), as in a bare dev setup."""
    import paramspec

    # the checkout's own paramspec/: an installed copy under ROOT/.tox/ (tox's envs) is not the checkout
    return Path(paramspec.__file__).resolve().parent == (ROOT / "paramspec").resolve()


def subprocess_env(extra: dict | None = None) -> dict:
    """The environment for a child Python: the checkout on its path when not installed."""
    env = {**os.environ, **(extra or {})}
    if from_checkout():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
