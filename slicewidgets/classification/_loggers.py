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

from slicewidgets.classification._config import CheckpointerConfig, LogWriterConfig

__all__ = ["Checkpointer", "LogManager", "LogWriter", "TensorBoardWriter", "load_state_dict"]

logger = logging.getLogger(__name__)

COUNTER_UNITS = ("points", "batches", "epochs")


def load_state_dict(model: torch.nn.Module, path: str, device: Any = "cpu") -> torch.nn.Module:
    """Load a ``state_dict`` saved with ``torch.save`` into ``model`` (``weights_only=True``)."""
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state)
    return model


class LogManager:
    """Counts points / batches / epochs and says when to evaluate and checkpoint."""

    def __init__(
        self,
        n_batches_per_epoch: int,
        counter_unit: str = "epochs",
        evaluation_freq: float = 1.0,
        checkpoint_factor: int | None = None,
    ) -> None:
        if counter_unit not in COUNTER_UNITS:
            raise ValueError(
                f"Unrecognized counter_unit: {counter_unit}. Use one of {list(COUNTER_UNITS)}."
            )
        if not evaluation_freq > 0:
            raise ValueError(f"evaluation_freq must be > 0; got {evaluation_freq}.")
        self.n_batches_per_epoch = max(n_batches_per_epoch, 1)
        self.counter_unit = counter_unit
        self.evaluation_freq = evaluation_freq
        self.checkpoint_factor = checkpoint_factor
        self.point_total = 0
        self.batch_total = 0
        self.unit_count = 0.0
        self.unit_total = 0.0
        self.trigger_count = 0
        self._points = 0
        self._batches = 0

    def update(self, batch_size: int) -> None:
        self._points += batch_size
        self._batches += 1
        self.point_total += batch_size
        self.batch_total += 1
        if self.counter_unit == "points":
            self.unit_count, self.unit_total = self._points, self.point_total
        elif self.counter_unit == "batches":
            self.unit_count, self.unit_total = self._batches, self.batch_total
        else:
            self.unit_count = self._batches / self.n_batches_per_epoch
            self.unit_total = self.batch_total / self.n_batches_per_epoch

    def trigger_evaluation(self) -> bool:
        satisfied = self.unit_count >= self.evaluation_freq
        if satisfied:
            self.trigger_count += 1
            self._points = self._batches = 0
            self.unit_count = 0
        return satisfied

    def trigger_checkpointing(self) -> bool:
        if self.checkpoint_factor is None:
            return False
        satisfied = self.trigger_count >= self.checkpoint_factor
        if satisfied:
            self.trigger_count = 0
        return satisfied


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


class Checkpointer:
    """Saves ``state_dict`` checkpoints and the best model by ``checkpoint_metric``."""

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
        torch.save(model.state_dict(), path)
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

    def load_best_model(self, model: torch.nn.Module, device: Any = "cpu") -> torch.nn.Module:
        metric = next(iter(self.checkpoint_metric))
        if metric not in self.best_metric_dict:
            logger.info("No best model found for %s; keeping the current weights.", metric)
            return model
        return load_state_dict(model, self.best_model_path(metric), device)


class LogWriter:
    """Collects scalars and writes them as JSON to ``{log_dir}/{run_name}/log.json``."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = LogWriterConfig(**kwargs)
        run_name = self.config.run_name or datetime.now().strftime("%Y_%m_%d/%H_%M_%S")
        self.log_dir = os.path.join(self.config.log_dir, run_name)
        os.makedirs(self.log_dir, exist_ok=True)
        self.run_log: defaultdict[str, list[list[float]]] = defaultdict(list)

    def add_scalar(self, name: str, value: float, step: float) -> None:
        self.run_log[name].append([step, value])

    def write_config(self, config: dict[str, Any], config_filename: str = "config.json") -> None:
        self.write_json(config, config_filename)

    def write_json(self, obj: Any, filename: str) -> None:
        with open(os.path.join(self.log_dir, filename), "w") as f:
            json.dump(obj, f, indent=1, default=str)

    def cleanup(self) -> None:
        self.write_json(self.run_log, "log.json")


class TensorBoardWriter(LogWriter):
    """Writes scalars to TensorBoard (needs the ``tensorboard`` package)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError(
                "log_writer='tensorboard' needs the tensorboard package: pip install tensorboard "
                "(or use log_writer='json')."
            ) from None
        self.writer = SummaryWriter(self.log_dir)

    def add_scalar(self, name: str, value: float, step: float) -> None:
        self.writer.add_scalar(name, value, step)

    def write_config(self, config: dict[str, Any], config_filename: str = "config.json") -> None:
        self.writer.add_text("config", json.dumps(config, default=str))

    def cleanup(self) -> None:
        self.writer.close()
