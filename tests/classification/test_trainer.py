"""Trainer: settings, callbacks, stop requests, errors, seeds, checkpoints
(slicewidgets/classification/trainer.py)."""

from __future__ import annotations

import os
import threading

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification import (  # noqa: E402
    DictDataLoader,
    DictDataset,
    Trainer,
    TrainerCallback,
)
from slicewidgets.slicing.sliceaware import PlainClassifier  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_data(n=96, seed=0, split="train"):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    Y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
    return DictDataset.from_tensors(X, Y, split)


def make_model(seed=0):
    torch.manual_seed(seed)
    base = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU())
    return PlainClassifier(base, head_dim=8, device="cpu")


def loader(ds=None, **kwargs):
    kwargs.setdefault("batch_size", 16)
    return DictDataLoader(ds if ds is not None else make_data(), **kwargs)


def quiet(**kwargs):
    kwargs.setdefault("progress_bar", False)
    kwargs.setdefault("device", "cpu")
    return Trainer(**kwargs)


class Recorder(TrainerCallback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer, metrics):
        self.events.append(("begin", trainer.global_step))

    def on_batch_end(self, trainer, metrics):
        self.events.append(("batch", trainer.epoch, trainer.batch_num, metrics["model/all/train/loss"]))

    def on_epoch_end(self, trainer, metrics):
        self.events.append(("epoch", trainer.epoch))

    def on_train_end(self, trainer, metrics):
        self.events.append(("end", trainer.stopped))


# -- settings --------------------------------------------------------------------------------------
def test_defaults_match_snorkel():
    cfg = Trainer().config
    assert (cfg.n_epochs, cfg.lr, cfg.l2, cfg.grad_clip, cfg.optimizer, cfg.lr_scheduler,
            cfg.batch_scheduler, cfg.progress_bar, cfg.checkpointing, cfg.seed) == (
        1, 0.01, 0.0, 1.0, "adam", "constant", "shuffled", True, False, None)
    assert cfg.checkpointer_config.checkpoint_metric == "model/all/train/loss:min"
    assert cfg.device == "auto"


def test_unknown_setting_is_rejected_with_snorkels_message():
    with pytest.raises(ValueError, match=r"^Got unexpected field names: \['foo'\]\. Valid names: "):
        Trainer(foo=1)
    with pytest.raises(ValueError, match=r"Got unexpected field names: \['bogus'\]"):
        Trainer(optimizer_config={"adam_config": {"bogus": 1}})


def test_nested_settings_merge():
    t = Trainer(optimizer_config={"adam_config": {"amsgrad": True}}, log_manager_config={"evaluation_freq": 2})
    assert t.config.optimizer_config.adam_config.amsgrad is True
    assert t.config.optimizer_config.adam_config.betas == (0.9, 0.999)
    assert t.config.log_manager_config.evaluation_freq == 2


def test_split_errors():
    model = make_model()
    with pytest.raises(ValueError, match=r"^Dataloader splits must be one of \['train', 'valid', 'test'\]; got \['dev'\]"):
        quiet().fit(model, [loader(make_data(split="dev"))])
    with pytest.raises(ValueError, match=r"^Cannot find any dataloaders with split matching train split: train\.$"):
        quiet().fit(model, [loader(make_data(split="valid"))])
    with pytest.raises(TypeError, match=r"expects a list of DictDataLoaders"):
        quiet().fit(model, loader())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "rmsprop"}, "Unrecognized optimizer option 'rmsprop'"),
        ({"lr_scheduler": "cosine"}, "Unrecognized lr scheduler option 'cosine'"),
        ({"batch_scheduler": "random"}, "Unrecognized batch scheduler option 'random'"),
    ],
)
def test_unknown_names_fail_at_fit(kwargs, message):
    with pytest.raises(ValueError, match=message):
        quiet(**kwargs).fit(make_model(), [loader()])


def test_model_without_calculate_loss_is_rejected():
    with pytest.raises(TypeError, match="needs a model with calculate_loss"):
        quiet().fit(torch.nn.Linear(2, 2), [loader()])


# -- training ----------------------------------------------------------------------------------------
def test_fit_learns_and_records_history_and_metrics():
    model = make_model()
    t = quiet(n_epochs=4, lr=0.05, seed=1)
    assert t.fit(model, [loader(shuffle=True)]) is None
    assert [h["epoch"] for h in t.history] == [0, 1, 2, 3]
    assert all(h["n_batches"] == 6 for h in t.history)
    assert t.history[-1]["loss"] < 0.6 * t.history[0]["loss"]
    assert set(t.metrics) == {"model/all/train/loss", "model/all/train/lr"}
    assert t.metrics["model/all/train/lr"] == 0.05
    assert not model.training  # left in eval mode, ready to predict
    assert (model.predict(make_data(seed=3).X_dict["input_data"]) ==
            make_data(seed=3).Y_dict["task"].numpy()).mean() > 0.9


def test_validation_metrics_are_computed_each_epoch():
    model = make_model()
    t = quiet(n_epochs=2, lr=0.05, seed=0)
    t.fit(model, [loader(), loader(make_data(seed=5, split="valid"))])
    assert "task/SnorkelDataset/valid/accuracy" in t.metrics
    assert "task/SnorkelDataset/valid/accuracy" in t.history[1]
    assert 0 <= t.history[1]["task/SnorkelDataset/valid/f1"] <= 1


def test_seeded_runs_are_reproducible_on_cpu():
    def run(seed):
        model = make_model(seed=0)
        quiet(n_epochs=2, lr=0.05, seed=seed).fit(model, [loader(shuffle=True)])
        return model.state_dict(), model

    a, _ = run(7)
    b, _ = run(7)
    c, _ = run(8)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_callbacks_are_called_in_order():
    rec = Recorder()
    t = quiet(n_epochs=2, lr=0.01, callbacks=[rec])
    t.fit(make_model(), [loader(batch_size=48)])
    kinds = [e[0] for e in rec.events]
    assert kinds == ["begin", "batch", "batch", "epoch", "batch", "batch", "epoch", "end"]
    assert rec.events[1][:3] == ("batch", 0, 0) and rec.events[5][:3] == ("batch", 1, 1)
    assert rec.events[-1] == ("end", False)


def test_stop_request_after_k_batches_leaves_a_usable_model():
    class StopAfter(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            if trainer.global_step == 3:
                trainer.request_stop()

    rec = Recorder()
    model = make_model()
    t = quiet(n_epochs=5, lr=0.05, callbacks=[StopAfter(), rec])
    t.fit(model, [loader()])
    assert t.stopped and t.error is None
    assert t.global_step == 3
    assert [e[0] for e in rec.events].count("batch") == 3
    assert rec.events[-1] == ("end", True)
    assert t.history == []  # no epoch completed
    assert not t.stop_requested  # cleared for the next fit
    assert not model.training
    probs = model.predict_proba(torch.randn(5, 2))
    assert probs.shape == (5, 2) and torch.allclose(torch.tensor(probs.sum(1)), torch.ones(5))
    # the next fit trains normally
    t.callbacks = []
    t.fit(model, [loader()])
    assert not t.stopped and len(t.history) == 5


def test_stop_request_from_another_thread():
    started = threading.Event()
    proceed = threading.Event()

    class Gate(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            if trainer.global_step == 2:
                started.set()
                proceed.wait(10)

    t = quiet(n_epochs=50, lr=0.01, callbacks=[Gate()])
    worker = threading.Thread(target=t.fit, args=(make_model(), [loader()]))
    worker.start()
    assert started.wait(30)
    t.request_stop()
    proceed.set()
    worker.join(30)
    assert not worker.is_alive()
    assert t.stopped and t.global_step == 2


def test_exception_in_callback_stops_cleanly_and_reaches_the_caller():
    class Boom(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            if trainer.global_step == 2:
                raise RuntimeError("widget failed")

    rec = Recorder()
    model = make_model()
    t = quiet(n_epochs=3, callbacks=[Boom(), rec])
    with pytest.raises(RuntimeError, match="widget failed"):
        t.fit(model, [loader()])
    assert t.stopped and isinstance(t.error, RuntimeError)
    assert rec.events[-1] == ("end", True)
    assert not model.training
    assert model.predict(torch.zeros(2, 2)).shape == (2,)


def test_nan_loss_names_epoch_and_batch_and_keeps_weights():
    ds = make_data(n=64)
    ds.X_dict["input_data"][40, 0] = float("nan")  # row 40 -> batch 2 of a sequential loader
    model = make_model()
    rec = Recorder()
    t = quiet(n_epochs=2, callbacks=[rec])
    with pytest.raises(FloatingPointError, match=r"^Training loss is nan at epoch 0, batch 2 "
                                                 r"\(non-finite loss for \['task'\]\); the model was "
                                                 r"not updated with this batch"):
        t.fit(model, [loader(ds, batch_size=16, shuffle=False)])
    assert t.global_step == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert rec.events[-1] == ("end", True)


def test_batch_without_labels_is_skipped():
    ds = make_data(n=32)
    ds.Y_dict["task"][:16] = -1
    t = quiet(n_epochs=1)
    t.fit(make_model(), [loader(ds, batch_size=16, shuffle=False)])
    assert t.global_step == 1
    assert t.history[0]["n_batches"] == 1


@pytest.mark.parametrize(
    ("scheduler", "expected_last_lr"),
    [("constant", 0.1), ("linear", 0.0), ("exponential", 0.1 * 0.9**12),
     ("step", 0.1 * 0.9**2)],
)
def test_lr_schedulers(scheduler, expected_last_lr):
    t = quiet(n_epochs=2, lr=0.1, lr_scheduler=scheduler)
    t.fit(make_model(), [loader()])  # 12 batches
    assert t.metrics["model/all/train/lr"] == pytest.approx(expected_last_lr)


def test_warmup_ramps_the_learning_rate():
    lrs = []

    class Lr(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            lrs.append(metrics["model/all/train/lr"])

    quiet(n_epochs=1, lr=0.1, callbacks=[Lr()],
          lr_scheduler_config={"warmup_steps": 4}).fit(make_model(), [loader()])
    assert lrs[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1])


@pytest.mark.parametrize("name", ["sgd", "adam", "adamax"])
def test_optimizers(name):
    t = quiet(n_epochs=3, lr=0.05, optimizer=name, seed=0)
    t.fit(make_model(), [loader()])
    assert t.history[-1]["loss"] < t.history[0]["loss"]
    assert type(t.optimizer).__name__.lower() == name


def test_device_auto_uses_cuda_when_available():
    model = make_model()
    t = Trainer(n_epochs=1, progress_bar=False)
    t.fit(model, [loader()])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert t.device.type == expected and model.device.type == expected


def test_progress_bar_uses_tqdm_auto(monkeypatch):
    import slicewidgets.classification.trainer as trainer_module

    created = []
    real = trainer_module.tqdm

    def fake(*args, **kwargs):
        created.append(kwargs)
        return real(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(trainer_module, "tqdm", fake)
    quiet(n_epochs=2, progress_bar=True).fit(make_model(), [loader()])
    assert [c["desc"] for c in created] == ["Epoch 0:", "Epoch 1:"]
    assert created[0]["total"] == 6 and created[0]["disable"] is False


# -- checkpoints and persistence ------------------------------------------------------------------
def ckpt_trainer(tmp_path, **kwargs):
    return quiet(
        checkpointing=True,
        log_manager_config={"counter_unit": "batches", "evaluation_freq": 2},
        checkpointer_config={"checkpoint_dir": str(tmp_path)},
        **kwargs,
    )


def test_checkpoints_cleared_and_best_model_loaded_after_a_full_run(tmp_path, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    t = ckpt_trainer(tmp_path, n_epochs=2, lr=0.05)
    t.fit(make_model(), [loader()])
    files = sorted(os.listdir(tmp_path))
    assert files == ["best_model_model_all_train_loss.pth"]
    assert calls == [True]  # the best model was read back with weights_only=True
    assert t.last_checkpoint is None


def test_checkpoints_are_kept_after_a_stop(tmp_path):
    class StopAfter(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            if trainer.global_step == 5:
                trainer.request_stop()

    model = make_model()
    t = ckpt_trainer(tmp_path, n_epochs=3, callbacks=[StopAfter()])
    t.fit(model, [loader()])
    assert t.stopped
    assert sorted(f for f in os.listdir(tmp_path) if f.startswith("checkpoint_")) == [
        "checkpoint_2.pth", "checkpoint_4.pth"
    ]
    assert t.last_checkpoint == os.path.join(str(tmp_path), "checkpoint_4.pth")
    state = torch.load(t.last_checkpoint, weights_only=True)
    assert set(state) == set(model.state_dict())


def test_bad_checkpoint_metric(tmp_path):
    t = quiet(checkpointing=True, checkpointer_config={"checkpoint_dir": str(tmp_path),
                                                       "checkpoint_metric": "loss:min"})
    with pytest.raises(ValueError, match=r"checkpoint_metric must be formatted 'task/dataset/split/metric:mode'\."):
        t.fit(make_model(), [loader()])


def test_trainer_save_load_roundtrip(tmp_path):
    model = make_model()
    t = quiet(n_epochs=1, lr=0.02, optimizer_config={"adam_config": {"amsgrad": True}})
    t.fit(model, [loader()])
    path = str(tmp_path / "sub" / "trainer.pt")
    t.save(path)
    t2 = Trainer()
    t2.load(path, model=model)
    assert t2.config == t.config
    assert t2.optimizer.state_dict()["state"][0]["step"] == t.optimizer.state_dict()["state"][0]["step"]


def test_model_save_load_roundtrip(tmp_path):
    model = make_model(seed=1)
    path = str(tmp_path / "m.pt")
    model.save(path)
    other = make_model(seed=2)
    other.load(path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 other.state_dict().values(), strict=True))


def test_num_threads_auto_uses_one_thread_for_small_models_and_restores():
    seen = []

    class Threads(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            seen.append(torch.get_num_threads())

    torch.set_num_threads(2)
    quiet(n_epochs=1, callbacks=[Threads()]).fit(make_model(), [loader()])
    assert set(seen) == {1} and torch.get_num_threads() == 2
    seen.clear()
    quiet(n_epochs=1, callbacks=[Threads()], num_threads=None).fit(make_model(), [loader()])
    assert set(seen) == {2}
    with pytest.raises(ValueError, match="num_threads must be 'auto', None or an int >= 1"):
        quiet(num_threads=0).fit(make_model(), [loader()])


def test_fit_on_an_empty_dataloader_says_there_is_nothing_to_train_on():
    empty = make_data(n=0)
    with pytest.raises(ValueError, match=r"^Trainer.fit got training dataloaders \(split 'train'\) "
                                         r"with no batches \(datasets of \[0\] rows\): there is "
                                         r"nothing to train on\."):
        quiet(n_epochs=1).fit(make_model(), [loader(empty)])
