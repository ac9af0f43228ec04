"""Datasets: the YouTube spam comments of Snorkel's tutorials, and the synthetic data of the
slice-based learning paper.

``load_spam_dataset`` reads the UCI YouTube Spam Collection (CC BY 4.0) from a local folder
(``data_dir=`` or ``SLICEWIDGETS_DATA_DIR``), the user cache, or downloads it once
(checksum-verified) and splits it exactly as Snorkel's tutorial does.
"""

_LAZY = {
    "load_spam_dataset": "slicewidgets.datasets.spam",
    "df_to_features": "slicewidgets.datasets.spam",
    "download_spam_dataset": "slicewidgets.datasets.spam",
    "spam_data_dir": "slicewidgets.datasets.spam",
    "SpamDataUnavailableError": "slicewidgets.datasets.spam",
    "SpamChecksumError": "slicewidgets.datasets.spam",
    "SpamDownloadError": "slicewidgets.datasets.spam",
    "spam_cache_dir": "slicewidgets.datasets.spam",
    "spam_tutorial_sfs": "slicewidgets.datasets.spam",
    "make_slice_synthetic": "slicewidgets.datasets.synthetic",
    "SliceSyntheticData": "slicewidgets.datasets.synthetic",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'slicewidgets.datasets' has no attribute {name!r}")
