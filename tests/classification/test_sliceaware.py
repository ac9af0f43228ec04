"""SliceAwareClassifier, SliceCombinerModule, slice labels and tasks, and the baselines
(slicewidgets/classification/sliceaware.py, slice_combiner.py, slice_tasks.py, oversampling.py)."""

from __future__ import annotations

import math

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
    PlainClassifier,
    SliceAwareClassifier,
    SliceCombinerModule,
    Task,
    Trainer,
    add_slice_labels,
    convert_to_slice_tasks,
    make_oversampling_dataloader,
)

H = 8


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def mlp(d_in=4, h=H):
    return nn.Sequential(nn.Linear(d_in, h), nn.ReLU())


def model_for(names=("a", "b"), seed=0, **kwargs):
    torch.manual_seed(seed)
    kwargs.setdefault("device", "cpu")
    return SliceAwareClassifier(mlp(), H, list(names), **kwargs)


def data(n=40, seed=0, num_classes=2, split="train", names=("a", "b")):
    rng = np.random.default_rng(seed)
    X = torch.tensor(rng.normal(size=(n, 4)), dtype=torch.float32)
    Y = torch.tensor(rng.integers(0, num_classes, n))
    S = np.rec.fromarrays([rng.integers(0, 2, n).astype(np.int64) for _ in names], names=list(names))
    return DictDataset.from_tensors(X, Y, split), S


# -- construction -------------------------------------------------------------------------------
def test_task_names_follow_snorkel():
    model = model_for(["a", "b"])
    assert model.task_names == {
        "task", "task_slice:a_ind", "task_slice:b_ind", "task_slice:base_ind",
        "task_slice:a_pred", "task_slice:b_pred", "task_slice:base_pred",
    }
    assert model.slice_names == ["a", "b"]
    assert model.base_task.name == "task"


def test_parameter_shapes_and_expert_dim():
    model = model_for(["a", "b"])
    assert tuple(model.expert_weight.shape) == (H, 3, H)
    assert tuple(model.ind_head_weight.shape) == (3, 2, H)
    small = model_for(["a", "b"], expert_dim=3)
    assert tuple(small.expert_weight.shape) == (3, 3, H)
    assert tuple(small.master_head.weight.shape) == (2, 3)
    assert small(torch.zeros(5, 4)).shape == (5, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"slice_names": ["a", "a"]}, ValueError, r"slice_names must be unique; repeated: \['a'\]"),
        ({"slice_names": ["a/b"]}, ValueError, "must not contain '/'"),
        ({"slice_names": "ab"}, TypeError, "slice_names must be a list of non-empty strings"),
        ({"head_dim": 0}, ValueError, "head_dim must be a positive int"),
        ({"num_classes": 1}, ValueError, "num_classes must be an int >= 2"),
        ({"expert_dim": -1}, ValueError, "expert_dim must be a positive int"),
        ({"temperature": 0}, ValueError, "temperature must be > 0"),
        ({"num_classes": 3, "confidence": "positive"}, ValueError, "needs 2 classes"),
        ({"bogus": 1}, TypeError, "unexpected keyword argument 'bogus'"),
    ],
)
def test_bad_construction(kwargs, error, message):
    args = {"base_architecture": mlp(), "head_dim": H, "slice_names": ["a"], "device": "cpu"}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        SliceAwareClassifier(**args)


def test_wrong_head_dim_is_reported_at_forward():
    model = SliceAwareClassifier(mlp(h=5), 7, ["a"], device="cpu")
    with pytest.raises(ValueError, match=r"base_architecture returned \(2, 5\), but the heads expect "
                                         r"\[batch, head_dim=7\]"):
        model(torch.zeros(2, 4))


def snorkel_style_model(names, seed=0):
    """Snorkel's construction of a slice-aware model: a base task (body + linear head) turned
    into slice tasks by convert_to_slice_tasks, in a MultitaskClassifier."""
    torch.manual_seed(seed)
    pool = nn.ModuleDict({"base_architecture": mlp(), "prediction_head": nn.Linear(H, 2)})
    ops = [Operation("base_architecture", [("_input_", "input_data")], name="input_op"),
           Operation("prediction_head", ["input_op"], name="head_op")]
    scorer = Scorer(metrics=["accuracy", "f1"])  # SliceAwareClassifier's default
    tasks = convert_to_slice_tasks(Task("task", pool, ops, scorer=scorer), list(names))
    return MultitaskClassifier(tasks, dataparallel=False, device="cpu")


def test_convert_to_slice_tasks_builds_snorkels_tasks():
    model = snorkel_style_model(["a", "b"])
    ours = model_for(["a", "b"])
    assert isinstance(ours, MultitaskClassifier)
    assert model.task_names == ours.task_names
    for task in model.task_names:  # same graph, same operation names
        assert [op.name for op in ours.op_sequences[task]] == [
            op.name for op in model.op_sequences[task]]
    assert {t: type(sc.metrics) for t, sc in model.scorers.items()} == {
        t: type(sc.metrics) for t, sc in ours.scorers.items()}
    assert list(model.scorers["task_slice:a_ind"].metrics) == ["f1"]
    # one prediction head shared by every slice expert
    heads = {id(model.module_pool[f"task_slice:{s}_pred_head"]) for s in ("a", "b", "base")}
    assert len(heads) == 1


def test_sliceaware_classifier_is_the_converted_multitask_model():
    """Same seed: the fused SliceAwareClassifier and Snorkel's task graph start from the same
    weights, give the same outputs and losses, and stay together when trained."""
    names = ["a", "b"]
    ds, S = data(n=48)
    ours, theirs = model_for(names, seed=3), snorkel_style_model(names, seed=3)
    dl = ours.make_slice_dataloader(ds, S, batch_size=48)
    X, Y = next(iter(dl))
    loss, count = ours.calculate_loss(X, Y)
    their_loss, their_count = theirs.calculate_loss(X, Y)
    assert list(loss) == list(their_loss) and count == their_count
    for key in loss:
        assert loss[key].item() == pytest.approx(their_loss[key].item(), abs=1e-6)
    tasks = ["task", "task_slice:a_ind", "task_slice:b_pred"]
    out, their_out = ours.forward(X, tasks), theirs.forward(X, tasks)
    for task in tasks:
        key = theirs.op_sequences[task][-1].name
        torch.testing.assert_close(out[key], their_out[key], rtol=1e-5, atol=1e-6)

    for model in (ours, theirs):
        Trainer(n_epochs=3, lr=0.01, progress_bar=False, seed=0, device="cpu").fit(
            model, [ours.make_slice_dataloader(ds, S, batch_size=16, shuffle=True)])
    probs = theirs.predict(dl)["probs"]["task"]
    torch.testing.assert_close(torch.tensor(ours.predict_proba(ds)), probs, rtol=1e-4, atol=1e-5)
    assert ours.score_slices([dl]) == pytest.approx(
        theirs.score([dl], remap_labels={k: ("task" if k.endswith("_pred") else None)
                                         for k in dl.dataset.Y_dict if k != "task"}))


def test_convert_to_slice_tasks_errors():
    with pytest.raises(TypeError, match="base_task must be a Task"):
        convert_to_slice_tasks(None, ["a"])
    pool = nn.ModuleDict({"body": mlp(), "head": nn.Sequential(nn.Linear(H, 2))})
    task = Task("t", pool, [Operation("body", [("_input_", "x")]), Operation("head", ["body"])])
    with pytest.raises(TypeError, match=r"must run an nn.Linear head; module 'head' is a Sequential"):
        convert_to_slice_tasks(task, ["a"])


def test_sliceaware_classifier_cannot_add_tasks():
    with pytest.raises(TypeError, match=r"cannot add Task\(name=x\); build a MultitaskClassifier"):
        model_for(["a"]).add_task(Task("x", nn.ModuleDict(), []))


# -- slice labels ---------------------------------------------------------------------------------
def test_make_slice_dataloader_adds_labels_and_does_not_mutate():
    ds = DictDataset.from_tensors(torch.zeros(5, 4), torch.tensor([0, 1, 1, 0, 1]), "train")
    S = np.rec.fromarrays([np.array([1, 1, 0, 0, 0])], names="f")
    model = model_for(["f"])
    dl = model.make_slice_dataloader(ds, S, batch_size=5)
    assert list(ds.Y_dict) == ["task"]  # the given dataset is unchanged
    Y = dl.dataset.Y_dict
    assert list(Y) == ["task", "task_slice:f_ind", "task_slice:f_pred",
                       "task_slice:base_ind", "task_slice:base_pred"]
    assert Y["task_slice:f_ind"].tolist() == [1, 1, 0, 0, 0]
    assert Y["task_slice:f_pred"].tolist() == [0, 1, -1, -1, -1]
    assert Y["task_slice:base_ind"].tolist() == [1, 1, 1, 1, 1]
    assert Y["task_slice:base_pred"].tolist() == [0, 1, 1, 0, 1]
    assert dl.dataset.X_dict["input_data"] is ds.X_dict["input_data"]  # data not copied
    assert dl.batch_size == 5


def test_abstain_in_S_is_unknown_membership():
    ds = DictDataset.from_tensors(torch.zeros(3, 4), torch.tensor([1, 0, 1]), "train")
    S = np.rec.fromarrays([np.array([1, -1, 0])], names="f")
    Y = model_for(["f"]).make_slice_dataloader(ds, S).dataset.Y_dict
    assert Y["task_slice:f_ind"].tolist() == [1, -1, 0]
    assert Y["task_slice:f_pred"].tolist() == [1, -1, -1]


def test_add_slice_labels_is_snorkels_in_place_function():
    ds = DictDataset.from_tensors(torch.zeros(5, 4), torch.tensor([0, 1, 1, 0, 1]), "train")
    S = np.rec.fromarrays([np.array([1, 1, 0, 0, 0])], names="f")
    dl = DictDataLoader(ds)
    add_slice_labels(dl, model_for(["f"]).base_task, S)
    assert ds.Y_dict["task_slice:f_pred"].tolist() == [0, 1, -1, -1, -1]
    assert len(ds.Y_dict) == 5


def test_missing_base_labels():
    ds = DictDataset("D", "train", {"input_data": torch.zeros(2, 4)}, {"other": torch.zeros(2)})
    S = np.rec.fromarrays([np.array([1, 0])], names="a")
    with pytest.raises(ValueError, match=(
        r"^Base task \(task\) labels missing from DictDataset\(name=D, X_keys=\['input_data'\], "
        r"Y_keys=\['other'\]\); build the dataset with task_name='task'"
    )):
        model_for(["a"]).make_slice_dataloader(ds, S)


def test_S_rows_must_match_dataset_rows():
    ds, _ = data(n=8, names=("a",))
    S = np.rec.fromarrays([np.array([1, 0, 1, 0, 1])], names="a")
    with pytest.raises(ValueError, match=r"^S has 5 rows but the dataset has 8; compute S with the "
                                         r"applier on the same rows"):
        model_for(["a"]).make_slice_dataloader(ds, S)


def test_S_fields_must_match_slice_names():
    ds, S = data(n=8, names=("a", "c"))
    with pytest.raises(ValueError, match=(
        r"^S has fields \['a', 'c'\] but the model's slice_names are \['a', 'b'\] "
        r"\(missing \['b'\], unexpected \['c'\]\); apply the slicing functions"
    )):
        model_for(["a", "b"]).make_slice_dataloader(ds, S)


def test_a_slice_named_base_is_rejected_not_merged_with_the_built_in_one():
    with pytest.raises(ValueError, match=r"^slice_names must not contain 'base': the model adds "
                                         r"its own 'base' slice of all rows, which a slice of that "
                                         r"name would replace\. Rename the slicing function"):
        model_for(["a", "base"])


def test_S_values_must_be_memberships():
    ds, _ = data(n=3, names=("a",))
    S = np.rec.fromarrays([np.array([1, 2, 0])], names="a")
    with pytest.raises(ValueError, match=r"S\['a'\] has values \[2\]; slice membership must be 0/1"):
        model_for(["a"]).make_slice_dataloader(ds, S)


def test_labels_outside_the_classes():
    ds, S = data(n=6, num_classes=3)
    message = (r"^Label 'task' has values outside the classes: found \[2\], expected -1 \(no label\) "
               r"or 0\.\.1\. Set num_classes=")
    with pytest.raises(ValueError, match=message):
        model_for().make_slice_dataloader(ds, S)
    # also caught at training time for a plain loader
    with pytest.raises(ValueError, match=message):
        Trainer(progress_bar=False, device="cpu").fit(model_for(), [DictDataLoader(ds, batch_size=6)])


def test_other_forms_of_S():
    ds, S = data(n=6)
    model = model_for()
    frame = {"a": S["a"], "b": S["b"]}
    a = model.make_slice_dataloader(ds, S).dataset.Y_dict
    b = model.make_slice_dataloader(ds, frame).dataset.Y_dict
    assert all(torch.equal(a[k], b[k]) for k in a)


# -- math -------------------------------------------------------------------------------------------
def explicit_forward(model, X):
    """The Snorkel computation with the experts materialized: heads on R_s = expert_s(h)."""
    h = model.base_architecture(X)
    outputs = {}
    for j, s in enumerate(model._slice_list):
        ind = h @ model.ind_head_weight[j].T + model.ind_head_bias[j]
        R = h @ model.expert_weight[:, j, :].T + model.expert_bias[j]
        outputs[f"task_slice:{s}_ind_head"] = ind
        outputs[f"task_slice:{s}_pred_transform"] = R
        outputs[f"task_slice:{s}_pred_head"] = model.pred_head(R)
    rep = model.combiner(outputs)
    return model.master_head(rep), outputs


@pytest.mark.parametrize("kwargs", [{}, {"expert_dim": 3}, {"num_classes": 3}, {"temperature": 0.3}])
def test_projected_experts_equal_the_explicit_computation(kwargs):
    model = model_for(["a", "b", "c"], **kwargs)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)  # away from the near-uniform start
    X = torch.randn(6, 4)
    master, outputs = explicit_forward(model, X)
    heads = model._heads(model.base_architecture(X))
    torch.testing.assert_close(heads.master, master, rtol=1e-5, atol=1e-5)
    for j, s in enumerate(model._slice_list):
        torch.testing.assert_close(heads.pred[:, j], outputs[f"task_slice:{s}_pred_head"], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(heads.ind[:, j], outputs[f"task_slice:{s}_ind_head"])
    torch.testing.assert_close(heads.attention.sum(1), torch.ones(6))


def test_combiner_weights():
    combiner = SliceCombinerModule()
    big = 20.0
    ind = torch.tensor([[[0.0, big], [big, 0.0]]])  # row is in slice 0, not in slice 1
    pred = torch.tensor([[[0.0, big], [0.0, big]]])  # both experts confident in class 1
    w = combiner.attention(ind, pred)
    torch.testing.assert_close(w, torch.softmax(torch.tensor([[1.0, 0.0]]), 1), atol=1e-6, rtol=0)
    equal = combiner.attention(torch.zeros(1, 3, 2), torch.zeros(1, 3, 2))
    torch.testing.assert_close(equal, torch.full((1, 3), 1 / 3))
    # binary confidence is P(class 1): an expert sure of class 0 gets no bonus
    w0 = combiner.attention(torch.tensor([[[0.0, big], [0.0, big]]]), torch.tensor([[[big, 0.0], [0.0, big]]]))
    assert w0[0, 1] > w0[0, 0]
    # lower temperature sharpens
    sharp = SliceCombinerModule(temperature=0.1).attention(ind, pred)
    assert sharp[0, 0] > w[0, 0] > 0.5


def test_combiner_multiclass_uses_max_probability_and_rejects_one_class():
    combiner = SliceCombinerModule()
    ind = torch.zeros(1, 2, 2)
    ind[0, :, 1] = 20.0
    pred = torch.tensor([[[20.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # expert 0 sure of class 0
    w = combiner.attention(ind, pred)
    assert w[0, 0] > w[0, 1]
    with pytest.raises(NotImplementedError, match=r"requires output shape \[\.\.\., 2\]"):
        combiner.attention(ind, torch.zeros(1, 2, 1))


def test_combiner_forward_on_snorkel_style_outputs():
    combiner = SliceCombinerModule()
    outputs = {
        "a_ind_head": torch.zeros(3, 2), "b_ind_head": torch.zeros(3, 2),
        "a_pred_head": torch.zeros(3, 2), "b_pred_head": torch.zeros(3, 2),
        "a_pred_transform": torch.ones(3, 4), "b_pred_transform": 3 * torch.ones(3, 4),
    }
    torch.testing.assert_close(combiner(outputs), 2 * torch.ones(3, 4))  # equal weights average


def test_loss_is_snorkels_sum_of_label_means():
    model = model_for(["a", "b"])
    ds, S = data(n=12)
    X, Y = next(iter(model.make_slice_dataloader(ds, S, batch_size=12)))
    loss_dict, count_dict = model.calculate_loss(X, Y)
    assert list(loss_dict) == list(Y)
    heads = model._heads(model.base_architecture(X["input_data"]))
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(loss_dict["task"], ce(heads.master, Y["task"]))
    y = Y["task_slice:a_pred"]
    member = y != -1
    torch.testing.assert_close(loss_dict["task_slice:a_pred"], ce(heads.pred[member, 0], y[member]))
    torch.testing.assert_close(loss_dict["task_slice:b_ind"], ce(heads.ind[:, 1], Y["task_slice:b_ind"]))
    assert count_dict["task_slice:a_pred"] == int(member.sum())
    assert count_dict["task_slice:base_ind"] == 12


def test_label_without_rows_in_batch_is_left_out():
    model = model_for(["a"])
    ds = DictDataset.from_tensors(torch.randn(4, 4), torch.tensor([0, 1, 0, 1]), "train")
    S = np.rec.fromarrays([np.zeros(4, np.int64)], names="a")
    X, Y = next(iter(model.make_slice_dataloader(ds, S, batch_size=4)))
    loss_dict, count_dict = model.calculate_loss(X, Y)
    assert "task_slice:a_pred" not in loss_dict and "task_slice:a_ind" in loss_dict


def test_same_init_and_losses_as_snorkel():
    snorkel_slicing = pytest.importorskip("snorkel.slicing")
    from snorkel.classification import DictDataset as SnorkelDictDataset

    names = ["a", "b"]
    ds, S = data(n=16)
    torch.manual_seed(3)
    theirs = snorkel_slicing.SliceAwareClassifier(mlp(), H, names)
    ours = model_for(names, seed=3)
    sn_ds = SnorkelDictDataset.from_tensors(ds.X_dict["input_data"], ds.Y_dict["task"], "train")
    sn_X, sn_Y = next(iter(theirs.make_slice_dataloader(sn_ds, S, batch_size=16)))
    X, Y = next(iter(ours.make_slice_dataloader(ds, S, batch_size=16)))
    sn_loss, sn_count = theirs.calculate_loss(sn_X, sn_Y)
    loss, count = ours.calculate_loss(X, Y)
    assert list(loss) == list(sn_loss) and count == sn_count
    for key in loss:
        assert loss[key].item() == pytest.approx(sn_loss[key].item(), abs=1e-6)
    sn_probs = theirs.predict(theirs.make_slice_dataloader(sn_ds, S, batch_size=16))["probs"]["task"]
    torch.testing.assert_close(torch.tensor(ours.predict_proba(ds)), sn_probs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("grad_clip", [0.05, 100.0])  # clipping every step / never
def test_training_same_weights_and_probs_as_snorkel(grad_clip):
    """The trainer's fast paths (kept memory, clipping without the multiplication by 1, the
    fused heads' gradient) train the same model as Snorkel's trainer, step for step."""
    snorkel_slicing = pytest.importorskip("snorkel.slicing")
    from snorkel.classification import DictDataset as SnorkelDictDataset
    from snorkel.classification import Trainer as SnorkelTrainer

    names = ["a", "b"]
    ds, S = data(n=96)
    torch.manual_seed(5)
    theirs = snorkel_slicing.SliceAwareClassifier(mlp(), H, names)
    ours = model_for(names, seed=5)
    sn_ds = SnorkelDictDataset.from_tensors(ds.X_dict["input_data"], ds.Y_dict["task"], "train")
    sn_dl = theirs.make_slice_dataloader(sn_ds, S, batch_size=16)
    dl = ours.make_slice_dataloader(ds, S, batch_size=16)
    settings = dict(n_epochs=3, lr=0.01, grad_clip=grad_clip, progress_bar=False,
                    batch_scheduler="sequential")
    SnorkelTrainer(**settings).fit(theirs, [sn_dl])
    Trainer(**settings, device="cpu", reuse_memory=True).fit(ours, [dl])
    sn_probs = theirs.predict(theirs.make_slice_dataloader(sn_ds, S, batch_size=16))["probs"]["task"]
    torch.testing.assert_close(torch.tensor(ours.predict_proba(ds)), sn_probs, rtol=1e-4, atol=1e-5)
    their_scores = theirs.score_slices([sn_dl])
    assert ours.score_slices([dl]) == pytest.approx(their_scores, abs=1e-6)


# -- scoring and prediction -------------------------------------------------------------------------
def trained(names=("a", "b"), n=80, num_classes=2, epochs=3, **kwargs):
    model = model_for(names, num_classes=num_classes, **kwargs)
    ds, S = data(n=n, num_classes=num_classes, names=names)
    dl = model.make_slice_dataloader(ds, S, batch_size=16, shuffle=True)
    Trainer(n_epochs=epochs, lr=0.01, progress_bar=False, seed=0, device="cpu").fit(model, [dl])
    return model, ds, S


def test_score_slices_rows_and_empty_slice():
    model, ds, S = trained()
    S_empty = S.copy()
    S_empty["b"] = 0
    dl = model.make_slice_dataloader(ds, S_empty, batch_size=32)
    table = model.score_slices([dl], as_dataframe=True)
    assert table.columns.tolist() == ["label", "dataset", "split", "metric", "score"]
    labels = table.label.unique().tolist()
    assert labels == ["task", "task_slice:a_pred", "task_slice:b_pred", "task_slice:base_pred"]
    scores = model.score_slices([dl])
    assert scores["task_slice:base_pred/SnorkelDataset/train/f1"] == scores["task/SnorkelDataset/train/f1"]
    assert math.isnan(scores["task_slice:b_pred/SnorkelDataset/train/accuracy"])
    # the slice score is the master head's score on the slice's rows
    member = S_empty["a"] == 1
    preds = model.predict(ds.X_dict["input_data"])
    golds = ds.Y_dict["task"].numpy()
    assert scores["task_slice:a_pred/SnorkelDataset/train/accuracy"] == pytest.approx(
        (preds[member] == golds[member]).mean())


def test_score_slices_matches_names_exactly():
    names = ["predator", "windy"]
    torch.manual_seed(0)
    model = SliceAwareClassifier(mlp(), H, names, task_name="spam_index", device="cpu")
    rng = np.random.default_rng(1)
    ds = DictDataset.from_tensors(torch.randn(20, 4), torch.tensor(rng.integers(0, 2, 20)), "test",
                                  task_name="spam_index")
    S = np.rec.fromarrays([rng.integers(0, 2, 20) for _ in names], names=names)
    scores = model.score_slices([model.make_slice_dataloader(ds, S, batch_size=8)])
    labels = {k.split("/")[0] for k in scores}
    assert labels == {"spam_index", "spam_index_slice:predator_pred", "spam_index_slice:windy_pred",
                      "spam_index_slice:base_pred"}


def test_score_reports_every_head():
    model, ds, S = trained()
    scores = model.score([model.make_slice_dataloader(ds, S, batch_size=32)])
    assert "task_slice:a_ind/SnorkelDataset/train/f1" in scores
    assert "task_slice:a_ind/SnorkelDataset/train/accuracy" not in scores  # indicators: F1 only
    assert "task_slice:a_pred/SnorkelDataset/train/accuracy" in scores


def test_predict_forms():
    model, ds, S = trained()
    X = ds.X_dict["input_data"]
    probs = model.predict_proba(X)
    assert probs.shape == (80, 2) and np.allclose(probs.sum(1), 1, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X.numpy()), probs, rtol=1e-6)
    np.testing.assert_allclose(model.predict_proba({"input_data": X}), probs, rtol=1e-6)
    assert (model.predict(ds) == probs.argmax(1)).all()
    out = model.predict(model.make_slice_dataloader(ds, S, batch_size=32), return_preds=True)
    assert set(out) == {"golds", "probs", "preds"}
    assert torch.allclose(out["probs"]["task"], torch.tensor(probs))
    assert out["probs"]["task_slice:a_ind"].shape == (80, 2)
    with pytest.raises(TypeError, match="Expected a DictDataLoader"):
        model.predict_proba("nope")


def test_predict_accepts_integer_features():
    # bag-of-words counts come as int64 arrays
    model, ds, _ = trained()
    X_int = np.rint(ds.X_dict["input_data"].numpy() * 3).astype(np.int64)
    expected = model.predict_proba(X_int.astype(np.float32))
    np.testing.assert_allclose(model.predict_proba(X_int), expected, rtol=1e-6)


def test_multiclass_trains_and_scores():
    model, ds, S = trained(num_classes=3, epochs=2)
    assert model.scorer.metrics.keys() == {"accuracy", "f1_macro"}
    table = model.score_slices([model.make_slice_dataloader(ds, S, batch_size=40)], as_dataframe=True)
    assert set(table.metric) == {"accuracy", "f1_macro"}
    assert model.predict_proba(ds).shape == (80, 3)


def test_multiclass_learns_a_separable_problem():
    torch.manual_seed(0)
    X = torch.randn(300, 4)
    Y = X[:, :3].argmax(1)
    S = np.rec.fromarrays([(X[:, 3] > 1).numpy().astype(np.int64)], names=["a"])
    model = SliceAwareClassifier(mlp(), H, ["a"], num_classes=3, device="cpu")
    dl = model.make_slice_dataloader(DictDataset.from_tensors(X, Y, "train"), S, batch_size=32, shuffle=True)
    Trainer(n_epochs=15, lr=0.02, progress_bar=False, seed=0, device="cpu").fit(model, [dl])
    assert (model.predict(X) == Y.numpy()).mean() > 0.85


def test_save_and_load(tmp_path):
    model, ds, _ = trained(epochs=1)
    path = str(tmp_path / "model.pt")
    model.save(path)
    fresh = model_for(seed=9)
    fresh.load(path)
    np.testing.assert_allclose(fresh.predict_proba(ds), model.predict_proba(ds))


def test_slice_attention():
    model, ds, _ = trained(epochs=1)
    att = model.slice_attention(ds)
    assert att.columns.tolist() == ["a", "b", "base"]
    np.testing.assert_allclose(att.sum(axis=1), 1, rtol=1e-5)


# -- baselines -----------------------------------------------------------------------------------------
def test_plain_classifier_trains_on_the_task_label_only():
    torch.manual_seed(0)
    model = PlainClassifier(mlp(), H, slice_names=["a", "b"], device="cpu")
    ds, S = data(n=32)
    X, Y = next(iter(model.make_slice_dataloader(ds, S, batch_size=32)))
    loss_dict, _ = model.calculate_loss(X, Y)
    assert list(loss_dict) == ["task"]
    scores = model.score_slices([model.make_slice_dataloader(ds, S, batch_size=32)])
    assert {k.split("/")[0] for k in scores} == {
        "task", "task_slice:a_pred", "task_slice:b_pred", "task_slice:base_pred"}
    with pytest.raises(ValueError, match="missing"):
        model.make_slice_dataloader(ds, {"a": S["a"]})


def test_oversampling_draws_slice_rows_more_often():
    n = 400
    ds = DictDataset.from_tensors(torch.zeros(n, 4), torch.zeros(n, dtype=torch.long), "train")
    member = np.zeros(n, np.int64)
    member[:40] = 1
    S = np.rec.fromarrays([member], names="a")
    dl = make_oversampling_dataloader(ds, S, slice_weights=9.0, batch_size=100,
                                      generator=torch.Generator().manual_seed(0))
    drawn = torch.cat([Y["task_slice:a_ind"] for _, Y in dl])
    assert len(drawn) == n
    # 40 rows of weight 9 vs 360 of weight 1: half of the draws are slice rows
    assert 0.4 < drawn.float().mean().item() < 0.6
    assert list(ds.Y_dict) == ["task"]
    with pytest.raises(TypeError, match="sets its own sampler"):
        make_oversampling_dataloader(ds, S, shuffle=True)
    with pytest.raises(ValueError, match="slice_weights must be positive"):
        make_oversampling_dataloader(ds, S, slice_weights=0)
    plain = PlainClassifier(mlp(), H, slice_names=["a"], device="cpu")
    weights = plain.make_oversampling_dataloader(ds, S, slice_weights={"a": 3.0}).sampler.weights
    assert weights[:40].unique().tolist() == [3.0] and weights[40:].unique().tolist() == [1.0]


def test_device_auto():
    model = SliceAwareClassifier(mlp(), H, ["a"])
    assert model.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
