"""``MultitaskClassifier``: one network built from several :class:`Task` objects.

The modules of all tasks are merged into one ``module_pool`` (modules with the same name are
shared), and a forward pass runs each requested task's operations in order, reusing the
outputs of operations already run for another task. Each label of a batch is trained and
scored on the task of the same name (or another one, with ``remap_labels``). Same API and
numbers as ``snorkel.classification.MultitaskClassifier``; differences:

* ``device`` accepts ``"auto"``, ``"cpu"``, ``"cuda"``, a ``torch.device`` or Snorkel's int
  (``0``: the first GPU if there is one, ``-1``: CPU), and the inputs are moved to where the
  model is;
* :meth:`load` reads the file with ``torch.load(weights_only=True)`` (a ``state_dict`` saved by
  :meth:`save`), which works on torch >= 2.6;
* a label with no labelled row in a dataloader is scored NaN instead of failing.

:class:`~slicewidgets.classification.SliceAwareClassifier` is a ``MultitaskClassifier`` whose
slice tasks are computed together (see its module).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import nn

from slicewidgets.classification._utils import (
    metrics_dict_to_dataframe,
    move_to_device,
    resolve_device,
)
from slicewidgets.classification.data import DictDataLoader
from slicewidgets.classification.task import INPUT_OP, Operation, Task

__all__ = ["ClassifierConfig", "MultitaskClassifier"]

logger = logging.getLogger(__name__)

OutputDict = dict[str, Any]


class ClassifierConfig(NamedTuple):
    """Settings of a :class:`MultitaskClassifier`.

    ``device``: where the model lives (Snorkel's int: ``0`` is the first GPU when there is one,
    else the CPU; ``-1`` is the CPU; or ``"auto"``, ``"cpu"``, ``"cuda:1"``, a device).
    ``dataparallel``: wrap each module in ``nn.DataParallel`` (Snorkel's default; on a CPU the
    wrapper only forwards to ``.module``).
    """

    device: Any = 0
    dataparallel: bool = True


class MultitaskClassifier(nn.Module):
    """A classifier built from one or more :class:`Task` objects.

    Parameters
    ----------
    tasks
        The tasks; modules with the same name in several tasks' pools are shared.
    name
        Name of the classifier (default: the class name).
    **kwargs
        :class:`ClassifierConfig` settings: ``device``, ``dataparallel``.

    Attributes
    ----------
    module_pool : nn.ModuleDict
        All modules, by name.
    task_names : set of str
    op_sequences, loss_funcs, output_funcs, scorers : dict
        Each task's operations, loss function, output function and scorer, by task name.

    Raises
    ------
    ValueError
        If a task is not a :class:`Task` or two tasks have the same name.

    Examples
    --------
    >>> from slicewidgets.classification import DictDataLoader, DictDataset, Operation, Task
    >>> _ = torch.manual_seed(0)
    >>> pool = nn.ModuleDict({"body": nn.Linear(2, 4), "head": nn.Linear(4, 2)})
    >>> task = Task("task", pool, [Operation("body", [("_input_", "x")]),
    ...                            Operation("head", ["body"])])
    >>> model = MultitaskClassifier([task], dataparallel=False, device="cpu")
    >>> ds = DictDataset("D", "valid", {"x": torch.randn(6, 2)}, {"task": torch.tensor([0, 1] * 3)})
    >>> list(model.score([DictDataLoader(ds, batch_size=3)]))
    ['task/D/valid/accuracy']
    """

    def __init__(self, tasks: Sequence[Task], name: str | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.config = ClassifierConfig(**kwargs)
        self.name = name or type(self).__name__
        self.module_pool = nn.ModuleDict()
        self.task_names: set[str] = set()
        self.op_sequences: dict[str, Sequence[Operation]] = {}
        self.loss_funcs: dict[str, Callable[..., torch.Tensor]] = {}
        self.output_funcs: dict[str, Callable[..., torch.Tensor]] = {}
        self.scorers: dict[str, Any] = {}
        self._build_network(tasks)
        all_ops = [op.name for t in tasks for op in t.op_sequence]
        all_mods = [m for t in tasks for m in t.module_pool]
        logger.info(
            "Created multi-task model %s that contains task(s) %s from %d operations (%d shared) "
            "and %d modules (%d shared).",
            self.name, self.task_names, len(set(all_ops)), len(all_ops) - len(set(all_ops)),
            len(set(all_mods)), len(all_mods) - len(set(all_mods)),
        )
        self._move_to_device()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name})"

    # -- building -----------------------------------------------------------------------------
    def _build_network(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            if not isinstance(task, Task):
                raise ValueError(f"Unrecognized task type {task}.")
            if task.name in self.task_names:
                raise ValueError(
                    f"Found duplicate task {task.name}, different task should use different "
                    "task name."
                )
            self.add_task(task)

    def add_task(self, task: Task) -> None:
        """Add one task: its modules join the pool (a module name already there is shared).

        As in Snorkel, the task's own ``module_pool`` is updated to hold the shared modules.
        """
        for key in task.module_pool:
            if key in self.module_pool:
                shared = self.module_pool[key]
                task.module_pool[key] = (
                    nn.DataParallel(shared) if self.config.dataparallel else shared
                )
            else:
                module = task.module_pool[key]
                self.module_pool[key] = (
                    nn.DataParallel(module) if self.config.dataparallel else module
                )
        self.task_names.add(task.name)
        self.op_sequences[task.name] = task.op_sequence
        self.loss_funcs[task.name] = task.loss_func
        self.output_funcs[task.name] = task.output_func
        self.scorers[task.name] = task.scorer
        self._move_to_device()

    @property
    def device(self) -> torch.device:
        """Where the parameters are (the CPU for a model without parameters)."""
        for p in self.parameters():
            return p.device
        return resolve_device(self.config.device)

    def _move_to_device(self) -> None:
        self.to(resolve_device(self.config.device))

    # -- forward ------------------------------------------------------------------------------
    def forward(self, X_dict: Mapping[str, Any], task_names: Iterable[str]) -> OutputDict:
        """Run the operations of ``task_names`` on ``X_dict``.

        Returns
        -------
        dict
            ``{"_input_": X_dict, operation name: output, ...}``; an operation shared by
            several tasks runs once.

        Raises
        ------
        ValueError
            ``"Unsuccessful operation ..."`` naming the operation, if it fails (the cause is
            chained).
        """
        outputs: OutputDict = {INPUT_OP: move_to_device(X_dict, self.device)}
        for task_name in task_names:
            for operation in self.op_sequences[task_name]:
                if operation.name in outputs:
                    continue
                try:
                    module = self.module_pool[operation.module_name]
                    if operation.inputs:
                        inputs = [
                            outputs[op_input[0]][op_input[1]]
                            if isinstance(op_input, tuple)
                            else outputs[op_input]
                            for op_input in operation.inputs
                        ]
                        output = module(*inputs)
                    else:
                        output = module(outputs)
                except Exception as err:
                    raise ValueError(f"Unsuccessful operation {operation}: {err!r}.") from err
                outputs[operation.name] = output
        return outputs

    # -- loss ---------------------------------------------------------------------------------
    def calculate_loss(
        self, X_dict: Mapping[str, Any], Y_dict: Mapping[str, torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
        """Each task's loss on the labelled rows (label ``!= -1``) of the batch.

        Returns
        -------
        loss_dict, count_dict
            ``{label: loss}`` and ``{label: number of labelled rows}``; a label with no
            labelled row is left out of both.
        """
        loss_dict: dict[str, torch.Tensor] = {}
        count_dict: dict[str, int] = {}
        labels_to_tasks = self._get_labels_to_tasks(Y_dict.keys())
        outputs = self.forward(X_dict, task_names=labels_to_tasks.values())
        for label_name, task_name in labels_to_tasks.items():
            Y = Y_dict[label_name]
            active = Y.detach() != -1 if Y.dim() == 1 else torch.any(Y.detach() != -1, dim=1)
            if not active.any():
                continue
            count_dict[label_name] = int(active.sum().item())
            inputs = outputs[self.op_sequences[task_name][-1].name]
            if not active.all() and isinstance(inputs, torch.Tensor):
                inputs = inputs[active.to(inputs.device)]
                Y = Y[active]
            loss_dict[label_name] = self.loss_funcs[task_name](inputs, move_to_device(Y, self.device))
        return loss_dict, count_dict

    # -- prediction ---------------------------------------------------------------------------
    @torch.no_grad()
    def _calculate_probs(
        self, X_dict: Mapping[str, Any], task_names: Iterable[str]
    ) -> dict[str, np.ndarray]:
        self.eval()
        task_names = list(task_names)
        outputs = self.forward(X_dict, task_names)
        return {
            name: self.output_funcs[name](outputs[self.op_sequences[name][-1].name]).cpu().numpy()
            for name in task_names
        }

    @torch.no_grad()
    def predict(
        self,
        dataloader: DictDataLoader,
        return_preds: bool = False,
        remap_labels: Mapping[str, str | None] | None = None,
    ) -> dict[str, dict[str, torch.Tensor]]:
        """Golds and probabilities (and predictions) of every label of ``dataloader`` that has
        a task (or is remapped to one).

        Parameters
        ----------
        dataloader
            A ``DictDataLoader``.
        return_preds
            Also return ``"preds"`` (``probs_to_preds``: ties broken by a hash of the row).
        remap_labels
            ``{label: task name}`` to predict a label with another task, ``{label: None}`` to
            leave it out.

        Returns
        -------
        dict
            ``{"golds": {label: Tensor}, "probs": {label: Tensor}, ["preds": ...]}``.
        """
        from slicewidgets.utils import probs_to_preds

        self.eval()
        golds: dict[str, list[np.ndarray]] = defaultdict(list)
        probs: dict[str, list[np.ndarray]] = defaultdict(list)
        labels_to_tasks = self._get_labels_to_tasks(
            dataloader.dataset.Y_dict.keys(), remap_labels or {}
        )
        for X_batch, Y_batch in dataloader:
            prob_batch = self._calculate_probs(X_batch, set(labels_to_tasks.values()))
            for label_name, task_name in labels_to_tasks.items():
                probs[label_name].append(prob_batch[task_name])
                golds[label_name].append(Y_batch[label_name].cpu().numpy())
        gold_dict = {k: torch.Tensor(np.concatenate(v)) for k, v in golds.items()}
        prob_dict = {k: torch.Tensor(np.concatenate(v)) for k, v in probs.items()}
        results: dict[str, dict[str, torch.Tensor]] = {"golds": gold_dict, "probs": prob_dict}
        if return_preds:
            results["preds"] = {
                k: torch.Tensor(probs_to_preds(v.numpy())) for k, v in prob_dict.items()
            }
        return results

    @torch.no_grad()
    def score(
        self,
        dataloaders: Sequence[DictDataLoader],
        remap_labels: Mapping[str, str | None] | None = None,
        as_dataframe: bool = False,
    ) -> dict[str, float] | pd.DataFrame:
        """Score every label of the loaders with its task's scorer.

        Returns
        -------
        dict or DataFrame
            ``{"label/dataset/split/metric": score}`` (or Snorkel's DataFrame with columns
            ``label, dataset, split, metric, score``).
        """
        if isinstance(dataloaders, DictDataLoader):
            dataloaders = [dataloaders]
        remap_labels = remap_labels or {}
        self.eval()
        scores: dict[str, float] = {}
        for dataloader in dataloaders:
            Y_dict = dataloader.dataset.Y_dict
            labels_to_tasks = self._get_labels_to_tasks(Y_dict.keys(), remap_labels)
            extra = set(Y_dict) - set(labels_to_tasks)
            if extra:
                logger.info(
                    "Ignoring extra labels in dataloader (%s): %s", dataloader.dataset.split, extra
                )
            results = self.predict(dataloader, return_preds=True, remap_labels=remap_labels)
            for label_name, task_name in labels_to_tasks.items():
                scorer = self.scorers[task_name]
                golds = results["golds"][label_name].numpy()
                if not (golds != -1).any():
                    values = {metric: float("nan") for metric in scorer.metrics}
                else:
                    values = scorer.score(
                        golds=golds,
                        preds=results["preds"][label_name].numpy(),
                        probs=results["probs"][label_name].numpy(),
                    )
                for metric, value in values.items():
                    key = "/".join(
                        [label_name, dataloader.dataset.name, dataloader.dataset.split, metric]
                    )
                    scores[key] = value
        if as_dataframe:
            return metrics_dict_to_dataframe(scores)
        return scores

    def _get_labels_to_tasks(
        self, label_names: Iterable[str], remap_labels: Mapping[str, str | None] | None = None
    ) -> dict[str, str]:
        """``{label: task}``: a label goes to the task of the same name, unless remapped (to
        another task, or to ``None`` to leave it out)."""
        remap_labels = remap_labels or {}
        labels_to_tasks: dict[str, str] = {}
        for label in label_names:
            if label in remap_labels:
                task = remap_labels[label]
                if task is not None:
                    labels_to_tasks[label] = task
            elif label in self.op_sequences:
                labels_to_tasks[label] = label
        return labels_to_tasks

    # -- persistence --------------------------------------------------------------------------
    def save(self, model_path: str) -> None:
        """Save the ``state_dict`` to ``model_path`` (folders are created)."""
        folder = os.path.dirname(model_path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        torch.save(self.state_dict(), model_path)
        logger.info("[%s] Model saved in %s", self.name, model_path)

    def load(self, model_path: str) -> None:
        """Load a ``state_dict`` saved by :meth:`save` (``torch.load(weights_only=True)``)."""
        state = torch.load(model_path, map_location=torch.device("cpu"), weights_only=True)
        self.load_state_dict(state)
        logger.info("[%s] Model loaded from %s", self.name, model_path)
        self._move_to_device()
