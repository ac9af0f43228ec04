"""tests/conftest.py: under CI=true a skip is a failure unless it is documented as allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
TESTS = '''
import pytest

missing = pytest.importorskip("no_such_module_anywhere")  # noqa: F841
'''
TESTS_INSIDE = '''
import pytest


def test_needs_data():
    pytest.skip("the YouTube spam CSVs are not available")


@pytest.mark.skipif(True, reason="narrow build")
def test_documented():
    pass


def test_runs():
    assert True


@pytest.mark.parametrize("reason", [  # the wordings used in this repository
    "spaCy_nowhere is not installed (pip install 'slicewidgets[nlp]')",
    "Snorkel's tests need torch_nowhere (the 'learn' extra)",
    "tensorboard_nowhere is not installed ([tensorboard] extra)",
    "the 'tutorial' extra (textblob_nowhere) is not installed",
    "needs torch_nowhere: the 'learn' extra is not installed",
])
def test_skips_naming_a_missing_package(reason):
    pytest.skip(reason)


def test_skip_naming_an_installed_package():
    pytest.skip("pytest is not installed")  # it is: not excused
'''


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch) -> pytest.Pytester:
    monkeypatch.delenv("SLICEWIDGETS_BARE_CORE", raising=False)  # set in the versions jobs
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_module_skip=TESTS, test_inside=TESTS_INSIDE)
    return pytester


def test_outside_ci_required_things_skip_with_their_reason(project, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = project.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=9)
    result.stdout.fnmatch_lines(["*could not import 'no_such_module_anywhere'*",
                                 "*the YouTube spam CSVs are not available*"])


def test_under_ci_a_required_skip_fails_and_a_documented_one_does_not(project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = project.runpytest("-rs", "-p", "no:cacheprovider", "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, failed=7, skipped=1, errors=1)
    result.stdout.fnmatch_lines([
        "*Skipped under CI=true*could not import 'no_such_module_anywhere'*",
        "*Skipped under CI=true*the YouTube spam CSVs are not available*",
    ])
    assert result.ret != 0
    # without the flag, the collection error stops the run at once: CI is red either way
    assert project.runpytest("-p", "no:cacheprovider").ret == pytest.ExitCode.INTERRUPTED


def test_bare_core_jobs_excuse_only_missing_optional_packages(project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SLICEWIDGETS_BARE_CORE", "1")
    result = project.runpytest("-rs", "-p", "no:cacheprovider", "--continue-on-collection-errors")
    # missing modules are excused; the missing data and an installed package are not
    result.assert_outcomes(passed=1, failed=2, skipped=7)
    result.stdout.fnmatch_lines(["*Skipped under CI=true*the YouTube spam CSVs are not available*",
                                 "*Skipped under CI=true*pytest is not installed*"])
