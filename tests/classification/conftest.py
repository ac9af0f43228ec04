"""Fixtures shared by the classification tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """Tiny models: one CPU thread is faster, and immune to a busy machine (torch's setting is
    restored afterwards)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
