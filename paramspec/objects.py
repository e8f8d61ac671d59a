"""Reading an object built outside paramspec (a user's own layer) through the adapters' ``read``.

The object's target is the one whose adapter owns it (:func:`paramspec.frameworks.owner`,
which asks only the adapters of frameworks already imported), so nothing here names a
framework, and no framework that is not already imported is imported.

Example:
    >>> read_object(torch.nn.LSTM(300, 128)).params
    220160
"""
from __future__ import annotations

from typing import Any, Sequence

from .errors import NotApplicable as NotApplicableError, SpecError
from .frameworks import adapter, frameworks, owner, target
from .reading import Reading


def target_of(obj: Any) -> str:
    """The target whose adapter owns ``obj``, a built framework object; imports nothing new.

    Raises:
        SpecError: ``cannot read a builtins.int: ...``, for an object no imported framework owns.
    """
    name = owner(obj)
    if name is None:
        imported = [fw.name for fw in frameworks().values() if any(t.imported() for t in fw.targets)]
        raise SpecError(f"cannot read a {type(obj).__module__}.{type(obj).__name__}: no adapter of a framework "
                        f"imported here ({', '.join(imported) or 'none'}) owns it; give a built layer or module "
                        f"of {', '.join(fw.name for fw in frameworks().values())}")
    return name


def read_object(obj: Any) -> Reading:
    """The reading of a built framework object (its tensors and native totals)."""
    ad = adapter(target_of(obj))
    return ad.read(ad.adopt(obj))


def object_inputs(input: Any, dtype: str = "float32") -> tuple:
    """``input`` (a shape, or a list of shapes, in the object's own layout) as abstract inputs.

    Raises:
        SpecError: not a shape of positive whole numbers (or a list of them).
    """
    from .compute import Input

    if input is None:
        return ()
    shapes: Sequence[Any] = [input] if input and all(isinstance(d, int) for d in input) else list(input)
    out = []
    for shape in shapes:
        if not (isinstance(shape, (tuple, list)) and shape and all(isinstance(d, int) and not isinstance(d, bool)
                                                                    and d >= 1 for d in shape)):
            raise SpecError(f"an input is a shape of positive whole numbers, such as (1, 3, 224, 224); got {shape!r}",
                            "input")
        out.append(Input(tuple(shape), dtype))
    return tuple(out)


def count_object(obj: Any, *, input: Any = None, input_dtype: str = "float32", measure: bool | None = None,
                 train: Any = None, native: bool = True):
    """A record of a user's own built object: its tensors, state, tied weights and the
    framework's own totals (read, nothing to compare them with: verdict ``read``), each
    sub-module that is a spec kind held to its formula (``r.within``), and, given an ``input``
    shape (in the object's own layout), the forward pass under the framework's counter and,
    with ``train``, a training step (:class:`~paramspec.training.TrainOptions`).

    Raises:
        SpecError: an object no imported framework owns; a bad input shape.
    """
    from .compare import file_record
    from .loader import load_spec
    from .record import Compute, Quantity
    from .within import within

    name = target_of(obj)
    ad = adapter(name)
    built = ad.adopt(obj)
    built.inputs = object_inputs(input, input_dtype)
    measure = bool(built.inputs) if measure is None else measure
    if (measure or train is not None) and not built.inputs:
        raise SpecError("measuring a forward pass needs an input shape (input=(1, 3, 224, 224))", "input")
    reading = ad.read(built, native)
    record = file_record(reading, "")
    record.config = {"object": f"{type(obj).__module__}.{type(obj).__name__}"}
    record.quantities.update({f"native:{k}": Quantity(got=v) for k, v in reading.native.items()})
    separator = "." if target(name).framework == "torch" else "/"
    record.within = within(ad.kinds_within(built), reading, target(name).framework, separator)
    if record.within.verdict == "fail":
        record.verdict = "fail"
    t = target(name)
    if t.counter is None or not (measure or train is not None):
        return record
    counter = load_spec().counters[t.counter]
    step = None
    if train is not None:
        from .training import read_training

        step, error, na = None, None, None
        try:
            step = ad.measure_step(built, optimizer=train.optimizer, input_grad=train.input_grad,
                                   recompute=train.recompute)
        except NotApplicableError as e:
            na = e.reason
        read_training(record, counter, step, error, train, na)
    m = step.forward if step is not None else ad.measure(built)
    record.compute = Compute(counter=counter.id, counter_name=counter.name, macs=None, matmul_ops=tuple(
        counter.matmul_ops), version=m.version, by_op=dict(m.by_op), inputs=list(m.inputs), notes=list(m.notes))
    record.compute.quantities = {
        "matmul": Quantity(sum(v for op, v in m.by_op.items() if op in counter.matmul_ops)),
        "total": Quantity(m.total)}
    return record
