"""Generated blocks read from the code: the CLI, the Python API, exit codes, the formula
language's functions, variable types, file formats and their rules."""
from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Callable

from ..render.spec_tables import table


def _parser():
    from ..cli import build_parser

    return build_parser()


def cli() -> str:
    """Every command: its usage line, what it does, and each option (from argparse)."""
    p = _parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name, cmd in sub.choices.items():
        usage = " ".join(cmd.format_usage().split())[len("usage: "):]
        out += [f"### `paramspec {name}`", "", f"`{usage}`", ""]
        if cmd.description:
            out += [" ".join(cmd.description.split()), ""]
        rows = []
        for a in cmd._actions:
            if a.help in (None, argparse.SUPPRESS) or isinstance(a, argparse._HelpAction):
                continue
            flag = ", ".join(f"`{o}`" for o in a.option_strings) or f"`{a.dest}`"
            rows.append([flag, " ".join(str(a.help).split())])
        if rows:
            out += [table(["option", "what it does"], rows), ""]
    return "\n".join(out)


# The flags several commands share: one table says which command takes which (cli-flags).
SHARED_FLAGS = ("--framework", "--kind", "--model", "--json", "--markdown", "--html", "--record-dir", "--jobs",
                "--no-flops", "--flops", "--train", "--exit-zero", "--quiet", "--input")


def cli_flags() -> str:
    """The shared flags as one table: a row a flag, a column a command (✓ takes it)."""
    p = _parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    names = list(sub.choices)
    rows = [[f"`{flag}`", *["✓" if flag in sub.choices[n]._option_string_actions else "" for n in names]]
            for flag in SHARED_FLAGS]
    return table(["flag", *[f"`{n}`" for n in names]], rows)


def exit_codes() -> str:
    from .. import errors

    rows = [[f"`{getattr(errors, n)}`", doc] for n, doc in errors.EXIT_CODES.items()]
    return table(["exit code", "means"], rows)


def _doc(obj) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def python_api() -> str:
    """The public functions and types, from their docstrings."""
    import paramspec
    from paramspec import record, testing

    out = []
    for name in ("count", "count_file", "load_spec"):
        fn = getattr(paramspec, name)
        out += [f"### `paramspec.{name}{inspect.signature(fn)}`", "", _doc(fn), ""]
    fn = testing.assert_param_count
    out += [f"### `paramspec.testing.assert_param_count{inspect.signature(fn)}`", "", _doc(fn), ""]
    for cls in (record.Record, record.Quantity, paramspec.Source, paramspec.Tensor):
        out += [f"### `paramspec.{cls.__name__}`", "", _doc(cls), ""]
        props = [(n, v) for n, v in vars(cls).items() if isinstance(v, property) and v.__doc__]
        methods = [(n, v) for n, v in vars(cls).items() if inspect.isfunction(v) and not n.startswith("_")
                   and v.__doc__]
        if props or methods:
            rows = [[f"`.{n}`", " ".join(_doc(v).split("\n\n")[0].split())] for n, v in props]
            rows += [[f"`.{n}()`", " ".join(_doc(v).split("\n\n")[0].split())] for n, v in methods]
            out += [table(["", ""], rows), ""]
    for cls in (paramspec.SpecError, paramspec.FormulaError, paramspec.FileFormatError, paramspec.NotApplicable,
                paramspec.FrameworkUnavailable):
        out.append(f"- `paramspec.{cls.__name__}`: {' '.join(_doc(cls).split(chr(10) + chr(10))[0].split())}")
    return "\n".join(out)


def formula_functions() -> str:
    from ..formula import FUNCTIONS

    rows = [[f"`{n}`", lo if lo == hi else f"{lo}..{hi}"] for n, (_, lo, hi) in FUNCTIONS.items()]
    return table(["function", "arguments"], rows)


def formula_limits() -> str:
    from .. import formula

    return (f"A formula is at most {formula.MAX_FORMULA_CHARS:,} characters and {formula.MAX_NODES:,} syntax nodes; "
            f"`range()` spans at most {formula.MAX_RANGE:,} values; `**` takes an exponent in "
            f"0..{formula.MAX_EXPONENT}; a value may grow to {formula.MAX_BITS:,} bits.")


def variable_types() -> str:
    rows = [["`int`", "an integer, within `min`/`max`"], ["`bool`", "true or false (0 and 1 in formulas)"],
            ["`ints`", "an integer or a list of integers (`length` fixes how many; an integer is repeated)"],
            ["`float`", "a number (exact: decimals are rationals)"], ["`choice`", "one of `choices`"]]
    return table(["type", "accepts"], rows)


def file_formats() -> str:
    from ..files import _FOLDER_FILES, _FORMATS

    formats: dict[str, list[str]] = {}
    for end, fmt in _FORMATS:
        formats.setdefault(fmt, []).append(f"`{end}`")
    rows = [[fmt, ", ".join(ends)] for fmt, ends in formats.items()]
    return (table(["format", "file names ending in"], rows) + "\n\nA folder is read through the first of "
            + ", ".join(f"`{f}`" for f in _FOLDER_FILES) + " it holds.")


def state_rules() -> str:
    from ..files import rules

    names = ", ".join(f"`{n}`" for n in sorted(rules.STATE_NAMES))
    ties = "; ".join(f"`{h}` to " + " or ".join(f"`{e}`" for e in es) for h, es in rules.HF_TIED.items())
    defaults = ", ".join(f"`{k}`" for k, v in rules.HF_TIE_DEFAULT.items() if v)
    return (f"- state by name (the last name part): {names}; and GPT-2's `attn.bias` causal mask;\n"
            f"- ties from config.json's `tie_word_embeddings` (default true for {defaults}): {ties};\n"
            "- a quantized weight counts its logical elements once (GPTQ/AWQ `qweight`: 32/bits values an int32); "
            "its scales, zero points and indices are quantization metadata, not parameters (see Quantized checkpoints).")


def dtypes() -> str:
    from ..dtypes import DTYPE_BYTES

    return ", ".join(f"`{d}` ({w:g} B)" for d, w in DTYPE_BYTES.items())


PAGES_ROOT = Path(".")  # set by write_docs: the checkout whose pages are written


def tools_summary() -> str:
    """The tools audit's headline per tool, and one reproduction of each kind of ✗ finding,
    from the committed report (docs/tools/tools.json, written by `paramspec tools`)."""
    import json

    path = PAGES_ROOT / "docs" / "tools" / "tools.json"
    if not path.is_file():
        return f"(no {path}: run `paramspec tools --json docs/tools/tools.json`)"
    report = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"- {t['line']}" for t in report["tools"]]
    lines += ["", "| tool | finding | smallest case | reads | its own definition gives | reproduce |",
              "| --- | --- | --- | ---: | ---: | --- |"]
    for f in report["findings"]:
        got = "an error" if f["got"] is None else f"{f['got']:,}"
        exp = "" if f["expected"] is None else f"{f['expected']:,}"
        lines.append(f"| {f['tool']} | {f['finding']} ({f['quantity']}) | `{f['case']}` | {got} | {exp} | "
                     f"`{f['reproduce'].split('  #')[0]}` |")
    return "\n".join(lines)


def tools_claims() -> str:
    """Each tool's claim (spec/tools.yaml): what it says it counts, the formula it is held to."""
    from ..tools import load_tools

    rows = []
    for t in load_tools().tools.values():
        for q, c in t.claims.items():
            rows.append([t.id, q + (f" ({c.unit})" if c.unit else ""), c.says, f"`{c.formula.text}`", f"`{t.api}`"])
        for r in t.rules:
            rows.append([t.id, f"{r.quantity} in {', '.join(r.kinds)}", r.why, f"`{r.formula.text}`", ""])
        for q, why in t.absent.items():
            rows.append([t.id, f"{q}: none", why, "", ""])
    return table(["tool", "figure", "what it says", "held to", "call"], rows)


BLOCKS: dict[str, Callable[[], str]] = {
    "tools-summary": tools_summary, "tools-claims": tools_claims,
    "cli": cli, "cli-flags": cli_flags, "exit-codes": exit_codes, "python-api": python_api, "formula-functions": formula_functions,
    "formula-limits": formula_limits, "variable-types": variable_types, "file-formats": file_formats,
    "state-rules": state_rules, "dtypes": dtypes,
}
