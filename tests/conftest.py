"""Shared fixtures: the real YouTube spam data (from SLICEWIDGETS_DATA_DIR) and its splits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _data_dir() -> Path | None:
    value = os.environ.get("SLICEWIDGETS_DATA_DIR")
    if value and Path(value, "Youtube01-Psy.csv").exists():
        return Path(value)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "youtube-spam"
    return default if (default / "Youtube01-Psy.csv").exists() else None


@pytest.fixture(scope="session")
def spam_data_dir() -> Path:
    path = _data_dir()
    if path is None:
        pytest.skip("the YouTube spam CSVs are not available; set SLICEWIDGETS_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def spam_splits(spam_data_dir):
    """``(df_train, df_test)`` with train labels, as in the slicing tutorial."""
    from slicewidgets.datasets import load_spam_dataset

    return load_spam_dataset(load_train_labels=True, data_dir=spam_data_dir)


def in_ci() -> bool:
    """Whether the suite runs in CI (``CI=true``), where a required resource must be present."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def skip_or_fail():
    """``skip_or_fail(reason)``: skip with ``reason`` outside CI, fail under ``CI=true``.

    For tests that need something absent (data, a browser, ``../shared``): an outsider's run
    skips them with a reason, but in CI such a skip would hide a test that never ran.
    """

    def _skip_or_fail(reason: str) -> None:
        if in_ci():
            pytest.fail(f"{reason} (CI=true: a required test may not be skipped)", pytrace=False)
        pytest.skip(reason)

    return _skip_or_fail
