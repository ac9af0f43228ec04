"""Discovery: find the slices where a model fails, as slicing functions, and confirm them.

:func:`find_slices` searches conjunctions of simple predicates built from a DataFrame
(``country == 'fr'``, ``18 <= age < 30``, *text has the word "free"*, *has a URL*, ...) for
the slices with the most error, with SliceLine's score and pruning over a sparse one-hot
matrix. Every candidate is code: ``candidate.code`` is the source of a slicing function a
person can read and edit, and ``candidate.sf`` is that function. With
``confirm_on=(df_eval, golds_eval, preds_eval)`` every candidate is scored on held-out rows
with :func:`~slicewidgets.analysis.slice_report`, so that a slice flagged ``worse`` is
evidence, not an artefact of the search.

This subpackage sits above :mod:`slicewidgets.slicing` and :mod:`slicewidgets.analysis`
(it uses both); neither imports it.
"""

from slicewidgets.discovery._core import find_slices
from slicewidgets.discovery._predicates import Predicate
from slicewidgets.discovery._result import Candidate, Confirmation, SliceDiscovery

__all__ = ["Candidate", "Confirmation", "Predicate", "SliceDiscovery", "find_slices"]
