"""The Weights tab's logic: where each method's official files are, download + convert, install from local files.

Direct download links are known for some of the authors' releases only (:data:`OFFICIAL_DOWNLOADS`); the others are
published as Google Drive folders, Baidu Yun or OSS pages that need a browser, so the tab tells where they are and
takes the downloaded files through its local-files field. All network access goes through :mod:`vton_zoo.hub`.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import hub
from .. import weights as zoo_weights
from ..registry import get_spec
from .core import method_order, short_licence

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Download:
    """One file to fetch for a method's official weights.

    Attributes:
        url: direct link or Google Drive share link.
        filename: the name to save it under.
        archive: ``"zip"`` when the file is a zip archive holding the official files.
        sha256: expected checksum, when known.
    """

    url: str
    filename: str
    archive: str | None = None
    sha256: str | None = None


# The authors' releases that a program can fetch (see each spec's `weights.official_files` for the full story).
OFFICIAL_DOWNLOADS: dict[str, tuple[Download, ...]] = {
    # README "[Checkpoints]": a Drive file, a zip holding the folder PFAFN/ with both files.
    "pf-afn": (Download("https://drive.google.com/file/d/1_a0AiN8Y_d_9TNDhHIcRlERz3zptyYWV/view?usp=sharing",
                        "PFAFN.zip", archive="zip"),),
    # GitHub release 1.0.0 (DM-VTON issue #28); the README's Drive folder holds the same files.
    "dm-vton": tuple(Download(f"https://github.com/KiseKloset/DM-VTON/releases/download/1.0.0/{name}", name)
                     for name in ("dmvton_pf_warp.pt", "dmvton_pf_gen.pt")),
}


def downloads_dir(name: str) -> Path:
    """Where downloaded official files of ``name`` are kept (``$VTON_ZOO_HOME/downloads/<name>``)."""
    return zoo_weights.home() / "downloads" / name


def status_rows() -> list[list[str]]:
    """One row per method: method, weights status, licence, official files, where they are published."""
    rows = []
    for name in method_order():
        spec = get_spec(name)
        names = ", ".join(Path(f.filename).name for f in spec.weights.official_files)
        files = names or ("none needed" if not spec.weights.needs_weights else "none released")
        sources = "; ".join(sorted({f.source for f in spec.weights.official_files}))
        if not sources:
            sources = "built in (no learned weights)" if not spec.weights.needs_weights else spec.weights.notes
        auto = "yes" if name in OFFICIAL_DOWNLOADS else "no"
        rows.append([name, zoo_weights.status(name), short_licence(spec.license), files, sources, auto])
    return rows


STATUS_HEADERS = ["method", "weights", "licence", "official files", "published at", "one-click download"]


def _extract_official(archive: Path, wanted: Sequence[str], into: Path) -> list[Path]:
    """Pull the official files (matched by base name) out of a zip."""
    found: dict[str, Path] = {}
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            base = Path(member.filename).name
            if base in wanted and not member.is_dir():
                target = into / base
                with zf.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                found[base] = target
    return [found[w] for w in wanted if w in found]


def download_and_install(name: str, *, sources: Sequence[Download] | None = None,
                         progress: Callable[[float, str], None] | None = None) -> Path:
    """Download ``name``'s official files, convert them and install the result (:func:`weights.install_official`).

    Args:
        name: method name.
        sources: what to fetch (default :data:`OFFICIAL_DOWNLOADS`).
        progress: ``progress(fraction, description)``.

    Returns:
        The installed weights folder.

    Raises:
        ValueError: no downloadable source for this method (the message says where the files are published).
        hub.DownloadError: offline or the download failed (``.offline`` tells which).
    """
    spec = get_spec(name)
    if not spec.weights.needs_weights:
        raise ValueError(f"{name} needs no weights")
    sources = tuple(sources if sources is not None else OFFICIAL_DOWNLOADS.get(name, ()))
    if not sources:
        raise ValueError(f"{name}'s official files cannot be downloaded automatically.\n"
                         f"{zoo_weights.how_to_get(name)}")
    folder = downloads_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    fetched: list[Path] = []
    for index, source in enumerate(sources):
        def report(done: int, total: int | None, index=index, source=source):
            if progress is not None:
                part = done / total if total else 0.0
                mb = f"{done / 1e6:.1f}" + (f" / {total / 1e6:.1f}" if total else "")
                progress((index + part) / (len(sources) + 1), f"{source.filename}: {mb} MB")

        fetched.append(hub.download_url(source.url, folder / source.filename, progress=report, sha256=source.sha256))
    wanted = [Path(f.filename).name for f in spec.weights.official_files]
    files: dict[str, Path] = {}
    for source, path in zip(sources, fetched):
        if source.archive == "zip":
            files.update({p.name: p for p in _extract_official(path, wanted, folder)})
        elif path.name in wanted:
            files[path.name] = path
    missing = [w for w in wanted if w not in files]
    if missing:
        got = ", ".join(files) or "none"
        raise ValueError(f"the downloaded files do not contain {', '.join(missing)} (got {got})")
    if progress is not None:
        progress(len(sources) / (len(sources) + 1), "converting")
    target = zoo_weights.install_official(name, [files[w] for w in wanted])
    if progress is not None:
        progress(1.0, "installed")
    return target


def install_local(name: str, paths: Sequence[str | os.PathLike]) -> Path:
    """Install ``name`` from the authors' files on this machine, given in any order (matched by file name; in the
    official order when the names differ).

    Raises:
        ValueError: no files, the wrong number of files, or the conversion rejects them (message names why).
    """
    spec = get_spec(name)
    if not spec.weights.needs_weights:
        raise ValueError(f"{name} needs no weights")
    paths = [Path(p) for p in paths or []]
    wanted = [Path(f.filename).name for f in spec.weights.official_files]
    if not paths:
        raise ValueError(f"choose the official file(s) of {name}: {', '.join(wanted) or 'see the table'}")
    if wanted and len(paths) != len(wanted):
        raise ValueError(f"{name} needs {len(wanted)} file(s) ({', '.join(wanted)}), got {len(paths)}")
    by_name = {p.name: p for p in paths}
    # Uploads may carry a prefix added by the browser or server; match on the official name's ending.
    ordered = []
    for want in wanted:
        match = by_name.get(want) or next((p for p in paths if p.name.endswith(want)), None)
        ordered.append(match)
    if None in ordered:
        ordered = paths  # names differ: trust the order the user gave
    return zoo_weights.install_official(name, ordered)
