"""What every command shares: output options, target selection, and ``--jobs`` (the child
processes themselves: :mod:`.children`).

Output options (``--json``, ``--markdown``, ``--html``) take a path, or ``-`` for stdout.
Every output is rendered before any is written, so a failure leaves no half-written report;
when one goes to stdout, the command prints no table there, so stdout stays parseable.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from ..errors import FrameworkUnavailable, SpecError

STDOUT = "-"


def split(values: Sequence[str] | None) -> list[str]:
    """``-f torch -f keras,flax-nnx`` -> ``['torch', 'keras', 'flax-nnx']``."""
    return [x for v in values or () for x in v.split(",") if x]


def add_outputs(p: argparse.ArgumentParser, *, json: str, markdown: str | None = None, html: str | None = None) -> None:
    """The output options, each documented once, here."""
    p.add_argument("--json", metavar="PATH", help=f"write {json} as JSON to PATH ('-': stdout)")
    if markdown:
        p.add_argument("--markdown", metavar="PATH", help=f"write {markdown} as Markdown to PATH ('-': stdout)")
    if html:
        p.add_argument("--html", metavar="PATH", help=f"write {html} as one self-contained HTML page to PATH "
                                                       "('-': stdout)")


def add_exit_zero(p: argparse.ArgumentParser, what: str) -> None:
    """The one ``--exit-zero`` of every command that exits 1 when something disagrees."""
    p.add_argument("--exit-zero", action="store_true",
                   help=f"exit 0 even when {what} (bad input still exits 2)")


def to_stdout(args: argparse.Namespace) -> bool:
    """Whether an output option sends its document to stdout (then no table is printed there)."""
    return any(getattr(args, k, None) == STDOUT for k in ("json", "markdown", "html"))


def write_outputs(args: argparse.Namespace, renderers: dict[str, Callable[[], str]],
                  inputs: Sequence[str | Path] = ()) -> None:
    """Render every asked-for output, then write each to its path or stdout.

    Raises:
        SpecError: two outputs to stdout, or an output path that is one of the inputs.
    """
    asked = {k: getattr(args, k) for k in renderers if getattr(args, k, None)}
    if sum(v == STDOUT for v in asked.values()) > 1:
        raise SpecError("only one output can go to stdout ('-')")
    ins = {Path(i).resolve() for i in inputs}
    for kind, path in asked.items():
        if path != STDOUT and Path(path).resolve() in ins:
            raise SpecError(f"--{kind} {path} would overwrite an input")
    rendered = {kind: renderers[kind]() for kind in asked}
    for kind, path in asked.items():
        text = rendered[kind] if rendered[kind].endswith("\n") else rendered[kind] + "\n"
        if path == STDOUT:
            sys.stdout.write(text)
            continue
        out = Path(path)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as e:
            raise SpecError(f"cannot write --{kind}: {e.strerror}", str(out)) from None
        print(f"wrote {path}", file=sys.stderr)


def wanted_targets(requested: Sequence[str] | None) -> list[str]:
    """The targets asked for (each known and installed), or every installed one."""
    from ..frameworks import installed_targets, target

    wanted = split(requested)
    for t in wanted:
        target(t)
    if not wanted:
        wanted = installed_targets()
        if not wanted:
            raise SpecError("no framework is installed; install one, e.g. pip install 'paramspec[torch]'")
    missing = [t for t in wanted if not target(t).installed()]
    if missing:
        raise FrameworkUnavailable(f"not installed: {', '.join(missing)}")
    return wanted


def positive(noun: str):
    """An argparse type: a whole number of ``noun``, 1 or more."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number of {noun}, got {text!r}") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
        return n
    return parse


def add_jobs(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--jobs", "-j", type=positive("processes"), metavar="N",
                   help=f"run up to N {what} at once, each in its own process (default: the number of CPUs)")


def positive_depth(depth: int | None) -> int | None:
    if depth is not None and depth < 1:
        raise SpecError(f"--depth must be 1 or more, got {depth}")
    return depth
