"""load_image on a corpus of bad and odd inputs that the tests build themselves (files written with PIL/numpy).

Each case asserts the exact behaviour: a ValueError whose message names the problem, or the correct loaded image.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vton_zoo.preprocess.io import MAX_ASPECT, MAX_PIXELS, MIN_SIDE, load_image

H, W = 64, 48  # a small valid portrait image


def _photo(height: int = H, width: int = W) -> np.ndarray:
    """A deterministic RGB test picture: smooth gradients, so JPEG round trips stay close."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), np.full_like(x, 90)], -1).astype(
        np.uint8
    )


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes) -> bytes:
    """A PNG file written by hand (Pillow cannot write 16-bit RGB, nor a 1-bit 100 MP bomb quickly)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw_rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def _assert_rgb(result: np.ndarray, height: int = H, width: int = W) -> None:
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.uint8
    assert result.shape == (height, width, 3)
    assert result.flags["C_CONTIGUOUS"]


# --- rejected files ------------------------------------------------------------------------------------------------


def test_not_an_image(tmp_path):
    path = _write(tmp_path, "notes.jpg", b"this is a text file, not a photo\n" * 20)
    with pytest.raises(ValueError, match=r"^person input is not an image"):
        load_image(path)
    html = b"<!DOCTYPE html><html><body>404 not found</body></html>"
    with pytest.raises(ValueError, match=r"^garment input is not an image"):
        load_image(html, role="garment")


def test_empty_file_and_bytes(tmp_path):
    path = _write(tmp_path, "empty.png", b"")
    with pytest.raises(ValueError, match=r"empty \(0 bytes\)"):
        load_image(path)
    with pytest.raises(ValueError, match=r"empty \(0 bytes\)"):
        load_image(b"", role="garment")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ValueError, match="not a file"):
        load_image(tmp_path)


def test_truncated_jpeg(tmp_path):
    data = _encode(Image.fromarray(_photo(256, 192)), "JPEG", quality=95)
    path = _write(tmp_path, "cut.jpg", data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"^person image is truncated"):
        load_image(path)


def test_corrupt_png_data(tmp_path):
    data = bytearray(_encode(Image.fromarray(_photo()), "PNG"))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\xff" * 40  # garbage inside the compressed stream (the CRC no longer matches)
    with pytest.raises(ValueError, match=r"^person image is (corrupt|truncated)"):
        load_image(bytes(data))


def test_decompression_bomb_png(tmp_path):
    # 10000 x 10000 1-bit PNG: a 12 KB file that would decode to 100 megapixels.
    side = 10_000
    raw = bytes(side * (1 + side // 8))
    path = _write(tmp_path, "bomb.png", _png(side, side, 1, 0, raw))
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"too large: 10000x10000 = 100.0 megapixels exceeds the limit of 40"):
        load_image(path)


def test_huge_dimensions_in_jpeg_header(tmp_path):
    # A small valid JPEG whose SOF header is patched to claim 30000 x 30000 (900 MP): Pillow's own bomb check
    # fires at open; it must come out as our ValueError, before anything is decoded.
    data = bytearray(_encode(Image.fromarray(_photo()), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30_000, 30_000)
    with pytest.raises(ValueError, match=r"^garment image is too large"):
        load_image(_write(tmp_path, "huge.jpg", bytes(data)), role="garment")
    # Between our limit and Pillow's: 8000 x 6000 = 48 MP is rejected by our check on the header.
    data[sof + 5 : sof + 9] = struct.pack(">HH", 8000, 6000)
    with pytest.raises(ValueError, match=r"6000x8000 = 48.0 megapixels exceeds the limit"):
        load_image(bytes(data))


def test_max_pixels_is_configurable():
    with pytest.raises(ValueError, match="too large"):
        load_image(_photo(), max_pixels=H * W - 1)
    _assert_rgb(load_image(_photo(), max_pixels=H * W))
    assert MAX_PIXELS == 40_000_000


@pytest.mark.parametrize("size", [(1, 1), (20, 30), (MIN_SIDE - 1, 500)])
def test_tiny_images(tmp_path, size):
    width, height = size
    path = _write(tmp_path, "tiny.png", _encode(Image.new("RGB", (width, height), "red"), "PNG"))
    message = rf"too small: {width}x{height} pixels; each side must be at least {MIN_SIDE}"
    with pytest.raises(ValueError, match=message):
        load_image(path)


@pytest.mark.parametrize("size", [(1000, 100), (40, 400)])
def test_extreme_aspect_ratio(tmp_path, size):
    path = _write(tmp_path, "strip.png", _encode(Image.new("RGB", size, "blue"), "PNG"))
    with pytest.raises(ValueError, match=r"extreme aspect ratio 10.0:1"):
        load_image(path)
    # Exactly at the limit is accepted.
    _assert_rgb(load_image(np.zeros((int(MAX_ASPECT * 40), 40, 3), np.uint8)), int(MAX_ASPECT * 40), 40)


# --- odd files that load correctly ----------------------------------------------------------------------------------


def test_rgb_png_roundtrip_path_bytes_fileobj_pil(tmp_path):
    photo = _photo()
    data = _encode(Image.fromarray(photo), "PNG")
    path = _write(tmp_path, "photo.png", data)
    for source in (path, str(path), data, bytearray(data), memoryview(data), io.BytesIO(data), Image.open(path)):
        result = load_image(source)
        _assert_rgb(result)
        np.testing.assert_array_equal(result, photo)


def test_grayscale_jpeg_and_1bit(tmp_path):
    gray = _photo()[:, :, 1]
    result = load_image(_write(tmp_path, "gray.jpg", _encode(Image.fromarray(gray), "JPEG", quality=100)))
    _assert_rgb(result)
    assert (result[..., 0] == result[..., 1]).all() and (result[..., 1] == result[..., 2]).all()
    assert np.abs(result[..., 0].astype(int) - gray).max() <= 3
    bits = Image.fromarray(gray > 127).convert("1")
    result = load_image(_encode(bits, "PNG"))
    np.testing.assert_array_equal(result[..., 0], np.where(gray > 127, 255, 0))


def test_rgba_composited_on_white(tmp_path):
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., 0] = 200  # a red-ish square, fully transparent around it, half transparent in one band
    rgba[16:48, 12:36, 3] = 255
    rgba[0:8, :, 3] = 128
    result = load_image(_write(tmp_path, "cutout.png", _encode(Image.fromarray(rgba, "RGBA"), "PNG")), role="garment")
    _assert_rgb(result)
    np.testing.assert_array_equal(result[30, 20], [200, 0, 0])
    np.testing.assert_array_equal(result[60, 2], [255, 255, 255])  # transparent -> white, not black
    np.testing.assert_allclose(result[4, 4], [227, 127, 127], atol=1)  # alpha 128 blended with white


def test_grayscale_with_alpha(tmp_path):
    la = Image.fromarray(np.stack([np.full((H, W), 50, np.uint8), np.zeros((H, W), np.uint8)], -1), "LA")
    result = load_image(_write(tmp_path, "la.png", _encode(la, "PNG")))
    np.testing.assert_array_equal(result, 255)


def test_cmyk_jpeg(tmp_path):
    cmyk = Image.new("CMYK", (W, H), (0, 255, 255, 0))  # pure red in CMYK
    path = _write(tmp_path, "cmyk.jpg", _encode(cmyk, "JPEG", quality=100))
    assert Image.open(path).mode == "CMYK"
    result = load_image(path)
    _assert_rgb(result)
    assert np.abs(result[H // 2, W // 2].astype(int) - [255, 0, 0]).max() <= 4


def test_16bit_grayscale_png(tmp_path):
    gray16 = (np.arange(H * W, dtype=np.uint32).reshape(H, W) * 65535 // (H * W - 1)).astype(np.uint16)
    path = _write(tmp_path, "gray16.png", _encode(Image.fromarray(gray16), "PNG"))
    assert Image.open(path).mode.startswith("I")
    result = load_image(path)
    _assert_rgb(result)
    expected = np.rint(gray16 / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(result[..., 0], expected)
    assert result[0, 0, 0] == 0 and result[-1, -1, 2] == 255


def test_16bit_rgb_png(tmp_path):
    rgb16 = np.zeros((H, W, 3), np.uint16)
    rgb16[..., 0] = 65535
    rgb16[..., 1] = 32896  # 128 * 257
    rgb16[:, : W // 2, 2] = 65535
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(H))
    result = load_image(_write(tmp_path, "rgb16.png", _png(W, H, 16, 2, raw)))
    _assert_rgb(result)
    np.testing.assert_array_equal(result[0, 0], [255, 128, 255])
    np.testing.assert_array_equal(result[0, -1], [255, 128, 0])


def test_palette_png(tmp_path):
    index = np.zeros((H, W), np.uint8)
    index[:, W // 2 :] = 1
    image = Image.fromarray(index, "P")
    image.putpalette([10, 200, 30, 240, 20, 120] + [0] * (3 * 254))
    path = _write(tmp_path, "palette.png", _encode(image, "PNG"))
    assert Image.open(path).mode == "P"
    result = load_image(path)
    np.testing.assert_array_equal(result[5, 5], [10, 200, 30])
    np.testing.assert_array_equal(result[5, -5], [240, 20, 120])


def test_palette_png_with_transparency(tmp_path):
    index = np.zeros((H, W), np.uint8)
    index[20:40, 10:30] = 1
    image = Image.fromarray(index, "P")
    image.putpalette([0, 0, 0, 30, 60, 200] + [0] * (3 * 254))
    path = _write(tmp_path, "palette_t.png", _encode(image, "PNG", transparency=0))
    result = load_image(path, role="garment")
    np.testing.assert_array_equal(result[0, 0], [255, 255, 255])  # transparent index -> white background
    np.testing.assert_array_equal(result[30, 20], [30, 60, 200])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_jpeg_loads_upright(tmp_path, orientation):
    # Stored landscape 96x64 with a red block in the stored top-left corner; the EXIF tag says how to display it.
    stored = np.full((64, 96, 3), 200, np.uint8)
    stored[:16, :16] = [255, 0, 0]
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _write(tmp_path, f"rot{orientation}.jpg", _encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif))
    result = load_image(path)
    red = (result[..., 0] > 200) & (result[..., 1] < 60)
    ys, xs = np.nonzero(red)
    if orientation == 3:  # 180 degrees: same size, block at the bottom-right
        assert result.shape == (64, 96, 3)
        assert ys.min() >= 64 - 18 and xs.min() >= 96 - 18
    elif orientation == 6:  # display = stored turned 90 degrees clockwise: portrait, block at the top-right
        assert result.shape == (96, 64, 3)
        assert ys.max() < 18 and xs.min() >= 64 - 18
    else:  # 8: turned 90 degrees counter-clockwise: portrait, block at the bottom-left
        assert result.shape == (96, 64, 3)
        assert ys.min() >= 96 - 18 and xs.max() < 18


def test_exif_rotated_pil_image_is_also_turned(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _write(tmp_path, "rot.jpg", _encode(Image.fromarray(_photo(48, 96)), "JPEG", exif=exif))
    assert load_image(Image.open(path)).shape == (96, 48, 3)


def test_animated_gif_uses_first_frame(tmp_path, caplog):
    frames = [Image.new("RGB", (W, H), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    path = _write(tmp_path, "anim.gif", data)
    assert Image.open(path).n_frames == 3
    with caplog.at_level(logging.INFO, logger="vton_zoo.preprocess.io"):
        result = load_image(path, role="garment")
    _assert_rgb(result)
    np.testing.assert_array_equal(result[H // 2, W // 2], [255, 0, 0])
    assert any("animated (3 frames)" in record.getMessage() for record in caplog.records)


# --- arrays ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_arrays(bad):
    array = np.full((H, W, 3), 0.5, np.float32)
    array[3, 4, 1] = bad
    with pytest.raises(ValueError, match=r"contains NaN or infinite values \(1 of"):
        load_image(array)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((H, W, 3), np.complex64), "unsupported dtype complex64"),
        (np.zeros((H, W, 3), object), "unsupported dtype object"),
        (np.zeros((H, W, 3), "U1"), "unsupported dtype <U1"),
        (np.zeros((H, W, 3), "datetime64[s]"), r"unsupported dtype datetime64\[s\]"),
        (np.zeros((H, W), bool), "dtype bool"),
        (np.full((H, W, 3), 300, np.int64), r"values in \[300, 300\]; expected 0..255"),
        (np.full((H, W, 3), -1, np.int16), r"values in \[-1, -1\]"),
        (np.full((H, W, 3), 2.0, np.float32) - 3.0, r"float values in \[-1, -1\]"),
        (np.full((H, W, 3), 256.0), r"float values in \[256, 256\]"),
    ],
    ids=["complex", "object", "str", "datetime", "bool", "int-range", "negative-int", "float-signed", "float-range"],
)
def test_wrong_dtypes_and_ranges(array, message):
    with pytest.raises(ValueError, match=message):
        load_image(array, role="garment")


@pytest.mark.parametrize(
    "shape, message",
    [
        ((H * W * 3,), "has shape"),
        ((H, W, 2), r"has shape \(64, 48, 2\); expected"),
        ((H, W, 5), "has shape"),
        ((1, H, W, 3), "has shape"),
        ((3, H, W), "looks channels-first"),
        ((0, 0, 3), "is empty"),
    ],
)
def test_wrong_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        load_image(np.zeros(shape, np.uint8))


def test_array_conversions():
    photo = _photo()
    np.testing.assert_array_equal(load_image(photo), photo)
    np.testing.assert_array_equal(load_image(photo / 255.0), photo)  # float64 in [0, 1]
    np.testing.assert_array_equal(load_image(photo.astype(np.float32)), photo)  # float in [0, 255]
    np.testing.assert_array_equal(load_image((photo / 255.0).astype(np.float16)), photo)
    np.testing.assert_array_equal(load_image(photo.astype(np.uint16) * 257), photo)  # full-range 16-bit
    np.testing.assert_array_equal(load_image(photo.astype(np.int64)), photo)
    np.testing.assert_array_equal(load_image(photo[..., 0]), np.repeat(photo[..., :1], 3, 2))  # (H, W)
    np.testing.assert_array_equal(load_image(photo[..., :1]), np.repeat(photo[..., :1], 3, 2))  # (H, W, 1)
    rgba = np.concatenate([photo, np.full((H, W, 1), 255, np.uint8)], -1)
    rgba[0, 0, 3] = 0
    result = load_image(rgba)
    np.testing.assert_array_equal(result[1:, 1:], photo[1:, 1:])
    np.testing.assert_array_equal(result[0, 0], [255, 255, 255])
    assert load_image(np.asfortranarray(photo)).flags["C_CONTIGUOUS"]


def test_unsupported_types_and_role():
    with pytest.raises(ValueError, match="unsupported type builtins.list"):
        load_image([[0, 1], [2, 3]])
    with pytest.raises(ValueError, match="unsupported type builtins.int"):
        load_image(42)
    with pytest.raises(ValueError, match="role must be"):
        load_image(_photo(), role="shoe")
    with pytest.raises(ValueError, match="binary mode"):
        load_image(io.StringIO("abc"))


def test_pil_image_inputs():
    gray16 = Image.fromarray(np.full((H, W), 65535, np.uint16))
    np.testing.assert_array_equal(load_image(gray16), 255)
    floats = Image.fromarray(np.full((H, W), 0.5, np.float32), "F")
    np.testing.assert_array_equal(load_image(floats), 128)
    ycbcr = Image.fromarray(_photo()).convert("YCbCr")
    assert np.abs(load_image(ycbcr).astype(int) - _photo()).max() <= 3
    with pytest.raises(ValueError, match="too small"):
        load_image(Image.new("RGB", (1, 1)))


# --- memory bounds: refusals cost no memory -------------------------------------------------------------------------


def _peak_bytes(call) -> int:
    """Peak memory numpy/Python allocate while ``call()`` runs (numpy reports its buffers to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    except ValueError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.uint16, np.int64])
def test_huge_array_is_refused_before_any_conversion(dtype):
    # A 20000 x 20000 x 3 view that costs nothing itself (broadcast): converting it first would allocate
    # 1.2 GB (uint8 copy) to 4.8 GB (float32) before the size check refused it.
    huge = np.broadcast_to(np.zeros((1, 1, 3), dtype), (20_000, 20_000, 3))
    with pytest.raises(ValueError, match=r"^person image is too large: 20000x20000 = 400.0 megapixels"):
        load_image(huge)
    assert _peak_bytes(lambda: load_image(huge)) < 1_000_000
    tiny = np.broadcast_to(np.zeros((1, 1), dtype), (10, 5000))
    with pytest.raises(ValueError, match=r"too small: 5000x10"):
        load_image(tiny, role="garment")


def test_file_size_is_checked_before_reading(tmp_path):
    from vton_zoo.preprocess.io import MAX_FILE_BYTES

    big = tmp_path / "big.jpg"
    with open(big, "wb") as handle:  # sparse: no disk used, and nothing may be read from it
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ValueError, match=r"^person image file is too large: 268,435,457 bytes; the limit is 256 MB$"):
        load_image(big)
    assert _peak_bytes(lambda: load_image(big)) < 1_000_000
    with open(big, "rb") as handle:  # a file object is read no further than the limit
        message = r"^garment image file is too large: more than 1,000 bytes; the limit is 1,000 bytes$"
        with pytest.raises(ValueError, match=message):
            load_image(handle, role="garment", max_file_bytes=1000)
    small = _write(tmp_path, "ok.png", _encode(Image.fromarray(_photo()), "PNG"))
    with pytest.raises(ValueError, match="file is too large"):
        load_image(small, max_file_bytes=10)
    _assert_rgb(load_image(small))


def test_messages_can_name_the_file_without_its_path(tmp_path):
    # An app passes the name the user uploaded; the server's temporary path never reaches the message.
    path = _write(tmp_path, "upload_8f3a.bin", b"PK\x03\x04 a zip file, not a photo" * 10)
    with pytest.raises(ValueError) as info:
        load_image(path, name="holiday.zip")
    assert str(info.value).startswith("person input is not an image: 'holiday.zip' is not in a format")
    assert str(tmp_path) not in str(info.value)
    for data, message in ((b"", "empty"), (_encode(Image.fromarray(_photo()), "JPEG")[:300], "truncated|corrupt")):
        bad = _write(tmp_path, "bad.jpg", data)
        with pytest.raises(ValueError, match=message) as info:
            load_image(bad, name="me.jpg")
        assert str(tmp_path) not in str(info.value)
    with pytest.raises(ValueError, match="'me.jpg'") as info:
        load_image(tmp_path / "gone.jpg", name="me.jpg")
    assert str(tmp_path) not in str(info.value)


def test_probe_reads_the_header_only(tmp_path):
    from vton_zoo.preprocess.io import probe_image

    good = _write(tmp_path, "ok.png", _encode(Image.fromarray(_photo()), "PNG"))
    assert probe_image(good) == (W, H)
    side = 20_000  # 400 megapixels: past Pillow's own bomb limit too
    bomb = _write(tmp_path, "bomb.png", _png(side, side, 1, 0, bytes(side * (1 + side // 8))))
    with pytest.raises(ValueError, match=r"^garment image is too large: 400.0 megapixels exceeds the limit of 40 "
                       r"megapixels \(possible decompression bomb\); downscale it first$") as info:
        probe_image(bomb, role="garment", name="big.png")
    assert str(tmp_path) not in str(info.value)
    assert _peak_bytes(lambda: probe_image(bomb)) < 2_000_000
    with pytest.raises(ValueError, match=r"^person input is not an image: 'notes.txt'"):
        probe_image(_write(tmp_path, "x.txt", b"just text" * 50), name="notes.txt")
    with pytest.raises(ValueError, match="empty"):
        probe_image(b"")
