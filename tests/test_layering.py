"""The layering, read from the source: spec/ (data) -> paramspec/ (core) -> adapters/.

- the core imports no framework at module level, and no adapter module at all (it loads an
  adapter by name, through ``paramspec._layout``);
- an adapter imports its own framework and the core, never another framework's adapter;
- no import cycle among the modules, counting imports inside functions too (a cycle hidden
  in a function is still a cycle).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORK_PACKAGES = {"torch", "tensorflow", "keras", "jax", "jaxlib", "flax", "transformers"}


def module_name(path: Path) -> str:
    if path.is_relative_to(ROOT / "adapters"):
        parts = ("paramspec", "adapters", *path.relative_to(ROOT / "adapters").with_suffix("").parts)
    else:
        parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def modules() -> dict[str, Path]:
    files = list((ROOT / "paramspec").rglob("*.py")) + list((ROOT / "adapters").rglob("*.py"))
    return {module_name(p): p for p in files}


def imports(path: Path, name: str) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for each import in the file, resolved to absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    top |= {id(x) for n in tree.body if isinstance(n, (ast.If, ast.Try)) for x in ast.walk(n)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, id(node) in top))
            out += [(f"{mod}.{a.name}", id(node) in top) for a in node.names]  # `from pkg import module`
    return out


MODULES = modules()


def graph(include_functions: bool) -> dict[str, set[str]]:
    g: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for mod, at_top in imports(path, name):
            if not at_top and not include_functions:
                continue
            # importing a.b.c runs a/__init__ and a/b/__init__ too, except the packages this
            # module is itself inside (they are already importing when it runs)
            parts = mod.split(".")
            mine = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
            deps |= ({".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(MODULES)) - mine
        g[name] = deps - {name}
    return g


def test_the_graph_is_read():
    assert "paramspec.run" in MODULES and "paramspec.adapters.torch_adapter" in MODULES
    assert "paramspec.compare" in graph(False)["paramspec.run"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("paramspec.adapters")))
def test_the_core_imports_no_framework_and_no_adapter(name):
    for mod, at_top in imports(MODULES[name], name):
        root = mod.split(".")[0]
        assert not (at_top and root in FRAMEWORK_PACKAGES), f"{name} imports {mod} at module level"
        assert mod != "paramspec.adapters" and not mod.startswith("paramspec.adapters."), \
            f"{name} imports {mod}: load adapters by name"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("paramspec.adapters.")))
def test_an_adapter_imports_no_other_adapter(name):
    """A framework's adapter and model modules import their own framework's modules and shared
    helpers (base, architectures, jax_cost, tf_cost, ...), never another framework's adapter."""
    own = name.rsplit(".", 1)[1].split("_")[0]  # torch, keras, flax
    for mod, _ in imports(MODULES[name], name):
        if mod.startswith("paramspec.adapters.") and mod.count(".") == 2:
            other = mod.rsplit(".", 1)[1]
            framework_module = other.endswith(("_adapter", "_models"))
            assert not framework_module or other.startswith(own), f"{name} imports {mod}"


def test_no_import_cycles_even_inside_functions():
    g = graph(include_functions=True)
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(g[n]):
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
