"""Where the spec data and the adapters live, installed or in a source checkout.

Installed, they are the subpackages ``paramspec.spec`` (YAML package data) and
``paramspec.adapters``. In a source checkout they are the top-level ``spec/`` and
``adapters/`` folders beside ``paramspec/``; this module loads them from there under the
same names, so running from the checkout and running the installed package behave alike.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

_CHECKOUT = Path(__file__).resolve().parent.parent


def spec_root() -> Path:
    """The folder that holds ``frameworks.yaml``, ``layers/``, ``models/`` and ``courses/``.

    ``PARAMSPEC_SPEC_DIR`` names another spec folder (a spec under development, or a copy
    with a framework added: see CONTRIBUTING.md).
    """
    override = os.environ.get("PARAMSPEC_SPEC_DIR")
    if override:
        return Path(override)
    installed = Path(__file__).resolve().parent / "spec"
    if (installed / "frameworks.yaml").is_file():
        return installed
    return _CHECKOUT / "spec"


def adapters_package() -> ModuleType:
    """Import ``paramspec.adapters``, from the checkout's ``adapters/`` when not installed."""
    name = "paramspec.adapters"
    if name in sys.modules:
        return sys.modules[name]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
    folder = _CHECKOUT / "adapters"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:  # pragma: no cover - broken checkout
        raise ModuleNotFoundError(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_adapter_module(module: str) -> ModuleType:
    """Import ``paramspec.adapters.<module>``."""
    adapters_package()
    return importlib.import_module(f"paramspec.adapters.{module}")
