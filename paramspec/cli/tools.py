"""``paramspec tools``: run the counting tools on the spec's cases and grade them (spec/tools.yaml)."""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_OK, SpecError
from .common import add_jobs, add_outputs, split, to_stdout, write_outputs


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
    add_jobs(p, "tools")
    add_outputs(p, json="the tools report", markdown="the tools report", html="the tools report")
    p.set_defaults(func=run_tools)


def installed(tool) -> bool:
    return importlib.util.find_spec(tool.package.replace("-", "_")) is not None


def run_tools(args: argparse.Namespace) -> int:
    from ..frameworks import target
    from ..loader import load_spec
    from ..report import read_records
    from ..tools import load_tools
    from .children import Job, run_jobs

    spec, ts = load_spec(), load_tools()
    kinds = split(args.kind) + split(args.model)
    for option, group, values in (("--kind", "layers", split(args.kind)), ("--model", "models", split(args.model))):
        for k in values:
            kind = spec.kind(k, option, group)
            if kind.group != group:
                other = "--model" if option == "--kind" else "--kind"
                raise SpecError(f"{k} is a {'model family' if kind.group == 'models' else 'layer kind'}: give it as "
                                f"{other} {k}", option)
    wanted = split(args.tool) or list(ts.tools)
    for name in wanted:
        if name not in ts.tools:
            raise SpecError(f"unknown tool {name!r} (known: {', '.join(ts.tools)})")
    record_dir = Path(args.record_dir) if args.record_dir else Path(tempfile.mkdtemp(prefix="paramspec-tools-"))
    jobs = []
    for name in wanted:
        t = ts.tools[name]
        if not target(t.framework).installed():
            print(f"{name}: skipped: {t.framework} is not installed", file=sys.stderr)
            continue
        jobs.append(Job("tools", t.framework, record_dir / f"tool-{name}.json", {"tool": name, "kinds": kinds},
                        label=name))
    files = []
    for path in run_jobs(jobs, args.jobs):
        f = read_records(path)
        wrong, seconds = sum(r.verdict == "fail" for r in f.records), f.header.get("seconds")
        print(f"{f.source.name}: {len(f.records)} cases, {wrong} with a wrong reading"
              + (f" ({seconds:.1f} s)" if seconds is not None else ""), file=sys.stderr)
        files.append(f)
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
        from ..render.console import fold
        from ..report.tools import finding_lines

        for t in report["tools"]:
            print(fold(t["line"]))
            for line in finding_lines(report, t["tool"]):
                print(fold(line, indent="    ", first="  - "))
    return EXIT_OK
