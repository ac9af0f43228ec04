"""MultitaskClassifier, Task and Operation (slicewidgets/classification/multitask_classifier.py,
task.py)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from slicewidgets.analysis import Scorer  # noqa: E402
from slicewidgets.classification import (  # noqa: E402
    DictDataLoader,
    DictDataset,
    MultitaskClassifier,
    Operation,
    Task,
    Trainer,
)


def identity_linear(d=2):
    layer = nn.Linear(d, d)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(d))
        layer.bias.zero_()
    return layer


def make_task(name, body="body", head="head", scorer=None):
    pool = nn.ModuleDict({body: identity_linear(), head: identity_linear()})
    ops = [Operation(body, [("_input_", "x")]), Operation(head, [body])]
    return Task(name, pool, ops, scorer=scorer)


def loader(labels, X=None, split="train", batch_size=2, **kwargs):
    n = len(next(iter(labels.values())))
    X = X if X is not None else torch.arange(2 * n, dtype=torch.float32).view(-1, 2)
    Y = {name: torch.as_tensor(v) for name, v in labels.items()}
    return DictDataLoader(DictDataset("D", split, {"x": X}, Y), batch_size=batch_size, **kwargs)


def test_shared_modules_run_once_and_are_shared():
    calls = []

    class Counting(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x

    t1 = Task("t1", nn.ModuleDict({"body": Counting(), "h1": nn.Linear(2, 2)}),
              [Operation("body", [("_input_", "x")]), Operation("h1", ["body"])])
    t2 = Task("t2", nn.ModuleDict({"body": Counting(), "h2": nn.Linear(2, 2)}),
              [Operation("body", [("_input_", "x")]), Operation("h2", ["body"])])
    model = MultitaskClassifier([t1, t2], dataparallel=False, device="cpu")
    assert sorted(model.module_pool) == ["body", "h1", "h2"]
    assert t2.module_pool["body"] is model.module_pool["body"] is t1.module_pool["body"]
    out = model.forward({"x": torch.ones(3, 2)}, ["t1", "t2"])
    assert len(calls) == 1 and set(out) == {"_input_", "body", "h1", "h2"}


def test_construction_errors():
    task = make_task("t")
    with pytest.raises(ValueError, match="Found duplicate task t"):
        MultitaskClassifier([task, make_task("t")], device="cpu")
    with pytest.raises(ValueError, match="Unrecognized task type"):
        MultitaskClassifier([task, "t2"], device="cpu")


def test_failing_operation_is_named_with_its_cause():
    task = make_task("t")
    task.op_sequence[0].inputs = [("_input_", "missing")]
    model = MultitaskClassifier([task], dataparallel=False, device="cpu")
    with pytest.raises(ValueError, match=r"Unsuccessful operation Operation\(name=body.*KeyError\('missing'\)") as info:
        model.forward({"x": torch.ones(1, 2)}, ["t"])
    assert isinstance(info.value.__cause__, KeyError)


def test_loss_ignores_unlabelled_rows_and_labels_without_task():
    model = MultitaskClassifier([make_task("t")], dataparallel=False, device="cpu")
    X = torch.tensor([[2.0, 0.0], [0.0, 2.0], [5.0, 0.0]])
    Y = {"t": torch.tensor([0, 1, -1]), "other": torch.tensor([1, 1, 1])}
    loss, count = model.calculate_loss({"x": X}, Y)
    assert count == {"t": 2} and list(loss) == ["t"]
    expected = nn.functional.cross_entropy(X[:2], torch.tensor([0, 1]))
    assert loss["t"].item() == pytest.approx(expected.item())
    loss, count = model.calculate_loss({"x": X}, {"t": torch.full((3,), -1)})
    assert loss == {} and count == {}


def test_predict_score_and_remap():
    model = MultitaskClassifier([make_task("t", scorer=Scorer(["accuracy"]))], dataparallel=False,
                                device="cpu")
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    dl = loader({"t": [0, 1, 1, 1], "alias": [0, 1, 0, 1]}, X=X)
    results = model.predict(dl, return_preds=True)
    assert set(results["golds"]) == {"t"}  # "alias" has no task
    assert results["preds"]["t"].tolist() == [0, 1, 0, 1]
    assert model.score([dl]) == {"t/D/train/accuracy": 0.75}
    scores = model.score([dl], remap_labels={"alias": "t", "t": None})
    assert scores == {"alias/D/train/accuracy": 1.0}
    table = model.score([dl], as_dataframe=True)
    assert table.to_dict("records") == [
        {"label": "t", "dataset": "D", "split": "train", "metric": "accuracy", "score": 0.75}]


def test_label_without_labelled_rows_scores_nan():
    model = MultitaskClassifier([make_task("t")], dataparallel=False, device="cpu")
    scores = model.score([loader({"t": [-1, -1]})])
    assert np.isnan(scores["t/D/train/accuracy"])


def test_trains_two_tasks_with_the_trainer():
    torch.manual_seed(0)
    X = torch.randn(200, 2)
    labels = {"a": (X[:, 0] > 0).long(), "b": (X[:, 1] > 0).long()}
    tasks = [Task(n, nn.ModuleDict({"body": nn.Sequential(nn.Linear(2, 16), nn.ReLU()),
                                    f"head_{n}": nn.Linear(16, 2)}),
                  [Operation("body", [("_input_", "x")]), Operation(f"head_{n}", ["body"])])
             for n in ("a", "b")]
    model = MultitaskClassifier(tasks, device="cpu")
    Trainer(n_epochs=15, lr=0.05, progress_bar=False, seed=0, device="cpu").fit(
        model, [loader(labels, X=X, batch_size=32, shuffle=True)])
    scores = model.score([loader(labels, X=X, batch_size=64)])
    assert scores["a/D/train/accuracy"] > 0.9 and scores["b/D/train/accuracy"] > 0.9


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = MultitaskClassifier([make_task("t")], device="cpu")
    with torch.no_grad():
        model.module_pool["head"].module.weight.mul_(3)
    model.save(str(tmp_path / "sub" / "model.pth"))
    other = MultitaskClassifier([make_task("t")], device="cpu")
    other.load(str(tmp_path / "sub" / "model.pth"))
    assert torch.equal(other.module_pool["head"].module.weight, 3 * torch.eye(2))


def test_default_task_scorer_is_not_shared():
    a, b = make_task("a"), make_task("b")
    assert list(a.scorer.metrics) == ["accuracy"] and a.scorer is not b.scorer
