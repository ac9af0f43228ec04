"""The machinery shared by the slice-aware and plain classifiers: a
:class:`~slicewidgets.classification.MultitaskClassifier` whose tasks are computed together.

:class:`_DictClassifier` checks the settings, names the task graph as
:func:`~slicewidgets.classification.convert_to_slice_tasks` does, runs ``base_architecture`` and
the subclass's fused heads (``_heads``), computes the per-label losses in one pass, builds the
slice-labelled loaders and saves / loads weights. Prediction and scoring are in
:mod:`slicewidgets.classification._prediction`; the models in
:mod:`slicewidgets.classification.sliceaware`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import partial
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from slicewidgets.classification._slice_labels import (
    BASE_SLICE,
    check_batch_labels,
    check_label_values,
    check_rows,
    missing_labels_message,
    slice_columns,
    slice_label_names,
    slice_label_tensors,
)
from slicewidgets.classification._utils import move_to_device
from slicewidgets.classification.data import DictDataLoader, DictDataset
from slicewidgets.classification.multitask_classifier import ClassifierConfig, MultitaskClassifier
from slicewidgets.classification.oversampling import make_oversampling_dataloader
from slicewidgets.classification.task import INPUT_OP, Operation, Task

__all__: list[str] = []  # private: see slicewidgets.classification.sliceaware


def _default_scorer(num_classes: int) -> Any:
    from slicewidgets.analysis import Scorer

    return Scorer(metrics=["accuracy", "f1"] if num_classes == 2 else ["accuracy", "f1_macro"])


class _Heads(NamedTuple):
    master: Tensor  # [B, k] logits of the final prediction
    ind: Tensor | None  # [B, S, 2] indicator logits
    pred: Tensor | None  # [B, S, k] logits of each slice expert through the shared head
    attention: Tensor | None  # [B, S]


class _DictClassifier(MultitaskClassifier):
    """Prediction, scoring, saving and loss bookkeeping shared by the slice-aware and plain
    classifiers. Subclasses set the attributes below and implement ``_heads``.

    A :class:`~slicewidgets.classification.MultitaskClassifier` whose tasks are computed
    together: the heads are fused parameters rather than a pool of modules run one operation
    at a time, so ``module_pool``, ``op_sequences``, ``scorers``, ``loss_funcs`` and
    ``output_funcs`` describe the task graph (with the names
    :func:`~slicewidgets.classification.convert_to_slice_tasks` gives it) instead of driving
    it, and tasks cannot be added.
    """

    task_name: str
    input_data_key: str
    num_classes: int
    scorer: Any
    _slice_list: list[str]  # slices with heads, "base" last ([] for a plain model)
    _model_kind = "classifier"

    def __init__(self) -> None:
        nn.Module.__init__(self)  # no module pool to build: see the class docstring

    def _init_common(
        self,
        base_architecture: nn.Module,
        head_dim: int,
        input_data_key: str,
        task_name: str,
        scorer: Any,
        num_classes: int,
    ) -> None:
        if not isinstance(base_architecture, nn.Module):
            raise TypeError(
                f"base_architecture must be a torch.nn.Module; got {type(base_architecture).__name__}."
            )
        if not (isinstance(head_dim, int) and head_dim > 0):
            raise ValueError(
                f"head_dim must be a positive int (the size of base_architecture's output); "
                f"got {head_dim!r}."
            )
        if not (isinstance(num_classes, int) and num_classes >= 2):
            raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}.")
        for value, what in ((task_name, "task_name"), (input_data_key, "input_data_key")):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{what} must be a non-empty string; got {value!r}.")
        if "/" in task_name:
            raise ValueError(
                f"task_name must not contain '/', which separates the parts of metric names; "
                f"got {task_name!r}."
            )
        self.base_architecture = base_architecture
        self.head_dim = head_dim
        self.input_data_key = input_data_key
        self.task_name = task_name
        self.num_classes = num_classes
        self.scorer = scorer if scorer is not None else _default_scorer(num_classes)
        self.name = f"{task_name}_{self._model_kind}"

    # -- names ----------------------------------------------------------------------------------
    @property
    def base_task(self) -> Task:
        """The task this model predicts (``name``, ``scorer``, the final operations), e.g. for
        Snorkel's ``add_slice_labels(dataloader, model.base_task, S)``."""
        return Task(
            self.task_name, self.module_pool, self.op_sequences[self.task_name], scorer=self.scorer
        )

    # -- the MultitaskClassifier interface -------------------------------------------------------
    @property
    def config(self) -> ClassifierConfig:  # type: ignore[override]
        return ClassifierConfig(device=self.device, dataparallel=False)

    @property
    def module_pool(self) -> nn.ModuleDict:  # type: ignore[override]
        """The model's submodules by name (the fused heads are parameters, not modules)."""
        return nn.ModuleDict(dict(self.named_children()))

    @property
    def op_sequences(self) -> dict[str, list[Operation]]:  # type: ignore[override]
        """Each task's operations, named as :func:`convert_to_slice_tasks` names them; the last
        one's name is the key of the task's logits in ``forward(X_dict, task_names)``."""
        key = (self.task_name, self.input_data_key, tuple(self._slice_list))
        cached = self.__dict__.get("_op_sequences_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        body = Operation("base_architecture", [(INPUT_OP, self.input_data_key)], name="input_op")
        if not self._slice_list:
            seqs = {self.task_name: [body, Operation("prediction_head", [body.name], name="head_op")]}
        else:
            seqs = {}
            slice_ops: list[Operation] = []
            for name in self._slice_list:
                ind_name, _ = slice_label_names(self.task_name, name)
                op = Operation(f"{ind_name}_head", [body.name])
                slice_ops.append(op)
                seqs[ind_name] = [body, op]
            for name in self._slice_list:
                _, pred_name = slice_label_names(self.task_name, name)
                transform = Operation(f"{pred_name}_transform", [body.name])
                head = Operation(f"{pred_name}_head", [transform.name])
                slice_ops.extend([transform, head])
                seqs[pred_name] = [body, transform, head]
            combiner = Operation(f"{self.task_name}_master_combiner", [])
            master = Operation(f"{self.task_name}_master_head", [combiner.name])
            seqs[self.task_name] = [body, *slice_ops, combiner, master]
        self.__dict__["_op_sequences_cache"] = (key, seqs)
        return seqs

    @property
    def scorers(self) -> dict[str, Any]:  # type: ignore[override]
        """Each task's scorer: ``scorer`` for the task and the ``_pred`` tasks, F1 for the
        ``_ind`` tasks (as Snorkel)."""
        return {name: self._scorer_for(kind) for name, (kind, _) in self._label_heads().items()}

    @property
    def loss_funcs(self) -> dict[str, Any]:  # type: ignore[override]
        return dict.fromkeys(self._label_heads(), F.cross_entropy)

    @property
    def output_funcs(self) -> dict[str, Any]:  # type: ignore[override]
        return dict.fromkeys(self._label_heads(), partial(F.softmax, dim=1))

    def add_task(self, task: Task) -> None:
        """Not supported: the model's tasks follow from its ``slice_names``.

        Raises
        ------
        TypeError
            Always; build a ``MultitaskClassifier`` from ``convert_to_slice_tasks(...)`` plus
            your other tasks instead.
        """
        raise TypeError(
            f"{type(self).__name__} computes its tasks together and cannot add {task!r}; build a "
            "MultitaskClassifier(convert_to_slice_tasks(base_task, slice_names) + other_tasks) "
            "to combine slice tasks with other tasks."
        )

    def _move_to_device(self) -> None:
        pass  # the model stays where it was put (``device=`` at construction, or ``.to()``)

    @property
    def device(self) -> torch.device:
        """Where the parameters are."""
        return next(self.parameters()).device

    def _label_heads(self) -> dict[str, tuple[str, int | None]]:
        key = (self.task_name, tuple(self._slice_list))
        cached = self.__dict__.get("_label_heads_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        heads: dict[str, tuple[str, int | None]] = {self.task_name: ("master", None)}
        for j, name in enumerate(self._slice_list):
            ind_name, pred_name = slice_label_names(self.task_name, name)
            heads[ind_name] = ("ind", j)
            heads[pred_name] = ("pred", j)
        self.__dict__["_label_heads_cache"] = (key, heads)
        return heads

    @property
    def task_names(self) -> set[str]:  # type: ignore[override]  # derived, never assigned
        """The label names this model has a head for (Snorkel's task names)."""
        return set(self._label_heads())

    # -- forward ---------------------------------------------------------------------------------
    def _input(self, X: Any) -> Tensor:
        if isinstance(X, Mapping):
            if self.input_data_key not in X:
                raise KeyError(
                    f"X_dict has no field {self.input_data_key!r} (fields: {list(X)}); set "
                    "input_data_key= to the name of the model's input field."
                )
            X = X[self.input_data_key]
        return move_to_device(X, self.device)

    def _body(self, X: Any) -> Tensor:
        H = self.base_architecture(self._input(X))
        if not isinstance(H, Tensor) or H.dim() != 2 or H.shape[1] != self.head_dim:
            shape = tuple(H.shape) if isinstance(H, Tensor) else type(H).__name__
            raise ValueError(
                f"base_architecture returned {shape}, but the heads expect [batch, head_dim="
                f"{self.head_dim}]; set head_dim to the size of its output."
            )
        return H

    def _heads(self, H: Tensor, need_slices: bool = True) -> _Heads:
        raise NotImplementedError

    def forward(self, X: Any, task_names: Any = None) -> Any:
        """Logits ``[batch, num_classes]`` of the final prediction for ``X`` (an ``X_dict`` or
        the input tensor).

        With ``task_names`` (Snorkel's ``forward(X_dict, task_names)``): the dict of outputs,
        ``{"_input_": X_dict, "input_op": representation, <last operation of each task>:
        logits}``, keyed as in :attr:`op_sequences` (the experts' outputs are never formed, so
        ``*_transform`` keys are absent).
        """
        if task_names is None:
            return self._heads(self._body(X)).master
        task_names = list(task_names)
        heads = self._label_heads()
        unknown = [t for t in task_names if t not in heads]
        if unknown:
            raise KeyError(f"Unknown task(s) {unknown}; this model's tasks are {sorted(heads)}.")
        H = self._body(X)
        out = self._heads(H, need_slices=any(heads[t][0] != "master" for t in task_names))
        outputs: dict[str, Any] = {INPUT_OP: X, "input_op": H}
        seqs = self.op_sequences
        for task in task_names:
            kind, j = heads[task]
            if kind == "master":
                logits = out.master
            else:
                block = out.ind if kind == "ind" else out.pred
                assert block is not None  # need_slices was set for this task
                logits = block[:, j, :]
            outputs[seqs[task][-1].name] = logits
        return outputs

    # -- loss -------------------------------------------------------------------------------------
    def calculate_loss(
        self, X_dict: Mapping[str, Any], Y_dict: Mapping[str, Tensor]
    ) -> tuple[dict[str, Tensor], dict[str, int]]:
        """Mean cross-entropy of every known label present in ``Y_dict`` (rows with -1 left out).

        Returns
        -------
        loss_dict, count_dict
            ``{label: mean loss}`` and ``{label: number of labelled rows}``, in ``Y_dict``
            order; a label without labelled rows in the batch is left out. The training loss is
            the sum of the ``loss_dict`` values (as Snorkel's trainer computes it).
        """
        heads = self._label_heads()
        present = [(name, heads[name]) for name in Y_dict if name in heads]
        if not present:
            return {}, {}
        device = self.device
        Y = {name: Y_dict[name].to(device) for name, _ in present}
        check_batch_labels(present, Y, self.num_classes)
        out = self._heads(self._body(X_dict), need_slices=any(h[0] != "master" for _, h in present))

        losses: dict[str, Tensor] = {}
        counts: dict[str, Tensor] = {}
        if self.task_name in Y:
            y = Y[self.task_name].long()
            counts[self.task_name] = (y != -1).sum()
            losses[self.task_name] = F.cross_entropy(out.master, y, ignore_index=-1, reduction="sum")
        for kind, logits in (("ind", out.ind), ("pred", out.pred)):
            group = [(name, j) for name, (k, j) in present if k == kind]
            if not group:
                continue
            assert logits is not None  # need_slices was set for this group
            idx = torch.tensor([j for _, j in group], device=device)
            y = torch.stack([Y[name].long() for name, _ in group], dim=1)  # [B, m]
            sel = logits.index_select(1, idx)  # [B, m, c]
            per_row = F.cross_entropy(
                sel.reshape(-1, sel.shape[-1]), y.reshape(-1), ignore_index=-1, reduction="none"
            ).view(y.shape)
            sums = per_row.sum(dim=0)
            n = (y != -1).sum(dim=0)
            for i, (name, _) in enumerate(group):
                losses[name] = sums[i]
                counts[name] = n[i]
        names = [name for name, _ in present]
        count_values = torch.stack([counts[name] for name in names]).tolist()
        loss_dict: dict[str, Tensor] = {}
        count_dict: dict[str, int] = {}
        for name, count in zip(names, count_values, strict=True):
            if count > 0:
                loss_dict[name] = losses[name] / count
                count_dict[name] = int(count)
        return loss_dict, count_dict

    def _scorer_for(self, kind: str) -> Any:
        if kind == "ind":
            from slicewidgets.analysis import Scorer

            return Scorer(metrics=["f1"])
        return self.scorer

    # -- data -------------------------------------------------------------------------------------
    def _expected_slices(self) -> list[str] | None:
        return [s for s in self._slice_list if s != BASE_SLICE]

    def _slice_dataset(self, dataset: DictDataset, S: Any) -> DictDataset:
        if not isinstance(dataset, DictDataset):
            raise TypeError(
                f"dataset must be a DictDataset; got {type(dataset).__name__}. Pass "
                "train_dl.dataset, or DictDataset.from_tensors(X, Y, split)."
            )
        if self.task_name not in dataset.Y_dict:
            raise ValueError(missing_labels_message(self.task_name, dataset))
        names, M = slice_columns(S)
        check_rows(M, dataset)
        expected = self._expected_slices()
        if expected is not None:
            got = [n for n in names if n != BASE_SLICE]
            missing = [n for n in expected if n not in got]
            unexpected = [n for n in got if n not in expected]
            if missing or unexpected:
                raise ValueError(
                    f"S has fields {names} but the model's slice_names are {expected} (missing "
                    f"{missing}, unexpected {unexpected}); apply the slicing functions the model "
                    "was built with: slice_names=[sf.name for sf in sfs]."
                )
        labels = dataset.Y_dict[self.task_name]
        check_label_values(self.task_name, labels, self.num_classes)
        new = copy.copy(dataset)
        new.X_dict = dict(dataset.X_dict)
        new.Y_dict = {
            **dataset.Y_dict,
            **slice_label_tensors(names, M, labels.long(), self.task_name),
        }
        return new

    def make_slice_dataloader(
        self, dataset: DictDataset, S: Any, **dataloader_kwargs: Any
    ) -> DictDataLoader:
        """A loader over a copy of ``dataset`` with the slice labels of ``S`` added.

        ``dataset`` itself is not changed (Snorkel adds the labels to it in place).

        Parameters
        ----------
        dataset
            A ``DictDataset`` with the task's labels (``-1`` for unlabelled rows).
        S
            Slice membership of the dataset's rows, one field per name in ``slice_names``
            (``PandasSFApplier(sfs).apply(df)``).
        **dataloader_kwargs
            Passed to ``DictDataLoader`` (``batch_size``, ``shuffle``, ...).

        Raises
        ------
        ValueError
            If ``S`` has another number of rows than the dataset, other fields than
            ``slice_names``, values other than 0/1/-1, the task labels are missing, or a label
            is outside ``-1..num_classes-1``.
        """
        return DictDataLoader(self._slice_dataset(dataset, S), **dataloader_kwargs)

    def make_oversampling_dataloader(
        self,
        dataset: DictDataset,
        S: Any,
        slice_weights: float | Mapping[str, float] = 5.0,
        **dataloader_kwargs: Any,
    ) -> DictDataLoader:
        """Like :meth:`make_slice_dataloader`, with slice rows drawn ``slice_weights`` times more
        often (see :func:`make_oversampling_dataloader`)."""
        return make_oversampling_dataloader(
            self._slice_dataset(dataset, S), S, slice_weights=slice_weights,
            task_name=self.task_name, **dataloader_kwargs,
        )

    # -- persistence --------------------------------------------------------------------------------
    def save(self, model_path: str) -> None:
        """Save the ``state_dict`` to ``model_path`` (``torch.save``; folders are created)."""
        import os

        folder = os.path.dirname(model_path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        torch.save(self.state_dict(), model_path)

    def load(self, model_path: str) -> None:
        """Load a ``state_dict`` saved by :meth:`save` (``torch.load(weights_only=True)``)."""
        state = torch.load(model_path, map_location=self.device, weights_only=True)
        self.load_state_dict(state)
