"""Slice-aware learning: a classifier that adds capacity for critical slices.

Slice-based learning (Chen, Wu, Weng, Ratner, Ré, NeurIPS 2019), as Snorkel's
``SliceAwareClassifier`` implements it: a shared ``base_architecture`` computes a representation
``h``; for each slice (plus ``"base"``, every row) an *indicator head* learns slice membership
and an *expert* (a linear transform of ``h``) learns the task on the slice's rows through one
*prediction head* shared by all experts; an attention combiner weights the experts by
``softmax_s(P(row in s) * confidence_s / temperature)`` and a master head predicts from the
weighted representation. Slicing functions are only needed to build the training labels:
predictions use the master head alone.

Same label names, losses and numbers as Snorkel (the training loss is the sum over labels of
each label's mean cross-entropy; slice experts learn on slice members only). Differences:

* multiclass works (``num_classes``); the combiner's confidence is P(class 1) for two classes,
  as in Snorkel, and the largest class probability for more (``confidence=``);
* the experts are computed together, and never materialized: they only reach the loss through
  the master and prediction heads, so ``head(expert(h))`` is computed as
  ``(head.weight @ expert.weight) h`` -- same parameters and results, a fraction of the cost;
* ``expert_dim`` can be smaller than ``head_dim`` (Snorkel: equal);
* ``make_slice_dataloader`` copies the dataset instead of changing it, and checks ``S``;
* ``score_slices`` matches label names exactly (Snorkel matches the substrings "pred" / "ind")
  and reports NaN for a slice with no row instead of failing;
* ``-1`` in ``S`` (an SF that abstained or failed) means unknown membership: the row is ignored
  by that slice's indicator and expert (Snorkel counts it as a member).

Baselines with the same API: :class:`PlainClassifier` (no slices) and
:func:`make_oversampling_dataloader` (slice rows drawn more often, with PyTorch's
``WeightedRandomSampler``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

try:  # torch comes with the 'learn' extra; say so instead of a bare ModuleNotFoundError
    import torch
except ModuleNotFoundError as _err:
    from slicewidgets._optional import missing_extra

    raise missing_extra(_err, purpose="Slice-aware learning (slicewidgets.slicing.sliceaware)") from None
import torch.nn.functional as F
from torch import Tensor, nn

from slicewidgets.classification._utils import (
    metrics_dict_to_dataframe,
    move_to_device,
    resolve_device,
)
from slicewidgets.classification.data import (
    DEFAULT_INPUT_DATA_KEY,
    DEFAULT_TASK_NAME,
    DictDataLoader,
    DictDataset,
)
from slicewidgets.classification.multitask_classifier import ClassifierConfig, MultitaskClassifier
from slicewidgets.classification.oversampling import make_oversampling_dataloader
from slicewidgets.classification.slice_combiner import SliceCombinerModule, _confidence_kind
from slicewidgets.classification.slice_tasks import (
    BASE_SLICE,
    _check_batch_labels,
    _check_label_values,
    _check_rows,
    _missing_labels_message,
    _slice_columns,
    _slice_label_tensors,
    slice_label_names,
)
from slicewidgets.classification.task import INPUT_OP, Operation, Task

__all__ = ["PlainClassifier", "SliceAwareClassifier"]


# -- shared classifier machinery ----------------------------------------------------------------
def _default_scorer(num_classes: int) -> Any:
    from slicewidgets.analysis import Scorer

    return Scorer(metrics=["accuracy", "f1"] if num_classes == 2 else ["accuracy", "f1_macro"])


def _init_linear_(weight: Tensor, bias: Tensor) -> None:
    """Initialise ``weight [out, in]`` and ``bias [out]`` (views allowed) as ``nn.Linear``
    does, drawing the same random numbers in the same order."""
    with torch.no_grad():
        w = torch.empty(weight.shape, dtype=weight.dtype)
        nn.init.kaiming_uniform_(w, a=math.sqrt(5))
        fan_in = w.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        b = torch.empty(bias.shape, dtype=bias.dtype)
        nn.init.uniform_(b, -bound, bound)
        weight.copy_(w)
        bias.copy_(b)


class _HeadsThroughExperts(torch.autograd.Function):
    """``P @ W`` (heads ``[2k, d]`` times all experts ``[d, S*h]``), with the experts' gradient
    ``P.T @ dK`` computed from a contiguous copy of ``P.T``.

    That gradient is the step's largest output (``d * S * h`` numbers, 368 MB for the tutorial
    model) with an inner dimension of only ``2k`` (4): MKL's kernel for the transposed view
    ``torch.mm`` backward passes ran 1.3-1.6x slower than for a contiguous ``[d, 2k]`` matrix
    (``benchmarks/bench_learning.py gemm`` prints both). Same products, same values as autograd's.
    """

    @staticmethod
    def forward(ctx: Any, P: Tensor, W: Tensor) -> Tensor:
        ctx.save_for_backward(P, W)
        return P @ W

    @staticmethod
    def backward(ctx: Any, dK: Tensor) -> tuple[Tensor | None, Tensor | None]:
        P, W = ctx.saved_tensors
        dP = dK @ W.T if ctx.needs_input_grad[0] else None
        dW = P.T.contiguous() @ dK if ctx.needs_input_grad[1] else None
        return dP, dW


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
        _check_batch_labels(present, Y, self.num_classes)
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

    # -- prediction --------------------------------------------------------------------------------
    def _iter_batches(self, data: Any, batch_size: int):
        """Yield ``(X, Y_dict or None)`` batches from a loader, dataset, X_dict, array or tensor."""
        if isinstance(data, DictDataLoader):
            yield from data
            return
        if isinstance(data, DictDataset):
            yield from DictDataLoader(data, batch_size=batch_size, shuffle=False)
            return
        if isinstance(data, Mapping):
            X = data.get(self.input_data_key)
            if X is None:
                raise KeyError(
                    f"X_dict has no field {self.input_data_key!r} (fields: {list(data)}); set "
                    "input_data_key= to the name of the model's input field."
                )
        else:
            X = data
        if isinstance(X, np.ndarray):
            X = torch.from_numpy(np.ascontiguousarray(X))
            if not X.is_floating_point() or X.dtype == torch.float64:
                X = X.float()  # e.g. int64 bag-of-words counts
        if not isinstance(X, Tensor):
            raise TypeError(
                "Expected a DictDataLoader, a DictDataset, an X_dict, a numpy array or a tensor; "
                f"got {type(data).__name__}."
            )
        for start in range(0, len(X), batch_size):
            yield X[start : start + batch_size], None

    @torch.no_grad()
    def predict_proba(self, data: Any, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``[n, num_classes]`` of the final prediction.

        Slicing functions are not needed: only the inputs are used.

        Parameters
        ----------
        data
            A ``DictDataLoader`` or ``DictDataset`` (its ``input_data_key`` field), an ``X_dict``,
            a numpy array or a tensor of inputs.
        batch_size
            Rows per forward pass (ignored for a loader).
        """
        self.eval()
        chunks = []
        for X, _ in self._iter_batches(data, batch_size):
            chunks.append(F.softmax(self._heads(self._body(X), need_slices=False).master, dim=1).cpu())
        if not chunks:
            return np.zeros((0, self.num_classes), dtype=np.float32)
        return torch.cat(chunks).numpy()

    @torch.no_grad()
    def predict(  # type: ignore[override]  # Snorkel's form, plus arrays and tensors
        self,
        data: Any,
        return_preds: bool = False,
        remap_labels: Mapping[str, str | None] | None = None,
        *,
        batch_size: int = 256,
    ) -> np.ndarray | dict[str, dict[str, Tensor]]:
        """Predicted classes; or, for a ``DictDataLoader``, Snorkel's dict of golds and probs.

        Parameters
        ----------
        data
            A ``DictDataLoader``: returns Snorkel's ``{"golds": {label: Tensor}, "probs":
            {label: Tensor}, ("preds": ...)}`` for every label of the loader that has a head
            (or is remapped to one). Anything else accepted by :meth:`predict_proba`: returns an
            ``int64`` array of classes.
        return_preds
            With a loader, also return ``"preds"``.
        remap_labels
            With a loader, ``{label: task name or None}`` to score a label on another head or
            drop it (Snorkel).
        batch_size
            Rows per forward pass when ``data`` is not a loader.
        """
        from slicewidgets.utils import probs_to_preds

        if not isinstance(data, DictDataLoader):
            return probs_to_preds(self.predict_proba(data, batch_size=batch_size))
        results = self._predict_loader(data, remap_labels or {})
        out: dict[str, dict[str, Tensor]] = {
            "golds": {k: torch.as_tensor(v[0], dtype=torch.float32) for k, v in results.items()},
            "probs": {k: torch.as_tensor(v[1]) for k, v in results.items()},
        }
        if return_preds:
            out["preds"] = {
                k: torch.as_tensor(probs_to_preds(v[1]), dtype=torch.float32)
                for k, v in results.items()
            }
        return out

    def _labels_to_heads(
        self, label_names: Sequence[str], remap_labels: Mapping[str, str | None]
    ) -> dict[str, tuple[str, int | None]]:
        heads = self._label_heads()
        mapping: dict[str, tuple[str, int | None]] = {}
        for label in label_names:
            target = remap_labels.get(label, label)
            if target is None:
                continue
            if target in heads:
                mapping[label] = heads[target]
        return mapping

    def _predict_loader(
        self, dataloader: DictDataLoader, remap_labels: Mapping[str, str | None]
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{label: (golds [n], probs [n, c])}`` for the labels of ``dataloader`` with a head."""
        self.eval()
        mapping = self._labels_to_heads(list(dataloader.dataset.Y_dict), remap_labels)
        need_slices = any(kind != "master" for kind, _ in mapping.values())
        golds: dict[str, list[Tensor]] = {label: [] for label in mapping}
        master, ind, pred = [], [], []
        with torch.no_grad():
            for X, Y in dataloader:
                out = self._heads(self._body(X), need_slices=need_slices)
                master.append(F.softmax(out.master, dim=-1).cpu())
                if need_slices:
                    assert out.ind is not None and out.pred is not None
                    ind.append(F.softmax(out.ind, dim=-1).cpu())
                    pred.append(F.softmax(out.pred, dim=-1).cpu())
                for label in mapping:
                    golds[label].append(Y[label].cpu())
        probs: dict[str, np.ndarray | None] = {
            "master": torch.cat(master).numpy() if master else np.zeros((0, self.num_classes)),
            "ind": torch.cat(ind).numpy() if ind else None,
            "pred": torch.cat(pred).numpy() if pred else None,
        }
        results = {}
        for label, (kind, j) in mapping.items():
            block = probs[kind]
            assert block is not None  # need_slices was set for this label
            p = block if kind == "master" else block[:, j, :]
            g = torch.cat(golds[label]).numpy() if golds[label] else np.zeros(0, np.int64)
            results[label] = (g.astype(np.int64), p)
        return results

    # -- scoring ------------------------------------------------------------------------------------
    def _scorer_for(self, kind: str) -> Any:
        if kind == "ind":
            from slicewidgets.analysis import Scorer

            return Scorer(metrics=["f1"])
        return self.scorer

    @torch.no_grad()
    def score(
        self,
        dataloaders: Sequence[DictDataLoader],
        remap_labels: Mapping[str, str | None] | None = None,
        as_dataframe: bool = False,
    ) -> dict[str, float] | pd.DataFrame:
        """Score every label of the loaders on its own head (Snorkel's ``score``).

        Keys are ``"label/dataset/split/metric"``. Indicator labels are scored with F1,
        the others with ``scorer``. A label with no labelled row gets NaN.
        """
        from slicewidgets.utils import probs_to_preds

        if isinstance(dataloaders, DictDataLoader):
            dataloaders = [dataloaders]
        remap_labels = remap_labels or {}
        scores: dict[str, float] = {}
        for dl in dataloaders:
            results = self._predict_loader(dl, remap_labels)
            mapping = self._labels_to_heads(list(dl.dataset.Y_dict), remap_labels)
            for label, (golds, probs) in results.items():
                kind = mapping[label][0]
                scorer = self._scorer_for(kind)
                keep = golds != -1
                if keep.any():
                    preds = probs_to_preds(probs)
                    values = scorer.score(golds, preds, probs)
                else:
                    values = {metric: float("nan") for metric in scorer.metrics}
                for metric, value in values.items():
                    scores[f"{label}/{dl.dataset.name}/{dl.dataset.split}/{metric}"] = value
        if as_dataframe:
            return metrics_dict_to_dataframe(scores)
        return scores

    @torch.no_grad()
    def score_slices(
        self, dataloaders: Sequence[DictDataLoader], as_dataframe: bool = False
    ) -> dict[str, float] | pd.DataFrame:
        """Score the final prediction overall and on every slice (Snorkel's ``score_slices``).

        The task label and every ``{task}_slice:{s}_pred`` label are scored on the final
        (master) head, so row ``{task}_slice:{s}_pred`` is the score on slice ``s``'s rows and
        ``{task}_slice:base_pred`` equals the overall score. Indicator labels are left out.

        Parameters
        ----------
        dataloaders
            Loaders from :meth:`make_slice_dataloader`.
        as_dataframe
            Return a DataFrame with columns ``label, dataset, split, metric, score``.

        Returns
        -------
        dict or DataFrame
            ``{"label/dataset/split/metric": score}``; NaN for a slice with no row.
        """
        if isinstance(dataloaders, DictDataLoader):
            dataloaders = [dataloaders]
        prefix = f"{self.task_name}_slice:"
        mapping: dict[str, str | None] = {}
        for dl in dataloaders:
            for label in dl.dataset.Y_dict:
                if label == self.task_name:
                    continue
                if label.startswith(prefix) and label.endswith("_pred"):
                    mapping[label] = self.task_name
                else:
                    mapping[label] = None
        return self.score(dataloaders, remap_labels=mapping, as_dataframe=as_dataframe)

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
            raise ValueError(_missing_labels_message(self.task_name, dataset))
        names, M = _slice_columns(S)
        _check_rows(M, dataset)
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
        _check_label_values(self.task_name, labels, self.num_classes)
        new = copy.copy(dataset)
        new.X_dict = dict(dataset.X_dict)
        new.Y_dict = {
            **dataset.Y_dict,
            **_slice_label_tensors(names, M, labels.long(), self.task_name),
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


# -- the models -----------------------------------------------------------------------------------
class SliceAwareClassifier(_DictClassifier):
    """Snorkel's slice-aware classifier: slice indicator heads, slice experts and attention.

    A :class:`~slicewidgets.classification.MultitaskClassifier` with the tasks of
    :func:`~slicewidgets.classification.convert_to_slice_tasks` (same names, same initial
    weights for a seeded run, same outputs), computed together.

    Parameters
    ----------
    base_architecture
        A module mapping the input field to a representation ``[batch, head_dim]``.
    head_dim
        Size of ``base_architecture``'s output.
    slice_names
        Names of the slices (the fields of ``S``); a ``"base"`` slice (all rows) is added.
    input_data_key
        The ``X_dict`` field fed to ``base_architecture``.
    task_name
        Name of the task label (``Y_dict`` key) and prefix of the slice labels.
    scorer
        A :class:`~slicewidgets.analysis.Scorer` for ``score`` / ``score_slices`` (default
        ``Scorer(metrics=["accuracy", "f1"])``, ``["accuracy", "f1_macro"]`` for multiclass).
    num_classes
        Number of classes (Snorkel: 2 only).
    expert_dim
        Output size of each slice expert (default ``head_dim``, as in Snorkel); smaller values
        save memory and time.
    temperature
        Temperature of the attention softmax.
    confidence
        Confidence of a slice expert in the attention: ``"auto"`` is P(class 1) for two classes
        (Snorkel) and the largest class probability otherwise.
    device
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, an int (Snorkel) or a device.
    dataparallel
        Accepted for Snorkel compatibility and ignored (the model is never wrapped).

    Attributes
    ----------
    slice_names : list of str
        As given.
    task_names : set of str
        The task label and the ``_ind`` / ``_pred`` label of every slice, ``base`` included.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from slicewidgets.classification import DictDataset, Trainer
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(200, 2); Y = (X[:, 0] > X[:, 1]).long()
    >>> S = np.rec.fromarrays([(X[:, 0] > 1).numpy().astype(np.int64)], names="right")
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU())
    >>> model = SliceAwareClassifier(mlp, head_dim=16, slice_names=["right"], device="cpu")
    >>> dl = model.make_slice_dataloader(DictDataset.from_tensors(X, Y, "train"), S,
    ...                                  batch_size=32, shuffle=True)
    >>> Trainer(n_epochs=5, lr=0.05, progress_bar=False, seed=0, device="cpu").fit(model, [dl])
    >>> sorted(model.score_slices([dl]))[:2]
    ['task/SnorkelDataset/train/accuracy', 'task/SnorkelDataset/train/f1']
    >>> bool((model.predict(X) == Y.numpy()).mean() > 0.9)  # no SF needed at inference
    True
    """

    _model_kind = "sliceaware_classifier"

    def __init__(
        self,
        base_architecture: nn.Module,
        head_dim: int,
        slice_names: Sequence[str],
        input_data_key: str = DEFAULT_INPUT_DATA_KEY,
        task_name: str = DEFAULT_TASK_NAME,
        scorer: Any = None,
        *,
        num_classes: int = 2,
        expert_dim: int | None = None,
        temperature: float = 1.0,
        confidence: str = "auto",
        device: Any = "auto",
        dataparallel: bool = False,
    ) -> None:
        super().__init__()
        self._init_common(base_architecture, head_dim, input_data_key, task_name, scorer, num_classes)
        if isinstance(slice_names, str) or not all(isinstance(s, str) and s for s in slice_names):
            raise TypeError(
                f"slice_names must be a list of non-empty strings, e.g. [sf.name for sf in sfs]; "
                f"got {slice_names!r}."
            )
        slice_names = list(slice_names)
        dupes = sorted({s for s in slice_names if slice_names.count(s) > 1})
        if dupes:
            raise ValueError(f"slice_names must be unique; repeated: {dupes}.")
        if BASE_SLICE in slice_names:
            raise ValueError(
                f"slice_names must not contain {BASE_SLICE!r}: the model adds its own "
                f"{BASE_SLICE!r} slice of all rows, which a slice of that name would replace. "
                "Rename the slicing function, e.g. sf.rename('base_rows')."
            )
        bad = [s for s in slice_names if "/" in s]
        if bad:
            raise ValueError(
                f"Slice names must not contain '/', which separates the parts of metric names; "
                f"got {bad}."
            )
        if expert_dim is None:
            expert_dim = head_dim
        if not (isinstance(expert_dim, int) and expert_dim > 0):
            raise ValueError(f"expert_dim must be a positive int; got {expert_dim!r}.")
        _confidence_kind(confidence, num_classes)
        self.slice_names = slice_names
        self._slice_list = slice_names if BASE_SLICE in slice_names else [*slice_names, BASE_SLICE]
        self.expert_dim = expert_dim
        h, d, k, n_slices = head_dim, expert_dim, num_classes, len(self._slice_list)

        # Created in the order Snorkel creates them, so that a seeded model starts from the
        # same weights: master head, indicator heads, shared prediction head, experts.
        self.master_head = nn.Linear(d, k)
        self.ind_head_weight = nn.Parameter(torch.empty(n_slices, 2, h))
        self.ind_head_bias = nn.Parameter(torch.empty(n_slices, 2))
        for j in range(n_slices):
            _init_linear_(self.ind_head_weight[j], self.ind_head_bias[j])
        self.pred_head = nn.Linear(d, k)
        # expert j is the Linear(h, d) with weight expert_weight[:, j, :] and bias expert_bias[j];
        # this layout makes ``head.weight @ all experts`` one matrix product.
        self.expert_weight = nn.Parameter(torch.empty(d, n_slices, h))
        self.expert_bias = nn.Parameter(torch.empty(n_slices, d))
        for j in range(n_slices):
            _init_linear_(self.expert_weight[:, j, :], self.expert_bias[j])
        self.combiner = SliceCombinerModule(temperature=temperature, confidence=confidence)
        self.to(resolve_device(device))

    def extra_repr(self) -> str:
        return (
            f"slice_names={self.slice_names}, task_name={self.task_name!r}, "
            f"num_classes={self.num_classes}, head_dim={self.head_dim}, "
            f"expert_dim={self.expert_dim}"
        )

    @property
    def temperature(self) -> float:
        return self.combiner.temperature

    def _heads(self, H: Tensor, need_slices: bool = True) -> _Heads:
        B, h = H.shape
        d, n_slices, k = self.expert_dim, len(self._slice_list), self.num_classes
        ind = F.linear(
            H, self.ind_head_weight.reshape(n_slices * 2, h), self.ind_head_bias.reshape(-1)
        ).view(B, n_slices, 2)
        # head(expert_s(H)) = H @ (head.W @ W_s).T + head.W @ b_s: the experts' d-dimensional
        # outputs are never formed; both heads are applied to all experts in one product.
        P = torch.cat([self.pred_head.weight, self.master_head.weight], dim=0)  # [2k, d]
        K = _HeadsThroughExperts.apply(P, self.expert_weight.view(d, n_slices * h))
        K = K.view(2 * k * n_slices, h)
        Z = (H @ K.T).view(B, 2 * k, n_slices) + (P @ self.expert_bias.T)  # [B, 2k, S]
        pred = (Z[:, :k, :] + self.pred_head.bias.view(1, k, 1)).transpose(1, 2)  # [B, S, k]
        attention = self.combiner.attention(ind, pred)  # [B, S]
        master = torch.bmm(Z[:, k:, :], attention.unsqueeze(-1)).squeeze(-1) + self.master_head.bias
        return _Heads(master, ind, pred, attention)

    @torch.no_grad()
    def slice_attention(self, data: Any, *, batch_size: int = 256) -> pd.DataFrame:
        """Attention weights of each slice expert for every row (rows sum to 1).

        Examples
        --------
        >>> model = SliceAwareClassifier(torch.nn.Identity(), 2, ["a"], device="cpu")
        >>> model.slice_attention(torch.zeros(2, 2)).columns.tolist()
        ['a', 'base']
        """
        self.eval()
        chunks = []
        for X, _ in self._iter_batches(data, batch_size):
            attention = self._heads(self._body(X)).attention
            assert attention is not None  # need_slices=True
            chunks.append(attention.cpu())
        values = torch.cat(chunks).numpy() if chunks else np.zeros((0, len(self._slice_list)))
        return pd.DataFrame(values, columns=self._slice_list)


class PlainClassifier(_DictClassifier):
    """Baseline with the same API: ``base_architecture`` and one linear head, no slice heads.

    Trains on the task label only (slice labels in the loader are used for
    :meth:`score_slices`). With :meth:`make_oversampling_dataloader` it is the oversampling
    baseline.

    Parameters
    ----------
    base_architecture, head_dim, input_data_key, task_name, scorer, num_classes, device
        As for :class:`SliceAwareClassifier`.
    slice_names
        If given, ``make_slice_dataloader`` checks that ``S`` has these fields.

    Examples
    --------
    >>> model = PlainClassifier(torch.nn.Linear(3, 4), head_dim=4, device="cpu")
    >>> model.predict_proba(torch.zeros(2, 3)).shape
    (2, 2)
    """

    _model_kind = "plain_classifier"

    def __init__(
        self,
        base_architecture: nn.Module,
        head_dim: int,
        input_data_key: str = DEFAULT_INPUT_DATA_KEY,
        task_name: str = DEFAULT_TASK_NAME,
        scorer: Any = None,
        *,
        num_classes: int = 2,
        slice_names: Sequence[str] | None = None,
        device: Any = "auto",
    ) -> None:
        super().__init__()
        self._init_common(base_architecture, head_dim, input_data_key, task_name, scorer, num_classes)
        self.slice_names = list(slice_names) if slice_names is not None else None
        self._slice_list = []
        self.head = nn.Linear(head_dim, num_classes)
        self.to(resolve_device(device))

    def _expected_slices(self) -> list[str] | None:
        return self.slice_names

    def _heads(self, H: Tensor, need_slices: bool = True) -> _Heads:
        return _Heads(self.head(H), None, None, None)
