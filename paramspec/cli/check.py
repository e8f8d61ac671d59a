"""``paramspec check`` (run the spec against installed targets) and ``paramspec report`` (merge only)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from ..errors import EXIT_DISAGREE, EXIT_OK, SpecError
from .common import (add_jobs, add_outputs, child_failed, run_children, split, to_stdout, wanted_targets,
                     write_outputs)


def add_parsers(sub) -> None:
    k = sub.add_parser("check", help="run the spec against installed frameworks and print the matrix",
                       description="Run every case (or --kind ones) in each target, each target in its own "
                                   "process; write one record file per target and merge them into the matrix.")
    k.add_argument("--framework", "-f", action="append", metavar="TARGET",
                   help="a target (repeatable, or comma-separated; default: every installed one)")
    k.add_argument("--kind", action="append", help="only these kinds or model families (repeatable)")
    k.add_argument("--record-dir", help="write one record file per target here (default: a temporary folder)")
    k.add_argument("--record-file", help=argparse.SUPPRESS)  # a child run: one target, in this process
    k.add_argument("--quiet", action="store_true", help="do not print failure details")
    add_jobs(k, "targets")
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


def _run_in_process(target_name: str, kinds: list[str], record_file: Path | None, quiet: bool, measure: bool):
    from ..frameworks import adapter, target
    from ..loader import load_spec
    from ..reading import Source
    from ..record import FAIL, NA
    from ..report.records import write_records
    from ..run import run_case

    spec = load_spec()
    ad = adapter(target_name)
    cases = [c for c in spec.cases() if not kinds or c.kind.name in kinds]
    t0 = time.perf_counter()
    records = [run_case(spec, c, target_name, measure=measure) for c in cases]
    seconds = time.perf_counter() - t0
    if record_file:
        write_records(record_file, Source("framework", target_name, ad.version(), target(target_name).framework),
                      records, spec.digest)
    fails = [r for r in records if r.verdict == FAIL]
    nas = sum(r.verdict == NA for r in records)
    if not quiet:
        for r in fails:
            print(r.explain(), file=sys.stderr)
    print(f"{target_name:<11} {ad.version()}: {len(records)} cases, {len(records) - len(fails) - nas} pass, "
          f"{len(fails)} fail, {nas} n/a ({seconds:.1f} s)", file=sys.stderr)
    return records, fails


def run_check(args: argparse.Namespace) -> int:
    from ..loader import load_spec
    from ..report import merge, read_records

    kinds = split(args.kind)
    spec = load_spec()
    for k in kinds:
        spec.kind(k, "--kind")
    wanted = wanted_targets(args.framework)
    if args.record_file:
        if len(wanted) != 1:
            raise SpecError("--record-file takes exactly one --framework")
        _, fails = _run_in_process(wanted[0], kinds, Path(args.record_file), args.quiet, not args.no_flops)
        return EXIT_DISAGREE if fails else EXIT_OK
    record_dir = Path(args.record_dir) if args.record_dir else Path(tempfile.mkdtemp(prefix="paramspec-"))
    files, children, paths = [], [], []
    for t in wanted:
        path = record_dir / f"{t}.json"
        if path.exists():
            path.unlink()
        argv = ["check", "--framework", t, "--record-file", str(path), "--quiet"] + (["--no-flops"] if args.no_flops
                                                                                         else [])
        for k in kinds:
            argv += ["--kind", k]
        children.append((t, argv))
        paths.append(path)
    for (t, _), path, proc in zip(children, paths, run_children(children, args.jobs)):
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(t)]
        print(lines[-1] if lines else f"{t}: exit {proc.returncode}", file=sys.stderr)
        if proc.returncode not in (EXIT_OK, EXIT_DISAGREE) or not path.exists():
            raise child_failed(t, "run", proc)
        files.append(read_records(path))
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
