"""``paramspec check`` (run the spec against installed targets) and ``paramspec report`` (merge only)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_DISAGREE, EXIT_OK, SpecError
from ..record import FAIL, NA, PASS
from .common import add_jobs, add_outputs, split, to_stdout, wanted_targets, write_outputs


def add_parsers(sub) -> None:
    k = sub.add_parser("check", help="run the spec against installed frameworks and print the matrix",
                       description="Run every case (or --kind ones) in each target, each target in its own "
                                   "process; write one record file per target and merge them into the matrix.")
    k.add_argument("--framework", "-f", action="append", metavar="TARGET",
                   help="a target (repeatable, or comma-separated; default: every installed one)")
    k.add_argument("--kind", action="append", help="only these kinds or model families (repeatable)")
    k.add_argument("--record-dir", help="write one record file per target here (default: a temporary folder)")
    k.add_argument("--quiet", action="store_true", help="do not print failure details")
    add_jobs(k, "targets")
    k.add_argument("--train", action="store_true",
                   help="also measure each case's training step (forward and backward, under the target's counter) "
                        "and its memory, held to the spec's training formulas (the training matrix)")
    k.add_argument("--input-grad", action="store_true",
                   help="with --train: the input requires a gradient too (the first layer's input gradient counts)")
    k.add_argument("--no-flops", action="store_true",
                   help="count parameters only: do not measure each case's forward pass under the target's "
                        "compute counter (no FLOPs matrix)")
    add_outputs(k, json="the matrix", markdown="the matrix", html="the matrix")
    k.set_defaults(func=run_check)

    r = sub.add_parser("report", help="merge record files into the matrix (runs nothing)",
                       description="Merge record files (from `check --record-dir` or the test suite) into the "
                                   "matrix. Every file is checked first; a bad one stops the merge.")
    r.add_argument("records", nargs="*", help="record files (of framework targets, and of `paramspec tools` runs)")
    r.add_argument("--record-dir", help="merge every *.json here")
    add_outputs(r, json="the matrix", markdown="the matrix",
                html="the matrix and, when tool record files are among the inputs, the tools audit")
    r.set_defaults(func=run_report)


def summary_line(f) -> str:
    """``torch       torch 2.13.0+cpu: 194 cases, 190 pass, 0 fail, 4 n/a (21.3 s)``, from a record file."""
    counts = {v: sum(r.verdict == v for r in f.records) for v in (PASS, FAIL, NA)}
    seconds = f.header.get("seconds")
    return (f"{f.source.name:<11} {f.source.version}: {len(f.records)} cases, {counts[PASS]} pass, {counts[FAIL]} fail, "
            f"{counts[NA]} n/a" + (f" ({seconds:.1f} s)" if seconds is not None else ""))


def run_check(args: argparse.Namespace) -> int:
    from ..loader import load_spec
    from ..report import merge, read_records
    from .children import Job, run_jobs

    kinds = split(args.kind)
    spec = load_spec()
    for k in kinds:
        spec.kind(k, "--kind")
    wanted = wanted_targets(args.framework)
    record_dir = Path(args.record_dir) if args.record_dir else Path(tempfile.mkdtemp(prefix="paramspec-"))
    if args.input_grad and not args.train:
        raise SpecError("--input-grad is an option of --train")
    train = {"input_grad": args.input_grad} if args.train else None
    jobs = [Job("check", t, record_dir / f"{t}.json", {"kinds": kinds, "measure": not args.no_flops, "train": train})
            for t in wanted]
    files = []
    for path in run_jobs(jobs, args.jobs):
        files.append(read_records(path))
        print(summary_line(files[-1]), file=sys.stderr)
    return _report(args, merge(files), explain=not args.quiet)


def run_report(args: argparse.Namespace) -> int:
    from ..report import merge, read_records

    paths = [Path(p) for p in args.records]
    if args.record_dir:
        folder = Path(args.record_dir)
        if not folder.is_dir():
            raise SpecError("is not a folder", str(folder))
        paths += sorted(folder.glob("*.json"))
    if not paths:
        raise SpecError("no record files (give paths or --record-dir with *.json in it)")
    files = [read_records(p) for p in paths]
    tools = [f for f in files if f.source.type == "tool"]
    frameworks = [f for f in files if f.source.type != "tool"]
    if not frameworks:
        raise SpecError("no framework record files among the inputs (tool records alone: `paramspec tools`)")
    return _report(args, merge(frameworks), explain=False, tools=tools)


def _report(args: argparse.Namespace, m, explain: bool, tools=()) -> int:
    from ..report.html import html
    from ..report.markdown import markdown, text

    def page() -> str:
        from ..report.tools import tools_report

        return html(m.to_dict(), tools_report(tools).to_dict() if tools else None)

    write_outputs(args, {"json": lambda: json.dumps(m.to_dict(), indent=1, ensure_ascii=False),
                         "markdown": lambda: markdown(m), "html": page})
    if not to_stdout(args):
        print(text(m))
    if explain:
        for r in m.failures:
            print(r.explain(), file=sys.stderr)
    return EXIT_DISAGREE if m.failures else EXIT_OK
