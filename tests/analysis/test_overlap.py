"""slice_overlap (counts, Jaccard, containment) and the slice algebra ``&``, ``|``, ``~``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slicewidgets.analysis import slice_overlap
from slicewidgets.analysis.overlap import SliceOverlap
from slicewidgets.slicing import (
    PandasSFApplier,
    SlicingFunction,
    keyword_sf,
    regex_sf,
    slicing_function,
)
from slicewidgets.slicing.apply import SliceMembership
from slicewidgets.slicing.sf import CombinedSlicingFunction

# -- slice_overlap -------------------------------------------------------------------------------


def _random_masks(n=500, k=6, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.random((n, k)) < rng.uniform(0.02, 0.6, k)
    M[:, 4] = False  # an empty slice
    M[:, 5] = M[:, 0]  # a duplicate
    return [f"s{j}" for j in range(k)], M


def test_counts_jaccard_and_containment_equal_numpy_logic():
    names, M = _random_masks()
    ov = slice_overlap(SliceMembership(names, M))
    assert isinstance(ov, SliceOverlap)
    assert ov.names == names and ov.n_rows == 500
    counts = ov.counts.to_numpy()
    jac = ov.jaccard.to_numpy()
    cont = ov.containment.to_numpy()
    for i in range(len(names)):
        for j in range(len(names)):
            inter = int(np.sum(M[:, i] & M[:, j]))
            union = int(np.sum(M[:, i] | M[:, j]))
            assert counts[i, j] == inter
            if union:
                assert jac[i, j] == pytest.approx(inter / union)
            else:
                assert np.isnan(jac[i, j])
            if M[:, i].any():
                assert cont[i, j] == pytest.approx(inter / M[:, i].sum())
            else:
                assert np.isnan(cont[i, j])
    np.testing.assert_array_equal(ov.sizes.to_numpy(), M.sum(axis=0))
    assert jac[0, 5] == 1.0 and jac[0, 0] == 1.0
    assert list(ov.counts.index) == names and list(ov.jaccard.columns) == names
    assert ov.counts.dtypes.unique().tolist() == [np.dtype("int64")]


def test_accepts_every_form_of_S():
    masks = {"a": np.array([1, 1, 0, 0]), "b": np.array([0, 1, 1, 0])}
    recarray = np.rec.fromarrays(list(masks.values()), names=list(masks))
    frames = [slice_overlap(S).counts for S in (masks, pd.DataFrame(masks), recarray)]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    assert frames[0].to_numpy().tolist() == [[2, 1], [1, 2]]


def test_pairs_frame():
    names, M = _random_masks()
    ov = slice_overlap(dict(zip(names, M.T, strict=True)))
    pairs = ov.to_frame()
    assert len(pairs) == 15
    assert list(pairs.columns) == ["slice_a", "slice_b", "size_a", "size_b", "overlap",
                                   "jaccard", "a_in_b", "b_in_a"]
    assert pairs.iloc[0][["slice_a", "slice_b", "jaccard"]].tolist() == ["s0", "s5", 1.0]
    assert pairs["jaccard"].dropna().is_monotonic_decreasing
    row = pairs[(pairs["slice_a"] == "s1") & (pairs["slice_b"] == "s2")].iloc[0]
    inter = int(np.sum(M[:, 1] & M[:, 2]))
    assert row["overlap"] == inter and row["a_in_b"] == pytest.approx(inter / M[:, 1].sum())
    assert row["b_in_a"] == pytest.approx(inter / M[:, 2].sum())
    strong = ov.to_frame(min_jaccard=0.5)
    assert (strong["jaccard"] >= 0.5).all() and len(strong) >= 1
    unsorted = ov.to_frame(sort=False)
    assert unsorted[["slice_a", "slice_b"]].iloc[0].tolist() == ["s0", "s1"]


def test_matrix_kinds_and_errors():
    ov = slice_overlap({"a": [1, 0, 1], "b": [1, 1, 0]})
    assert ov.matrix("count").to_numpy().tolist() == [[2, 1], [1, 2]]
    assert ov.matrix("containment").loc["a", "b"] == 0.5
    with pytest.raises(ValueError, match=r"kind must be one of \['jaccard', 'count', "
                                         r"'containment'\], got 'cosine'"):
        ov.matrix("cosine")
    with pytest.raises(TypeError, match="S must be a recarray"):
        slice_overlap([[1, 0]])


def test_results_are_copies():
    ov = slice_overlap({"a": [1, 0, 1], "b": [1, 1, 0]})
    frame = ov.counts
    frame.iloc[0, 0] = 99
    assert ov.counts.iloc[0, 0] == 2
    with pytest.raises(ValueError):
        ov._counts[0, 0] = 5  # read-only storage


def test_rendering_escapes_names():
    ov = slice_overlap({"<i>a</i>": [1, 0, 1, 1], "b & c": [1, 1, 0, 0], "empty": [0, 0, 0, 0]})
    html_text = ov._repr_html_()
    assert "&lt;i&gt;a&lt;/i&gt;" in html_text and "<i>a</i>" not in html_text
    assert "b &amp; c" in html_text and "<style>" in html_text
    assert ov.to_html("count").count("<td") == 9
    text = repr(ov)
    assert text.splitlines()[0] == ("SliceOverlap: 3 slices over 4 rows (Jaccard index; "
                                    "diagonal: sizes)")
    assert "[3]" in text and "[0]" in text


# -- slice algebra -------------------------------------------------------------------------------


@pytest.fixture()
def frame():
    return pd.DataFrame({
        "text": ["check out my video please", "nice song", "plz sub to me", "CHECK this out",
                 "love it", "Check it out plz", "so good", "please"],
        "n": [1, 5, 2, 7, 3, 9, 4, 0],
    })


@pytest.fixture()
def sfs():
    @slicing_function()
    def short(x):  # row-wise
        return len(x.text.split()) < 3

    keyword = keyword_sf(["please", "plz"], name="kw")  # vectorized builder
    regex = regex_sf(r"check.*out", name="rx", flags=2)
    big = SlicingFunction("big", lambda df: df.n > 3, vectorized=True)
    return short, keyword, regex, big


def _mask(sf, df):
    return np.asarray(sf.mask(df), dtype=bool)


def test_algebra_masks_equal_numpy_logic(frame, sfs):
    short, kw, rx, big = sfs
    m = {sf.name: _mask(sf, frame) for sf in sfs}
    cases = {
        short & kw: m["short"] & m["kw"],
        short | rx: m["short"] | m["rx"],
        ~kw: ~m["kw"],
        (kw | rx) & ~big: (m["kw"] | m["rx"]) & ~m["big"],
        short & kw & big: m["short"] & m["kw"] & m["big"],
        ~(short | big): ~(m["short"] | m["big"]),
        ~~rx: m["rx"],
    }
    for sf, expected in cases.items():
        assert isinstance(sf, CombinedSlicingFunction)
        np.testing.assert_array_equal(_mask(sf, frame), expected, err_msg=sf.name)
        # row by row too (as Snorkel's applier calls it on each data point)
        assert [bool(sf(frame.iloc[i])) for i in range(len(frame))] == expected.tolist()


def test_default_names_and_rename(frame, sfs):
    short, kw, rx, big = sfs
    assert (short & kw).name == "short_and_kw"
    assert (short | rx).name == "short_or_rx"
    assert (~kw).name == "not_kw"
    assert (short & kw & big).name == "short_and_kw_and_big"
    renamed = (kw | rx).rename("spammy")
    assert renamed.name == "spammy" and (kw | rx).name == "kw_or_rx"
    assert isinstance(renamed, CombinedSlicingFunction)
    np.testing.assert_array_equal(_mask(renamed, frame), _mask(kw | rx, frame))
    assert renamed.fingerprint == (kw | rx).fingerprint  # the name is not part of it
    assert (short & kw).fingerprint != (short | kw).fingerprint
    assert repr(short & kw) == "CombinedSlicingFunction short_and_kw (and of ['short', 'kw'])"


def test_combined_sfs_in_the_applier_and_in_overlaps(frame, sfs):
    short, kw, rx, big = sfs
    S = PandasSFApplier([short, kw, short & kw, ~rx]).apply(frame, progress_bar=False)
    assert S.dtype.names == ("short", "kw", "short_and_kw", "not_rx")
    np.testing.assert_array_equal(S["short_and_kw"], S["short"] & S["kw"])
    ov = slice_overlap(S)
    assert ov.counts.loc["short", "kw"] == ov.sizes["short_and_kw"]
    assert ov.counts.loc["kw", "not_rx"] == int(np.sum(S["kw"] & ~_mask(rx, frame)))


def test_combining_with_something_else_fails(sfs):
    short = sfs[0]
    with pytest.raises(TypeError, match=r"^Cannot combine a SlicingFunction with int using "
                                        r"'&'; both operands must be slicing functions\.$"):
        short & 3  # noqa: B018
    with pytest.raises(TypeError, match=r"using '\|'"):
        short | "kw"  # noqa: B018


def test_default_names_of_different_combinations_differ(sfs):
    a, b, c, _ = sfs
    assert ((a & b) | c).name != (a & (b | c)).name
    assert (~(a & b)).name != (~a & b).name
