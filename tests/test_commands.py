"""The README's two commands: ``python3 notebooks/lab.py`` and ``python3 tests/run.py``.

What they must do on a person's machine (set up a virtual environment once, never reinstall,
CPU torch on Linux, ``--allow-root`` as root, arguments passed on) is checked here without
installing anything: pip and the JupyterLab start are recorded instead of run. CI runs both
commands for real on a fresh machine (``.ci/run``: the test command, then the lab command
started headless and probed over HTTP).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(relative: str, name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lab():
    return _load("notebooks/lab.py", "_lab_under_test")


@pytest.fixture
def recorded(monkeypatch, lab):
    """Record every subprocess.run call of lab.py instead of running it."""
    calls = []

    def run(command, check=False, **kwargs):
        calls.append([str(part) for part in command])

    monkeypatch.setattr(lab.subprocess, "run", run)
    return calls


def _fake_env(lab, tmp_path: Path) -> Path:
    python = lab.venv_python(tmp_path / "env")
    python.parent.mkdir(parents=True)
    python.write_text("")
    return tmp_path / "env"


def _stamp(lab, extras: str) -> str:
    import hashlib

    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{extras} {digest}"


def test_second_start_installs_nothing(lab, recorded, tmp_path):
    env = _fake_env(lab, tmp_path)
    (env / ".slicewidgets-installed").write_text(_stamp(lab, "lab,learn,tutorial"))
    said = []
    python = lab.ensure_venv(env, "lab,learn,tutorial", say=said.append)
    assert python == lab.venv_python(env)
    assert recorded == []
    assert said == [f"Using the virtual environment {env} (already set up)."]


@pytest.mark.parametrize("stamp", [None, "lab,learn,tutorial 0000", "lab 1234"])
def test_first_start_or_changed_project_installs_editable_with_cpu_torch_first(
    lab, recorded, tmp_path, monkeypatch, stamp
):
    monkeypatch.delenv("SLICEWIDGETS_TORCH_INDEX", raising=False)
    monkeypatch.setattr(lab.sys, "platform", "linux")
    env = _fake_env(lab, tmp_path)
    if stamp is not None:
        (env / ".slicewidgets-installed").write_text(stamp)
    python = lab.ensure_venv(env, "lab,learn,tutorial", say=lambda _: None)
    torch, package = recorded
    assert torch[:3] == [str(python), "-m", "pip"]
    assert torch[-3:] == ["torch==2.13.0", "--index-url", "https://download.pytorch.org/whl/cpu"]
    assert package[-2:] == ["-e", f"{ROOT}[lab,learn,tutorial]"]
    # the stamp now matches: the next start installs nothing
    assert (env / ".slicewidgets-installed").read_text() == _stamp(lab, "lab,learn,tutorial")
    recorded.clear()
    lab.ensure_venv(env, "lab,learn,tutorial", say=lambda _: None)
    assert recorded == []


def test_torch_index_can_be_pypi_and_macos_uses_pypi(lab, recorded, tmp_path, monkeypatch):
    env = _fake_env(lab, tmp_path)
    monkeypatch.setenv("SLICEWIDGETS_TORCH_INDEX", "")
    lab.ensure_venv(env, "dev", say=lambda _: None)
    assert recorded[0][-1] == "torch==2.13.0"  # no --index-url: PyPI's default build
    recorded.clear()
    (env / ".slicewidgets-installed").unlink()
    monkeypatch.delenv("SLICEWIDGETS_TORCH_INDEX")
    monkeypatch.setattr(lab.sys, "platform", "darwin")
    lab.ensure_venv(env, "dev", say=lambda _: None)
    assert "--index-url" not in recorded[0]


def test_extras_without_torch_do_not_install_torch(lab, recorded, tmp_path):
    env = _fake_env(lab, tmp_path)
    lab.ensure_venv(env, "lab", say=lambda _: None)
    assert len(recorded) == 1 and recorded[0][-2:] == ["-e", f"{ROOT}[lab]"]


def test_a_missing_environment_is_created(lab, recorded, tmp_path, monkeypatch):
    created = []

    def create(self, path):
        created.append(path)
        Path(path).mkdir()

    monkeypatch.setattr(lab.venv.EnvBuilder, "create", create)
    lab.ensure_venv(tmp_path / "new-env", "lab", say=lambda _: None)
    assert created == [tmp_path / "new-env"]


def test_without_the_venv_module_the_message_says_what_to_install(lab, recorded, tmp_path,
                                                                  monkeypatch):
    """Debian/Ubuntu ship venv's pip bootstrap separately (python3-venv): say so, clean up."""
    import subprocess

    def create(self, path):
        Path(path, "bin").mkdir(parents=True)
        raise subprocess.CalledProcessError(1, ["python", "-m", "ensurepip"])

    monkeypatch.setattr(lab.venv.EnvBuilder, "create", create)
    with pytest.raises(SystemExit) as info:
        lab.ensure_venv(tmp_path / "env", "lab", say=lambda _: None)
    assert "sudo apt install python3-venv" in str(info.value)
    assert not (tmp_path / "env").exists() and recorded == []


@pytest.mark.skipif(os.name == "nt", reason="exec and root are POSIX")
@pytest.mark.parametrize("uid, root_flag", [(0, True), (1000, False)])
def test_lab_starts_jupyterlab_on_the_notebook_with_allow_root_only_as_root(
    lab, monkeypatch, tmp_path, uid, root_flag
):
    python = tmp_path / "bin" / "python"
    monkeypatch.setattr(lab, "ensure_venv", lambda env, extras: python)
    monkeypatch.setattr(lab.os, "geteuid", lambda: uid)
    monkeypatch.setattr(lab.os, "chdir", lambda path: None)
    started = []
    monkeypatch.setattr(lab.os, "execv", lambda exe, argv: started.append((exe, argv)))
    lab.main([])
    lab.main(["notebooks/04_workshop.ipynb", "--no-browser", "--port", "8899"])
    (exe, default), (_, chosen) = started
    assert exe == str(python)
    assert default[:4] == [str(python), "-m", "jupyterlab", "notebooks/01_spam_data_slicing.ipynb"]
    assert chosen[3:7] == ["notebooks/04_workshop.ipynb", "--no-browser", "--port", "8899"]
    assert ("--allow-root" in default) is root_flag and ("--allow-root" in chosen) is root_flag


def test_lab_needs_only_the_standard_library():
    """It runs before anything is installed: no third-party import at its top."""
    source = (ROOT / "notebooks" / "lab.py").read_text()
    imports = {line.split()[1].split(".")[0] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= set(sys.stdlib_module_names) | {"__future__"}


def test_run_sets_up_its_own_environment_and_passes_arguments_to_pytest(monkeypatch, tmp_path):
    run = _load("tests/run.py", "_run_under_test")
    envs = []
    fake_lab = type("Lab", (), {"ensure_venv": staticmethod(
        lambda env, extras: envs.append((env, extras)) or tmp_path / "python")})
    monkeypatch.setattr(run, "_lab_module", lambda: fake_lab)
    calls = []
    monkeypatch.setattr(run.subprocess, "call", lambda command, **kw: calls.append(command) or 3)
    assert run.main(["tests/slicing", "-x", "-q"]) == 3  # pytest's status is passed on
    assert envs == [(ROOT / ".venv-tests", "dev,dask,spark,nlp,tensorboard")]
    assert calls == [[str(tmp_path / "python"), "-m", "pytest", "tests/slicing", "-x", "-q"]]
    assert run.main(["--setup-only"]) == 0 and len(calls) == 1
