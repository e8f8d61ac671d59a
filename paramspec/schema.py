"""JSON Schema checks of spec, course and record files, with one-line errors that name where.

The schemas live beside the data in ``spec/`` (``schema.json``, ``frameworks.schema.json``,
``course.schema.json``, ``records.schema.json``). A schema that refers to ``#/$defs/framework``
gets that definition filled in from ``frameworks.yaml``, so the list of frameworks is
written in one place.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from ._layout import spec_root
from .errors import SpecError

MAX_MESSAGE = 200
# top-level lists whose items have a name that reads better than an index
_NAMED_LISTS = {"kinds": "kind", "entries": "id", "records": "case"}


@functools.lru_cache(maxsize=16)
def _validator(schema_name: str, frameworks: tuple[str, ...] | None):
    import jsonschema

    schema = json.loads((spec_root() / schema_name).read_text(encoding="utf-8"))
    if frameworks is not None and "framework" in schema.get("$defs", {}):
        schema = copy.deepcopy(schema)
        schema["$defs"]["framework"] = {"enum": list(frameworks)}
    return jsonschema.Draft202012Validator(schema)


def cache_dir() -> Path | None:
    """Where passed schema checks are remembered: ``PARAMSPEC_CACHE_DIR`` (empty: nowhere),
    else ``$XDG_CACHE_HOME/paramspec``, else ``~/.cache/paramspec``."""
    env = os.environ.get("PARAMSPEC_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "paramspec"


def _passed_key(data: Any, schema_name: str, frameworks: tuple[str, ...] | None) -> str:
    h = hashlib.sha256()
    h.update((spec_root() / schema_name).read_bytes())
    h.update(repr(frameworks).encode())
    h.update(json.dumps(data, sort_keys=True, default=repr).encode())
    return h.hexdigest()


def schema_check(data: Any, schema_name: str, where: str, frameworks: Iterable[str] | None = None,
                 remember: bool = False) -> None:
    """Check ``data`` against ``spec/<schema_name>``; raise the best error as one line.

    Args:
        frameworks: the framework ids ``#/$defs/framework`` allows (from frameworks.yaml).
        remember: the spec's own files: a pass is remembered as an empty file named by the
            digest of the schema and the data (:func:`cache_dir`), and the same data is not
            checked again. Only a pass is remembered, so a changed file is always checked;
            nothing is read back from the cache but a file's existence.

    Raises:
        SpecError: ``spec/layers/dense.yaml: Linear.params: ...`` (the item's name, not its index).
    """
    fws = tuple(frameworks) if frameworks is not None else None
    marker = None
    if remember and (cache := cache_dir()) is not None:
        try:
            marker = cache / "schema-passed" / _passed_key(data, schema_name, fws)
            if marker.exists():
                return
        except (OSError, ValueError, TypeError, RecursionError):
            marker = None
    import jsonschema

    validator = _validator(schema_name, fws)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        path = pretty_path(data, list(err.absolute_path))
        msg = _plain_message(err)
        msg = msg if len(msg) < MAX_MESSAGE else msg[:MAX_MESSAGE] + "..."
        raise SpecError(f"{path or 'top level'}: {msg}", where)
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only cache only costs the next load the check


def pretty_path(data: Any, path: list) -> str:
    """``kinds[3].variables.bias`` becomes ``LSTM.variables.bias`` (and a course's
    ``entries[2].counts`` becomes ``lstm.counts``) when the item has a name."""
    out = ""
    node = data
    for part in path:
        try:
            child = node[part]
        except (KeyError, IndexError, TypeError):
            child = None
        if isinstance(part, int):
            key = _NAMED_LISTS.get(out)
            named = key is not None and isinstance(child, dict) and isinstance(child.get(key), str)
            out = child[key] if named else f"{out}[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
        node = child
    return out


def _plain_message(err: Any) -> str:
    """jsonschema's message, said plainly where it can be: an unknown key is named, with a
    did-you-mean among the keys the schema knows."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        from .hints import suggest

        known = list((err.schema or {}).get("properties") or {})
        unknown = [k for k in err.instance if k not in known]
        if unknown and known:
            return f"unknown key {unknown[0]!r}{suggest(unknown[0], known)}; known: {', '.join(known)}"
    return err.message
