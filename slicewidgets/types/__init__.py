"""Type names shared across slicewidgets, at Snorkel's ``snorkel.types`` path.

``DataPoint`` is whatever a slicing function receives (a pandas row, a ``SimpleNamespace``,
...); ``Config`` is the base of the trainer's settings (a ``NamedTuple``: subclass it with
typed fields and defaults, as Snorkel's configs do).

Examples
--------
>>> from slicewidgets.types import Config
>>> class MyConfig(Config):
...     lr: float = 0.01
>>> MyConfig(lr=0.1)._asdict()
{'lr': 0.1}
"""

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = ["Config", "DataPoint", "DataPoints", "Field", "FieldMap", "HashingFunction"]

#: Base of settings classes: ``class MyConfig(Config): a: int = 1`` is a ``NamedTuple``.
Config = NamedTuple
#: One data point given to a slicing function or preprocessor.
DataPoint = Any
#: A sequence of data points (``SFApplier`` input).
DataPoints = Sequence[DataPoint]
#: One field of a data point.
Field = Any
#: Field names to values.
FieldMap = Mapping[str, Field]
#: Turns a data point into a hashable key (preprocessor memoization).
HashingFunction = Callable[[Any], Hashable]
