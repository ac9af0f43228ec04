"""The CPU quota of a container, read from fake cgroup files."""

from __future__ import annotations

import os

import pytest

from slicewidgets._resources import available_cpus, available_memory, cgroup_cpu_quota


@pytest.mark.parametrize(("content", "expected"), [
    ("200000 100000", 2.0), ("50000 100000", 0.5), ("max 100000", None)])
def test_cgroup_v2(tmp_path, content, expected):
    (tmp_path / "cpu.max").write_text(content + "\n")
    assert cgroup_cpu_quota(tmp_path) == expected


def test_cgroup_v1(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(tmp_path) == 1.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_no_cgroup_files_means_no_quota(tmp_path):
    assert cgroup_cpu_quota(tmp_path / "missing") is None


def test_quota_caps_the_cores_and_rounds_up(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(72)), raising=False)
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert available_cpus(tmp_path) == 2  # 1.5 CPUs: two threads, not 72
    (tmp_path / "cpu.max").write_text("10000 100000\n")
    assert available_cpus(tmp_path) == 1  # never 0
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cpus(tmp_path) == 72


def test_binder_start_sets_the_thread_count_from_the_quota():
    import subprocess
    import sys
    from pathlib import Path

    start = Path(__file__).resolve().parents[1] / "binder" / "start"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    out = subprocess.run(["bash", str(start), "env"], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert f"OMP_NUM_THREADS={available_cpus()}\n" in out
    assert f"MKL_NUM_THREADS={available_cpus()}\n" in out
    env["OMP_NUM_THREADS"] = "3"  # a value set by the user is kept
    out = subprocess.run(["bash", str(start), "env"], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "OMP_NUM_THREADS=3\n" in out


def test_memory_is_the_cgroup_limit_minus_usage_capped_by_memavailable(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemAvailable:   20000000 kB\n")
    (tmp_path / "memory.max").write_text("2147483648\n")  # a 2 GiB pod
    (tmp_path / "memory.current").write_text("536870912\n")
    assert available_memory(tmp_path, meminfo) == 2147483648 - 536870912
    (tmp_path / "memory.max").write_text("max\n")  # no limit: the machine's MemAvailable
    assert available_memory(tmp_path, meminfo) == 20000000 * 1024


def test_memory_cgroup_v1_and_nothing_readable(tmp_path):
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("1073741824\n")
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text("73741824\n")
    assert available_memory(tmp_path, tmp_path / "no-meminfo") == 1_000_000_000
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert available_memory(tmp_path, tmp_path / "no-meminfo") is None
