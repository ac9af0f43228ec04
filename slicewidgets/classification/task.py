"""``Task`` and ``Operation``: one prediction task as a path through a pool of modules.

A :class:`Task` names a label (``Y_dict`` key), the modules it uses (``module_pool``) and the
order in which they run (``op_sequence``, a list of :class:`Operation`). Tasks that share
module names share those modules once they are put together in a
:class:`~slicewidgets.classification.MultitaskClassifier`, which is how Snorkel's multi-task
and slice-based learning are built (:func:`~slicewidgets.classification.convert_to_slice_tasks`).
Same API as ``snorkel.classification``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Operation", "Task"]

logger = logging.getLogger(__name__)

#: The name under which an operation reads the model's input ``X_dict``.
INPUT_OP = "_input_"


class Operation:
    """One forward pass of a module of the pool, with where its inputs come from.

    Parameters
    ----------
    module_name
        The module of the ``module_pool`` to run.
    inputs
        Outputs of earlier operations to feed it, in order: an operation name (its whole
        output) or ``(operation name, key)`` (one field of a dict output; ``("_input_",
        "field")`` is a field of the model's ``X_dict``). An empty list feeds the module the
        whole dict of outputs so far.
    name
        Name of this operation's output (default ``module_name``).

    Examples
    --------
    >>> op1 = Operation(module_name="linear1", inputs=[("_input_", "features")])
    >>> op2 = Operation(module_name="linear2", inputs=["linear1"])
    >>> op2
    Operation(name=linear2, module_name=linear2, inputs=['linear1'])
    """

    def __init__(
        self,
        module_name: str,
        inputs: Sequence[str | tuple[str, str]],
        name: str | None = None,
    ) -> None:
        self.name = name or module_name
        self.module_name = module_name
        self.inputs = inputs

    def __repr__(self) -> str:
        return f"Operation(name={self.name}, module_name={self.module_name}, inputs={self.inputs})"


class Task:
    """A prediction task: a label name, a pool of modules and the operations that use them.

    Parameters
    ----------
    name
        The task's name; also the ``Y_dict`` label it is trained and scored on.
    module_pool
        ``nn.ModuleDict`` of the modules the operations refer to.
    op_sequence
        The :class:`Operation` objects to run, in order; the last one's output is the logits.
    scorer
        A :class:`~slicewidgets.analysis.Scorer` for :meth:`MultitaskClassifier.score`
        (default ``Scorer(metrics=["accuracy"])``, a new one per task).
    loss_func
        ``loss_func(logits, labels)`` (default ``F.cross_entropy``; use
        :func:`~slicewidgets.classification.cross_entropy_with_probs` for probabilistic
        labels).
    output_func
        Turns logits into probabilities (default ``softmax`` over dim 1).

    Examples
    --------
    >>> pool = nn.ModuleDict({"body": nn.Linear(2, 8), "head": nn.Linear(8, 2)})
    >>> task = Task("spam", pool, [Operation("body", [("_input_", "x")]),
    ...                            Operation("head", ["body"])])
    >>> task
    Task(name=spam)
    """

    def __init__(
        self,
        name: str,
        module_pool: nn.ModuleDict,
        op_sequence: Sequence[Operation],
        scorer: Any = None,
        loss_func: Callable[..., torch.Tensor] | None = None,
        output_func: Callable[..., torch.Tensor] | None = None,
    ) -> None:
        if scorer is None:
            from slicewidgets.analysis import Scorer

            scorer = Scorer(metrics=["accuracy"])
        self.name = name
        self.module_pool = module_pool
        self.op_sequence = op_sequence
        self.loss_func = loss_func or F.cross_entropy
        self.output_func = output_func or partial(F.softmax, dim=1)
        self.scorer = scorer
        logger.info("Created task: %s", self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name})"
