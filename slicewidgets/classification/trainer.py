"""``Trainer``: fit a classifier on ``DictDataLoader`` batches, with callbacks and stopping.

Same configuration and metric names as ``snorkel.classification.Trainer``, plus:

* a callback interface (:class:`TrainerCallback`) called at train begin, after every batch,
  at every epoch end and at train end, which the widgets implement;
* :meth:`Trainer.request_stop`, thread-safe and honoured between batches; the model is left
  usable (eval mode) and the checkpoints written so far are kept;
* ``seed`` is used (Python, NumPy and torch generators are seeded at the start of ``fit``), so
  runs on CPU are reproducible;
* a non-finite loss stops training with an error naming the epoch and batch;
* ``device="auto"`` trains on CUDA when it is available;
* checkpoints are plain ``state_dict`` files, read with ``torch.load(weights_only=True)``.

Any model works that is a ``torch.nn.Module`` with ``calculate_loss(X_dict, Y_dict) ->
(loss_dict, count_dict)`` (one mean loss and one count of labelled rows per label), and,
for validation, ``score(dataloaders) -> {"label/dataset/split/metric": value}``:
:class:`~slicewidgets.slicing.SliceAwareClassifier`,
:class:`~slicewidgets.slicing.sliceaware.PlainClassifier`, or Snorkel's
``MultitaskClassifier``.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any, Protocol, cast

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from slicewidgets.classification._config import (
    TrainerConfig,
    config_to_dict,
    merge_config,
)
from slicewidgets.classification._linear import LinearLayers
from slicewidgets.classification._loggers import (
    Checkpointer,
    LogManager,
    LogWriter,
    TensorBoardWriter,
)
from slicewidgets.classification._lowrank import LowRankUpdate
from slicewidgets.classification._optim import (
    LR_SCHEDULERS,
    OPTIMIZERS,
    LRSchedules,
    make_lr_schedules,
    make_optimizer,
)
from slicewidgets.classification._runtime import (
    keep_freed_memory,
    reuses_memory,
    training_threads,
)
from slicewidgets.classification._utils import move_to_device, resolve_device
from slicewidgets.classification.data import DictDataLoader
from slicewidgets.classification.schedulers import (
    Scheduler,
    SequentialScheduler,
    ShuffledScheduler,
)

__all__ = ["Trainer", "TrainerCallback"]

logger = logging.getLogger(__name__)

Metrics = dict[str, float]


class _LossModel(Protocol):
    """What ``fit`` needs of a model besides ``torch.nn.Module`` (``score`` for validation)."""

    def calculate_loss(
        self, X_dict: dict[str, Any], Y_dict: dict[str, torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], dict[str, int]]: ...

    def score(self, dataloaders: Sequence[DictDataLoader]) -> dict[str, float]: ...

BATCH_SCHEDULERS = ("shuffled", "sequential")
CALLBACK_HOOKS = ("on_train_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class TrainerCallback:
    """Base class of training callbacks; override the hooks you need.

    Every hook receives the :class:`Trainer` and the current metrics dict (Snorkel's names:
    ``"model/all/train/loss"``, ``"model/all/train/lr"``, and ``"label/dataset/split/metric"``
    after an evaluation). Hooks run in the training thread. The trainer's progress is in
    ``trainer.epoch``, ``trainer.batch_num``, ``trainer.n_batches_per_epoch``,
    ``trainer.global_step`` and ``trainer.history``.

    * ``on_train_begin(trainer, metrics)``: before the first batch.
    * ``on_batch_end(trainer, metrics)``: after each optimizer step.
    * ``on_epoch_end(trainer, metrics)``: after each complete epoch; ``trainer.history[-1]``
      holds the epoch's summary.
    * ``on_train_end(trainer, metrics)``: always, also after a stop (``trainer.stopped``) or an
      error (``trainer.error``).

    A hook may call ``trainer.request_stop()``. An exception raised by a hook stops training
    cleanly and is raised to the caller of :meth:`Trainer.fit`. Any object with some of these
    methods can be used as a callback.

    Examples
    --------
    >>> class StopAfter(TrainerCallback):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def on_batch_end(self, trainer, metrics):
    ...         if trainer.global_step >= self.n:
    ...             trainer.request_stop()
    """

    def on_train_begin(self, trainer: Trainer, metrics: Metrics) -> None:
        """Called before the first batch."""

    def on_batch_end(self, trainer: Trainer, metrics: Metrics) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, trainer: Trainer, metrics: Metrics) -> None:
        """Called after each complete epoch."""

    def on_train_end(self, trainer: Trainer, metrics: Metrics) -> None:
        """Called once training ends (completed, stopped or failed)."""


class Trainer:
    """Train a classifier on the ``train`` loaders, evaluating on the ``valid`` ones.

    Parameters
    ----------
    name
        A name for this trainer (default ``"Trainer"``).
    callbacks
        :class:`TrainerCallback` objects (or any objects with some of its hooks).
    **kwargs
        Settings merged into :class:`~slicewidgets.classification.TrainerConfig` (Snorkel's
        names): ``n_epochs=1``, ``lr=0.01``, ``l2=0.0``, ``grad_clip=1.0``,
        ``optimizer="adam"`` (``"sgd"``, ``"adamax"``), ``lr_scheduler="constant"``
        (``"linear"``, ``"exponential"``, ``"step"``), ``batch_scheduler="shuffled"``
        (``"sequential"``), ``progress_bar=True``, ``checkpointing=False``, ``seed=None``,
        ``device="auto"``, ``num_threads="auto"``, ``reuse_memory="auto"``,
        ``low_rank_update="auto"``, ``sparse_input="auto"``,
        ``train_split="train"``,
        ``valid_split="valid"``, and the nested
        ``optimizer_config``, ``lr_scheduler_config``, ``log_manager_config``,
        ``checkpointer_config``, ``log_writer_config`` (given as dicts).

    Attributes
    ----------
    config : TrainerConfig
        The merged settings.
    metrics : dict
        The latest metrics (after the last batch).
    history : list of dict
        One entry per completed epoch: ``epoch``, ``n_batches``, ``loss`` (mean over the
        epoch's labelled rows, as ``model/all/train/loss``), ``lr``, ``time_s``, and the
        validation metrics computed during that epoch.
    stopped : bool
        Whether the last ``fit`` ended early (stop request or error).
    error : BaseException or None
        The exception that ended the last ``fit``, if any.
    low_rank_steps : int
        Steps of the last ``fit`` that updated a weight from its gradient's factors
        (``low_rank_update``: the slice-aware model's experts, and large linear layers'
        weights at batches much smaller than their sides; their ``.grad`` then stays ``None``
        during ``fit``).
    sparse_products : int
        Linear-layer products of the last ``fit`` that multiplied only the nonzero columns of
        a sparse input (``sparse_input``; e.g. one per step for a bag-of-words first layer).
    last_checkpoint : str or None
        Path of the latest checkpoint kept on disk (``checkpointing=True``).

    Raises
    ------
    ValueError
        If a setting name is unknown (``"Got unexpected field names: ['foo']..."``).

    Examples
    --------
    >>> import torch
    >>> from slicewidgets.classification import DictDataLoader, DictDataset
    >>> from slicewidgets.slicing.sliceaware import PlainClassifier
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(64, 2); Y = (X[:, 0] > 0).long()
    >>> dl = DictDataLoader(DictDataset.from_tensors(X, Y, "train"), batch_size=16, shuffle=True)
    >>> model = PlainClassifier(torch.nn.Linear(2, 8), head_dim=8, device="cpu")
    >>> trainer = Trainer(n_epochs=3, lr=0.05, progress_bar=False, seed=0, device="cpu")
    >>> trainer.fit(model, [dl])
    >>> len(trainer.history), trainer.history[-1]["loss"] < trainer.history[0]["loss"]
    (3, True)
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        callbacks: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.config: TrainerConfig = merge_config(TrainerConfig(), kwargs)
        self.name = name if name is not None else type(self).__name__
        self.callbacks: list[Any] = list(callbacks or [])
        self._stop_event = threading.Event()
        self.metrics: Metrics = {}
        self.history: list[dict[str, float]] = []
        self.stopped = False
        self.error: BaseException | None = None
        self.last_checkpoint: str | None = None
        self.epoch = 0
        self.batch_num = 0
        self.global_step = 0
        self.n_batches_per_epoch = 0
        self.lr_scheduler: Any = None
        self.warmup_scheduler: Any = None
        self.warmup_steps = 0
        self._lr_schedules = LRSchedules(None, 0, None)
        self.device: torch.device | None = None
        self.low_rank_steps = 0
        self.sparse_products = 0

    def __repr__(self) -> str:
        c = self.config
        return (
            f"{type(self).__name__}(n_epochs={c.n_epochs}, lr={c.lr}, optimizer={c.optimizer!r}, "
            f"lr_scheduler={c.lr_scheduler!r}, seed={c.seed}, device={c.device!r})"
        )

    # -- control -------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Ask ``fit`` to stop after the current batch (thread-safe).

        The model is left usable (eval mode, current weights) and the checkpoints written so
        far are kept. A request made before ``fit`` starts is cleared by ``fit``.
        """
        self._stop_event.set()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop has been requested and not yet honoured."""
        return self._stop_event.is_set()

    # -- training ------------------------------------------------------------------------------
    def fit(self, model: nn.Module, dataloaders: Sequence[DictDataLoader]) -> None:
        """Train ``model`` on the loaders whose split is ``train_split``.

        Parameters
        ----------
        model
            A ``torch.nn.Module`` with ``calculate_loss(X_dict, Y_dict)`` (and ``score`` for
            validation).
        dataloaders
            ``DictDataLoader`` objects; their dataset ``split`` must be the train, valid or
            test split name. Valid loaders are scored every ``evaluation_freq`` units.

        Raises
        ------
        ValueError
            Bad splits, unknown optimizer / scheduler / batch scheduler names.
        FloatingPointError
            If the loss becomes NaN or infinite (the message names the epoch and batch).
        Exception
            Whatever a callback raised; training is stopped cleanly first.
        """
        cfg = self.config
        self._check_dataloaders(dataloaders)
        if not hasattr(model, "calculate_loss"):
            raise TypeError(
                f"Trainer.fit needs a model with calculate_loss(X_dict, Y_dict); got "
                f"{type(model).__name__}. Use SliceAwareClassifier or PlainClassifier."
            )
        self._check_names()
        train_loaders = [dl for dl in dataloaders if dl.dataset.split == cfg.train_split]
        valid_loaders = [dl for dl in dataloaders if dl.dataset.split == cfg.valid_split]
        self.n_batches_per_epoch = sum(len(dl) for dl in train_loaders)
        if self.n_batches_per_epoch == 0:
            raise ValueError(
                f"Trainer.fit got training dataloaders (split {cfg.train_split!r}) with no "
                f"batches (datasets of {[len(dl.dataset) for dl in train_loaders]} rows): there "
                "is nothing to train on. Check the data the dataset was built from."
            )

        self._stop_event.clear()
        self.stopped = False
        self.error = None
        self.metrics = {}
        self.history = []
        self.epoch = self.batch_num = self.global_step = 0
        self._seed()
        self.device = device = resolve_device(cfg.device)
        model.to(device)

        self._set_optimizer(model)
        self._set_lr_scheduler()
        threads_before = torch.get_num_threads()
        threads = self._num_threads(model)
        self.log_writer = self._make_log_writer()
        self.checkpointer = self._make_checkpointer()
        self.last_checkpoint = None
        self.log_manager = LogManager(
            self.n_batches_per_epoch,
            log_writer=self.log_writer,
            checkpointer=self.checkpointer,
            **cfg.log_manager_config._asdict(),
        )
        self._reset_losses()
        params = [p for group in self.optimizer.param_groups for p in group["params"]]

        bar = None
        completed = False
        reuse_memory = reuses_memory(cfg.reuse_memory, device_type=device.type,
                                     n_params=sum(p.numel() for p in model.parameters()))
        step = LowRankUpdate.for_fit(self.optimizer, device, cfg.low_rank_update)
        layers = LinearLayers.for_fit(device, cfg.sparse_input, factored=step.enabled,
                                      params=params)
        self.low_rank_steps = self.sparse_products = 0
        scope = ExitStack()
        try:
            scope.enter_context(keep_freed_memory(reuse_memory))
            if threads != threads_before:
                torch.set_num_threads(threads)
            model.train()
            self._call("on_train_begin", self.metrics)
            for epoch in range(cfg.n_epochs):
                self.epoch = epoch
                epoch_start = time.perf_counter()
                epoch_loss = epoch_count = 0.0
                n_batches = 0
                epoch_eval: Metrics = {}
                bar = tqdm(
                    total=self.n_batches_per_epoch,
                    disable=not cfg.progress_bar,
                    desc=f"Epoch {epoch}:",
                )
                for batch_num, (batch, loader) in enumerate(self._batches(train_loaders)):
                    self.batch_num = batch_num
                    X_dict, Y_dict = move_to_device(batch, self.device)
                    batch_size = len(next(iter(Y_dict.values())))
                    self.optimizer.zero_grad(set_to_none=True)
                    # weight gradients may stay factored (_lowrank.py); linear layers multiply
                    # only the nonzero columns of sparse inputs (_linear.py)
                    with step.capturing(), layers:
                        loss_dict, count_dict = cast(_LossModel, model).calculate_loss(
                            X_dict, Y_dict
                        )
                    if not loss_dict:
                        bar.update(1)
                        continue
                    loss = torch.stack(list(loss_dict.values())).sum()
                    values = torch.stack([v.detach() for v in loss_dict.values()]).tolist()
                    if not all(math.isfinite(v) for v in values):
                        bad = [k for k, v in zip(loss_dict, values, strict=True) if not math.isfinite(v)]
                        raise FloatingPointError(
                            f"Training loss is {sum(values)} at epoch {epoch}, batch {batch_num} "
                            f"(non-finite loss for {bad}); the model was not updated with this "
                            f"batch. Lower the learning rate (lr={self._lr()}), check the inputs "
                            "for NaN or inf values, or keep grad_clip on."
                        )
                    # backward, clipping, optimizer step (_lowrank.py)
                    self.low_rank_steps += bool(step.backward_and_step(loss, params, cfg.grad_clip))
                    self.sparse_products = getattr(layers, "sparse_products", 0)
                    self._update_lr_scheduler(self.global_step)

                    name, split = loader.dataset.name, loader.dataset.split
                    for (label, value), count in zip(
                        zip(loss_dict, values, strict=True), count_dict.values(), strict=True
                    ):
                        self._running_losses[f"{label}/{name}/{split}/loss"] += value * count
                        self._running_count += count
                        epoch_loss += value * count
                        epoch_count += count
                    n_batches += 1
                    self.global_step += 1
                    evaluation = self._logging(model, valid_loaders, batch_size)
                    epoch_eval.update(evaluation)
                    bar.update(1)
                    if cfg.progress_bar:
                        bar.set_postfix(self.metrics, refresh=False)
                    self._call("on_batch_end", self.metrics)
                    if self._stop_event.is_set():
                        break
                bar.close()
                bar = None
                if self._stop_event.is_set():
                    self.stopped = True
                    logger.info("Training stopped at epoch %d, batch %d.", epoch, self.batch_num)
                    break
                self.history.append(
                    {
                        "epoch": epoch,
                        "n_batches": n_batches,
                        "loss": epoch_loss / epoch_count if epoch_count else float("nan"),
                        "lr": self._lr(),
                        "time_s": time.perf_counter() - epoch_start,
                        **epoch_eval,
                    }
                )
                self._call("on_epoch_end", self.metrics)
            completed = not self.stopped
        except BaseException as err:
            self.stopped = True
            self.error = err
            raise
        finally:
            if bar is not None:
                bar.close()
            if torch.get_num_threads() != threads_before:
                torch.set_num_threads(threads_before)
            scope.close()
            self._stop_event.clear()
            self._finish(model, completed)
            model.eval()
            self._call_on_train_end()

    # -- helpers -------------------------------------------------------------------------------
    def _call(self, hook: str, metrics: Metrics) -> None:
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(self, metrics)

    def _call_on_train_end(self) -> None:
        for callback in self.callbacks:
            method = getattr(callback, "on_train_end", None)
            if method is None:
                continue
            try:
                method(self, self.metrics)
            except Exception as err:
                if self.error is None:
                    self.error = err
                    raise
                logger.exception("on_train_end of %r failed after an earlier error", callback)

    def _finish(self, model: nn.Module, completed: bool) -> None:
        if self.log_writer is not None:
            try:
                self.log_writer.cleanup()
            except Exception:
                logger.exception("Could not write the training logs")
        if self.checkpointer is not None:
            if completed:
                self.checkpointer.clear()
                self.checkpointer.load_best_model(model, self.device)
            self.last_checkpoint = self.checkpointer.last_checkpoint

    def _num_threads(self, model: nn.Module) -> int:
        assert self.device is not None  # set by fit
        return training_threads(
            self.config.num_threads,
            device_type=self.device.type,
            n_params=sum(p.numel() for p in model.parameters()),
            current=torch.get_num_threads(),
        )

    def _seed(self) -> None:
        seed = self.config.seed
        if seed is None:
            self._rng: random.Random | Any = random
            return
        random.seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds user code that uses the legacy API
        torch.manual_seed(seed)
        self._rng = random.Random(seed)

    def _lr(self) -> float:
        optimizer = getattr(self, "optimizer", None)
        return float(optimizer.param_groups[0]["lr"]) if optimizer else float("nan")

    def _batches(self, loaders: Sequence[DictDataLoader]) -> Iterator[tuple[Any, DictDataLoader]]:
        if self.config.batch_scheduler == "shuffled":
            scheduler: Scheduler = ShuffledScheduler(rng=self._rng)
        else:
            scheduler = SequentialScheduler()
        return scheduler.get_batches(loaders)

    def _reset_losses(self) -> None:
        self._running_losses: defaultdict[str, float] = defaultdict(float)
        self._running_count = 0

    def _aggregate_losses(self) -> Metrics:
        metrics: Metrics = {}
        if self._running_count > 0:
            metrics["model/all/train/loss"] = sum(self._running_losses.values()) / self._running_count
        metrics["model/all/train/lr"] = self._lr()
        return metrics

    def _logging(self, model: nn.Module, valid_loaders: list, batch_size: int) -> Metrics:
        self.log_manager.update(batch_size)
        metrics = self._aggregate_losses()
        evaluation: Metrics = {}
        if self.log_manager.trigger_evaluation():
            if valid_loaders and hasattr(model, "score"):
                evaluation = dict(cast(_LossModel, model).score(valid_loaders))
                model.train()
            metrics.update(evaluation)
            if self.log_writer is not None:
                for key, value in metrics.items():
                    self.log_writer.add_scalar(key, value, self.log_manager.point_total)
            self._reset_losses()
        if self.log_manager.trigger_checkpointing() and self.checkpointer is not None:
            self.checkpointer.checkpoint(self.log_manager.unit_total, model, metrics)
            self.last_checkpoint = self.checkpointer.last_checkpoint
            self._reset_losses()
        self.metrics.update(metrics)
        return evaluation

    def _check_dataloaders(self, dataloaders: Sequence[DictDataLoader]) -> None:
        cfg = self.config
        if isinstance(dataloaders, DictDataLoader) or not isinstance(dataloaders, Sequence):
            raise TypeError(
                "Trainer.fit expects a list of DictDataLoaders, e.g. trainer.fit(model, "
                f"[train_dl]); got {type(dataloaders).__name__}."
            )
        all_splits = [cfg.train_split, cfg.valid_split, cfg.test_split]
        for dl in dataloaders:
            if not hasattr(dl, "dataset") or not hasattr(dl.dataset, "split"):
                raise TypeError(
                    f"Every loader must be a DictDataLoader over a DictDataset; got {type(dl).__name__}."
                )
        if not all(dl.dataset.split in all_splits for dl in dataloaders):
            found = sorted({dl.dataset.split for dl in dataloaders})
            raise ValueError(
                f"Dataloader splits must be one of {all_splits}; got {found}. Build the datasets "
                "with one of these split names or set train_split=/valid_split=/test_split=."
            )
        if not any(dl.dataset.split == cfg.train_split for dl in dataloaders):
            raise ValueError(
                f"Cannot find any dataloaders with split matching train split: {cfg.train_split}."
            )

    def _check_names(self) -> None:
        cfg = self.config
        if cfg.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Unrecognized optimizer option '{cfg.optimizer}'. Use one of {list(OPTIMIZERS)}."
            )
        if cfg.lr_scheduler not in LR_SCHEDULERS:
            raise ValueError(
                f"Unrecognized lr scheduler option '{cfg.lr_scheduler}'. Use one of "
                f"{list(LR_SCHEDULERS)}."
            )
        if cfg.batch_scheduler not in BATCH_SCHEDULERS:
            raise ValueError(
                f"Unrecognized batch scheduler option '{cfg.batch_scheduler}'. Use one of "
                f"{list(BATCH_SCHEDULERS)}."
            )
        if cfg.logging and cfg.log_writer not in ("json", "tensorboard"):
            raise ValueError(
                f"Unrecognized writer option: {cfg.log_writer}. Use 'json' or 'tensorboard'."
            )
        if not (isinstance(cfg.n_epochs, int) and cfg.n_epochs >= 0):
            raise ValueError(f"n_epochs must be a non-negative int; got {cfg.n_epochs!r}.")

    def _set_optimizer(self, model: nn.Module) -> None:
        self.optimizer = make_optimizer(self.config, model)

    def _set_lr_scheduler(self) -> None:
        schedules = make_lr_schedules(self.config, self.optimizer, self.n_batches_per_epoch)
        self._lr_schedules = schedules
        self.warmup_scheduler, self.warmup_steps, self.lr_scheduler = schedules

    def _update_lr_scheduler(self, step: int) -> None:
        self._lr_schedules.step(self.optimizer, step, self.config.lr_scheduler_config.min_lr)

    def _make_log_writer(self) -> LogWriter | None:
        cfg = self.config
        if not cfg.logging:
            return None
        writer_cls = TensorBoardWriter if cfg.log_writer == "tensorboard" else LogWriter
        writer = writer_cls(**cfg.log_writer_config._asdict())
        writer.write_config(config_to_dict(cfg))
        return writer

    def _make_checkpointer(self) -> Checkpointer | None:
        cfg = self.config
        if not cfg.checkpointing:
            return None
        return Checkpointer(
            cfg.log_manager_config.counter_unit,
            cfg.log_manager_config.evaluation_freq,
            **cfg.checkpointer_config._asdict(),
        )

    # -- persistence ---------------------------------------------------------------------------
    def save(self, trainer_path: str) -> None:
        """Save the settings and the optimizer state to ``trainer_path`` (``torch.save``)."""
        import os

        folder = os.path.dirname(trainer_path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        torch.save(
            {
                "trainer_config": config_to_dict(self.config),
                "optimizer_state_dict": (
                    self.optimizer.state_dict() if getattr(self, "optimizer", None) else None
                ),
            },
            trainer_path,
        )

    def load(self, trainer_path: str, model: nn.Module | None = None) -> None:
        """Load settings (and, given ``model``, the optimizer state) saved by :meth:`save`.

        Uses ``torch.load(weights_only=True)``: only tensors and plain values are read.
        """
        saved = torch.load(trainer_path, map_location="cpu", weights_only=True)
        self.config = merge_config(TrainerConfig(), saved["trainer_config"])
        if model is not None and saved.get("optimizer_state_dict") is not None:
            self._set_optimizer(model)
            self.optimizer.load_state_dict(saved["optimizer_state_dict"])
