"""``paramspec tools``: run the counting tools on the spec's cases and grade them (spec/tools.yaml)."""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

from ..errors import EXIT_OK, SpecError
from .common import add_jobs, add_outputs, child_failed, run_children, split, to_stdout, write_outputs


def add_parser(sub) -> None:
    p = sub.add_parser("tools", help="run the counting tools (torchinfo, thop, ...) on the spec's cases and grade them",
                       description="Run each counting tool of spec/tools.yaml (each in its own process) on the "
                                   "cases it can take, judge each reading against what the tool says it counts, "
                                   "and merge the record files into the tools report. Exit 0 when it ran (the "
                                   "findings are about the tools), 2 on bad input.")
    p.add_argument("--tool", action="append", metavar="NAME", help="only these tools (repeatable, or comma-separated)")
    p.add_argument("--kind", action="append", help="only these layer kinds (repeatable)")
    p.add_argument("--model", action="append", help="only these model families (repeatable)")
    p.add_argument("--record-dir", help="write one record file per tool here (default: a temporary folder)")
    p.add_argument("--record-file", help=argparse.SUPPRESS)  # a child run: one tool, in this process
    add_jobs(p, "tools")
    add_outputs(p, json="the tools report", markdown="the tools report", html="the tools report")
    p.set_defaults(func=run_tools)


def _run_in_process(tool_id: str, kinds: list[str], record_file: Path) -> None:
    from .._layout import import_adapter_module
    from ..loader import load_spec
    from ..report.records import write_records
    from ..tools import cases, load_tools, run_tool

    spec, ts = load_spec(), load_tools()
    t = ts.tools[tool_id]
    t0 = time.perf_counter()
    records = [run_tool(t, c, f) for c, f in cases(spec, ts, kinds)]
    module = import_adapter_module(f"tools.{t.runner.split('.')[0]}")
    from ..reading import Source

    write_records(record_file, Source("tool", t.id, module.version(t), t.framework), records, spec.digest)
    wrong = sum(r.verdict == "fail" for r in records)
    print(f"{tool_id}: {len(records)} cases, {wrong} with a wrong reading ({time.perf_counter() - t0:.1f} s)",
          file=sys.stderr)


def installed(tool) -> bool:
    return importlib.util.find_spec(tool.package.replace("-", "_")) is not None


def run_tools(args: argparse.Namespace) -> int:
    from ..frameworks import target
    from ..loader import load_spec
    from ..report import read_records
    from ..tools import load_tools

    spec, ts = load_spec(), load_tools()
    kinds = split(args.kind) + split(args.model)
    for k in kinds:
        spec.kind(k, "--kind" if k in split(args.kind) else "--model")
    wanted = split(args.tool) or list(ts.tools)
    for name in wanted:
        if name not in ts.tools:
            raise SpecError(f"unknown tool {name!r} (known: {', '.join(ts.tools)})")
    if args.record_file:
        if len(wanted) != 1:
            raise SpecError("--record-file takes exactly one --tool")
        _run_in_process(wanted[0], kinds, Path(args.record_file))
        return EXIT_OK
    record_dir = Path(args.record_dir) if args.record_dir else Path(tempfile.mkdtemp(prefix="paramspec-tools-"))
    files, children = [], []
    for name in wanted:
        t = ts.tools[name]
        tgt = target(t.framework)
        if not tgt.installed():
            print(f"{name}: skipped: {t.framework} is not installed", file=sys.stderr)
            continue
        path = record_dir / f"tool-{name}.json"
        if path.exists():
            path.unlink()
        argv = ["tools", "--tool", name, "--record-file", str(path)] + [a for k in kinds for a in ("--kind", k)]
        children.append((name, t.framework, path, argv))
    runs = run_children([(framework, argv) for _, framework, _, argv in children], args.jobs)
    for (name, _, path, _), proc in zip(children, runs):
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(f"{name}:")]
        print(lines[-1] if lines else f"{name}: exit {proc.returncode}", file=sys.stderr)
        if proc.returncode != EXIT_OK or not path.exists():
            raise child_failed(name, "tool run", proc)
        files.append(read_records(path))
    if not files:
        raise SpecError("no tool ran: none of their frameworks is installed")
    return report_tools(args, files)


def report_tools(args: argparse.Namespace, files) -> int:
    from ..report.html import html
    from ..report.tools import markdown, tools_report

    report = tools_report(files).to_dict()
    write_outputs(args, {"json": lambda: json.dumps(report, indent=1, ensure_ascii=False),
                         "markdown": lambda: markdown(report),
                         "html": lambda: html(None, report)})
    if not to_stdout(args):
        for t in report["tools"]:
            print(t["line"])
    return EXIT_OK
