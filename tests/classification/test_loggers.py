"""LogManager, Checkpointer, LogWriter, TensorBoardWriter (slicewidgets/classification/_loggers.py)."""

from __future__ import annotations

import json
import os

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification.training.loggers import (  # noqa: E402
    Checkpointer,
    LogManager,
    LogWriter,
    TensorBoardWriter,
)
from slicewidgets.types import Config  # noqa: E402


def test_log_manager_triggers_checkpoints_every_factor_evaluations(tmp_path):
    checkpointer = Checkpointer("batches", 2, checkpoint_dir=str(tmp_path), checkpoint_factor=2)
    manager = LogManager(5, checkpointer=checkpointer, counter_unit="batches", evaluation_freq=2)
    fired = []
    for _ in range(8):
        manager.update(10)
        fired.append((manager.trigger_evaluation(), manager.trigger_checkpointing()))
    assert fired == [(False, False), (True, False), (False, False), (True, True)] * 2
    assert (manager.point_total, manager.batch_total, manager.epoch_total) == (80, 8, 1.6)


def test_log_manager_without_checkpointer_never_checkpoints():
    manager = LogManager(1, counter_unit="points", evaluation_freq=1)
    manager.update(3)
    assert manager.trigger_evaluation() and not manager.trigger_checkpointing()
    with pytest.raises(ValueError, match="Unrecognized counter_unit: weeks"):
        LogManager(1, counter_unit="weeks")


def test_cleanup_writes_logs_and_reloads_the_best_model(tmp_path):
    model = torch.nn.Linear(1, 1, bias=False)
    checkpointer = Checkpointer("epochs", 1, checkpoint_dir=str(tmp_path / "ckpt"),
                                checkpoint_metric="t/D/valid/acc:max")
    writer = LogWriter(log_dir=str(tmp_path), run_name="run")
    manager = LogManager(1, log_writer=writer, checkpointer=checkpointer)
    for step, (weight, acc) in enumerate([(1.0, 0.5), (2.0, 0.9), (3.0, 0.7)], start=1):
        with torch.no_grad():
            model.weight.fill_(weight)
        writer.add_scalar("t/D/valid/acc", acc, step)
        checkpointer.checkpoint(step, model, {"t/D/valid/acc": acc})
    assert manager.cleanup(model) is model
    assert model.weight.item() == 2.0  # the best checkpoint, by accuracy
    assert os.listdir(tmp_path / "ckpt") == ["best_model_t_D_valid_acc.pth"]
    with open(tmp_path / "run" / "log.json") as f:
        assert json.load(f) == {"t/D/valid/acc": [[1, 0.5], [2, 0.9], [3, 0.7]]}


def test_log_writer_text_and_nested_config(tmp_path):
    class Inner(Config):
        b: int = 1

    class Outer(Config):
        a: str = "x"
        inner: Inner = Inner()

    writer = LogWriter(log_dir=str(tmp_path), run_name="r")
    writer.write_text("python train.py", "cmd.txt")
    writer.write_config(Outer())
    assert (tmp_path / "r" / "cmd.txt").read_text() == "python train.py"
    assert json.loads((tmp_path / "r" / "config.json").read_text()) == {"a": "x", "inner": {"b": 1}}


def test_tensorboard_writer(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed ([tensorboard] extra)")

    class Settings(Config):
        lr: float = 0.1

    writer = TensorBoardWriter(log_dir=str(tmp_path), run_name="tb")
    writer.add_scalar("loss", 0.5, 1)
    writer.write_config(Settings())
    writer.cleanup()
    files = os.listdir(tmp_path / "tb")
    assert "config.json" in files and any(f.startswith("events.out.tfevents") for f in files)
