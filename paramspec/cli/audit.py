"""``paramspec audit``: a course's formulas and worked examples, against every framework."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_DISAGREE, EXIT_OK, SpecError
from .common import add_jobs, add_outputs, child_failed, run_children, to_stdout, wanted_targets, write_outputs


def add_parser(sub) -> None:
    u = sub.add_parser("audit", help="check a course file's formulas and worked examples against every framework",
                       description="Check a course file's formulas and worked examples against every installed "
                                   "framework (each in its own process). Exit 1 when anything is wrong.")
    u.add_argument("course", help="a course file (see spec/courses/)")
    u.add_argument("--framework", "-f", action="append", metavar="TARGET",
                   help="a target (repeatable, or comma-separated; default: every installed one)")
    add_outputs(u, json="the full report", markdown="a review comment")
    u.add_argument("--exit-zero", action="store_true", help="exit 0 even when something is wrong (bad input still exits 2)")
    u.add_argument("--part-file", help=argparse.SUPPRESS)  # a child run: one target, in this process
    add_jobs(u, "targets")
    u.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import audit as A

    course = A.load_course(args.course)
    wanted = wanted_targets(args.framework)
    if args.part_file:
        if len(wanted) != 1:
            raise SpecError("--part-file takes exactly one --framework")
        Path(args.part_file).write_text(json.dumps(A.audit_target(course, wanted[0])))
        return EXIT_OK
    parts = {}
    if len(wanted) == 1:
        parts[wanted[0]] = A.audit_target(course, wanted[0])
    else:
        with tempfile.TemporaryDirectory(prefix="paramspec-audit-") as tmp:
            paths = [Path(tmp) / f"{t}.json" for t in wanted]
            children = [(t, ["audit", str(args.course), "--framework", t, "--part-file", str(path)])
                        for t, path in zip(wanted, paths)]
            for t, path, proc in zip(wanted, paths, run_children(children, args.jobs)):
                if proc.returncode != EXIT_OK or not path.exists():
                    raise child_failed(t, "audit", proc)
                parts[t] = json.loads(path.read_text())
                print(f"{t}: audited", file=sys.stderr)
    report = A.audit(course, wanted, parts)
    write_outputs(args, {"json": lambda: json.dumps(report, indent=1, ensure_ascii=False),
                         "markdown": lambda: A.markdown(report)}, [args.course])
    if not to_stdout(args):
        print(A.text_table(report))
    return EXIT_DISAGREE if report["problems"] and not args.exit_zero else EXIT_OK
