"""Acceptance test: section 3 of Snorkel's data-slicing tutorial (slice-aware learning), with only
the import lines changed from ``snorkel`` to ``slicewidgets``, on the real data and the full
tutorial model (3916-wide MLP, 6 experts of 3916 x 3916)."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

pytestmark = [
    pytest.mark.slow,
    # the tutorial's torch.LongTensor(df["label"].values) on a read-only pandas 3 array
    pytest.mark.filterwarnings("ignore:The given NumPy array is not writable"),
]

# Published notebook (Snorkel 0.10): score_slices after Trainer(n_epochs=2, lr=1e-4).
PUBLISHED = {
    "task": 0.941704,
    "task_slice:short_comment_pred": 0.769231,
    "task_slice:keyword_please_pred": 0.977778,
    "task_slice:regex_check_out_pred": 1.0,
    "task_slice:short_link_pred": 0.5,
    "task_slice:textblob_polarity_pred": 0.8,
    "task_slice:base_pred": 0.941704,
}
# short_link has 3 test rows, all spam: F1 = 2k / (k + 3) with k of them predicted spam. The
# published 0.5 is k = 1; one prediction more or less (k = 0 or 2) gives 0.0 or 0.8. Nothing else
# (1.0, or a value no k gives) is within noise of the published run.
SHORT_LINK_F1 = {0.0, 0.5, 0.8}
# "Within noise": the test split has 250 rows (92 / 23 / 45 / 3 / 24 per slice); one prediction
# more or less moves a small slice's F1 by several points.
TOLERANCE = {
    "task": 0.02,
    "task_slice:short_comment_pred": 0.08,
    "task_slice:keyword_please_pred": 0.05,
    "task_slice:regex_check_out_pred": 0.03,
    "task_slice:textblob_polarity_pred": 0.12,
    "task_slice:base_pred": 0.02,
}


def test_section3_slice_aware_learning(spam_splits):
    torch = pytest.importorskip("torch")
    from sklearn.feature_extraction.text import CountVectorizer
    from textblob import TextBlob

    from slicewidgets.analysis import Scorer
    from slicewidgets.classification import DictDataLoader, DictDataset, Trainer
    from slicewidgets.datasets import df_to_features
    from slicewidgets.preprocess import preprocessor
    from slicewidgets.slicing import (
        PandasSFApplier,
        SliceAwareClassifier,
        SlicingFunction,
        slicing_function,
    )

    # Setup cell of the tutorial.
    SEED = 123
    random.seed(SEED)
    np.random.seed(SEED)  # noqa: NPY002 - the tutorial's code
    torch.manual_seed(SEED)

    df_train, df_test = spam_splits

    @slicing_function()
    def short_comment(x):
        return len(x.text.split()) < 5

    def keyword_lookup(x, keywords):
        return any(word in x.text.lower() for word in keywords)

    def make_keyword_sf(keywords):
        return SlicingFunction(
            name=f"keyword_{keywords[0]}", f=keyword_lookup, resources=dict(keywords=keywords)
        )

    keyword_please = make_keyword_sf(keywords=["please", "plz"])

    @slicing_function()
    def regex_check_out(x):
        return bool(re.search(r"check.*out", x.text, flags=re.I))

    @slicing_function()
    def short_link(x):
        return bool(re.search(r"\w+\.ly", x.text))

    @preprocessor(memoize=True)
    def textblob_sentiment(x):
        scores = TextBlob(x.text)
        x.polarity = scores.sentiment.polarity
        return x

    @slicing_function(pre=[textblob_sentiment])
    def textblob_polarity(x):
        return x.polarity > 0.9

    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")

    # spam/utils.py helpers
    def get_pytorch_mlp(hidden_dim, num_layers):
        layers = []
        for _ in range(num_layers):
            layers.extend([torch.nn.Linear(hidden_dim, hidden_dim), torch.nn.ReLU()])
        return torch.nn.Sequential(*layers)

    def create_dict_dataloader(X, Y, split, **kwargs):
        ds = DictDataset.from_tensors(torch.FloatTensor(X), torch.LongTensor(Y), split)
        return DictDataLoader(ds, **kwargs)

    # Section 3, as in the tutorial.
    bow_dim = X_train.shape[1]
    assert bow_dim == 3916
    hidden_dim = bow_dim
    mlp = get_pytorch_mlp(hidden_dim=hidden_dim, num_layers=2)
    sfs = [short_comment, keyword_please, regex_check_out, short_link, textblob_polarity]
    scorer = Scorer(metrics=["f1"])
    slice_model = SliceAwareClassifier(
        base_architecture=mlp,
        head_dim=hidden_dim,
        slice_names=[sf.name for sf in sfs],
        scorer=scorer,
    )
    applier = PandasSFApplier(sfs)
    S_train = applier.apply(df_train, progress_bar=False)
    S_test = applier.apply(df_test, progress_bar=False)
    in_short_link = S_test["short_link"].astype(bool)
    assert in_short_link.sum() == 3 and set(Y_test[in_short_link]) == {1}  # see SHORT_LINK_F1

    BATCH_SIZE = 64
    train_dl = create_dict_dataloader(X_train, Y_train, "train")
    train_dl_slice = slice_model.make_slice_dataloader(
        train_dl.dataset, S_train, shuffle=True, batch_size=BATCH_SIZE
    )
    test_dl = create_dict_dataloader(X_test, Y_test, "train")
    test_dl_slice = slice_model.make_slice_dataloader(
        test_dl.dataset, S_test, shuffle=False, batch_size=BATCH_SIZE
    )

    trainer = Trainer(n_epochs=2, lr=1e-4, progress_bar=True)
    trainer.fit(slice_model, [train_dl_slice])
    table = slice_model.score_slices([test_dl_slice], as_dataframe=True)

    assert table.columns.tolist() == ["label", "dataset", "split", "metric", "score"]
    assert table.label.tolist() == list(PUBLISHED)
    assert set(table.dataset) == {"SnorkelDataset"} and set(table.split) == {"train"}
    assert set(table.metric) == {"f1"}
    scores = dict(zip(table.label, table.score, strict=True))
    print("\n" + table.to_string())
    for label, published in PUBLISHED.items():
        if label in TOLERANCE:
            assert abs(scores[label] - published) <= TOLERANCE[label], (label, scores[label],
                                                                        published)
    short_link = scores["task_slice:short_link_pred"]
    assert any(short_link == pytest.approx(v) for v in SHORT_LINK_F1), short_link
    assert 0.93 <= scores["task"] <= 0.95
    assert scores["task_slice:base_pred"] == scores["task"]
    # the tutorial's training log: loss 0.5 after epoch 0, 0.257 after epoch 1
    assert [round(h["loss"], 2) for h in trainer.history] == pytest.approx([0.5, 0.26], abs=0.03)
    # the dataset given to make_slice_dataloader is not modified (Snorkel modifies it)
    assert list(train_dl.dataset.Y_dict) == ["task"]
