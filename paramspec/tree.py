"""A per-module tree of a reading, to a chosen depth (like torchinfo and Keras ``summary()``).

Module paths come from the tensor names the framework gave: ``.``-separated in torch,
``/``-separated in Keras and Flax (Flax linen names start with the collection, which is
dropped: ``params/...`` and ``batch_stats/...`` land in the same module). A tied tensor is
counted at its first name; every other place that refers to it is marked there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .reading import Tensor


@dataclass
class Node:
    path: tuple[str, ...]
    params: int = 0
    state: int = 0
    tied_from: list[str] = field(default_factory=list)  # names counted elsewhere, referenced here

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else "(model)"

    def to_dict(self, sep: str) -> dict:
        d = {"module": sep.join(self.path), "depth": len(self.path), "params": self.params, "state": self.state}
        if self.tied_from:
            d["tied"] = self.tied_from
        return d


def module_tree(tensors: Iterable[Tensor], depth: int, sep: str = ".", strip_collection: bool = False) -> list[Node]:
    """Modules down to ``depth`` levels, in first-seen order, each with its params and state.

    Args:
        sep: how names nest (``.`` in torch, ``/`` in Keras and Flax).
        strip_collection: drop the first name part (Flax linen's ``params/``, ``batch_stats/``).
    """
    def parts_of(name: str) -> list[str]:
        parts = name.split(sep)
        return parts[1:] if strip_collection and len(parts) > 1 else parts

    nodes: dict[tuple[str, ...], Node] = {}

    def node(path: tuple[str, ...]) -> Node:
        if path not in nodes:
            nodes[path] = Node(path)
        return nodes[path]

    tensors = list(tensors)
    for t in tensors:
        parts = parts_of(t.name)
        for k in range(1, min(depth, len(parts) - 1) + 1):
            n = node(tuple(parts[:k]))
            if t.trainable:
                n.params += t.numel
            else:
                n.state += t.numel
    for t in tensors:  # aliases after every first name, as the framework lists them last
        parts = parts_of(t.name)
        for alias in t.shared_with:
            alias_parts = parts_of(alias)
            for k in range(1, min(depth, len(alias_parts) - 1) + 1):
                n = node(tuple(alias_parts[:k]))
                if tuple(parts[:k]) != n.path:
                    n.tied_from.append(f"{alias} = {t.name} ({t.numel:,})")
    return list(nodes.values())
