"""The ``paramspec`` command line (``python -m paramspec`` is the same program).

Commands: ``count`` (:mod:`.count`), ``check`` and ``report`` (:mod:`.check`), ``audit``
(:mod:`.audit`), ``tools`` (:mod:`.tools`), ``kinds``, ``conventions`` and ``validate`` (:mod:`.spec`).

Exit codes: 0 success, 1 a disagreement (or, for audit, a finding), 2 bad input (one line
on stderr, never a traceback), 3 n/a (the framework lacks the layer or option), 4 an internal
error (an exception paramspec did not expect: a bug, reported in one line).
"""
from __future__ import annotations

import argparse
import functools
import sys
from typing import Sequence

from ..errors import SpecError
from .. import frameworks as frameworks_module
from . import audit, check, count, spec, tools
from .guard import PROG, guarded


class _Parser(argparse.ArgumentParser):
    _argv: Sequence[str] = ()

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        self._argv = list(args) if args is not None else sys.argv[1:]
        return super().parse_args(args, namespace)

    def error(self, message: str) -> None:  # one line, exit 2 (argparse would print usage too)
        """One line, exit 2; an unknown option gets a did-you-mean among its command's options."""
        prefix = "unrecognized arguments: "
        unknown = [a for a in message[len(prefix):].split() if a.startswith("--")] if message.startswith(prefix) else []
        if unknown:
            from ..hints import suggest

            message += suggest(unknown[0].split("=")[0], [o for o in self._options_of_command() if o.startswith("--")])
        raise SpecError(message)

    def _options_of_command(self) -> list[str]:
        """The option strings of the subcommand the arguments name (else this parser's own)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for arg in self._argv:
                    if arg in action.choices:
                        return list(action.choices[arg]._option_string_actions)
        return list(self._option_string_actions)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="The reference spec and conformance suite for parameter counts.",
                allow_abbrev=False)
    # no abbreviations: `--input` is not `--input-grad`, and a misspelling gets a did-you-mean
    sub = p.add_subparsers(dest="command", required=True, parser_class=functools.partial(_Parser, allow_abbrev=False))
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
