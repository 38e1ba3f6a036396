"""Gradio components of the demo that differ from Gradio's own: a photo input that Gradio never decodes.

``gr.Image`` opens every upload with Pillow before the handler sees it: a text file fails inside Gradio with a raw
``UnidentifiedImageError`` and the server's temporary path, and a decompression bomb is decoded whole before any
check of ours. :func:`photo_input` looks and behaves like ``gr.Image`` in the browser, but hands the handler the
uploaded file's path and its own name (:class:`Upload`) without opening it; the demo then checks it with
:func:`vton_zoo.preprocess.io.probe_image` / ``load_image`` (header first, our limits, our words).
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path

import gradio as gr

from ..preprocess.io import MAX_FILE_BYTES


class Upload(str):
    """The path of an uploaded photo (a ``str``), with the name the user gave it (``.name``) for messages."""

    name: str

    def __new__(cls, path: str, name: str | None = None) -> Upload:
        self = super().__new__(cls, path)
        self.name = name or "the uploaded photo"
        return self


def photo_input(*, max_bytes: int = MAX_FILE_BYTES, **kwargs) -> gr.Image:
    """A ``gr.Image`` (the same component on the page) whose value reaches the handler undecoded, as an
    :class:`Upload`.

    Its ``preprocess`` is replaced on the instance rather than in a subclass: Gradio writes a ``.pyi`` stub next to
    the source of every ``Component`` subclass when the class is defined, which a package must not do at import.

    Args:
        max_bytes: inline captures (``data:`` URLs) larger than this are refused.
        kwargs: ``gr.Image`` arguments (``type`` is always ``"filepath"``).
    """
    kwargs["type"] = "filepath"
    image = gr.Image(**kwargs)

    def preprocess(payload) -> Upload | None:
        if payload is None:
            return None
        if payload.url and payload.url.startswith("data:"):
            return _inline(payload.url, payload.orig_name, max_bytes, image.GRADIO_CACHE)
        if payload.path is None:
            raise gr.Error("The photo did not arrive; upload it again")
        return Upload(str(payload.path), Path(payload.orig_name).name if payload.orig_name else None)

    image.preprocess = preprocess
    return image


def _inline(url: str, name: str | None, max_bytes: int, cache_dir: str) -> Upload:
    """A webcam or clipboard capture sent inline (``data:`` URL): its bytes are stored as they are, not decoded as
    an image (the same checks then apply as to an uploaded file)."""
    head, _, data = url.partition(",")
    if ";base64" not in head or len(data) > max_bytes * 4 // 3 + 4:
        raise gr.Error("The photo is too large or not an image")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise gr.Error("The photo did not arrive intact; upload it again") from None
    folder = Path(tempfile.mkdtemp(prefix="vton-zoo-capture-", dir=cache_dir))
    path = folder / "capture"
    path.write_bytes(raw)
    return Upload(str(path), name or "the captured photo")
