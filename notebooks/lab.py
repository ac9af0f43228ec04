"""Open the slicewidgets tutorials in JupyterLab, from a fresh clone, in one command.

    python3 notebooks/lab.py                       # opens 01_spam_data_slicing.ipynb
    python3 notebooks/lab.py notebooks/04_workshop.ipynb
    python3 notebooks/lab.py --no-browser --port 8899   # anything after the notebook goes to Jupyter

The first run creates a virtual environment in ``.venv`` at the top of the clone and installs
slicewidgets there (editable, with JupyterLab, torch and TextBlob: ``.[lab,learn,tutorial]``);
later runs reuse it and install nothing unless ``pyproject.toml`` changed. A virtual environment
means no ``sudo`` and no clash with the system Python (Debian/Ubuntu's PEP 668
"externally-managed-environment" error). On Linux, torch comes from PyTorch's CPU-only index
(about 200 MB instead of several GB of CUDA libraries); set ``SLICEWIDGETS_TORCH_INDEX`` to
another index URL, or to an empty string for PyPI's default build. Run as root (a container),
JupyterLab gets ``--allow-root``. JupyterLab's file browser opens in the notebook's folder
(``notebooks/``). Needs only Python >= 3.10 and its standard library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOK = "notebooks/01_spam_data_slicing.ipynb"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_PIN = "torch==2.13.0"


def venv_python(env_dir: Path) -> Path:
    """The interpreter of a virtual environment, on POSIX and on Windows."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(env_dir: Path, extras: str, *, say=print) -> Path:
    """Create ``env_dir`` (once) with slicewidgets[extras] installed editable; return its python.

    A stamp file records what was installed (the extras and a hash of ``pyproject.toml``), so a
    second run installs nothing. Delete ``env_dir`` to start over.
    """
    python = venv_python(env_dir)
    stamp = env_dir / ".slicewidgets-installed"
    wanted = f"{extras} {hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()}"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        say(f"Using the virtual environment {env_dir} (already set up).")
        return python
    if not python.exists():
        say(f"Creating a virtual environment in {env_dir} (once) ...")
        try:
            venv.EnvBuilder(with_pip=True).create(env_dir)
        except (OSError, subprocess.CalledProcessError) as err:
            shutil.rmtree(env_dir, ignore_errors=True)  # no half-made environment next time
            raise SystemExit(
                f"Could not create a virtual environment in {env_dir}: {err}\n"
                "On Debian and Ubuntu, Python's venv module is a separate package: install it "
                "once with\n    sudo apt install python3-venv\n"
                "(or python3.X-venv for your Python version), then run this command again."
            ) from err
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if "learn" in extras or "dev" in extras:
        # torch first, from the CPU index on Linux: PyPI's Linux wheel pulls GBs of CUDA libraries
        index = os.environ.get("SLICEWIDGETS_TORCH_INDEX",
                               TORCH_CPU_INDEX if sys.platform.startswith("linux") else "")
        say(f"Installing {TORCH_PIN}" + (f" from {index}" if index else "") + " ...")
        subprocess.run([*pip, TORCH_PIN, *(["--index-url", index] if index else [])], check=True)
    say(f"Installing slicewidgets[{extras}] (editable) ...")
    subprocess.run([*pip, "-e", f"{ROOT}[{extras}]"], check=True)
    stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    notebook, jupyter_args = DEFAULT_NOTEBOOK, argv
    if argv and not argv[0].startswith("-"):
        notebook, jupyter_args = argv[0], argv[1:]
    python = ensure_venv(ROOT / ".venv", "lab,learn,tutorial")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in jupyter_args:
        jupyter_args = [*jupyter_args, "--allow-root"]  # containers often run as root
    command = [str(python), "-m", "jupyterlab", notebook, *jupyter_args]
    print("Starting JupyterLab: " + " ".join(command[1:]) + "  (Ctrl+C to stop)", flush=True)
    os.chdir(ROOT)
    if os.name == "nt":  # no exec on Windows: wait for JupyterLab and pass its status on
        return subprocess.call(command)
    os.execv(str(python), command)
    return 0  # pragma: no cover


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
