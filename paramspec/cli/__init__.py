"""The ``paramspec`` command line (``python -m paramspec`` is the same program).

Commands: ``count`` (:mod:`.count`), ``check`` and ``report`` (:mod:`.check`), ``audit``
(:mod:`.audit`), ``tools`` (:mod:`.tools`), ``kinds``, ``conventions`` and ``validate`` (:mod:`.spec`).

Exit codes: 0 success, 1 a disagreement (or, for audit, a finding), 2 bad input (one line
on stderr, never a traceback), 3 n/a (the framework lacks the layer or option), 4 an internal
error (an exception paramspec did not expect: a bug, reported in one line).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Sequence

from ..errors import (EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_NOT_APPLICABLE, EXIT_OK, FrameworkUnavailable,
                      NotApplicable, SpecError)
from .. import frameworks as frameworks_module
from . import audit, check, count, spec, tools

PROG = "paramspec"


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
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (SpecError, FrameworkUnavailable) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotApplicable as e:
        print(f"{PROG}: n/a: {e.reason}", file=sys.stderr)
        return EXIT_NOT_APPLICABLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # not a verdict and not bad input: a bug in paramspec, with its own exit code
        if os.environ.get("PARAMSPEC_TRACEBACK") == "1":
            traceback.print_exc()
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"{PROG}: internal error (a bug in paramspec; please report it with the command): "
              f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:200]} "
              f"[{'/'.join(where.filename.split('/')[-2:])}:{where.lineno}]", file=sys.stderr)
        return EXIT_INTERNAL
