"""Documentation generated from the code and the spec.

A page (the README, ``docs/reference/*.md``) is written by hand around generated blocks::

    <!-- generated:conventions (python -m paramspec.docs) -->
    ...
    <!-- /generated:conventions -->

``python -m paramspec.docs`` rewrites every block from :data:`BLOCKS`; with ``--check`` (a test
runs it) it exits 1 when a page has drifted from what the code and the spec generate. A page
may hold any block; a block the page names that does not exist is an error.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from ..errors import SpecError
from ..render import spec_tables
from . import code_blocks

BLOCKS: dict[str, Callable[[], str]] = {**spec_tables.BLOCKS, **code_blocks.BLOCKS}
PAGES = ("README.md", "docs/reference/*.md")
_BLOCK = re.compile(r"(<!-- generated:([a-z0-9-]+) \(python -m paramspec.docs\) -->\n)(.*?)(<!-- /generated:\2 -->)", re.S)


def regenerate(text: str, where: str) -> str:
    """``text`` with every generated block rewritten."""
    def fill(m: re.Match) -> str:
        name = m.group(2)
        if name not in BLOCKS:
            raise SpecError(f"names an unknown generated block {name!r} (known: {', '.join(sorted(BLOCKS))})", where)
        return m.group(1) + "\n" + BLOCKS[name]().strip("\n") + "\n\n" + m.group(4)
    return _BLOCK.sub(fill, text)


def pages(root: Path) -> list[Path]:
    out: list[Path] = []
    for pattern in PAGES:
        out += sorted(root.glob(pattern))
    return out


def write_docs(root: Path | str, check: bool = False) -> list[str]:
    """Regenerate every generated block of every page under ``root``; return the pages that
    changed (with ``check``, that would change, writing nothing)."""
    root = Path(root)
    code_blocks.PAGES_ROOT = root  # the tools summary reads the committed report under it
    changed = []
    for path in pages(root):
        rel = str(path.relative_to(root))
        text = path.read_text(encoding="utf-8")
        new = regenerate(text, rel)
        if new != text:
            changed.append(rel)
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed
