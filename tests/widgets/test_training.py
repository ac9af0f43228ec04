"""TrainingPanel, driven headless: background training, progress, Stop, errors."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from slicewidgets.slicing import SliceSet, slicing_function  # noqa: E402
from slicewidgets.widgets import TrainingPanel  # noqa: E402
from slicewidgets.widgets._charts import loss_curve_svg  # noqa: E402
from slicewidgets.widgets.training import MSG_RUNNING  # noqa: E402

N = 64
OPTIONS = {"device": "cpu", "seed": 0}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: torch's thread pool costs more than it gives (and a busy CI box makes its
    spinning threads crawl)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 4)).astype(np.float32)
    golds = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(np.int64)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})

    @slicing_function(vectorized=True)
    def big_a(df):
        return df.a > 0.5

    @slicing_function(vectorized=True)
    def neg_b(df):
        return df.b < 0

    return X, golds, SliceSet(df, [big_a, neg_b])


def wait_until(condition, timeout=30.0):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_classes_and_initial_state(data):
    X, golds, ss = data
    panel = TrainingPanel.from_arrays(X, golds, ss, n_epochs=3, trainer_options=OPTIONS)
    assert "sw-training" in panel._dom_classes
    for widget, cls in [(panel.start_button, "sw-train-start"),
                        (panel.stop_button, "sw-train-stop"),
                        (panel.epoch_progress, "sw-train-epoch"),
                        (panel.batch_progress, "sw-train-batch"),
                        (panel.status, "sw-train-status"),
                        (panel.loss_plot, "sw-train-loss")]:
        assert cls in widget._dom_classes
    assert panel.status.value == "ready" and panel.state == "ready"
    assert panel.stop_button.disabled and not panel.start_button.disabled
    assert panel.epoch_progress.max == 3


def test_training_runs_in_the_background_and_finishes(data):
    X, golds, ss = data
    received = []
    panel = TrainingPanel.from_arrays(
        X, golds, ss, n_epochs=3, batch_size=16, trainer_options=OPTIONS,
        on_predictions=lambda preds, probs: received.append((preds, probs)))
    panel.start_button.click()
    assert panel.thread is not None
    assert panel.wait(60), "training did not end"
    assert panel.state == "finished", panel.error.value
    assert panel.status.value.startswith("finished: 3 epochs in ")
    assert panel.epoch_progress.value == 3 and panel.batch_progress.value == 4
    assert panel.batch_progress.max == 4  # 64 rows / 16
    assert len(panel.losses) == 12
    assert "<polyline class='sw-loss-line'" in panel.loss_plot.value
    assert [r["epoch"] for r in panel.epoch_history] == [1, 2, 3]
    assert set(panel.epoch_history[-1]) == {"epoch", "loss", "overall", "big_a", "neg_b"}
    assert "<th>big_a</th>" in panel.scores.value
    assert "per-epoch scores on the training rows" in panel.scores.value
    assert panel.model.slice_names == ["big_a", "neg_b"]
    assert not panel.start_button.disabled and panel.stop_button.disabled
    # the trained model's predictions go to the callback on request
    assert not panel.use_button.disabled and received == []
    panel.use_button.click()
    preds, probs = received[0]
    assert preds.shape == (N,) and probs.shape == (N, 2)
    assert (preds == golds).mean() > 0.6


def test_stop_leaves_a_usable_model(data):
    X, golds, ss = data
    panel = TrainingPanel.from_arrays(X, golds, ss, n_epochs=10_000, batch_size=8,
                                      trainer_options=OPTIONS, update_interval=0.0)
    panel.start_button.click()
    wait_until(lambda: len(panel.losses) >= 3)
    assert panel.state == "running"
    assert panel.status.value.startswith("running: epoch ")
    assert panel.batch_progress.value >= 1
    panel.stop_button.click()
    assert panel.wait(60)
    assert panel.state == "stopped"
    assert panel.status.value.startswith("stopped at epoch ")
    assert panel.status.value.endswith("the model is usable")
    assert panel.trainer.stopped and panel.epoch_progress.value < 10_000
    assert not panel.model.training
    probs = panel.model.predict_proba(torch.as_tensor(X))
    assert probs.shape == (N, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert "sw-error" not in panel._dom_classes


class Exploding(torch.nn.Module):
    """A model whose loss fails on the third batch."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)
        self.calls = 0

    def calculate_loss(self, X_dict, Y_dict):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("boom on batch 3")
        out = self.lin(X_dict["input_data"])
        loss = torch.nn.functional.cross_entropy(out, Y_dict["task"])
        return {"task": loss}, {"task": len(out)}


def loaders(X, golds):
    from slicewidgets.classification import DictDataLoader, DictDataset

    ds = DictDataset.from_tensors(torch.as_tensor(X), torch.as_tensor(golds), "train")
    return [DictDataLoader(ds, batch_size=16)]


def test_an_error_in_training_turns_the_panel_red(data):
    X, golds, _ = data
    model = Exploding()
    panel = TrainingPanel(model, loaders(X, golds), n_epochs=2, trainer_options=OPTIONS)
    assert panel.batch_size.disabled  # fixed loaders: no batch size to choose
    panel.start_button.click()
    assert panel.wait(60)
    assert panel.state == "error"
    assert panel.status.value == "error: RuntimeError: boom on batch 3"
    assert "sw-error" in panel._dom_classes
    assert "boom on batch 3" in panel.error.value
    assert isinstance(panel.training_error, RuntimeError)
    assert panel.epoch_progress.bar_style == "danger"
    # usable again: the next Start clears the error
    panel.start_button.click()
    assert panel.wait(60)
    assert panel.state == "finished" and "sw-error" not in panel._dom_classes
    assert panel.error.value == ""


def test_an_error_while_building_is_shown(data):
    X, golds, _ = data

    def factory():
        raise ValueError("no such architecture")

    panel = TrainingPanel(factory, loaders(X, golds), trainer_options=OPTIONS)
    panel.start_button.click()
    assert panel.thread is None and panel.state == "error"
    assert panel.status.value == "error: ValueError: no such architecture"
    assert "sw-error" in panel._dom_classes


def test_start_while_running_is_refused(data):
    X, golds, ss = data
    panel = TrainingPanel.from_arrays(X, golds, ss, n_epochs=10_000, batch_size=8,
                                      trainer_options=OPTIONS)
    panel.start_button.click()
    thread = panel.thread
    try:
        panel.start()
    except RuntimeError as err:
        assert str(err) == MSG_RUNNING
    else:  # pragma: no cover - the first run must still be going
        raise AssertionError("a second start was accepted")
    panel.stop()
    assert panel.wait(60) and panel.thread is thread


def test_plain_model_and_bad_lengths(data):
    X, golds, ss = data
    panel = TrainingPanel.from_arrays(X, golds, ss, n_epochs=1, slice_aware=False,
                                      trainer_options=OPTIONS)
    panel.start_button.click()
    assert panel.wait(60) and panel.state == "finished"
    assert type(panel.model).__name__ == "PlainClassifier"
    with pytest.raises(ValueError, match=r"^X has 10 rows, golds has 64 and the data has 64"):
        TrainingPanel.from_arrays(X[:10], golds, ss)


def test_loss_curve_svg():
    assert loss_curve_svg([]) == ""
    svg = loss_curve_svg([1.0, 0.5, float("nan"), 0.25], n_per_epoch=2)
    assert svg.count("<polyline") == 1 and "3 batches" in svg
    long = loss_curve_svg(list(np.linspace(1, 0, 5000)), max_points=100)
    points = long.split("points='")[1].split("'")[0].split()
    assert 100 <= len(points) <= 101


def test_state_and_run_count_are_observable_traits(data):
    X, golds, ss = data
    panel = TrainingPanel.from_arrays(X, golds, ss, n_epochs=2, trainer_options=OPTIONS)
    states: list = []
    panel.observe(lambda c: states.append(c["new"]), names="state")
    runs: list = []
    panel.observe(lambda c: runs.append(c["new"]), names="run_count")
    panel.start_button.click()
    assert panel.wait(60)
    panel.start_button.click()
    assert panel.wait(60)
    assert states == ["running", "finished", "running", "finished"], states
    assert runs == [1, 2]
    with pytest.raises(Exception, match="read-only"):
        panel.state = "ready"


def test_closing_the_panel_stops_its_training(data):
    X, golds, ss = data
    panel = TrainingPanel.from_arrays(X, golds, ss, n_epochs=10_000, batch_size=8,
                                      trainer_options=OPTIONS, update_interval=0.0)
    panel.start_button.click()
    wait_until(lambda: len(panel.losses) >= 2)
    panel.close()
    assert panel.wait(60) and panel.trainer.stopped
    assert panel.epoch_progress.value < 10_000
