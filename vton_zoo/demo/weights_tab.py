"""The Weights tab's logic (no Gradio): the table of methods and sources, and what its buttons call.

Where each method's official files come from is data in its spec (``spec.weights.sources``); fetching, checking and
installing them is :mod:`vton_zoo.weights` (``download_official``, ``install_local``, ``BackgroundFetch``). This
module only words it for the page.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import weights as zoo_weights
from ..registry import get_spec
from .core import (
    licence_words,
    live_sources,
    md_text,
    method_order,
    method_status,
    short_licence,
    source_licences,
    train_command,
)

logger = logging.getLogger(__name__)

SOURCE_WORDS = {"gdrive-file": "Google Drive file", "gdrive-folder": "Google Drive folder",
                "github-release": "GitHub release", "modelscope": "ModelScope", "url": "direct link"}
STATUS_HEADERS = ["method", "weights here", "licence", "official source (tried in order)", "size"]


def weighted_methods() -> list[str]:
    """The methods that need learned weights, in page order."""
    return [n for n in method_order() if get_spec(n).weights.needs_weights]


def downloadable_methods() -> list[str]:
    """The methods whose official files a program can fetch."""
    return [n for n in weighted_methods() if live_sources(n)]


def default_method() -> str | None:
    """What the Weights tab's method list shows first: a downloadable method that is not installed yet, else any
    downloadable one, else any that needs weights."""
    downloadable = downloadable_methods()
    missing = [n for n in downloadable if method_status(n).weights != "installed"]
    return (missing or downloadable or weighted_methods() or [None])[0]


def sources_text(name: str) -> str:
    """The official sources of ``name`` in a few words (``"GitHub release, then Google Drive folder"``)."""
    spec = get_spec(name)
    if not spec.weights.needs_weights:
        return "built in (no learned weights)"
    live = live_sources(name)
    if live:
        return ", then ".join(dict.fromkeys(SOURCE_WORDS.get(s.kind, s.kind) for s in live))
    note = next((s.note for s in spec.weights.sources if s.note), "") or spec.weights.notes
    return "not published" + (f": {note}" if note else "")


def size_text(name: str) -> str:
    sources = live_sources(name)
    size = getattr(sources[0], "size", None) if sources else None
    return f"{size / 1e6:.0f} MB" if size else ""


def state_text(name: str, fetching: dict | None = None) -> str:
    status = method_status(name, fetching)
    if status.state == "downloading":
        return f"downloading {status.progress or 0.0:.0%}"
    fetch = (fetching or {}).get(name)
    if fetch is not None and fetch.state == "failed" and status.weights != "installed":
        return "download failed"
    return {"built-in": "built in", "installed": "installed", "missing": "missing", "broken": "broken"}.get(
        status.weights, status.weights)


def status_rows(fetching: dict | None = None) -> list[list[str]]:
    """One row per method: method, weights state here, licence, official sources, download size."""
    return [[f"{get_spec(n).title} ({n})", state_text(n, fetching), short_licence(get_spec(n).license),
             sources_text(n), size_text(n)] for n in method_order()]


def licences_markdown(names: Sequence[str] | None = None) -> str:
    """What downloading every official file means: one line per method with its source licence(s)."""
    names = downloadable_methods() if names is None else names
    if not names:
        return "No method's official weights can be downloaded by a program."
    lines = [f"- **{md_text(get_spec(n).title)}**: "
             f"{md_text(', '.join(dict.fromkeys(licence_words(t) for t in source_licences(n))))}" for n in names]
    return "By downloading you accept each source's licence:\n" + "\n".join(lines)


def how_to(name: str | None) -> str:
    """Markdown for one method: its state, sources and what to do (escaped: no text is taken as HTML)."""
    if not name:
        return ""
    spec = get_spec(name)
    state = method_status(name).weights
    lines = [f"**{md_text(spec.title)}** (`{name}`): weights {state}; {md_text(sources_text(name))}."]
    for source in spec.weights.sources:
        files = ", ".join(f"`{md_text(n)}`" for n in source.file_names())
        note = f" ({md_text(source.note)})" if source.note else ""
        kind = SOURCE_WORDS.get(source.kind, source.kind)
        url = source.url.replace(" ", "%20").replace(")", "%29")
        lines.append(f"- [{kind}]({url})" + (f" · {files}" if files else "") + note)
    if not live_sources(name):
        lines.append(f"\nNothing to download: install the authors' files from disk below if you have them, or "
                     f"train it: `{train_command(name)}`.")
    return "\n".join(lines)


def download(name: str, *, progress: Callable[[float, str], None] | None = None) -> Path:
    """Fetch, check and install ``name``'s official weights (:func:`vton_zoo.weights.download_official`)."""
    return zoo_weights.download_official(name, progress=progress)


def install_local(name: str, paths: Sequence[str | os.PathLike]) -> Path:
    """Install ``name`` from the authors' files on this machine (:func:`vton_zoo.weights.install_local`)."""
    return zoo_weights.install_local(name, [Path(p) for p in paths or []])
