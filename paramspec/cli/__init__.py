"""The ``paramspec`` command line (``python -m paramspec`` is the same program).

Commands: ``count`` (:mod:`.count`), ``check`` and ``report`` (:mod:`.check`), ``audit``
(:mod:`.audit`), ``tools`` (:mod:`.tools`), ``kinds``, ``conventions`` and ``validate`` (:mod:`.spec`).

Exit codes: 0 success, 1 a disagreement (or, for audit, a finding), 2 bad input (one line
on stderr, never a traceback), 3 n/a (the framework lacks the layer or option), 4 an internal
error (an exception paramspec did not expect: a bug, reported in one line).
"""
from __future__ import annotations

import argparse
from typing import Sequence

from ..errors import SpecError
from .. import frameworks as frameworks_module
from . import audit, check, count, spec, tools
from .guard import PROG, guarded


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse would print usage too)
        raise SpecError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="The reference spec and conformance suite for parameter counts.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    count.add_parser(sub)
    check.add_parsers(sub)
    audit.add_parser(sub)
    spec.add_parsers(sub)
    tools.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the command itself, a process of its own (see frameworks.FREEZE_AFTER_IMPORT)
        frameworks_module.FREEZE_AFTER_IMPORT = True

    def run() -> int:
        args = build_parser().parse_args(argv)
        return args.func(args)

    return guarded(run)
