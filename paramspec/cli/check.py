"""``paramspec check`` (run the spec against installed targets) and ``paramspec report`` (merge only)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_DISAGREE, EXIT_OK, SpecError
from ..record import FAIL, NA, PASS
from .common import add_exit_zero, add_jobs, add_outputs, positive, split, to_stdout, wanted_targets, write_outputs


def add_parsers(sub) -> None:
    k = sub.add_parser("check", help="run the spec against installed frameworks and print the matrix",
                       description="Run every case (or --kind ones) in each target, each target in its own "
                                   "process; write one record file per target and merge them into the matrix.")
    k.add_argument("--framework", "-f", action="append", metavar="TARGET",
                   help="a target (repeatable, or comma-separated; default: every installed one)")
    k.add_argument("--kind", action="append", help="only these kinds or model families (repeatable); with "
                                                   "--factory, the one kind its objects are held to")
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
    add_exit_zero(k, "a case fails")
    k.add_argument("--factory", metavar="MODULE:FUNCTION",
                   help="check your own layer instead: FUNCTION(config) returns a built object (a torch module, a "
                        "built Keras layer, a linen (module, variables) pair, an nnx module) for each config of "
                        "--kind drawn from the spec, held to the spec's formula for its framework (-f: another "
                        "framework's); in this process. MODULE is a module name (from the current folder too) or "
                        "a path/to/file.py")
    k.add_argument("--examples", type=positive("configs"), metavar="N",
                   help="with --factory: how many configs to draw (default: 100)")
    k.set_defaults(func=run_check)

    r = sub.add_parser("report", help="merge record files into the matrix (runs nothing)",
                       description="Merge record files (from `check --record-dir` or the test suite) into the "
                                   "matrix. Every file is checked first; a bad one stops the merge.")
    r.add_argument("records", nargs="*", help="record files (of framework targets, and of `paramspec tools` runs), "
                                              "or folders of them (their *.json)")
    r.add_argument("--record-dir", help="merge every *.json here")
    add_outputs(r, json="the matrix", markdown="the matrix",
                html="the matrix and, when tool record files are among the inputs, the tools audit")
    add_exit_zero(r, "a record fails")
    r.set_defaults(func=run_report)


def summary_line(f) -> str:
    """``torch       torch 2.13.0+cpu: 194 cases, 190 pass, 0 fail, 4 n/a (21.3 s)``, from a record file."""
    counts = {v: sum(r.verdict == v for r in f.records) for v in (PASS, FAIL, NA)}
    seconds = f.header.get("seconds")
    return (f"{f.source.name:<11} {f.source.version}: {len(f.records)} cases, {counts[PASS]} pass, {counts[FAIL]} fail, "
            f"{counts[NA]} n/a" + (f" ({seconds:.1f} s)" if seconds is not None else ""))


def run_check(args: argparse.Namespace) -> int:
    if args.factory is not None:
        return run_factory(args)
    if args.examples is not None:
        raise SpecError("--examples is an option of --factory")
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




# What `check` does with the spec's own cases that --factory does not: asked for with it, bad input.
_NOT_WITH_FACTORY = {"record_dir": "--record-dir", "quiet": "--quiet", "jobs": "--jobs", "train": "--train",
                     "input_grad": "--input-grad", "no_flops": "--no-flops", "json": "--json",
                     "markdown": "--markdown", "html": "--html"}  # --exit-zero applies to it too


def run_factory(args: argparse.Namespace) -> int:
    """``check --factory module:function --kind KIND``: your own layer, over drawn configs of a
    kind (:func:`paramspec.testing.assert_matches_kind`), in this process. Exit 0 when every
    drawn config agrees, 1 at the first that does not (shrunk to a minimal one: stdout says so,
    stderr explains), 2 for bad input."""
    from ..testing import matches_kind

    given = [flag for key, flag in _NOT_WITH_FACTORY.items() if getattr(args, key, None)]
    if given:
        raise SpecError(f"{given[0]} is not an option of --factory (it takes --kind, --examples and -f)")
    kinds, frameworks = split(args.kind), split(args.framework)
    if len(kinds) != 1:
        raise SpecError(f"--factory checks one kind: give --kind once (got {len(kinds)})")
    if len(frameworks) > 1:
        raise SpecError(f"--factory holds its objects to one framework's formula: give -f once (got {len(frameworks)})")
    factory = load_factory(args.factory)
    try:
        matched = matches_kind(factory, kinds[0], framework=frameworks[0] if frameworks else None,
                               examples=args.examples or 100, database=None)
    except AssertionError as e:
        print(f"{kinds[0]}: {args.factory} disagrees with the spec at a drawn config (the minimal one, below)")
        print(str(e), file=sys.stderr)
        return EXIT_OK if args.exit_zero else EXIT_DISAGREE
    print(matched.summary(args.factory))
    return EXIT_OK


def load_factory(text: str):
    """The function ``module:function`` (or ``path/to/file.py:function``) names.

    Raises:
        SpecError: one line: the text is not of that form, the module cannot be imported (its
            exception named), or it has no such function.
    """
    import importlib
    import importlib.util
    import os

    where = f"--factory {text}"
    module_name, sep, attr = str(text).rpartition(":")
    if not sep or not module_name or not attr:
        raise SpecError("takes module:function or path/to/file.py:function", where)
    try:
        if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
            path = Path(module_name)
            if not path.is_file():
                raise SpecError(f"no such file {module_name}", where)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(path.stem, module)
            spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())  # as `python -m` would: a module of the current folder
            module = importlib.import_module(module_name)
    except SpecError:
        raise
    except BaseException as e:  # SystemExit too: importing a user's module must not end the command
        if isinstance(e, KeyboardInterrupt):
            raise
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise SpecError(f"cannot import {module_name}: {type(e).__name__}: {first}", where) from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SpecError(f"{module_name} has no {attr!r}", where)
        obj = getattr(obj, part)
    if not callable(obj):
        raise SpecError(f"{module_name}:{attr} is a {type(obj).__name__}, not a function", where)
    return obj


def run_report(args: argparse.Namespace) -> int:
    from ..report import merge, read_records

    paths = [q for p in args.records for q in (sorted(Path(p).glob("*.json")) if Path(p).is_dir() else [Path(p)])]
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
    return EXIT_DISAGREE if m.failures and not args.exit_zero else EXIT_OK
