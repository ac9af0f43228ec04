"""How many CPUs this process may really use: the container's quota, not the host's cores.

In a container (Binder, Kubernetes, ``docker run --cpus``) ``os.cpu_count()`` reports the host's
cores, and torch and the BLAS libraries start that many threads. With a quota of one or two CPUs
those threads wait for each other: a small torch model in the tutorial ran 1.5-4x slower with the
default thread count than with one thread on Binder. :func:`available_cpus` reads the cgroup CPU
quota (``cpu.max`` of cgroup v2, ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` of v1) and the CPU
affinity, and returns the smallest. ``binder/start`` exports it as ``OMP_NUM_THREADS``.
:func:`available_memory` does the same for memory (a Binder pod has 1-2 GB whatever the host
has), so that a notebook can say before a large run whether it fits.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["available_cpus", "available_memory", "cgroup_cpu_quota"]

_CGROUP = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_quota(root: str | os.PathLike[str] = _CGROUP) -> float | None:
    """The container's CPU quota in CPUs (e.g. ``2.0``), or ``None`` if there is none.

    Parameters
    ----------
    root
        The cgroup file system (tests pass a folder with fake files).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "cpu.max").write_text("150000 100000\\n")
    >>> cgroup_cpu_quota(d)
    1.5
    >>> _ = (d / "cpu.max").write_text("max 100000\\n")
    >>> cgroup_cpu_quota(d) is None
    True
    """
    root = Path(root)
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        if quota == "max" or not period:
            return None
        return int(quota) / int(period)
    quota_v1 = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu.cfs_quota_us")
    period_v1 = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu.cfs_period_us")
    if quota_v1 is None or period_v1 is None or int(quota_v1) <= 0:
        return None
    return int(quota_v1) / int(period_v1)


def available_cpus(root: str | os.PathLike[str] = _CGROUP) -> int:
    """CPUs this process can use: the affinity mask, capped by the cgroup quota (rounded up).

    Examples
    --------
    >>> 1 <= available_cpus() <= (os.cpu_count() or 1)
    True
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def available_memory(root: str | os.PathLike[str] = _CGROUP,
                     meminfo: str | os.PathLike[str] = "/proc/meminfo") -> int | None:
    """Bytes of memory this process can still use: the cgroup's limit minus its usage, capped by
    the machine's ``MemAvailable``; ``None`` where neither can be read (macOS, Windows).

    Examples
    --------
    >>> memory = available_memory()
    >>> memory is None or memory > 0
    True
    """
    root = Path(root)
    free: list[int] = []
    for limit_file, usage_file in (("memory.max", "memory.current"),  # cgroup v2
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
                                   ("memory.limit_in_bytes", "memory.usage_in_bytes")):  # v1
        limit, usage = _read(root / limit_file), _read(root / usage_file)
        if limit is not None and limit.isdigit() and int(limit) < 2**60:  # v1 "no limit" is huge
            free.append(max(0, int(limit) - int(usage or 0)))
            break
    text = _read(Path(meminfo)) or ""
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            free.append(int(line.split()[1]) * 1024)
    return min(free) if free else None


if __name__ == "__main__":  # pragma: no cover - used by binder/start
    print(available_cpus())
