"""``python -m slicewidgets.datasets fetch``: get the tutorial data ready before it is needed.

Finds the YouTube spam files (``--data-dir``, ``$SLICEWIDGETS_DATA_DIR``, the cache) or downloads
them into the cache, verifies every file against its SHA-256 (where those come from:
``CHECKSUM_PROVENANCE`` in ``_download.py``), reads them as the tutorials do and prints a report. Exit status 0 when the tutorials will find the data
without the network, 1 otherwise (with the reason and the fix). Run it before a class, on each
workshop laptop, or at image build time (``binder/postBuild`` does).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from slicewidgets.datasets._download import (
    CHECKSUM_PROVENANCE,
    DATA_DIR_ENV,
    SPAM_DATASET_PAGE,
    SPAM_FILENAMES,
    SPAM_SHA256,
    SpamChecksumError,
    SpamDataUnavailableError,
    spam_cache_dir,
    spam_data_dir,
)


def _origin(folder: Path, data_dir: str | None, was_cached: bool) -> str:
    if data_dir is not None and Path(data_dir).expanduser() == folder:
        return "--data-dir"
    env = os.environ.get(DATA_DIR_ENV, "")
    if env and Path(env).expanduser() == folder:
        return f"${DATA_DIR_ENV}"
    return "the cache" if was_cached else "downloaded just now into the cache"


def fetch(data_dir: str | None = None, *, download: bool = True, out=None) -> int:
    """Find or download the spam data, verify it and print a report; return the exit status."""
    import pandas as pd

    from slicewidgets.datasets.spam import load_spam_dataset

    out = out or sys.stdout
    cache = spam_cache_dir()
    was_cached = all((cache / name).is_file() for name in SPAM_FILENAMES)
    print("YouTube Spam Collection (UCI dataset 380, CC BY 4.0)", file=out)
    try:
        folder = spam_data_dir(data_dir, download=download, verify=True)
    except (SpamDataUnavailableError, SpamChecksumError) as err:
        print(f"NOT READY: {err}", file=out)
        return 1
    print(f"  folder: {folder}  ({_origin(folder, data_dir, was_cached)})", file=out)
    for name in SPAM_FILENAMES:
        path = folder / name
        rows = len(pd.read_csv(path))
        print(f"  {name:<24} {path.stat().st_size:>7,} bytes  {rows:>4} rows  "
              f"sha256 {SPAM_SHA256[name][:12]}... ok", file=out)
    print(f"  checksums: {CHECKSUM_PROVENANCE} (details: the documentation's install page)", file=out)
    splits = load_spam_dataset(split_dev_valid=True, data_dir=folder, download=False)
    sizes = ", ".join(f"{split} {len(df):,}" for split, df in
                      zip(("train", "dev", "valid", "test"), splits, strict=True))
    print(f"  tutorial splits: {sizes}", file=out)
    if folder != cache and _origin(folder, data_dir, was_cached).startswith("--"):
        print(f"  note: the notebooks look in ${DATA_DIR_ENV} and the cache, not here; "
              f"export {DATA_DIR_ENV}={folder}", file=out)
    print("READY: every file is the original; the tutorials will load it without network.",
          file=out)
    return 0


def main(argv: Sequence[str] | None = None, *, out=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m slicewidgets.datasets",
        description="Prepare the tutorial data ahead of time (before a class, at image build).",
        epilog=f"Data set page: {SPAM_DATASET_PAGE}",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser(
        "fetch", help="find or download the YouTube spam files, verify them, print a report")
    fetch_cmd.add_argument("--data-dir", help="a folder holding the five Youtube0*.csv files")
    fetch_cmd.add_argument("--no-download", action="store_true",
                           help="only check local copies; never touch the network")
    args = parser.parse_args(argv)
    return fetch(args.data_dir, download=not args.no_download, out=out)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
