"""The adapter protocol: build a kind from its variables, then read the built object.

An adapter never computes a count from a config. A ``build_<Kind>`` method translates the
canonical variables into the framework's own constructor arguments (one visible translation
per builder) and returns what it built; :meth:`Adapter.build` wraps every builder in the
framework's abstract construction (the meta device, ``StatelessScope``, ``eval_shape``), so
no weight memory is allocated, unless ``materialize`` asks for real weights (benchmarks and
the tests that compare the two). :meth:`Adapter.read` lists the tensors through the
framework's own APIs; :meth:`Adapter.describe` says what was built, from the object itself.
:meth:`Adapter.owns` says whether a user's own object is the framework's, and
:meth:`Adapter.adopt` makes it a :class:`Built` to read.
"""
from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from types import SimpleNamespace
from typing import Any, Callable, Mapping

from paramspec.compute import Input
from paramspec.errors import NotApplicable, SpecError
from paramspec.frameworks import frameworks
from paramspec.loader import load_spec
from paramspec.reading import Measurement, Reading, Source

__all__ = ["Adapter", "Built", "Input", "built", "call_text", "channels_last", "ints", "shaped"]


@dataclass
class Built:
    """What a builder made, and how to call it. Every field means the same in every framework;
    a framework that has no use for a field leaves it at its default.

    Attributes:
        module: the framework object that was built: a ``torch.nn.Module``, a Keras layer, a
            Flax linen ``Module`` (which holds no variables: see ``variables``) or an nnx
            ``Module``. None until :meth:`Adapter.construct` has called ``factory``, and for a
            user's bare linen variables (:meth:`Adapter.adopt`), which come with no module.
        inputs: the abstract inputs it is built for, in the framework's layout
            (:meth:`Adapter.layout`); :meth:`Adapter.build` fills in the kind's own when a
            builder leaves them out.
        factory: for a framework whose modules can only be made inside its own construction
            (nnx: a constructor takes ``rngs`` and runs under ``nnx.eval_shape``), the builder
            returns ``Built(factory=lambda rngs: ...)`` instead of a module, and the adapter's
            :meth:`~Adapter.construct` calls it and sets ``module``.
        variables: the module's variables, where the framework keeps them apart from the module
            (a linen module's ``init`` returns them: shapes and dtypes only, unless
            materialized), set by the adapter's :meth:`~Adapter.construct`.
        call_kwargs: keyword arguments of every call of the module (linen's
            ``deterministic=True``).
        call: how to call it where the inputs do not go in order (Keras's MultiHeadAttention
            takes query, value, key): ``call(f, inputs)`` calls ``f``.
        read_native: whether the framework's own totals will be read (:meth:`Adapter.build`'s
            ``native``), so that an adapter that reads them while building (linen's
            ``nn.tabulate``) need not trace them otherwise.
        native_totals: the framework's own totals, where the adapter read them while building
            (linen's ``nn.tabulate``, from the same trace as its variables); :meth:`Adapter.read`
            uses them rather than asking again.

    Example:
        >>> Built(torch.nn.Linear(3, 4))                             # the module itself
        >>> built(linen.Dropout(0.5), shaped(1, 3), deterministic=True)  # construct adds `variables`
        >>> Built(factory=lambda rngs: nnx.Linear(3, 4, rngs=rngs))  # construct sets `module`
    """

    module: Any = None
    inputs: tuple[Input, ...] = ()
    _: KW_ONLY
    factory: Callable[[Any], Any] | None = None
    variables: Mapping[str, Any] | None = None
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    call: Callable[[Callable, tuple], Any] | None = None
    read_native: bool = True
    native_totals: dict[str, int] = field(default_factory=dict)

    def invoke(self, f: Callable, xs: tuple) -> Any:
        """Call ``f`` (the module's forward, however a framework spells it) on ``xs``."""
        return self.call(f, xs) if self.call is not None else f(*xs, **self.call_kwargs)


class Adapter:
    """Base class. Subclasses set ``framework`` and define ``build_<Kind>`` methods."""

    framework: str = ""

    def __init__(self, target: str):
        self.target = target

    def version(self) -> str:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError

    def source(self) -> Source:
        return Source("framework", self.target, self.version(), self.framework)

    def build(self, kind: str, values: Mapping[str, Any], inputs: tuple[Input, ...] | None = None, *,
              materialize: bool = False, native: bool = True) -> Built:
        """Build ``kind`` from resolved spec variables for ``inputs`` (in torch's layout; by
        default the kind's own ``inputs`` in the spec), abstractly unless ``materialize``. A
        builder gets them in the framework's layout (:meth:`layout`) as ``x``. ``native=False``
        says the framework's own totals will not be read (``Built.read_native``), so an adapter
        that reads them while building (linen's ``nn.tabulate``) need not.

        Raises:
            NotApplicable: the framework has no such layer or option.
        """
        builder = getattr(self, f"build_{kind}", None)
        if builder is None:
            raise NotApplicable(f"the {self.framework} adapter has no builder for {kind}")
        if inputs is None:
            spec_kind = load_spec().kinds[kind]
            inputs = spec_kind.inputs_for(values) if spec_kind.inputs else ()
        v = SimpleNamespace(**values)
        xs = tuple(self.layout(i) for i in inputs)

        def make() -> Built:
            b = builder(v, xs)
            b.inputs = b.inputs or xs
            b.read_native = native
            return b

        try:
            b = self.construct(make, materialize)
        except Exception as e:
            limit = self.beyond_limit(e, values)
            if limit is None:
                raise
            raise limit from None
        return b

    # The framework's own words when a size is past what it can hold (each adapter's): the
    # exception types, the messages, and what the limit is.
    LIMIT_ERRORS: tuple[type[Exception], ...] = ()
    LIMIT_MESSAGES: tuple[str, ...] = ()
    LIMIT_RULE = ""

    def beyond_limit(self, error: Exception, values: Mapping[str, Any]) -> SpecError | None:
        """A :class:`SpecError` when ``error`` is the framework refusing a size it cannot hold
        (the config is bad input for this framework, not a failure of the case), naming the
        config's largest variable and the limit; else None. The building, and the measuring of
        a forward pass or a training step, go through it."""
        text = str(error)
        if not isinstance(error, self.LIMIT_ERRORS) or not any(m in text for m in self.LIMIT_MESSAGES):
            return None
        ints = {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}
        ints.update({k: max(v) for k, v in values.items()  # a list of sizes: its largest
                     if isinstance(v, (list, tuple)) and v and all(isinstance(x, int) for x in v)})
        name = max(ints, key=ints.get) if ints else "a dimension"
        value = f" = {ints[name]:,}" if ints else ""
        first = (text.strip().splitlines() or [""])[0]
        return SpecError(f"{name}{value} is beyond what {self.framework} can build: {self.LIMIT_RULE} "
                         f"({self.framework}: {first[:80]}); the spec's formula still counts it: "
                         "paramspec count -f formula")

    def layout(self, x: Input) -> Input:
        """An input in the framework's layout (torch's own by default)."""
        return x

    def construct(self, make: Callable[[], Built], materialize: bool) -> Built:
        """Run a builder inside the framework's abstract construction (each adapter's own)."""
        return make()

    @classmethod
    def owns(cls, obj: Any) -> str | None:
        """The target that reads ``obj``, a user's own object, when it is this framework's
        (a built layer, a module, a pair of a module and its variables); else None.

        :func:`paramspec.frameworks.owner` asks the adapter of each framework whose packages
        are imported already (so this module's framework import costs nothing); a check here
        imports nothing more. The target is one of this framework's in ``frameworks.yaml``
        (:meth:`targets`), never a name written out.
        """
        return None

    @classmethod
    def targets(cls) -> list[str]:
        """This framework's targets, from ``frameworks.yaml``, its default first."""
        return [t.name for t in frameworks()[cls.framework].targets]

    def adopt(self, obj: Any) -> Built:
        """A user's own object (one :meth:`owns` claims) as a :class:`Built` for :meth:`read`.

        Raises:
            SpecError: an object the framework cannot read yet (an unbuilt Keras layer).
        """
        return Built(obj)

    def kinds_within(self, built: Built) -> list[tuple[str, str, dict[str, Any], str]]:
        """The spec kinds among a user's object's layers: (path, kind, the canonical variables
        read from the layer's own attributes, the layer as the framework shows it), outermost
        first. The default finds none (a framework that cannot tell its layers apart)."""
        return []

    def describe(self, built: Built) -> str:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError

    def read(self, built: Built, native: bool = True) -> Reading:  # pragma: no cover - every adapter overrides it
        """The tensors, through the framework's own APIs; with ``native``, also the framework's
        own totals (``frameworks.yaml``), which take longer in some frameworks (linen's tabulate)."""
        raise NotImplementedError

    def measure(self, built: Built, breakdown: bool = True) -> Measurement:  # pragma: no cover - overridden
        """One forward pass on abstract inputs under the framework's own counter (its target's
        ``counter`` in frameworks.yaml): the total and the per-op breakdown, allocating no
        weights and no activations. Without ``breakdown``, a counter that must cost each op
        apart (XLA) costs only the matmul-like ops and reports the rest as one figure: all a
        comparison with the spec needs, at a fraction of the time."""
        raise NotImplementedError


def shaped(*shape: int, dtype: str = "float32") -> Input:
    """An abstract input: ``shaped(1, 32, 32, 3)``, ``shaped(1, 8, dtype="int32")`` (tokens)."""
    return Input(tuple(shape), dtype)


def channels_last(x: Input, int_dtype: str = "int32") -> Input:
    """An input for a channels-last framework: channels moved to the end, token ids as ``int_dtype``."""
    x = x.channels_last()
    return Input(x.shape, int_dtype, False) if x.dtype == "int64" else x


def built(module: Any, *inputs: Input, **call_kwargs: Any) -> Built:
    """``module`` built for ``inputs``; ``call_kwargs`` go with every call of it (linen's deterministic)."""
    return Built(module, tuple(inputs), call_kwargs=call_kwargs)


def ints(x: Any) -> tuple[int, ...]:
    """A kernel size or shape as a tuple of ints."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def call_text(name: str, args: list[str], limit: int = 400) -> str:
    """``Name(a, b=1)``, shortened to ``limit`` characters at an argument's end (``, ...)``)."""
    text = f"{name}({', '.join(args)})"
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for arg in args:
        if len(name) + sum(len(a) + 2 for a in kept) + len(arg) + len("(, ...)") > limit:
            break
        kept.append(arg)
    return f"{name}({', '.join([*kept, '...'])})"
