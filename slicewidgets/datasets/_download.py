"""Where the YouTube spam CSV files come from: find, download (with pooch), cache and verify.

Places are tried in this order (the first one holding all five files wins):

1. the ``data_dir`` argument;
2. the ``SLICEWIDGETS_DATA_DIR`` environment variable;
3. the user cache, ``<cache>/youtube-spam`` where ``<cache>`` is ``SLICEWIDGETS_CACHE_DIR`` if set,
   else ``platformdirs.user_cache_dir("slicewidgets")``;
4. a download of the official UCI zip into that cache (newer URL first, then the old one), with
   :class:`pooch.HTTPDownloader` (requests, a progress bar when asked).

Every file is checked against a SHA-256 (``verify=False`` skips the check for local copies;
downloads are always checked). The check is on the five CSV files, not on the zip (whose
``__MACOSX/`` resource forks are ignored), so it does not depend on how a mirror re-zipped them.
Where the hashes come from, plainly: they were computed from a copy of the five files extracted
byte-for-byte from a public Git repository that committed a plain unzip of the UCI archive; each
file is byte-identical to at least one other independently published copy, together they
reproduce every published number of Snorkel's spam slicing tutorial, and this module's own
download code accepts a copy of UCI's zip archived on GitHub in January 2020 (its members keep
their 2017-03-26 dates). They have **not** been compared with the zip UCI serves today (the
machine they were checked on could not reach UCI).
If UCI's files differ, the download fails with a message that says so and what to do
(:data:`CHECKSUM_PROVENANCE`; the documentation's install page has the details). Nothing touches
the network at import time, and the CSV files are never part of the package. ``python -m slicewidgets.datasets fetch`` fetches
and checks them ahead of time (before a class, at Binder build time).
"""


from __future__ import annotations

import hashlib
import http.client
import io
import logging
import os
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "SPAM_FILENAMES",
    "SPAM_SHA256",
    "SPAM_SIZES",
    "SPAM_ZIP_CRC32",
    "SPAM_URLS",
    "SPAM_DATASET_PAGE",
    "CHECKSUM_PROVENANCE",
    "SpamDataUnavailableError",
    "SpamChecksumError",
    "SpamDownloadError",
    "spam_data_dir",
    "verify_bytes",
    "spam_cache_dir",
    "download_spam_dataset",
]

logger = logging.getLogger(__name__)

#: The five CSV files, in the order the tutorial reads them (``sorted(glob("Youtube*.csv"))``);
#: video ids 1..5 follow this order.
SPAM_FILENAMES: tuple[str, ...] = (
    "Youtube01-Psy.csv",
    "Youtube02-KatyPerry.csv",
    "Youtube03-LMFAO.csv",
    "Youtube04-Eminem.csv",
    "Youtube05-Shakira.csv",
)

#: Where :data:`SPAM_SHA256` comes from (printed by ``python -m slicewidgets.datasets fetch``).
CHECKSUM_PROVENANCE = (
    "from the five files of UCI's zip as archived on GitHub in January 2020 (members dated "
    "2017-03-26), matched by independent public copies and "
    "reproducing Snorkel's published tutorial numbers; not compared with the zip UCI serves "
    "today, which could not be reached where they were checked"
)

#: CRC-32 of each CSV file as listed in the central directory of that archived copy of the UCI
#: zip (an independent record of the same bytes; see the documentation's install page).
SPAM_ZIP_CRC32: dict[str, int] = {
    "Youtube01-Psy.csv": 0xBB42AAAB,
    "Youtube02-KatyPerry.csv": 0x56ABBB42,
    "Youtube03-LMFAO.csv": 0x0CC79B80,
    "Youtube04-Eminem.csv": 0x52AA6761,
    "Youtube05-Shakira.csv": 0x069EB2DB,
}

#: Where to report a download whose files differ from :data:`SPAM_SHA256`.
ISSUES_URL = "https://github.com/slicewidgets/slicewidgets/issues"

#: SHA-256 of each CSV file (see :data:`CHECKSUM_PROVENANCE`).
SPAM_SHA256: dict[str, str] = {
    "Youtube01-Psy.csv": "19797e6c77690e3c8809cfd2853ae7341390636367ba66cf5d4f4083f0b88535",
    "Youtube02-KatyPerry.csv": "902c614f8ef24f987d6f614d7e6111aa5160b89a0646b68e007bd6044a3d123b",
    "Youtube03-LMFAO.csv": "702ef589860a1831956f527760a3d9737ef8a07ab36c7de35b92b8898b8c3928",
    "Youtube04-Eminem.csv": "92f54eb6b22fdf3b7ae85e1f500e5aa7442edd025e504b988a97078756187e76",
    "Youtube05-Shakira.csv": "1d8ab47b71e8037c51183b2fc62f0591a48a4b54f3a4f5d9d3043113b274e98e",
}

#: Size in bytes of each file (as listed beside its hash in the data README).
SPAM_SIZES: dict[str, int] = {
    "Youtube01-Psy.csv": 57_438,
    "Youtube02-KatyPerry.csv": 64_279,
    "Youtube03-LMFAO.csv": 64_419,
    "Youtube04-Eminem.csv": 82_896,
    "Youtube05-Shakira.csv": 72_706,
}

#: Official download URLs of the UCI zip, tried in this order.
SPAM_URLS: tuple[str, ...] = (
    "https://archive.ics.uci.edu/static/public/380/youtube+spam+collection.zip",
    "http://archive.ics.uci.edu/ml/machine-learning-databases/00380/YouTube-Spam-Collection-v1.zip",
)

#: The data set's page at the UCI Machine Learning Repository.
SPAM_DATASET_PAGE = "https://archive.ics.uci.edu/dataset/380/youtube+spam+collection"

DATA_DIR_ENV = "SLICEWIDGETS_DATA_DIR"
CACHE_DIR_ENV = "SLICEWIDGETS_CACHE_DIR"
_CACHE_SUBDIR = "youtube-spam"
_MAX_DOWNLOAD_BYTES = 50 * 2**20  # the real zip is ~0.2 MB
_MAX_MEMBER_BYTES = 10 * 2**20  # the largest CSV is ~83 kB


class SpamDataUnavailableError(FileNotFoundError):
    """The spam CSV files are in none of the places looked at and could not be downloaded.

    ``places`` holds ``(place, what was found)`` pairs, in the order they were tried.
    """

    def __init__(self, message: str, places: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.places: list[tuple[str, str]] = list(places)

    def __str__(self) -> str:  # FileNotFoundError would otherwise print the args tuple oddly
        return str(self.args[0]) if self.args else ""


class SpamChecksumError(ValueError):
    """A spam CSV file is not byte-identical to the original UCI file."""

    def __init__(
        self, message: str, filename: str = "", expected: str = "", actual: str = ""
    ) -> None:
        super().__init__(message)
        self.filename = filename
        self.expected = expected
        self.actual = actual


class SpamDownloadError(OSError):
    """No official URL delivered a zip with the five original CSV files.

    ``failures`` holds ``(url, reason)`` pairs, one per URL tried.
    """

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures: list[tuple[str, str]] = list(failures)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------------------------
# Locating the files
# --------------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _as_path(value: Any, argument: str) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{argument} must be a str or os.PathLike pointing to a folder, got "
            f'{type(value).__name__} ({value!r}). Fix: pass e.g. {argument}="/path/to/folder".'
        )
    return Path(value).expanduser()


def spam_cache_dir() -> Path:
    """Return the folder where downloaded spam CSV files are cached.

    ``$SLICEWIDGETS_CACHE_DIR/youtube-spam`` if that variable is set (and not empty), else
    ``platformdirs.user_cache_dir("slicewidgets")/youtube-spam``. The folder may not exist yet.

    Returns
    -------
    pathlib.Path
        The cache folder for this data set.

    Examples
    --------
    >>> spam_cache_dir().name
    'youtube-spam'
    """
    root = os.environ.get(CACHE_DIR_ENV, "")
    if root:
        base = Path(root).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("slicewidgets"))
    return base / _CACHE_SUBDIR


def _check_folder(folder: Path, origin: str, verify: bool) -> str | None:
    """Return ``None`` if ``folder`` holds the five files (and they verify), else why not.

    Raises :class:`SpamChecksumError` for a modified file (only if ``verify``).
    """
    if not folder.is_dir():
        return "does not exist" if not folder.exists() else "is not a directory"
    missing = [name for name in SPAM_FILENAMES if not (folder / name).is_file()]
    if missing:
        return f"missing {', '.join(missing)}"
    if verify:
        for name in SPAM_FILENAMES:
            verify_bytes((folder / name).read_bytes(), name, where=f"{folder} ({origin})")
    return None


def verify_bytes(data: bytes, name: str, where: str, *, downloaded: bool = False) -> None:
    """Raise :class:`SpamChecksumError` unless ``data`` is the original file ``name``.

    ``where`` names the place in the message; ``downloaded`` words it for a download.
    """
    expected = SPAM_SHA256[name]
    actual = _sha256(data)
    if actual != expected and downloaded:
        raise SpamChecksumError(
            f"{name} in {where} differs from the file slicewidgets checks against: expected "
            f"sha256 {expected}, got sha256 {actual} ({len(data):,} bytes). UCI may have changed "
            "the archive, or the download was altered on the way",
            filename=name,
            expected=expected,
            actual=actual,
        )
    if actual != expected:
        raise SpamChecksumError(
            f"{name} in {where} is not the original UCI file: expected sha256 {expected}, "
            f"got sha256 {actual} ({len(data):,} bytes). The file is modified or corrupt. Fix: "
            f"replace it with the original from {SPAM_DATASET_PAGE}, or pass verify=False to use "
            "it anyway (the splits and scores will then not match the tutorial).",
            filename=name,
            expected=expected,
            actual=actual,
        )


def spam_data_dir(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> Path:
    """Find (or download) the folder holding the five YouTube spam CSV files.

    Places are tried in order, and the first one holding all five files is returned:
    ``data_dir``, then ``$SLICEWIDGETS_DATA_DIR``, then the cache folder (:func:`spam_cache_dir`),
    then a download into the cache (:func:`download_spam_dataset`). If ``data_dir`` or the
    environment variable is given but does not hold the files, a :class:`UserWarning` says which
    place was used instead.

    Parameters
    ----------
    data_dir
        A folder with ``Youtube01-Psy.csv`` ... ``Youtube05-Shakira.csv`` (as unzipped from the UCI
        archive), or ``None``.
    download
        Download the official zip into the cache if no local copy is found. ``False`` never
        touches the network.
    verify
        Check every local file against the SHA-256 of the original UCI file. Downloads are always
        checked.

    Returns
    -------
    pathlib.Path
        The folder holding the five files.

    Raises
    ------
    SpamDataUnavailableError
        (a :class:`FileNotFoundError`) if no place holds the files and the download failed or was
        disabled; the message lists every place looked at and how to point at a local copy.
    SpamChecksumError
        (a :class:`ValueError`) if a file in ``data_dir`` or ``$SLICEWIDGETS_DATA_DIR`` differs from
        the original. A modified file in the cache is replaced by a fresh download instead.
    TypeError
        If ``data_dir`` is not a str or path.

    Examples
    --------
    >>> folder = spam_data_dir("/path/to/youtube-spam")  # doctest: +SKIP
    >>> sorted(p.name for p in folder.glob("Youtube*.csv"))  # doctest: +SKIP
    ['Youtube01-Psy.csv', 'Youtube02-KatyPerry.csv', 'Youtube03-LMFAO.csv', ...]
    """
    places: list[tuple[str, str]] = []
    requested: list[str] = []  # explicitly configured places that did not work

    if data_dir is None:
        places.append(("data_dir argument", "not given"))
    else:
        folder = _as_path(data_dir, "data_dir")
        why = _check_folder(folder, "data_dir argument", verify)
        if why is None:
            return folder
        places.append((f"data_dir argument {_show(folder)}", why))
        requested.append(f"data_dir={str(folder)!r} ({why})")

    env_value = os.environ.get(DATA_DIR_ENV, "")
    if not env_value:
        places.append((f"environment variable {DATA_DIR_ENV}", "not set"))
    else:
        folder = Path(env_value).expanduser()
        why = _check_folder(folder, f"${DATA_DIR_ENV}", verify)
        if why is None:
            _warn_fallback(requested, folder)
            return folder
        places.append((f"environment variable {DATA_DIR_ENV}={_show(folder)}", why))
        requested.append(f"{DATA_DIR_ENV}={env_value!r} ({why})")

    cache = spam_cache_dir()
    try:
        why = _check_folder(cache, "cache", verify)
    except SpamChecksumError as err:  # our own cache: a fresh download repairs it
        why = f"{err.filename} has sha256 {err.actual}, expected {err.expected}"
    if why is None:
        _warn_fallback(requested, cache)
        return cache
    places.append((f"cache directory {str(cache)!r}", why))

    if not download:
        places.append(("download", "skipped (download=False)"))
    else:
        try:
            folder = download_spam_dataset(cache)
        except SpamDownloadError as err:
            places.extend((f"download {url}", reason) for url, reason in err.failures)
        except OSError as err:  # e.g. the cache folder is not writable
            places.append((f"download into {str(cache)!r}", f"{type(err).__name__}: {err}"))
        else:
            _warn_fallback(requested, folder)
            return folder

    raise SpamDataUnavailableError(_unavailable_message(places, cache), places)


def _show(folder: Path) -> str:
    """``'data'`` -> ``'data' (= /abs/data)`` so a wrong working directory is obvious."""
    text = repr(str(folder))
    return text if folder.is_absolute() else f"{text} (= {Path.cwd() / folder})"


def _warn_fallback(requested: list[str], used: Path) -> None:
    if requested:
        warnings.warn(
            f"The YouTube spam files were not found at {'; '.join(requested)}; using {used} "
            "instead.",
            UserWarning,
            stacklevel=3,
        )


def _unavailable_message(places: Sequence[tuple[str, str]], cache: Path | None = None) -> str:
    looked = "\n".join(f"  {i}. {place}: {why}" for i, (place, why) in enumerate(places, 1))
    names = ", ".join(SPAM_FILENAMES)
    cache = spam_cache_dir() if cache is None else cache
    message = (
        "The YouTube Spam Collection could not be found locally or downloaded.\n"
        f"Needed: the five files {names}.\n"
        f"Looked at, in this order:\n{looked}\n"
        "Fix (any one of these), then run again:\n"
        "  a. With network access (behind a proxy: export HTTPS_PROXY=http://host:port first), run\n"
        "         python -m slicewidgets.datasets fetch\n"
        f"     It downloads the data once (0.2 MB) into {cache} and checks it.\n"
        "  b. Without network here: on a machine that has it, download\n"
        f"         {SPAM_URLS[0]}\n"
        f"     (the data set's page: {SPAM_DATASET_PAGE}),\n"
        "     unzip it, and copy the five Youtube0*.csv files into\n"
        f"         {cache}\n"
        "     (nothing else to set), or into any folder and either pass that folder:\n"
        '         load_spam_dataset(data_dir="/path/to/folder")\n'
        "     or set the environment variable (before starting Python/Jupyter):\n"
        f"         export {DATA_DIR_ENV}=/path/to/folder\n"
        "     Check the copy, without network:\n"
        "         python -m slicewidgets.datasets fetch --no-download --data-dir /path/to/folder"
    )
    if any(why.startswith(SpamChecksumError.__name__) for _, why in places):
        message += "\n" + _MSG_DOWNLOAD_DIFFERS
    return message


#: Added to the error when a download worked but its files differ from :data:`SPAM_SHA256`.
_MSG_DOWNLOAD_DIFFERS = (
    "Note: a download worked, but its files differ from the checksums slicewidgets knows "
    f"(they come {CHECKSUM_PROVENANCE}). If UCI changed the archive, its files can still be used: unzip them "
    'into a folder and call load_spam_dataset(data_dir="/path/to/folder", verify=False) (the '
    "tutorials' numbers may then differ slightly), and please report it at "
    f"{ISSUES_URL} with the sha256 values above."
)


# --------------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------------


def _fetch(url: str, timeout: float, progressbar: bool = False) -> bytes:
    """The bytes at ``url``, through pooch's HTTP downloader (requests underneath)."""
    import pooch

    from slicewidgets._version import __version__

    buffer = io.BytesIO()
    downloader = pooch.HTTPDownloader(
        progressbar=progressbar, timeout=timeout,
        headers={"User-Agent": f"slicewidgets/{__version__}"},
    )
    downloader(url, buffer, None)
    data = buffer.getvalue()
    if len(data) > _MAX_DOWNLOAD_BYTES:
        raise ValueError(f"response is larger than {_MAX_DOWNLOAD_BYTES:,} bytes")
    return data


def _extract_csvs(data: bytes, depth: int = 0) -> dict[str, bytes]:
    """Return the five verified CSV files from zip bytes (one level of nested zip allowed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValueError(f"not a zip file ({len(data):,} bytes)") from None
    found: dict[str, bytes] = {}
    nested: list[zipfile.ZipInfo] = []
    with archive:
        for info in archive.infolist():
            parts = info.filename.replace("\\", "/").split("/")
            base = parts[-1]
            if info.is_dir() or "__MACOSX" in parts or base.startswith("._"):
                continue
            if base in SPAM_SHA256 and base not in found:
                if info.file_size > _MAX_MEMBER_BYTES:
                    raise ValueError(f"{info.filename} is too large ({info.file_size:,} bytes)")
                content = archive.read(info)
                verify_bytes(content, base, where="the downloaded zip", downloaded=True)
                found[base] = content
            elif base.lower().endswith(".zip") and info.file_size <= _MAX_DOWNLOAD_BYTES:
                nested.append(info)
        if len(found) < len(SPAM_FILENAMES) and depth == 0:
            for info in nested:
                for name, content in _extract_csvs(archive.read(info), depth + 1).items():
                    found.setdefault(name, content)
    missing = [name for name in SPAM_FILENAMES if name not in found]
    if missing and depth == 0:
        raise ValueError(f"the zip does not contain {', '.join(missing)}")
    return found


def _write_atomic(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def download_spam_dataset(
    dest: str | os.PathLike[str] | None = None,
    *,
    urls: Sequence[str] | None = None,
    timeout: float = 30.0,
    progressbar: bool = False,
) -> Path:
    """Download the official UCI zip and extract the five spam CSV files into ``dest``.

    The URLs are tried in order until one delivers a zip whose five CSV files all match their
    SHA-256; only then is anything written (each file atomically: temp file + ``os.replace``), so a
    failed or tampered download never leaves a partial or corrupt file behind. Only the five CSV
    files are extracted (``__MACOSX/`` entries and anything else are ignored).

    Parameters
    ----------
    dest
        Target folder, created if needed. Default: the cache folder (:func:`spam_cache_dir`).
    urls
        URLs to try, in order. Default :data:`SPAM_URLS` (the newer UCI URL, then the old one).
    timeout
        Seconds to wait for each connection.
    progressbar
        Show a download progress bar (tqdm).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    SpamDownloadError
        (an :class:`OSError`) if no URL delivered the original files; ``failures`` lists each URL
        with its error (network error, not a zip, missing file, checksum mismatch).
    OSError
        If ``dest`` cannot be created or written.

    Examples
    --------
    >>> folder = download_spam_dataset()  # doctest: +SKIP
    >>> folder.name  # doctest: +SKIP
    'youtube-spam'
    """
    target = spam_cache_dir() if dest is None else _as_path(dest, "dest")
    url_list = list(SPAM_URLS if urls is None else urls)
    if not url_list:
        raise ValueError("urls must name at least one URL, got an empty sequence.")
    failures: list[tuple[str, str]] = []
    files: dict[str, bytes] | None = None
    for url in url_list:
        logger.info("Downloading the YouTube Spam Collection from %s", url)
        try:
            files = _extract_csvs(_fetch(url, timeout, progressbar))
        except (
            OSError,  # requests' errors (connection, HTTP status, timeout, TLS) are OSErrors
            http.client.HTTPException,  # e.g. IncompleteRead
            ValueError,  # SpamChecksumError, not a zip, missing files, bad URL
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            NotImplementedError,  # unsupported zip compression
            RuntimeError,
        ) as err:
            failures.append((url, f"{type(err).__name__}: {err}"))
            logger.info("Download from %s failed: %s", url, err)
            continue
        break
    if files is None:
        detail = "\n".join(f"  {url}: {reason}" for url, reason in failures)
        raise SpamDownloadError(
            "Could not download the YouTube Spam Collection:\n"
            f"{detail}\n"
            f"Fix: download it by hand from {SPAM_DATASET_PAGE}, unzip the five Youtube0*.csv "
            'files into a folder and call load_spam_dataset(data_dir="/path/to/folder") or '
            f"export {DATA_DIR_ENV}=/path/to/folder."
            + ("\n" + _MSG_DOWNLOAD_DIFFERS
               if any(why.startswith(SpamChecksumError.__name__) for _, why in failures) else ""),
            failures,
        )
    target.mkdir(parents=True, exist_ok=True)
    for name in SPAM_FILENAMES:
        _write_atomic(target / name, files[name])
    logger.info("Saved the YouTube Spam Collection to %s", target)
    return target
