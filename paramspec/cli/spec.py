"""``paramspec kinds``, ``conventions`` and ``validate``: the spec itself, no framework."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import EXIT_OK, SpecError


def add_parsers(sub) -> None:
    s = sub.add_parser("kinds", help="list the kinds and model families, with their variables",
                       description="List every layer kind and model family with its variables (required ones "
                                   "first, then each option with its default), or, for the kinds named, their "
                                   "variables, formulas, presets and cases.")
    s.add_argument("kinds", nargs="*", metavar="KIND", help="only these kinds or model families, in detail")
    s.set_defaults(func=run_kinds)

    v = sub.add_parser("conventions", help="print where a framework follows its own formula, and why",
                       description="Print every framework convention the spec records (a framework's own formula "
                                   "for a kind, and why), folded to the terminal; --markdown prints the table.")
    v.add_argument("--not-applicable", action="store_true", help="also print what each framework lacks (n/a)")
    v.add_argument("--markdown", action="store_true", help="print Markdown tables instead")
    v.set_defaults(func=run_conventions)

    a = sub.add_parser("validate", help="check spec files (no framework needed)")
    a.add_argument("root", nargs="?", help="a spec folder (default: the bundled spec)")
    a.set_defaults(func=run_validate)


def run_kinds(args: argparse.Namespace) -> int:
    from ..loader import load_spec
    from ..render.console import fold

    spec = load_spec()
    wanted = [spec.kind(k, "kinds") for k in args.kinds]
    for kind in wanted or spec.kinds.values():
        ordered = sorted(kind.variables.items(), key=lambda nv: not nv[1].required)  # required first
        variables = ", ".join(n if v.required else f"{n}={json.dumps(v.default)}" for n, v in ordered)
        presets = f"; presets: {', '.join(kind.presets)}" if kind.presets else ""
        print(fold(f"{kind.name}({variables})  [{kind.file}, {len(kind.cases)} cases{presets}]", indent="    "))
        if wanted:
            print(_kind_detail(kind, fold))
    return EXIT_OK


def _kind_detail(kind, fold) -> str:
    """One kind in detail: its summary, each variable, its formulas, conventions and cases."""
    out = [fold(kind.summary, indent="  ", first="  ")]
    for name, v in sorted(kind.variables.items(), key=lambda nv: not nv[1].required):
        out.append(fold(f"{name}: {v.describe()}" + (f" ({v.doc})" if getattr(v, "doc", "") else ""),
                        indent="      ", first="  - "))
    out.append(fold(f"params = {kind.params}", indent="      ", first="  "))
    out.append(fold(f"state = {kind.state}", indent="      ", first="  "))
    if kind.macs is not None:
        out.append(fold(f"macs = {kind.macs}", indent="      ", first="  "))
    for c in kind.conventions:
        changed = ", ".join(f"{w} = {getattr(c, w)}" for w in ("params", "state", "tied", "embedding")
                            if getattr(c, w) is not None)
        out.append(fold(f"{', '.join(c.frameworks)}: {changed} ({c.why})", indent="      ", first="  "))
    for r in kind.not_applicable:
        when = f" when {r.when}" if r.when else ""
        out.append(fold(f"n/a in {', '.join(r.frameworks)}{when}: {r.why}", indent="      ", first="  "))
    out.append(fold("cases: " + ", ".join(c.id for c in kind.cases), indent="      ", first="  "))
    return "\n".join(out)


def run_conventions(args: argparse.Namespace) -> int:
    from ..render import spec_tables as T

    print(T.conventions() if args.markdown else T.conventions_text())
    if args.not_applicable:
        print()
        print(T.not_applicable() if args.markdown else T.not_applicable_text())
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    from .._layout import spec_root
    from ..loader import load_spec_files

    root = Path(args.root) if args.root else spec_root()
    if not (root / "frameworks.yaml").is_file():
        raise SpecError("is not a spec folder (no frameworks.yaml)", str(root))
    spec = load_spec_files(root)
    n_conv = sum(len(k.conventions) for k in spec.kinds.values())
    n_na = sum(len(k.not_applicable) for k in spec.kinds.values())
    n_macs = sum(k.macs is not None for k in spec.kinds.values())
    n_rules = sum(len(k.counter_rules) for k in spec.kinds.values())
    print(f"{root}: {len(spec.kinds)} kinds ({n_macs} with macs), {len(spec.cases())} cases, {n_conv} conventions, "
          f"{n_na} n/a rules, {len(spec.counters)} counters, {n_rules} counter rules: valid")
    return EXIT_OK
