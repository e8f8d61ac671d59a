"""One reader per file format. Each reads headers and indexes, never the weights.

Every reader raises :class:`paramspec.FileFormatError` (one line: the file and what is
wrong) on a bad file, and none runs code from the file: pickles are opened with
``torch.load(weights_only=True)``, Keras configs are rebuilt in ``safe_mode``.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from ..errors import FileFormatError
from ..reading import Tensor
from . import onnx_quant, rules
from .quantization import Quantization

MAX_HEADER = 100 * 2**20  # 100 MB: safetensors' own limit
MAX_ELEMENTS = 2**53

Ties = dict[str, str]  # alias name -> the name of the tensor it shares data with (listed before it)


def _tensor(name: str, shape: tuple[int, ...], dtype: str, nbytes: int, *, elements: int | None = None,
            packing: str = "", state: bool | None = None, why_state: str = "") -> Tensor:
    """A tensor as the file lists it: state as the file marks it, else by the name rules."""
    if state is None:
        why_state = rules.state_reason(name)
        state = bool(why_state)
    return Tensor(name, shape, dtype, not state, elements=elements, nbytes=nbytes, packing=packing,
                  why_state=why_state if state else "")


def _check_shape(shape: Any, name: str, where: str) -> tuple[int, ...]:
    if not isinstance(shape, (list, tuple)) or len(shape) > 16:
        raise FileFormatError(f"tensor {name!r} has no valid shape ({shape!r})", where)
    out = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, int):
            raise FileFormatError(f"tensor {name!r} has a non-integer dimension {d!r}", where)
        if d < 0:
            raise FileFormatError(f"tensor {name!r} has a negative dimension {d}", where)
        out.append(d)
    if math.prod(out) > MAX_ELEMENTS:
        raise FileFormatError(f"tensor {name!r} has {math.prod(out):,} elements, over the 2**53 limit", where)
    return tuple(out)


# ----------------------------------------------------------------------------- shape lists
def read_shape_list(data: Any, where: str) -> tuple[list[Tensor], Ties]:
    """The course's metadata format: ``[{"name", "shape", "dtype"?, "tied_to"?, "state"?}]``
    (or ``{"tensors": [...]}``). A missing dtype is float32."""
    items = data.get("tensors") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise FileFormatError("a shape list must be a non-empty list of {name, shape} (or {tensors: [...]})", where)
    out: list[Tensor] = []
    names: dict[str, Tensor] = {}
    ties: Ties = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "name" not in item or "shape" not in item:
            raise FileFormatError(f"entry {i} needs a name and a shape", where)
        extra = set(item) - {"name", "shape", "dtype", "tied_to", "state"}
        if extra:
            raise FileFormatError(f"entry {i} has unknown key {sorted(extra)[0]!r}", where)
        name = str(item["name"])
        if name in names:
            raise FileFormatError(f"tensor {name!r} is listed twice", where)
        shape = _check_shape(item["shape"], name, where)
        dtype = rules.dtype_name(item.get("dtype", "float32"))
        if dtype is None:
            raise FileFormatError(f"tensor {name!r} has an unknown dtype {item.get('dtype')!r}", where)
        n = math.prod(shape)
        packing = "2 values a byte" if rules.DTYPE_BYTES[dtype] < 1 else ""
        if "state" in item:
            if not isinstance(item["state"], bool):
                raise FileFormatError(f"tensor {name!r}: state must be true or false", where)
            t = _tensor(name, shape, dtype, rules.nbytes(n, dtype), packing=packing, state=item["state"],
                        why_state="declared by the file")
        else:
            t = _tensor(name, shape, dtype, rules.nbytes(n, dtype), packing=packing)
        if "tied_to" in item:
            target = names.get(str(item["tied_to"]))
            if target is None:
                raise FileFormatError(f"tensor {name!r} is tied to {item['tied_to']!r}, which is not listed before it", where)
            if target.shape != shape:
                raise FileFormatError(f"tensor {name!r} is tied to {target.name!r} of another shape", where)
            ties[name] = ties.get(target.name, target.name)
        names[name] = t
        out.append(t)
    return out, ties


# ----------------------------------------------------------------------------- safetensors
Locations = dict[str, tuple[Path, int, int]]  # tensor name -> (file, offset of its data, bytes)


def read_safetensors(path: Path, locations: Locations | None = None) -> tuple[list[Tensor], dict[str, str]]:
    """The tensors a safetensors file declares, from its header; checked against the file.
    ``locations``, when given, gets where each tensor's data is (for :func:`read_small`)."""
    where = str(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise FileFormatError("is truncated: no 8-byte header length", where)
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER:
            raise FileFormatError(f"declares a {n:,}-byte header, over the 100 MB limit", where)
        if 8 + n > size:
            raise FileFormatError(f"declares a {n:,}-byte header, past the end of the {size:,}-byte file", where)
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise FileFormatError(f"has a header that is not UTF-8 (byte {e.start})", where) from None
    except (json.JSONDecodeError, RecursionError) as e:
        raise FileFormatError(f"has a header that is not JSON ({getattr(e, 'msg', 'nested too deeply')})", where) from None
    if not isinstance(header, dict):
        raise FileFormatError("has a header that is not a JSON object", where)
    data_size = size - 8 - n
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise FileFormatError("has a __metadata__ that is not an object", where)
    out = []
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise FileFormatError(f"tensor {name!r} lacks dtype, shape or data_offsets", where)
        dtype = rules.SAFETENSORS_DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        if dtype is None:
            raise FileFormatError(f"tensor {name!r} has an unknown dtype {info['dtype']!r}", where)
        shape = _check_shape(info["shape"], name, where)
        offs = info["data_offsets"]
        if (not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(o, int) and not isinstance(o, bool)
                                                                      for o in offs)):
            raise FileFormatError(f"tensor {name!r} has malformed data_offsets {offs!r}", where)
        begin, end = offs
        if not 0 <= begin <= end:
            raise FileFormatError(f"tensor {name!r} has data_offsets {offs} that run backwards", where)
        if end > data_size:
            raise FileFormatError(f"tensor {name!r} runs past the end of the file ({end:,} > {data_size:,} data bytes)", where)
        elements = math.prod(shape)
        want = rules.nbytes(elements, dtype)
        if end - begin != want:
            raise FileFormatError(f"tensor {name!r} spans {end - begin:,} bytes but {shape} {dtype} needs {want:,}", where)
        spans.append((begin, end, name))
        out.append(_tensor(name, shape, dtype, end - begin))
        if locations is not None:
            locations[name] = (path, 8 + n + begin, end - begin)
    spans.sort()
    for (b1, e1, n1), (b2, e2, n2) in zip(spans, spans[1:]):
        if b2 < e1:
            raise FileFormatError(f"tensors {n1!r} and {n2!r} overlap ({b1}-{e1} and {b2}-{e2})", where)
    return out, {str(k): str(v) for k, v in metadata.items()}


def read_safetensors_index(path: Path, locations: Locations | None = None,
                           metadata: dict[str, str] | None = None) -> list[Tensor]:
    """A sharded set: ``model.safetensors.index.json`` and the shards it names (``locations``
    and ``metadata``, when given, get each tensor's place and the shards' ``__metadata__``)."""
    where = str(path)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise FileFormatError(f"is not a JSON index: not UTF-8 text (byte {e.start})", where) from None
    except json.JSONDecodeError as e:
        raise FileFormatError(f"is not a JSON index (line {e.lineno}, column {e.colno}: {e.msg})", where) from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise FileFormatError("has no weight_map", where)
    shards: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or Path(shard).is_absolute() or ".." in Path(shard).parts:
            raise FileFormatError(f"names shard {shard!r} outside its folder", where)
        shards.setdefault(shard, []).append(name)
    out = []
    for shard, names in shards.items():
        p = path.parent / shard
        if not p.is_file():
            raise FileFormatError(f"names shard {shard!r}, which does not exist", where)
        tensors, meta = read_safetensors(p, locations)
        if metadata is not None:
            metadata.update(meta)
        have = {t.name for t in tensors}
        missing = sorted(set(names) - have)
        if missing:
            raise FileFormatError(f"maps {missing[0]!r} to {shard}, which does not hold it", where)
        out += tensors
    return out


def read_small(locations: Locations, name: str, limit: int = 64 * 1024) -> bytes:
    """The stored bytes of a small metadata tensor (a quant state, a shape): never a weight."""
    path, offset, n = locations[name]
    if n > limit:
        raise FileFormatError(f"tensor {name!r} holds {n:,} bytes where a small quantization record belongs", str(path))
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(n)


# ----------------------------------------------------------------------------- PyTorch
def _is_zip(path: Path) -> bool:
    """``zipfile.is_zipfile``, which itself raises on some damaged end records ("zipfiles
    that span multiple disks are not supported"): such a file is a damaged zip."""
    try:
        return zipfile.is_zipfile(path)
    except zipfile.BadZipFile as e:
        raise FileFormatError(f"is a damaged zip archive ({e})", str(path)) from None


def read_torch(path: Path) -> tuple[list[Tensor], Ties, list[str]]:
    """A ``.pt``/``.bin`` state dict or checkpoint, loaded with ``weights_only=True`` and
    mmap: only tensors and plain containers unpickle, and no weight is read into memory."""
    where = str(path)
    mmap = _is_zip(path)  # a damaged archive is refused as such, torch or not
    try:
        import torch
    except ImportError:
        raise FileFormatError("reading a PyTorch file needs torch: pip install 'paramspec[torch]'", where) from None
    notes: list[str] = []
    if not mmap and path.stat().st_size > 2**30:
        raise FileFormatError("is a legacy (non-zip) torch file over 1 GiB; it cannot be read without loading it", where)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as e:  # weights_only refuses any global that is not a tensor or a plain container
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # torch colours its message
        pickled = re.search(r"GLOBAL ([\w.]+)", text)
        if pickled and pickled.group(1).startswith("torch.nn.modules"):
            raise FileFormatError(f"pickles a whole module (torch.save(model): {pickled.group(1).rsplit('.', 1)[-1]}); "
                                  "paramspec reads tensors and runs no pickled code: save model.state_dict()",
                                  where) from None
        if pickled or "weights_only" in text or type(e).__name__ == "UnpicklingError":
            what = f" ({pickled.group(1)})" if pickled else ""
            raise FileFormatError(f"holds objects that are not tensors{what}, refused and not run: paramspec "
                                  "reads a state dict of tensors", where) from None
        msg = (text.strip().splitlines() or ["damaged"])[0][:160]
        raise FileFormatError(f"is not a readable PyTorch file: {msg}", where) from None
    tensors = dict(_torch_tensors(obj, notes))
    if not tensors:
        raise FileFormatError("holds no tensors", where)
    out = []
    ties: Ties = {}
    seen: dict[tuple, str] = {}
    for name, t in tensors.items():
        dtype = rules.dtype_name(str(t.dtype)) or str(t.dtype).removeprefix("torch.")
        if dtype not in rules.DTYPE_BYTES:
            raise FileFormatError(f"tensor {name!r} has an unknown dtype {t.dtype}", where)
        out.append(_tensor(name, tuple(t.shape), dtype, t.numel() * t.element_size()))
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.dtype)
        if t.numel() and key in seen:
            ties[name] = seen[key]  # the same storage, offset, shape and strides: one tensor, two names
        else:
            seen[key] = name
    return out, ties, notes


_STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "ema")


def _torch_tensors(obj: Any, notes: list[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    import torch

    if isinstance(obj, torch.Tensor):
        yield prefix.rstrip("."), obj
        return
    if isinstance(obj, dict):
        if not prefix:  # a checkpoint: the model's state dict, not the optimizer's moments
            for key in _STATE_DICT_KEYS:
                if isinstance(obj.get(key), dict):
                    notes.append(f"counted the checkpoint's {key!r} entry")
                    yield from _torch_tensors(obj[key], notes, "")
                    return
            skipped = [k for k in obj if isinstance(k, str) and ("optim" in k.lower() or "scheduler" in k.lower())]
            if skipped:
                notes.append(f"left out {', '.join(map(repr, skipped))}: optimizer state, not the model's")
            obj = {k: v for k, v in obj.items() if k not in skipped}
        for k, v in obj.items():
            yield from _torch_tensors(v, notes, f"{prefix}{k}.")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _torch_tensors(v, notes, f"{prefix}{i}.")


# ----------------------------------------------------------------------------- Keras
def read_keras_h5(f: Any, where: str) -> list[Tensor]:
    """Every dataset of a Keras ``.weights.h5`` (paths like ``layers/dense/vars/0``)."""
    try:
        import h5py
    except ImportError:
        raise FileFormatError("reading a Keras file needs h5py: pip install 'paramspec[keras]'", where) from None
    out: list[Tensor] = []
    try:
        with h5py.File(f, "r") as h5:
            def visit(name: str, obj: Any) -> None:
                if isinstance(obj, h5py.Dataset):
                    dtype = rules.dtype_name(str(obj.dtype))
                    if dtype is None:
                        raise FileFormatError(f"dataset {name!r} has an unsupported dtype {obj.dtype}", where)
                    shape = _check_shape(list(obj.shape), name, where)
                    out.append(_tensor(name, shape, dtype, rules.nbytes(math.prod(shape), dtype), state=False))
            h5.visititems(visit)
    except FileFormatError:
        raise
    except Exception as e:
        raise FileFormatError(f"is not a readable HDF5 file ({type(e).__name__}: {str(e)[:120]})", where) from None
    return out


def read_keras_archive(path: Path) -> tuple[list[Tensor], bool, list[str]]:
    """A ``.keras`` archive: its weights, with state marked by rebuilding the model from its
    config (``safe_mode``, no weights, under ``StatelessScope``) when Keras is installed."""
    where = str(path)
    try:
        z = zipfile.ZipFile(path)
        names = z.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        raise FileFormatError(f"is not a readable .keras archive ({e})", where) from None
    if "model.weights.h5" not in names or "config.json" not in names:
        raise FileFormatError("is not a .keras archive (no config.json and model.weights.h5)", where)
    try:  # a damaged member (bad header, CRC, compression) shows only when it is read
        with z.open("model.weights.h5") as member:
            tensors = read_keras_h5(io.BufferedReader(member), where)  # type: ignore[arg-type]
        raw = z.read("config.json")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise FileFormatError(f"is a damaged .keras archive ({type(e).__name__}: {str(e)[:120]})", where) from None
    notes: list[str] = []
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FileFormatError("has a config.json that is not JSON", where) from None
    known = _keras_trainable(config, notes)
    if known is None:
        return tensors, False, notes
    out = []
    for t in tensors:
        parts = t.name.split("/")
        if len(parts) >= 3 and parts[-2] == "vars":
            flag = known.get((parts[-3], int(parts[-1])))
            if flag is None:
                notes.append(f"no layer {parts[-3]!r} in the config; state not separated")
                return tensors, False, notes
            t = dataclasses.replace(t, trainable=flag, why_state="" if flag else "non-trainable in the model's config")
        out.append(t)
    return out, True, notes


def _keras_trainable(config: dict, notes: list[str]) -> dict[tuple[str, int], bool] | None:
    """(layer name, variable index) -> trainable, for the ``layers/<name>/vars/<i>`` datasets.

    Private Keras API, on purpose: Keras saves a layer's own variables in the order
    ``layer._trainable_variables + layer._non_trainable_variables``
    (``keras/src/layers/layer.py``, ``Layer.save_own_variables``), and no public attribute
    gives a layer's own variables in that order (``trainable_weights`` includes sublayers', and
    a frozen layer lists all its variables as non-trainable). ``_flatten_layers`` is Keras's own
    walk of every layer. ``tests/test_files.py::test_the_private_keras_api_the_archive_reader_uses``
    fails when a Keras release moves any of them.
    """
    try:
        import keras
    except ImportError:
        notes.append("Keras is not installed: state (non-trainable weights) is not separated")
        return None
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
        out: dict[tuple[str, int], bool] = {}
        for layer in model._flatten_layers(include_self=True, recursive=True):
            variables = list(layer._trainable_variables) + list(layer._non_trainable_variables)
            n_trainable = len(layer._trainable_variables)
            for i, _ in enumerate(variables):
                out[(layer.name, i)] = i < n_trainable and layer.trainable
        return out
    except Exception as e:
        notes.append(f"could not rebuild the model from its config ({type(e).__name__}); state not separated")
        return None
    finally:
        keras.backend.clear_session(free_memory=False)


# ----------------------------------------------------------------------------- Flax msgpack
class _Msgpack:
    """A streaming msgpack reader that keeps array headers and seeks past array data."""

    def __init__(self, f: BinaryIO, size: int, where: str):
        self.f, self.size, self.where = f, size, where
        self.depth = 0

    def read(self, n: int) -> bytes:
        b = self.f.read(n)
        if len(b) < n:
            raise FileFormatError("is truncated", self.where)
        return b

    def skip(self, n: int) -> None:
        pos = self.f.tell()
        if pos + n > self.size:
            raise FileFormatError("is truncated (an array runs past the end)", self.where)
        self.f.seek(pos + n)

    def uint(self, n: int) -> int:
        return int.from_bytes(self.read(n), "big")

    def value(self, skip_bin: bool = False) -> Any:
        b = self.read(1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F)
        if 0x90 <= b <= 0x9F:
            return self.array(b & 0x0F)
        if 0xA0 <= b <= 0xBF:
            return self.str(b & 0x1F)
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if b in simple:
            return simple[b]
        if b in (0xC4, 0xC5, 0xC6):
            n = self.uint({0xC4: 1, 0xC5: 2, 0xC6: 4}[b])
            if skip_bin:
                self.skip(n)
                return _Bin(n)
            if n > MAX_HEADER:
                raise FileFormatError(f"has a {n:,}-byte binary value where a header belongs", self.where)
            return self.read(n)
        if b in (0xC7, 0xC8, 0xC9):
            n = self.uint({0xC7: 1, 0xC8: 2, 0xC9: 4}[b])
            return self.ext(self.read(1)[0], n)
        if 0xD4 <= b <= 0xD8:
            return self.ext(self.read(1)[0], 1 << (b - 0xD4))
        if b == 0xCA:
            return struct.unpack(">f", self.read(4))[0]
        if b == 0xCB:
            return struct.unpack(">d", self.read(8))[0]
        if 0xCC <= b <= 0xCF:
            return self.uint(1 << (b - 0xCC))
        if 0xD0 <= b <= 0xD3:
            n = 1 << (b - 0xD0)
            return int.from_bytes(self.read(n), "big", signed=True)
        if b in (0xD9, 0xDA, 0xDB):
            return self.str(self.uint({0xD9: 1, 0xDA: 2, 0xDB: 4}[b]))
        if b in (0xDC, 0xDD):
            return self.array(self.uint(2 if b == 0xDC else 4))
        if b in (0xDE, 0xDF):
            return self.map(self.uint(2 if b == 0xDE else 4))
        raise FileFormatError(f"has an invalid msgpack byte 0x{b:02x}", self.where)

    def str(self, n: int) -> str:
        if n > MAX_HEADER:
            raise FileFormatError("has an oversized string", self.where)
        try:
            return self.read(n).decode("utf-8")
        except UnicodeDecodeError:
            raise FileFormatError("has a key that is not UTF-8", self.where) from None

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > 64:
            raise FileFormatError("nests too deeply", self.where)

    def array(self, n: int) -> list:
        self._nest()
        out = [self.value() for _ in range(n)]
        self.depth -= 1
        return out

    def map(self, n: int) -> dict:
        self._nest()
        out = {}
        for _ in range(n):
            k = self.value()
            out[str(k)] = self.value()
        self.depth -= 1
        return out

    def ext(self, code: int, n: int) -> Any:
        end = self.f.tell() + n
        if end > self.size:
            raise FileFormatError("is truncated (an extension runs past the end)", self.where)
        if code in (1, 3):  # flax's ndarray and numpy scalar: msgpack of (shape, dtype name, buffer)
            kind = self.read(1)[0]
            if not 0x90 <= kind <= 0x9F or (kind & 0x0F) != 3:
                raise FileFormatError("has a malformed array header", self.where)
            shape = self.value()
            dtype = self.value()
            buf = self.value(skip_bin=True)
            if not isinstance(buf, (_Bin, bytes)):
                raise FileFormatError(f"has a malformed array header (its data is a {type(buf).__name__}, not bytes)",
                                      self.where)
            self.f.seek(end)
            return _Array(shape, dtype, buf.n if isinstance(buf, _Bin) else len(buf))
        self.skip(n)  # a native complex or an unknown extension: no tensor
        return None


class _Bin:
    def __init__(self, n: int):
        self.n = n


class _Array:
    def __init__(self, shape: Any, dtype: Any, nbytes: int):
        self.shape, self.dtype, self.nbytes = shape, dtype, nbytes


def read_flax_msgpack(path: Path) -> tuple[list[Tensor], bool, list[str]]:
    """``flax.serialization.to_bytes`` output. Top-level keys that are Flax collections mark
    state (``params`` is trainable; ``batch_stats`` and the rest are state); a bare
    parameter tree is all parameters, except by the name rules."""
    where = str(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        tree = _Msgpack(f, size, where).value()
        if f.tell() != size:
            raise FileFormatError(f"has {size - f.tell():,} bytes after its data", where)
    if not isinstance(tree, dict):
        raise FileFormatError("is not a msgpack map of arrays", where)
    notes: list[str] = []
    collections = "params" in tree and all(isinstance(v, dict) for v in tree.values())
    if collections:
        notes.append("Flax collections: 'params' is trainable, the others are state")
    out: list[Tensor] = []

    def walk(node: Any, path_: list[str]) -> None:
        if isinstance(node, dict) and "__msgpack_chunked_array__" in node:  # flax splits arrays over 1 GiB
            chunks = [c for c in (node.get("chunks") or {}).values() if isinstance(c, _Array)]
            if not chunks or not isinstance(node.get("shape"), list):
                raise FileFormatError(f"chunked array {'/'.join(path_)!r} is malformed", where)
            node = _Array(node["shape"], chunks[0].dtype, sum(c.nbytes for c in chunks))
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path_ + [k])
        elif isinstance(node, _Array):
            name = "/".join(path_)
            shape = _check_shape(node.shape, name, where)
            dtype = rules.dtype_name(node.dtype) if isinstance(node.dtype, str) else None
            if dtype is None:
                raise FileFormatError(f"array {name!r} has an unknown dtype {node.dtype!r}", where)
            if node.nbytes != rules.nbytes(math.prod(shape), dtype):
                raise FileFormatError(f"array {name!r} holds {node.nbytes:,} bytes, not what {shape} {dtype} needs", where)
            if collections:
                state = path_[0] != "params"
                out.append(_tensor(name, shape, dtype, node.nbytes, state=state,
                                   why_state=f"Flax collection {path_[0]!r}" if state else ""))
            else:
                out.append(_tensor(name, shape, dtype, node.nbytes))

    walk(tree, [])
    if not out:
        raise FileFormatError("holds no arrays", where)
    return out, True, notes


# ----------------------------------------------------------------------------- ONNX
ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
               10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16", 17: "float8_e4m3fn",
               19: "float8_e5m2", 21: "uint4", 22: "int4", 23: "float4_e2m1fn"}


def read_onnx(path: Path) -> tuple[list[Tensor], Quantization | None]:
    """An ONNX model's initializers (external data is not loaded), with the quantized weights
    its nodes show (:mod:`paramspec.files.onnx_quant`)."""
    where = str(path)
    try:
        import onnx
    except ImportError:
        raise FileFormatError("reading ONNX needs the onnx package: pip install onnx", where) from None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:
        raise FileFormatError(f"is not a readable ONNX model ({type(e).__name__})", where) from None
    out = []
    for init in model.graph.initializer:
        if not isinstance(init.name, str):  # protobuf hands back bytes for a name that is not UTF-8
            raise FileFormatError(f"has an initializer whose name is not UTF-8 text: {bytes(init.name)[:40]!r}", where)
        dtype = ONNX_DTYPES.get(init.data_type)
        if dtype is None:
            raise FileFormatError(f"initializer {init.name!r} has an unsupported data_type {init.data_type}", where)
        shape = _check_shape(list(init.dims), init.name, where)
        n = math.prod(shape)
        out.append(_tensor(init.name, shape, dtype, rules.nbytes(n, dtype),
                           packing="2 values a byte" if rules.DTYPE_BYTES[dtype] < 1 else ""))
    if not out:
        raise FileFormatError("has no initializers", where)
    return onnx_quant.recognize(model, out, where)
