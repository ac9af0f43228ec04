"""The tutorial notebooks are documentation that runs: each one executes top to bottom.

Every ``notebooks/*.ipynb`` is run with nbclient in a fresh ``python3`` kernel whose working
directory is a temporary folder (the studio notebook writes a save file there, never into the
repository). Notebooks that read the YouTube spam data get ``SLICEWIDGETS_DATA_DIR`` (the real
data in ``../shared/data/youtube-spam``) and are skipped when it is missing; nothing touches the
network. The notebooks are committed without outputs, which a cheap (unmarked) test checks.

With ``SLICEWIDGETS_EXECUTED_NOTEBOOKS=<folder>`` the executed notebooks are saved there (CI's
documentation gallery uses them). Run only these: ``python -m pytest -m notebooks -s`` (``-s`` shows the wall time per notebook).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_spam_data_slicing.ipynb",
    "02_interactive_slicing.ipynb",
    "03_slice_based_learning.ipynb",
    "04_workshop.ipynb",
    "04_workshop_student.ipynb",
    "05_slice_discovery.ipynb",
]
#: An SF that each notebook with a studio writes in (or adds to) the studio's editor.
#: (The students' workshop writes none: its studio exercise is left for the student.)
SAVED_SF = {"02_interactive_slicing.ipynb": "mentions_shakira",
            "04_workshop.ipynb": "all_caps",
            "05_slice_discovery.ipynb": "text_words_10_19"}
CELL_TIMEOUT_S = 300
#: An unreachable proxy: any download attempt fails at once instead of reaching the network.
_NO_NETWORK = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
               "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
               "no_proxy": "", "NO_PROXY": ""}


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _uses_spam_data(nb) -> bool:
    return any("load_spam_dataset" in cell.source for cell in nb.cells if cell.cell_type == "code")


def _execute(nb, cwd: Path) -> None:
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()


@pytest.fixture
def offline_env(monkeypatch, tmp_path):
    """The kernel inherits this process's environment: no network, an empty download cache."""
    for key, value in _NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLICEWIDGETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    # One BLAS/OpenMP thread per kernel: on a busy CI machine, OpenMP threads that spin-wait for
    # each other make small torch models 10x slower; one thread keeps the timings predictable.
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(key, "1")
    return monkeypatch


def test_all_tutorial_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path):
    """No outputs, no execution counts, the standard kernel, valid nbformat."""
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert dirty == [], (
        f"{path.name}: cells {dirty} have outputs; clear them before committing, e.g. "
        f"jupyter nbconvert --clear-output --inplace notebooks/{path.name}"
    )
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, offline_env, capsys, request):
    nb = _read(path)
    if _uses_spam_data(nb):
        data_dir = request.getfixturevalue("spam_data_dir")  # skips if the data is missing
        offline_env.setenv("SLICEWIDGETS_DATA_DIR", str(data_dir))
    # what JupyterLab tells its kernels: the studio's default save file is per notebook
    offline_env.setenv("JPY_SESSION_NAME", str(tmp_path / path.name))
    start = time.perf_counter()
    _execute(nb, tmp_path)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[notebook] {path.name}: {elapsed:.1f} s", end="")
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.output_type == "error"]
    assert errors == []
    if os.environ.get("SLICEWIDGETS_EXECUTED_NOTEBOOKS"):
        # CI's documentation build shows these outputs instead of executing the notebook again
        saved = Path(os.environ["SLICEWIDGETS_EXECUTED_NOTEBOOKS"])
        saved.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, saved / path.name)
    if path.name in SAVED_SF:
        # the studio's save file went to the kernel's working directory, not into the repo
        assert any("SliceStudio(" in cell.source for cell in nb.cells if cell.cell_type == "code")
        assert SAVED_SF[path.name] in (tmp_path / f"{path.stem}.sfs.py").read_text()


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if _uses_spam_data(_read(p))],
    ids=lambda p: p.stem,
)
def test_first_cell_says_what_to_do_without_data_or_network(path, tmp_path, offline_env):
    """No local data and no network: the data cell fails with instructions, not a bare trace."""
    offline_env.setenv("SLICEWIDGETS_DATA_DIR", str(tmp_path / "no-such-folder"))
    nb = _read(path)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    load = next(i for i in code if "load_spam_dataset" in nb.cells[i].source)
    assert load == code[0], f"{path.name}: the spam data must be loaded in the first code cell"
    nb.cells = nb.cells[: load + 1]
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        _execute(nb, tmp_path)
    assert info.value.ename == "SpamDataUnavailableError"
    outputs = nb.cells[load].outputs
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "The YouTube spam data is not available" in printed
    assert "SLICEWIDGETS_DATA_DIR" in printed
    assert 'load_spam_dataset(load_train_labels=True, data_dir="/path/to/youtube-spam")' in printed
    assert "network" in printed


def _load_script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_{name}", NOTEBOOK_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_student_workshop_is_generated_from_the_solution_notebook():
    """04_workshop_student.ipynb = 04_workshop.ipynb without the cells tagged 'solution'."""
    make = _load_script("make_student")
    assert make.main(["--check"]) == 0, "run python notebooks/make_student.py and commit"
    solution, student = _read(make.SOLUTION), _read(make.STUDENT)
    tagged = [c for c in solution.cells if "solution" in c.metadata.get("tags", [])]
    assert len(tagged) >= 7  # one solution per exercise at least
    assert len(student.cells) == len(solution.cells) - len(tagged)
    sources = [c.source for c in student.cells]
    assert not any(c.source in sources for c in tagged if c.cell_type == "code")
    # every exercise keeps its cell to edit and its check
    for k in range(1, 8):
        assert sum(f"check_exercise_{k}(" in s for s in sources) == 2  # defined, and called
    assert sum("# YOUR CODE HERE" in s for s in sources) >= 6


def test_make_student_check_fails_when_out_of_date(tmp_path, monkeypatch):
    make = _load_script("make_student")
    monkeypatch.setattr(make, "STUDENT", tmp_path / "student.ipynb")
    assert make.main(["--check"]) == 1
    assert make.main([]) == 0 and make.main(["--check"]) == 0


#: Beginners' answers: each check must answer "not yet" with a reason, never a traceback.
_BEGINNER_ANSWERS = {
    "def has_link(x):": (
        "@slicing_function()\n"
        "def has_link(x):\n"
        "    if 'http' in x.text.lower() or 'www.' in x.text.lower() or '.com' in x.text.lower():\n"
        "        return True\n",  # no `else: return False`
        "has_link returns None on 'love this song'",
    ),
    "def count_words(x):": (
        "@preprocessor(memoize=True)\n"
        "def count_words(x):\n"
        "    x.n_words = len(x.text.split())\n"
        "    return x\n\n\n"
        "@slicing_function(pre=[count_words])\n"
        "def long_comment(x):\n"
        "    return x.n_words >= 30\n",  # >= instead of >
        "long_comment returns True on a comment of 30 words, expected False",
    ),
    "def weak_slice(x):": (
        # memorises the validation comments it gets wrong (plus a few others)
        "_seen = set(df_valid[preds_valid != Y_valid].text) | set(df_valid.text[:6])\n"
        "@slicing_function()\n"
        "def weak_slice(x):\n"
        "    return x.text in _seen\n",
        "which you have not read: it describes the comments you looked at",
    ),
    "answer_6 = None": (
        "S_test = PandasSFApplier(workshop_sfs + [weak_slice]).apply(df_valid)\n"
        "report_6 = Scorer(metrics=['accuracy']).slice_report(S_test, Y_valid, preds_valid)\n"
        "answer_6 = []\n",  # scored on the validation split again
        "report_6 was not computed on df_test",
    ),
}


@pytest.mark.notebooks
@pytest.mark.slow
def test_student_workshop_checks_say_not_yet_to_beginners_mistakes(
    tmp_path, offline_env, request
):
    data_dir = request.getfixturevalue("spam_data_dir")
    offline_env.setenv("SLICEWIDGETS_DATA_DIR", str(data_dir))
    offline_env.setenv("JPY_SESSION_NAME", str(tmp_path / "04_workshop_student.ipynb"))
    nb = _read(NOTEBOOK_DIR / "04_workshop_student.ipynb")
    checks = {}
    for marker, (answer, expected) in _BEGINNER_ANSWERS.items():
        index = next(i for i, c in enumerate(nb.cells)
                     if c.cell_type == "code" and marker in c.source and "# YOUR CODE" in c.source)
        nb.cells[index].source = answer
        checks[index] = expected
    _execute(nb, tmp_path)  # raises on any traceback
    for index, expected in checks.items():
        check = next(c for c in nb.cells[index + 1:] if c.cell_type == "code"
                     and "check_exercise_" in c.source)
        printed = "".join(out.get("text", "") for out in check.outputs)
        assert "❌ Not yet" in printed and expected in printed, printed


def _code_calls(nb, name: str) -> list[str]:
    """The source of every ``name(`` call in the notebook's code cells, up to its first ``)``."""
    import re

    pattern = re.compile(rf"\b{re.escape(name)}\(\s*([^,)]*)")
    return [m.group(1).strip() for cell in nb.cells if cell.cell_type == "code"
            for m in pattern.finditer(cell.source)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_studios_explore_on_validation_rows_never_on_the_test_split(path):
    """No double-dipping: a studio is where slices are written while looking at scores, so the
    notebooks open it on a validation split and keep the test split for one final score."""
    nb = _read(path)
    for first_argument in _code_calls(nb, "SliceStudio"):
        assert "test" not in first_argument.lower(), (
            f"{path.name} opens a SliceStudio on {first_argument!r}: explore on a validation "
            "split and score the test split once at the end")
    for first_argument in _code_calls(nb, "find_slices"):
        assert "test" not in first_argument.lower(), (
            f"{path.name} searches for slices on {first_argument!r}: search on other rows")
