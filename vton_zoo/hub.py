"""The only module that touches the network: downloads from the Hugging Face Hub and plain HTTP(S).

Everything here honours ``HF_HUB_OFFLINE`` / a local Hub cache, so a machine without network can still load
weights that were downloaded before.
"""

from __future__ import annotations

import logging
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
