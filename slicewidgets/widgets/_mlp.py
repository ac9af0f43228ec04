"""The model behind ``TrainingPanel.from_arrays``: a one-hidden-layer MLP (slice-aware or
plain) over features and SliceSets, with its loaders, predictions and per-epoch scores.

No user interface: the panel runs what this builds. Training sees the training rows only;
predictions and scores are of the evaluation rows when an evaluation split is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MLPRecipe", "mlp_recipe"]


@dataclass(frozen=True)
class MLPRecipe:
    """What a :class:`~slicewidgets.widgets.TrainingPanel` needs to train and score."""

    build_model: Callable[[], Any]
    build_loaders: Callable[[Any, int], list]
    predict: Callable[[Any], tuple[np.ndarray, np.ndarray]]
    epoch_scores: Callable[[Any], dict[str, float]]
    trainer_options: dict[str, Any]
    seed: int
    predicts_training_rows: bool
    n_training_rows: int


def mlp_recipe(
    X: Any,
    golds: Any,
    slice_set: Any,
    *,
    X_eval: Any = None,
    golds_eval: Any = None,
    eval_slice_set: Any = None,
    hidden: int = 64,
    metric: str = "accuracy",
    slice_aware: bool = True,
    trainer_options: dict[str, Any] | None = None,
) -> MLPRecipe:
    """The recipe of :meth:`TrainingPanel.from_arrays` (see there for the arguments)."""
    from slicewidgets._optional import import_optional

    torch = import_optional("torch", purpose="TrainingPanel")
    from slicewidgets.analysis.scorer import Scorer
    from slicewidgets.classification import DictDataset
    from slicewidgets.slicing.sliceaware import PlainClassifier, SliceAwareClassifier

    features = _to_tensor(X)
    golds = np.array(golds, dtype=np.int64)  # a copy: torch wants writable memory
    if len(features) != len(golds) or len(golds) != len(slice_set.df):
        raise ValueError(
            f"X has {len(features)} rows, golds has {len(golds)} and the data has "
            f"{len(slice_set.df)}; pass the features and labels of the SliceSet's rows."
        )
    eval_features = None
    if X_eval is not None:
        eval_features = _to_tensor(X_eval)
        if eval_slice_set is not None and len(eval_features) != len(eval_slice_set.df):
            raise ValueError(
                f"X_eval has {len(eval_features)} rows but the evaluation data has "
                f"{len(eval_slice_set.df)}; pass the features of the evaluation rows.")
        if eval_features.shape[1] != features.shape[1]:
            raise ValueError(
                f"X_eval has {eval_features.shape[1]} features but X has "
                f"{features.shape[1]}; transform both splits with the same featurizer.")
    if golds_eval is not None:
        golds_eval = np.asarray(golds_eval)
    labels = torch.as_tensor(golds, dtype=torch.long)
    num_classes = max(2, int(golds.max()) + 1) if len(golds) else 2
    options = {"device": "cpu", **(trainer_options or {})}
    seed = options.pop("seed", 0)
    seed = 0 if seed is None else int(seed)
    scorer = Scorer(metrics=[metric])
    state: dict[str, Any] = {}

    def sync_training_slices() -> list[str]:
        """The training SliceSet gets the evaluation SliceSet's enabled SFs."""
        if eval_slice_set is None:
            return list(slice_set.enabled_names)
        names = list(eval_slice_set.enabled_names)
        for name in [n for n in slice_set.names if n not in names]:
            slice_set.remove(name)
        for name in names:
            slice_set.update(eval_slice_set[name], enabled=True)
        return names

    def build_model() -> Any:
        names = sync_training_slices()
        state["membership"] = slice_set.membership()
        state["eval_membership"] = (eval_slice_set.membership()
                                    if eval_slice_set is not None else None)
        # the panel's own generator: the user's global torch generator is left alone
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            body = torch.nn.Sequential(torch.nn.Linear(features.shape[1], hidden),
                                       torch.nn.ReLU())
            if slice_aware:
                return SliceAwareClassifier(body, hidden, names, num_classes=num_classes,
                                            device=options["device"])
            return PlainClassifier(body, hidden, num_classes=num_classes,
                                   device=options["device"])

    def build_loaders(model: Any, size: int) -> list:
        dataset = DictDataset.from_tensors(features, labels, "train")
        generator = torch.Generator().manual_seed(seed)
        if slice_aware:
            return [model.make_slice_dataloader(dataset, state["membership"],
                                                batch_size=size, shuffle=True,
                                                generator=generator)]
        from slicewidgets.classification import DictDataLoader

        return [DictDataLoader(dataset, batch_size=size, shuffle=True,
                               generator=generator)]

    def predict(model: Any) -> tuple[np.ndarray, np.ndarray]:
        probs = model.predict_proba(eval_features if eval_features is not None
                                    else features)
        return probs.argmax(axis=1), probs

    def epoch_scores(model: Any) -> dict[str, float]:
        preds, _ = predict(model)
        if eval_features is not None:
            if golds_eval is None or state["eval_membership"] is None:
                return {}
            scores = scorer.score_slices(state["eval_membership"], golds_eval, preds)
        else:
            scores = scorer.score_slices(state["membership"], golds, preds)
        return {name: float(values[metric]) for name, values in scores.items()}
    return MLPRecipe(build_model, build_loaders, predict, epoch_scores, options, seed,
                     predicts_training_rows=eval_features is None,
                     n_training_rows=len(golds))


def _to_tensor(X: Any) -> Any:
    import torch

    if isinstance(X, torch.Tensor):
        return X.float()
    if hasattr(X, "toarray"):  # scipy sparse
        X = X.toarray()
    return torch.as_tensor(np.asarray(X, dtype=np.float32))
