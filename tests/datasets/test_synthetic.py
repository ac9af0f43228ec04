"""make_slice_synthetic: the slice-based learning paper's synthetic data
(slicewidgets/datasets/synthetic.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slicewidgets.datasets.synthetic import make_slice_synthetic


@pytest.fixture(scope="module")
def data():
    return make_slice_synthetic(random_state=0)


def test_sizes_and_columns(data):
    assert (len(data.df_train), len(data.df_valid), len(data.df_test)) == (2500, 1250, 1250)
    for df in (data.df_train, data.df_valid, data.df_test):
        assert df.columns.tolist() == ["x0", "x1", "label", "flipped"]
        assert df.index.equals(pd.RangeIndex(len(df)))
        assert df["label"].dtype == np.int64 and df["flipped"].dtype == bool
    everything = pd.concat([data.df_train, data.df_valid, data.df_test])
    assert everything[["x0", "x1"]].abs().max().max() <= 1.0
    assert not everything.duplicated(["x0", "x1"]).any()


def test_label_rule_and_flip_circle(data):
    df = pd.concat([data.df_train, data.df_valid, data.df_test])
    in_circle = (df.x0 - 0.25) ** 2 + (df.x1 - 0.0) ** 2 <= 0.2**2
    assert (df.flipped == in_circle).all()
    rule = (df.x0 > df.x1 + 0.25).astype(int)
    assert (df.label[~in_circle] == rule[~in_circle]).all()
    assert (df.label[in_circle] == 1 - rule[in_circle]).all()
    # the circle is about pi * 0.2^2 / 4 ~ 3.1% of the square, and straddles the boundary
    assert 0.02 < in_circle.mean() < 0.045
    assert set(df.label[in_circle]) == {0, 1}


def test_slicing_function_is_an_imperfect_circle(data):
    assert data.sf_circle == (0.35, -0.1, 0.2)
    assert data.flip_circles == ((0.25, 0.0, 0.2),)
    S = data.slice_matrix("train")
    assert S.dtype.names == ("circle",) and S["circle"].dtype == np.int64
    df = data.df_train
    expected = ((df.x0 - 0.35) ** 2 + (df.x1 + 0.1) ** 2 <= 0.04).to_numpy()
    assert (S["circle"] == expected).all()
    flipped = df.flipped.to_numpy()
    overlap = (expected & flipped).sum()
    assert 0 < overlap < min(expected.sum(), flipped.sum())  # overlaps, but is not the slice
    truth = data.slice_matrix("train", truth=True)
    assert truth.dtype.names == ("flipped",) and (truth["flipped"] == flipped).all()


def test_slicing_function_matches_the_applier(data):
    from slicewidgets.slicing import PandasSFApplier

    S = PandasSFApplier(data.slicing_functions()).apply(data.df_test, progress_bar=False)
    assert S.dtype.names == ("circle",)
    assert (S["circle"] == data.slice_matrix("test")["circle"]).all()


def test_seeds_and_several_circles():
    a = make_slice_synthetic(random_state=1)
    b = make_slice_synthetic(random_state=1)
    c = make_slice_synthetic(random_state=2)
    pd.testing.assert_frame_equal(a.df_train, b.df_train)
    assert not a.df_train.equals(c.df_train)
    two = make_slice_synthetic(
        1000, flip_circles=[(0.25, 0.0, 0.2), (-0.5, -0.75, 0.15)], split_fractions=(0.6, 0.2, 0.2),
        random_state=0,
    )
    assert (len(two.df_train), len(two.df_valid), len(two.df_test)) == (600, 200, 200)
    df = pd.concat([two.df_train, two.df_valid, two.df_test])
    second = (df.x0 + 0.5) ** 2 + (df.x1 + 0.75) ** 2 <= 0.15**2
    assert second.any() and df.flipped[second].all()


def test_tensors_and_dataset(data):
    torch = pytest.importorskip("torch")
    X, Y = data.tensors("valid")
    assert X.shape == (1250, 2) and X.dtype == torch.float32 and Y.dtype == torch.long
    ds = data.dataset("test")
    assert (ds.split, len(ds)) == ("test", 1250)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 2}, "n_samples must be an int >= 3"),
        ({"flip_circles": [(0.0, 0.0)]}, r"flip_circles\[i\] must be \(center_x, center_y, radius\)"),
        ({"sf_circle": (0.0, 0.0, -1.0)}, "the radius must be > 0"),
        ({"split_fractions": (0.5, 0.5, 0.5)}, "split_fractions must be three non-negative numbers"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_slice_synthetic(**kwargs)


def test_unknown_split(data):
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'valid', 'test'\]; got 'dev'"):
        data.frame("dev")
