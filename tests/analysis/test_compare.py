"""compare_models / ModelComparison: paired per-slice deltas with intervals, tests and flags."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as hst

from slicewidgets.analysis import ModelComparison, Scorer, compare_models
from slicewidgets.analysis import stats as st
from slicewidgets.analysis.compare import COMPARISON_COLUMNS


@pytest.fixture(scope="module")
def seed(spam_splits):
    """The tutorial's SFs on the test set; LogisticRegression (a) vs naive Bayes (b)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    from slicewidgets.datasets import df_to_features, spam_tutorial_sfs
    from slicewidgets.slicing import PandasSFApplier

    df_train, df_test = spam_splits
    sfs = spam_tutorial_sfs()[:4]  # without TextBlob

    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")
    lr = LogisticRegression(C=0.001, solver="liblinear").fit(X=X_train, y=Y_train)
    nb = MultinomialNB().fit(X_train, Y_train)
    S = PandasSFApplier(sfs).apply(df_test, progress_bar=False)
    return dict(S=S, golds=Y_test, a=lr.predict(X_test), b=nb.predict(X_test),
                probs_a=lr.predict_proba(X_test), probs_b=nb.predict_proba(X_test))


def test_seed_comparison_scores_deltas_mcnemar_and_flags(seed):
    cmp = compare_models(seed["S"], seed["golds"], seed["a"], seed["b"],
                         metrics=["accuracy", "f1"], names=("logreg", "nb"))
    frame = cmp.to_frame()
    assert list(frame.columns) == list(COMPARISON_COLUMNS)
    assert frame["slice"].tolist()[::2] == ["overall", "short_comment", "keyword_please",
                                           "regex_check_out", "short_link"]
    scorer = Scorer(["accuracy", "f1"])
    ta = scorer.score_slices(seed["S"], seed["golds"], seed["a"], as_dataframe=True)
    tb = scorer.score_slices(seed["S"], seed["golds"], seed["b"], as_dataframe=True)
    by = frame.set_index(["slice", "metric"])
    for (name, metric), row in by.iterrows():
        assert row["score_a"] == pytest.approx(ta.loc[name, metric])
        assert row["score_b"] == pytest.approx(tb.loc[name, metric])
        assert row["delta"] == pytest.approx(row["score_b"] - row["score_a"])
        assert row["ci_low"] <= row["delta"] <= row["ci_high"]
    # McNemar for accuracy, by hand with scipy's binomial test
    golds, a, b = seed["golds"], seed["a"], seed["b"]
    for name in ["overall", "short_comment", "short_link"]:
        mask = np.ones(len(golds), bool) if name == "overall" else seed["S"][name] > 0
        only_a = int(((a == golds) & (b != golds) & mask).sum())
        only_b = int(((a != golds) & (b == golds) & mask).sum())
        ref = 1.0 if only_a + only_b == 0 else scipy.stats.binomtest(
            only_a, only_a + only_b).pvalue
        row = by.loc[(name, "accuracy")]
        assert row["p_value"] == pytest.approx(ref)
        assert row["test"] == "McNemar (exact)"
    assert by.loc[("short_link", "accuracy"), "flag"] == "no-evidence"
    assert by.loc[("short_link", "accuracy"), "reason"] == (
        "too small: rows scored by both models = 3 < min_n=10")
    q = st.benjamini_hochberg(frame.loc[frame["metric"] == "accuracy", "p_value"])
    np.testing.assert_allclose(frame.loc[frame["metric"] == "accuracy", "q_value"], q)
    assert cmp.names == ("logreg", "nb")
    assert cmp.overall["accuracy"] == pytest.approx(tb.loc["overall", "accuracy"]
                                                    - ta.loc["overall", "accuracy"])


def test_seed_roc_auc_uses_delong(seed):
    cmp = compare_models(seed["S"], seed["golds"], seed["a"], seed["b"],
                         probs_a=seed["probs_a"], probs_b=seed["probs_b"],
                         metrics=["roc_auc"], n_boot=200)
    frame = cmp.to_frame().set_index("slice")
    pos = seed["golds"] == 1
    auc_a, auc_b, var = st.delong_paired(pos, seed["probs_a"][:, 1], seed["probs_b"][:, 1])
    row = frame.loc["overall"]
    assert row["score_a"] == pytest.approx(auc_a) and row["score_b"] == pytest.approx(auc_b)
    assert row["p_value"] == pytest.approx(2 * scipy.stats.norm.sf(abs(auc_b - auc_a)
                                                                   / np.sqrt(var)))
    assert row["test"] == "DeLong (paired)"
    assert row["ci_low"] <= row["delta"] <= row["ci_high"]
    assert frame.loc["keyword_please", "reason"] == (
        "all golds in the slice are one class: roc_auc undefined")
    assert frame.loc["keyword_please", "flag"] == "no-evidence"


# -- synthetic -----------------------------------------------------------------------------------


def _models(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, 2, n)
    head = np.arange(n) < 300
    a = np.where(rng.random(n) < np.where(head, 0.35, 0.10), 1 - golds, golds)
    b = np.where(rng.random(n) < 0.10, 1 - golds, golds)  # better on the head
    return {"head": head, "tail": ~head, "tiny": np.arange(n) < 5}, golds, a, b


def test_flags_and_sorting():
    S, golds, a, b = _models()
    cmp = compare_models(S, golds, a, b, metrics=["accuracy", "f1"])
    by = cmp.to_frame().set_index(["slice", "metric"])
    assert by.loc[("head", "accuracy"), "flag"] == "better"
    assert by.loc[("head", "f1"), "flag"] == "better"
    assert by.loc[("head", "f1"), "test"] == "paired permutation z"
    assert by.loc[("tail", "accuracy"), "flag"] == "ok"
    assert by.loc[("tiny", "accuracy"), "flag"] == "no-evidence"
    assert by.loc[("head", "accuracy"), "reason"].startswith(
        "above a (q=<0.001 < alpha=0.05, McNemar (exact))")
    ordered = cmp.sorted().to_frame(include_overall=False, metric="accuracy")
    assert ordered["delta"].is_monotonic_increasing
    worst = cmp.worst(1).to_frame(include_overall=False)
    assert worst["delta"].iloc[0] == ordered["delta"].iloc[0]
    # swapping the models flips the deltas and the flags
    swapped = compare_models(S, golds, b, a, metrics=["accuracy"]).to_frame().set_index("slice")
    assert swapped.loc["head", "flag"] == "worse"
    assert swapped.loc["head", "delta"] == pytest.approx(-by.loc[("head", "accuracy"), "delta"])


def test_identical_models_have_zero_delta_and_no_difference():
    S, golds, a, _ = _models()
    frame = compare_models(S, golds, a, a, metrics=["accuracy", "precision", "f1"]).to_frame()
    defined = frame["delta"].notna()
    assert (frame.loc[defined, "delta"] == 0).all()
    assert (frame.loc[defined, ["ci_low", "ci_high"]] == 0).all().all()
    assert (frame.loc[defined, "p_value"] == 1).all()
    assert set(frame["flag"]) <= {"ok", "no-evidence"}


def test_paired_permutation_z_for_f1_matches_a_hand_computation():
    S, golds, a, b = _models()
    frame = compare_models(S, golds, a, b, metrics=["f1"]).to_frame().set_index("slice")

    def f1(tp, fp, fn):
        return 2 * tp / (2 * tp + fp + fn)

    mask = S["head"]
    g, pa, pb = golds[mask], a[mask], b[mask]
    cells = {}
    for name, p in (("a", pa), ("b", pb)):
        cells[name] = [np.sum((g == 1) & (p == 1)), np.sum((g == 0) & (p == 1)),
                       np.sum((g == 1) & (p == 0))]
    pooled = (np.array(cells["a"]) + np.array(cells["b"])) / 2
    tp, fp, fn = pooled
    D = 2 * tp + fp + fn
    grad = np.array([2 * (fp + fn) / D**2, -2 * tp / D**2, -2 * tp / D**2])  # d f1 / d cell

    def psi(p):  # each row's influence under one model
        return np.select([(g == 1) & (p == 1), (g == 0) & (p == 1), (g == 1) & (p == 0)],
                         grad, 0.0)

    var = np.sum((psi(pa) - psi(pb)) ** 2)
    z = (f1(*cells["b"]) - f1(*cells["a"])) / np.sqrt(var)
    assert frame.loc["head", "p_value"] == pytest.approx(2 * scipy.stats.norm.sf(abs(z)),
                                                         rel=1e-4)


def test_coverage_and_abstains():
    golds = np.array([1, 0] * 50)
    a = golds.copy()
    b = golds.copy()
    a[:30] = -1  # model a abstains on 30 rows
    frame = compare_models({"s": np.arange(100) < 50}, golds, a, b,
                           metrics=["coverage", "accuracy"]).to_frame().set_index(
        ["slice", "metric"])
    assert frame.loc[("overall", "coverage"), "score_a"] == 0.7
    assert frame.loc[("overall", "coverage"), "delta"] == pytest.approx(0.3)
    assert frame.loc[("overall", "coverage"), "p_value"] == pytest.approx(
        scipy.stats.binomtest(0, 30).pvalue)
    assert frame.loc[("overall", "accuracy"), "n_scored"] == 70
    assert frame.loc[("overall", "accuracy"), "delta"] == 0.0


def test_custom_metric_uses_paired_row_bootstrap():
    S, golds, a, b = _models(n=300)
    scorer = Scorer([], custom_metric_funcs={"acc": lambda g, p, _: float(np.mean(g == p))})
    frame = compare_models(S, golds, a, b, scorer=scorer, n_boot=100).to_frame()
    row = frame.set_index("slice").loc["head"]
    assert row["ci_method"] == "paired bootstrap (rows)" and row["test"] == "paired bootstrap z"
    assert row["delta"] == pytest.approx(np.mean(b[:300] == golds[:300])
                                         - np.mean(a[:300] == golds[:300]))
    assert row["ci_low"] <= row["delta"] <= row["ci_high"]


def test_paired_bootstrap_coverage_of_accuracy_delta_by_simulation():
    # 600 independent slices of 200 rows; the true accuracy difference is 0.10
    rng = np.random.default_rng(17)
    k, m = 100, 200
    block = np.repeat(np.arange(k), m)
    S = {f"s{j}": block == j for j in range(k)}
    hits = []
    for run in range(6):
        golds = rng.integers(0, 2, k * m)
        u = rng.random(k * m)
        a = np.where(u < 0.25, 1 - golds, golds)  # a errs 25%, b errs 15% (nested)
        b = np.where(u < 0.15, 1 - golds, golds)
        frame = compare_models(S, golds, a, b, random_state=run).to_frame(
            include_overall=False)
        hits.extend((frame["ci_low"] <= 0.10) & (frame["ci_high"] >= 0.10))
    assert abs(np.mean(hits) - 0.95) < 0.03, np.mean(hits)


# -- bad input and rendering ---------------------------------------------------------------------


def test_bad_input():
    S, golds, a, b = _models(n=50)
    with pytest.raises(ValueError) as err:
        compare_models(S, golds, a, b[:40])
    assert str(err.value) == (
        "S, golds, preds_a, and preds_b must have the same number of elements: S has 50, "
        "golds has 50, preds_a has 50, preds_b has 40. Compute them on the same rows."
    )
    with pytest.raises(ValueError, match=r"^Pass either metrics or scorer to compare_models, "
                                         r"not both\.$"):
        compare_models(S, golds, a, b, metrics=["f1"], scorer=Scorer())
    with pytest.raises(ValueError, match=r"names must hold two model names, got \('x',\)"):
        compare_models(S, golds, a, b, names=("x",))
    with pytest.raises(ValueError, match=r"confidence must be a number strictly between 0 and "
                                         r"1, got 2"):
        compare_models(S, golds, a, b, confidence=2)
    with pytest.raises(ValueError, match=r"n_boot must be an integer >= 1, got 0"):
        compare_models(S, golds, a, b, n_boot=0)
    with pytest.raises(ValueError, match=r"Metric roc_auc requires access to probs: pass "
                                         r"probs_a\."):
        compare_models(S, golds, a, b, metrics=["roc_auc"])
    with pytest.raises(ValueError, match="Cannot score empty labels"):
        compare_models({"s": []}, [], [], [])


def test_rendering():
    S, golds, a, b = _models()
    S["<b>bold</b>"] = S.pop("tiny")
    cmp = compare_models(S, golds, a, b, names=("old", "new & improved"))
    assert isinstance(cmp, ModelComparison)
    html_text = cmp._repr_html_()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html_text and "<b>bold" not in html_text
    assert "new &amp; improved" in html_text and 'class="sw-flag-better' in html_text
    assert "delta = new &amp; improved - old" in html_text
    text = repr(cmp)
    assert text.splitlines()[0].startswith("ModelComparison: new & improved vs old")
    assert text.splitlines()[1].split()[:5] == ["slice", "n", "old", "new", "&"]
    with pytest.raises(AttributeError, match="ModelComparison is immutable"):
        cmp.names = ("x", "y")
    frame = cmp.to_frame()
    frame.loc[0, "delta"] = 9.0
    assert cmp.to_frame().loc[0, "delta"] != 9.0
    assert isinstance(cmp.to_frame(metric="accuracy"), pd.DataFrame)


@pytest.mark.parametrize("metric", ["accuracy", "f1", "roc_auc", "brier"])
def test_a_paired_interval_depends_only_on_its_own_slice(metric):
    S, golds, preds_a, preds_b = _models()
    rng = np.random.default_rng(11)
    probs_a, probs_b = (np.stack([1 - p, p], axis=1) for p in (
        np.clip(np.where(preds == 1, 0.7, 0.3) + rng.normal(0, 0.2, len(golds)), 0, 1)
        for preds in (preds_a, preds_b)))
    kwargs = {"metrics": [metric]}
    if metric == "brier":
        kwargs = {"scorer": Scorer(custom_metric_funcs={
            "brier": lambda g, p, pr: float(np.mean((pr[:, 1] - g) ** 2))})}
    cols = ["slice", "metric", "ci_low", "ci_high"]

    def intervals(slices):
        comp = compare_models(slices, golds, preds_a, preds_b, probs_a=probs_a,
                              probs_b=probs_b, n_boot=200, **kwargs)
        return comp.to_frame()[cols].set_index(["slice", "metric"])

    before = intervals(S)
    more = dict(S, extra=rng.random(len(golds)) < 0.4)
    after = intervals(dict(reversed(list(more.items()))))
    pd.testing.assert_frame_equal(after.loc[before.index], before)


# -- roc_auc: each model on its own scored rows, DeLong on the common rows (review #5) -----------
def test_roc_auc_scores_are_each_models_own_as_scorer_gives_them():
    golds = np.array([0, 0, 1, 1, 0, 1])
    pa = np.array([0, 1, 1, 1, 0, 1])
    pb = np.array([0, 0, 1, -1, 0, 1])  # model b abstains on row 3
    qa = np.array([[.9, .1], [.3, .7], [.6, .4], [.2, .8], [.8, .2], [.1, .9]])
    qb = np.array([[.8, .2], [.6, .4], [.3, .7], [.5, .5], [.9, .1], [.2, .8]])
    scorer = Scorer(["roc_auc"])
    cmp = compare_models({"all": np.ones(6, bool)}, golds, pa, pb, probs_a=qa, probs_b=qb,
                         scorer=scorer, n_boot=200)
    row = cmp.to_frame().iloc[0]
    # before: 0.8333, model a's AUC on the rows model b scored too
    assert row["score_a"] == pytest.approx(scorer.score(golds, pa, qa)["roc_auc"]) == 8 / 9
    assert row["score_b"] == pytest.approx(scorer.score(golds, pb, qb)["roc_auc"])
    both = pb != -1
    auc_a, auc_b, var = st.delong_paired(golds[both] == 1, qa[both, 1], qb[both, 1])
    assert row["p_value"] == pytest.approx(2 * scipy.stats.norm.sf(abs(auc_b - auc_a)
                                                                   / np.sqrt(var)))
    assert row["n_scored"] == 5


@settings(max_examples=30, deadline=None)
@given(seed=hst.integers(0, 10**6), n=hst.integers(4, 60))
def test_roc_auc_scores_equal_score_slices_of_each_model(seed, n):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, 2, n)
    golds[rng.random(n) < 0.1] = -1
    preds = [np.where(rng.random(n) < 0.2, -1, rng.integers(0, 2, n)) for _ in range(2)]
    probs = [np.column_stack([1 - p, p]) for p in (rng.random(n).round(1) for _ in range(2))]
    S = {"s": rng.random(n) < 0.6, "t": rng.random(n) < 0.3}
    scorer = Scorer(["roc_auc"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = [scorer.score_slices(S, golds, p, q) for p, q in zip(preds, probs, strict=True)]
        except ValueError:  # the overall row cannot be scored: compare_models raises too
            return
        frame = compare_models(S, golds, *preds, probs_a=probs[0], probs_b=probs[1],
                               scorer=scorer, n_boot=20).to_frame().set_index("slice")
    for name in ("overall", "s", "t"):
        for col, w in zip(("score_a", "score_b"), want, strict=True):
            got, expected = frame.loc[name, col], w[name]["roc_auc"]
            assert got == pytest.approx(expected, abs=1e-12, nan_ok=True), (name, col)
