"""The console examples of the README and of docs/reference/*.md: every ```console block holds
one command (``$ ...``) and its real output. ``python tests/readme_examples.py --write`` runs
each in a fresh process (with its target's environment) from the repository's root and writes
the output back; tests/test_readme.py runs each where its framework is installed and compares.

Version numbers are compared as ``<version>``: a framework's patch release changes them, not
what the command says.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from a checkout
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs" / "reference").glob("*.md"))]  # the pages whose examples are run
BLOCK = re.compile(r"```console\n\$ (?P<cmd>[^\n]*)\n(?P<out>.*?)```", re.S)
VERSION = re.compile(r"\d+\.\d+\.\d+(?:\+\w+)?")


@dataclass
class Example:
    command: str
    output: str
    page: str = "README.md"  # where it is shown, from the repository's root

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def targets(self) -> list[str]:
        """The targets the command needs (``-f``/``--framework``; torch for ``count --spec`` and
        for the Python one-liners, which import torch); none for a framework-free command."""
        argv = self.argv
        found = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-f", "--framework")]
        if found:
            return [t for t in found if t != "formula"]  # -f formula: the spec alone, framework-free
        if argv[0] == "python" or (argv[:2] == ["paramspec", "count"] and "--spec" in argv):
            return ["torch"]
        return []


def examples(text: str | None = None, page: str = "README.md") -> list[Example]:
    """The examples of one page (``text``), or of every page in :data:`PAGES`."""
    if text is None:
        return [e for p in PAGES for e in examples(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    return [Example(m.group("cmd"), m.group("out"), page) for m in BLOCK.finditer(text)]


def normalize(output: str) -> str:
    return VERSION.sub("<version>", output).rstrip() + "\n"


def run(example: Example, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run an example as a user would, in a fresh process, from the repository's root."""
    from paramspec.frameworks import target

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "80", **(env_extra or {})}
    for t in example.targets:
        env.update(target(t).env)
    argv = example.argv
    argv = [sys.executable, "-m", "paramspec", *argv[1:]] if argv[0] == "paramspec" else [sys.executable, *argv[1:]]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(ROOT))


def write() -> int:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        rel = str(page.relative_to(ROOT))
        for ex in examples(text, rel):
            p = run(ex, {"PYTHONPATH": str(ROOT)})
            out = (p.stdout + (p.stderr if p.returncode else "")).rstrip() + "\n"
            block = f"```console\n$ {ex.command}\n"
            text = text.replace(f"{block}{ex.output}```", f"{block}{out}```", 1)
            print(f"{rel}: {ex.command[:70]}: exit {p.returncode}")
        if text != page.read_text(encoding="utf-8"):
            page.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(write() if "--write" in sys.argv else print(__doc__))
