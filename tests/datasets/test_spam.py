"""Tests for slicewidgets.datasets.spam (never touch the network).

Tests that need the real CSV files read ``SLICEWIDGETS_DATA_DIR`` and are skipped when it is unset
or the folder it names lacks the files (under ``CI=true`` such a skip fails: see tests/conftest.py).
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from slicewidgets.datasets import spam
from slicewidgets.datasets.spam import (
    SPAM_FILENAMES,
    SPAM_SHA256,
    SPAM_URLS,
    SpamChecksumError,
    SpamDataUnavailableError,
    SpamDownloadError,
    df_to_features,
    download_spam_dataset,
    load_spam_dataset,
    spam_cache_dir,
    spam_data_dir,
)

_ENV_DIR = os.environ.get("SLICEWIDGETS_DATA_DIR", "")
REAL_DIR = _ENV_DIR if _ENV_DIR and all(Path(_ENV_DIR, n).is_file() for n in SPAM_FILENAMES) else ""
NO_DATA = ("the YouTube spam CSVs are not available: set SLICEWIDGETS_DATA_DIR to a folder with "
           f"the five Youtube0*.csv files (now: {_ENV_DIR or 'unset'})")
needs_data = pytest.mark.skipif(not REAL_DIR, reason=NO_DATA)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No network, an empty private cache, no SLICEWIDGETS_DATA_DIR. Returns the URLs opened."""
    opened: list[str] = []

    def offline(request, *args, **kwargs):
        opened.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("network disabled in tests")

    def offline_get(url, *args, **kwargs):  # downloads go through pooch -> requests
        opened.append(url)
        raise requests.ConnectionError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setattr(requests, "get", offline_get)
    monkeypatch.setenv("SLICEWIDGETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SLICEWIDGETS_DATA_DIR", raising=False)
    return opened


@pytest.fixture
def real_dir() -> Path:
    if not REAL_DIR:
        pytest.skip(NO_DATA)
    return Path(REAL_DIR)


@pytest.fixture(scope="module")
def splits() -> tuple[pd.DataFrame, ...]:
    if not REAL_DIR:
        pytest.skip(NO_DATA)
    return load_spam_dataset(load_train_labels=True, split_dev_valid=True, data_dir=REAL_DIR)


def _copy_real(real_dir: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in SPAM_FILENAMES:
        shutil.copyfile(real_dir / name, dest / name)
    return dest


def _zip_bytes(real_dir: Path, tamper: str | None = None, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in SPAM_FILENAMES:
            data = (real_dir / name).read_bytes()
            if name == tamper:
                data = data.replace(b"Check out", b"CHECK OUT", 1)
            zf.writestr(prefix + name, data)
            zf.writestr(f"__MACOSX/{prefix}._{name}", b"\x00\x05\x16\x07mac resource fork")
    return buf.getvalue()


def _serve(monkeypatch: pytest.MonkeyPatch, payloads: dict[str, bytes]) -> list[str]:
    """Make HTTP GETs (pooch -> requests) serve ``payloads`` (url -> bytes); other URLs fail.

    Returns the URLs opened."""
    opened: list[str] = []

    def fake_get(url, timeout=None, **kwargs):
        opened.append(url)
        assert timeout is not None and timeout > 0
        if url not in payloads:
            raise requests.ConnectionError(f"no route to {url}")
        response = requests.Response()
        response.status_code, response.url = 200, url
        response.raw = io.BytesIO(payloads[url])
        response.headers["content-length"] = str(len(payloads[url]))
        return response

    monkeypatch.setattr(requests, "get", fake_get)
    return opened


def _reference_tutorial(folder: Path, load_train_labels: bool, split_dev_valid: bool):
    """Snorkel's spam/utils.py::load_spam_dataset, verbatim apart from the folder."""
    from sklearn.model_selection import train_test_split

    filenames = sorted(glob.glob(str(folder / "Youtube*.csv")))
    dfs = []
    for i, filename in enumerate(filenames, start=1):
        df = pd.read_csv(filename)
        df.columns = map(str.lower, df.columns)
        df = df.drop("comment_id", axis=1)
        df["video"] = [i] * len(df)
        df = df.rename(columns={"class": "label", "content": "text"})
        df = df.sample(frac=1, random_state=123).reset_index(drop=True)
        dfs.append(df)
    df_train = pd.concat(dfs[:4])
    df_dev = df_train.sample(100, random_state=123)
    if not load_train_labels:
        df_train["label"] = np.ones(len(df_train["label"])) * -1
    df_valid, df_test = train_test_split(
        dfs[4], test_size=250, random_state=123, stratify=dfs[4].label
    )
    if split_dev_valid:
        return df_train, df_dev, df_valid, df_test
    return df_train, df_test


# ------------------------------------------------------------------------------------------
# constants and import
# ------------------------------------------------------------------------------------------


def test_constants() -> None:
    assert list(SPAM_FILENAMES) == sorted(SPAM_FILENAMES)
    assert len(SPAM_FILENAMES) == 5 and set(SPAM_SHA256) == set(SPAM_FILENAMES)
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in SPAM_SHA256.values())
    assert SPAM_SHA256["Youtube03-LMFAO.csv"].startswith("702ef589")
    assert SPAM_URLS[0].startswith("https://archive.ics.uci.edu/static/public/380/")
    assert SPAM_URLS[1].endswith("/00380/YouTube-Spam-Collection-v1.zip")


def test_import_does_not_touch_network(_isolated: list[str], monkeypatch) -> None:
    import importlib.util
    import socket

    def no_socket(*args, **kwargs):
        raise AssertionError("network access at import time")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    from slicewidgets.datasets import _download, tutorial

    for source in (spam, _download, tutorial):
        spec = importlib.util.spec_from_file_location("_fresh_copy", source.__file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    assert spam.SPAM_FILENAMES == SPAM_FILENAMES
    assert _isolated == []


@needs_data
def test_checksums_match_real_files(real_dir: Path) -> None:
    for name in SPAM_FILENAMES:
        assert hashlib.sha256((real_dir / name).read_bytes()).hexdigest() == SPAM_SHA256[name]


# ------------------------------------------------------------------------------------------
# the splits
# ------------------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("load_train_labels", [False, True])
@pytest.mark.parametrize("split_dev_valid", [False, True])
def test_identical_to_tutorial_procedure(
    real_dir: Path, load_train_labels: bool, split_dev_valid: bool
) -> None:
    ours = load_spam_dataset(load_train_labels, split_dev_valid, data_dir=real_dir)
    ref = _reference_tutorial(real_dir, load_train_labels, split_dev_valid)
    assert len(ours) == len(ref) == (4 if split_dev_valid else 2)
    for got, want in zip(ours, ref, strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_split_sizes_and_columns(splits) -> None:
    df_train, df_dev, df_valid, df_test = splits
    assert (len(df_train), len(df_dev), len(df_valid), len(df_test)) == (1586, 100, 120, 250)
    for df in splits:
        assert list(df.columns) == ["author", "date", "text", "label", "video"]
    assert sorted(df_train["video"].unique()) == [1, 2, 3, 4]
    assert set(df_valid["video"]) == set(df_test["video"]) == {5}
    assert df_test["label"].value_counts().to_dict() == {0: 132, 1: 118}
    assert df_train["label"].value_counts().to_dict() == {1: 831, 0: 755}
    assert df_train.groupby("video").size().tolist() == [350, 350, 438, 448]


def test_train_index_not_reset(splits) -> None:
    df_train = splits[0]
    assert not df_train.index.is_unique
    assert df_train.index.duplicated().sum() == 1586 - 448
    assert df_train.index.max() == 447
    assert (df_train.index[:3] == [0, 1, 2]).all() and (df_train.index[350:352] == [0, 1]).all()


def test_pinned_values(splits) -> None:
    df_train, df_dev, df_valid, df_test = splits
    assert df_test.index[:10].tolist() == [27, 194, 277, 132, 163, 2, 326, 334, 249, 262]
    assert df_valid.index[:5].tolist() == [298, 105, 70, 156, 73]
    assert df_dev.index[:5].tolist() == [84, 332, 276, 10, 343]
    # U+FEFF endings are kept as in the original files
    assert df_test.loc[27, "text"] == "Check out this video on YouTube:\ufeff"
    assert df_test.loc[27, "label"] == 1
    assert df_test.loc[194, "text"] == "super music\ufeff"
    assert df_test.loc[194, "author"] == "MOHAMED THASLEEM"
    assert df_test.loc[194, "label"] == 0
    assert df_dev.iloc[0]["text"] == "Party Rock<br />\ufeff"
    assert df_train.iloc[0]["text"].startswith("pls http://www10.vakinha.com.br/")


def test_unlabelled_train_is_float_minus_one(real_dir: Path) -> None:
    df_train, df_dev, df_valid, df_test = load_spam_dataset(split_dev_valid=True, data_dir=real_dir)
    assert df_train["label"].dtype == np.float64  # Snorkel's behaviour, kept on purpose
    assert (df_train["label"] == -1).all()
    # dev is sampled before the labels are dropped; valid/test keep theirs
    assert set(df_dev["label"]) == {0, 1} and df_dev["label"].dtype == np.int64
    assert df_test["label"].dtype == np.int64


def test_df_to_features(splits) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    df_train, _, _, df_test = splits
    vectorizer = CountVectorizer(ngram_range=(1, 1))
    X_train, Y_train = df_to_features(vectorizer, df_train, "train")
    X_test, Y_test = df_to_features(vectorizer, df_test, "test")
    assert type(X_train) is np.ndarray and type(X_test) is np.ndarray
    assert X_train.shape == (1586, 3916) and X_test.shape == (250, 3916)
    np.testing.assert_array_equal(Y_train, df_train["label"].to_numpy())
    np.testing.assert_array_equal(Y_test, df_test["label"].to_numpy())
    assert int(X_train.sum()) == 23956 and int(X_test.sum()) == 4242


def test_df_to_features_missing_column() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    with pytest.raises(KeyError, match="missing \\['text'\\]"):
        df_to_features(CountVectorizer(), pd.DataFrame({"label": [0]}), "train")


# ------------------------------------------------------------------------------------------
# where the files come from
# ------------------------------------------------------------------------------------------


def test_data_dir_argument_first(real_dir: Path, tmp_path: Path, monkeypatch) -> None:
    other = _copy_real(real_dir, tmp_path / "other")
    monkeypatch.setenv("SLICEWIDGETS_DATA_DIR", str(other))
    assert spam_data_dir(real_dir) == real_dir
    assert spam_data_dir(str(real_dir)) == real_dir


def test_env_var_then_cache(real_dir: Path, tmp_path: Path, monkeypatch, _isolated) -> None:
    monkeypatch.setenv("SLICEWIDGETS_DATA_DIR", str(real_dir))
    assert spam_data_dir() == real_dir
    monkeypatch.delenv("SLICEWIDGETS_DATA_DIR")
    cache = _copy_real(real_dir, spam_cache_dir())
    assert cache == tmp_path / "cache" / "youtube-spam"
    assert spam_data_dir() == cache
    df_train, df_test = load_spam_dataset()
    assert (len(df_train), len(df_test)) == (1586, 250)
    assert _isolated == []  # never tried the network


def test_bad_data_dir_falls_back_with_warning(real_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SLICEWIDGETS_DATA_DIR", str(real_dir))
    with pytest.warns(UserWarning, match="not found at data_dir=.*does not exist"):
        assert spam_data_dir(tmp_path / "nowhere") == real_dir


def test_default_cache_dir_uses_platformdirs(monkeypatch) -> None:
    import platformdirs

    monkeypatch.delenv("SLICEWIDGETS_CACHE_DIR")
    expected = Path(platformdirs.user_cache_dir("slicewidgets")) / "youtube-spam"
    assert spam_cache_dir() == expected


def test_errors_pickle() -> None:
    import pickle

    for err in (
        SpamDataUnavailableError("msg", [("a", "b")]),
        SpamChecksumError("msg", "f.csv", "e", "a"),
        SpamDownloadError("msg", [("u", "r")]),
    ):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == "msg"


def test_data_dir_type_error() -> None:
    with pytest.raises(TypeError, match="data_dir must be a str or os.PathLike"):
        spam_data_dir(123)  # type: ignore[arg-type]


def test_offline_without_data_error_message(tmp_path: Path, _isolated: list[str]) -> None:
    with pytest.raises(SpamDataUnavailableError) as info:
        load_spam_dataset()
    err = info.value
    assert isinstance(err, FileNotFoundError)
    msg = str(err)
    assert "data_dir argument: not given" in msg
    assert "SLICEWIDGETS_DATA_DIR: not set" in msg
    assert str(tmp_path / "cache" / "youtube-spam") in msg
    for url in SPAM_URLS:
        assert url in msg
    assert "network disabled in tests" in msg
    assert 'load_spam_dataset(data_dir="/path/to/folder")' in msg
    assert "export SLICEWIDGETS_DATA_DIR=/path/to/folder" in msg
    assert "https://archive.ics.uci.edu/dataset/380/youtube+spam+collection" in msg
    assert "Youtube01-Psy.csv" in msg
    assert _isolated == list(SPAM_URLS)  # newer URL first
    assert [place for place, _ in err.places][:2] == [
        "data_dir argument",
        "environment variable SLICEWIDGETS_DATA_DIR",
    ]
    assert err.__cause__ is None and err.__context__ is None  # one clear error


def test_error_lists_given_places(tmp_path: Path, monkeypatch) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "Youtube01-Psy.csv").write_text("x")
    monkeypatch.setenv("SLICEWIDGETS_DATA_DIR", str(tmp_path / "env-missing"))
    with pytest.raises(SpamDataUnavailableError) as info:
        spam_data_dir(partial)
    msg = str(info.value)
    assert f"data_dir argument {str(partial)!r}: missing Youtube02-KatyPerry.csv" in msg
    assert f"SLICEWIDGETS_DATA_DIR={str(tmp_path / 'env-missing')!r}: does not exist" in msg


def test_error_shows_resolved_relative_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpamDataUnavailableError) as info:
        spam_data_dir("data", download=False)
    assert f"data_dir argument 'data' (= {tmp_path / 'data'}): does not exist" in str(info.value)


def test_download_false_never_opens_url(_isolated: list[str]) -> None:
    with pytest.raises(SpamDataUnavailableError, match=r"download: skipped \(download=False\)"):
        load_spam_dataset(download=False)
    assert _isolated == []


# ------------------------------------------------------------------------------------------
# checksums
# ------------------------------------------------------------------------------------------


def test_checksum_mismatch_names_file(real_dir: Path, tmp_path: Path) -> None:
    folder = _copy_real(real_dir, tmp_path / "copy")
    target = folder / "Youtube03-LMFAO.csv"
    data = target.read_bytes().replace(b"\r\n", b"\n") + b"\n"
    target.write_bytes(data)
    actual = hashlib.sha256(data).hexdigest()
    with pytest.raises(SpamChecksumError) as info:
        load_spam_dataset(data_dir=folder)
    msg = str(info.value)
    assert "Youtube03-LMFAO.csv" in msg and str(folder) in msg
    assert SPAM_SHA256["Youtube03-LMFAO.csv"] in msg and actual in msg
    assert "verify=False" in msg
    assert isinstance(info.value, ValueError)
    assert info.value.filename == "Youtube03-LMFAO.csv" and info.value.actual == actual
    # verify=False uses the edited copy anyway
    df_train, df_test = load_spam_dataset(data_dir=folder, verify=False)
    assert len(df_train) == 1586


def test_checksum_mismatch_without_real_data(tmp_path: Path) -> None:
    for name in SPAM_FILENAMES:
        (tmp_path / name).write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n")
    with pytest.raises(SpamChecksumError, match="Youtube01-Psy.csv .*expected sha256 19797e6c"):
        spam_data_dir(tmp_path)
    assert spam_data_dir(tmp_path, verify=False) == tmp_path


def test_corrupt_cache_is_replaced_by_download(real_dir: Path, monkeypatch) -> None:
    cache = _copy_real(real_dir, spam_cache_dir())
    (cache / "Youtube05-Shakira.csv").write_bytes(b"truncated")
    opened = _serve(monkeypatch, {SPAM_URLS[0]: _zip_bytes(real_dir)})
    assert spam_data_dir() == cache
    assert opened == [SPAM_URLS[0]]
    assert (cache / "Youtube05-Shakira.csv").read_bytes() == (
        real_dir / "Youtube05-Shakira.csv"
    ).read_bytes()


# ------------------------------------------------------------------------------------------
# download (served from a zip built here)
# ------------------------------------------------------------------------------------------


def test_fake_download_extracted_verified_and_cached(real_dir: Path, monkeypatch) -> None:
    opened = _serve(
        monkeypatch, {SPAM_URLS[0]: _zip_bytes(real_dir, prefix="YouTube-Spam-Collection-v1/")}
    )
    got = load_spam_dataset(load_train_labels=True, split_dev_valid=True)
    assert opened == [SPAM_URLS[0]]
    cache = spam_cache_dir()
    assert sorted(p.name for p in cache.iterdir()) == list(SPAM_FILENAMES)  # no __MACOSX, no tmp
    for name in SPAM_FILENAMES:
        assert (cache / name).read_bytes() == (real_dir / name).read_bytes()
    want = load_spam_dataset(load_train_labels=True, split_dev_valid=True, data_dir=real_dir)
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w)
    # second call: served from the cache, no download
    load_spam_dataset()
    assert opened == [SPAM_URLS[0]]


def test_old_url_used_when_new_fails(real_dir: Path, monkeypatch) -> None:
    opened = _serve(monkeypatch, {SPAM_URLS[1]: _zip_bytes(real_dir)})
    assert spam_data_dir() == spam_cache_dir()
    assert opened == list(SPAM_URLS)


def test_nested_zip(real_dir: Path, monkeypatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("YouTube-Spam-Collection-v1.zip", _zip_bytes(real_dir))
    _serve(monkeypatch, {SPAM_URLS[0]: buf.getvalue()})
    folder = download_spam_dataset()
    assert sorted(p.name for p in folder.iterdir()) == list(SPAM_FILENAMES)


def test_tampered_zip_rejected_cache_stays_clean(real_dir: Path, monkeypatch) -> None:
    tampered = _zip_bytes(real_dir, tamper="Youtube05-Shakira.csv")
    opened = _serve(monkeypatch, {url: tampered for url in SPAM_URLS})
    with pytest.raises(SpamDataUnavailableError) as info:
        load_spam_dataset()
    msg = str(info.value)
    assert "Youtube05-Shakira.csv" in msg and SPAM_SHA256["Youtube05-Shakira.csv"] in msg
    assert opened == list(SPAM_URLS)
    # the fix for a download whose files differ: UCI's files may have changed, use them knowingly
    assert "differs from the file slicewidgets checks against" in msg
    assert "UCI may have changed the archive" in msg
    assert 'load_spam_dataset(data_dir="/path/to/folder", verify=False)' in msg
    assert "https://github.com/slicewidgets/slicewidgets/issues" in msg
    cache = spam_cache_dir()
    assert not cache.exists() or list(cache.iterdir()) == []


def test_tampered_zip_keeps_existing_good_files(real_dir: Path, tmp_path: Path, monkeypatch):
    dest = _copy_real(real_dir, tmp_path / "dest")
    _serve(monkeypatch, {SPAM_URLS[0]: _zip_bytes(real_dir, tamper="Youtube01-Psy.csv")})
    with pytest.raises(SpamDownloadError) as info:
        download_spam_dataset(dest)
    assert isinstance(info.value, OSError)
    assert [url for url, _ in info.value.failures] == list(SPAM_URLS)
    assert "SpamChecksumError" in info.value.failures[0][1]
    assert sorted(p.name for p in dest.iterdir()) == list(SPAM_FILENAMES)
    for name in SPAM_FILENAMES:
        assert (dest / name).read_bytes() == (real_dir / name).read_bytes()


def test_download_not_a_zip_or_incomplete(tmp_path: Path, monkeypatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    _serve(monkeypatch, {SPAM_URLS[0]: b"<html>moved</html>", SPAM_URLS[1]: buf.getvalue()})
    with pytest.raises(SpamDownloadError) as info:
        download_spam_dataset(tmp_path / "dest")
    reasons = dict(info.value.failures)
    assert "not a zip file" in reasons[SPAM_URLS[0]]
    assert "does not contain Youtube01-Psy.csv" in reasons[SPAM_URLS[1]]
    assert 'load_spam_dataset(data_dir="/path/to/folder")' in str(info.value)
    assert not (tmp_path / "dest").exists()


def test_download_custom_urls_and_empty(real_dir: Path, tmp_path: Path, monkeypatch) -> None:
    mirror = "https://mirror.example/youtube-spam.zip"
    opened = _serve(monkeypatch, {mirror: _zip_bytes(real_dir)})
    assert download_spam_dataset(tmp_path / "d", urls=[mirror]) == tmp_path / "d"
    assert opened == [mirror]
    with pytest.raises(ValueError, match="at least one URL"):
        download_spam_dataset(tmp_path / "d", urls=[])


def test_spam_tutorial_sfs_give_the_tutorial_slice_sizes(spam_splits):
    pytest.importorskip("textblob", reason="the 'tutorial' extra (textblob) is not installed")
    from slicewidgets.datasets import spam_tutorial_sfs
    from slicewidgets.slicing import PandasSFApplier

    sfs = spam_tutorial_sfs()
    S = PandasSFApplier(sfs).apply(spam_splits[1], progress_bar=False)
    assert S.dtype.names == ("short_comment", "keyword_please", "regex_check_out",
                             "short_link", "textblob_polarity")
    assert [int(S[n].sum()) for n in S.dtype.names] == [92, 23, 45, 3, 24]
