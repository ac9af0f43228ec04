"""Import hygiene and public surface of the package."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import pytest

import slicewidgets
from slicewidgets._optional import MissingExtraError

HEAVY = ("torch", "ipywidgets", "matplotlib", "scipy", "dask", "pyspark")
CORE = ("slicewidgets", "slicewidgets.slicing", "slicewidgets.analysis",
        "slicewidgets.preprocess", "slicewidgets.utils")


def _modules_after(statement: str) -> list[str]:
    code = (f"import sys, json\n{statement}\n"
            "print(json.dumps(sorted(m for m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_core_leaves_heavy_libraries_out():
    loaded = _modules_after("import slicewidgets, slicewidgets.slicing, slicewidgets.analysis, "
                            "slicewidgets.preprocess, slicewidgets.utils")
    heavy = sorted({m.split(".")[0] for m in loaded} & set(HEAVY))
    assert heavy == [], f"`import slicewidgets` imported {heavy}"


def test_applying_and_scoring_keep_heavy_libraries_out():
    loaded = _modules_after(
        "import numpy as np, pandas as pd\n"
        "from slicewidgets import PandasSFApplier, Scorer, keyword_sf, slicing_function\n"
        "from slicewidgets.slicing import SliceSet\n"
        "sf = slicing_function()(lambda x: isinstance(x.text, str) and len(x.text) < 5)\n"
        "df = pd.DataFrame({'text': ['plz sub', 'hi', None] * 5})\n"
        "S = PandasSFApplier([keyword_sf(['plz']), sf]).apply(df, progress_bar=False)\n"
        "ss = SliceSet(df, [keyword_sf(['plz'])])\n"
        "g = np.array([1, 0, 1] * 5)\n"
        "Scorer(['accuracy', 'f1']).score_slices(S, g, g, as_dataframe=True)\n"
    )
    heavy = sorted({m.split(".")[0] for m in loaded} & set(HEAVY))
    assert heavy == []


def test_version_is_a_version_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", slicewidgets.__version__)


@pytest.mark.parametrize("module", CORE)
def test_every_name_in_all_resolves(module):
    mod = importlib.import_module(module)
    missing = []
    for name in mod.__all__:
        try:
            getattr(mod, name)
        except MissingExtraError:  # e.g. torch names without the 'learn' extra: a clear error
            continue
        except (AttributeError, ImportError) as err:
            missing.append(f"{name}: {err}")
    assert missing == []
    assert len(set(mod.__all__)) == len(mod.__all__)


def test_unknown_attribute_errors_name_the_module():
    with pytest.raises(AttributeError, match="module 'slicewidgets' has no attribute 'nope'"):
        slicewidgets.nope  # noqa: B018
    with pytest.raises(AttributeError, match="module 'slicewidgets.slicing' has no attribute"):
        importlib.import_module("slicewidgets.slicing").nope  # noqa: B018


def test_snorkel_import_lines_work_with_slicewidgets():
    from slicewidgets.analysis import Scorer, metric_score  # noqa: F401
    from slicewidgets.analysis.metrics import METRICS, Metric  # noqa: F401
    from slicewidgets.preprocess import (  # noqa: F401
        BasePreprocessor,
        LambdaPreprocessor,
        Preprocessor,
        preprocessor,
    )
    from slicewidgets.slicing import (  # noqa: F401
        PandasSFApplier,
        SFApplier,
        SlicingFunction,
        slice_dataframe,
        slicing_function,
    )
    from slicewidgets.utils import (  # noqa: F401
        filter_labels,
        preds_to_probs,
        probs_to_preds,
        to_int_label_array,
    )
