"""``python -m slicewidgets.datasets fetch``: the prefetch command and its report (no network)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from slicewidgets.datasets import __main__ as cli
from slicewidgets.datasets._download import (
    CHECKSUM_PROVENANCE,
    SPAM_FILENAMES,
    SPAM_SHA256,
    SPAM_SIZES,
    SPAM_URLS,
    SPAM_ZIP_CRC32,
    spam_cache_dir,
)


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    """An empty private cache, no SLICEWIDGETS_DATA_DIR, and HTTP GETs that fail."""
    opened: list[str] = []

    def offline_get(url, *args, **kwargs):
        opened.append(url)
        raise requests.ConnectionError("network disabled in tests")

    monkeypatch.setattr(requests, "get", offline_get)
    monkeypatch.setenv("SLICEWIDGETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SLICEWIDGETS_DATA_DIR", raising=False)
    return opened


def _run(*argv: str) -> tuple[int, str]:
    """Run the command in this process (so the network stays patched); capture its report."""
    out = io.StringIO()
    status = cli.main(["fetch", *argv], out=out)
    return status, out.getvalue()


def test_report_for_a_local_copy(spam_data_dir):
    status, text = _run("--data-dir", str(spam_data_dir))
    assert status == 0
    assert f"folder: {spam_data_dir}  (--data-dir)" in text
    for name in SPAM_FILENAMES:
        assert f"{name:<24} {SPAM_SIZES[name]:>7,} bytes" in text
    assert " 64,419 bytes   438 rows  sha256 702ef589860a... ok" in text
    assert "tutorial splits: train 1,586, dev 100, valid 120, test 250" in text
    assert text.rstrip().endswith("the tutorials will load it without network.")


def test_download_goes_into_the_cache_and_says_so(spam_data_dir, tmp_path, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in SPAM_FILENAMES:
            zf.writestr(name, (spam_data_dir / name).read_bytes())
            zf.writestr(f"__MACOSX/._{name}", b"\x00\x05\x16\x07resource fork")
    payload = buf.getvalue()

    def fake_get(url, timeout=None, **kwargs):
        response = requests.Response()
        response.status_code, response.url, response.raw = 200, url, io.BytesIO(payload)
        return response

    monkeypatch.setattr(requests, "get", fake_get)
    status, text = _run()
    assert status == 0
    cache = tmp_path / "cache" / "youtube-spam"
    assert f"folder: {cache}  (downloaded just now into the cache)" in text
    assert sorted(p.name for p in cache.iterdir()) == list(SPAM_FILENAMES)  # no __MACOSX
    status, text = _run("--no-download")  # second run: found in the cache, no network
    assert status == 0 and f"folder: {cache}  (the cache)" in text


def test_no_data_and_no_network_fails_with_the_fix(_offline):
    status, text = _run()
    assert status == 1
    assert text.startswith("YouTube Spam Collection")
    assert "NOT READY: The YouTube Spam Collection could not be found locally or downloaded." in text
    assert "export SLICEWIDGETS_DATA_DIR=/path/to/folder" in text
    assert _offline == list(SPAM_URLS)  # both official URLs tried, nothing else
    # exactly what to do: where to copy the files, how to check them, a proxy
    cache = spam_cache_dir()
    assert f"copy the five Youtube0*.csv files into\n         {cache}\n     (nothing else to set)" in text
    assert "python -m slicewidgets.datasets fetch --no-download --data-dir /path/to/folder" in text
    assert "export HTTPS_PROXY=" in text
    assert "UCI may have changed" not in text  # only when a download's checksum failed


def test_no_download_never_touches_the_network(_offline):
    status, text = _run("--no-download")
    assert status == 1 and "download: skipped (download=False)" in text
    assert _offline == []


def test_a_modified_file_is_named(spam_data_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(spam_data_dir, folder, ignore=shutil.ignore_patterns("README*"))
    (folder / "Youtube02-KatyPerry.csv").chmod(0o644)
    with open(folder / "Youtube02-KatyPerry.csv", "ab") as fh:
        fh.write(b"extra,row,,,1\n")
    status, text = _run("--data-dir", str(folder))
    assert status == 1
    assert "NOT READY: Youtube02-KatyPerry.csv in " in text and "is not the original UCI file" in text


def test_module_entry_point_runs(spam_data_dir):
    result = subprocess.run(
        [sys.executable, "-m", "slicewidgets.datasets", "fetch", "--no-download",
         "--data-dir", str(spam_data_dir)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "READY: every file is the original" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "slicewidgets.datasets"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "fetch" in bad.stderr


def test_report_says_where_the_checksums_come_from(spam_data_dir):
    status, text = _run("--no-download", "--data-dir", str(spam_data_dir))
    assert status == 0
    assert f"checksums: {CHECKSUM_PROVENANCE} (details: the documentation's install page)" in text
    assert "archived on GitHub in January 2020" in CHECKSUM_PROVENANCE
    assert "not compared with the zip UCI serves today" in CHECKSUM_PROVENANCE


def test_checksums_are_those_of_the_data_readme(spam_data_dir):
    """SPAM_SHA256 and SPAM_SIZES are the table of the data's README (where they were checked)."""
    import re

    readme = Path(spam_data_dir, "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (Youtube0\d-\w+\.csv) \|.*?\| ([\d,]+) \| `([0-9a-f]{64})` \|$",
                      readme, flags=re.M)
    assert [name for name, _, _ in rows] == list(SPAM_FILENAMES)
    assert {name: sha for name, _, sha in rows} == SPAM_SHA256
    assert {name: int(size.replace(",", "")) for name, size, _ in rows} == SPAM_SIZES


def test_sizes_are_those_of_the_real_files(spam_data_dir):
    assert {name: (spam_data_dir / name).stat().st_size for name in SPAM_FILENAMES} == SPAM_SIZES
    assert Path(spam_data_dir, "README.md").exists()


def test_real_files_have_the_crc32_of_the_archived_uci_zip(spam_data_dir):
    """An independent record of the same bytes: the CRC-32s in the central directory of a copy
    of UCI's zip archived in 2020 (how it was found and checked: docs/install.md)."""
    import zlib

    crcs = {name: zlib.crc32((spam_data_dir / name).read_bytes()) for name in SPAM_FILENAMES}
    assert crcs == SPAM_ZIP_CRC32
