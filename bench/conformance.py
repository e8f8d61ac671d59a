"""Generated conformance, the long run: N configs per kind drawn from the spec, in each target.

Usage: python bench/conformance.py N [TARGET ...] [--kind KIND ... | --group layers|models] [--seed S] [--jobs J]
       [--json PATH]
    (default: every installed target; N configs of every kind in each)

Each target runs in a fresh process of its own (Keras fixes its backend at import), up to
``--jobs`` at a time (default 1: the figures are one process's). For each kind, Hypothesis draws
N configs from the kind's variables (paramspec.strategies: the same strategies the suite's
tests/test_generated.py draws from, with the same bounds) and each is built, read, measured and
compared with the spec as the suite does (paramspec.testing.conformance_check: params, state,
the native totals, the counter's reading of one forward pass, the ``tensors`` bound).

A disagreement is shrunk to a minimal config and recorded by what differs (its signature: the
kind, the target and the quantities); the kind's run then goes on with that signature known
(configs that show only it are counted, not shrunk again) until N configs are drawn, so that a
second, different disagreement in the same kind is found too. Printed per target: configs
checked (the builds, shrinking's included), configs drawn, seconds, configs a second, and each
disagreement with its minimal config as the spec line to add and the first lines of its
explanation.

Exit status: 0 when every kind was drawn N times in every target and every config agreed; 1 when
any disagreement was found; 2 for bad input, in one line (an unknown target or kind, no
Hypothesis here to draw with, a kind whose variables cannot be drawn: its line says why); 4 when
a target's process failed or was killed, so its figures are incomplete.

A child's partial results survive it: each kind's result is appended to a JSON-lines file as
soon as it is done, and a child that is killed (``--timeout``) reports the kinds it finished.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import child_env, installed_targets, machine, run_child, targets

CHILD = r"""
import json, sys, time
from paramspec.errors import SpecError
from paramspec.frameworks import adapter
from paramspec.loader import load_spec
from paramspec.strategies import Plan
from paramspec.testing import Disagreement, conformance_check, run_drawn

target, n, seed, kinds, progress = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
ad = adapter(target)
spec = load_spec()
for name in kinds or list(spec.kinds):
    kind = spec.kind(name)
    t0 = time.perf_counter()
    out = {"kind": name, "checked": 0, "drawn": 0, "disagreements": [], "error": None}
    try:
        Plan.of(kind).check()
    except SpecError as e:
        out["error"] = str(e)
    inner = conformance_check(kind, target, seed) if out["error"] is None else None
    known, runs = {}, 0
    while out["error"] is None and out["drawn"] < n:
        state = {"calls": 0, "first": None}

        def check(config):
            state["calls"] += 1
            out["checked"] += 1
            try:
                inner(config)
            except Disagreement as e:
                if e.signature in known:
                    known[e.signature] += 1
                    return
                state["first"] = state["first"] or state["calls"]
                raise
            except Exception as e:  # a crash of the build or the comparison: shrunk like a disagreement
                signature = f"{kind.name} in {target}: {type(e).__name__}"
                if signature in known:
                    known[signature] += 1
                    return
                state["first"] = state["first"] or state["calls"]
                raise Disagreement(f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}",
                                   config, signature) from None

        try:
            run_drawn(kind, check, examples=n - out["drawn"], seed=seed + runs, label=f"bench:{target}",
                      database=None)
            out["drawn"] = n
        except Disagreement as e:
            known[e.signature] = 1
            out["drawn"] += state["first"] or 1
            out["disagreements"].append({"signature": e.signature, "config": e.config, "message": str(e)})
        except SpecError as e:
            out["error"] = str(e)
        runs += 1
    for d in out["disagreements"]:
        d["seen"] = known.get(d["signature"], 1)
    out["seconds"] = time.perf_counter() - t0
    with open(progress, "a") as f:
        f.write(json.dumps(out) + "\n")
print(json.dumps({"version": ad.version()}))
"""


def run(target: str, n: int, seed: int, kinds: list[str], timeout: float) -> dict:
    """One target's run in a fresh process: its kinds' results (those it finished, if killed)."""
    with tempfile.TemporaryDirectory() as tmp:
        progress = Path(tmp) / "kinds.jsonl"
        progress.touch()
        r = run_child(CHILD, [target, str(n), str(seed), json.dumps(kinds), str(progress)], child_env(target), timeout)
        r["kinds"] = [json.loads(line) for line in progress.read_text().splitlines() if line.strip()]
    return r


def main(argv: list[str]) -> int:
    from paramspec.strategies import session_seed, yaml_case

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int, metavar="N", help="configs drawn per kind per target")
    ap.add_argument("targets", nargs="*", metavar="TARGET", help=f"targets (default: every installed one; "
                    f"known: {', '.join(targets())})")
    ap.add_argument("--kind", action="append", default=[], help="only these kinds (repeatable)")
    ap.add_argument("--group", choices=("layers", "models"), help="only the layer kinds, or only the model families")
    ap.add_argument("--seed", type=int, help="the draws' seed (default: PARAMSPEC_SEED, else paramspec's fixed one)")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="targets run at once, each in its own process")
    ap.add_argument("--timeout", type=float, default=6 * 3600, help="seconds a target's process may run")
    ap.add_argument("--json", metavar="PATH", help="write every result as JSON to PATH")
    args = ap.parse_args(argv)
    chosen = args.targets or installed_targets()
    unknown = [t for t in chosen if t not in targets()]
    if unknown:
        ap.error(f"unknown target {unknown[0]!r} (known: {', '.join(targets())})")
    if args.n < 1:
        ap.error("N must be 1 or more")
    seed = args.seed if args.seed is not None else session_seed()
    from paramspec.loader import load_spec

    kinds = load_spec().kinds
    unknown = [k for k in args.kind if k not in kinds]
    if unknown:
        ap.error(f"unknown kind {unknown[0]!r} (`paramspec kinds` lists them)")
    if args.group:
        args.kind += [k.name for k in kinds.values() if k.group == args.group and k.name not in args.kind]
    try:
        import hypothesis  # noqa: F401  (the children run on this interpreter)
    except ImportError:
        print("bench/conformance.py: drawing configs needs hypothesis: pip install hypothesis (or 'paramspec[test]')",
              file=sys.stderr)
        return 2

    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d')}; command: python bench/conformance.py {' '.join(argv)}")
    print(f"{args.n} configs per kind per target, seed {seed}", flush=True)
    t0 = time.perf_counter()
    if args.jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(args.jobs) as pool:
            results = dict(zip(chosen, pool.map(lambda t: run(t, args.n, seed, args.kind, args.timeout), chosen)))
    else:
        results = {t: run(t, args.n, seed, args.kind, args.timeout) for t in chosen}
    wall = time.perf_counter() - t0

    print(f"\n{'target':<11} {'kinds':>5} {'drawn':>7} {'checked':>7} {'seconds':>8} {'per s':>6} "
          f"{'disagreements':>13}  slowest kinds (s)")
    found = []
    for t, r in results.items():
        kinds = r["kinds"]
        drawn = sum(k["drawn"] for k in kinds)
        checked = sum(k["checked"] for k in kinds)
        seconds = sum(k["seconds"] for k in kinds)
        slow = ", ".join(f"{k['kind']} {k['seconds']:.0f}" for k in sorted(kinds, key=lambda k: -k["seconds"])[:3])
        dis = [(t, k["kind"], d) for k in kinds for d in k["disagreements"]]
        found += dis
        status = f" ({r['error']})" if "error" in r else ""
        print(f"{t:<11} {len(kinds):>5} {drawn:>7} {checked:>7} {seconds:>8.0f} {checked / max(seconds, 1e-9):>6.1f} "
              f"{len(dis):>13}  {slow}{status}")
        for k in kinds:
            if k["error"]:
                print(f"  {k['kind']}: cannot be drawn: {k['error']}")
    print(f"\nwall: {wall:.0f} s")
    if found:
        print(f"\n{len(found)} disagreements (each shrunk to a minimal config; `seen`: configs that showed it):")
    for t, kind, d in found:
        lines = d["message"].splitlines()
        print(f"\n- {d['signature']} (seen {d['seen']} times)\n    {yaml_case(d['config'])}")
        print("\n".join("    " + line for line in lines[:1] + [ln for ln in lines[3:] if ln.startswith("  ")][:4]))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "n": args.n, "seed": seed, "wall": wall,
                                               "results": results}, indent=1, default=str))
    return exit_status(results)


def exit_status(results: dict) -> int:
    """The exit status of a run (see the module's docstring), from each target's result."""
    kinds = [k for r in results.values() for k in r.get("kinds", ())]
    if any(k["disagreements"] for k in kinds):
        return 1
    if any(k["error"] for k in kinds):
        return 2
    return 4 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
