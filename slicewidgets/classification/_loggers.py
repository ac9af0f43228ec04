"""When to evaluate and checkpoint during training, where to write logs.

Same semantics as Snorkel's ``LogManager``, ``Checkpointer`` and ``LogWriter``, with two
changes: checkpoints hold only a ``state_dict`` and are read back with
``torch.load(weights_only=True)``; the trainer keeps checkpoints when training is stopped or
fails (they are only cleared after a run that completes).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
from collections import defaultdict
from datetime import datetime
from typing import Any

import torch

from slicewidgets.classification._config import (
    CheckpointerConfig,
    LogManagerConfig,
    LogWriterConfig,
)
from slicewidgets.utils.config_utils import config_to_dict

__all__ = ["Checkpointer", "LogManager", "LogWriter", "TensorBoardWriter", "load_state_dict"]

logger = logging.getLogger(__name__)

COUNTER_UNITS = ("points", "batches", "epochs")


def load_state_dict(model: torch.nn.Module, path: str, device: Any = "cpu") -> torch.nn.Module:
    """Load a ``state_dict`` saved with ``torch.save`` into ``model`` (``weights_only=True``)."""
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state)
    return model


class LogManager:
    """Counts points, batches and epochs, and says when to evaluate and checkpoint (Snorkel).

    Parameters
    ----------
    n_batches_per_epoch
        Batches in one epoch (to count in epochs).
    log_writer
        A :class:`LogWriter` closed by :meth:`cleanup`, or ``None``.
    checkpointer
        A :class:`Checkpointer`: checkpointing is triggered every ``checkpoint_factor``
        evaluations; ``None``: never.
    **kwargs
        :class:`LogManagerConfig` settings: ``counter_unit`` (``"epochs"``, ``"batches"``,
        ``"points"``) and ``evaluation_freq`` (evaluate every this many units).

    Raises
    ------
    ValueError
        For an unknown ``counter_unit`` or ``evaluation_freq <= 0``.

    Examples
    --------
    >>> log_manager = LogManager(n_batches_per_epoch=4, counter_unit="batches", evaluation_freq=2)
    >>> log_manager.update(32); log_manager.trigger_evaluation()
    False
    >>> log_manager.update(32); log_manager.trigger_evaluation()
    True
    >>> log_manager.point_total, log_manager.epoch_total
    (64, 0.5)
    """

    def __init__(
        self,
        n_batches_per_epoch: int,
        log_writer: LogWriter | None = None,
        checkpointer: Checkpointer | None = None,
        **kwargs: Any,
    ) -> None:
        self.config = LogManagerConfig(**kwargs)
        self.n_batches_per_epoch = n_batches_per_epoch
        self.log_writer = log_writer
        self.checkpointer = checkpointer
        self.counter_unit = self.config.counter_unit
        if self.counter_unit not in COUNTER_UNITS:
            raise ValueError(
                f"Unrecognized counter_unit: {self.counter_unit}. Use one of {list(COUNTER_UNITS)}."
            )
        self.evaluation_freq = self.config.evaluation_freq
        if not self.evaluation_freq > 0:
            raise ValueError(f"evaluation_freq must be > 0; got {self.evaluation_freq}.")
        logger.info("Evaluating every %s %s.", self.evaluation_freq, self.counter_unit)
        self.point_count = 0
        self.point_total = 0
        self.batch_count = 0
        self.batch_total = 0
        self.epoch_count = 0.0
        self.epoch_total = 0.0
        self.unit_count: float = 0.0
        self.unit_total: float = 0.0
        self.trigger_count = 0

    def update(self, batch_size: int) -> None:
        """Count one more batch of ``batch_size`` points."""
        self.point_count += batch_size
        self.point_total += batch_size
        self.batch_count += 1
        self.batch_total += 1
        per_epoch = max(self.n_batches_per_epoch, 1)
        self.epoch_count = self.batch_count / per_epoch
        self.epoch_total = self.batch_total / per_epoch
        if self.counter_unit == "points":
            self.unit_count, self.unit_total = self.point_count, self.point_total
        elif self.counter_unit == "batches":
            self.unit_count, self.unit_total = self.batch_count, self.batch_total
        else:
            self.unit_count, self.unit_total = self.epoch_count, self.epoch_total

    def trigger_evaluation(self) -> bool:
        """Whether ``evaluation_freq`` units have passed since the last evaluation (and
        restart counting if so)."""
        satisfied = self.unit_count >= self.evaluation_freq
        if satisfied:
            self.trigger_count += 1
            self.reset()
        return satisfied

    def trigger_checkpointing(self) -> bool:
        """Whether ``checkpoint_factor`` evaluations have passed since the last checkpoint."""
        if self.checkpointer is None:
            return False
        satisfied = self.trigger_count >= self.checkpointer.checkpoint_factor
        if satisfied:
            self.trigger_count = 0
        return satisfied

    def reset(self) -> None:
        """Restart the counts since the last evaluation (totals are kept)."""
        self.point_count = 0
        self.batch_count = 0
        self.epoch_count = 0.0
        self.unit_count = 0.0

    def cleanup(self, model: torch.nn.Module) -> torch.nn.Module:
        """Close the log writer, clear the checkpoints and load the best model into ``model``."""
        if self.log_writer is not None:
            self.log_writer.cleanup()
        if self.checkpointer is not None:
            self.checkpointer.clear()
            model = self.checkpointer.load_best_model(model)
        return model


def _metric_map(specs: Any) -> dict[str, str]:
    if specs is None:
        return {}
    if isinstance(specs, str):
        specs = [specs]
    out = {}
    for spec in specs:
        try:
            metric, mode = spec.split(":")
        except ValueError:
            raise ValueError(
                "Metric must be of the form 'metric_name:mode' where mode is 'max' or 'min'. "
                f"Instead, got {spec}"
            ) from None
        if mode not in ("min", "max"):
            raise ValueError(
                f"Unrecognized checkpoint metric mode {mode} for metric {metric}, must be "
                "'min' or 'max'."
            )
        out[metric] = mode
    return out


def _save_state_dict(model: torch.nn.Module, path: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    torch.save(model.state_dict(), path)


class Checkpointer:
    """Saves ``state_dict`` checkpoints and the best model by ``checkpoint_metric`` (Snorkel).

    Parameters
    ----------
    counter_unit, evaluation_freq
        As in :class:`LogManager`; a checkpoint is considered every ``evaluation_freq *
        checkpoint_factor`` units.
    **kwargs
        :class:`CheckpointerConfig` settings: ``checkpoint_dir``, ``checkpoint_factor``,
        ``checkpoint_metric`` (``"label/dataset/split/metric:min|max"``),
        ``checkpoint_task_metrics``, ``checkpoint_runway``, ``checkpoint_clear``.

    Attributes
    ----------
    best_metric_dict : dict
        The best value so far of each checkpoint metric.
    last_checkpoint : str or None
        The latest checkpoint file written.
    """

    def __init__(self, counter_unit: str, evaluation_freq: float, **kwargs: Any) -> None:
        self.config = CheckpointerConfig(**kwargs)
        if len(self.config.checkpoint_metric.split("/")) != 4:
            raise ValueError("checkpoint_metric must be formatted 'task/dataset/split/metric:mode'.")
        if self.config.checkpoint_runway < 0:
            raise ValueError(
                f"Invalid checkpoint_runway {self.config.checkpoint_runway}, must be greater "
                "than or equal to 0."
            )
        self.checkpoint_unit = counter_unit
        self.checkpoint_dir = self.config.checkpoint_dir
        self.checkpoint_factor = self.config.checkpoint_factor
        self.checkpoint_freq = evaluation_freq * self.checkpoint_factor
        if self.checkpoint_freq <= 0:
            raise ValueError(
                f"Invalid checkpoint freq {self.checkpoint_freq}, must be greater than 0."
            )
        self.checkpoint_metric = _metric_map(self.config.checkpoint_metric)
        self.checkpoint_task_metrics = _metric_map(self.config.checkpoint_task_metrics)
        self.checkpoint_task_metrics.update(self.checkpoint_metric)
        os.makedirs(self.checkpoint_dir, exist_ok=True)
        self.best_metric_dict: dict[str, float] = {}
        self.last_checkpoint: str | None = None

    def best_model_path(self, metric: str) -> str:
        return os.path.join(self.checkpoint_dir, f"best_model_{metric.replace('/', '_')}.pth")

    def checkpoint(self, iteration: float, model: torch.nn.Module, metrics: dict[str, float]) -> None:
        if iteration < self.config.checkpoint_runway:
            return
        path = os.path.join(self.checkpoint_dir, f"checkpoint_{iteration}.pth")
        _save_state_dict(model, path)
        self.last_checkpoint = path
        logger.info("Saved checkpoint at %s %s to %s", iteration, self.checkpoint_unit, path)
        for metric in self._new_bests(metrics):
            shutil.copyfile(path, self.best_model_path(metric))

    def _new_bests(self, metrics: dict[str, float]) -> set[str]:
        best = set()
        for metric, mode in self.checkpoint_task_metrics.items():
            if metric not in metrics:
                continue
            value = metrics[metric]
            old = self.best_metric_dict.get(metric)
            if old is None or (mode == "max" and value > old) or (mode == "min" and value < old):
                self.best_metric_dict[metric] = value
                best.add(metric)
        return best

    def clear(self) -> None:
        if self.config.checkpoint_clear:
            for path in glob.glob(os.path.join(self.checkpoint_dir, "checkpoint_*.pth")):
                os.remove(path)
            self.last_checkpoint = None

    def load_best_model(self, model: torch.nn.Module, device: Any = None) -> torch.nn.Module:
        """Load the best checkpoint by ``checkpoint_metric`` into ``model`` (if there is one)."""
        metric = next(iter(self.checkpoint_metric))
        if metric not in self.best_metric_dict:
            logger.info("No best model found for %s; keeping the current weights.", metric)
            return model
        if device is None:
            device = next((p.device for p in model.parameters()), "cpu")
        return load_state_dict(model, self.best_model_path(metric), device)


class LogWriter:
    """Collects scalars during training and writes them as JSON (Snorkel's ``LogWriter``).

    Files go to ``log_dir = {config.log_dir}/{run_name}/`` (``run_name`` defaults to the
    date and time); :meth:`cleanup` writes the scalars to ``log.json`` there.

    Parameters
    ----------
    **kwargs
        :class:`LogWriterConfig` settings: ``log_dir``, ``run_name``.

    Examples
    --------
    >>> import tempfile
    >>> writer = LogWriter(log_dir=tempfile.mkdtemp(), run_name="run")
    >>> writer.add_scalar("model/all/train/loss", 0.5, step=32)
    >>> writer.write_log("log.json")
    >>> json.load(open(os.path.join(writer.log_dir, "log.json")))
    {'model/all/train/loss': [[32, 0.5]]}
    """

    def __init__(self, **kwargs: Any) -> None:
        self.config = LogWriterConfig(**kwargs)
        self.run_name = self.config.run_name
        if self.run_name is None:
            self.run_name = datetime.now().strftime("%Y_%m_%d/%H_%M_%S/")
        self.log_dir = os.path.join(self.config.log_dir, self.run_name)
        os.makedirs(self.log_dir, exist_ok=True)
        self.run_log: defaultdict[str, list[list[float]]] = defaultdict(list)

    def add_scalar(self, name: str, value: float, step: float) -> None:
        """Record ``value`` of the series ``name`` at ``step``."""
        self.run_log[name].append([step, value])

    def write_config(self, config: Any, config_filename: str = "config.json") -> None:
        """Write a config (a ``NamedTuple``, nested ones as dicts, or a dict) as JSON."""
        if hasattr(config, "_asdict"):
            config = config_to_dict(config)
        self.write_json(config, config_filename)

    def write_log(self, log_filename: str) -> None:
        """Write the recorded scalars, ``{name: [[step, value], ...]}``, as JSON."""
        self.write_json(self.run_log, log_filename)

    def write_text(self, text: str, filename: str) -> None:
        """Write ``text`` (e.g. the command that launched the run) to ``filename``."""
        with open(os.path.join(self.log_dir, filename), "w", encoding="utf-8") as f:
            f.write(text)

    def write_json(self, obj: Any, filename: str) -> None:
        """Write a JSON-compatible object to ``filename`` in :attr:`log_dir`."""
        if not filename.endswith(".json"):
            logger.warning("write_json() with a filename without a .json extension: %s", filename)
        with open(os.path.join(self.log_dir, filename), "w", encoding="utf-8") as f:
            json.dump(obj, f, default=str)

    def cleanup(self) -> None:
        """Write the scalars to ``log.json``."""
        self.write_log("log.json")


class TensorBoardWriter(LogWriter):
    """A :class:`LogWriter` that sends scalars and the config to TensorBoard.

    Needs the ``tensorboard`` package (``pip install 'slicewidgets[tensorboard]'``). The config
    is also written as ``config.json``, as Snorkel does.

    Raises
    ------
    ImportError
        Naming the extra to install, if TensorBoard is missing.
    """

    def __init__(self, **kwargs: Any) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError(
                "TensorBoardWriter (log_writer='tensorboard') needs TensorBoard: pip install "
                "'slicewidgets[tensorboard]' (or use log_writer='json')."
            ) from None
        super().__init__(**kwargs)
        self.writer = SummaryWriter(self.log_dir)

    def add_scalar(self, name: str, value: float, step: float) -> None:
        """Send ``value`` of the series ``name`` at ``step`` to TensorBoard."""
        self.writer.add_scalar(name, value, step)

    def write_config(self, config: Any, config_filename: str = "config.json") -> None:
        """Write the config as JSON and add it to TensorBoard as text."""
        super().write_config(config, config_filename)
        as_dict = config_to_dict(config) if hasattr(config, "_asdict") else config
        self.writer.add_text(tag="config", text_string=json.dumps(as_dict, default=str))

    def cleanup(self) -> None:
        """Close the TensorBoard writer."""
        self.writer.close()
