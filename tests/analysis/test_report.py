"""slice_report / SliceReport: per-slice scores with sizes, intervals, gaps, tests and flags."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from slicewidgets.analysis import Scorer, SliceReport, slice_report
from slicewidgets.analysis import stats as st
from slicewidgets.analysis.report import FLAGS, REPORT_COLUMNS

# -- the seed tutorial's test set ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(spam_splits):
    """The tutorial's five SFs, S on the test set, LogisticRegression predictions."""
    pytest.importorskip("textblob", reason="the 'tutorial' extra (textblob) is not installed")
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from slicewidgets.datasets import df_to_features, spam_tutorial_sfs
    from slicewidgets.slicing import PandasSFApplier
    from slicewidgets.utils import preds_to_probs

    df_train, df_test = spam_splits
    sfs = spam_tutorial_sfs()

    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")
    model = LogisticRegression(C=0.001, solver="liblinear").fit(X=X_train, y=Y_train)
    preds = model.predict(X_test)
    S = PandasSFApplier(sfs).apply(df_test, progress_bar=False)
    return dict(S=S, golds=Y_test, preds=preds, probs=preds_to_probs(preds, 2),
                proba=model.predict_proba(X_test))


SEED_NAMES = ["short_comment", "keyword_please", "regex_check_out", "short_link",
              "textblob_polarity"]


def test_seed_f1_report_shape_sizes_and_scores(seed):
    scorer = Scorer(metrics=["f1"])
    report = scorer.slice_report(seed["S"], seed["golds"], seed["preds"], seed["probs"])
    frame = report.to_frame()
    assert list(frame.columns[:10]) == list(REPORT_COLUMNS)
    assert list(frame.columns[10:]) == ["reason", "n_scored", "rest_score", "ci_method", "test"]
    assert frame["slice"].tolist() == ["overall", *SEED_NAMES]
    assert frame["n"].tolist() == [250, 92, 23, 45, 3, 24]
    # the point scores are Snorkel's (score_slices, unchanged)
    table = scorer.score_slices(seed["S"], seed["golds"], seed["preds"], seed["probs"],
                                as_dataframe=True)
    np.testing.assert_allclose(frame["score"], table["f1"].to_numpy())
    np.testing.assert_allclose(table["f1"], [0.925, 0.666667, 1.0, 1.0, 0.5, 0.727273],
                               atol=5e-7)
    np.testing.assert_allclose(frame["gap"], frame["score"] - 0.925)
    assert report.overall == {"f1": pytest.approx(0.925)}
    assert set(frame["flag"]) <= set(FLAGS)


def test_seed_short_link_is_no_evidence_with_a_reason(seed):
    report = Scorer(metrics=["f1"]).slice_report(seed["S"], seed["golds"], seed["preds"])
    row = report.to_frame().set_index("slice").loc["short_link"]
    assert row["n"] == 3 and row["score"] == pytest.approx(0.5)
    assert row["flag"] == "no-evidence"
    assert row["reason"] == "too small: rows with a positive gold or prediction = 3 < min_n=10"
    # the interval says the same thing: it spans almost everything
    assert row["ci_low"] <= 0.1 and row["ci_high"] == 1.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_seed_every_interval_contains_its_point_score(seed):
    scorer = Scorer(metrics=["accuracy", "precision", "recall", "coverage", "f1",
                             "matthews_corrcoef", "roc_auc"])
    report = scorer.slice_report(seed["S"], seed["golds"], seed["preds"], seed["proba"],
                                 n_boot=300)
    frame = report.to_frame()
    defined = frame["score"].notna()
    assert defined.sum() >= 30
    assert (frame.loc[defined, "ci_low"] <= frame.loc[defined, "score"]).all()
    assert (frame.loc[defined, "score"] <= frame.loc[defined, "ci_high"]).all()
    assert frame.loc[~defined, "flag"].eq("no-evidence").all()
    assert frame.loc[frame["slice"] == "short_link", "flag"].eq("no-evidence").all()
    # undefined metrics say why
    by = frame.set_index(["slice", "metric"])
    assert by.loc[("keyword_please", "roc_auc"), "reason"] == (
        "all golds in the slice are one class: roc_auc undefined")
    assert by.loc[("regex_check_out", "matthews_corrcoef"), "reason"].startswith(
        "golds or predictions in the slice are all one class: matthews_corrcoef undefined")
    # the defined scores are scikit-learn's
    table = scorer.score_slices(seed["S"], seed["golds"], seed["preds"], seed["proba"],
                                as_dataframe=True)
    for (name, metric), value in by["score"].items():
        if np.isfinite(value):
            assert value == pytest.approx(table.loc[name, metric]), (name, metric)


def test_seed_accuracy_intervals_and_tests_against_scipy(seed):
    golds, preds = seed["golds"], seed["preds"]
    report = Scorer(metrics=["accuracy"]).slice_report(seed["S"], golds, preds)
    frame = report.to_frame().set_index("slice")
    correct = golds == preds
    for name in SEED_NAMES:
        mask = seed["S"][name] > 0
        k, n = int(correct[mask].sum()), int(mask.sum())
        ci = scipy.stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        row = frame.loc[name]
        assert row["ci_low"] == pytest.approx(ci.low) and row["ci_high"] == pytest.approx(ci.high)
        assert row["ci_method"] == "wilson"
        k2, n2 = int(correct[~mask].sum()), int((~mask).sum())
        table = [[k, n - k], [k2, n2 - k2]]
        expected = scipy.stats.chi2_contingency(table, correction=False).expected_freq.min()
        if expected >= 5:
            ref = scipy.stats.chi2_contingency(table, correction=False).pvalue
            assert row["test"] == "two-proportion z"
        else:
            ref = scipy.stats.fisher_exact(table).pvalue
            assert row["test"] == "fisher"
        assert row["p_value"] == pytest.approx(ref, rel=1e-8)
        assert row["rest_score"] == pytest.approx(k2 / n2)
    q = st.benjamini_hochberg(frame.loc[SEED_NAMES, "p_value"].to_numpy())
    np.testing.assert_allclose(frame.loc[SEED_NAMES, "q_value"], q)


def test_seed_f1_test_is_the_proportion_test_on_tp_over_tp_fp_fn(seed):
    golds, preds = seed["golds"], seed["preds"]
    frame = Scorer(metrics=["f1"]).slice_report(seed["S"], golds, preds).to_frame()
    frame = frame.set_index("slice")
    tp_row = (golds == 1) & (preds == 1)
    involved = (golds == 1) | (preds == 1)
    for name in SEED_NAMES:
        mask = seed["S"][name] > 0
        a, n1 = int(tp_row[mask].sum()), int(involved[mask].sum())
        c, n2 = int(tp_row[~mask].sum()), int(involved[~mask].sum())
        p, _ = st.two_proportion_test(a, n1, c, n2)
        assert frame.loc[name, "p_value"] == pytest.approx(float(p))
        assert frame.loc[name, "n_scored"] == n1
        # and J = a / n1 maps to the slice's F1 (F1 = 2J / (1 + J))
        J = a / n1
        assert frame.loc[name, "score"] == pytest.approx(2 * J / (1 + J))


def test_score_slices_keeps_snorkels_output(seed):
    scorer = Scorer(metrics=["f1"])
    before = scorer.score_slices(seed["S"], seed["golds"], seed["preds"], as_dataframe=True)
    scorer.slice_report(seed["S"], seed["golds"], seed["preds"])
    after = scorer.score_slices(seed["S"], seed["golds"], seed["preds"], as_dataframe=True)
    pd.testing.assert_frame_equal(before, after)
    assert list(after.columns) == ["f1"]


# -- synthetic data ------------------------------------------------------------------------------


def _synthetic(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, 2, n)
    bad = np.arange(n) < 300  # the model is bad on the first 300 rows
    flip = np.where(bad, rng.random(n) < 0.45, rng.random(n) < 0.08)
    preds = np.where(flip, 1 - golds, golds)
    S = {"bad": bad, "random": rng.random(n) < 0.3, "good": np.arange(n) >= 1500}
    return S, golds, preds


def test_flags_worse_better_ok():
    S, golds, preds = _synthetic()
    frame = slice_report(Scorer(["accuracy", "f1"]), S, golds, preds).to_frame()
    flags = dict(zip(zip(frame["slice"], frame["metric"], strict=True), frame["flag"], strict=True))
    assert flags[("bad", "accuracy")] == "worse"
    assert flags[("bad", "f1")] == "worse"
    assert flags[("good", "accuracy")] == "better"
    assert flags[("random", "accuracy")] == "ok"
    reason = frame.set_index(["slice", "metric"]).loc[("bad", "accuracy"), "reason"]
    assert reason.startswith("below the rest (q=<0.001 < alpha=0.05, two-proportion z)")
    assert frame.loc[frame["slice"] == "overall", "reason"].eq("reference: all rows").all()


def test_flag_rules_min_n_max_width_alpha():
    S, golds, preds = _synthetic()
    frame = slice_report(None, S, golds, preds, min_n=400).to_frame().set_index("slice")
    assert frame.loc["bad", "flag"] == "no-evidence"
    assert frame.loc["bad", "reason"] == "too small: scored rows = 300 < min_n=400"
    frame = slice_report(None, S, golds, preds, max_width=0.01).to_frame().set_index("slice")
    assert frame.loc["bad", "flag"] == "no-evidence"
    assert re.fullmatch(r"interval too wide: 95% interval spans 0\.\d\d > max_width=0\.01",
                        frame.loc["bad", "reason"])
    frame = slice_report(None, S, golds, preds, alpha=1e-300).to_frame().set_index("slice")
    assert frame.loc["bad", "flag"] == "ok"


def test_confidence_changes_interval_width():
    S, golds, preds = _synthetic()
    narrow = slice_report(None, S, golds, preds, confidence=0.5).to_frame()
    wide = slice_report(None, S, golds, preds, confidence=0.99).to_frame()
    assert ((wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])).all()


def test_bootstrap_is_seeded_and_reproducible():
    S, golds, preds = _synthetic()
    scorer = Scorer(["f1"])
    a = scorer.slice_report(S, golds, preds).to_frame()
    b = scorer.slice_report(S, golds, preds).to_frame()
    pd.testing.assert_frame_equal(a, b)  # None: a fixed seed
    c = scorer.slice_report(S, golds, preds, random_state=1).to_frame()
    d = scorer.slice_report(S, golds, preds, random_state=1).to_frame()
    pd.testing.assert_frame_equal(c, d)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    e = scorer.slice_report(S, golds, preds, random_state=np.random.default_rng(1)).to_frame()
    pd.testing.assert_frame_equal(c, e)
    assert (c["ci_method"] == "bootstrap (counts)").all()


def test_interval_coverage_by_simulation_through_slice_report():
    # disjoint slices of 250 rows, each an independent sample from the same process: the
    # share of slices whose interval holds the true value is the coverage (8 data sets of
    # 100 slices: 800 intervals per metric)
    rng = np.random.default_rng(99)
    k, m = 100, 250
    probs = np.array([0.28, 0.07, 0.05, 0.60])  # tp, fp, fn, tn
    truth = {"accuracy": probs[0] + probs[3],
             "f1": 2 * probs[0] / (2 * probs[0] + probs[1] + probs[2])}
    block = np.repeat(np.arange(k), m)
    S = {f"s{j}": block == j for j in range(k)}
    covered = {metric: [] for metric in truth}
    for run in range(8):
        cell = rng.choice(4, size=k * m, p=probs)
        golds = np.isin(cell, [0, 2]).astype(int)
        preds = np.isin(cell, [0, 1]).astype(int)
        frame = Scorer(["accuracy", "f1"]).slice_report(
            S, golds, preds, random_state=run).to_frame(include_overall=False)
        for metric, value in truth.items():
            rows = frame[frame["metric"] == metric]
            covered[metric].extend((rows["ci_low"] <= value) & (value <= rows["ci_high"]))
    for metric, hits in covered.items():
        assert len(hits) == 800
        assert abs(np.mean(hits) - 0.95) < 0.03, (metric, np.mean(hits))


def test_roc_auc_bootstrap_coverage_by_simulation():
    rng = np.random.default_rng(5)
    k, m = 60, 120
    block = np.repeat(np.arange(k), m)
    S = {f"s{j}": block == j for j in range(k)}
    truth = scipy.stats.norm.cdf(1.2 / np.sqrt(2))  # AUC of N(1.2, 1) vs N(0, 1)
    hits = []
    for _ in range(5):
        golds = rng.integers(0, 2, k * m)
        scores = rng.normal(size=k * m) + 1.2 * golds
        probs = 1 / (1 + np.exp(-scores))
        rows = Scorer(["roc_auc"]).slice_report(S, golds, None, np.c_[1 - probs, probs],
                                                n_boot=400).to_frame(include_overall=False)
        assert (rows["ci_method"] == "bootstrap (rows)").all()
        hits.extend((rows["ci_low"] <= truth) & (truth <= rows["ci_high"]))
    assert abs(np.mean(hits) - 0.95) < 0.03, np.mean(hits)


# -- undefined and degenerate slices -------------------------------------------------------------


def test_slices_of_size_zero_and_one_are_reported():
    golds = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0] * 5)
    preds = golds.copy()
    preds[:5] = 1 - preds[:5]
    S = {"empty": np.zeros(50, dtype=bool), "one": np.arange(50) == 7}
    frame = slice_report(Scorer(["accuracy", "f1", "roc_auc"]), S, golds, preds,
                         np.c_[1 - preds, preds].astype(float)).to_frame()
    by = frame.set_index(["slice", "metric"])
    for metric in ("accuracy", "f1", "roc_auc"):
        row = by.loc[("empty", metric)]
        assert row["n"] == 0 and np.isnan(row["score"]) and row["flag"] == "no-evidence"
        assert row["reason"] == "empty slice: no rows"
    one = by.loc[("one", "accuracy")]
    assert one["n"] == 1 and one["score"] == 1.0 and one["flag"] == "no-evidence"
    assert one["reason"] == "too small: scored rows = 1 < min_n=10"
    assert one["ci_low"] == pytest.approx(0.2065, abs=1e-4) and one["ci_high"] == 1.0
    assert by.loc[("one", "roc_auc"), "reason"] == (
        "all golds in the slice are one class: roc_auc undefined")


def test_all_one_class_slices_give_nan_with_reason():
    golds = np.array([0] * 40 + [1] * 60)
    preds = np.array([0] * 35 + [1] * 5 + [1] * 50 + [0] * 10)
    S = {"negatives": golds == 0, "predicted_negative": preds == 0}
    frame = slice_report(Scorer(["precision", "recall", "f1", "matthews_corrcoef"]), S, golds,
                         preds).to_frame().set_index(["slice", "metric"])
    row = frame.loc[("negatives", "recall")]
    assert np.isnan(row["score"]) and row["flag"] == "no-evidence"
    assert row["reason"] == ("no positive golds in the slice: recall undefined "
                             "(scikit-learn reports 0.0)")
    assert frame.loc[("predicted_negative", "precision"), "reason"] == (
        "no positive predictions in the slice: precision undefined (scikit-learn reports 0.0)")
    assert np.isnan(frame.loc[("negatives", "matthews_corrcoef"), "score"])
    # defined where it should be
    assert frame.loc[("negatives", "precision"), "score"] == 0.0


def test_abstains_and_coverage():
    golds = np.array([1, 0, 1, 0] * 25)
    preds = golds.copy()
    preds[::5] = -1
    S = {"half": np.arange(100) < 50}
    frame = slice_report(Scorer(["accuracy", "coverage"]), S, golds, preds).to_frame()
    by = frame.set_index(["slice", "metric"])
    assert by.loc[("overall", "coverage"), "score"] == 0.8
    assert by.loc[("overall", "accuracy"), "n_scored"] == 80
    assert by.loc[("half", "accuracy"), "score"] == 1.0
    assert by.loc[("half", "coverage"), "n_scored"] == 50


def test_multiclass_accuracy_and_custom_metrics():
    rng = np.random.default_rng(0)
    golds = rng.integers(0, 3, 300)
    preds = np.where(rng.random(300) < 0.7, golds, rng.integers(0, 3, 300))
    S = {"first": np.arange(300) < 100}
    scorer = Scorer(["accuracy", "f1_macro"],
                    custom_metric_funcs={"my_acc": lambda g, p, _: float(np.mean(g == p))})
    frame = scorer.slice_report(S, golds, preds, n_boot=20).to_frame().set_index(
        ["slice", "metric"])
    acc = frame.loc[("first", "accuracy")]
    assert frame.loc[("first", "my_acc"), "score"] == pytest.approx(acc["score"])
    assert frame.loc[("first", "my_acc"), "ci_method"] == "bootstrap (rows)"
    assert frame.loc[("first", "my_acc"), "test"] == "bootstrap z"
    for metric in ("my_acc", "f1_macro"):
        row = frame.loc[("first", metric)]
        assert row["ci_low"] <= row["score"] <= row["ci_high"]
    with pytest.raises(ValueError, match="f1 not supported for multiclass"):
        Scorer(["f1"]).slice_report(S, golds, preds)


def test_dict_valued_custom_metric_gives_one_row_per_key():
    golds = np.array([1, 0] * 30)
    preds = golds.copy()
    preds[:6] = 1 - preds[:6]

    def two(g, p, _):
        return {"acc": float(np.mean(g == p)), "err": float(np.mean(g != p))}

    report = Scorer([], custom_metric_funcs={"two": two}).slice_report(
        {"head": np.arange(60) < 20}, golds, preds, n_boot=30)
    assert report.metrics == ["acc", "err"]
    frame = report.to_frame().set_index(["slice", "metric"])
    assert frame.loc[("head", "err"), "score"] == pytest.approx(0.3)


def test_a_slice_named_overall_is_not_the_reference():
    golds = np.array([1, 0] * 20)
    report = slice_report(None, {"overall": np.arange(40) < 10}, golds, golds)
    frame = report.to_frame()
    assert frame["slice"].tolist() == ["overall", "overall"]
    assert frame["reason"].tolist()[0] == "reference: all rows"
    assert report.slices == ["overall"]
    assert len(report.to_frame(include_overall=False)) == 1


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError) as err:
        Scorer().slice_report({"a": [1, 0]}, [1, 0], [1, 0], confidence=confidence)
    assert str(err.value) == (
        f"confidence must be a number strictly between 0 and 1, got {confidence!r}; use e.g. "
        "confidence=0.95 for 95% intervals."
    )


@pytest.mark.parametrize("n_boot", [0, -1, 10.0])
def test_bad_n_boot(n_boot):
    with pytest.raises(ValueError, match=re.escape(
            f"n_boot must be an integer >= 1, got {n_boot!r}; use e.g. n_boot=1000")):
        Scorer().slice_report({"a": [1, 0]}, [1, 0], [1, 0], n_boot=n_boot)


def test_bad_options():
    args = ({"a": [1, 0]}, [1, 0], [1, 0])
    with pytest.raises(ValueError, match=r"alpha must be a number strictly between 0 and 1, "
                                         r"got 0; use e.g. alpha=0.05"):
        slice_report(None, *args, alpha=0)
    with pytest.raises(ValueError, match=r"min_n must be an integer >= 0, got -1"):
        slice_report(None, *args, min_n=-1)
    with pytest.raises(ValueError, match=r"max_width must be a positive number, got 0"):
        slice_report(None, *args, max_width=0)
    with pytest.raises(TypeError, match=r"random_state must be None, an int or a numpy "
                                        r"Generator, got 'x'"):
        slice_report(None, *args, random_state="x")


def test_mismatched_lengths_and_missing_inputs():
    with pytest.raises(ValueError) as err:
        Scorer().slice_report({"a": np.ones(10)}, np.ones(10), np.ones(9))
    assert str(err.value) == (
        "S, golds, and preds must have the same number of elements: S has 10, golds has 10, "
        "preds has 9. Compute them on the same rows."
    )
    with pytest.raises(ValueError, match="S, golds, and preds must have the same number"):
        Scorer().slice_report({"a": np.ones(8)}, np.ones(10), np.ones(10))
    with pytest.raises(ValueError, match="Cannot score empty labels"):
        Scorer().slice_report({"a": []}, [], [])
    with pytest.raises(ValueError, match=r"^Metric f1 requires access to preds\.$"):
        Scorer(["f1"]).slice_report({"a": [1, 0]}, [1, 0], None, [[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match=r"^Metric roc_auc requires access to probs\.$"):
        Scorer(["roc_auc"]).slice_report({"a": [1, 0]}, [1, 0], [1, 0])


# -- the result object ---------------------------------------------------------------------------


@pytest.fixture()
def report():
    S, golds, preds = _synthetic()
    S["tiny"] = np.arange(2000) < 4
    return Scorer(["accuracy", "f1"]).slice_report(S, golds, preds)


def test_report_is_immutable_and_to_frame_is_a_copy(report):
    with pytest.raises(AttributeError, match="SliceReport is immutable"):
        report.confidence = 0.5
    frame = report.to_frame()
    frame.loc[0, "score"] = -1.0
    assert report.to_frame().loc[0, "score"] != -1.0
    assert isinstance(report, SliceReport)
    assert report.confidence == 0.95 and report.n_boot == 1000 and report.alpha == 0.05
    assert report.min_n == 10 and report.max_width == 0.5 and report.random_state is None
    assert report.metrics == ["accuracy", "f1"]
    assert report.slices == ["bad", "random", "good", "tiny"]
    assert len(report) == 10


def test_sorted_by_gap_worst_and_flagged(report):
    frame = report.sorted().to_frame()
    assert frame["slice"].tolist()[:2] == ["overall", "overall"]
    for metric in ("accuracy", "f1"):
        gaps = frame.loc[(frame["metric"] == metric) & (frame["slice"] != "overall"), "gap"]
        assert gaps.is_monotonic_increasing
    assert report.sort_by_gap(ascending=False).to_frame(include_overall=False,
                                                        metric="f1")["gap"].is_monotonic_decreasing
    worst = report.worst(2).to_frame()
    acc = report.to_frame(include_overall=False, metric="accuracy")
    assert worst["slice"].tolist() == ["overall", *acc.nsmallest(2, "gap")["slice"]]
    assert "bad" in worst["slice"].tolist()
    assert set(worst["metric"]) == {"accuracy"}
    assert report.worst(1, metric="f1").to_frame(include_overall=False)["slice"].tolist() == [
        "bad"]
    skipped = report.worst(10, skip_no_evidence=True).to_frame(include_overall=False)
    assert "tiny" not in skipped["slice"].tolist()
    assert report.flagged().to_frame(include_overall=False)["flag"].isin(
        ["worse", "better"]).all()
    with pytest.raises(ValueError, match=r"k must be an integer >= 0, got -1"):
        report.worst(-1)
    with pytest.raises(ValueError, match=r"Unknown metric 'auc'; this report has "
                                         r"\['accuracy', 'f1'\]"):
        report.worst(3, metric="auc")
    with pytest.raises(ValueError, match=r"Cannot sort by 'nope'"):
        report.sorted("nope")
    with pytest.raises(ValueError, match=r"Unknown flags \['bad'\]"):
        report.flagged("bad")


def test_html_rendering_escapes_and_colours():
    golds = np.array([1, 0] * 50)
    preds = np.where(np.arange(100) < 40, 1 - golds, golds)
    S = {"<script>x</script>": np.arange(100) < 40, "tiny & small": np.arange(100) < 3}
    report = slice_report(None, S, golds, preds)
    html_text = report._repr_html_()
    assert "<script>x</script>" not in html_text
    assert "&lt;script&gt;x&lt;/script&gt;" in html_text
    assert "tiny &amp; small" in html_text
    assert 'class="sw-flag-worse"' in html_text
    assert 'class="sw-flag-no-evidence"' in html_text
    assert "sw-overall" in html_text and "<style>" in html_text
    assert 'title="too small: scored rows = 3 &lt; min_n=10"' in html_text
    # sorted by gap: the worse slice comes before the tiny one, overall first
    assert html_text.index("sw-overall") < html_text.index("&lt;script&gt;")
    bare = report.to_html(css=False, columns=["slice", "score", "flag"], sort=None)
    assert "<style>" not in bare and "<th>n</th>" not in bare
    assert bare.count("<tr") == 1 + 3
    with pytest.raises(ValueError, match=r"Unknown display columns \['wat'\]"):
        report.to_html(columns=["wat"])


def test_text_repr(report):
    text = repr(report)
    first, header = text.splitlines()[:2]
    assert first.startswith("SliceReport: accuracy, f1 on 4 slices; 95% intervals; flags at "
                            "q < 0.05 (Benjamini-Hochberg)")
    assert header.split()[:6] == ["slice", "n", "metric", "score", "interval", "gap"]
    assert "no-evidence" in text and "too small: scored rows = 4 < min_n=10" in text


def _mae(golds, preds, probs):  # a custom metric: the row bootstrap path
    return float(np.mean(np.abs(golds - probs[:, 1])))


@pytest.mark.parametrize("metrics", [["f1"], ["f1", "matthews_corrcoef"], ["roc_auc"],
                                     ["mae"]])
def test_an_interval_depends_only_on_its_own_slice(metrics):
    # the live table: adding, removing or reordering other slices never moves an interval
    S, golds, preds = _synthetic()
    rng = np.random.default_rng(5)
    probs = np.clip(np.where(preds == 1, 0.7, 0.3) + rng.normal(0, 0.15, len(golds)), 0, 1)
    probs = np.stack([1 - probs, probs], axis=1)
    scorer = (Scorer(custom_metric_funcs={"mae": _mae}) if metrics == ["mae"]
              else Scorer(metrics))
    cols = ["slice", "metric", "ci_low", "ci_high"]

    def intervals(slices):
        frame = scorer.slice_report(slices, golds, preds, probs, n_boot=200).to_frame()
        return frame[cols].set_index(["slice", "metric"])

    before = intervals(S)
    more = dict(S, extra=np.arange(len(golds)) % 3 == 0, other=rng.random(len(golds)) < 0.5)
    after = intervals(dict(reversed(list(more.items()))))  # new slices, another order
    fewer = intervals({"good": S["good"]})
    pd.testing.assert_frame_equal(after.loc[before.index], before)
    pd.testing.assert_frame_equal(fewer.loc[["overall", "good"]],
                                  before.loc[["overall", "good"]])
    # the same rows under another name: the same interval
    renamed = intervals({"copy_of_bad": S["bad"]})
    assert np.allclose(renamed.loc["copy_of_bad"].to_numpy(),
                       before.loc["bad"].to_numpy())
    # and the intervals are real bootstrap draws: another seed moves them
    other = scorer.slice_report(S, golds, preds, probs, n_boot=200,
                                random_state=7).to_frame()[cols].set_index(["slice", "metric"])
    assert not np.allclose(other["ci_low"], before["ci_low"])


def test_a_generator_gives_fresh_draws_each_report():
    S, golds, preds = _synthetic()
    scorer = Scorer(["f1"])
    gen = np.random.default_rng(3)
    a = scorer.slice_report(S, golds, preds, random_state=gen).to_frame()
    b = scorer.slice_report(S, golds, preds, random_state=gen).to_frame()
    assert not np.allclose(a["ci_low"], b["ci_low"])


def test_a_refresh_redraws_only_the_slices_whose_counts_changed(monkeypatch):
    # the live table: resamples are a pure function of (seed, counts), kept between reports
    from slicewidgets.analysis import estimators

    rng = np.random.default_rng(11)
    n = 2000
    golds = rng.integers(0, 2, n)
    preds = np.where(rng.random(n) < 0.8, golds, 1 - golds)
    S = {f"s{j}": rng.random(n) < 0.2 + 0.05 * j for j in range(6)}
    scorer = Scorer(["accuracy", "f1"])
    estimators._RESAMPLES.clear()
    fresh = scorer.slice_report(S, golds, preds, random_state=4).to_frame()
    drawn = []
    real = st.multinomial_resample

    def counting(counts, n_boot, gen):
        drawn.append(np.asarray(counts).tolist())
        return real(counts, n_boot, gen)

    monkeypatch.setattr(st, "multinomial_resample", counting)
    edited = dict(S, s2=rng.random(n) < 0.5)  # one slice edited
    again = scorer.slice_report(edited, golds, preds, random_state=4).to_frame()
    assert len(drawn) == 1  # only the edited slice was drawn again
    same = again["slice"] != "s2"
    cols = ["slice", "metric", "n", "score", "ci_low", "ci_high", "p_value"]
    pd.testing.assert_frame_equal(again.loc[same, cols].reset_index(drop=True),
                                  fresh.loc[same, cols].reset_index(drop=True))
    assert not np.allclose(again.loc[~same, "ci_low"], fresh.loc[~same, "ci_low"])
    # and a cached draw equals a fresh one: clear the cache and compare
    estimators._RESAMPLES.clear()
    monkeypatch.setattr(st, "multinomial_resample", real)
    pd.testing.assert_frame_equal(
        scorer.slice_report(edited, golds, preds, random_state=4).to_frame(), again)
