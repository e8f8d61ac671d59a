"""``paramspec audit``: a course's formulas and worked examples, against every framework."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_DISAGREE, EXIT_OK
from .common import add_exit_zero, add_jobs, add_outputs, to_stdout, wanted_targets, write_outputs


def add_parser(sub) -> None:
    u = sub.add_parser("audit", help="check a course file's formulas and worked examples against every framework",
                       description="Check a course file's formulas and worked examples against every installed "
                                   "framework (each in its own process). Exit 1 when anything is wrong.")
    u.add_argument("course", help="a course file (see spec/courses/)")
    u.add_argument("--framework", "-f", action="append", metavar="TARGET",
                   help="a target (repeatable, or comma-separated; default: every installed one)")
    add_outputs(u, json="the full report", markdown="a review comment")
    add_exit_zero(u, "a claim is wrong")
    add_jobs(u, "targets")
    u.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import audit as A

    course = A.load_course(args.course)
    wanted = wanted_targets(args.framework)
    parts = {}
    if len(wanted) == 1:
        parts[wanted[0]] = A.audit_target(course, wanted[0])
    else:
        from .children import Job, run_jobs

        with tempfile.TemporaryDirectory(prefix="paramspec-audit-") as tmp:
            jobs = [Job("audit", t, Path(tmp) / f"{t}.json", {"course": str(args.course)}) for t in wanted]
            for job, path in zip(jobs, run_jobs(jobs, args.jobs)):
                parts[job.target] = json.loads(path.read_text())
                print(f"{job.target}: audited", file=sys.stderr)
    report = A.audit(course, wanted, parts)
    write_outputs(args, {"json": lambda: json.dumps(report, indent=1, ensure_ascii=False),
                         "markdown": lambda: A.markdown(report)}, [args.course])
    if not to_stdout(args):
        print(A.text_table(report))
    return EXIT_DISAGREE if report["problems"] and not args.exit_zero else EXIT_OK
