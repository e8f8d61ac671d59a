"""The ``paramspec`` command line.

Commands:
    count       count one config in one framework (a per-tensor table, or --json)
    audit       check a course's formulas and worked examples against every framework
    check       run the whole spec against installed frameworks; print the matrix
    report      merge record files into the matrix (runs nothing)
    kinds       list the kinds and their variables
    conventions print (or write into the README) the framework conventions table
    validate    check spec files (schema, formulas, ids, cases) with no framework

Exit codes: 0 success, 1 disagreement, 2 bad input, 3 n/a. Bad input is one line on
stderr and never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import (EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_NOT_APPLICABLE, EXIT_OK, FrameworkUnavailable,
                     NotApplicable, SpecError)

PROG = "paramspec"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise SpecError(message)


def _split(values: Sequence[str] | None) -> list[str]:
    return [x for v in values or () for x in v.split(",") if x]


# ---------------------------------------------------------------------------- count
def cmd_count(args: argparse.Namespace) -> int:
    from .api import count, dumps
    from .reading import breakdown

    from . import yamlio
    from .tree import render, separator

    if args.path is not None:
        if args.spec is not None or args.hf_config is not None:
            raise SpecError("give a file, or --spec, or --hf-config: one of them")
        return _count_file(args)
    if (args.spec is None) == (args.hf_config is None):
        raise SpecError("give --spec '{kind: LSTM, input_size: 300, hidden_size: 128}' or --hf-config config.json")
    spec = args.spec if args.spec is not None else {"hf_config": yamlio.load_path(args.hf_config)}
    if args.depth is not None and args.depth < 1:
        raise SpecError(f"--depth must be 1 or more, got {args.depth}")
    r = count(spec, framework=args.framework, where=args.hf_config or "spec")
    tree = r.tree(args.depth) if args.depth else None
    if args.json:
        d = r.to_dict()
        if tree is not None:
            d["tree"] = [n.to_dict(separator(r.framework)) for n in tree]
        print(dumps(d))
        return EXIT_OK if r.agrees else EXIT_DISAGREE
    f = r.formula
    print(f"{r.case} in {r.target} ({r.framework_version})")
    print(f"built: {r.built}")
    if tree is not None:
        print(render(tree))
    elif len(r.tensors) <= 64:
        print(breakdown(r.tensors))
    else:
        print(f"  ({len(r.tensors)} tensors: --depth N shows the module tree, --json lists them all)")
    rows = [("trainable", r.trainable, f["params"], f["params_formula"]),
            ("non-trainable", r.non_trainable, f["state"], f["state_formula"])]
    rows += [(f"native {name}", r.native.get(name), want, "") for name, want in f["native"].items()]
    width = max(len(label) for label, *_ in rows)
    for label, got, want, text in rows:
        mark = "✓" if got == want else "✗"
        got_s = "-" if got is None else f"{got:,}"
        print(f"{label:<{width}}  {got_s:>14}   formula {want:>14,} {mark}" + (f"   `{text}`" if text else ""))
    c = r.counts
    print(f"named counts: unique {c['unique']:,}; per-reference {c['per_reference']:,} (tied {c['tied']:,}); "
          f"state {c['state']:,}; embedding {c['embedding']:,}; non-embedding {c['non_embedding']:,}")
    if f.get("convention"):
        print(f"convention: {f['convention']} (canonical: {f['canonical_params']:,} params, "
              f"{f['canonical_state']:,} state)")
    for p in r.problems:
        print(f"DISAGREES: {p}")
    return EXIT_OK if r.agrees else EXIT_DISAGREE


def _count_file(args: argparse.Namespace) -> int:
    from .api import dumps
    from .files import count_file, human, human_bytes
    from .tree import render

    if args.depth is not None and args.depth < 1:
        raise SpecError(f"--depth must be 1 or more, got {args.depth}")
    r = count_file(args.path)
    if args.json:
        print(dumps(r.to_dict(args.depth)))
        return EXIT_OK
    print(f"{args.path} ({r.format}, {len(r.tensors)} tensors)")
    if args.depth:
        print(render(r.tree(args.depth)))
    elif len(r.tensors) <= 64:
        rows = [("name", "shape", "dtype", "elements", "bytes", "")]
        for t in r.tensors:
            note = "; ".join(x for x in (f"tied to {t.tied_to}" if t.tied_to else "",
                                         f"state ({t.why_state})" if t.state else "", t.packing) if x)
            rows.append((t.name, "(" + ", ".join(map(str, t.shape)) + ("," if len(t.shape) == 1 else "") + ")",
                         t.dtype, f"{t.elements:,}", f"{t.nbytes:,}", note))
        w = [max(len(x[i]) for x in rows) for i in range(5)]
        for x in rows:
            print("  " + "  ".join(x[i].ljust(w[i]) if i < 3 else x[i].rjust(w[i]) for i in range(5)) + f"  {x[5]}".rstrip())
    else:
        print("  (--depth N shows the module tree, --json lists every tensor)")
    state = "not separable in this format" if r.state is None else f"{r.state:,}"
    print(f"parameters     {r.parameters:,} ({human(r.parameters)}), unique; per-name sum {r.per_reference:,}")
    print(f"state          {state}")
    for group in r.tied:
        print(f"tied           {' = '.join(group)}")
    for dtype, d in r.by_dtype.items():
        print(f"{dtype:<14} {d['elements']:,} elements, {human_bytes(d['bytes'])}")
    m = r.memory()
    print("weights at     " + ", ".join(f"{k} {human_bytes(v)}" for k, v in m["weights"].items()))
    print(f"training       Adam fp32 {human_bytes(m['training_adam_fp32'])}; mixed precision "
          f"{human_bytes(m['training_adam_mixed_precision'])} (weights, gradients, moments; no activations)")
    for n in r.notes:
        print(f"note: {n}")
    return EXIT_OK


# ---------------------------------------------------------------------------- check
def _targets(requested: Sequence[str] | None) -> list[str]:
    """The targets asked for (checked and installed), or every installed one."""
    from .targets import TARGETS, installed, target

    wanted = _split(requested)
    for t in wanted:
        target(t)
    if not wanted:
        wanted = [t for t in TARGETS if installed(t)]
        if not wanted:
            raise SpecError("no framework is installed; install one, e.g. pip install 'paramspec[torch]'")
    missing = [t for t in wanted if not installed(t)]
    if missing:
        raise FrameworkUnavailable(f"not installed: {', '.join(missing)}")
    return wanted


def _run_child(target_name: str, argv: list[str]) -> subprocess.CompletedProcess:
    """``python -m paramspec ARGV`` for one target, in its own process: Keras fixes its backend
    at import, and one framework per process keeps memory and imports apart."""
    from .targets import TARGETS

    env = {**os.environ, **TARGETS[target_name].env,
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    return subprocess.run([sys.executable, "-m", "paramspec", *argv], env=env, capture_output=True, text=True)


def _child_failed(target_name: str, what: str, proc: subprocess.CompletedProcess) -> SpecError:
    last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return SpecError(f"the {target_name} {what} failed (exit {proc.returncode}): {last}")


def _run_in_process(target_name: str, kinds: list[str], record_file: Path | None, quiet: bool):
    from .compare import FAIL, NA, run_case
    from .loader import load_spec
    from .report import write_records
    from .targets import adapter

    spec = load_spec()
    ad = adapter(target_name)
    cases = [c for c in spec.cases() if not kinds or c.kind.name in kinds]
    t0 = time.perf_counter()
    records = [run_case(spec, c, ad) for c in cases]
    seconds = time.perf_counter() - t0
    if record_file:
        write_records(record_file, target_name, ad.version(), records)
    fails = [r for r in records if r.verdict == FAIL]
    if not quiet:
        for r in fails:
            print(r.explain(), file=sys.stderr)
    print(f"{target_name:<11} {ad.version()}: {len(records)} cases, {len(records) - len(fails) - sum(r.verdict == NA for r in records)} pass, "
          f"{len(fails)} fail, {sum(r.verdict == NA for r in records)} n/a ({seconds:.1f} s)", file=sys.stderr)
    return records, fails


def cmd_check(args: argparse.Namespace) -> int:
    from .loader import load_spec
    from .report import markdown, merge, read_records, text_table

    kinds = _split(args.kind)
    spec = load_spec()
    for k in kinds:
        spec.kind(k, "--kind")
    wanted = _targets(args.framework)
    if args.record_file:  # a child run: one target, in this process
        if len(wanted) != 1:
            raise SpecError("--record-file takes exactly one --framework")
        _, fails = _run_in_process(wanted[0], kinds, Path(args.record_file), args.quiet)
        return EXIT_DISAGREE if fails else EXIT_OK
    record_dir = Path(args.record_dir) if args.record_dir else Path(tempfile.mkdtemp(prefix="paramspec-"))
    files = []
    for t in wanted:
        path = record_dir / f"{t}.json"
        if path.exists():
            path.unlink()
        argv = ["check", "--framework", t, "--record-file", str(path), "--quiet"]
        for k in kinds:
            argv += ["--kind", k]
        proc = _run_child(t, argv)
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(t)]
        print(lines[-1] if lines else f"{t}: exit {proc.returncode}", file=sys.stderr)
        if proc.returncode not in (EXIT_OK, EXIT_DISAGREE) or not path.exists():
            raise _child_failed(t, "run", proc)
        files.append(read_records(path))
    m = merge(files)
    print(text_table(m))
    _write_outputs(args, lambda: markdown(m), m.to_dict)
    for r in m.failures:
        print(r.explain(), file=sys.stderr)
    return EXIT_DISAGREE if m.failures else EXIT_OK


def _write_outputs(args: argparse.Namespace, markdown: Callable[[], str], data: Callable[[], Any]) -> None:
    """Write ``--markdown`` and ``--json`` where asked (each rendered only when asked)."""
    for path, render in ((args.markdown, markdown), (args.json, lambda: json.dumps(data(), indent=1,
                                                                                    ensure_ascii=False) + "\n")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(render(), encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)


# ---------------------------------------------------------------------------- report
def cmd_report(args: argparse.Namespace) -> int:
    from .report import markdown, merge, read_records, text_table

    paths = [Path(p) for p in args.records]
    if args.record_dir:
        paths += sorted(Path(args.record_dir).glob("*.json"))
    if not paths:
        raise SpecError("no record files (give paths or --record-dir with *.json in it)")
    m = merge(read_records(p) for p in paths)
    print(text_table(m))
    _write_outputs(args, lambda: markdown(m), m.to_dict)
    return EXIT_OK


# ---------------------------------------------------------------------------- audit
def cmd_audit(args: argparse.Namespace) -> int:
    from . import audit as A

    course = A.load_course(args.course)
    wanted = _targets(args.framework)
    if args.part_file:  # a child run: one target, in this process
        if len(wanted) != 1:
            raise SpecError("--part-file takes exactly one --framework")
        part = A.audit_target(course, wanted[0])
        Path(args.part_file).write_text(json.dumps(part))
        return EXIT_OK
    parts = {}
    if len(wanted) == 1:
        parts[wanted[0]] = A.audit_target(course, wanted[0])
    else:
        with tempfile.TemporaryDirectory(prefix="paramspec-audit-") as tmp:
            for t in wanted:
                path = Path(tmp) / f"{t}.json"
                proc = _run_child(t, ["audit", str(args.course), "--framework", t, "--part-file", str(path)])
                if proc.returncode != EXIT_OK or not path.exists():
                    raise _child_failed(t, "audit", proc)
                parts[t] = json.loads(path.read_text())
                print(f"{t}: audited", file=sys.stderr)
    report = A.audit(course, wanted, parts)
    print(A.text_table(report))
    _write_outputs(args, lambda: A.markdown(report), lambda: report)
    return EXIT_DISAGREE if report["problems"] and not args.exit_zero else EXIT_OK


# ---------------------------------------------------------------------------- kinds, conventions, validate
def cmd_kinds(args: argparse.Namespace) -> int:
    from .loader import load_spec

    for kind in load_spec().kinds.values():
        variables = ", ".join(n if v.required else f"{n}={json.dumps(v.default)}" for n, v in kind.variables.items())
        presets = f"; presets: {', '.join(kind.presets)}" if kind.presets else ""
        print(f"{kind.name}({variables})  [{kind.file}, {len(kind.cases)} cases{presets}]")
    return EXIT_OK


def cmd_conventions(args: argparse.Namespace) -> int:
    from .docs import conventions_markdown, generated_block, write_readme
    from .loader import load_spec

    spec = load_spec()
    if args.write_readme:
        changed = write_readme(spec, args.write_readme)
        print(f"{args.write_readme}: {'updated' if changed else 'already up to date'}")
        return EXIT_OK
    print(generated_block(spec) if args.markdown else conventions_markdown(spec), end="")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .loader import load_spec_files
    from ._layout import spec_root

    root = Path(args.root) if args.root else spec_root()
    if not (root / "frameworks.yaml").is_file():
        raise SpecError("is not a spec folder (no frameworks.yaml)", str(root))
    spec = load_spec_files(root)
    n_conv = sum(len(k.conventions) for k in spec.kinds.values())
    n_na = sum(len(k.not_applicable) for k in spec.kinds.values())
    print(f"{root}: {len(spec.kinds)} kinds, {len(spec.cases())} cases, {n_conv} conventions, "
          f"{n_na} n/a rules: valid")
    return EXIT_OK


# ---------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="The reference spec and conformance suite for parameter counts.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("count", help="count one config in one framework, or a file")
    c.add_argument("path", nargs="?", help="a file to count: shape list, safetensors (or index), .pt/.bin, "
                                           ".weights.h5/.keras, .msgpack, .gguf, .onnx, or a model folder")
    c.add_argument("--framework", "-f", default="torch",
                   help="torch, keras, keras-jax, flax-linen or flax-nnx (default: torch)")
    c.add_argument("--spec", help="the config as YAML/JSON, e.g. '{kind: LSTM, input_size: 300, hidden_size: 128}' "
                                  "or '{model: resnet, preset: resnet50}'")
    c.add_argument("--hf-config", metavar="CONFIG_JSON", help="a Hugging Face config.json (bert, gpt2, llama, "
                                                               "mistral, qwen2)")
    c.add_argument("--depth", type=int, help="print the per-module tree to this depth")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_count)

    k = sub.add_parser("check", help="run the spec against installed frameworks and print the matrix")
    k.add_argument("--framework", "-f", action="append", help="a target (repeatable; default: all installed)")
    k.add_argument("--kind", action="append", help="only these kinds (repeatable)")
    k.add_argument("--record-dir", help="write one record file per target here")
    k.add_argument("--record-file", help=argparse.SUPPRESS)
    k.add_argument("--markdown", help="write the matrix as Markdown here")
    k.add_argument("--json", help="write the matrix as JSON here")
    k.add_argument("--quiet", action="store_true", help="do not print failure details")
    k.set_defaults(func=cmd_check)

    r = sub.add_parser("report", help="merge record files into the matrix (runs nothing)")
    r.add_argument("records", nargs="*", help="record files")
    r.add_argument("--record-dir", help="merge every *.json here")
    r.add_argument("--markdown", help="write the matrix as Markdown here")
    r.add_argument("--json", help="write the matrix as JSON here")
    r.set_defaults(func=cmd_report)

    u = sub.add_parser("audit", help="check a course file's formulas and worked examples against every framework")
    u.add_argument("course", help="a course file (see spec/courses/)")
    u.add_argument("--framework", "-f", action="append", help="a target (repeatable; default: all installed)")
    u.add_argument("--markdown", help="write a review comment (Markdown) here")
    u.add_argument("--json", help="write the full report (JSON) here")
    u.add_argument("--exit-zero", action="store_true", help="exit 0 even when something is wrong (bad input still exits 2)")
    u.add_argument("--part-file", help=argparse.SUPPRESS)
    u.set_defaults(func=cmd_audit)

    s = sub.add_parser("kinds", help="list the kinds and their variables")
    s.set_defaults(func=cmd_kinds)

    v = sub.add_parser("conventions", help="print the framework conventions table")
    v.add_argument("--markdown", action="store_true", help="print the README block (conventions and n/a)")
    v.add_argument("--write-readme", metavar="PATH", help="rewrite the block in this README")
    v.set_defaults(func=cmd_conventions)

    a = sub.add_parser("validate", help="check spec files (no framework needed)")
    a.add_argument("root", nargs="?", help="a spec folder (default: the bundled spec)")
    a.set_defaults(func=cmd_validate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SpecError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FrameworkUnavailable as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotApplicable as e:
        print(f"{PROG}: n/a: {e.reason}", file=sys.stderr)
        return EXIT_NOT_APPLICABLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
