"""Datasets: the YouTube spam comments of Snorkel's tutorials, and the synthetic data of the
slice-based learning paper.

``load_spam_dataset`` reads the UCI YouTube Spam Collection (CC BY 4.0) from a local folder
(``data_dir=`` or ``SLICEWIDGETS_DATA_DIR``), the user cache, or downloads it once
(checksum-verified) and splits it exactly as Snorkel's tutorial does.
``python -m slicewidgets.datasets fetch`` downloads and checks it ahead of time (before a class).
"""

_LAZY = {
    "load_spam_dataset": "slicewidgets.datasets.spam",
    "download_spam_dataset": "slicewidgets.datasets._download",
    "spam_data_dir": "slicewidgets.datasets._download",
    "spam_cache_dir": "slicewidgets.datasets._download",
    "SpamDataUnavailableError": "slicewidgets.datasets._download",
    "SpamChecksumError": "slicewidgets.datasets._download",
    "SpamDownloadError": "slicewidgets.datasets._download",
    "df_to_features": "slicewidgets.datasets.tutorial",
    "spam_tutorial_sfs": "slicewidgets.datasets.tutorial",
    "make_slice_synthetic": "slicewidgets.datasets.synthetic",
    "SliceSyntheticData": "slicewidgets.datasets.synthetic",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'slicewidgets.datasets' has no attribute {name!r}")
