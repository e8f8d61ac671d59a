"""Safe YAML/JSON reading: no tags, no duplicate keys, one-line errors with a line number."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

MAX_TEXT_BYTES = 10_000_000


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it


class _StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:  # explicit keys only: `<<` merges may be overridden
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)
    return {loader.construct_object(k, deep=deep): loader.construct_object(v, deep=deep) for k, v in node.value}


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def loads(text: str, where: str) -> Any:
    """Parse YAML (JSON is YAML) text.

    Raises:
        SpecError: ``where: malformed YAML at line L, column C: problem``.
    """
    if len(text) > MAX_TEXT_BYTES:
        raise SpecError(f"is {len(text)} characters long (the limit is {MAX_TEXT_BYTES})", where)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if mark is None:
            at = ""
        elif "\n" not in text.strip():  # inline text (--spec): a column, or its end
            at = " at the end of the text" if mark.line > 0 or mark.column >= len(text.rstrip()) else \
                f" at column {mark.column + 1} (`{text[max(0, mark.column - 10):mark.column + 10]}`)"
        else:
            at = f" at line {mark.line + 1}, column {mark.column + 1}"
        raise SpecError(f"malformed YAML{at}: {e.problem or e.context}", where) from None
    except yaml.YAMLError as e:
        raise SpecError(f"malformed YAML: {e}", where) from None
    except RecursionError:
        raise SpecError("malformed YAML: nested too deeply", where) from None


def load_path(path: Path | str) -> Any:
    """Read and parse a YAML or JSON file, with the file name as the error location."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror}", str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"is not UTF-8 (byte {e.start})", str(path)) from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}", str(path)) from None
        except RecursionError:
            raise SpecError("malformed JSON: nested too deeply", str(path)) from None
    return loads(text, str(path))
