"""Framing: bring a photo to a model's aspect ratio and resolution around the person (or garment), and back.

The try-on networks were trained on photos framed one way: VITON and VITON-HD show one person from the top of the
head to about mid-thigh, filling the height of a 3:4 portrait frame; the garment photos show the garment centred,
filling about 90 % of the frame. A user's photo can be anything: a full-length shot, a phone photo at 9:16, a person
off-centre in a wide room. :func:`frame_person` finds the box a model should see, :class:`Framing` describes the
transform (crop box in the photo's pixels, output size, padding), applies it to images, masks and keypoints, and
pastes a model-resolution result back into the original photo at its original size.

How the box is chosen (:func:`frame_box`, pure geometry):

1. the *body box*: the person mask's component(s) holding the person's keypoints, united with the visible keypoints;
   with ``extent="upper"`` (default) it stops at mid-thigh (hips + 45 % of the shoulder-hip distance, the framing of
   the datasets), with ``extent="full"`` it holds the whole person;
2. the *required box*: the body box widened (or heightened) symmetrically to the model's aspect ratio; everything in
   it must be in the frame;
3. the *desired box*: the same with a margin (5 % of the body box's size) on every side;
4. the frame is as large as the desired box, but no larger than the largest box of the model's aspect ratio that fits
   in the photo, and never smaller than the required box; it is placed as close to centred on the body as the photo
   allows. So a photo is padded only where the body itself (at the model's aspect ratio) does not fit, e.g. a 9:16
   photo with the person filling its width, and a photo already framed like the datasets passes through unchanged.

Padding uses the colour of the photo's border on that side (``pad="background"``: the median of a thin border
strip, reached from the replicated edge over a short ramp so that there is no hard line), or replicates the edge
pixels (``pad="edge"``), or a fixed colour.

The inverse, :meth:`Framing.paste`, resizes the result to the crop box, and blends it into a copy of the original:
only pixels inside the crop box (and, optionally, inside a soft ``region`` mask) change; at the crop box's edges
that lie inside the photo the result fades into the original over a few pixels, so there is no visible seam.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image
from scipy import ndimage

from ._inputs_common import check_image, check_size

logger = logging.getLogger(__name__)

#: Margin around the body box, as a fraction of the body box's height (and width), on every side.
MARGIN = 0.05
#: ``extent="upper"`` ends the body box this far below the hips, in units of the shoulder-hip distance.
THIGH_FRACTION = 0.45
#: Width of the seam over which a pasted result fades into the original, as a fraction of the crop's short side.
FEATHER = 0.03

Box = tuple[float, float, float, float]
Extent = Literal["upper", "full"]
Pad = Literal["background", "edge"] | tuple[int, int, int]

# MediaPipe landmark indices used here (see pose.py).
_MP_SHOULDERS = (11, 12)
_MP_HIPS = (23, 24)
_LANDMARK_VISIBILITY = 0.3


# --- the transform --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Framing:
    """A crop (with padding where it leaves the photo) followed by a resize to ``size``.

    A point ``(x, y)`` of the photo maps to ``((x - x0) * sx, (y - y0) * sy)`` in the framed image, with
    ``sx = W / (x1 - x0)`` and ``sy = H / (y1 - y0)``; pixel coordinates are continuous (0 is the left edge of the
    first pixel), as the keypoints are.

    Attributes:
        image_size: ``(H, W)`` of the original photo.
        box: ``(x0, y0, x1, y1)`` the crop box in the photo's pixels (integers; may extend past the photo, where it is
            padded).
        size: ``(H, W)`` of the framed image.
        pad: how the part of the box outside the photo is filled: ``"background"``, ``"edge"`` or an RGB colour.
    """

    image_size: tuple[int, int]
    box: tuple[int, int, int, int]
    size: tuple[int, int]
    pad: Pad = "background"

    def __post_init__(self) -> None:
        check_size(self.image_size, "image_size")
        check_size(self.size, "size")
        x0, y0, x1, y1 = self.box
        if not all(isinstance(v, (int, np.integer)) for v in self.box) or x1 <= x0 or y1 <= y0:
            raise ValueError(f"box must be integers (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {self.box}")
        height, width = self.image_size
        if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
            raise ValueError(f"box {self.box} does not overlap the {width}x{height} image")
        if not (self.pad in ("background", "edge") or _is_colour(self.pad)):
            raise ValueError(f"pad must be 'background', 'edge' or an RGB colour (r, g, b), got {self.pad!r}")

    # --- geometry ---------------------------------------------------------------------------------------------------

    @property
    def scale(self) -> tuple[float, float]:
        """``(sx, sy)``: framed pixels per photo pixel."""
        x0, y0, x1, y1 = self.box
        return self.size[1] / (x1 - x0), self.size[0] / (y1 - y0)

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)``: photo pixels of the box that lie outside the photo."""
        x0, y0, x1, y1 = self.box
        height, width = self.image_size
        return max(0, -x0), max(0, -y0), max(0, x1 - width), max(0, y1 - height)

    @property
    def inner_box(self) -> tuple[int, int, int, int]:
        """The part of the box inside the photo, ``(x0, y0, x1, y1)``."""
        x0, y0, x1, y1 = self.box
        height, width = self.image_size
        return max(0, x0), max(0, y0), min(width, x1), min(height, y1)

    @property
    def is_identity(self) -> bool:
        """True when the framed image is the photo itself (no crop, no padding, no resize)."""
        height, width = self.image_size
        return self.box == (0, 0, width, height) and tuple(self.size) == (height, width)

    def with_size(self, size: tuple[int, int]) -> Framing:
        """The same crop box, resized to another ``(H, W)`` (e.g. a working resolution above the model's)."""
        return dataclasses.replace(self, size=check_size(size))

    def to_framed(self, points: np.ndarray) -> np.ndarray:
        """Keypoints ``(N, 3)`` ``(x, y, conf)`` of the photo in framed pixels (missing points stay missing; points
        that land outside the framed image become missing)."""
        from .pose import transform_keypoints

        sx, sy = self.scale
        x0, y0 = self.box[:2]
        return transform_keypoints(points, scale=(sx, sy), offset=(-x0 * sx, -y0 * sy), size=self.size)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Keypoints ``(N, 3)`` of the framed image in photo pixels (the inverse of :meth:`to_framed`)."""
        from .pose import transform_keypoints

        sx, sy = self.scale
        x0, y0 = self.box[:2]
        return transform_keypoints(points, scale=(1 / sx, 1 / sy), offset=(x0, y0), size=self.image_size)

    def transform_pose(self, pose):
        """A :class:`~vton_zoo.preprocess.pose.PoseResult` of the photo mapped onto the framed image (keypoints,
        raw landmarks and the Pose mask)."""
        from .pose import PoseResult

        if tuple(pose.image_size) != tuple(self.image_size):
            raise ValueError(f"pose is for a {pose.image_size} image, the framing for {self.image_size}")
        sx, sy = self.scale
        x0, y0 = self.box[:2]
        landmarks = pose.landmarks.astype(np.float32, copy=True)
        if pose.found:
            landmarks[:, 0] = (landmarks[:, 0] - x0) * sx
            landmarks[:, 1] = (landmarks[:, 1] - y0) * sy
            landmarks[:, 2] *= sx  # z is on the scale of x
        return PoseResult(
            coco18=self.to_framed(pose.coco18),
            body25=self.to_framed(pose.body25),
            landmarks=landmarks,
            image_size=tuple(self.size),
            mask=None if pose.mask is None else self.crop_mask(pose.mask),
            min_visibility=pose.min_visibility,
        )

    # --- forward ----------------------------------------------------------------------------------------------------

    def crop(self, image: np.ndarray, *, resample: int = Image.BICUBIC) -> np.ndarray:
        """The framed image: ``uint8`` RGB ``(H, W, 3)`` of ``size``.

        Args:
            image: the photo, ``uint8`` RGB of ``image_size``.
            resample: PIL resampling filter (antialiased when shrinking).
        """
        image = self._check_photo(image)
        height, width = self.size
        if not any(self.padding):
            if self.is_identity:
                return image.copy()
            # PIL crops and resizes in one pass; reducing_gap pre-shrinks large photos quickly.
            return np.asarray(
                Image.fromarray(image).resize((width, height), resample, box=self.box, reducing_gap=3.0)
            )
        canvas = self._padded(image)
        return np.asarray(Image.fromarray(canvas).resize((width, height), resample, reducing_gap=3.0))

    def crop_mask(self, mask: np.ndarray, *, fill: float = 0.0) -> np.ndarray:
        """A mask or probability map ``(H, W)`` of the photo framed the same way: ``float32`` in ``[0, 1]``
        (bilinear; the padding is ``fill``). Bool masks come back as float; threshold at 0.5."""
        mask = np.asarray(mask)
        if mask.shape != tuple(self.image_size):
            raise ValueError(f"mask must have the photo's shape {self.image_size}, got {mask.shape}")
        values = mask.astype(np.float32)
        left, top, right, bottom = self.padding
        ix0, iy0, ix1, iy1 = self.inner_box
        inner = values[iy0:iy1, ix0:ix1]
        if any(self.padding):
            inner = np.pad(inner, ((top, bottom), (left, right)), constant_values=fill)
        height, width = self.size
        resized = Image.fromarray(inner, mode="F").resize((width, height), Image.BILINEAR, reducing_gap=3.0)
        return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)

    def crop_labels(self, label_map: np.ndarray, *, fill: int = 0) -> np.ndarray:
        """A ``uint8`` label map ``(H, W)`` of the photo framed the same way (nearest neighbour; padding ``fill``)."""
        label_map = np.asarray(label_map)
        if label_map.shape != tuple(self.image_size) or label_map.dtype != np.uint8:
            raise ValueError(f"label map must be uint8 {self.image_size}, got {label_map.dtype} {label_map.shape}")
        left, top, right, bottom = self.padding
        ix0, iy0, ix1, iy1 = self.inner_box
        inner = np.pad(label_map[iy0:iy1, ix0:ix1], ((top, bottom), (left, right)), constant_values=fill)
        height, width = self.size
        return np.asarray(Image.fromarray(inner).resize((width, height), Image.NEAREST))

    def _check_photo(self, image: np.ndarray) -> np.ndarray:
        image = check_image(image, "photo")
        if image.shape[:2] != tuple(self.image_size):
            raise ValueError(f"photo must have the size the framing was computed for, {self.image_size}, "
                             f"got {image.shape[:2]}")
        return image

    def _padded(self, image: np.ndarray) -> np.ndarray:
        """The crop box at the photo's resolution, padded as ``pad`` says."""
        left, top, right, bottom = self.padding
        ix0, iy0, ix1, iy1 = self.inner_box
        inner = image[iy0:iy1, ix0:ix1]
        canvas = np.pad(inner, ((top, bottom), (left, right), (0, 0)), mode="edge").astype(np.float32)
        if self.pad == "edge":
            return canvas.astype(np.uint8)
        box_h, box_w = canvas.shape[:2]
        ramp = max(2.0, 0.04 * min(box_h, box_w))  # the edge colour fades into the side's colour over this length
        cols = np.arange(box_w, dtype=np.float32)
        rows = np.arange(box_h, dtype=np.float32)
        # (distance into the padding, fill colour) for each padded side; each side fades independently.
        sides = (
            (left, lambda: (left - cols)[None, :], "left"),
            (right, lambda: (cols - (box_w - right - 1))[None, :], "right"),
            (top, lambda: (top - rows)[:, None], "top"),
            (bottom, lambda: (rows - (box_h - bottom - 1))[:, None], "bottom"),
        )
        for amount, distance, side in sides:
            if amount <= 0:
                continue
            colour = self._side_colour(image, side)
            weight = np.clip(distance() / ramp, 0.0, 1.0)[..., None]
            canvas = canvas * (1.0 - weight) + colour * weight
        return np.rint(canvas).clip(0, 255).astype(np.uint8)

    def _side_colour(self, image: np.ndarray, side: str) -> np.ndarray:
        if _is_colour(self.pad):
            return np.asarray(self.pad, np.float32)
        height, width = image.shape[:2]
        strip = max(1, round(0.02 * min(height, width)))
        region = {
            "left": image[:, :strip],
            "right": image[:, -strip:],
            "top": image[:strip],
            "bottom": image[-strip:],
        }[side]
        return np.median(region.reshape(-1, 3), axis=0).astype(np.float32)

    # --- inverse ----------------------------------------------------------------------------------------------------

    def paste(self, result: np.ndarray, original: np.ndarray, *, region: np.ndarray | None = None,
              feather: float = FEATHER, resample: int = Image.BICUBIC) -> np.ndarray:
        """Put a framed-size result back into the original photo, at the photo's size.

        Args:
            result: ``uint8`` RGB ``(H, W, 3)`` of ``size`` (e.g. the model's try-on image).
            original: the photo, ``uint8`` RGB of ``image_size``.
            region: optional soft mask ``(H, W)`` of ``size`` in ``[0, 1]``: where the result replaces the photo
                (e.g. the garment area); default everywhere inside the crop box.
            feather: width of the fade at crop-box edges inside the photo, as a fraction of the box's short side
                (0: a hard edge).
            resample: PIL filter for enlarging the result.

        Returns:
            A new ``uint8`` RGB array of ``image_size``; pixels outside the crop box equal ``original``.
        """
        original = self._check_photo(original)
        result = check_image(result, "result")
        if result.shape[:2] != tuple(self.size):
            raise ValueError(f"result must have the framed size {self.size}, got {result.shape[:2]}")
        if not (0.0 <= feather <= 0.5):
            raise ValueError(f"feather must be in [0, 0.5], got {feather}")
        ix0, iy0, ix1, iy1 = self.inner_box
        inner_w, inner_h = ix1 - ix0, iy1 - iy0
        sx, sy = self.scale
        x0, y0 = self.box[:2]
        # The inner box in the result's pixels (continuous coordinates).
        source = ((ix0 - x0) * sx, (iy0 - y0) * sy, (ix1 - x0) * sx, (iy1 - y0) * sy)
        back = np.asarray(Image.fromarray(result).resize((inner_w, inner_h), resample, box=source), np.float32)

        alpha = self._seam_alpha(inner_w, inner_h, feather)
        if region is not None:
            region = np.asarray(region, np.float32)
            if region.shape != tuple(self.size):
                raise ValueError(f"region must have the framed size {self.size}, got {region.shape}")
            if not np.isfinite(region).all():
                raise ValueError("region contains NaN or inf")
            region_back = Image.fromarray(np.clip(region, 0.0, 1.0), mode="F").resize(
                (inner_w, inner_h), Image.BILINEAR, box=source)
            alpha = alpha * np.clip(np.asarray(region_back, np.float32), 0.0, 1.0)

        out = original.copy()
        patch = original[iy0:iy1, ix0:ix1].astype(np.float32)
        weight = alpha[..., None]
        out[iy0:iy1, ix0:ix1] = np.rint(patch * (1.0 - weight) + back * weight).clip(0, 255).astype(np.uint8)
        return out

    def _seam_alpha(self, inner_w: int, inner_h: int, feather: float) -> np.ndarray:
        """1 inside the inner box, fading to 0 towards each of its edges that lies inside the photo (a seam)."""
        box_w, box_h = self.box[2] - self.box[0], self.box[3] - self.box[1]
        width_px = feather * min(box_w, box_h)
        alpha_x = np.ones(inner_w, np.float32)
        alpha_y = np.ones(inner_h, np.float32)
        if width_px >= 1.0:
            height, width = self.image_size
            ix0, iy0, ix1, iy1 = self.inner_box
            # Distance (in pixel centres) from each seam edge; the image border is no seam.
            xs = np.arange(inner_w, dtype=np.float32) + 0.5
            ys = np.arange(inner_h, dtype=np.float32) + 0.5
            if ix0 > 0:
                alpha_x = np.minimum(alpha_x, xs / width_px)
            if ix1 < width:
                alpha_x = np.minimum(alpha_x, (inner_w - xs) / width_px)
            if iy0 > 0:
                alpha_y = np.minimum(alpha_y, ys / width_px)
            if iy1 < height:
                alpha_y = np.minimum(alpha_y, (inner_h - ys) / width_px)
        alpha_x, alpha_y = _smoothstep(np.clip(alpha_x, 0, 1)), _smoothstep(np.clip(alpha_y, 0, 1))
        return alpha_y[:, None] * alpha_x[None, :]


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3.0 - 2.0 * t)


def _is_colour(value: object) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 3
            and all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in value))


# --- choosing the box -----------------------------------------------------------------------------------------------


def frame_box(image_size: tuple[int, int], body_box: Box, size: tuple[int, int], *,
              margin: float = MARGIN) -> tuple[int, int, int, int]:
    """The crop box of the model's aspect ratio around a body box (see the module docstring for the rules).

    Args:
        image_size: ``(H, W)`` of the photo.
        body_box: ``(x0, y0, x1, y1)`` what must be in the frame, in photo pixels (clipped to the photo).
        size: ``(H, W)`` of the model input: only its aspect ratio matters here.
        margin: margin added around the body box where the photo allows, as a fraction of its size.

    Returns:
        ``(x0, y0, x1, y1)`` integers, of aspect ratio ``W / H`` to within a pixel; it may extend past the photo
        only where the body box at the model's aspect ratio does not fit in it.
    """
    height, width = check_size(image_size, "image_size")
    out_h, out_w = check_size(size)
    if not (math.isfinite(margin) and 0.0 <= margin <= 1.0):
        raise ValueError(f"margin must be in [0, 1], got {margin}")
    try:
        bx0, by0, bx1, by1 = (float(v) for v in body_box)
    except (TypeError, ValueError):
        raise ValueError(f"body_box must be (x0, y0, x1, y1), got {body_box!r}") from None
    if not all(math.isfinite(v) for v in (bx0, by0, bx1, by1)):
        raise ValueError(f"body_box must be finite, got {body_box!r}")
    bx0, bx1 = max(0.0, bx0), min(float(width), bx1)
    by0, by1 = max(0.0, by0), min(float(height), by1)
    if bx1 - bx0 < 1.0 or by1 - by0 < 1.0:
        raise ValueError(f"body_box {body_box!r} is empty inside the {width}x{height} image")
    aspect = out_w / out_h

    body_h, body_w = by1 - by0, bx1 - bx0
    required_h = max(body_h, body_w / aspect)  # the body box at the model's aspect ratio
    pad = margin * max(body_h, body_w)
    desired_h = max(body_h + 2 * pad, (body_w + 2 * pad) / aspect)
    fit_h = min(float(height), width / aspect)  # the largest box of this aspect ratio inside the photo
    box_h = max(required_h, min(desired_h, fit_h))
    box_h_px = max(1, round(box_h))
    box_w_px = max(1, round(box_h_px * aspect))

    def place(length: int, low: float, high: float, extent: int) -> int:
        """Start of a window of ``length`` holding [low, high], inside [0, extent] when it fits, centred on the body
        as far as that allows."""
        centre_start = (low + high) / 2 - length / 2
        if length <= extent:
            lo, hi = max(high - length, 0.0), min(low, float(extent - length))
        else:  # the photo is covered on this axis; pad both sides, the body as central as possible
            lo, hi = float(extent - length), 0.0
        if lo > hi:  # rounding: the window is a fraction of a pixel short
            return round((lo + hi) / 2)
        return round(min(max(centre_start, lo), hi))

    x0 = place(box_w_px, bx0, bx1, width)
    y0 = place(box_h_px, by0, by1, height)
    return int(x0), int(y0), int(x0 + box_w_px), int(y0 + box_h_px)


def person_box(pose, person_mask: np.ndarray | None = None, *, extent: Extent = "upper") -> Box:
    """The body box of a person: the person mask's component(s) holding the keypoints plus the visible keypoints.

    Args:
        pose: a :class:`~vton_zoo.preprocess.pose.PoseResult` of the photo (a person must have been found).
        person_mask: optional person probability ``(H, W)`` (e.g. :func:`~vton_zoo.preprocess.segmentation.
            segment_person`); without it the box is the keypoints' (which miss the top of the head and the hair).
        extent: ``"upper"`` stops at mid-thigh, as the datasets frame people; ``"full"`` holds the whole person.

    Returns:
        ``(x0, y0, x1, y1)`` in photo pixels.

    Raises:
        ValueError: no person in ``pose``, a mask of the wrong shape, or an unknown ``extent``.
    """
    if extent not in ("upper", "full"):
        raise ValueError(f"extent must be 'upper' or 'full', got {extent!r}")
    height, width = pose.image_size
    landmarks = np.asarray(pose.landmarks, np.float32)
    inside = (
        (landmarks[:, 3] >= _LANDMARK_VISIBILITY)
        & (landmarks[:, 0] >= 0) & (landmarks[:, 0] <= width)
        & (landmarks[:, 1] >= 0) & (landmarks[:, 1] <= height)
    )
    points = [pose.coco18[pose.coco18[:, 2] > 0, :2], landmarks[inside, :2]]
    points = np.concatenate(points, axis=0)
    if not pose.found or len(points) == 0:
        raise ValueError("no person to frame: the pose has no visible keypoints")

    cut = float(height)
    if extent == "upper":
        cut = _thigh_line(landmarks, height)
        points = points[points[:, 1] <= cut]
        if len(points) == 0:
            raise ValueError("no person to frame: no keypoints above the thighs")
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)

    if person_mask is not None:
        mask = np.asarray(person_mask)
        if mask.shape != (height, width):
            raise ValueError(f"person_mask must have the photo's shape {(height, width)}, got {mask.shape}")
        person = _person_components(mask >= 0.5 if mask.dtype != bool else mask, points)
        if cut < height:
            person[int(math.ceil(cut)):] = False
        rows = np.flatnonzero(person.any(axis=1))
        cols = np.flatnonzero(person.any(axis=0))
        if len(rows):
            x0, x1 = min(x0, cols[0]), max(x1, cols[-1] + 1)
            y0, y1 = min(y0, rows[0]), max(y1, rows[-1] + 1)
    if extent == "upper":
        y1 = min(cut, float(height))  # down to mid-thigh, also where the mask ends above it (thighs hidden)
    return float(x0), float(y0), float(x1), float(y1)


def _thigh_line(landmarks: np.ndarray, height: int) -> float:
    """Mid-thigh: hips + THIGH_FRACTION of the shoulder-hip distance (the image bottom when the hips are unknown)."""
    shoulders = landmarks[list(_MP_SHOULDERS)]
    hips = landmarks[list(_MP_HIPS)]
    if (shoulders[:, 3] < _LANDMARK_VISIBILITY).all() or (hips[:, 3] < 0.1).all():
        return float(height)
    shoulder_y = float(shoulders[shoulders[:, 3] >= _LANDMARK_VISIBILITY, 1].mean())
    hip_y = float(hips[hips[:, 3] >= 0.1, 1].mean())
    if hip_y <= shoulder_y:
        return float(height)
    return hip_y + THIGH_FRACTION * (hip_y - shoulder_y)


def _person_components(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The connected components of ``mask`` that hold at least one keypoint (else the largest one)."""
    components, count = ndimage.label(mask)
    if count == 0:
        return mask
    height, width = mask.shape
    xs = np.clip(points[:, 0].astype(int), 0, width - 1)
    ys = np.clip(points[:, 1].astype(int), 0, height - 1)
    hit = np.unique(components[ys, xs])
    hit = hit[hit > 0]
    if len(hit) == 0:
        sizes = ndimage.sum_labels(mask, components, index=np.arange(1, count + 1))
        hit = np.array([int(np.argmax(sizes)) + 1])
    return np.isin(components, hit)


def frame_person(image: np.ndarray, size: tuple[int, int], *, pose=None, person_mask: np.ndarray | None = None,
                 extent: Extent = "upper", margin: float = MARGIN, pad: Pad = "background") -> Framing:
    """The framing of a person photo for a model input of ``size``.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        size: ``(H, W)`` of the model input.
        pose: the photo's :class:`~vton_zoo.preprocess.pose.PoseResult` (estimated when not given).
        person_mask: the photo's person probability (the Pose mask of ``pose`` when not given).
        extent: ``"upper"`` (head to mid-thigh, as in the datasets) or ``"full"`` (the whole person).
        margin: see :func:`frame_box`.
        pad: how to fill the part of the box outside the photo.

    Returns:
        The :class:`Framing`; apply it with :meth:`Framing.crop`, invert it with :meth:`Framing.paste`.

    Raises:
        ValueError: a bad image or argument, or no person in the photo.
    """
    image = check_image(image, "person image")
    if pose is None:
        from .pose import estimate_pose

        pose = estimate_pose(image)
    if tuple(pose.image_size) != image.shape[:2]:
        raise ValueError(f"pose is for a {pose.image_size} image, the photo is {image.shape[:2]}")
    if person_mask is None:
        person_mask = pose.mask
    body = person_box(pose, person_mask, extent=extent)
    box = frame_box(image.shape[:2], body, size, margin=margin)
    framing = Framing(image_size=image.shape[:2], box=box, size=check_size(size), pad=pad)
    logger.debug("person framing: body %s -> box %s, padding %s", tuple(round(v) for v in body), box,
                 framing.padding)
    return framing


def frame_garment(image: np.ndarray, mask: np.ndarray, size: tuple[int, int], *, margin: float = MARGIN,
                  pad: Pad = "background") -> Framing:
    """The framing of a garment product shot: the garment centred at the model's aspect ratio, padded with the
    backdrop's colour where the photo is too narrow or too wide (e.g. a square product shot).

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        mask: the garment mask ``(H, W)`` (bool, or float thresholded at 0.5).
        size: ``(H, W)`` of the model input.
        margin: see :func:`frame_box`.
        pad: how to fill the part of the box outside the photo.
    """
    image = check_image(image, "garment image")
    mask = np.asarray(mask)
    if mask.shape != image.shape[:2]:
        raise ValueError(f"garment mask must have the photo's shape {image.shape[:2]}, got {mask.shape}")
    garment = mask if mask.dtype == bool else mask >= 0.5
    rows = np.flatnonzero(garment.any(axis=1))
    cols = np.flatnonzero(garment.any(axis=0))
    if len(rows) == 0:
        raise ValueError("garment mask is empty: no garment to frame")
    body = (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))
    box = frame_box(image.shape[:2], body, size, margin=margin)
    return Framing(image_size=image.shape[:2], box=box, size=check_size(size), pad=pad)


def identity_framing(image_size: Sequence[int]) -> Framing:
    """The framing that leaves a photo as it is."""
    height, width = check_size(image_size, "image_size")
    return Framing(image_size=(height, width), box=(0, 0, width, height), size=(height, width))
