"""Memory-bound CPU work split across threads that each run one intra-op thread.

The slice-aware model's products with its experts (``[4, d] @ [d, S*h]`` and ``[4, S*h] @
[S*h, d].T``, a pass over 368 MB for the tutorial's model) and Adam's update of the experts are
memory-bound: MKL runs the skinny products at 8 GB/s on two threads, and alternating MKL's
products with torch's Adam kernel block by block leaves both thread teams waiting for each
other. Splitting the work into independent parts instead, each part running in its own thread
with one intra-op thread, measured 2x faster for each of the three
(``benchmarks/README.md``, "Slice-aware training against this CPU's GEMM rate").

``dK @ W.T`` is split along a dimension that is not summed over (rows of ``W``): every output
number is the same dot product MKL computes for the whole matrix (bit-identical on this
machine; the tests compare with a tolerance). ``P @ W`` reads ``W`` a few full rows at a time,
each part summing its rows' products (:func:`mm_split_inner`): faster than splitting ``W``'s
columns across the parts (14 GB/s), with the sum over ``d`` in another order (float rounding).

Thread counts: each part sets its own torch thread count to 1 (``torch.set_num_threads`` is
per thread for OpenMP and MKL, but also updates torch's default for threads started later, so
the caller's count is set back when the parts are done). The threads live for one call. Work
that is not on the CPU, is small, or runs where torch uses one thread is done in the calling
thread as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "MIN_SPLIT_NUMEL",
    "mm_split_inner",
    "mm_t_split_rows",
    "n_parts",
    "run_parts",
]

# Matrices smaller than this (elements) are multiplied as one product.
MIN_SPLIT_NUMEL = 1 << 22

_local = threading.local()


def n_parts(*tensors: Tensor) -> int:
    """How many threads to split work on ``tensors`` across (1: do it in the calling thread)."""
    if getattr(_local, "worker", False):
        return 1
    if any(t.device.type != "cpu" or t.requires_grad and torch.is_grad_enabled() for t in tensors):
        return 1
    return max(1, torch.get_num_threads())


def _run_part(job: Callable[[int, int], None], index: int, parts: int,
              errors: list[BaseException | None]) -> None:
    _local.worker = True
    try:
        torch.set_num_threads(1)
        with torch.no_grad():
            job(index, parts)
    except BaseException as err:  # raised in the calling thread
        errors[index] = err
    finally:
        _local.worker = False


def run_parts(job: Callable[[int, int], None], parts: int) -> None:
    """Call ``job(i, parts)`` for ``i`` in ``range(parts)``, each in its own thread.

    Part 0 runs in the calling thread, the others in threads started for this call (named
    ``slicewidgets-part-i``, so that nothing forks while they run) and joined before it
    returns. Each part runs with one torch thread and gradients off; the caller's torch thread
    count is set back afterwards. ``parts <= 1`` calls ``job(0, 1)`` here. The first exception
    raised by a part is raised once all parts have ended.

    Examples
    --------
    >>> done = []
    >>> run_parts(lambda i, n: done.append((i, n)), 2)
    >>> sorted(done)
    [(0, 2), (1, 2)]
    """
    if parts <= 1:
        with torch.no_grad():
            job(0, 1)
        return
    before = torch.get_num_threads()
    errors: list[BaseException | None] = [None] * parts
    threads = [
        threading.Thread(target=_run_part, args=(job, i, parts, errors),
                         name=f"slicewidgets-part-{i}", daemon=True)
        for i in range(1, parts)
    ]
    try:
        for thread in threads:
            thread.start()
        _run_part(job, 0, parts, errors)
    finally:
        for thread in threads:
            if thread.is_alive() or thread.ident is not None:
                thread.join()
        torch.set_num_threads(before)
    for err in errors:
        if err is not None:
            raise err


def mm_split_inner(left: Tensor, right: Tensor, rows: int = 8) -> Tensor:
    """``left @ right`` for a short ``left`` (``[r, d]``) and a large ``right`` (``[d, n]``),
    by blocks of ``rows`` rows of ``right``: each part adds its blocks' products into an
    ``[r, n]`` sum of its own, and the parts' sums are added (one product, recording gradients
    as usual, where it is not split).

    Reading ``right`` in full rows, a few at a time, ran at 18 GB/s where splitting its
    columns across the parts ran at 14 and one MKL product at 7 (``[4, 3916] @ [3916, 23496]``,
    two threads). The sum runs over ``d`` in another order than MKL's: the numbers differ from
    the whole product's by float rounding, and depend only on ``rows`` and the number of parts
    (torch's thread count).

    Examples
    --------
    >>> A, B = torch.randn(4, 30), torch.randn(30, 50)
    >>> torch.allclose(mm_split_inner(A, B, rows=7), A @ B, atol=1e-5)
    True
    """
    parts = n_parts(left, right) if right.numel() >= MIN_SPLIT_NUMEL else 1
    if parts == 1:
        return left @ right
    dtype = torch.result_type(left, right)
    sums = [torch.zeros((left.shape[0], right.shape[1]), dtype=dtype) for _ in range(parts)]
    starts = list(range(0, right.shape[0], rows))

    def job(index: int, step: int) -> None:
        total = sums[index]
        for start in starts[index::step]:
            stop = min(start + rows, right.shape[0])
            total.addmm_(left[:, start:stop], right[start:stop])

    run_parts(job, parts)
    out = sums[0]
    for other in sums[1:]:
        out.add_(other)
    return out


def mm_t_split_rows(left: Tensor, right: Tensor, rows: int = 8) -> Tensor:
    """``left @ right.T`` for a short ``left`` (``[r, n]``) and a large ``right`` (``[d, n]``),
    by blocks of ``rows`` rows of ``right`` in parallel parts (one product, recording gradients
    as usual, where it is not split). Blocks of 8 rows ran at 19 GB/s, of 64 rows at 16
    (``[4, 23496] @ [23496, 3916]``, two threads).

    Examples
    --------
    >>> A, B = torch.randn(4, 50), torch.randn(30, 50)
    >>> torch.allclose(mm_t_split_rows(A, B, rows=7), A @ B.T)
    True
    """
    parts = n_parts(left, right) if right.numel() >= MIN_SPLIT_NUMEL else 1
    if parts == 1:
        return left @ right.T
    out = torch.empty((left.shape[0], right.shape[0]), dtype=torch.result_type(left, right))
    starts = list(range(0, right.shape[0], rows))

    def job(index: int, step: int) -> None:
        for start in starts[index::step]:
            stop = min(start + rows, right.shape[0])
            torch.mm(left, right[start:stop].T, out=out[:, start:stop])

    run_parts(job, parts)
    return out
