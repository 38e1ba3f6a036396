"""Load and validate the person and garment photos users hand in.

:func:`load_image` is the single entry point: it accepts a path, raw bytes, a file object, a PIL image or a numpy
array, and returns a numpy ``uint8`` RGB array ``(H, W, 3)``, the image convention of :mod:`vton_zoo.preprocess`.

What it fixes silently (it is what the user meant): EXIF orientation (the photo is rotated upright), grayscale and
1-bit images (replicated to RGB), transparency (composited on white, the colour of a product-shot background),
CMYK, YCbCr and palette images, 16-bit images (scaled to 8 bits), animated GIF/PNG/WebP (the first frame is used and
a note is logged).

What it rejects, always with a ``ValueError`` whose message names the problem: data that is not an image, empty
files, files over :data:`MAX_FILE_BYTES` (checked on the file's size, before it is read), truncated or corrupt files,
decompression bombs and huge images (checked on the header, before any pixel is decoded; for arrays on the shape,
before any conversion), tiny images, extreme aspect ratios, and arrays with NaN/inf values, unsupported dtypes,
out-of-range values or a shape that is not an image. No raw Pillow or numpy exception escapes.

Messages name a file by its path, or by ``name=`` when given: an app passes the name the user uploaded, so that its
own temporary paths never reach the user.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

#: Largest accepted image, in pixels (40 MP: a 7296 x 5472 photo). Checked on the header before decoding.
MAX_PIXELS = 40_000_000
#: Largest accepted file, in bytes (256 MB: 40 MP stored uncompressed at 16 bits per channel still fits). Checked on
#: the file's size before it is read; a file object is read no further than this.
MAX_FILE_BYTES = 256 * 2**20
#: Smallest accepted side, in pixels. The models run at 256 x 192 or more; below this there is nothing to see.
MIN_SIDE = 32
#: Largest accepted ratio of the long side to the short side. Person and garment photos are at most about 2:1.
MAX_ASPECT = 4.0

Role = Literal["person", "garment"]
ImageSource = str | os.PathLike | bytes | bytearray | memoryview | Image.Image | np.ndarray | Any

# Float arrays may exceed their nominal range by this much (rounding in upstream code) and are clipped.
_FLOAT_TOLERANCE = 1e-3
_WHITE = (255, 255, 255)


def load_image(
    source: ImageSource,
    *,
    role: Role = "person",
    max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
    max_aspect: float = MAX_ASPECT,
    max_file_bytes: int = MAX_FILE_BYTES,
    name: str | None = None,
) -> np.ndarray:
    """Load a person or garment photo as a numpy ``uint8`` RGB array, or reject it with a clear message.

    Args:
        source: a path (``str`` or ``os.PathLike``), the encoded file as ``bytes``/``bytearray``/``memoryview``, a
            binary file object, a PIL image, or a numpy array. Arrays may be ``(H, W)``, ``(H, W, 1)``,
            ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA); ``uint8``; ``uint16`` (full 16-bit range); other integer
            types with values in 0..255; float in ``[0, 1]`` or, when any value exceeds 1, in ``[0, 255]``.
        role: ``"person"`` or ``"garment"``; only used to say which input is at fault in error messages.
        max_pixels: the largest accepted ``H * W``.
        min_side: the smallest accepted ``min(H, W)``.
        max_aspect: the largest accepted ``max(H, W) / min(H, W)``.
        max_file_bytes: the largest accepted file (paths, bytes and file objects).
        name: how messages name a file (e.g. the name the user uploaded it under) instead of its path.

    Returns:
        A C-contiguous ``uint8`` array ``(H, W, 3)``, upright (EXIF orientation applied), RGB.

    Raises:
        ValueError: the input is not a usable image; the message starts with the role and names the problem.
    """
    if role not in ("person", "garment"):
        raise ValueError(f"role must be 'person' or 'garment', got {role!r}")
    limits = _Limits(role, max_pixels, min_side, max_aspect)
    what = repr(name) if name is not None else None
    if name is not None and isinstance(source, (str, os.PathLike)):
        limits.hide = str(source)  # library messages quoted below must not show the path either

    if isinstance(source, np.ndarray):
        return limits.check_array(_array_to_rgb(source, role, limits))
    if isinstance(source, Image.Image):
        return limits.check_array(_decode(source, limits))
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > max_file_bytes:
            raise _file_too_large(role, len(source), max_file_bytes)
        data = bytes(source)
        if not data:
            raise ValueError(f"{role} image is empty (0 bytes)")
        with _open(io.BytesIO(data), limits, what=what or "the data") as image:
            return limits.check_array(_decode(image, limits))
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        what = what or repr(str(path))
        _check_file(path, role, what, max_file_bytes)
        with _open(path, limits, what=what) as image:
            return limits.check_array(_decode(image, limits))
    if hasattr(source, "read"):
        data = source.read(max_file_bytes + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError(f"{role} image file object must be opened in binary mode (read() returned text)")
        if len(data) > max_file_bytes:
            raise _file_too_large(role, None, max_file_bytes)
        return load_image(data, role=role, max_pixels=max_pixels, min_side=min_side, max_aspect=max_aspect,
                          max_file_bytes=max_file_bytes, name=name)
    raise ValueError(
        f"{role} image has an unsupported type {type(source).__module__}.{type(source).__qualname__}; "
        "pass a file path, bytes, a PIL image or a numpy array (H, W, 3)"
    )


def _check_file(path: Path, role: str, what: str, max_file_bytes: int) -> None:
    """Refuse a missing, non-regular, empty or too large file before anything reads it."""
    if not path.exists():
        raise ValueError(f"{role} image file not found: {what}")
    if not path.is_file():
        raise ValueError(f"{role} image path is not a file: {what}")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{role} image file is empty (0 bytes): {what}")
    if size > max_file_bytes:
        raise _file_too_large(role, size, max_file_bytes)


def _bytes_text(count: int) -> str:
    return f"{count / 2**20:g} MB" if count >= 2**20 else f"{count:,} bytes"


def _file_too_large(role: str, size: int | None, limit: int) -> ValueError:
    """The refusal of a file over ``limit`` bytes (``size`` is ``None`` when only "more than the limit" is known)."""
    found = f"{size:,} bytes" if size is not None else f"more than {_bytes_text(limit)}"
    return ValueError(f"{role} image file is too large: {found}; the limit is {_bytes_text(limit)}")


def probe_image(
    source: str | os.PathLike | bytes,
    *,
    role: Role = "person",
    max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
    max_aspect: float = MAX_ASPECT,
    max_file_bytes: int = MAX_FILE_BYTES,
    name: str | None = None,
) -> tuple[int, int]:
    """Check a file the way :func:`load_image` does, on its size and header only: no pixel is decoded.

    For an app to answer an upload at once (a text file, a decompression bomb) at the cost of reading a header.

    Returns:
        ``(width, height)`` of the image as stored (before EXIF rotation).

    Raises:
        ValueError: the same messages as :func:`load_image` for what the header shows.
    """
    if role not in ("person", "garment"):
        raise ValueError(f"role must be 'person' or 'garment', got {role!r}")
    limits = _Limits(role, max_pixels, min_side, max_aspect)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not source:
            raise ValueError(f"{role} image is empty (0 bytes)")
        if len(source) > max_file_bytes:
            raise _file_too_large(role, len(source), max_file_bytes)
        with _open(io.BytesIO(bytes(source)), limits, what=repr(name) if name else "the data") as image:
            return image.size
    path = Path(source)
    what = repr(name) if name is not None else repr(str(path))
    if name is not None:
        limits.hide = str(path)
    _check_file(path, role, what, max_file_bytes)
    with _open(path, limits, what=what) as image:
        return image.size


class _Limits:
    """The size limits of one call, and the checks that apply them (on a header size or on an array)."""

    def __init__(self, role: str, max_pixels: int, min_side: int, max_aspect: float) -> None:
        self.role = role
        self.max_pixels = max_pixels
        self.min_side = min_side
        self.max_aspect = max_aspect
        self.hide: str | None = None

    def detail(self, err: BaseException) -> str:
        """A library exception's text for our message, with the hidden path (if any) taken out."""
        text = str(err)
        return text.replace(self.hide, "the file") if self.hide else text

    def check_size(self, width: int, height: int) -> None:
        role = self.role
        if width <= 0 or height <= 0:
            raise ValueError(f"{role} image is empty ({width}x{height} pixels)")
        if width * height > self.max_pixels:
            raise ValueError(
                f"{role} image is too large: {width}x{height} = {width * height / 1e6:.1f} megapixels exceeds the "
                f"limit of {self.max_pixels / 1e6:g} megapixels (possible decompression bomb); downscale it first"
            )
        if min(width, height) < self.min_side:
            raise ValueError(
                f"{role} image is too small: {width}x{height} pixels; each side must be at least {self.min_side} px"
            )
        aspect = max(width, height) / min(width, height)
        if aspect > self.max_aspect:
            raise ValueError(
                f"{role} image has an extreme aspect ratio {aspect:.1f}:1 ({width}x{height}); at most "
                f"{self.max_aspect:g}:1 is accepted, crop it to the person or garment first"
            )

    def check_array(self, rgb: np.ndarray) -> np.ndarray:
        self.check_size(rgb.shape[1], rgb.shape[0])
        return rgb


@contextlib.contextmanager
def _open(fp: Path | io.BytesIO, limits: _Limits, what: str) -> Iterator[Image.Image]:
    """``Image.open`` that turns every failure into a ``ValueError`` and checks the header's size.

    The size limits are applied to the dimensions in the header, before any pixel data is decompressed.
    """
    role = limits.role
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 MP and raises from 179 MP; our own (lower) limit is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(fp)
    except Image.DecompressionBombError as err:
        # Pillow refuses before we see the size; its message holds the pixel count ("Image size (N pixels) ...").
        found = re.search(r"\((\d+) pixels\)", str(err))
        size = f"{int(found.group(1)) / 1e6:.1f} megapixels" if found else "far more pixels than allowed"
        raise ValueError(
            f"{role} image is too large: {size} exceeds the limit of {limits.max_pixels / 1e6:g} megapixels "
            "(possible decompression bomb); downscale it first"
        ) from err
    except Image.UnidentifiedImageError as err:
        raise ValueError(
            f"{role} input is not an image: {what} is not in a format Pillow can read "
            "(JPEG, PNG, WebP, BMP, TIFF, GIF, ...)"
        ) from err
    except Exception as err:  # a malformed header can raise anything from struct.error to SyntaxError
        raise ValueError(f"{role} image is corrupt: cannot read the header of {what} ({limits.detail(err)})") from err
    try:
        limits.check_size(*image.size)
        yield image
    finally:
        image.close()


def _decode(image: Image.Image, limits: _Limits) -> np.ndarray:
    """Decode a (possibly lazy) PIL image to upright uint8 RGB, turning decoder errors into ``ValueError``."""
    role = limits.role
    limits.check_size(*image.size)
    try:
        frames = int(getattr(image, "n_frames", 1))
    except Exception as err:  # counting frames reads the whole file: corrupt data shows up here
        raise ValueError(f"{role} image is corrupt: cannot read its frames ({limits.detail(err)})") from err
    if frames > 1:
        # A file opens on its first frame; a PIL image handed in keeps the frame its owner selected.
        logger.info("%s image is animated (%d frames): using the current (first) frame", role, frames)
    try:
        image.load()
    except Exception as err:  # truncated/corrupt data: OSError, SyntaxError, zlib.error, struct.error, ...
        if "truncated" in str(err).lower() or isinstance(err, EOFError):
            raise ValueError(f"{role} image is truncated: the file ends before all pixel data "
                             f"({limits.detail(err)})") from err
        raise ValueError(f"{role} image is corrupt: its pixel data cannot be decoded ({limits.detail(err)})") from err

    try:
        upright = ImageOps.exif_transpose(image)
    except Exception as err:  # a broken EXIF block must not cost the user the photo
        logger.warning("%s image: ignoring unreadable EXIF orientation (%s)", role, err)
        upright = image
    if upright is None:  # pragma: no cover - exif_transpose returns an image unless in_place=True
        upright = image
    return _pil_to_rgb(upright, role)


def _pil_to_rgb(image: Image.Image, role: str) -> np.ndarray:
    """Convert any decoded PIL mode to uint8 RGB (transparency composited on white)."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit and 32-bit grayscale: go through the array rules (uint16 scaled by 257, I/F by their range).
        array = np.asarray(image)
        if mode.startswith("I;16"):
            array = array.astype(np.uint16)
        elif mode == "I" and array.size and int(array.max()) > 255:
            array = np.clip(array, 0, 65535).astype(np.uint16)
        return _array_to_rgb(array, role)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        try:
            rgba = image.convert("RGBA")
        except Exception as err:
            raise ValueError(f"{role} image has an unsupported colour mode {mode!r} ({err})") from err
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        rgb = Image.alpha_composite(background, rgba).convert("RGB")
    else:
        try:  # RGB, L, 1, P, CMYK, YCbCr, RGBX, HSV, ...
            rgb = image.convert("RGB")
        except Exception as err:
            raise ValueError(f"{role} image has an unsupported colour mode {mode!r} ({err})") from err
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _array_to_rgb(array: np.ndarray, role: str, limits: _Limits | None = None) -> np.ndarray:
    """Validate a numpy image and convert it to uint8 RGB (alpha composited on white).

    With ``limits``, the size is checked on the shape, before any value is read or converted (a huge array is refused
    without allocating anything).
    """
    dtype = array.dtype
    if dtype == np.bool_:
        raise ValueError(f"{role} image array has dtype bool (a mask?); expected uint8, uint16 or float image values")
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ValueError(
            f"{role} image array has unsupported dtype {dtype}; expected uint8, uint16, another integer type with "
            "values 0..255, or float in [0, 1] or [0, 255]"
        )
    shape = array.shape
    if array.ndim == 3 and shape[-1] not in (1, 3, 4) and shape[0] in (1, 3, 4):
        raise ValueError(
            f"{role} image array has shape {shape}, which looks channels-first (C, H, W); transpose it to (H, W, C)"
        )
    if not (array.ndim == 2 or (array.ndim == 3 and shape[-1] in (1, 3, 4))):
        raise ValueError(f"{role} image array has shape {shape}; expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
    if array.size == 0:
        raise ValueError(f"{role} image array is empty (shape {shape})")
    if limits is not None:
        limits.check_size(shape[1], shape[0])

    if np.issubdtype(dtype, np.floating):
        values = array.astype(np.float32) if dtype.itemsize < 4 else array
        if not np.isfinite(values).all():
            bad = int((~np.isfinite(values)).sum())
            raise ValueError(f"{role} image array contains NaN or infinite values ({bad} of {values.size})")
        low, high = float(values.min()), float(values.max())
        if low < -_FLOAT_TOLERANCE or high > 255.0 + _FLOAT_TOLERANCE:
            raise ValueError(
                f"{role} image array has float values in [{low:.3g}, {high:.3g}]; expected [0, 1] or [0, 255] "
                "(convert images in [-1, 1] with (x + 1) / 2 first)"
            )
        scale = 255.0 if high <= 1.0 + _FLOAT_TOLERANCE else 1.0
        array8 = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
    elif dtype == np.uint16:
        # Full 16-bit range: 65535 -> 255 (what Pillow does when it reduces 16-bit PNGs), with rounding.
        array8 = ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif dtype == np.uint8:
        array8 = array
    else:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(
                f"{role} image array of dtype {dtype} has values in [{low}, {high}]; expected 0..255 "
                "(use uint16 for 16-bit images)"
            )
        array8 = array.astype(np.uint8)

    if array8.ndim == 2:
        array8 = array8[:, :, None]
    channels = array8.shape[-1]
    if channels == 1:
        rgb = np.repeat(array8, 3, axis=2)
    elif channels == 3:
        rgb = array8
    else:  # RGBA: composite on white
        alpha = array8[:, :, 3:4].astype(np.float32) / 255.0
        rgb = np.rint(array8[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(rgb)
