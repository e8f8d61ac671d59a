"""``paramspec kinds``, ``conventions`` and ``validate``: the spec itself, no framework."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import EXIT_OK, SpecError


def add_parsers(sub) -> None:
    s = sub.add_parser("kinds", help="list the kinds and model families, with their variables")
    s.set_defaults(func=run_kinds)

    v = sub.add_parser("conventions", help="print the framework conventions table (Markdown)")
    v.add_argument("--not-applicable", action="store_true", help="also print what each framework lacks (n/a)")
    v.set_defaults(func=run_conventions)

    a = sub.add_parser("validate", help="check spec files (no framework needed)")
    a.add_argument("root", nargs="?", help="a spec folder (default: the bundled spec)")
    a.set_defaults(func=run_validate)


def run_kinds(args: argparse.Namespace) -> int:
    from ..loader import load_spec

    for kind in load_spec().kinds.values():
        variables = ", ".join(n if v.required else f"{n}={json.dumps(v.default)}" for n, v in kind.variables.items())
        presets = f"; presets: {', '.join(kind.presets)}" if kind.presets else ""
        print(f"{kind.name}({variables})  [{kind.file}, {len(kind.cases)} cases{presets}]")
    return EXIT_OK


def run_conventions(args: argparse.Namespace) -> int:
    from ..render.spec_tables import conventions, not_applicable

    print(conventions())
    if args.not_applicable:
        print()
        print(not_applicable())
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
