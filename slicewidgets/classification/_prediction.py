"""Prediction and scoring of the fused classifiers: ``predict_proba``, Snorkel's ``predict`` /
``score`` / ``score_slices`` over ``DictDataLoader`` objects, from one forward pass per batch
for all heads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from slicewidgets.classification._dict_classifier import _DictClassifier
from slicewidgets.classification._utils import metrics_dict_to_dataframe
from slicewidgets.classification.data import DictDataLoader, DictDataset

__all__: list[str] = []  # private: see slicewidgets.classification.sliceaware


class _PredictingClassifier(_DictClassifier):
    """:class:`_DictClassifier` with prediction and scoring (Snorkel's API, plus arrays and
    tensors)."""

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
