"""Process settings for a training run: CPU threads and how freed memory is kept.

Two things decide how close a CPU epoch of a large model comes to the machine's matrix-product
rate, besides the products themselves (``benchmarks/bench_learning.py gemm`` measures it):

* **Threads.** torch sizes its thread pool from the host's cores, not from the container's CPU
  quota (Binder, Kubernetes, ``docker --cpus``); threads beyond the quota wait for each other at
  every operation. :func:`training_threads` caps the count at
  :func:`slicewidgets._resources.available_cpus`, and uses one thread for small models, whose
  operations are too short to share.
* **Fresh memory.** Every step of a large model allocates its gradients anew (the tutorial's
  slice-aware model: 0.5 GB per batch of 64). glibc serves blocks above 32 MB with ``mmap`` and
  returns them with ``munmap`` when freed, so the kernel maps and zeroes 0.5 GB of new pages at
  every step and unmaps it again at ``zero_grad``: measured, the expert weights' gradient product
  ran at 2-4 GFLOP/s instead of at memory speed, and a step spent a quarter of its time there.
  :func:`keep_freed_memory` tells glibc, for the duration of ``fit``, to serve large blocks from
  its heap and keep freed ones for reuse (``mallopt(M_MMAP_MAX, 0)``, ``M_TRIM_THRESHOLD``), then
  restores glibc's defaults and gives the kept memory back (``malloc_trim``). The numbers
  computed are the same; only where the bytes live changes. Elsewhere than glibc (macOS,
  Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from slicewidgets._resources import available_cpus

__all__ = [
    "SMALL_MODEL_PARAMS",
    "keep_freed_memory",
    "keeps_freed_memory_here",
    "reuses_memory",
    "training_threads",
]

logger = logging.getLogger(__name__)

# Below this many parameters, fit uses one CPU thread (num_threads="auto").
SMALL_MODEL_PARAMS = 1_000_000

# glibc's mallopt parameters (malloc.h) and their documented defaults.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_MMAP_MAX = 65536
_KEEP_TRIM_THRESHOLD = 2**31 - 1  # the largest int mallopt takes: never trim while training

_lock = threading.Lock()
_depth = 0  # nested or concurrent fits share one setting; the last one out restores it
_libc: ctypes.CDLL | None = None
_libc_checked = False


def _glibc() -> ctypes.CDLL | None:
    """glibc, if this process runs on it (``None`` on macOS, Windows, musl)."""
    global _libc, _libc_checked
    if not _libc_checked:
        _libc_checked = True
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
                _libc = libc
            except (OSError, AttributeError):  # pragma: no cover - glibc without these symbols
                _libc = None
    return _libc


def keeps_freed_memory_here() -> bool:
    """Whether :func:`keep_freed_memory` has an effect on this platform (glibc)."""
    return _glibc() is not None


@contextmanager
def keep_freed_memory(enabled: bool = True) -> Iterator[bool]:
    """Keep freed large blocks in the process for reuse while the ``with`` block runs.

    Yields whether the setting is in effect (``False`` when ``enabled`` is false or the C
    library is not glibc). On exit (the last one, when blocks nest or run in several threads)
    glibc's defaults are restored and the kept memory is returned to the system; glibc's
    mmap threshold then stays at its default (128 kB) instead of adapting to the program.

    Examples
    --------
    >>> import torch
    >>> with keep_freed_memory() as kept:
    ...     for _ in range(3):
    ...         grad = torch.empty(64 * 2**20 // 4)  # 64 MB: the same pages each time
    >>> kept in (True, False)
    True
    """
    global _depth
    libc = _glibc() if enabled else None
    if libc is None:
        yield False
        return
    with _lock:
        if _depth == 0:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_TRIM_THRESHOLD)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)


def reuses_memory(setting: bool | str, *, device_type: str, n_params: int) -> bool:
    """Whether ``fit`` keeps freed memory, from ``Trainer(reuse_memory=...)``.

    ``"auto"``: for models of :data:`SMALL_MODEL_PARAMS` parameters or more on the CPU.

    Examples
    --------
    >>> reuses_memory("auto", device_type="cpu", n_params=10**8)
    True
    """
    if setting == "auto":
        return device_type == "cpu" and n_params >= SMALL_MODEL_PARAMS
    if isinstance(setting, bool):
        return setting
    raise ValueError(f"reuse_memory must be 'auto', True or False; got {setting!r}.")


def training_threads(setting: int | str | None, *, device_type: str, n_params: int,
                     current: int) -> int:
    """The torch CPU thread count for a ``fit``, from ``Trainer(num_threads=...)``.

    ``None`` keeps ``current``; an int is used as given; ``"auto"`` keeps ``current`` off the
    CPU, uses one thread below :data:`SMALL_MODEL_PARAMS` parameters, and otherwise caps
    ``current`` at the CPUs this process may use (affinity and cgroup quota).

    Examples
    --------
    >>> training_threads("auto", device_type="cpu", n_params=10_000, current=8)
    1
    >>> training_threads(3, device_type="cpu", n_params=10_000, current=8)
    3
    """
    if setting is None:
        return current
    if setting == "auto":
        if device_type != "cpu":
            return current
        if n_params < SMALL_MODEL_PARAMS:
            return 1
        return max(1, min(current, available_cpus()))
    if isinstance(setting, int) and not isinstance(setting, bool) and setting >= 1:
        return setting
    raise ValueError(f"num_threads must be 'auto', None or an int >= 1; got {setting!r}.")
