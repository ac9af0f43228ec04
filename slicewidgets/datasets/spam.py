"""The YouTube Spam Collection, split exactly as in Snorkel's spam tutorials.

The data set (UCI dataset 380, CC BY 4.0) has 1,956 YouTube comments from five music videos, each
labelled spam (1) or ham (0). :func:`load_spam_dataset` reproduces the splits of Snorkel's
``spam/utils.py`` bit for bit (including its quirks), so the tutorial's published numbers can be
reproduced.

Where the files come from (a local folder, the cache or a checksum-verified download) is the job of
:mod:`slicewidgets.datasets._download`; the tutorial's featurizer and SFs live in
:mod:`slicewidgets.datasets.tutorial`. Their names stay importable from here as before.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from slicewidgets.datasets._download import (
    CACHE_DIR_ENV,  # noqa: F401 -- importable from here, as before the split
    DATA_DIR_ENV,  # noqa: F401
    SPAM_DATASET_PAGE,
    SPAM_FILENAMES,
    SPAM_SHA256,
    SPAM_SIZES,
    SPAM_URLS,
    SpamChecksumError,
    SpamDataUnavailableError,
    SpamDownloadError,
    download_spam_dataset,
    spam_cache_dir,
    spam_data_dir,
    verify_bytes,
)
from slicewidgets.datasets.tutorial import df_to_features, spam_tutorial_sfs

__all__ = [
    "SPAM_FILENAMES",
    "SPAM_SHA256",
    "SPAM_SIZES",
    "SPAM_URLS",
    "SPAM_DATASET_PAGE",
    "SpamDataUnavailableError",
    "SpamChecksumError",
    "SpamDownloadError",
    "spam_data_dir",
    "spam_cache_dir",
    "download_spam_dataset",
    "load_spam_dataset",
    "df_to_features",
    "spam_tutorial_sfs",
]

_SEED = 123


def _read_video(path: Path, video: int, verify: bool) -> pd.DataFrame:
    data = path.read_bytes()
    if verify:  # parse exactly the bytes that were verified
        verify_bytes(data, path.name, where=str(path.parent))
    df = pd.read_csv(io.BytesIO(data))
    df.columns = map(str.lower, df.columns)
    df = df.drop("comment_id", axis=1)
    df["video"] = [video] * len(df)
    df = df.rename(columns={"class": "label", "content": "text"})
    return df.sample(frac=1, random_state=_SEED).reset_index(drop=True)


def load_spam_dataset(
    load_train_labels: bool = False,
    split_dev_valid: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> tuple[pd.DataFrame, ...]:
    """Load the YouTube spam data with exactly the splits of Snorkel's spam tutorials.

    Same procedure as ``spam/utils.py::load_spam_dataset``: each file is read, its columns
    lowercased, ``comment_id`` dropped, ``video`` (1..5 in file order) added, ``class`` renamed to
    ``label`` and ``content`` to ``text``, then shuffled with
    ``df.sample(frac=1, random_state=123).reset_index(drop=True)``. The four first videos make up
    the train split (1,586 rows; concatenated **without** resetting the index, so index values
    repeat); the Shakira video is split into valid (120) and test (250) rows by
    ``train_test_split(test_size=250, random_state=123, stratify=label)``.

    Parameters
    ----------
    load_train_labels
        Keep the true labels of ``df_train``. If ``False`` (Snorkel's default) every train label is
        replaced by ``-1.0``; like Snorkel, the column then has **float** dtype.
    split_dev_valid
        Also return ``df_dev`` (100 rows sampled from the train split with ``random_state=123``,
        with true labels) and ``df_valid``.
    data_dir
        Folder with the five ``Youtube0*.csv`` files. If ``None`` (or the files are not there),
        ``$SLICEWIDGETS_DATA_DIR``, then the cache, then a download are tried; see
        :func:`spam_data_dir`.
    download
        Allow downloading the official zip into the cache if no local copy is found.
    verify
        Check each local file against the SHA-256 of the original UCI file.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(df_train, df_test)``, or ``(df_train, df_dev, df_valid, df_test)`` if
        ``split_dev_valid``. Columns ``author, date, text, label, video``. Texts keep the original
        quirks (most end with U+FEFF; Eminem spam rows have no date).

    Raises
    ------
    SpamDataUnavailableError
        (a :class:`FileNotFoundError`) if the files are nowhere to be found and cannot be
        downloaded; the message says where it looked and how to point at a local copy.
    SpamChecksumError
        (a :class:`ValueError`) if a local file is not the original (see ``verify``).

    See Also
    --------
    df_to_features : bag-of-words features for these frames.

    Examples
    --------
    >>> df_train, df_test = load_spam_dataset(load_train_labels=True)  # doctest: +SKIP
    >>> len(df_train), len(df_test)  # doctest: +SKIP
    (1586, 250)
    >>> df_train, df_dev, df_valid, df_test = load_spam_dataset(
    ...     split_dev_valid=True, data_dir="/path/to/youtube-spam")  # doctest: +SKIP
    >>> len(df_dev), len(df_valid), df_train["label"].unique()  # doctest: +SKIP
    (100, 120, array([-1.]))
    """
    from sklearn.model_selection import train_test_split

    folder = spam_data_dir(data_dir, download=download, verify=verify)
    dfs = [_read_video(folder / name, i, verify) for i, name in enumerate(SPAM_FILENAMES, start=1)]

    df_train = pd.concat(dfs[:4])
    df_dev = df_train.sample(100, random_state=_SEED)

    if not load_train_labels:
        df_train["label"] = np.ones(len(df_train["label"])) * -1
    df_valid, df_test = train_test_split(
        dfs[4], test_size=250, random_state=_SEED, stratify=dfs[4].label
    )

    if split_dev_valid:
        return df_train, df_dev, df_valid, df_test
    return df_train, df_test
