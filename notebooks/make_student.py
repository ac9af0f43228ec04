"""Generate the students' workshop from the trainer's: ``python notebooks/make_student.py``.

``04_workshop.ipynb`` is the solution notebook: after each exercise cell come its solution
cells, tagged ``solution`` (in JupyterLab: the property inspector, "Cell Tags"). This script
writes ``04_workshop_student.ipynb`` with those cells left out and every output cleared, as
scikit-learn's MOOC does for its exercises. Edit the solution notebook, then run this script and
commit both files; the test suite checks that they agree and executes both (the student version's
checks then say "not yet" instead of failing). ``--check`` only reports whether the student file
is up to date (exit status 1 if not). Needs only the standard library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOLUTION = HERE / "04_workshop.ipynb"
STUDENT = HERE / "04_workshop_student.ipynb"
TAG = "solution"


def student_version(solution: dict) -> dict:
    """The notebook without the cells tagged ``solution``, outputs cleared."""
    cells = []
    for cell in solution["cells"]:
        if TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cell = json.loads(json.dumps(cell))  # a copy
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    metadata = {**solution["metadata"],
                "slicewidgets": {"generated_from": SOLUTION.name,
                                 "by": "notebooks/make_student.py; edit the solution notebook"}}
    return {**solution, "cells": cells, "metadata": metadata}


def render(notebook: dict) -> str:
    """The JSON text as Jupyter writes it (sorted keys, indent 1, non-ASCII kept, final newline)."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    solution = json.loads(SOLUTION.read_text(encoding="utf-8"))
    text = render(student_version(solution))
    if "--check" in argv:
        current = STUDENT.read_text(encoding="utf-8") if STUDENT.exists() else ""
        if current != text:
            print(f"{STUDENT.name} is not what {SOLUTION.name} generates: run "
                  "python notebooks/make_student.py and commit the result.")
            return 1
        print(f"{STUDENT.name} is up to date.")
        return 0
    STUDENT.write_text(text, encoding="utf-8")
    kept = len(json.loads(text)["cells"])
    print(f"wrote {STUDENT}: {kept} of {len(solution['cells'])} cells "
          f"(cells tagged {TAG!r} left out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
