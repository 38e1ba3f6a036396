"""The only module that touches the network: the Hugging Face Hub, Google Drive (gdown), GitHub releases, ModelScope
and plain HTTP(S). It imports nothing else from the package (what to fetch is data in the specs; what to do with the
files is :mod:`vton_zoo.weights`).

Everything here honours ``HF_HUB_OFFLINE`` / a local Hub cache, so a machine without network can still load
weights that were downloaded before.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

WEIGHT_FILES = ("model.safetensors", "config.json", "README.md")


def download_weights(repo_id: str, *, revision: str | None = None, cache_dir: str | Path | None = None) -> Path:
    """Download (or find in the local Hub cache) a zoo weights repo and return its folder.

    Args:
        repo_id: ``OWNER/NAME`` on the Hugging Face Hub.
        revision: a branch, tag or commit; the default branch when ``None``.
        cache_dir: the Hub cache to use (default: ``HF_HUB_CACHE``).

    Raises:
        RuntimeError: the repo cannot be reached and is not cached.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    if not repo_id or repo_id.count("/") != 1:
        raise ValueError(f"Hub repo id must look like OWNER/NAME, got {repo_id!r}")
    try:
        folder = snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, allow_patterns=list(WEIGHT_FILES))
    except RepositoryNotFoundError as exc:
        raise RuntimeError(f"Hub repo {repo_id} not found (or private without a token): {exc}") from exc
    except LocalEntryNotFoundError as exc:
        raise RuntimeError(f"Cannot download {repo_id}: offline and not in the local Hub cache. Connect to the "
                           f"internet once, or copy the folder and pass weights=PATH. ({exc})") from exc
    except (HfHubHTTPError, OSError) as exc:
        raise RuntimeError(f"Downloading {repo_id} failed: {exc}") from exc
    return Path(folder)


def download_dataset(repo_id: str, *, revision: str | None = None, allow_patterns: list[str] | None = None,
                     cache_dir: str | Path | None = None) -> Path:
    """Download (or find in the local Hub cache) files of a Hub *dataset* repo, e.g. the demo's richer examples.

    Raises:
        RuntimeError: the repo cannot be reached and is not cached.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if not repo_id or repo_id.count("/") != 1:
        raise ValueError(f"Hub repo id must look like OWNER/NAME, got {repo_id!r}")
    try:
        folder = snapshot_download(repo_id, repo_type="dataset", revision=revision, cache_dir=cache_dir,
                                   allow_patterns=allow_patterns)
    except LocalEntryNotFoundError as exc:
        raise RuntimeError(f"Cannot download dataset {repo_id}: offline and not in the Hub cache ({exc})") from exc
    except (HfHubHTTPError, OSError) as exc:
        raise RuntimeError(f"Downloading dataset {repo_id} failed: {exc}") from exc
    return Path(folder)


def download_repo_file(repo_id: str, filename: str, *, repo_type: str = "dataset", revision: str | None = None,
                       endpoint: str | None = None, timeout: float = 10.0, cached_only: bool = False) -> Path:
    """One file of a Hub repo (a Space, a dataset or a model), fetched or found in the Hub cache (the demo's example
    photos). ``endpoint`` defaults to ``HF_ENDPOINT`` (read at call time); ``cached_only`` never asks the network.

    Raises:
        RuntimeError: offline and not cached, or the Hub refused (the message says which).
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if not repo_id or repo_id.count("/") != 1:
        raise ValueError(f"Hub repo id must look like OWNER/NAME, got {repo_id!r}")
    try:
        path = hf_hub_download(repo_id, filename, repo_type=repo_type, revision=revision, etag_timeout=timeout,
                               endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None,
                               local_files_only=cached_only or is_offline())
    except LocalEntryNotFoundError as exc:
        raise RuntimeError(f"Cannot download {filename} from {repo_id}: offline and not in the Hub cache") from exc
    except (HfHubHTTPError, OSError) as exc:
        raise RuntimeError(f"Downloading {filename} from {repo_id} failed: {exc}") from exc
    return Path(path)


# --------------------------------------------------------------------------------------------------------------------
# Plain HTTP(S) downloads: the authors' checkpoints on Google Drive, GitHub releases, ModelScope, OSS, ...
#
# Everything goes through `requests` (gdown uses it too), so the usual settings apply to every source alike:
# HTTPS_PROXY / NO_PROXY for a proxy, REQUESTS_CA_BUNDLE for a company CA. The offline tests use exactly these
# seams: a local HTTPS proxy on 127.0.0.1 that answers as each real host would.

OFFLINE_ENV = ("VTON_ZOO_OFFLINE", "HF_HUB_OFFLINE")
_CHUNK = 1 << 20
_DRIVE_HOSTS = ("drive.google.com", "docs.google.com", "drive.usercontent.google.com")
_USER_AGENT = "vton-zoo-downloader (+https://github.com/vton-zoo)"
# Phrases of Google Drive's refusal pages ("Too many users have viewed or downloaded this file recently").
_QUOTA_WORDS = ("quota", "too many users", "download quota", "exceeded")

ByteProgress = Callable[[int, "int | None"], None]


class DownloadError(RuntimeError):
    """A download failed (offline, HTTP error, interrupted, checksum mismatch, or not the file that was asked for).

    Attributes:
        url: the URL that was asked for.
        offline: ``True`` when the host could not be reached at all (no network, DNS failure, refused).
    """

    def __init__(self, message: str, *, url: str, offline: bool = False):
        super().__init__(message)
        self.url = url
        self.offline = offline


def is_offline() -> bool:
    """``True`` when ``VTON_ZOO_OFFLINE`` or ``HF_HUB_OFFLINE`` is set to a true value."""
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in OFFLINE_ENV)


def google_drive_id(url: str) -> str | None:
    """The file id of a Google Drive share link, or ``None`` when ``url`` is not a Drive file link.

    Understands ``/file/d/ID/view``, ``open?id=ID``, ``uc?id=ID&export=download`` and
    ``drive.usercontent.google.com/download?id=ID``.

    Raises:
        ValueError: ``url`` is a Drive *folder* link (fetch it with :func:`download_gdrive_folder`).
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in _DRIVE_HOSTS:
        return None
    if "/folders/" in parts.path:
        raise ValueError(f"{url} is a Google Drive folder, not a file; fetch it with download_gdrive_folder()")
    match = re.search(r"/d/([A-Za-z0-9_-]{10,})", parts.path)
    if match:
        return match.group(1)
    ids = urllib.parse.parse_qs(parts.query).get("id")
    return ids[0] if ids else None


def _page_title(text: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    title = re.sub(r"\s+", " ", match.group(1)).strip() if match else ""
    return html.unescape(title)[:120]


def describe_page(data: bytes | str, *, host: str | None = None) -> str:
    """What an HTML/text answer is, in a user's words (used when a page arrives instead of a file)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lowered = text.lower()
    is_drive = host in _DRIVE_HOSTS if host else ("google" in lowered and "drive" in lowered)
    if is_drive or "drive.google" in lowered:
        if any(word in lowered for word in _QUOTA_WORDS):
            return ("Google Drive returned an HTML page: quota exceeded (too many downloads of this file in the last "
                    "24 hours); try later or download it in a browser and install it from local files")
        if "sign in" in lowered or "accounts.google.com" in lowered or "access denied" in lowered:
            return ("Google Drive returned a sign-in page: the file is not shared publicly (any more); download it in "
                    "a browser and install it from local files")
        return (f"Google Drive returned an HTML page ({_page_title(text) or 'no title'}) instead of the file; the "
                "link may be deleted or over its quota: download it in a browser and install it from local files")
    squashed = re.sub(r"\s+", " ", text).strip()
    if squashed.startswith(("{", "[")):
        return f"the server answered JSON instead of a file: {squashed[:200]}"
    if "<html" in lowered[:2048] or "<!doctype html" in lowered[:2048]:
        return f"the server returned an HTML page ({_page_title(text) or 'no title'}) instead of a file"
    return f"a text file instead of a checkpoint, starting with {squashed[:80]!r}"


def describe_non_checkpoint(path: str | os.PathLike) -> str | None:
    """``None`` for a binary file; for an HTML, JSON or text file, what it is (a saved error page, ...)."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if not head or b"\0" in head or head[:2] in (b"PK", b"\x1f\x8b") or head[:1] == b"\x80":
        return None  # zip (torch's format), gzip, legacy pickle, or other binary data
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the end of the sample
            return None
    return describe_page(head)


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline_error(url: str, exc: BaseException) -> DownloadError:
    host = urllib.parse.urlsplit(url).hostname
    return DownloadError(f"Cannot reach {host}: {exc}. This machine looks offline; download the file elsewhere and "
                         "install it from local files.", url=url, offline=True)


def _check_online(url: str) -> None:
    if is_offline():
        raise DownloadError(f"Not downloading {url}: offline mode is on ({' / '.join(OFFLINE_ENV)}). Download the "
                            "file elsewhere and install it from local files.", url=url, offline=True)


def _session():
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = _USER_AGENT
    return session


def _validate(path: Path, validate: Callable[[Path], None] | None, url: str) -> None:
    """Run the caller's content check; a file that fails it is deleted (it must never be reused)."""
    if validate is None:
        return
    try:
        validate(path)
    except ValueError as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(f"{url} did not deliver a usable file, so it was deleted: {exc}", url=url) from exc


def _keep(part: Path, dest: Path, url: str, *, sha256: str | None,
          validate: Callable[[Path], None] | None) -> Path:
    """Check a finished ``.part`` file (``sha256``, ``validate``) and rename it to ``dest``; deleted when it fails."""
    if sha256 is not None:
        actual = sha256_file(part)
        if actual != sha256.lower():
            part.unlink(missing_ok=True)
            raise DownloadError(f"Checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; the download "
                                "was deleted.", url=url)
    _validate(part, validate, url)
    os.replace(part, dest)
    logger.info("downloaded %s -> %s", url, dest)
    return dest


def download_url(url: str, dest: str | os.PathLike, *, progress: ByteProgress | None = None,
                 sha256: str | None = None, timeout: float = 30.0,
                 validate: Callable[[Path], None] | None = None) -> Path:
    """Download ``url`` to ``dest`` safely: into ``dest.part``, renamed into place only once complete and checked.

    Checks, in order: the HTTP status; that an HTML/JSON page did not arrive instead of a file (a Drive quota page,
    an error page); the size against ``Content-Length``; ``sha256`` when given; ``validate(path)`` when given (e.g.
    "the archive opens", "the checkpoint loads"). A failed check deletes what arrived, so the next call starts clean.
    Only a transfer cut short against a known ``Content-Length`` keeps its ``.part`` (the next call resumes it with a
    ``Range`` request).

    Args:
        url: ``http(s)://`` or ``file://`` URL, or a Google Drive file share link (fetched with gdown).
        dest: the file to create; an existing file is returned as it is when it passes ``sha256`` and ``validate``
            (else it is deleted and fetched again).
        progress: called as ``progress(bytes_done, bytes_total_or_None)`` while downloading.
        sha256: expected hex digest; a mismatch deletes the download and raises.
        timeout: seconds to wait for the server on connect and on each read.
        validate: raises ``ValueError`` when the file is not what was asked for.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        DownloadError: offline (``.offline`` is ``True``), HTTP error, interrupted transfer, a page instead of the
            file, checksum mismatch or a failed ``validate``.
        ValueError: a Drive folder link, or a URL scheme other than http, https and file.
    """
    dest = Path(dest)
    if sha256 is not None:
        sha256 = sha256.lower()
    if dest.is_file():
        try:
            if sha256 is not None and sha256_file(dest) != sha256:
                raise ValueError("checksum differs")
            _validate(dest, validate, url)
            return dest
        except (ValueError, DownloadError) as exc:
            logger.warning("refetching %s: the cached %s failed its check (%s)", url, dest, exc)
            dest.unlink(missing_ok=True)
    if google_drive_id(url) is not None:
        return download_gdrive_file(url, dest, progress=progress, sha256=sha256, timeout=timeout, validate=validate)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"Only http(s) and file URLs can be downloaded, got {url!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if scheme == "file":
        source = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
        if not source.is_file():
            raise DownloadError(f"{source} does not exist", url=url)
        shutil.copyfile(source, part)
    else:
        _check_online(url)
        _http_get(url, part, progress=progress, timeout=timeout)
    return _keep(part, dest, url, sha256=sha256, validate=validate)


def _http_get(url: str, part: Path, *, progress: ByteProgress | None, timeout: float) -> None:
    """GET ``url`` into ``part`` (resuming it with ``Range`` when it exists); checks status, page and size."""
    import requests

    start = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={start}-"} if start else {}
    with _session() as session:
        try:
            response = session.get(url, headers=headers, stream=True, timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _offline_error(url, exc) from exc
        except requests.RequestException as exc:
            raise DownloadError(f"Downloading {url} failed: {exc}", url=url) from exc
        with response:
            if response.status_code == 416 and start:  # the partial file is already complete
                return
            if response.status_code >= 400:
                detail = describe_page(response.raw.read(4096, decode_content=True)) if _is_page(response) else ""
                raise DownloadError(f"Downloading {url} failed: HTTP {response.status_code} {response.reason}"
                                    + (f" ({detail})" if detail else ""), url=url)
            if _is_page(response):
                page = response.raw.read(1 << 20, decode_content=True)
                part.unlink(missing_ok=True)
                raise DownloadError(f"{url}: {describe_page(page, host=urllib.parse.urlsplit(response.url).hostname)}"
                                    "; nothing was kept.", url=url)
            resumed = start > 0 and response.status_code == 206
            if not resumed:
                start = 0
            length = response.headers.get("Content-Length")
            encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
            total = start + int(length) if length is not None and length.isdigit() and not encoded else None
            done = start
            if progress is not None:
                progress(done, total)
            try:
                with open(part, "ab" if resumed else "wb") as handle:
                    for block in response.iter_content(_CHUNK):
                        handle.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
            except (OSError, requests.RequestException) as exc:
                if total is None:  # nothing to resume against: start clean next time
                    part.unlink(missing_ok=True)
                size = f"{done} of {total}" if total is not None else f"{done}"
                raise DownloadError(f"Download of {url} was interrupted after {size} bytes ({exc}); run it again"
                                    + (" to resume." if total is not None else "."), url=url) from exc
            if total is not None and done != total:
                if done > total:
                    part.unlink(missing_ok=True)
                raise DownloadError(f"Download of {url} was interrupted after {done} of {total} bytes; run it again "
                                    "to resume.", url=url)


def _is_page(response) -> bool:
    content_type = response.headers.get("Content-Type", "").lower()
    return content_type.startswith(("text/html", "text/plain", "application/json", "application/xml", "text/xml"))


def _gdown_error(url: str, exc: BaseException) -> DownloadError:
    import requests

    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return _offline_error(url, exc)
    import gdown

    text = re.sub(r"\s+", " ", str(exc)).strip()
    if any(word in text.lower() for word in _QUOTA_WORDS):
        return DownloadError(f"{url}: {describe_page('google drive quota')}.", url=url)
    if isinstance(exc, gdown.exceptions.FileURLRetrievalError):
        return DownloadError(f"{url}: Google Drive returned an HTML page without the file or a download link on it "
                             "(private, deleted or over its quota?); download it in a browser and install it from "
                             f"local files. gdown: {text[:200]}", url=url)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return DownloadError(f"Downloading {url} from Google Drive failed: HTTP {status}; the link may be deleted or "
                             "private: download it in a browser and install it from local files.", url=url)
    return DownloadError(f"Google Drive did not serve {url} ({text[:300]}); download it in a browser and install it "
                         "from local files.", url=url)


def download_gdrive_file(url: str, dest: str | os.PathLike, *, progress: ByteProgress | None = None,
                         sha256: str | None = None, timeout: float = 30.0,
                         validate: Callable[[Path], None] | None = None) -> Path:
    """Download one Google Drive file (share link or id URL) to ``dest`` with gdown, then check it.

    gdown follows Drive's current "cannot scan for viruses" confirmation page and keeps the session's cookies;
    what arrives is checked as in :func:`download_url` (a page instead of the file, ``sha256``, ``validate``).
    """
    import gdown
    import requests

    dest = Path(dest)
    _check_online(url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)  # gdown's own partial files are never resumed: a new try starts clean
    try:
        gdown.download(url=url, output=str(part), quiet=True, use_cookies=False, progress=progress, timeout=timeout)
    except (gdown.exceptions.DownloadError, requests.RequestException, OSError) as exc:
        part.unlink(missing_ok=True)
        for leftover in dest.parent.glob(part.name + "*.part"):
            leftover.unlink(missing_ok=True)
        raise _gdown_error(url, exc) from exc
    if describe_non_checkpoint(part) is not None:  # a page saved instead of the file
        with open(part, "rb") as handle:
            page = handle.read(1 << 20)
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: {describe_page(page, host='drive.google.com')}; nothing was kept.", url=url)
    return _keep(part, dest, url, sha256=sha256, validate=validate)


def list_gdrive_folder(url: str, *, timeout: float = 30.0) -> list[tuple[str, str]]:
    """The files of a public Google Drive folder (sub-folders included) as ``(path in the folder, file URL)``."""
    import gdown
    import requests

    _check_online(url)
    try:
        entries = gdown.download_folder(url=url, quiet=True, use_cookies=False, skip_download=True, timeout=timeout)
    except (gdown.exceptions.DownloadError, requests.RequestException, OSError) as exc:
        raise _gdown_error(url, exc) from exc
    return [(entry.path, f"https://drive.google.com/uc?id={entry.id}") for entry in entries]


def github_release_assets(api_url: str, *, timeout: float = 30.0) -> list[dict]:
    """The assets of a GitHub release, from the release API (``.../repos/OWNER/REPO/releases/tags/TAG``).

    Returns:
        One dict per asset: ``name``, ``url`` (its download URL) and ``size`` (bytes).
    """
    import requests

    _check_online(api_url)
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    token = os.environ.get("GITHUB_TOKEN")  # optional: lifts the anonymous rate limit
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with _session() as session:
        try:
            response = session.get(api_url, headers=headers, timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _offline_error(api_url, exc) from exc
        except requests.RequestException as exc:
            raise DownloadError(f"Asking {api_url} failed: {exc}", url=api_url) from exc
    if response.status_code in (403, 429) and response.headers.get("X-RateLimit-Remaining") == "0":
        raise DownloadError(f"GitHub's API rate limit is used up ({api_url}); try again in an hour or set "
                            "GITHUB_TOKEN.", url=api_url)
    if response.status_code != 200:
        raise DownloadError(f"GitHub's release API answered HTTP {response.status_code} for {api_url} (release "
                            "deleted or renamed?)", url=api_url)
    try:
        assets = response.json()["assets"]
        return [{"name": a["name"], "url": a["browser_download_url"], "size": int(a.get("size") or 0)}
                for a in assets]
    except (ValueError, KeyError, TypeError) as exc:
        raise DownloadError(f"GitHub's release API answered something unexpected for {api_url}: "
                            f"{response.text[:200]!r}", url=api_url) from exc


# --------------------------------------------------------------------------------------------------------------------
# Uploads: trained weights to the Hugging Face Hub (python -m training ... --push-to-hub)

PUSH_FILES = ("model.safetensors", "config.json", "README.md")


class PushError(RuntimeError):
    """An upload to the Hub failed or cannot start (no token, offline mode, the server refused it).

    Attributes:
        status: the HTTP status the Hub answered, when it answered one (401: bad or read-only token).
    """

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of an ``HfHubHTTPError`` in ``exc``'s cause chain (LFS uploads wrap them)."""
    seen = 0
    while exc is not None and seen < 8:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def check_push(repo_id: str, *, token: str | None = None) -> None:
    """Check, without any network call, that a push to ``repo_id`` can start: run it before hours of training.

    Raises:
        ValueError: a malformed ``repo_id``.
        PushError: offline mode is on, or no token is available (``token``, ``$HF_TOKEN`` or ``hf auth login``).
    """
    if not repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"Hub repo id must look like OWNER/NAME, got {repo_id!r}")
    if is_offline():
        raise PushError(f"Not pushing to {repo_id}: offline mode is on ({' / '.join(OFFLINE_ENV)})")
    if token is None:
        from huggingface_hub import get_token

        token = get_token()
    if not token:
        raise PushError(f"No Hugging Face token to push to {repo_id}: set HF_TOKEN or run `hf auth login` (a token "
                        "with write access); tokens are never taken from the command line")


def push_folder(folder: str | os.PathLike, repo_id: str, *, token: str | None = None, private: bool = False,
                commit_message: str = "Upload vton-zoo weights", endpoint: str | None = None,
                allow_patterns: list[str] | None = None) -> str:
    """Create the Hub model repo ``repo_id`` if needed and upload a weights folder in one commit.

    ``create_model(name, weights="hub:" + repo_id)`` loads the result.

    Args:
        folder: a zoo weights folder (``model.safetensors`` + ``config.json``, and a ``README.md`` model card).
        repo_id: ``OWNER/NAME``.
        token: a Hub token; ``None`` uses ``$HF_TOKEN`` or the token saved by ``hf auth login`` (never a default on
            the command line).
        private: create the repo as private (an existing repo keeps its visibility).
        commit_message: the commit's message.
        endpoint: the Hub URL (default: ``$HF_ENDPOINT`` or https://huggingface.co).
        allow_patterns: the files to upload (default: the weights, the config and the model card).

    Returns:
        The URL of the commit.

    Raises:
        ValueError: a malformed ``repo_id`` or a folder without weights.
        PushError: no token, offline mode, or the Hub refused the upload (``.status`` holds the HTTP status).
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    check_push(repo_id, token=token)
    folder = Path(folder)
    missing = [name for name in PUSH_FILES[:2] if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder} is not a zoo weights folder: missing {', '.join(missing)}")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="model",
                                   commit_message=commit_message, allow_patterns=allow_patterns or list(PUSH_FILES))
    except (HfHubHTTPError, OSError, ValueError, RuntimeError) as exc:  # LFS failures come wrapped in RuntimeError
        status = _http_status(exc)
        hint = ""
        if status in (401, 403):
            hint = (f" The Hub refused the token (HTTP {status}): check that HF_TOKEN or the `hf auth login` token "
                    f"is valid and can write to {repo_id.split('/')[0]}.")
        elif status is not None and status >= 500:
            hint = f" The Hub had a server error (HTTP {status}); try again later."
        raise PushError(f"Pushing {folder} to {repo_id} ({api.endpoint}) failed: {exc}.{hint}", status=status) from exc
    logger.info("pushed %s to %s", folder, commit.commit_url)
    return commit.commit_url
