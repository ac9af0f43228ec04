"""DictDataset, DictDataLoader and collate_dicts (slicewidgets/classification/data.py)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification import (  # noqa: E402
    DEFAULT_DATASET_NAME,
    DEFAULT_INPUT_DATA_KEY,
    DEFAULT_TASK_NAME,
    DictDataLoader,
    DictDataset,
    collate_dicts,
)


def test_constants_match_snorkel():
    assert (DEFAULT_INPUT_DATA_KEY, DEFAULT_DATASET_NAME, DEFAULT_TASK_NAME) == (
        "input_data", "SnorkelDataset", "task"
    )


def test_from_tensors_indexing_and_repr():
    X = torch.arange(12.0).view(4, 3)
    Y = torch.tensor([0, 1, 1, 0])
    ds = DictDataset.from_tensors(X, Y, "train")
    assert repr(ds) == "DictDataset(name=SnorkelDataset, X_keys=['input_data'], Y_keys=['task'])"
    assert len(ds) == 4
    x, y = ds[2]
    assert torch.equal(x["input_data"], X[2]) and int(y["task"]) == 1
    named = DictDataset.from_tensors(X, Y, "test", input_data_key="feats", task_name="spam",
                                     dataset_name="D")
    assert (named.name, named.split, list(named.X_dict), list(named.Y_dict)) == (
        "D", "test", ["feats"], ["spam"]
    )


def test_len_comes_from_labels_and_is_zero_without_labels():
    assert len(DictDataset("D", "train", {"x": torch.zeros(3, 1)}, {})) == 0


def test_label_must_be_tensor():
    with pytest.raises(ValueError, match=r"^Label task should be torch.Tensor, not <class 'list'>\.$"):
        DictDataset("D", "train", {"x": torch.zeros(2)}, {"task": [0, 1]})


def test_rows_must_agree():
    with pytest.raises(ValueError, match=r"one value per row: Y_dict\['task'\] has 3, "
                                         r"X_dict\['x'\] has 2"):
        DictDataset("D", "train", {"x": torch.zeros(2, 1)}, {"task": torch.zeros(3)})


def test_loader_rejects_other_datasets():
    with pytest.raises(TypeError, match="DictDataLoader needs a DictDataset; got TensorDataset"):
        DictDataLoader(torch.utils.data.TensorDataset(torch.zeros(2)))


def test_collate_pads_variable_length_rows_like_snorkel():
    ds = DictDataset(
        "D", "train",
        {"seq": [torch.tensor([1, 2, 3]), torch.tensor([4]), torch.tensor([5, 6])],
         "ids": ["a", "b", "c"]},
        {"task": torch.tensor([0, 1, 0])},
    )
    X, Y = next(iter(DictDataLoader(ds, batch_size=3)))
    assert X["seq"].tolist() == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]
    assert X["ids"] == ["a", "b", "c"]
    assert Y["task"].tolist() == [0, 1, 0]


@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 2)])
def test_fast_batch_path_equals_row_by_row_collate(shape):
    g = torch.Generator().manual_seed(0)
    ds = DictDataset(
        "D", "train",
        {"x": torch.randn(*shape, generator=g), "tag": list("abcdefg")},
        {"task": torch.tensor([0, 1, -1, 1, 0, 1, 0]), "other": torch.arange(7)},
    )
    idx = [5, 0, 3]
    fast = collate_dicts(ds.__getitems__(idx))
    slow = collate_dicts([ds[i] for i in idx])
    assert fast[0]["tag"] == slow[0]["tag"] == ["f", "a", "d"]
    assert torch.equal(fast[0]["x"], slow[0]["x"])
    assert fast[0]["x"].dtype == slow[0]["x"].dtype
    for key in ("task", "other"):
        assert torch.equal(fast[1][key], slow[1][key])


def test_custom_collate_still_sees_rows():
    ds = DictDataset.from_tensors(torch.arange(4.0), torch.tensor([0, 1, 0, 1]), "train")
    seen = []

    def collate(rows):
        seen.append([int(y["task"]) for _, y in rows])
        return len(rows)

    assert list(DictDataLoader(ds, batch_size=2, collate_fn=collate)) == [2, 2]
    assert seen == [[0, 1], [0, 1]]


def test_shuffled_loader_covers_every_row_once():
    ds = DictDataset.from_tensors(torch.arange(10.0), torch.arange(10), "train")
    batches = list(DictDataLoader(ds, batch_size=4, shuffle=True))
    rows = torch.cat([Y["task"] for _, Y in batches])
    assert sorted(rows.tolist()) == list(range(10))
    assert all(torch.equal(X["input_data"], Y["task"].float()) for X, Y in batches)


def test_label_given_as_a_list_of_row_tensors_is_stacked():
    # Snorkel allows replacing a label by a list of per-row tensors after building the dataset
    ds = DictDataset("d", "train", {"x": torch.arange(5.0)}, {"y": torch.zeros(5)})
    ds.Y_dict["y"] = [torch.tensor([float(i)]) for i in range(5)]
    _, Y = next(iter(DictDataLoader(ds, batch_size=3)))
    assert torch.equal(Y["y"], torch.tensor([[0.0], [1.0], [2.0]]))
