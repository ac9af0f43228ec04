"""Process settings of a training run: threads and kept memory
(slicewidgets/classification/_runtime.py)."""

from __future__ import annotations

import ast
import ctypes
import os
import threading

import pytest

torch = pytest.importorskip("torch")

from slicewidgets.classification import (  # noqa: E402
    DictDataset,
    Trainer,
    TrainerCallback,
    _runtime,  # noqa: E402
)
from slicewidgets.classification._runtime import (  # noqa: E402
    SMALL_MODEL_PARAMS,
    keep_freed_memory,
    keeps_freed_memory_here,
    training_threads,
)
from slicewidgets.slicing.sliceaware import PlainClassifier  # noqa: E402

BIG = 48 * 2**20  # bytes: above glibc's largest mmap threshold (32 MB)

glibc_only = pytest.mark.skipif(
    not keeps_freed_memory_here(), reason="keep_freed_memory acts on glibc only (Linux)"
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _mapped_bytes() -> int:
    """Bytes glibc currently serves with mmap (``mallinfo2().hblkhd``)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    return int(libc.mallinfo2().hblkhd)


def _mapped_while_holding_big_tensor() -> int:
    before = _mapped_bytes()
    t = torch.empty(BIG // 4)
    t.fill_(1.0)
    grown = _mapped_bytes() - before
    del t
    return grown


_CHILD = """
import ctypes, torch
from slicewidgets.classification._runtime import keep_freed_memory

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Mallinfo2

def mapped(nbytes):
    before = libc.mallinfo2().hblkhd
    t = torch.ones(nbytes // 4)
    grown = libc.mallinfo2().hblkhd - before
    del t
    return grown

BIG = 48 * 2**20
out = [mapped(BIG)]
with keep_freed_memory():
    out.append(mapped(BIG))
    with keep_freed_memory():
        pass
    out.append(mapped(BIG))
# larger than any block freed into the heap above (whose free chunks may add up to 2 * BIG:
# served from the heap, even with the defaults restored)
out.append(mapped(max(2 * BIG, libc.mallinfo2().fordblks + BIG)))
print(out)
"""


@glibc_only
def test_large_blocks_come_from_the_heap_inside_and_from_mmap_again_after():
    import subprocess
    import sys

    # a fresh process: this one's heap may already hold free blocks of any size
    result = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                            check=True)
    last = result.stdout.strip().splitlines()[-1]
    before, inside, after_nested_exit, after = ast.literal_eval(last)
    assert before >= BIG  # glibc's default: blocks this large are mmapped
    assert inside == 0 and after_nested_exit == 0  # the inner exit does not restore
    assert after >= 2 * BIG  # defaults restored


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@glibc_only
def test_kept_memory_lasts_until_the_last_concurrent_user_leaves_then_is_given_back():
    entered, release = threading.Event(), threading.Event()

    def other_fit():
        with keep_freed_memory():
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=other_fit)
    worker.start()
    entered.wait(10)
    try:
        with keep_freed_memory():
            assert _mapped_while_holding_big_tensor() == 0
            t = torch.ones(256 * 2**20 // 4)
            held = _rss()
            del t
        assert _mapped_while_holding_big_tensor() == 0  # the other "fit" still runs
        assert _rss() > held - 64 * 2**20  # freed, but kept in the process
    finally:
        release.set()
        worker.join()
    assert _rss() < held - 192 * 2**20  # given back when the last user left


def test_disabled_or_elsewhere_than_glibc_does_nothing(monkeypatch):
    with keep_freed_memory(enabled=False) as kept:
        assert kept is False
    monkeypatch.setattr(_runtime, "_glibc", lambda: None)
    with keep_freed_memory() as kept:
        assert kept is False


def test_training_threads(monkeypatch):
    monkeypatch.setattr(_runtime, "available_cpus", lambda: 2)
    big = SMALL_MODEL_PARAMS
    assert training_threads("auto", device_type="cpu", n_params=big, current=16) == 2  # quota
    assert training_threads("auto", device_type="cpu", n_params=big, current=1) == 1
    assert training_threads("auto", device_type="cpu", n_params=big - 1, current=16) == 1
    assert training_threads("auto", device_type="cuda", n_params=10, current=16) == 16
    assert training_threads(None, device_type="cpu", n_params=10, current=5) == 5
    assert training_threads(3, device_type="cpu", n_params=10, current=5) == 3
    for bad in (0, True, "many", 1.5):
        with pytest.raises(ValueError, match="num_threads must be 'auto', None or an int >= 1"):
            training_threads(bad, device_type="cpu", n_params=10, current=5)


def _big_model(seed=0, h=1024):
    torch.manual_seed(seed)
    base = torch.nn.Sequential(torch.nn.Linear(8, h), torch.nn.ReLU(), torch.nn.Linear(h, h),
                               torch.nn.ReLU())
    return PlainClassifier(base, head_dim=h, device="cpu")


def _loader():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(96, 8, generator=g)
    Y = (X[:, 0] > 0).long()
    from slicewidgets.classification import DictDataLoader

    return DictDataLoader(DictDataset.from_tensors(X, Y, "train"), batch_size=32)


def test_trainer_reuse_memory_auto_for_large_cpu_models_same_weights(monkeypatch):
    seen = []
    real = _runtime.keep_freed_memory

    def spy(enabled=True):
        seen.append(enabled)
        return real(enabled)

    monkeypatch.setattr("slicewidgets.classification.trainer.keep_freed_memory", spy)
    weights = {}
    for setting in ("auto", False):
        model = _big_model()
        assert sum(p.numel() for p in model.parameters()) >= SMALL_MODEL_PARAMS
        Trainer(n_epochs=2, lr=0.01, progress_bar=False, seed=0, device="cpu",
                reuse_memory=setting).fit(model, [_loader()])
        weights[setting] = [p.detach().clone() for p in model.parameters()]
    assert seen == [True, False]
    # where the bytes live changes nothing in the numbers
    assert all(torch.equal(a, b) for a, b in zip(weights["auto"], weights[False], strict=True))


def test_trainer_reuse_memory_auto_off_for_small_models_and_bad_values(monkeypatch):
    seen = []
    monkeypatch.setattr("slicewidgets.classification.trainer.keep_freed_memory",
                        lambda enabled=True: (seen.append(enabled), keep_freed_memory(False))[1])
    torch.manual_seed(0)
    small = PlainClassifier(torch.nn.Linear(8, 4), head_dim=4, device="cpu")
    Trainer(n_epochs=1, progress_bar=False, device="cpu").fit(small, [_loader()])
    assert seen == [False]
    with pytest.raises(ValueError, match="reuse_memory must be 'auto', True or False; got 'yes'"):
        Trainer(reuse_memory="yes", progress_bar=False, device="cpu").fit(small, [_loader()])


@glibc_only
def test_fit_keeps_memory_during_training_and_restores_after():
    mapped = []

    class Probe(TrainerCallback):
        def on_batch_end(self, trainer, metrics):
            if not mapped:
                mapped.append(_mapped_while_holding_big_tensor())

    Trainer(n_epochs=1, progress_bar=False, device="cpu", reuse_memory=True,
            callbacks=[Probe()]).fit(_big_model(h=64), [_loader()])
    assert mapped == [0]
