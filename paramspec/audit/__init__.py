"""``paramspec audit``: check a course's formulas and worked examples against every framework.

A course file (``spec/courses/*.yaml``) holds entries: a formula as the author wrote it, what
it claims to count, and worked examples. For each entry and framework the audit builds the
layer at sampled configs, reads it, and fits the difference (framework - formula) exactly,
as a polynomial in the author's own variables (:mod:`.fit`); it names the tensors that make
up the difference (:mod:`.attribution`) and, where the spec records one, the framework's
convention. Worked examples are checked for arithmetic and for truth (:mod:`.examples`).

Modules: :mod:`.course` (the file), :mod:`.fit`, :mod:`.attribution`, :mod:`.examples`,
:mod:`.run` (one target's part, and the merge), :mod:`.render` (Markdown, terminal).
"""
from ..formula import parse
from .attribution import counted, explain_difference
from .course import Claim, Course, Entry, Example, base_variable, load_course, spec_values
from .examples import check_example, final_claim
from .fit import Difference, fit_difference
from .render import markdown, text_table
from .run import Measurer, audit, audit_target, canonical_measurer

__all__ = ["Claim", "Course", "Difference", "Entry", "Example", "Measurer", "audit", "audit_target", "base_variable",
           "canonical_measurer", "check_example", "counted", "explain_difference", "final_claim", "fit_difference",
           "load_course", "markdown", "parse", "spec_values", "text_table"]
