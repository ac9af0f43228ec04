"""Work split across threads with one intra-op thread each
(slicewidgets/classification/_parallel.py), and the experts' products that use it."""

from __future__ import annotations

import threading

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification import _parallel  # noqa: E402
from slicewidgets.classification._parallel import (  # noqa: E402
    mm_split_inner,
    mm_t_split_rows,
    run_parts,
)


@pytest.fixture
def split_everything(monkeypatch):
    """Two torch threads, and every product split however small."""
    monkeypatch.setattr(_parallel, "MIN_SPLIT_NUMEL", 0)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_parts_run_in_threads_with_one_torch_thread_and_restore_the_count(split_everything):
    seen = {}

    def job(index, parts):
        seen[index] = (threading.current_thread().name, torch.get_num_threads(),
                       torch.is_grad_enabled(), parts)

    run_parts(job, 2)
    assert sorted(seen) == [0, 1]
    assert {v[1:] for v in seen.values()} == {(1, False, 2)}
    assert seen[0][0] == threading.current_thread().name  # part 0 here, part 1 in a new thread
    assert seen[1][0] == "slicewidgets-part-1"
    assert torch.get_num_threads() == 2
    assert not [t for t in threading.enumerate() if t.name.startswith("slicewidgets-part")]


def test_a_failing_part_raises_after_all_parts_ended(split_everything):
    ended = []

    def job(index, parts):
        if index == 0:
            raise KeyError("part 0")
        ended.append(index)

    with pytest.raises(KeyError, match="part 0"):
        run_parts(job, 2)
    assert ended == [1]
    ended.clear()

    def late_failure(index, parts):
        if index == 1:
            raise ValueError("part 1")
        ended.append(index)

    with pytest.raises(ValueError, match="part 1"):
        run_parts(late_failure, 2)
    assert ended == [0]
    assert torch.get_num_threads() == 2


def test_summed_parts_add_every_row_once_whatever_the_block_size(split_everything):
    g = torch.Generator().manual_seed(1)
    P, W = torch.randn(4, 50, generator=g), torch.randn(50, 30, generator=g)
    exact = (P.double() @ W.double()).float()
    for rows in (1, 8, 49, 50, 500):
        torch.testing.assert_close(mm_split_inner(P, W, rows=rows), exact, rtol=1e-5, atol=1e-5)
    W[17, 3] = float("nan")  # a NaN anywhere in W reaches the column it is in, as in P @ W
    out = mm_split_inner(P, W)
    assert out[:, 3].isnan().all() and not out[:, :3].isnan().any()


@pytest.mark.parametrize("shape", [(4, 37, 101), (3, 5, 2), (1, 64, 9)])
def test_split_products_equal_the_whole_products(split_everything, shape):
    r, d, n = shape
    g = torch.Generator().manual_seed(0)
    P, W, dK = torch.randn(r, d, generator=g), torch.randn(d, n, generator=g), torch.randn(r, n, generator=g)
    for rows in (1, 3, 8, 64):
        torch.testing.assert_close(mm_split_inner(P, W, rows=rows), P @ W)
    for rows in (1, 7, 64):
        torch.testing.assert_close(mm_t_split_rows(dK, W, rows=rows), dK @ W.T)


def test_no_split_where_a_graph_is_recorded(split_everything):
    P = torch.randn(4, 6, requires_grad=True)
    W = torch.randn(6, 9, requires_grad=True)
    out = mm_split_inner(P, W)
    assert out.grad_fn is not None  # one ordinary product, differentiable
    out = mm_t_split_rows(torch.randn(4, 9), W, rows=2)
    assert out.grad_fn is not None


def test_experts_product_gradients_with_split_products(split_everything):
    from slicewidgets.classification.sliceaware import _HeadsThroughExperts

    g = torch.Generator().manual_seed(3)
    P = torch.randn(4, 11, dtype=torch.float64, generator=g, requires_grad=True)
    W = torch.randn(11, 13, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(_HeadsThroughExperts.apply, (P, W))
    assert torch.autograd.gradgradcheck(_HeadsThroughExperts.apply, (P, W))
