"""The only module that touches the network: downloads from the Hugging Face Hub and plain HTTP(S).

Everything here honours ``HF_HUB_OFFLINE`` / a local Hub cache, so a machine without network can still load
weights that were downloaded before.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from html.parser import HTMLParser
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


# --------------------------------------------------------------------------------------------------------------------
# Plain HTTP(S) downloads: the authors' checkpoints on GitHub releases, Google Drive, OSS, ...

OFFLINE_ENV = ("VTON_ZOO_OFFLINE", "HF_HUB_OFFLINE")
_CHUNK = 1 << 20
_DRIVE_HOSTS = ("drive.google.com", "docs.google.com", "drive.usercontent.google.com")


class DownloadError(RuntimeError):
    """A plain-HTTP download failed (offline, HTTP error, interrupted, or checksum mismatch).

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
        ValueError: ``url`` is a Drive *folder* link, which cannot be fetched as one file.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in _DRIVE_HOSTS:
        return None
    if "/folders/" in parts.path:
        raise ValueError(f"{url} is a Google Drive folder; open it in a browser, download the files it holds, and "
                         "install them from local files")
    match = re.search(r"/d/([A-Za-z0-9_-]{10,})", parts.path)
    if match:
        return match.group(1)
    ids = urllib.parse.parse_qs(parts.query).get("id")
    return ids[0] if ids else None


def direct_url(url: str) -> str:
    """The URL that serves the bytes of ``url`` (Google Drive share links become direct-download links)."""
    drive_id = google_drive_id(url)
    if drive_id is None:
        return url
    # `confirm=t` skips the "cannot scan this file for viruses" page that Drive shows for files over ~100 MB.
    return f"https://drive.usercontent.google.com/download?id={drive_id}&export=download&confirm=t"


class _FormParser(HTMLParser):
    """Collects the action and hidden fields of the first form of Drive's download-warning page."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def _drive_confirm_url(page: str, base: str) -> str | None:
    parser = _FormParser()
    parser.feed(page)
    if not parser.action or "id" not in parser.fields:
        return None
    return urllib.parse.urljoin(base, parser.action) + "?" + urllib.parse.urlencode(parser.fields)


def _open(url: str, start: int, timeout: float):
    headers = {"User-Agent": "vton-zoo-downloader"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the partial file is already complete (or longer than the file)
            return None
        raise DownloadError(f"Downloading {url} failed: HTTP {exc.code} {exc.reason}", url=url) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"Cannot reach {urllib.parse.urlsplit(url).hostname}: {reason}. This machine looks "
                            "offline; download the file elsewhere and install it from local files.",
                            url=url, offline=True) from exc


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download_url(url: str, dest: str | os.PathLike, *, progress: Callable[[int, int | None], None] | None = None,
                 sha256: str | None = None, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` safely: into ``dest.part``, resumed on the next call if interrupted, renamed
    into place only once complete (and checked against ``sha256`` when given).

    Google Drive share links (``/file/d/ID/view``) are turned into direct downloads, including Drive's
    large-file confirmation page.

    Args:
        url: ``http(s)://`` or ``file://`` URL, or a Google Drive share link.
        dest: the file to create; an existing file is returned as it is when its checksum matches (or no
            checksum is given).
        progress: called as ``progress(bytes_done, bytes_total_or_None)`` while downloading.
        sha256: expected hex digest; a mismatch deletes the download and raises.
        timeout: seconds to wait for the server on connect and on each read.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        DownloadError: offline (``.offline`` is ``True``), HTTP error, interrupted transfer (the partial file is
            kept so the next call resumes), or checksum mismatch.
        ValueError: a Drive folder link, or a URL scheme other than http, https and file.
    """
    dest = Path(dest)
    if sha256 is not None:
        sha256 = sha256.lower()
    if dest.is_file() and (sha256 is None or _sha256_of(dest) == sha256):
        return dest
    fetch_url = direct_url(url)
    scheme = urllib.parse.urlsplit(fetch_url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"Only http(s) and file URLs can be downloaded, got {url!r}")
    if is_offline() and scheme != "file":
        raise DownloadError(f"Not downloading {url}: offline mode is on ({' / '.join(OFFLINE_ENV)}). Download the "
                            "file elsewhere and install it from local files.", url=url, offline=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.is_file() else 0
    response = _open(fetch_url, start, timeout)
    if response is not None and google_drive_id(url) and "text/html" in response.headers.get("Content-Type", ""):
        page = response.read(1 << 20).decode("utf-8", "replace")
        response.close()
        confirm = _drive_confirm_url(page, fetch_url)
        if confirm is None:
            raise DownloadError(f"Google Drive did not serve {url} as a file (the link may be private, deleted or "
                                "over its download quota); download it in a browser and install it from local files.",
                                url=url)
        response = _open(confirm, start, timeout)
    if response is not None:
        with response:
            resumed = start > 0 and getattr(response, "status", 200) == 206
            if not resumed:
                start = 0
            length = response.headers.get("Content-Length")
            total = start + int(length) if length is not None else None
            done = start
            if progress is not None:
                progress(done, total)
            try:
                with open(part, "ab" if resumed else "wb") as handle:
                    for block in iter(lambda: response.read(_CHUNK), b""):
                        handle.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
            except (OSError, http.client.HTTPException) as exc:
                raise DownloadError(f"Download of {url} was interrupted after {done} bytes ({exc}); run it again to "
                                    "resume.", url=url) from exc
            if total is not None and done < total:
                raise DownloadError(f"Download of {url} was interrupted after {done} of {total} bytes; run it again "
                                    "to resume.", url=url)
    if sha256 is not None:
        actual = _sha256_of(part)
        if actual != sha256:
            part.unlink(missing_ok=True)
            raise DownloadError(f"Checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; the download "
                                "was deleted.", url=url)
    os.replace(part, dest)
    logger.info("downloaded %s -> %s", url, dest)
    return dest


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


def push_to_hub(model, repo_id: str, *, card: str | None = None, token: str | None = None, private: bool = False,
                commit_message: str = "Upload vton-zoo weights", endpoint: str | None = None) -> str:
    """Save a zoo model (``model.safetensors`` + ``config.json`` + optional model card) and push it to ``repo_id``.

    Loadable afterwards with ``vton_zoo.create_model(model.spec.name, weights="hub:" + repo_id)``.
    """
    import tempfile

    from .checkpoints import save_safetensors

    with tempfile.TemporaryDirectory(prefix="vton-zoo-push-") as tmp:
        save_safetensors(model, tmp)
        if card is not None:
            Path(tmp, "README.md").write_text(card, encoding="utf-8")
        return push_folder(tmp, repo_id, token=token, private=private, commit_message=commit_message,
                           endpoint=endpoint)
