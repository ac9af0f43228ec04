"""Shared fixtures: the real YouTube spam data (from SLICEWIDGETS_DATA_DIR) and its splits."""

from __future__ import annotations

import importlib.util
import os
import re
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


# -- under CI=true a required skip is a failure ------------------------------------------------
# Outside CI, a test that needs something absent (the data, Chromium, Java, snorkel, an extra)
# skips with a reason. CI installs all of it, so there a skip means a claim went untested: it is
# turned into a failure, except for the documented skips below (reason pattern -> why allowed).
ALLOWED_CI_SKIPS = {
    # doctest examples marked +SKIP on purpose (they would download data or open a browser)
    r"all tests skipped by \+SKIP option": "doctest examples that are documentation only",
    r"narrow build": "Python builds without full Unicode; CI's Python is a wide build",
    r"no CUDA device": "CI machines have no GPU; the gpu tests run on one (pytest -m gpu)",
}


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


# In the jobs that install the core alone on purpose (SLICEWIDGETS_BARE_CORE=1: the bare-core
# job and the oldest/newest-versions jobs of .ci/run), a test may also skip because an optional
# package is not installed; nothing else (data, Chromium, Java) is excused there either.
_MISSING_PACKAGE = [  # the wordings of the skip reasons that name a missing package
    r"could not import '([\w.]+)'",  # pytest.importorskip's own
    r"needs (\w+): the '\w+' extra is not installed",  # slicewidgets/conftest.py (doctests)
    r"the '\w+' extra \((\w+)\) is not installed",
    r"\b(\w+) is not installed",  # "spaCy is not installed (pip install ...)"
    r"\bneed (\w+) \(the '\w+' extra\)",  # "Snorkel's tests need torch (the 'learn' extra)"
]


def _expected_in_bare_core(reason: str) -> bool:
    """A skip naming an optional package that is really absent, in a bare-core job."""
    if os.environ.get("SLICEWIDGETS_BARE_CORE") != "1":
        return False
    for pattern in _MISSING_PACKAGE:
        for match in re.finditer(pattern, reason):
            package = match.group(1).split(".")[0].lower()
            if importlib.util.find_spec(package) is None:
                return True
    return False


def _required_skip(report) -> str | None:
    """The reason of a skip that CI must not accept, else None."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    reason = _skip_reason(report)
    if any(re.search(pattern, reason) for pattern in ALLOWED_CI_SKIPS):
        return None
    if _expected_in_bare_core(reason):
        return None
    return reason


def _fail_required_skip(report) -> None:
    reason = _required_skip(report)
    if reason is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"Skipped under CI=true, where everything a test needs is installed: {reason}\n"
            "Install what is missing in .ci/run, or, if this skip is expected in CI, add it with "
            "a reason to ALLOWED_CI_SKIPS in tests/conftest.py."
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if in_ci():
        _fail_required_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    if in_ci():  # module-level skips (pytest.importorskip, allow_module_level=True)
        _fail_required_skip(outcome.get_result())
