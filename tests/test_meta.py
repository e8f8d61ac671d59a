"""The tests themselves: each asserts something, and none passes by returning early.

A test function must contain an ``assert``, a ``pytest.raises`` (or ``pytest.fail``), or a call
to an ``assert_*`` helper; and it may not ``return`` (a test that cannot run calls
``pytest.skip(reason)`` or is not generated, so the summary line tells the truth).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def collect_tests():
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield path.name, node


def own_nodes(fn: ast.FunctionDef):
    """The nodes of ``fn``'s own body, not of functions or lambdas defined inside it."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def asserts(fn: ast.FunctionDef) -> bool:
    for node in own_nodes(fn):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("raises", "fail") or name.startswith("assert_"):
                return True
    return False


ALL = list(collect_tests())


def test_there_are_tests_to_check():
    assert len(ALL) > 100


@pytest.mark.parametrize("file, fn", ALL, ids=[f"{f}::{n.name}" for f, n in ALL])
def test_every_test_asserts_and_never_returns_early(file, fn):
    assert asserts(fn), f"{file}::{fn.name} asserts nothing"
    returns = [n.lineno for n in own_nodes(fn) if isinstance(n, ast.Return)]
    assert not returns, f"{file}::{fn.name} returns at line {returns[0]}: skip with a reason instead"


def test_the_check_catches_both_faults():
    src = "def test_a():\n    x = 1\n\ndef test_b(fw):\n    if fw != 'torch':\n        return\n    assert fw\n"
    a, b = [n for n in ast.parse(src).body]
    assert not asserts(a)
    assert asserts(b) and any(isinstance(n, ast.Return) for n in own_nodes(b))
