"""Per-framework adapters (installed as ``paramspec.adapters``).

Each adapter module imports its framework when it is loaded, and only
:func:`paramspec.targets.adapter` loads it, so ``import paramspec`` stays framework-free.
The four modules are parallel: the same builder names (``build_<Kind>``), in the same order
as the spec files, so two can be read side by side.
"""
