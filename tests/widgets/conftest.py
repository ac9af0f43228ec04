"""Small data shared by the headless widget tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def df() -> pd.DataFrame:
    """Ten comments; row 7 has no text (a row-wise SF reading ``x.text.lower()`` fails)."""
    return pd.DataFrame({
        "text": [
            "Check out my channel <script>alert(1)</script>",
            "nice song",
            "please subscribe plz",
            "check this bit.ly/abc",
            "love it",
            "PLEASE check my video",
            "best song ever",
            None,
            "subscribe for more",
            "great voice",
        ],
        "author": [f"user{i}" for i in range(10)],
    }, index=pd.RangeIndex(100, 110))


@pytest.fixture
def golds() -> np.ndarray:
    return np.array([1, 0, 1, 1, 0, 1, 0, 0, 1, 0])


@pytest.fixture
def preds() -> np.ndarray:
    # wrong on rows 2, 5 and 9
    return np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 1])
