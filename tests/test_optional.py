"""A missing optional dependency gives one message naming the extra that installs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from slicewidgets._optional import EXTRAS, MissingExtraError, import_optional, missing_extra


def test_import_optional_returns_the_module():
    assert import_optional("json", purpose="test").__name__ == "json"


def test_missing_package_names_the_extra_and_the_pip_command():
    with pytest.raises(MissingExtraError) as info:
        import_optional("no_such_package_xyz", purpose="The thing", extra="learn")
    err = info.value
    assert isinstance(err, ModuleNotFoundError) and isinstance(err, ImportError)
    assert err.name == "no_such_package_xyz" and err.extra == "learn"
    assert str(err) == (
        "The thing needs no_such_package_xyz, which is not installed in this Python environment "
        f"({sys.executable}). Install the 'learn' extra: pip install \"slicewidgets[learn]\" (in a "
        "notebook: %pip install \"slicewidgets[learn]\", then restart the kernel)."
    )


def test_torch_message_says_how_to_get_the_cpu_build(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if absent
    with pytest.raises(MissingExtraError, match=r"slicewidgets\[learn\]") as info:
        import_optional("torch", purpose="SliceAwareClassifier")
    assert "--index-url https://download.pytorch.org/whl/cpu" in str(info.value)


def test_a_module_missing_inside_an_installed_package_keeps_its_own_error():
    # json is there, json.nope is not: not a missing extra, so the original error stands
    with pytest.raises(ModuleNotFoundError) as info:
        import_optional("json.nope", purpose="test", extra="learn")
    assert not isinstance(info.value, MissingExtraError)


def test_missing_extra_leaves_unknown_packages_alone():
    err = ModuleNotFoundError("No module named 'leftpad'", name="leftpad")
    assert missing_extra(err, purpose="x") is err
    known = missing_extra(ModuleNotFoundError("no", name="pyspark.sql"), purpose="x")
    assert isinstance(known, MissingExtraError) and known.extra == "spark"


def test_every_extra_named_exists_in_pyproject():
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS.values()) <= set(extras)
    for package, extra in EXTRAS.items():
        if package in ("distributed", "ipykernel"):
            continue  # pulled in by the extra's main package spec
        assert any(spec.lower().startswith(package) for spec in extras[extra]), (package, extra)


def _run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True)


def test_without_torch_the_core_works_and_learning_names_the_extra():
    result = _run_without(["torch", "textblob"], """
        import numpy as np, pandas as pd
        from slicewidgets.slicing import PandasSFApplier, keyword_sf
        from slicewidgets.analysis import Scorer
        df = pd.DataFrame({"text": ["plz sub", "nice", "plz"]})
        S = PandasSFApplier([keyword_sf(["plz"])]).apply(df, progress_bar=False)
        g = np.array([1, 0, 1])
        print("core ok", Scorer(["accuracy"]).score_slices(S, g, g)["keyword_plz"]["accuracy"])
        for stmt in ("from slicewidgets.slicing import SliceAwareClassifier",
                     "import slicewidgets.classification"):
            try:
                exec(stmt)
            except ModuleNotFoundError as err:
                print(type(err).__name__, err.extra)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "core ok 1.0", "MissingExtraError learn", "MissingExtraError learn"]


@pytest.mark.usefixtures("spam_data_dir")
def test_without_textblob_the_tutorial_sf_names_the_extra(spam_data_dir):
    result = _run_without(["textblob"], f"""
        from slicewidgets.datasets import load_spam_dataset, spam_tutorial_sfs
        from slicewidgets.slicing import PandasSFApplier
        _, df_test = load_spam_dataset(data_dir={str(spam_data_dir)!r})
        sfs = spam_tutorial_sfs()
        S = PandasSFApplier(sfs[:4]).apply(df_test, progress_bar=False)   # no textblob needed
        print(int(S["short_comment"].sum()))
        PandasSFApplier(sfs[4:]).apply(df_test, progress_bar=False)
    """)
    assert result.stdout.split() == ["92"]
    assert 'pip install "slicewidgets[tutorial]"' in result.stderr
    assert "textblob_polarity" in result.stderr
