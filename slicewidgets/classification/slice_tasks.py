"""Slice labels and slice tasks: how slice-based learning is expressed as multi-task learning.

For a base task ``task`` and slices ``s`` (plus ``"base"``, every row), each slice gets an
indicator label ``task_slice:s_ind`` (is the row in the slice?) and a predictor label
``task_slice:s_pred`` (the task label on the slice's rows, -1 elsewhere):
:func:`add_slice_labels` adds them to a dataloader. :func:`convert_to_slice_tasks` turns the
base :class:`~slicewidgets.classification.Task` into the matching tasks (an indicator head and
an expert per slice, one shared prediction head, and a master head over the
:class:`~slicewidgets.classification.SliceCombinerModule`), ready for a
:class:`~slicewidgets.classification.MultitaskClassifier`. Snorkel's names and semantics, with
one deliberate difference: a ``-1`` in ``S`` (an SF that abstained or failed) is unknown
membership (ignored by that slice's labels), where Snorkel counts it as a member.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from slicewidgets.classification._slice_labels import (
    BASE_SLICE,
    check_rows,
    missing_labels_message,
    slice_columns,
    slice_label_names,
    slice_label_tensors,
)
from slicewidgets.classification.data import DictDataLoader
from slicewidgets.classification.slice_combiner import SliceCombinerModule
from slicewidgets.classification.task import Operation, Task

__all__ = [
    "BASE_SLICE",
    "add_slice_labels",
    "convert_to_slice_tasks",
    "slice_label_names",
]

def _task_name_of(base_task: Any) -> str:
    if isinstance(base_task, str):
        return base_task
    name = getattr(base_task, "name", None)
    if not isinstance(name, str):
        raise TypeError(
            f"base_task must be a task name or an object with a .name (model.base_task); got "
            f"{type(base_task).__name__}."
        )
    return name


def add_slice_labels(dataloader: DictDataLoader, base_task: Any, S: Any) -> None:
    """Add the slice labels of ``S`` to ``dataloader.dataset.Y_dict`` **in place** (Snorkel).

    For each slice ``s`` of ``S`` and ``"base"`` (all rows): ``{task}_slice:{s}_ind`` (1 for
    members, 0 for others, -1 where the SF abstained) and ``{task}_slice:{s}_pred`` (the task
    label on members, -1 elsewhere). :meth:`SliceAwareClassifier.make_slice_dataloader` does the
    same on a copy of the dataset.

    Parameters
    ----------
    dataloader
        A ``DictDataLoader`` whose dataset has the base task's labels.
    base_task
        ``model.base_task`` (anything with ``.name``) or the task name.
    S
        Slice membership with one row per dataset row (``PandasSFApplier(sfs).apply(df)``).

    Raises
    ------
    ValueError
        If ``S`` and the dataset have different numbers of rows, or the task labels are missing.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from slicewidgets.classification import DictDataLoader, DictDataset
    >>> ds = DictDataset.from_tensors(torch.zeros(5, 1), torch.tensor([0, 1, 1, 0, 1]), "train")
    >>> S = np.rec.fromarrays([np.array([1, 1, 0, 0, 0])], names="f")
    >>> add_slice_labels(DictDataLoader(ds), "task", S)
    >>> ds.Y_dict["task_slice:f_pred"]
    tensor([ 0,  1, -1, -1, -1])
    """
    task_name = _task_name_of(base_task)
    dataset = dataloader.dataset
    names, M = slice_columns(S)
    check_rows(M, dataset)
    if task_name not in dataset.Y_dict:
        raise ValueError(missing_labels_message(task_name, dataset))
    dataset.Y_dict.update(slice_label_tensors(names, M, dataset.Y_dict[task_name], task_name))


def convert_to_slice_tasks(base_task: Task, slice_names: Sequence[str]) -> list[Task]:
    """The slice tasks of ``base_task``: indicator and predictor tasks per slice, and a master task.

    Snorkel's slice-based learning as tasks of a
    :class:`~slicewidgets.classification.MultitaskClassifier`. ``base_task``'s last operation
    is its head (an ``nn.Linear(h, k)``); its other operations (the *body*) are shared by all
    the new tasks. For each slice ``s`` of ``slice_names`` and ``"base"``:

    * ``{task}_slice:s_ind``: an indicator head ``nn.Linear(h, 2)`` on the body (scored
      with F1);
    * ``{task}_slice:s_pred``: an expert ``nn.Linear(h, h)`` (the *transform*) followed by
      one prediction head ``nn.Linear(h, k)`` shared by all slices (scored with the base
      task's scorer);

    and the master task, named as ``base_task``, runs every slice's operations, combines the
    experts' outputs with a :class:`SliceCombinerModule` and predicts with ``base_task``'s
    head. Modules are created in Snorkel's order (indicator heads, shared prediction head,
    experts), so a seeded run starts from Snorkel's weights.

    Parameters
    ----------
    base_task
        The task to make slice-aware. As in Snorkel, its ``module_pool`` is changed in place
        (the head leaves it; the slice modules join it).
    slice_names
        Names of the slices (the fields of ``S``); ``"base"`` is added if missing.

    Returns
    -------
    list of Task
        The indicator tasks, the predictor tasks, then the master task:
        ``2 * (len(slice_names) + 1) + 1`` tasks.

    Raises
    ------
    TypeError
        If ``base_task`` is not a ``Task`` or its head is not an ``nn.Linear``.

    Examples
    --------
    >>> import torch
    >>> from slicewidgets.classification import MultitaskClassifier
    >>> pool = nn.ModuleDict({"body": nn.Linear(2, 4), "head": nn.Linear(4, 2)})
    >>> task = Task("task", pool, [Operation("body", [("_input_", "x")]),
    ...                            Operation("head", ["body"])])
    >>> tasks = convert_to_slice_tasks(task, ["short"])
    >>> [t.name for t in tasks]  # doctest: +NORMALIZE_WHITESPACE
    ['task_slice:short_ind', 'task_slice:base_ind', 'task_slice:short_pred',
     'task_slice:base_pred', 'task']
    >>> model = MultitaskClassifier(tasks, dataparallel=False, device="cpu")
    >>> model.forward({"x": torch.zeros(3, 2)}, ["task"])["task_master_head"].shape
    torch.Size([3, 2])
    """
    from slicewidgets.analysis import Scorer

    if not isinstance(base_task, Task):
        raise TypeError(
            f"base_task must be a Task (its module_pool and op_sequence are needed); got "
            f"{type(base_task).__name__}. SliceAwareClassifier builds its tasks itself."
        )
    slice_names = list(slice_names)
    if BASE_SLICE not in slice_names:
        slice_names = [*slice_names, BASE_SLICE]
    head_op = base_task.op_sequence[-1]
    head = base_task.module_pool[head_op.module_name]
    if isinstance(head, nn.DataParallel):
        head = head.module
    if not isinstance(head, nn.Linear):
        raise TypeError(
            f"The last operation of base_task ({head_op.name!r}) must run an nn.Linear head; "
            f"module {head_op.module_name!r} is a {type(head).__name__}."
        )
    neck_size, n_classes = head.in_features, head.out_features
    del base_task.module_pool[head_op.module_name]
    body_flow = list(base_task.op_sequence[:-1])
    pool = base_task.module_pool  # shared by all slice tasks, as in Snorkel
    slice_tasks: list[Task] = []
    slice_ops: list[Operation] = []

    for slice_name in slice_names:
        ind_name, _ = slice_label_names(base_task.name, slice_name)
        pool[f"{ind_name}_head"] = nn.Linear(neck_size, 2)
        op = Operation(module_name=f"{ind_name}_head", inputs=head_op.inputs)
        slice_ops.append(op)
        slice_tasks.append(
            Task(ind_name, pool, [*body_flow, op], scorer=Scorer(metrics=["f1"]))
        )

    shared_pred_head = nn.Linear(neck_size, n_classes)
    for slice_name in slice_names:
        _, pred_name = slice_label_names(base_task.name, slice_name)
        pool[f"{pred_name}_transform"] = nn.Linear(neck_size, neck_size)
        pool[f"{pred_name}_head"] = shared_pred_head
        transform_op = Operation(module_name=f"{pred_name}_transform", inputs=head_op.inputs)
        head_op_s = Operation(module_name=f"{pred_name}_head", inputs=[transform_op.name])
        slice_ops.extend([transform_op, head_op_s])
        slice_tasks.append(
            Task(pred_name, pool, [*body_flow, transform_op, head_op_s], scorer=base_task.scorer)
        )

    combiner_name = f"{base_task.name}_master_combiner"
    master_head_name = f"{base_task.name}_master_head"
    master_pool = nn.ModuleDict({combiner_name: SliceCombinerModule(), master_head_name: head})
    combiner_op = Operation(module_name=combiner_name, inputs=[])
    master_head_op = Operation(module_name=master_head_name, inputs=[combiner_op.name])
    master = Task(
        base_task.name,
        master_pool,
        [*body_flow, *slice_ops, combiner_op, master_head_op],
        scorer=base_task.scorer,
        loss_func=base_task.loss_func,
        output_func=base_task.output_func,
    )
    return [*slice_tasks, master]


