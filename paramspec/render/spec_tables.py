"""Markdown tables read from the spec: conventions, n/a rules, targets, kinds, model families
(the generated documentation and ``paramspec conventions`` print them)."""
from __future__ import annotations

import json
from typing import Callable

from ..frameworks import frameworks
from ..loader import load_spec


def cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: object) -> str:
    return f"`{cell(text)}`"


def table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def convention_rows() -> list[tuple[str, str, str, str | None, str | None, str]]:
    """(kind, frameworks, what it counts, the framework's formula, the canonical one, why) for
    every place a framework follows its own formula (formulas None: a note, the same count)."""
    spec = load_spec()
    rows: list[tuple[str, str, str, str | None, str | None, str]] = []
    for fw in spec.frameworks.values():
        for n in fw.native:
            if n.why:
                rows.append(("(every kind)", fw.id, f"native {n.name}", n.formula.text, None, n.why))
    for kind in spec.kinds.values():
        for conv in kind.conventions:
            fws = ", ".join(conv.frameworks)
            for what in ("params", "state", "tied", "embedding"):
                f = getattr(conv, what)
                if f is None:
                    continue
                canonical = getattr(kind, what)
                rows.append((kind.name, fws, what, f.text, canonical.text if canonical is not None else "0", conv.why))
        for fws_t, note in kind.notes:
            rows.append((kind.name, ", ".join(fws_t), "shapes", None, None, note))
    return rows


def conventions() -> str:
    """Every place a framework follows its own formula, with the formula and why (Markdown)."""
    rows = []
    for kind, fws, what, formula, canonical, why in convention_rows():
        counts = f"native `{cell(what[7:])}`" if what.startswith("native ") else what
        shown = "(same count)" if formula is None else code(formula) + (
            f" (canonical: {code(canonical)})" if canonical is not None else "")
        rows.append([kind, fws, counts, shown, why])
    return table(["kind", "framework", "counts", "framework's formula", "why"], rows)


def conventions_text() -> str:
    """The conventions for a terminal: one folded entry each, names whole."""
    from .console import fold

    out = []
    for kind, fws, what, formula, canonical, why in convention_rows():
        shown = "the same count" if formula is None else f"{formula}" + (
            f" (canonical: {canonical})" if canonical is not None else "")
        out.append(fold(f"{kind}, {what} in {fws}: {shown}", indent="    "))
        out.append(fold(why, indent="    ", first="    "))
    return "\n".join(out)


def not_applicable_text() -> str:
    """The n/a rules for a terminal: one folded entry each."""
    from .console import fold

    out = []
    for k in load_spec().kinds.values():
        for r in k.not_applicable:
            out.append(fold(f"{k.name} in {', '.join(r.frameworks)}, {('when ' + r.when.text) if r.when else 'always'}: "
                            f"{r.why}", indent="    "))
    return "\n".join(out)


def counters() -> str:
    """The compute counters (frameworks.yaml): the targets that read with each, how, the ops
    counted as matmul-like, the default formula for that part, and why."""
    spec = load_spec()
    users: dict[str, list[str]] = {}
    for fw in spec.frameworks.values():
        for t in fw.targets:
            if t.counter:
                users.setdefault(t.counter, []).append(f"`{t.name}`")
    rows = [[f"`{c.id}`", c.name, ", ".join(users.get(c.id, [])), c.api, ", ".join(f"`{op}`" for op in c.matmul_ops),
             code(c.matmul.text) + (f"; total {code(c.total.text)}" if c.total is not None else ""), c.why]
            for c in spec.counters.values()]
    return table(["counter", "what", "targets", "how it is read", "matmul-like ops", "default formula", "why"], rows)


def counter_conventions() -> str:
    """Every kind where a counter reads its own way: the counter's formula, when, and why."""
    rows = []
    for kind in load_spec().kinds.values():
        for r in kind.counter_rules:
            what = "n/a" if r.not_applicable else "; ".join(
                f"{name} {code(f.text)}" for name, f in (("matmul", r.matmul), ("total", r.total)) if f is not None)
            rows.append([kind.name, ", ".join(r.counters) + (f" ({', '.join(r.frameworks)})" if r.frameworks else ""),
                         code(r.when.text) if r.when else "always", what, r.why])
    return table(["kind", "counter (frameworks)", "when", "the counter's formula", "why"], rows)


def not_applicable() -> str:
    """Every layer or option a framework lacks, as the spec records it."""
    rows = [[k.name, ", ".join(r.frameworks), code(r.when.text) if r.when else "always", r.why]
            for k in load_spec().kinds.values() for r in k.not_applicable]
    return table(["kind", "framework", "when", "why"], rows)


def targets() -> str:
    """The targets, from frameworks.yaml: what each needs, and where its readings come from."""
    rows = []
    for fw in frameworks().values():
        natives = "; ".join(f"`{n.name}` = `{n.formula.text}`"
                            + ("" if n.independent else f" (not independent: {n.independent_why})") for n in fw.native)
        for t in fw.targets:
            env = ", ".join(f"{k}={v}" for k, v in t.env.items())
            rows.append([f"`{t.name}`", fw.name, ", ".join(t.needs) + (f" ({env})" if env else ""),
                         f"`paramspec[{t.extra}]`" if t.extra else "", fw.tensors, natives])
    return table(["target", "framework", "needs", "installs with", "the per-tensor list", "native totals"], rows)


def target_names() -> str:
    return ", ".join(f"`{t.name}`" for fw in frameworks().values() for t in fw.targets)


def _default(v) -> str:
    return "required" if v.required else json.dumps(v.default)


def _kinds(group: str) -> str:
    spec = load_spec()
    out = []
    for kind in spec.kinds.values():
        if kind.group != group:
            continue
        out += [f"### `{kind.name}`", "", kind.summary, "", f"Defined in `{kind.file}`.", ""]
        rows = [[f"`{n}`", v.type, _default(v), v.describe(), v.doc] for n, v in kind.variables.items()]
        if rows:
            out += [table(["variable", "type", "default", "accepts", ""], rows), ""]
        if kind.presets:
            out += ["Presets: " + ", ".join(f"`{p}`" for p in kind.presets) + ".", ""]
        lets = [f"- `{k}`: `{cell(f.text)}`" for k, f in kind.let.items()]
        if lets:
            out += ["Helpers (`let`):", "", *lets, ""]
        out += [f"- params: `{cell(kind.params.text)}`", f"- state: `{cell(kind.state.text)}`"]
        if kind.embedding is not None:
            out.append(f"- embedding: `{cell(kind.embedding.text)}`")
        if kind.tied is not None:
            out.append(f"- tied: `{cell(kind.tied.text)}`")
        if kind.inputs:
            shapes = "; ".join(
                (code(x.shape.text) if hasattr(x.shape, "text") else "`[" + ", ".join(cell(d.text) for d in x.shape) + "]`")
                + (f" {x.dtype}" if x.dtype != "float32" else "") + (" (channels first)" if x.channels_first else "")
                for x in kind.inputs)
            out.append(f"- inputs: {shapes}")
        if kind.macs is not None:
            out.append(f"- macs: `{cell(kind.macs.text)}`")
        for name, f in kind.terms.items():
            out.append(f"- term {name}: `{cell(f.text)}`")
        for r in kind.counter_rules:
            when = f" when `{cell(r.when.text)}`" if r.when else ""
            fws = f" ({', '.join(r.frameworks)})" if r.frameworks else ""
            what = "n/a" if r.not_applicable else ", ".join(
                f"{name} `{cell(f.text)}`" for name, f in (("matmul", r.matmul), ("total", r.total)) if f is not None)
            out.append(f"- counter {', '.join(r.counters)}{fws}{when}: {what} ({r.why})")
        for name, e in kind.estimates.items():
            what = ((f"activations in bytes, recompute {' or '.join(e.recompute)}, " if e.of == "activations"
                     else "training " if e.training else "") + ("a step" if e.per == "step" else "a token"))
            differs = f"; {e.differs}" if e.differs else ""
            out.append(f"- estimate {name} ({what}): `{cell(e.formula.text)}` ({e.source}{differs})")
        t = kind.training
        for part, f in (("weight gradients", t.weight), ("activation gradients", t.input),
                        ("input gradient", t.first), ("activations (bytes)", t.activations)):
            if f is not None:
                out.append(f"- training {part}: `{cell(f.text)}`")
        for r in t.rules:
            when = f" when `{cell(r.when.text)}`" if r.when else ""
            fws = f" ({', '.join(r.frameworks)})" if r.frameworks else ""
            what = "n/a" if r.not_applicable else f"backward `{cell(r.backward.text)}`"
            out.append(f"- training counter {', '.join(r.counters)}{fws}{when}: {what} ({r.why})")
        for c in t.conventions:
            out.append(f"- training {', '.join(c.frameworks)}: activations `{cell(c.activations.text)}` ({c.why})")
        for conv in kind.conventions:
            changed = ", ".join(f"{w} `{cell(getattr(conv, w).text)}`" for w in ("params", "state", "tied", "embedding")
                                if getattr(conv, w) is not None)
            out.append(f"- {', '.join(conv.frameworks)}: {changed} ({conv.why})")
        for rule in kind.not_applicable:
            when = f"when `{cell(rule.when.text)}`" if rule.when else "always"
            out.append(f"- n/a in {', '.join(rule.frameworks)} {when}: {rule.why}")
        for pub in kind.published:
            out.append(f"- published: `{pub.preset}` {_figure(pub)} ({pub.source})")
        out += ["", "Cases: " + ", ".join(f"`{c.id}`" for c in kind.cases) + ".", ""]
    return "\n".join(out)


def layer_kinds() -> str:
    return _kinds("layers")


def model_families() -> str:
    return _kinds("models")


def kinds_index() -> str:
    spec = load_spec()
    rows = [[f"`{k.name}`", "layer" if k.group == "layers" else "model", ", ".join(k.variables),
             len(k.cases)] for k in spec.kinds.values()]
    return table(["kind", "group", "variables", "cases"], rows)


def published() -> str:
    spec = load_spec()
    rows = []
    for kind in spec.kinds.values():
        for pub in kind.published:
            rows.append([f"`{kind.name}` `{pub.preset}`", _figure(pub), pub.framework or "every framework",
                         pub.source])
    return table(["model", "figure", "read in", "source"], rows)


def _figure(pub) -> str:
    if pub.params is not None:
        return f"{pub.params:,} params"
    if pub.gparams is not None:
        return f"{pub.gparams}B params" + (f", {pub.gactive}B active" if pub.gactive else "")
    if pub.gmacs is not None:
        return f"{pub.gmacs} GMACs"
    return ", ".join(f"`{k}` {v:,}" for k, v in pub.native.items())


def hf_model_types() -> str:
    spec = load_spec()
    rows = [[f"`{m.model_type}`", f"`{k.name}`", f"`{m.cls}`",
             ", ".join(f"`{a}`" for a in m.defaults)
             + "".join(f"; `{a}` → `{b}`" for a, b in m.aliases.items()),
             ", ".join([f"`{a}: {json.dumps(b)}`" for a, b in m.fixed.items()]
                       + [f"`{a} = {f.text}`" for a, f in m.variables.items()]),
             ", ".join(f"`{a}`" for a in m.refuse)]
            for k in spec.kinds.values() for m in k.hf]
    return table(["model_type", "family", "transformers class", "keys read; aliases (the alias wins)",
                  "family variables it fixes or derives", "refused unless at the family's value"], rows)


def spec_summary() -> str:
    spec = load_spec()
    layers = [k for k in spec.kinds.values() if k.group == "layers"]
    models = [k for k in spec.kinds.values() if k.group == "models"]
    return (f"{len(layers)} layer kinds ({sum(len(k.cases) for k in layers)} cases) and {len(models)} model "
            f"families ({sum(len(k.cases) for k in models)} cases), {sum(len(k.conventions) for k in spec.kinds.values())}"
            f" recorded conventions and {sum(len(k.not_applicable) for k in spec.kinds.values())} n/a rules, "
            f"over {len(list(spec.frameworks))} frameworks ({target_names()}); "
            f"{sum(k.macs is not None for k in spec.kinds.values())} of {len(spec.kinds)} have a `macs` formula, read by {len(spec.counters)} counters with "
            f"{sum(len(k.counter_rules) for k in spec.kinds.values())} counter rules.")


BLOCKS: dict[str, Callable[[], str]] = {
    "conventions": conventions, "not-applicable": not_applicable, "targets": targets,
    "layer-kinds": layer_kinds, "model-families": model_families, "kinds-index": kinds_index,
    "published": published, "hf-model-types": hf_model_types, "spec-summary": spec_summary,
    "counters": counters, "counter-conventions": counter_conventions,
}
