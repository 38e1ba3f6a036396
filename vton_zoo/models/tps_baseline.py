"""tps-baseline: a weight-free try-on: the garment's parts mapped along the body's bones into the worn garment's shape.

No paper and no learned weights: this project's own baseline (MIT, like the rest of vton-zoo). It is what the demo
runs on a fresh machine before any checkpoint is installed, and a reference row in the comparison table. The torso,
pelvis and skirt warps are thin-plate splines (F. L. Bookstein, "Principal Warps: Thin-Plate Splines and the
Decomposition of Deformations", IEEE TPAMI 11(6), 1989) through control points placed by geometry; sleeves and trouser
legs are mapped along the arm and leg bones.

Data flow (per image of the batch; plain array arithmetic, no parameters):

1. **Keypoints** are read back from the ``pose`` heatmaps; the category from the ``garment_type`` map.
2. **Body**: shoulders, arms, hips, legs (image-left first), and the torso's outline row by row, measured on the
   parse's silhouette with the arms cut away (capsules around the arm bones), smoothed, and filled in from body
   proportions where an arm hides it.
3. **Garment shape** from its mask: torso side lines, shoulder points, armpits, collar corners and hem; the front
   neckline (the edge where the inner back of the neckline, visible through the opening in a product shot, meets the
   front); each sleeve's root, axis, cuff and width along its length. Lower garments: waistband, crotch, and each
   leg's centre line and width.
4. **Where it goes**: the torso of an upper garment or dress fills the person's torso outline, widened up to the
   garment's own (boxy) width, from the shoulders to the garment's scaled length; its neckline opens at the base of
   the person's neck with the garment's own depth; below the hips a dress (or a skirt) spans the legs. A control grid
   (rows x 5 columns) of garment points and person points is fitted with one spline. Each sleeve (and trouser leg)
   follows its bones: a person pixel's distance along the shoulder-elbow-wrist chain and across it pick the garment
   pixel at the same fraction along and across the sleeve, so sleeves join the torso at the shoulder and bend at the
   elbow.
5. **Shading**: the photo's own luminance, relative to its local mean, inside each region the new garment covers
   (the old garment, skin), multiplies the garment (weaker over a patterned old garment), with a little fall-off at
   the body's sides.
6. **Composite**: what of the old garment the new one does not cover is filled: skin (the colours of the person's own
   skin nearby, shaded) inside the body (arms, legs, neck, midriff), the background elsewhere (filled from the
   surrounding background). Face, hair, hands, and what the category does not change (the lower body for a top, the
   upper body for trousers or a skirt) keep the photo's pixels exactly.

Outputs use the canonical names of the flow models: ``warped_garment``, ``warped_mask``, ``flow`` (the combined
sampling grid, channel 0 = x, 1 = y, ``align_corners=False``), ``composite_mask`` (where the new garment is) and
``tryon``.

Known limits (it is a baseline): the garment keeps the flat-lay's proportions only approximately (a very loose
garment is narrowed to at most ``max_ease`` of the body's width); folds and the garment's back are not made up; bare
skin that a shorter garment uncovers is a smooth shaded fill; the coarse parse decides what is garment, skin and hair.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from scipy import ndimage

from .. import types
from ..preprocess import labels
from ..preprocess.garment import row_runs
from ..registry import ModelSpec, WeightsSpec, register_model
from ._base import TryOnModel

try:  # (only for speed: see _dilate)
    import cv2 as _cv2
except ImportError:  # pragma: no cover - MediaPipe (and with it OpenCV) is not installed everywhere
    _cv2 = None

logger = logging.getLogger(__name__)

NUM_KEYPOINTS = 18  # COCO-18
_KP = labels.COCO18_INDEX
CATEGORY_OF_TYPE = {1: "upper", 2: "lower", 3: "dress"}  # round(garment_type * 3)
#: A crew neck's front drops this fraction of the neck opening's width below its corners.
NECK_DEPTH = 0.38
#: Seen from the front, a tube of fabric (a sleeve, a trouser leg) is about 2/pi of its flat width wide.
TUBE_WIDTH = 0.64
#: Worn and seen from the front, a garment's widths are about this fraction of its flat widths (it shows half its
#: circumference laid flat); its lengths stay. Measured on the VITON-HD pair 00017 (neck opening 0.73, hem 0.95).
FLAT_TO_WORN = 0.75
#: A crew neck's opening, worn, spans about this many shoulder-keypoint widths (0.58 on VITON-HD 00017).
NECK_WIDTH = 0.58
#: A top's body, laid flat, is about this many times as wide as its neck opening (tees 1.9-2.6 on the dataset shots).
NECK_TO_CHEST = 2.3
#: A top is lengthened up to this much to cover a longer old top (a bared midriff can only be made up).
MAX_STRETCH = 1.35
#: ...and further when that leaves only a band of the old top (shoulder widths) showing below it.
COVER_BAND = 0.3
#: A top's neck-to-hem, worn, over the body's neck-to-hips, per unit of its flat length-to-width (VITON-HD 00017's
#: own T-shirt: 1.04 at 1.65).
TORSO_FIT = 0.63
#: Worn length / flat length of a lower garment (trousers, skirts hang straight).
LOWER_LENGTH = 0.95
#: A sleeve stands off the arm: at least this multiple of the arm's half-width.
SLEEVE_EASE = 1.3
#: The widest a sleeve is drawn, half-width in shoulder-keypoint widths (a flat boxy or bell sleeve, worn, hangs).
SLEEVE_MAX_HALF = 0.26
#: A sleeve's round shading: its sides this much darker than its middle.
SLEEVE_ROUND = 0.18
#: ...and fades in over this much (shoulder widths) from its edge where it lies over the torso's fabric.
SLEEVE_FADE = 0.04
#: Sleeves whose length on the arm (from the shoulder's top) reaches this share of the arm are long: to the wrists.
LONG_SLEEVE = 0.75
#: The hem row's width is measured this far (a fraction of the garment's armpit-to-hem length) above its hem.
HEM_EDGES_ABOVE = 0.06


@dataclass
class TPSBaselineConfig:
    """Options of the TPS baseline (geometric constants are in units of the person's shoulder-keypoint width)."""

    regularisation: float = 2e-3  # TPS smoothing (lambda on the kernel diagonal, coordinates in [-1, 1])
    shoulder_out: float = 0.06  # the garment's shoulder point: this far outside the shoulder keypoint...
    shoulder_up: float = 0.1  # ...and this far above it
    neck_half: float = 0.16  # half the width of the neck's base
    neck_up: float = 0.18  # the base of the neck (where a crew neck sits) above the shoulder-keypoint line
    length_scale: float = 0.8  # worn length / flat length below the collar (the front drapes; flat armholes drop)
    sleeve_drape: float = 0.95  # worn sleeve length / flat sleeve length
    min_ease: float = 1.04  # the new garment's torso at least this much wider than the body's outline...
    max_ease: float = 1.3  # ...and at most this much, however boxy the flat garment is
    arm_radius: float = 0.13  # half-width of the upper arm; the forearm's is 0.8 of it
    thigh_radius: float = 0.22  # half-width of the thigh; the calf's is 0.65 of it
    shading: float = 0.85  # strength of the photo's shading on the new garment (0: flat-lay colours)


SPEC = ModelSpec(
    name="tps-baseline",
    title="TPS baseline (weight-free)",
    paper="No paper: vton-zoo's own weight-free baseline (garment parts mapped along the pose's bones into the body's "
          "outline, thin-plate splines after Bookstein, TPAMI 1989, shading from the photo)",
    paper_url="https://doi.org/10.1109/34.24792",
    code_url="https://github.com/vton-zoo/vton-zoo",
    commit="this repository (vton_zoo/models/tps_baseline.py)",
    license="MIT (vton-zoo's own code; no weights)",
    inputs={
        "person": types.image("person photo, RGB in [-1, 1]"),
        "garment": types.image("in-shop garment photo, RGB in [-1, 1], not masked"),
        "garment_mask": types.mask("garment mask in [0, 1] (binarised at > 0.5)"),
        "parse": types.mask("coarse body parse of the person, one-hot over the 10 labels of "
                            "vton_zoo.preprocess.labels (channel k = label k); argmax is taken",
                            labels.NUM_PARSE_LABELS),
        "pose": types.mask("COCO-18 keypoint heatmaps in [0, 1]: a Gaussian with peak 1 at each visible keypoint, all "
                           "zeros for a missing one (the keypoint is read back as the centroid of the map's top half)",
                           NUM_KEYPOINTS),
        "garment_type": types.mask("garment category as a constant map (GP-VTON's DressCode convention): 1/3 upper "
                                   "body, 2/3 lower body (trousers, skirts, shorts), 1 dress"),
    },
    outputs={
        "warped_garment": types.image("garment mapped onto the person (torso, sleeves, legs), [-1, 1]"),
        "warped_mask": types.mask("garment mask mapped with the same grids"),
        "flow": types.raw("the sampling grid as a flow field: normalised grid_sample coordinates (channel 0 = x, "
                          "1 = y, align_corners=False) in about [-1, 1]", 2),
        "composite_mask": types.mask("where the new garment is pasted (after occlusion by hair, hands and arms)"),
        "tryon": types.image("final try-on image, [-1, 1]; face, hair, hands and the parts the category does not "
                             "change copied from the person"),
    },
    resolution=(512, 384),
    resolutions=((256, 192), (1024, 768)),
    categories=("upper", "lower", "dress"),
    size_multiple=32,
    weights=WeightsSpec(needs_weights=False,
                        notes="Built in: needs no learned weights (geometry only), nothing to download."),
    description="Weight-free baseline: the garment's torso, sleeves and legs mapped along the pose's bones into the "
                "body's outline (thin-plate splines through geometric control points), shaded with the photo's own "
                "luminance, old garment filled with skin or background. Upper garments, lower garments and dresses.",
)


# --- small geometry helpers ------------------------------------------------------------------------------------------


def _unit(vector: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    norm = float(np.hypot(*vector))
    return vector / norm if norm > 1e-6 else np.asarray(fallback, np.float64)


def _perp(vector: np.ndarray) -> np.ndarray:
    """``vector`` rotated by +90 degrees in image coordinates (x right, y down): right -> down."""
    return np.array([-vector[1], vector[0]])


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def _outer_normal(direction: np.ndarray, side: int) -> np.ndarray:
    """The normal of ``direction`` on the outer side of a limb on image side ``side`` (0 left, 1 right): the one that
    points away from the body and up, as the top edge of a sleeve laid flat does."""
    normal = _perp(direction)
    outward = np.array([-1.0 if side == 0 else 1.0, -1.0])
    return normal if float(normal @ outward) >= 0 else -normal


def _polygon(points: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """Filled polygon (pixel coordinates, pixel centres at +0.5) as a bool mask ``(H, W)``."""
    height, width = size
    canvas = Image.new("L", (width, height))
    if len(points) >= 3:
        ImageDraw.Draw(canvas).polygon([(float(p[0]) - 0.5, float(p[1]) - 0.5) for p in points], fill=1)
    return np.asarray(canvas, bool)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a (2 radius + 1) square (a max filter): OpenCV's where it is installed (it comes with
    MediaPipe; about ten times faster), else SciPy's, with the same result."""
    if radius <= 0:
        return mask.copy()
    size = 2 * radius + 1
    if _cv2 is not None:
        return _cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8), borderType=_cv2.BORDER_CONSTANT,
                           borderValue=0) > 0
    # (Separable: a row max then a column max.)
    rows = ndimage.maximum_filter1d(mask.astype(np.uint8), size, axis=1, mode="constant")
    return ndimage.maximum_filter1d(rows, size, axis=0, mode="constant") > 0


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a 2-D float array, truncated at 3 sigma, edges repeated: OpenCV's where it is installed
    (several times faster; its window set to SciPy's), else SciPy's; the two agree to float rounding."""
    if _cv2 is not None:
        size = 2 * int(3.0 * sigma + 0.5) + 1
        return _cv2.GaussianBlur(np.ascontiguousarray(image, np.float32), (size, size), sigma,
                                 borderType=_cv2.BORDER_REPLICATE)
    return ndimage.gaussian_filter(image, sigma, mode="nearest", truncate=3.0)


def _blur_fast(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of a 2-D array or of each channel of an ``(H, W, C)`` one (C <= 4), edges repeated: OpenCV's
    where it is installed (several times faster), else SciPy's; the two agree to rounding."""
    if _cv2 is not None:
        return _cv2.GaussianBlur(np.ascontiguousarray(image, np.float32), (0, 0), sigma,
                                 borderType=_cv2.BORDER_REPLICATE)
    sigmas = (sigma, sigma, 0) if image.ndim == 3 else sigma
    return ndimage.gaussian_filter(image.astype(np.float32), sigmas, mode="nearest", truncate=4.0)


def _closing(image: np.ndarray, where: np.ndarray, size: int) -> np.ndarray:
    """Grey closing of a 2-D float array by a ``size`` x ``size`` square, edges repeated, computed over the box of
    ``where`` (with room for the window; ``image`` itself outside it): OpenCV's where it is installed, else SciPy's,
    the same values."""
    out = np.array(image, np.float32)
    rows, cols = np.flatnonzero(where.any(1)), np.flatnonzero(where.any(0))
    if not len(rows):
        return out
    pad = size
    box = (slice(max(0, rows[0] - pad), rows[-1] + pad + 1), slice(max(0, cols[0] - pad), cols[-1] + pad + 1))
    part = np.ascontiguousarray(out[box])
    if _cv2 is not None:
        out[box] = _cv2.morphologyEx(part, _cv2.MORPH_CLOSE, np.ones((size, size), np.uint8),
                                     borderType=_cv2.BORDER_REPLICATE)
    else:
        out[box] = ndimage.grey_closing(part, size=(size, size), mode="nearest")
    return out


def _edt(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of each True pixel of ``mask`` to the nearest False one (0 on False): OpenCV's exact
    transform where it is installed (several times faster), else SciPy's; the same values either way (OpenCV's are
    snapped to the square root of the whole squared distance they are off by a rounding from)."""
    if _cv2 is not None and not mask.all():
        distance = _cv2.distanceTransform(mask.astype(np.uint8), _cv2.DIST_L2, _cv2.DIST_MASK_PRECISE)
        return np.sqrt(np.rint(distance * distance)).astype(np.float32)
    return ndimage.distance_transform_edt(mask).astype(np.float32)


def _resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of ``(h, w)`` or ``(h, w, C)`` float arrays (PIL, antialiased when shrinking). Enlarging, where
    OpenCV is installed, its bilinear resize: the same values to float rounding, about four times faster."""
    height, width = size
    if (_cv2 is not None and height >= array.shape[0] and width >= array.shape[1]
            and (array.ndim == 2 or array.shape[2] <= 4)):
        return _cv2.resize(np.ascontiguousarray(array, np.float32), (width, height),
                           interpolation=_cv2.INTER_LINEAR).reshape(size + array.shape[2:])
    if array.ndim == 3:
        return np.stack([_resize(array[..., c], size) for c in range(array.shape[2])], -1)
    image = Image.fromarray(np.ascontiguousarray(array, np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.BILINEAR), np.float32)


def _masked_mean(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Local mean of ``values`` over ``mask`` (normalised Gaussian), NaN-free (0 where the mask is far).

    Wide windows are computed on a coarser copy (a factor up to 8, keeping at least 1.5 px of sigma there) and
    brought back bilinearly: the result is smooth anyway.
    """
    height, width = mask.shape
    factor = 1
    while factor < 8 and sigma / (2 * factor) >= 1.5:
        factor *= 2
    weight = mask.astype(np.float32)
    total = np.where(mask, values, 0.0).astype(np.float32)
    if factor > 1:
        small = (-(-height // factor), -(-width // factor))
        weight, total = _resize(weight, small), _resize(total, small)
    weight = _blur(weight, sigma / factor)
    total = _blur(total, sigma / factor)
    mean = np.where(weight > 1e-3, total / np.maximum(weight, 1e-3), 0.0).astype(np.float32)
    return _resize(mean, (height, width)) if factor > 1 else mean


# --- 1. keypoints from heatmaps --------------------------------------------------------------------------------------


def decode_keypoints(pose: torch.Tensor) -> np.ndarray:
    """COCO-18 keypoints ``(B, 18, 3)`` (x, y in pixels, confidence = peak) from heatmaps ``(B, 18, H, W)``.

    A map whose peak is below 0.5 is a missing point (0, 0, 0); otherwise the point is the value-weighted centroid of
    the pixels at or above half the peak within a window around the peak (exact for a symmetric blob).
    """
    batch, channels, height, width = pose.shape
    maps = pose.detach().float().cpu().numpy()
    flat = maps.reshape(batch, channels, -1)
    peak_index = flat.argmax(-1)
    out = np.zeros((batch, channels, 3))
    radius = max(4, round(0.05 * height))
    for b in range(batch):
        for k in range(channels):
            y0, x0 = divmod(int(peak_index[b, k]), width)
            peak = float(maps[b, k, y0, x0])
            if peak < 0.5:
                continue
            top, left = max(0, y0 - radius), max(0, x0 - radius)
            window = maps[b, k, top:y0 + radius + 1, left:x0 + radius + 1].astype(np.float64)
            weight = np.where(window >= 0.5 * peak, window, 0.0)
            total = weight.sum()
            ys, xs = np.arange(window.shape[0]) + top, np.arange(window.shape[1]) + left
            out[b, k] = (weight.sum(0) @ xs / total, weight.sum(1) @ ys / total, peak)
    return out


# --- 2. the body -----------------------------------------------------------------------------------------------------


@dataclass
class _Body:
    """The person's frame at the model's resolution; lists are [image-left, image-right]."""

    shoulder: list[np.ndarray]
    elbow: list[np.ndarray | None]
    wrist: list[np.ndarray | None]
    hip: list[np.ndarray]
    knee: list[np.ndarray | None]
    ankle: list[np.ndarray | None]
    neck: np.ndarray  # mid-shoulder
    mid_hip: np.ndarray
    width: float  # shoulder keypoint distance
    hips_seen: bool = True
    head: np.ndarray | None = None

    def centre_x(self, y: np.ndarray | float) -> np.ndarray | float:
        """x of the body's centre line (neck -> mid-hip, then down the middle of the knees or straight)."""
        y = np.asarray(y, np.float64)
        span = max(self.mid_hip[1] - self.neck[1], 1.0)
        upper = self.neck[0] + (y - self.neck[1]) / span * (self.mid_hip[0] - self.neck[0])
        knees = [k for k in self.knee if k is not None]
        if len(knees) == 2:
            knee_mid = (knees[0] + knees[1]) / 2
            below = self.mid_hip[0] + (y - self.mid_hip[1]) / max(knee_mid[1] - self.mid_hip[1], 1.0) * (
                knee_mid[0] - self.mid_hip[0])
            return np.where(y > self.mid_hip[1], below, upper)
        return np.where(y > self.mid_hip[1], self.mid_hip[0], upper)

    def arm_chain(self, side: int) -> list[np.ndarray]:
        chain = [self.shoulder[side]]
        elbow, wrist = self.elbow[side], self.wrist[side]
        if elbow is None:  # hanging arm, slightly away from the body
            outward = np.array([-1.0 if side == 0 else 1.0, 0.0])
            elbow = self.shoulder[side] + self.width * (0.15 * outward + np.array([0.0, 1.1]))
        chain.append(elbow)
        if wrist is not None:
            chain.append(wrist)
        else:
            chain.append(elbow + 0.9 * (elbow - self.shoulder[side]))
        return chain

    def leg_chain(self, side: int) -> list[np.ndarray]:
        chain = [self.hip[side]]
        knee, ankle = self.knee[side], self.ankle[side]
        if knee is None:
            knee = self.hip[side] + np.array([0.0, 1.5 * self.width])
        chain.append(knee)
        chain.append(ankle if ankle is not None else knee + (knee - self.hip[side]))
        return chain


def _body(keypoints: np.ndarray, size: tuple[int, int]) -> _Body:
    """Body frame from COCO-18 keypoints (pixels); a default frame, with a warning, when the shoulders are unusable."""
    height, width = size

    def point(name: str) -> np.ndarray | None:
        x, y, confidence = keypoints[_KP[name]]
        return np.array([x, y], np.float64) if confidence > 0 else None

    right, left = point("RShoulder"), point("LShoulder")
    if right is None or left is None or np.hypot(*(left - right)) < 0.02 * width:
        logger.warning("tps-baseline: no usable shoulders in the pose; placing the garment in a default frame")
        shoulder_width = 0.36 * width
        neck = np.array([width / 2, 0.27 * height])
        shoulders = [neck - [shoulder_width / 2, 0], neck + [shoulder_width / 2, 0]]
        mid_hip = neck + [0, 1.5 * shoulder_width]
        hips = [mid_hip - [0.3 * shoulder_width, 0], mid_hip + [0.3 * shoulder_width, 0]]
        return _Body(shoulders, [None, None], [None, None], hips, [None, None], [None, None], neck, mid_hip,
                     shoulder_width, hips_seen=False)
    # Image-left / image-right: a front-facing person's right shoulder is on the image left.
    sides = ("L", "R") if right[0] > left[0] else ("R", "L")

    def pair(name: str) -> list[np.ndarray | None]:
        return [point(sides[0] + name), point(sides[1] + name)]

    shoulders = pair("Shoulder")
    shoulder_width = float(np.hypot(*(shoulders[1] - shoulders[0])))
    neck = (shoulders[0] + shoulders[1]) / 2
    down = _perp(_unit(shoulders[1] - shoulders[0], np.array([1.0, 0.0])))
    if down[1] < 0:
        down = -down
    hips = pair("Hip")
    seen = [h for h in hips if h is not None]
    if len(seen) == 2:
        mid_hip = (hips[0] + hips[1]) / 2
    elif len(seen) == 1:  # one hip: its projection on the torso axis, the other mirrored
        mid_hip = neck + float((seen[0] - neck) @ down) * down
        index = 0 if hips[0] is not None else 1
        hips[1 - index] = 2 * mid_hip - hips[index]
    else:
        mid_hip = neck + 1.5 * shoulder_width * down
        across = _unit(shoulders[1] - shoulders[0], np.array([1.0, 0.0]))
        hips = [mid_hip - 0.3 * shoulder_width * across, mid_hip + 0.3 * shoulder_width * across]
    if float((mid_hip - neck) @ down) < 0.6 * shoulder_width:  # a collapsed pose: typical proportions
        mid_hip = neck + 1.5 * shoulder_width * down
        hips = [mid_hip - np.array([0.3 * shoulder_width, 0]), mid_hip + np.array([0.3 * shoulder_width, 0])]
    head = [p for p in (point("Nose"), point("REye"), point("LEye")) if p is not None]
    return _Body(shoulders, pair("Elbow"), pair("Wrist"), hips, pair("Knee"), pair("Ankle"), neck, mid_hip,
                 shoulder_width, hips_seen=bool(seen), head=np.mean(head, 0) if head else None)


def _chain_coordinates(xs: np.ndarray, ys: np.ndarray, chain: list[np.ndarray], side: int
                       ) -> tuple[np.ndarray, np.ndarray, float]:
    """For pixels ``(xs, ys)``: the arc length along a bone chain of their nearest point (negative before its start,
    measured along the first bone) and their signed distance from it (positive on the limb's outer side).

    Returns ``(along, across, length)``.
    """
    best = np.full(xs.shape, np.inf)
    along = np.zeros(xs.shape)
    across = np.zeros(xs.shape)
    offset = 0.0
    first_normal = None
    handedness = 1.0
    for index, (start, end) in enumerate(zip(chain[:-1], chain[1:])):
        vector = end - start
        length = max(float(np.hypot(*vector)), 1e-6)
        direction = vector / length
        normal = _perp(direction)
        if first_normal is None:
            first_normal = _outer_normal(direction, side)
            handedness = 1.0 if float(normal @ first_normal) > 0 else -1.0
        normal = handedness * normal
        dx, dy = xs - start[0], ys - start[1]
        t = dx * direction[0] + dy * direction[1]
        lo = -np.inf if index == 0 else 0.0
        hi = np.inf if index == len(chain) - 2 else length
        tc = np.clip(t, lo, hi)
        px, py = dx - tc * direction[0], dy - tc * direction[1]
        distance = np.hypot(px, py)
        closer = distance < best
        best = np.where(closer, distance, best)
        along = np.where(closer, offset + tc, along)
        across = np.where(closer, px * normal[0] + py * normal[1], across)
        offset += length
    return along, across, offset


def _chain_fields(chain: list[np.ndarray], side: int, size: tuple[int, int], factor: int = 2
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`_chain_coordinates` of every pixel, computed ``factor`` times coarser and brought back bilinearly."""
    height, width = size
    small_h, small_w = -(-height // factor), -(-width // factor)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    along, across, length = _chain_coordinates((xs + 0.5) * factor, (ys + 0.5) * factor, chain, side)
    return _resize(along, size), _resize(across, size), length


def _limb_zone(xs: np.ndarray, ys: np.ndarray, chain: list[np.ndarray], radii: tuple[float, float]) -> np.ndarray:
    """Pixels within a capsule around each bone of the chain (radius per bone, the last radius for later bones)."""
    zone = np.zeros(xs.shape, bool)
    for index, (start, end) in enumerate(zip(chain[:-1], chain[1:])):
        radius = radii[min(index, len(radii) - 1)]
        box = _segment_box(start, end, radius, xs.shape)
        if box is not None:
            zone[box] |= _capsule_distance(xs[box], ys[box], start, end) < radius
    return zone


def _forearm_zone(body: _Body, grid: tuple[np.ndarray, np.ndarray], radius: float) -> np.ndarray:
    """Pixels within ``radius`` of either forearm's bone (elbow to wrist; none for an arm without both)."""
    xx, yy = grid
    zone = np.zeros(xx.shape, bool)
    for side in (0, 1):
        chain = body.arm_chain(side)
        if len(chain) >= 3:
            zone |= _limb_zone(xx, yy, chain[1:], (radius,))
    return zone


def _segment_box(start: np.ndarray, end: np.ndarray, reach: float, size: tuple[int, int]
                 ) -> tuple[slice, slice] | None:
    """The rows and columns within ``reach`` of a segment's bounding box (None when that is outside the image)."""
    height, width = size
    x0, x1 = sorted((float(start[0]), float(end[0])))
    y0, y1 = sorted((float(start[1]), float(end[1])))
    left, right = max(0, int(x0 - reach) - 1), min(width, int(x1 + reach) + 2)
    top, bottom = max(0, int(y0 - reach) - 1), min(height, int(y1 + reach) + 2)
    if left >= right or top >= bottom:
        return None
    return slice(top, bottom), slice(left, right)


def _capsule_distance(xs: np.ndarray, ys: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    vec = end - start
    length_sq = max(float(vec @ vec), 1e-9)
    t = np.clip(((xs - start[0]) * vec[0] + (ys - start[1]) * vec[1]) / length_sq, 0.0, 1.0)
    return np.hypot(xs - start[0] - t * vec[0], ys - start[1] - t * vec[1])


@dataclass
class _Outline:
    """The person's torso outline, per row: x of its left and right edge (NaN outside ``top..bottom``)."""

    left: np.ndarray
    right: np.ndarray
    top: int
    bottom: int

    def half(self, y: float) -> tuple[float, float]:
        row = int(np.clip(round(y), self.top, self.bottom))
        return float(self.left[row]), float(self.right[row])

    def rows(self, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`half` for each of the heights ``ys`` (a column of the caller's grid): x of the left and right
        edge, as ``(len(ys), 1)`` columns."""
        rows = np.clip(np.round(ys).astype(int), self.top, self.bottom)
        return self.left[rows][:, None], self.right[rows][:, None]


def _torso_outline(parse: np.ndarray, body: _Body, arm_zone: np.ndarray, config: TPSBaselineConfig) -> _Outline:
    """The torso's outline from the shoulders down to the image bottom, from the silhouette without the arms.

    Each row's run of body pixels (not background, hair, face or arm skin; not inside an arm's capsule unless near the
    centre line) through the centre line gives the edges; rows where an edge is implausible (an arm merged with the
    side, a hand on the hip) take a prior from the body's proportions; the edges are then smoothed.
    """
    height, width = parse.shape
    sw = body.width
    top = int(np.clip(round(min(s[1] for s in body.shoulder) - 0.1 * sw), 0, height - 1))
    rows = np.arange(height, dtype=np.float64)
    centre = np.asarray(body.centre_x(rows), np.float64)
    xs = np.arange(width)[None, :]
    core = np.abs(xs - centre[:, None]) < 0.22 * sw
    solid = ~np.isin(parse, (labels.BACKGROUND, labels.HAIR, labels.FACE, *labels.ARM_LABELS, *labels.HAND_LABELS))
    solid &= ~arm_zone | core
    # Prior half-width: shoulders -> armpits -> waist -> hips -> thighs.
    hip_half = max(0.5 * abs(body.hip[1][0] - body.hip[0][0]) + 0.12 * sw, 0.42 * sw)
    y_shoulder, y_hip = float(body.neck[1]), float(body.mid_hip[1])
    knots_y = [y_shoulder, y_shoulder + 0.45 * sw, 0.5 * (y_shoulder + y_hip) + 0.2 * sw, y_hip,
               y_hip + 0.6 * sw]
    knots_h = [0.55 * sw, 0.5 * sw, 0.42 * sw, hip_half, hip_half * 0.95]
    prior = np.interp(rows, knots_y, knots_h)
    # Per row, the run of solid pixels through the centre column: the last gap left of it and the first right of it.
    columns = np.arange(width)
    gap_left = np.maximum.accumulate(np.where(solid, -1, columns[None, :]), axis=1)
    gap_right = np.minimum.accumulate(np.where(solid, width, columns[None, :])[:, ::-1], axis=1)[:, ::-1]
    centre_col = np.clip(np.round(centre).astype(int), 0, width - 1)
    rows_i = np.arange(height)
    inside = solid[rows_i, centre_col]
    left = np.where(inside, gap_left[rows_i, centre_col] + 0.5, np.nan)
    right = np.where(inside, gap_right[rows_i, centre_col] - 0.5, np.nan)
    left[:top] = np.nan
    right[:top] = np.nan
    # Implausible edges (merged arms, hands, hair) take the prior.
    for edge, sign in ((left, -1.0), (right, 1.0)):
        half = sign * (edge - centre)
        bad = ~np.isfinite(half) | (half < 0.7 * prior) | (half > 1.35 * prior)
        half = np.where(bad, prior, half)
        half = ndimage.median_filter(half, size=max(3, int(0.12 * sw) | 1), mode="nearest")
        half = ndimage.uniform_filter1d(half, size=max(3, int(0.06 * sw) | 1), mode="nearest")
        edge[:] = centre + sign * half
    left[:top] = np.nan
    right[:top] = np.nan
    return _Outline(left, right, top, height - 1)


# --- 3. garment shape ------------------------------------------------------------------------------------------------


@dataclass
class _Sleeve:
    mask: np.ndarray  # bool (H, W) sleeve pixels of the garment
    root: np.ndarray  # centre of the sleeve's seam (between shoulder point and armpit)
    cuff: np.ndarray  # centre of the sleeve end
    outer: np.ndarray  # cuff corner that ends the sleeve's top edge (the side away from the body)
    inner: np.ndarray  # cuff corner that ends the sleeve's underside
    # Across the sleeve at fractions 0..1 of root -> cuff: the outer and inner extent (signed, along the outer normal).
    profile: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))


@dataclass
class _GarmentLandmarks:
    """Landmarks in garment pixels; index 0 = image-left side, 1 = image-right side."""

    torso_mask: np.ndarray
    collar: list[np.ndarray]
    shoulder: list[np.ndarray]
    armpit: list[np.ndarray]
    waist: list[np.ndarray]
    hem: list[np.ndarray]
    sleeves: list[_Sleeve | None]
    centre: float = 0.0
    lines: list[tuple[float, float]] = field(default_factory=list)  # torso side lines x = slope * y + intercept
    suspect: bool = False  # the side lines may be sleeves' edges


def _run_edges(mask: np.ndarray, rows: np.ndarray, column: int) -> tuple[np.ndarray, np.ndarray]:
    """Left / right end (inclusive) of each row's run of garment pixels through ``column`` (NaN where not garment)."""
    width = mask.shape[1]
    left_part = mask[rows, column::-1]  # from the column going left
    right_part = mask[rows, column:]
    left_len = np.where(left_part.all(1), left_part.shape[1], np.argmin(left_part, axis=1))
    right_len = np.where(right_part.all(1), right_part.shape[1], np.argmin(right_part, axis=1))
    inside = mask[rows, column]
    left = np.where(inside, column - left_len + 1, np.nan)
    right = np.where(inside, np.minimum(column + right_len - 1, width - 1), np.nan)
    return left.astype(np.float64), right.astype(np.float64)


def garment_landmarks(mask: np.ndarray, band_rows: tuple[float, float] = (0.6, 0.9)) -> _GarmentLandmarks:
    """Collar, shoulder, armpit, waist and hem points and the sleeves of a garment mask (bool ``(H, W)``).

    ``band_rows``: the rows (fractions of the garment's height) where the torso's sides are measured: the lower
    body of a top; a dress's bodice (its skirt flares). When that finds no sleeve although the sides look like
    sleeves' (far out, or converging as long sleeves tapering to the cuffs do), the body's sides are looked for
    another way (where the top contour turns down the sleeves, between the cuffs, or from the neck opening).
    """
    found = _landmarks(mask, band_rows, hanging_ok=False)
    if found.sleeves[0] is None and found.sleeves[1] is None and found.suspect:
        again = _landmarks(mask, band_rows, hanging_ok=True)
        if again.sleeves[0] is not None or again.sleeves[1] is not None:
            return again
    # Sleeves hanging beside the body, touching it (a blouse's short sleeves, bell sleeves): the sides found are the
    # sleeves' outer edges and the "sleeves" slivers along them. The body's sides are then where its run narrows
    # below the cuffs.
    if any(sleeve is not None and _sliver(sleeve, mask) for sleeve in found.sleeves):
        again = _landmarks(mask, band_rows, hanging_ok=True, slivers=True)
        if all(sleeve is not None and not _sliver(sleeve, mask) for sleeve in again.sleeves):
            return again
    return found


def _sliver(sleeve: _Sleeve, mask: np.ndarray) -> bool:
    """A "sleeve" much narrower than any sleeve: under a tenth of the garment's width across, along most of it."""
    columns = np.flatnonzero(mask.any(0))
    box_w = float(columns.max() - columns.min() + 1) if columns.size else 1.0
    middle = sleeve.profile[(sleeve.profile[:, 0] >= 0.3) & (sleeve.profile[:, 0] <= 0.9)]
    if not len(middle):
        return False
    return float(np.median(middle[:, 1] - middle[:, 2])) < 0.09 * box_w


def _torso_below_cuffs(mask: np.ndarray, top: int, bottom: int, box_w: int, centre: int, end: float = 0.8
                       ) -> tuple[float, float] | None:
    """Short sleeves hanging beside the body and touching it: going down the middle run, it narrows at once on both
    sides where the cuffs end. The run's edges just below that give the torso's sides (x left, x right), or None."""
    box_h = bottom - top + 1
    rows = np.arange(top + int(0.15 * box_h), top + int(end * box_h))
    left, right = _run_edges(mask, rows, centre)
    # (A cuff ends with a slant: the narrowing is looked for over a few percent of the height.)
    jump, hold, gap = 0.07 * box_w, max(3, int(0.05 * box_h)), max(3, int(0.04 * box_h))
    sides = []
    for edge, inward in ((left, 1.0), (right, -1.0)):
        found = None
        for i in range(gap, len(rows) - hold):
            before, after = edge[i - gap], edge[i: i + hold]
            if not (np.isfinite(before) and np.isfinite(after).all()):
                continue
            if (inward * (after - before) > jump).all():
                found = (int(rows[i]), float(np.median(after)))
                break
        if found is None:
            return None
        sides.append(found)
    # (Both cuffs end at about the same row, and the body between is no narrower than half the garment.)
    if abs(sides[0][0] - sides[1][0]) > 0.1 * box_h or sides[1][1] - sides[0][1] < 0.45 * box_w:
        return None
    return sides[0][1], sides[1][1]


def _landmarks(mask: np.ndarray, band_rows: tuple[float, float], hanging_ok: bool, slivers: bool = False
               ) -> _GarmentLandmarks:
    mask = ndimage.binary_fill_holes(mask)  # lace, eyelets: the shape, not its holes
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    box_h, box_w = bottom - top + 1, right - left + 1

    # Centre column: the middle of the lower garment's rows (robust to one long sleeve hanging lower).
    band = np.arange(top + int(band_rows[0] * box_h), top + int(band_rows[1] * box_h) + 1)
    band_mid = [(np.flatnonzero(mask[y]).min() + np.flatnonzero(mask[y]).max()) / 2 for y in band if mask[y].any()]
    centre = int(round(np.median(band_mid))) if band_mid else (left + right) // 2
    centre = int(np.clip(centre, 0, width - 1))

    all_rows = np.arange(height)
    run_left, run_right = _run_edges(mask, all_rows, centre)
    # Torso side lines x = a * y + b, fitted where the centre run exists in the lower band.
    lines = []
    for edge, fallback in ((run_left, left), (run_right, right)):
        rows = band[np.isfinite(edge[band])]
        if len(rows) >= 3:
            slope, intercept = np.polyfit(rows.astype(np.float64), edge[rows], 1)
            slope = float(np.clip(slope, -0.15, 0.15))
            intercept = float(np.median(edge[rows] - slope * rows))
        else:
            slope, intercept = 0.0, float(fallback)
        lines.append((slope, intercept))
    # Wide sleeves hanging beside the body and touching it (bell sleeves, ruffles, puff sleeves) join the centre run:
    # the lines above are then the sleeves' outer edges. The shoulders show where the top contour turns down.
    hanging = None
    # Sides fitted on long sleeves that taper to the cuffs converge (a dress's bodice narrowing to the waist is no
    # sign of that).
    converging = band_rows[0] >= 0.5 and max(lines[0][0], -lines[1][0]) >= 0.14
    suspect = converging or lines[1][0] * bottom + lines[1][1] - (lines[0][0] * bottom + lines[0][1]) > 0.8 * box_w
    if hanging_ok and slivers:
        hanging = _torso_below_cuffs(mask, top, bottom, box_w, centre)
        if hanging is None:
            hanging = _hanging_shoulders(mask, top, bottom, left, right, centre)
    elif hanging_ok and suspect:
        hanging = _hanging_shoulders(mask, top, bottom, left, right, centre)
        # (Long balloon sleeves hanging against the body down to cuffs above its hem: the top contour turns down at
        # the sleeves' roots, inside them; the body is as wide as it is below the cuffs.)
        below = _torso_below_cuffs(mask, top, bottom, box_w, centre, end=0.95)
        if hanging is not None and below is not None and below[1] - below[0] < hanging[1] - hanging[0] - 0.1 * box_w:
            hanging = below
        if hanging is None:
            hanging = _torso_between_cuffs(mask, top, bottom, box_w, centre)
        if hanging is None:
            hanging = _torso_from_neck(mask, top, box_w, centre)
    if hanging is not None:
        lines = [(0.0, hanging[0]), (0.0, hanging[1])]
        run_left = np.where(np.isfinite(run_left), np.maximum(run_left, hanging[0]), run_left)
        run_right = np.where(np.isfinite(run_right), np.minimum(run_right, hanging[1]), run_right)

    def line_x(side: int, y: float) -> float:
        slope, intercept = lines[side]
        return slope * y + intercept

    # A top's flared body (sides widening down the band) is about as wide above the band as at its top: the armpits
    # and shoulders are looked for along upright lines from there. (A dress's band is its bodice.)
    band_top = int(band[0]) if len(band) else top
    upright = [lines[0][0] < -0.05, lines[1][0] > 0.05] if hanging is None and band_rows[0] >= 0.5 else [False] * 2

    def side_x(side: int, y: float) -> float:
        if upright[side] and y < band_top:
            return line_x(side, band_top)
        return line_x(side, y)

    tol = max(2.0, 0.03 * box_w)
    # Top contour: first garment row of each column (bottom of the image for empty columns).
    has = mask.any(0)
    top_contour = np.where(has, np.argmax(mask, axis=0), height - 1).astype(np.float64)

    shoulder, armpit, waist, hem = [], [], [], []
    for side, edge in ((0, run_left), (1, run_right)):
        # Armpit: going up from the band, the first row whose centre run leaves the line by more than tol.
        armpit_y = float(top)
        for y in range(band_top, top - 1, -1):
            value = edge[y]
            if not np.isfinite(value) or abs(value - side_x(side, y)) > tol:
                armpit_y = float(y + 1)
                break
        armpit_y = max(armpit_y, top + 0.15 * box_h)
        # A flared or batwing body can hide the armpit; worn, it is never much lower than half a shoulder width.
        armpit_y = min(armpit_y, top + 0.3 * box_w)
        if hanging is not None:  # hidden under a hanging sleeve: an armhole's usual depth below the shoulder
            column = int(np.clip(round(hanging[side]), 0, width - 1))
            armpit_y = float(np.argmax(mask[:, column])) + 0.45 * (hanging[1] - hanging[0])
        # Shoulder point: the top contour above the torso line at armpit height.
        x_shoulder = float(np.clip(side_x(side, armpit_y), 0, width - 1))
        shoulder_y = min(float(top_contour[int(round(x_shoulder))]), armpit_y - 0.1 * box_h)
        shoulder.append(np.array([x_shoulder, max(shoulder_y, float(top))]))
        armpit.append(np.array([x_shoulder, armpit_y]))
        waist_y = armpit_y + 0.5 * (bottom - armpit_y)
        waist.append(np.array([line_x(side, waist_y), waist_y]))
        hem.append(np.array([line_x(side, bottom), float(bottom)]))

    # Collar corners: the highest points of the top contour within the inner part of the shoulders.
    collar = []
    half = max(1.0, 0.5 * (shoulder[1][0] - shoulder[0][0]))
    for side in (0, 1):
        sign = -1.0 if side == 0 else 1.0
        lo, hi = sorted((centre + sign * 0.1 * half, centre + sign * 0.85 * half))
        cols = np.arange(int(max(0, lo)), int(min(width - 1, hi)) + 1)
        cols = cols[has[cols]] if len(cols) else cols
        if len(cols):
            best = cols[np.argmin(top_contour[cols])]
            if best == (cols[-1] if side else cols[0]):
                best = _strap_top(mask, top_contour, int(best), int(sign), half, box_w)
            collar.append(np.array([float(best), float(top_contour[best])]))
        else:
            collar.append(np.array([centre + (-0.35 if side == 0 else 0.35) * half, float(top)]))

    # Sleeves: garment beyond the seam line (shoulder point -> armpit, extended), in the components that reach above
    # the armpit (a flared hem beyond the torso line is not a sleeve).
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float64)
    sleeves: list[_Sleeve | None] = []
    torso_mask = mask.copy()
    for side in (0, 1):
        seam = armpit[side] - shoulder[side]
        beyond = (grid_x - shoulder[side][0]) * seam[1] - (grid_y - shoulder[side][1]) * seam[0]
        outside = mask & ((beyond < -0.5) if side == 0 else (beyond > 0.5))
        # Below the armpit, a centre row run that ends a little beyond the line is a flared body, not a sleeve (a
        # sleeve lying against the torso takes the run a whole sleeve width further).
        edge = run_left if side == 0 else run_right
        flare_rows = np.abs(np.nan_to_num(edge, nan=1e9) - line_x(side, np.arange(height))) < 0.1 * box_w
        in_run = (grid_x >= np.nan_to_num(run_left, nan=width)[:, None]) & (
            grid_x <= np.nan_to_num(run_right, nan=-1.0)[:, None])
        outside &= ~(in_run & (grid_y > armpit[side][1]) & flare_rows[:, None])
        components, count = ndimage.label(outside)
        keep = np.zeros(count + 1, bool)
        if count:
            upper = components[: int(armpit[side][1]) + 1]
            keep[np.unique(upper[upper > 0])] = True
        sleeve_mask = keep[components]
        if not sleeve_mask.any():
            sleeves.append(None)
            continue
        sy, sx = np.nonzero(sleeve_mask)
        points = np.stack([sx, sy], 1).astype(np.float64)
        # Distance to the seam segment: a sliver along the torso line is near it; a sleeve end is far from it.
        distance = _capsule_distance(points[:, 0], points[:, 1], shoulder[side], armpit[side])
        # Too small, too short, a sliver along the side (a sleeve is at least about 0.1 of the width across), or, for
        # a dress, running down to its hem (its skirt's side; sleeves end above it).
        if sleeve_mask.sum() < 0.02 * mask.sum() or distance.max() < 0.08 * box_w or (
                sleeve_mask.sum() < 0.06 * box_w * distance.max()) or (
                band_rows[0] < 0.5 and sy.max() > top + 0.85 * box_h):
            sleeves.append(None)
            continue
        torso_mask &= ~sleeve_mask
        root = (shoulder[side] + armpit[side]) / 2
        axis = _unit(points[distance >= 0.7 * distance.max()].mean(0) - root, np.array([0.0, 1.0]))
        along = (points - root) @ axis
        end = along >= along.max() - max(2.0, 0.1 * along.max())
        cuff = points[end].mean(0)
        normal = _outer_normal(axis, side)
        across = (points[end] - cuff) @ normal
        outer = cuff + max(0.5, float(across.max())) * normal
        inner = cuff + min(-0.5, float(across.min())) * normal
        sleeves.append(_Sleeve(sleeve_mask, root, cuff, outer, inner,
                               _sleeve_profile(points, root, cuff, normal, shoulder[side], armpit[side])))
    return _GarmentLandmarks(torso_mask, collar, shoulder, armpit, waist, hem, sleeves, float(centre), lines, suspect)


def _strap_top(mask: np.ndarray, top_contour: np.ndarray, column: int, step: int, half: float, box_w: int) -> int:
    """The collar corner found at the outer end of its search (``column``) where the top contour still rises outwards:
    a strap going up from there (a V-neck dress's, whose straps rise above its bodice to the shoulders beside the
    neck) ends at its top, the garment's true collar corner. That top's column when the contour rises at least
    STRAP_RISE of the garment's width to a top no wider than STRAP_TOP of it, else ``column``."""
    width = mask.shape[1]
    best, x = column, column
    while 0 <= x + step < width and abs(x + step - column) <= half and mask[:, x + step].any():
        x += step
        if top_contour[x] > top_contour[best] + max(2.0, 0.01 * box_w):
            break  # (the contour turns down: past the top)
        if top_contour[x] < top_contour[best]:
            best = x
    row = int(top_contour[best])
    if (top_contour[column] - top_contour[best] < STRAP_RISE * box_w
            or _run_width(mask[min(row + 1, mask.shape[0] - 1)], best) > STRAP_TOP * box_w):
        return column
    return best


def _hanging_shoulders(mask: np.ndarray, top: int, bottom: int, left: int, right: int, centre: int
                       ) -> tuple[float, float] | None:
    """The x of the shoulders of a top whose sleeves hang beside its body, or None.

    From the middle outwards the top contour first follows the shoulders (gently sloping), then turns down the sleeve
    (steeply). Both turns must lie well inside the garment's width, with the sleeve going on outwards below the turn
    (a camisole's strap turns down too, but only background lies outside it).
    """
    height, width = mask.shape
    box_w, box_h = right - left + 1, bottom - top + 1
    has = mask.any(0)
    contour = np.where(has, np.argmax(mask, axis=0), bottom).astype(np.float64)
    step = max(2, int(0.03 * box_w))
    found = []
    for direction in (-1, 1):
        x = centre + direction * int(0.15 * box_w)
        turn = None
        while left + step <= x <= right - step:
            drop = contour[x + direction * step] - contour[x]
            if drop > 1.5 * step:  # steeper than about 56 degrees
                turn = x
                break
            x += direction
        if turn is None:
            return None
        inside = (turn - left) if direction < 0 else (right - turn)
        if inside < 0.1 * box_w or abs(turn - centre) < 0.2 * box_w:
            return None
        # A camisole's strap turns down too, but the strap is narrow; below a shoulder the body is wide.
        row = int(min(bottom, contour[turn] + 0.06 * box_h))
        if _run_width(mask[row], turn - direction * max(1, int(0.02 * box_w))) < 0.4 * box_w:
            return None
        found.append(float(turn))
    return found[0], found[1]


def _torso_from_neck(mask: np.ndarray, top: int, box_w: int, centre: int) -> tuple[float, float] | None:
    """Wide sleeves, flounces or ruffles beside the body hide its sides: a body about ``NECK_TO_CHEST`` times as
    wide as the neck opening (between the collar's corners, the highest points of the top contour either side of the
    centre) when that is well inside the garment, or None."""
    height, width = mask.shape
    has = mask.any(0)
    contour = np.where(has, np.argmax(mask, axis=0), height).astype(np.float64)
    corners = []
    for sign in (-1, 1):
        lo, hi = sorted((centre + sign * int(0.04 * box_w), centre + sign * int(0.3 * box_w)))
        columns = np.arange(max(0, lo), min(width, hi + 1))
        if len(columns) == 0:
            return None
        highest = contour[columns].min()
        # The corner: the highest point nearest the centre (a collar's corner, not a shoulder's).
        near = columns[contour[columns] <= highest + 2]
        corners.append(float(near.max() if sign < 0 else near.min()))
    neck = corners[1] - corners[0]
    half = 0.5 * NECK_TO_CHEST * neck
    if neck < 0.08 * box_w or 2 * half > 0.85 * box_w:
        return None
    return float(centre - half), float(centre + half)


def _torso_between_cuffs(mask: np.ndarray, top: int, bottom: int, box_w: int, centre: int
                         ) -> tuple[float, float] | None:
    """Long sleeves hanging close beside the body: near the hem, the rows hold three runs, cuff, body, cuff. The
    body's run then gives the torso's sides (x of its left and right edge), or None."""
    height = bottom - top + 1
    found = []
    for y in range(top + int(0.82 * height), top + int(0.97 * height)):
        runs = row_runs(mask[y])
        if len(runs) == 3 and runs[1][0] <= centre <= runs[1][1] and runs[1][1] - runs[1][0] >= 0.4 * box_w:
            found.append((float(runs[1][0]), float(runs[1][1])))
    if len(found) < 0.3 * 0.15 * height:
        return None
    return float(np.median([f[0] for f in found])), float(np.median([f[1] for f in found]))


def _run_width(row: np.ndarray, column: int) -> int:
    """Length of the run of True in ``row`` holding ``column`` (0 if it is False)."""
    column = int(np.clip(column, 0, len(row) - 1))
    if not row[column]:
        return 0
    left, right = row[column::-1], row[column:]
    return int((np.argmin(left) if not left.all() else len(left)) + (np.argmin(right) if not right.all() else
                                                                      len(right)) - 1)


def _sleeve_profile(points: np.ndarray, root: np.ndarray, cuff: np.ndarray, normal: np.ndarray,
                    shoulder: np.ndarray, armpit: np.ndarray, samples: int = 9) -> np.ndarray:
    """``(samples, 3)``: fraction t along root -> cuff, and the sleeve's outer and inner extent across it there."""
    axis = cuff - root
    length = max(float(np.hypot(*axis)), 1.0)
    t = ((points - root) @ axis) / length**2
    s = (points - root) @ normal
    seam_half = 0.5 * float(np.hypot(*(shoulder - armpit)))
    out = np.zeros((samples, 3))
    for index, fraction in enumerate(np.linspace(0.0, 1.0, samples)):
        near = np.abs(t - fraction) <= 0.5 / (samples - 1) + 0.02
        if near.sum() >= 3:
            out[index] = (fraction, np.percentile(s[near], 97), np.percentile(s[near], 3))
        else:
            out[index] = (fraction, seam_half, -seam_half)
    # At the root the sleeve is as wide as its seam at least.
    out[0, 1] = max(out[0, 1], seam_half)
    out[0, 2] = min(out[0, 2], -seam_half)
    return out


def _front_colour(garment: np.ndarray, mask: np.ndarray, found: _GarmentLandmarks, body: np.ndarray) -> np.ndarray:
    """The colour the front has just below the neck opening (between the collar corners, from 0.6 to 1.0 of the
    opening's width below them) where it is plain there; else ``body`` (the torso's median). A print further down
    pulls the torso's median off the fabric's colour: a white T-shirt's front then differs from it, and the inner back
    above seems never to end."""
    left, right = found.collar
    width = float(right[0] - left[0])
    corner_y = max(float(left[1]), float(right[1]))
    rows = slice(int(corner_y + 0.6 * width), int(corner_y + 1.0 * width))
    columns = slice(int(left[0]), int(right[0]) + 1)
    near = garment[rows, columns][mask[rows, columns]]
    if width < 4 or len(near) < 50:
        return body
    tone = np.median(near, axis=0)
    return tone if float((np.linalg.norm(near - tone, axis=1) < 0.12).mean()) >= 0.8 else body


def _front_neckline(garment: np.ndarray, mask: np.ndarray, found: _GarmentLandmarks) -> np.ndarray:
    """The front neckline between the collar corners: ``(5, 2)`` garment points from the left corner through the
    deepest point to the right corner.

    In a product shot the inside of the back of the neckline shows through the opening: the mask is filled there.
    Going down the middle of the opening from the top contour, the inner back (in shadow, another colour, carrying
    the label) differs from the garment's front (its usual colour, the median of its torso); the front starts where
    the colour settles on the front's. Without an inner back that differs, a crew neck's front drops ``NECK_DEPTH``
    of the opening's width below the corners. Where the top contour itself dips well below the corners (a V-neck, a
    camisole) that dip is the neckline.
    """
    left, right = found.collar
    width = float(right[0] - left[0])
    height, image_w = mask.shape
    if width < 4:
        mid = (left + right) / 2
        return np.array([left, mid, mid, mid, right])
    has = mask.any(0)
    top_contour = np.where(has, np.argmax(mask, axis=0), height - 1).astype(np.float64)
    corner_y = max(left[1], right[1])
    xs = left[0] + width * np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    shape = np.array([0.0, 0.75, 1.0, 0.75, 0.0])  # depth profile of a round neck relative to its middle
    middle = int(np.clip(round(xs[2]), 0, image_w - 1))
    y_top = float(top_contour[middle])
    contour_depths = np.array([float(top_contour[int(np.clip(round(x), 0, image_w - 1))]) for x in xs])
    # The opening itself shows in the mask: the contour is the neckline (a V, a camisole's), unless, below a shallow
    # dip, an inner back shows.
    dipped = y_top - corner_y > 0.25 * width
    depth = y_top if dipped else corner_y + NECK_DEPTH * width
    inner_back = False
    torso = found.torso_mask
    rows = np.flatnonzero(torso.any(1))
    if len(rows):
        lo, hi = rows[0] + int(0.4 * (rows[-1] - rows[0])), rows[0] + int(0.7 * (rows[-1] - rows[0]))
        torso_colour = np.median(garment[lo:hi + 1][torso[lo:hi + 1]], axis=0)
        body = _front_colour(garment, mask, found, torso_colour)
        # A band two fifths of the opening wide: a label on the inner back averages out.
        band = slice(max(0, middle - max(1, int(0.2 * width))), middle + max(1, int(0.2 * width)) + 1)
        start, stop = int(y_top) + 1, int(min(height - 1, y_top + 0.8 * width))
        if stop - start > 4:
            profile = ndimage.uniform_filter1d(garment[start:stop, band].mean(1), 3, axis=0)
            unlike = np.linalg.norm(profile - body, axis=1)
            differs = unlike >= 0.12
            if differs[: max(1, int(0.1 * width))].any() and y_top - corner_y < 0.5 * width:
                # The front: the first row after it from which the colour stays the front's for a while.
                run = max(3, int(0.15 * width))
                calm = ndimage.minimum_filter1d((~differs).astype(np.uint8), run, origin=-(run // 2)) > 0
                settled = np.flatnonzero(calm & (np.arange(len(unlike)) > np.argmax(differs)))
                if len(settled):
                    # (A thin band on top is the back's neck tape: the front lies at least a crew neck's depth down.)
                    depth = max(float(start + settled[0]), corner_y + NECK_DEPTH * width)
                    inner_back = True
        if not dipped:
            # An inner back of nearly the front's colour, in shadow, showing through a V: too little unlike the front
            # for the band down the middle, but a region narrowing steadily from the opening's width to a point.
            # (Against the torso's colour: just below a deep V, where the front's is taken, lies the inner back.)
            apex = _v_inner_back(garment, mask, found, torso_colour)
            if apex is not None and apex > depth:
                depth, inner_back = apex, True
                shape = np.array([0.0, 0.5, 1.0, 0.5, 0.0])  # (straight sides)
    ribbed = _contrast_rib_bottoms(garment, mask, found, top_contour, xs, body) if len(rows) else None
    if dipped and not inner_back and ribbed is None:
        depths = contour_depths
    else:
        depths = corner_y + (depth - corner_y) * shape
        if ribbed is not None:
            depths[1:4] = np.where(np.isnan(ribbed), corner_y + (ribbed[1] - corner_y) * shape[1:4], ribbed)
        depths = np.maximum(depths, contour_depths)
        depths[0], depths[4] = left[1], right[1]
    # Deepest in the middle, never rising towards it: a U or a V.
    depths[1] = max(depths[1], depths[0])
    depths[3] = max(depths[3], depths[4])
    depths[2] = max(depths[2], depths[1], depths[3])
    return np.stack([xs, depths], 1)


def _collar_colour(garment: np.ndarray, mask: np.ndarray, found: _GarmentLandmarks, top_contour: np.ndarray
                   ) -> np.ndarray | None:
    """The colour both collar corners have right under the top contour (its row per column, the image's last row
    where the mask is empty), when they agree (one dye, see ``DYE_ANGLE``): a contrast collar's, where its rib turns
    round the corners; else ``None``."""
    left, right = found.collar
    width = float(right[0] - left[0])
    image_w = mask.shape[1]
    reach = max(2, int(round(0.04 * width)))
    colours = []
    for corner in (left, right):
        pixels = []
        for x in range(max(0, int(corner[0]) - reach), min(image_w, int(corner[0]) + reach + 1)):
            rows = slice(int(top_contour[x]) + 1, int(top_contour[x]) + 1 + reach)
            pixels.append(garment[rows, x][mask[rows, x]])
        pixels = np.concatenate(pixels) if pixels else np.zeros((0, 3))
        if len(pixels) < 4:
            return None
        colours.append(np.median(pixels, axis=0))
    return (colours[0] + colours[1]) / 2 if _same_colour(colours[0], colours[1]) else None


def _contrast_rib_bottoms(garment: np.ndarray, mask: np.ndarray, found: _GarmentLandmarks, top_contour: np.ndarray,
                         xs: np.ndarray, body: np.ndarray) -> np.ndarray | None:
    """The front's neckline under a contrast collar, where the inside of the back shows above it: the rows just below
    the front's rib at ``xs[1:4]`` (``NaN`` at a side where it is not found), or ``None``.

    The collar's colour is its corners' (:func:`_collar_colour`), far (``RIB_UNLIKE``) from the front's (``body``).
    Down the middle of the opening, a thin run of that colour (at most ``RIB_THICK`` of the opening's width) below
    rows of another (the inside of the back, or the back's own rib above it) and above another again is the front's
    rib; the front starts below it. A Breton top's yellow boat-neck rib over a striped inner back: the front's colour
    never settles below it, and the crew neck's depth cut into the stripes under the rib, a V of yellow at the
    shoulders."""
    left, right = found.collar
    width = float(right[0] - left[0])
    height, image_w = mask.shape
    rib = _collar_colour(garment, mask, found, top_contour)
    if rib is None or np.linalg.norm(rib - body) < RIB_UNLIKE:
        return None
    bottoms = np.full(3, np.nan)
    half = max(1, int(round(0.03 * width)))
    thick = max(2, RIB_THICK * width)
    for i, x in enumerate(xs[1:4]):
        x = int(np.clip(round(x), 0, image_w - 1))
        start, stop = int(top_contour[x]) + 1, int(min(height, top_contour[x] + 1 + 0.8 * width))
        if stop - start < 6:
            continue
        band = garment[start:stop, max(0, x - half): x + half + 1]
        inside = mask[start:stop, max(0, x - half): x + half + 1]
        if not inside.all():
            continue
        like = _same_colour(band.mean(1), rib)
        runs = row_runs(like, 2)
        # (The front's rib: the last run, thin, with rows of another colour above it (the inner back) and below.)
        if runs:
            first, last = runs[-1]
            if last - first + 1 <= thick and (~like[:first]).sum() >= 2 and last + 3 <= len(like):
                bottoms[i] = start + last + 1
    return None if np.isnan(bottoms[1]) else bottoms


LABEL_GAP = 3  # rows of the front's colour between two lines of a printed label's text
LABEL_WIDTH = 0.3  # a printed label is at most this share of the opening's width wide...
LABEL_REACH = 0.25  # ...and ends within this share of it below the front's line
LABEL_STROKE = 0.1  # a label's print is this much darker than the fabric within two pixels of it
RIB_UNLIKE = 0.3  # a contrast collar's colour is at least this far from the front's
RIB_THICK = 0.1  # a front rib is at most this share of the opening's width thick
RIB_NEAR = 0.15  # colour distance within which two pixels are one collar's colour, lit alike
#: One dye in light and in shade: coloured (each RGB direction at least ``DYE_CHROMA`` from the grey axis, as unit
#: vectors), the directions at most ``DYE_ANGLE`` apart and the brightnesses (RGB norms) at most ``DYE_LIGHT`` times
#: apart. A yellow rib in the light and where it turns away gives 0.04-0.08; yellow against white 0.32, navy against
#: white 0.3. Greys differ by brightness only: grey is no shade of white here.
DYE_ANGLE = 0.1
DYE_LIGHT = 2.5
DYE_CHROMA = 0.08


def _one_dye(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether colours ``a`` and ``b`` (``(..., 3)``, broadcast) are one coloured dye, lit differently (see
    ``DYE_ANGLE``)."""
    norm_a = np.maximum(np.linalg.norm(a, axis=-1), 1e-3)[..., None]
    norm_b = np.maximum(np.linalg.norm(b, axis=-1), 1e-3)[..., None]
    grey = np.full(3, 1 / np.sqrt(3), np.float32)
    unit_a, unit_b = a / norm_a, b / norm_b
    coloured = (np.linalg.norm(unit_a - grey, axis=-1) >= DYE_CHROMA) & (
        np.linalg.norm(unit_b - grey, axis=-1) >= DYE_CHROMA)
    ratio = (norm_a / norm_b)[..., 0]
    return coloured & (np.linalg.norm(unit_a - unit_b, axis=-1) <= DYE_ANGLE) & (ratio <= DYE_LIGHT) & (
        ratio >= 1 / DYE_LIGHT)


def _same_colour(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether colours ``a`` and ``b`` are one collar's: within ``RIB_NEAR`` of each other, or one dye."""
    return (np.linalg.norm(a - b, axis=-1) < RIB_NEAR) | _one_dye(a, b)


V_UNLIKE = 0.06  # colour distance from the front from which a pixel can be a V's inner back


def _v_inner_back(garment: np.ndarray, mask: np.ndarray, found: _GarmentLandmarks, body: np.ndarray) -> float | None:
    """The row of a V neck's point where the inside of the back, a little unlike the front (``V_UNLIKE``), shows
    through it: the region of such pixels between the collar corners joined to the middle below the top contour is
    as wide as the opening at first and narrows steadily to a point (at a quarter of its depth still wider than a
    V's 0.85 of the opening, at half of it wider than 0.65 would be a crew neck's inner back, whose sides drop
    straight), at least 0.6 of the opening's width below the corners. None where there is no such region."""
    left, right = found.collar
    width = float(right[0] - left[0])
    height, image_w = mask.shape
    if width < 8:
        return None
    corner_y = max(float(left[1]), float(right[1]))
    middle = int(np.clip(round(0.5 * (left[0] + right[0])), 0, image_w - 1))
    top = int(np.argmax(mask[:, middle])) if mask[:, middle].any() else height
    x0, x1 = int(np.ceil(left[0])), int(np.floor(right[0])) + 1
    bottom = int(min(height, corner_y + 1.6 * width))
    if top >= bottom - 4 or x1 - x0 < 8:
        return None
    unlike = (np.linalg.norm(garment[top:bottom, x0:x1] - body, axis=2) >= V_UNLIKE) & mask[top:bottom, x0:x1]
    unlike = ndimage.binary_opening(unlike, iterations=1)  # (specks of a print, the fabric's grain)
    pieces, _ = ndimage.label(unlike)
    centre = middle - x0
    seeds = pieces[: max(1, int(0.5 * width)), max(0, centre - 2): centre + 3]
    seeds = seeds[seeds > 0]
    if not seeds.size:
        return None
    region = pieces == np.bincount(seeds).argmax()
    rows = np.flatnonzero(region.any(1))
    depth = (top + float(rows.max()) - corner_y) / width
    if rows[0] > 0.15 * width or depth < 0.6:
        return None
    columns = np.arange(region.shape[1])

    def spread(fraction: float) -> float:
        row = region[int(rows[0] + fraction * (rows.max() - rows[0]))]
        return float(np.ptp(columns[row])) / width if row.any() else 0.0

    if spread(0.0) < 0.8 or spread(0.25) > 0.85 or not 0.2 <= spread(0.5) <= 0.65 or spread(0.75) > 0.45:
        return None
    return top + float(rows.max())


def _v_filled(mask: np.ndarray, opening: np.ndarray, neckline: np.ndarray) -> np.ndarray:
    """``opening`` (what is cut from the neck opening) for a V neck (the top contour's middle well below the collar
    corners): with the garment inside its convex hull and the collar corners', a V's opening being convex. Cut
    column by column, a fold of a wrap front beside the inner back stood up into the opening as a spike of fabric on
    the made-up chest."""
    left, right = neckline[0], neckline[-1]
    width = float(right[0] - left[0])
    middle = int(np.clip(round(neckline[2][0]), 0, mask.shape[1] - 1))
    # (A V: the garment's own top contour dips there, as for the neckline; not a crew neck's inner back.)
    if width < 4 or opening.sum() < 10 or not mask[:, middle].any():
        return opening
    if float(np.argmax(mask[:, middle])) - max(left[1], right[1]) < 0.25 * width:
        return opening
    from scipy.spatial import ConvexHull, QhullError

    ys, xs = np.nonzero(opening)
    points = np.concatenate([np.c_[xs, ys] + 0.5, [left, right]]).astype(np.float64)
    try:
        hull = points[ConvexHull(points).vertices]
    except QhullError:  # (all in a line)
        return opening
    return opening | (_polygon(list(hull), mask.shape) & mask)


def _front_rib_kept(garment: np.ndarray, mask: np.ndarray, opening: np.ndarray) -> np.ndarray:
    """``opening`` (what is cut from the neck opening) less a contrast collar's front rib: where the cut's colour is
    another than the front's right below it and the collar goes on past both ends of the cut (a navy crew collar on
    a lilac T-shirt), the band of that colour just above the front, as thick as the collar's ends are (at most an
    eighth of the opening's width), is the front's rib, not the inside of the back. Cut with it, only the rib's two
    ends stayed, as dark blocks at the neckline's corners. (A grey inner back on a white T-shirt does not go on past
    the ends; a red collar on a red yoke is the front's colour.)"""
    columns = np.flatnonzero(opening.any(0))
    if opening.sum() < 30 or len(columns) < 8:
        return opening
    height, width = mask.shape
    x0, x1 = int(columns.min()), int(columns.max())
    bottom = np.array([int(np.flatnonzero(opening[:, x]).max()) for x in columns])
    central = np.abs(columns - (x0 + x1) / 2) <= (x1 - x0) / 4  # (the middle half of the cut's columns)
    below = np.zeros(mask.shape, bool)
    for x, b in zip(columns[central], bottom[central]):  # (towards the ends the rib itself lies below the cut)
        below[b + 2: b + 7, x] = True
    below &= mask & ~opening
    if below.sum() < 20:
        return opening
    # (The collar's colour: the cut's lowest rows', where the front's rib is; the inside of the back above it may be
    # striped or printed.)
    lowest = np.zeros(mask.shape, bool)
    for x, b in zip(columns, bottom):
        lowest[max(0, b - 2): b + 1, x] = True
    collar = np.median(garment[lowest & opening], axis=0)
    if np.linalg.norm(collar - np.median(garment[below], axis=0)) < 0.3:
        return opening
    # (In the light or where it turns away: one dye.)
    like = mask & _same_colour(garment, collar)
    top = int(np.flatnonzero(opening.any(1)).min())
    reach = max(3, (x1 - x0) // 20)
    thickness = []
    for end, xs in ((x0, range(max(0, x0 - reach), x0)), (x1, range(x1 + 1, min(width, x1 + 1 + reach)))):
        rows = slice(top, int(np.flatnonzero(opening[:, end]).max()) + 1)
        if not len(xs) or float(like[rows, list(xs)].mean()) < 0.3:
            return opening
        for x in xs:  # (the collar's longest run down the column there, its anti-aliased top passed over)
            thickness.append(max((last - first + 1 for first, last in row_runs(like[rows, x])), default=0))
    rib = float(np.median(thickness))
    # (Where the collar's ends run sideways (a boat neck) they are thin down their columns: the rib's thickness is
    # also read in the middle, up from the cut's bottom, where another colour (the inner back) lies above it.)
    middle = []
    for x, b in zip(columns[central], bottom[central]):
        column = like[:b + 1, x] & opening[:b + 1, x]
        run = int(np.argmin(column[::-1])) if not column.all() else b + 1
        if run and opening[: b + 1 - run - 2, x].any():
            middle.append(run)
    if len(middle) >= 0.5 * central.sum():
        rib = max(rib, float(np.median(middle)))
    rib = int(np.clip(rib, 2, (x1 - x0) / 8))
    rows = np.arange(height)[:, None]
    band = np.zeros(mask.shape, bool)
    band[:, columns] = (rows > bottom[None, :] - rib) & (rows <= bottom[None, :])
    return opening & ~(band & like)


def _neck_opening(garment: np.ndarray, mask: np.ndarray, found: _GarmentLandmarks, neckline: np.ndarray,
                  samples: int = 13) -> np.ndarray:
    """The garment pixels above its front neckline between the collar corners (bool ``(H, W)``): what of the inside
    of the back a product shot shows through the opening, not only down the middle (a scoop's inner back reaches up
    its sides to the straps).

    Column by column (``samples`` of them, interpolated between), the front starts no higher than ``neckline`` (its
    five points, from :func:`_front_neckline`) says, nor than where the colour below the top contour, unlike the
    front's at first (the inner back, in shadow, another colour), settles on the front's; never deeper than the
    neckline's middle, but for a label or a neck tape reaching below it on a plain front.
    """
    height, width = mask.shape
    opening = np.zeros(mask.shape, bool)
    left, right = float(neckline[0][0]), float(neckline[-1][0])
    if right - left < 4:
        return opening
    columns = np.arange(int(np.ceil(left)), int(np.floor(right)) + 1)
    columns = columns[(columns >= 0) & (columns < width)]
    if len(columns) == 0:
        return opening
    prior = np.interp(columns, neckline[:, 0], neckline[:, 1])
    deepest = float(neckline[:, 1].max())
    torso = found.torso_mask
    rows = np.flatnonzero(torso.any(1))
    depth = prior.copy()
    if len(rows):
        lo, hi = rows[0] + int(0.4 * (rows[-1] - rows[0])), rows[0] + int(0.7 * (rows[-1] - rows[0]))
        body = _front_colour(garment, mask, found, np.median(garment[lo:hi + 1][torso[lo:hi + 1]], axis=0))
        span = right - left
        half_band = max(1, int(0.02 * span))
        has = mask.any(0)
        top_contour = np.where(has, np.argmax(mask, axis=0), height - 1)
        found_x, found_y = [], []
        for x in np.linspace(left + 0.08 * span, right - 0.08 * span, samples):
            column = int(round(x))
            start = int(top_contour[column]) + 1
            run = max(3, int(0.15 * span))
            last = int(deepest + 2) - start  # the front starts no deeper than the neckline's middle
            stop = int(min(height - 1, deepest + 2 + run))
            if last <= 4 or stop - start <= 4:
                continue
            band = slice(max(0, column - half_band), column + half_band + 1)
            profile = ndimage.uniform_filter1d(garment[start:stop, band].mean(1), 3, axis=0)
            differs = np.linalg.norm(profile - body, axis=1) >= 0.12
            if not differs[: max(1, int(0.1 * span))].any():
                continue
            calm = ndimage.minimum_filter1d((~differs).astype(np.uint8), run, origin=-(run // 2)) > 0
            # The last place where the colour settles on the front's after differing (a white label on a grey inner
            # back is passed over).
            settles = np.flatnonzero(calm[1:last + 1] & differs[:last]) + 1
            if len(settles):
                found_x.append(float(column))
                found_y.append(float(start + settles[-1]))
        if found_x:
            if len(found_y) >= 3:  # (a smooth curve: one column's misreading is no notch)
                found_y = ndimage.median_filter(np.asarray(found_y), size=3, mode="nearest").tolist()
            detected = np.interp(columns, found_x, found_y)  # (the outermost found carried on to the corners)
            depth = np.clip(np.maximum(prior, detected), None, max(deepest, float(prior.max())))
    band_rows = slice(int(deepest) + 2, int(deepest) + 2 + max(3, int(0.2 * (right - left))))
    front = garment[band_rows, columns][mask[band_rows, columns]]
    if len(front) >= 20:
        # A label (or the back's neck tape) lower than the front's line found: on a plain front, what below that line,
        # joined to the opening, still differs from the front's colour there is the inside of the back too, down to a
        # fifth of the opening's width.
        tone = np.median(front, axis=0)
        plain = float((np.linalg.norm(front - tone, axis=-1) >= 0.12).mean()) < 0.15
        reach = int(round(0.2 * (right - left)))
        for i, column in enumerate(columns if plain else []):
            start = int(depth[i])
            stop = min(height, start + reach)
            if stop <= start:
                continue
            differs = np.linalg.norm(garment[start:stop, column] - tone, axis=1) >= 0.12
            run = int(np.argmin(differs)) if not differs.all() else len(differs)
            if run < len(differs):
                depth[i] = start + run
        if plain:
            depth = _printed_label(garment, mask, columns, depth, tone, right - left)
    yy = np.arange(height)[:, None]
    opening[:, columns] = yy < depth[None, :]
    return opening & mask


def _printed_label(garment: np.ndarray, mask: np.ndarray, columns: np.ndarray, depth: np.ndarray, tone: np.ndarray,
                   span: float) -> np.ndarray:
    """``depth`` (the rows the front starts at, per column of ``columns``) below a label printed on the inside of the
    back under the opening's middle: lines of small print of another colour than the front's (``tone``), a row or
    two (``LABEL_GAP``) of the front's colour between them, joined to the opening, narrow (``LABEL_WIDTH`` of the
    opening's width ``span`` at most) and ending within ``LABEL_REACH`` of it below the line found. Only its first
    line differs from the front down a column without a gap, and the rest stayed, a grey smear under the new
    neckline."""
    height = mask.shape[0]
    top, bottom = int(depth.min()), min(height, int(depth.max() + LABEL_REACH * span))
    if bottom <= top + 2:
        return depth
    rows = np.arange(top, bottom)[:, None]
    unlike = (np.linalg.norm(garment[top:bottom, columns] - tone, axis=-1) >= 0.12) & mask[top:bottom, columns]
    # (Print: strokes darker than the fabric right around them, not the front's folds in shade.)
    zone = _luminance(garment[top:bottom, columns[0]: columns[-1] + 1])
    unlike &= ndimage.grey_dilation(zone, size=5) - zone >= LABEL_STROKE
    unlike &= rows >= depth[None, :]  # (below the line found)
    # (Its lines of print joined across the rows of the front's colour between them.)
    grown = ndimage.binary_dilation(unlike, np.ones((2 * LABEL_GAP + 1, 5), bool)) & mask[top:bottom, columns]
    pieces, _ = ndimage.label(grown)
    touching = np.unique(pieces[(rows <= depth[None, :]) & (pieces > 0)])
    middle = 0.5 * (len(columns) - 1)
    depth = depth.copy()
    for index in touching:
        ys, xs = np.nonzero((pieces == index) & unlike)
        if len(ys) == 0 or ys.max() >= bottom - top - 1:  # (a print reaching further down is the front's)
            continue
        if xs.max() - xs.min() + 1 > LABEL_WIDTH * span or abs(0.5 * (xs.max() + xs.min()) - middle) > 0.15 * span:
            continue  # (a rib or a neck tape along the whole opening is no label)
        for x in np.unique(xs):
            depth[x] = max(depth[x], top + int(ys[xs == x].max()) + 1)
    return depth


@dataclass
class _LowerGarment:
    """A lower garment in garment pixels: waistband corners, crotch and per leg its centre line and half-width."""

    waist: list[np.ndarray]
    top: float
    bottom: float
    crotch: np.ndarray | None  # None: a skirt
    legs: list[np.ndarray]  # per leg (image-left first): rows (n, 3) of y, centre x, half-width
    rows: np.ndarray  # skirt / body: (n, 3) of y, left, right over the whole garment


def _lower_garment(mask: np.ndarray) -> _LowerGarment:
    """Waistband, crotch and legs of a lower-garment mask (bool ``(H, W)``)."""
    ys, xs = np.nonzero(mask)
    top, bottom = int(ys.min()), int(ys.max())
    height = bottom - top + 1
    box_w = int(xs.max() - xs.min() + 1)
    min_run = max(2, round(0.02 * box_w))
    runs_by_row = {}
    row_extents = []
    for y in range(top, bottom + 1):
        runs = [(float(a), float(b)) for a, b in row_runs(mask[y], min_run)]
        if runs:
            runs_by_row[y] = runs
            row_extents.append((y, runs[0][0], runs[-1][1]))
    rows = np.array(row_extents, np.float64)
    waist_row = int(top + 0.03 * height)
    waist_runs = runs_by_row.get(waist_row) or runs_by_row[min(runs_by_row)]
    waist = [np.array([waist_runs[0][0], float(waist_row)]), np.array([waist_runs[-1][1], float(waist_row)])]
    # Legs: rows whose two largest runs are both a leg's width (prints and folds may cut a leg into pieces); going
    # up from the lowest such row (flares may touch at the hem) while they last, over gaps of a few rows.
    def two_legs(y: int) -> tuple[tuple[float, float], tuple[float, float]] | None:
        runs = runs_by_row.get(y, ())
        if len(runs) < 2:
            return None
        largest = sorted(runs, key=lambda r: r[1] - r[0], reverse=True)[:2]
        if min(r[1] - r[0] + 1 for r in largest) < 0.1 * box_w:
            return None
        return tuple(sorted(largest))

    split = {y: two_legs(y) for y in range(top, bottom + 1)}
    lowest = next((y for y in range(bottom, top - 1, -1) if split[y] is not None), None)
    crotch, legs = None, []
    if lowest is not None and lowest >= bottom - 0.25 * height:
        y, gap = lowest, 0
        while y > top and gap <= 0.03 * height:
            y -= 1
            gap = 0 if split[y] is not None else gap + 1
        y += gap
        if (bottom - y) >= 0.25 * height and y - top >= 0.08 * height:
            first = split[y] or split[lowest]
            crotch = np.array([(first[0][1] + first[1][0]) / 2, float(y)])
            for leg in (0, 1):
                samples = [(float(yy), (split[yy][leg][0] + split[yy][leg][1]) / 2,
                            (split[yy][leg][1] - split[yy][leg][0] + 1) / 2)
                           for yy in range(y, bottom + 1) if split[yy] is not None]
                legs.append(np.array(samples))
    return _LowerGarment(waist, float(top), float(bottom), crotch, legs, rows)


# --- 4. thin-plate spline --------------------------------------------------------------------------------------------


def _radial(distance_sq: torch.Tensor) -> torch.Tensor:
    """TPS kernel U(r) = r^2 log r^2 (0 at r = 0)."""
    return distance_sq * torch.log(distance_sq.clamp_min(1e-12))


def fit_tps(target: torch.Tensor, source: torch.Tensor, regularisation: float) -> torch.Tensor:
    """Coefficients ``(N + 3, 2)`` of the TPS mapping ``target`` points ``(N, 2)`` onto ``source`` points.

    Solves ``[[K + lambda I, P], [P^T, 0]] [w; a] = [source; 0]`` in float64 (Bookstein 1989); a singular system
    (collinear or coincident points) falls back to the pseudo-inverse.
    """
    target, source = target.double(), source.double()
    n = target.shape[0]
    kernel = _radial(((target[:, None] - target[None]) ** 2).sum(-1))
    kernel = kernel + regularisation * torch.eye(n, dtype=torch.float64)
    affine = torch.cat([torch.ones(n, 1, dtype=torch.float64), target], 1)
    system = torch.zeros(n + 3, n + 3, dtype=torch.float64)
    system[:n, :n], system[:n, n:], system[n:, :n] = kernel, affine, affine.T
    rhs = torch.cat([source, torch.zeros(3, 2, dtype=torch.float64)])
    try:
        coefficients = torch.linalg.solve(system, rhs)
        if not torch.isfinite(coefficients).all():
            raise RuntimeError("non-finite TPS solution")
    except RuntimeError:
        coefficients = torch.linalg.pinv(system) @ rhs
    return coefficients


def _fit_tps_numpy(target: np.ndarray, source: np.ndarray, regularisation: float) -> np.ndarray:
    """:func:`fit_tps` in numpy (a small system: no thread pool needed)."""
    n = len(target)
    distance_sq = ((target[:, None] - target[None]) ** 2).sum(-1)
    kernel = distance_sq * np.log(np.maximum(distance_sq, 1e-12)) + regularisation * np.eye(n)
    affine = np.concatenate([np.ones((n, 1)), target], 1)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n], system[:n, n:], system[n:, :n] = kernel, affine, affine.T
    rhs = np.concatenate([source, np.zeros((3, 2))])
    try:
        coefficients = np.linalg.solve(system, rhs)
        if not np.isfinite(coefficients).all():
            raise np.linalg.LinAlgError("non-finite TPS solution")
    except np.linalg.LinAlgError:
        coefficients = np.linalg.pinv(system) @ rhs
    return coefficients


def tps_grid(target: torch.Tensor, coefficients: torch.Tensor, size: tuple[int, int], stride: int = 1) -> torch.Tensor:
    """Evaluate a fitted TPS at every pixel centre: a sampling grid ``(H, W, 2)`` (normalised, align_corners=False).

    With ``stride > 1`` the spline is evaluated on a grid ``stride`` times coarser and upsampled bilinearly (the
    spline is smooth, so this differs by a small fraction of a pixel and costs ``stride**2`` times less).
    """
    if stride > 1:
        coarse = tps_grid(target, coefficients, (-(-size[0] // stride), -(-size[1] // stride)))
        return F.interpolate(coarse.permute(2, 0, 1)[None], size=size, mode="bilinear",
                             align_corners=False)[0].permute(1, 2, 0)
    height, width = size
    xs = (2 * torch.arange(width, dtype=torch.float32) + 1) / width - 1
    ys = (2 * torch.arange(height, dtype=torch.float32) + 1) / height - 1
    points = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)  # [H*W, 2] (x, y)
    target = target.float()
    distance_sq = (points[:, None, :] - target[None]).pow(2).sum(-1)  # [H*W, N]
    n = target.shape[0]
    coefficients = coefficients.float()
    grid = _radial(distance_sq) @ coefficients[:n] + coefficients[n] + points @ coefficients[n + 1:]
    return grid.reshape(height, width, 2)


def _spline_map(pairs: list[tuple[np.ndarray, np.ndarray]], size: tuple[int, int], regularisation: float,
                stride: int = 8) -> np.ndarray:
    """Source pixel coordinates ``(H, W, 2)`` of the TPS through (garment point, person point) pixel pairs: fitted
    as :func:`fit_tps`, evaluated (numpy) on a grid ``stride`` times coarser and brought back bilinearly."""
    height, width = size
    scale = np.array([2.0 / width, 2.0 / height])
    source = np.array([(s + 0.5) * scale - 1 for s, _ in pairs])
    target = np.array([(t + 0.5) * scale - 1 for _, t in pairs])
    coefficients = _fit_tps_numpy(target, source, regularisation)
    small_h, small_w = -(-height // stride), -(-width // stride)
    xs = (2 * (np.arange(small_w) + 0.5) * stride) / width - 1
    ys = (2 * (np.arange(small_h) + 0.5) * stride) / height - 1
    points = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    distance_sq = ((points[:, None, :] - target[None]) ** 2).sum(-1)
    kernel = distance_sq * np.log(np.maximum(distance_sq, 1e-12))
    n = len(target)
    grid = kernel @ coefficients[:n] + coefficients[n] + points @ coefficients[n + 1:]
    grid = grid.reshape(small_h, small_w, 2).astype(np.float32)
    pixels = (grid + 1) / scale.astype(np.float32) - 0.5
    return _resize(pixels, size)


# --- 5. where the garment goes -------------------------------------------------------------------------------------


@dataclass
class _Layer:
    """One mapped garment part: source pixel coordinates and where it is (soft, after its own shape)."""

    source: np.ndarray  # (H, W, 2) garment pixel (x, y) per person pixel
    region: np.ndarray  # bool (H, W): where this part may be
    name: str
    part: np.ndarray | None = None  # bool mask of this part in the garment photo (None: the whole garment)
    cut: np.ndarray | None = None  # garment pixels never shown (the inner back seen through the neck opening)
    collar: tuple[np.ndarray, np.ndarray] | None = None  # a top with shoulders: its collar corners on the person
    round_: np.ndarray | None = None  # a sleeve's tube: -1..1 across it, for its round shading
    armpit_y: float | None = None  # ...and its armpits' row
    solid: np.ndarray | None = None  # bool (H, W): where the part must be fabric (a sleeve over the photo's arm)
    off_shoulder: bool = False  # a torso hanging round the upper arms, the shoulders bare
    strap_zone: np.ndarray | None = None  # bool (H, W): about a camisole's straps, where the outline is not smoothed


def _upper_layers(garment_mask: np.ndarray, garment: np.ndarray, body: _Body, outline: _Outline, parse: np.ndarray,
                  category: str, config: TPSBaselineConfig, grid: tuple[np.ndarray, np.ndarray]) -> list[_Layer]:
    """The torso (bodice and skirt for a dress) and sleeves of an upper garment or dress."""
    size = parse.shape
    height, width = size
    xx, yy = grid
    sw = body.width
    found = garment_landmarks(garment_mask, (0.28, 0.45) if category == "dress" else (0.6, 0.9))
    neckline = _front_neckline(garment, garment_mask, found)
    g_shoulder, g_armpit, g_collar = found.shoulder, found.armpit, found.collar
    # The hem: the body's lowest row about the middle (long sleeves or ties may hang lower).
    g_bottom = float(np.nonzero(garment_mask.any(1))[0].max())
    g_middle = found.torso_mask[:, max(0, int(found.centre - 0.15 * (found.armpit[1][0] - found.armpit[0][0]))):
                                int(found.centre + 0.15 * (found.armpit[1][0] - found.armpit[0][0])) + 1]
    if g_middle.any():
        g_bottom = min(g_bottom, float(np.flatnonzero(g_middle.any(1)).max()))

    # Does the garment have shoulders (T-shirt, shirt) or only straps / a straight top edge (camisole, off-shoulder)?
    g_chest = float(g_armpit[1][0] - g_armpit[0][0])
    shoulder_drop = float(np.mean([g_armpit[s][1] - g_shoulder[s][1] for s in (0, 1)]))
    top_contour_y = float(np.nonzero(garment_mask.any(1))[0].min())
    mask_filled = ndimage.binary_fill_holes(garment_mask)

    # (Without sleeves a tank's or a sports top's wide straps count as straps too.)
    strap_width = 0.15 if any(sleeve is not None for sleeve in found.sleeves) else 0.3

    # (Without sleeves, the inside of the back a product shot shows through the neck opening joins the straps into one
    # wide run below the collar corners: a strap's width is measured beside the opening.)
    opening_found = _neck_opening(garment, garment_mask, found, neckline)
    opening = _front_rib_kept(garment, garment_mask, opening_found)
    opening = _v_filled(garment_mask, opening, neckline)
    rib_kept = bool((opening_found & ~opening).any())  # (a contrast collar's front rib, kept)
    if rib_kept:
        # (A contrast collar's front rib is kept: the neckline the body's neck opening is drawn through is the rib's
        # top, where the cut ends, not its bottom. Through its bottom, the clean neck opening cut the rib away in the
        # middle, a gap of the front's colour in it.)
        neckline = neckline.copy()
        for point in neckline[1:4]:
            column = opening[:, int(np.clip(round(point[0]), 0, opening.shape[1] - 1))]
            if column.any():
                point[1] = min(point[1], float(np.flatnonzero(column).max()) + 1.0)
    beside = mask_filled & ~opening if all(sleeve is None for sleeve in found.sleeves) else None

    def thin(point: np.ndarray) -> bool:
        """A strap: the garment is narrow just below this top point."""
        row = int(min(mask_filled.shape[0] - 1, point[1] + 0.08 * g_chest))
        if beside is not None:
            line = beside[row]
            x = int(np.clip(round(point[0]), 0, len(line) - 1))
            step = -1 if point[0] < found.centre else 1
            for _ in range(int(0.1 * g_chest)):  # (the strap's inner edge: outwards from the opening)
                if line[x] or not 0 <= x + step < len(line):
                    break
                x += step
            return _run_width(line, x) < strap_width * g_chest
        return _run_width(mask_filled[row], int(round(point[0]))) < strap_width * g_chest

    # Straps (a camisole): it hangs from them, resting on the shoulders beside the neck. With a clear shoulder line
    # (sleeves or cap sleeves) it sits on the shoulders; otherwise (off the shoulder, a sleeveless dress's armholes)
    # it is placed from the armpits.
    straps = thin(g_collar[0]) and thin(g_collar[1])
    off_shoulder = _off_the_shoulder(garment_mask, found)
    has_shoulders = not straps and shoulder_drop >= 0.22 * g_chest and (
        min(g_shoulder[0][1], g_shoulder[1][1]) - top_contour_y <= 0.3 * g_chest) and not (
        thin(g_shoulder[0]) or thin(g_shoulder[1])) and not off_shoulder

    # Person anchors.
    across = _unit(body.shoulder[1] - body.shoulder[0], np.array([1.0, 0.0]))
    up = -_perp(across)
    if up[1] > 0:
        up = -up
    outward = [-across, across]
    p_shoulder = [body.shoulder[s] + config.shoulder_out * sw * outward[s] + config.shoulder_up * sw * up
                  for s in (0, 1)]
    armpit_y = float(np.mean([s[1] for s in body.shoulder])) + 0.42 * sw
    p_armpit = [np.array([outline.half(armpit_y)[0], armpit_y]), np.array([outline.half(armpit_y)[1], armpit_y])]
    body_chest = float(p_armpit[1][0] - p_armpit[0][0])
    # Garment lengths -> person lengths. Laid flat, a garment shows half its circumference: seen from the front, worn,
    # its widths are about FLAT_TO_WORN of the flat ones, its lengths about the same. The scale is the median of
    # what the chest says (a fitted garment's chest, worn, is the body's) and what the neck opening says (worn, a
    # crew neck's is about NECK_WIDTH shoulder-keypoint widths across).
    estimates = [body_chest / (FLAT_TO_WORN * max(g_chest, 1.0))]
    g_neck = float(g_collar[1][0] - g_collar[0][0])
    if has_shoulders and 0.2 * g_chest < g_neck < 0.75 * g_chest:
        estimates.append(NECK_WIDTH * sw / (FLAT_TO_WORN * g_neck))
    # Far apart, the neck's is the one misread (a shirt's closed collar, a ruffled neck): the chest's alone.
    scale = float(np.median(estimates)) if max(estimates) <= 1.4 * min(estimates) else estimates[0]
    # Rows: garment y -> person y, piecewise linear through armpits and hem.
    g_arm_y = float(np.mean([a[1] for a in g_armpit]))
    # Straps (a camisole, a tank) rest on the shoulders, beside the neck; the garment hangs from them.
    p_strap_y = float(body.neck[1]) - 0.06 * sw
    g_collar_mid = (g_collar[0] + g_collar[1]) / 2
    strap_x = [body.neck[0] + (1 if side else -1) * float(np.clip(
        abs(FLAT_TO_WORN * scale * (g_collar[side][0] - g_collar_mid[0])), 0.15 * sw, 0.42 * sw)) for side in (0, 1)]
    strap_y = [p_strap_y, p_strap_y]
    if straps:
        # On the photo's shoulder line there (a little inside it), not below the neck keypoint: it lies low on some
        # bodies, and straps hanging from it leave a band of the shoulders to be made up.
        body_pixels = (parse != labels.BACKGROUND) & ~np.isin(parse, (labels.FACE, labels.HAIR, *labels.HAND_LABELS))
        top_row = int(np.clip(body.neck[1] - 0.5 * sw, 0, height - 1))
        for side in (0, 1):
            column = body_pixels[top_row:, int(np.clip(round(strap_x[side]), 0, width - 1))]
            if column.any():
                strap_y[side] = float(np.clip(top_row + np.argmax(column) + 0.03 * sw, body.neck[1] - 0.25 * sw,
                                              p_strap_y))
        p_strap_y = float(np.mean(strap_y))
        armpit_y = float(np.clip(p_strap_y + scale * (g_arm_y - max(g_collar[0][1], g_collar[1][1])),
                                 body.neck[1] + 0.25 * sw, body.neck[1] + 1.0 * sw))
        p_armpit = [np.array([outline.half(armpit_y)[0], armpit_y]), np.array([outline.half(armpit_y)[1], armpit_y])]
    logger.debug("upper: shoulders %s, straps %s, scale %.3f from %s (body chest %.1f, garment chest %.1f, neck %.1f)",
                 has_shoulders, straps, scale, np.round(estimates, 3).tolist(), body_chest, g_chest, g_neck)
    # The hem below the collar line (the base of the neck), at the flat length less what the front's drape and the
    # dropped armholes of a flat-lay take (0.8 on VITON-HD 00017's own top, worn untucked to the hips).
    g_collar_y = 0.5 * float(g_collar[0][1] + g_collar[1][1])
    p_collar_y = float(body.neck[1]) - config.neck_up * sw
    # (A top's length by the smaller estimate: a broad body widens the chest's, not the top's length.)
    length_scale = min(scale, *estimates) if category == "upper" else scale
    length = p_collar_y + config.length_scale * length_scale * (g_bottom - g_collar_y) - armpit_y
    torso = found.torso_mask
    g_rows = np.arange(int(g_arm_y + 0.3 * (g_bottom - g_arm_y)), int(g_bottom - 0.05 * (g_bottom - g_arm_y)) + 1)
    widths = [_run_width(torso[r], int(round(found.centre))) for r in g_rows if 0 <= r < torso.shape[0]]
    g_body_w = float(np.median(widths)) if widths else g_chest
    torso_p = float(body.mid_hip[1]) - p_collar_y
    ratio = (g_bottom - g_collar_y) / max(g_body_w, 1.0)
    if category == "upper" and torso_p > 0.5 * sw:
        # The widths misread (dropped shoulders, a small neck opening, a broad body) are lengths misread: the
        # length is also told from the garment's own length-to-width and the body's neck-to-hips.
        length = 0.5 * (length + p_collar_y + TORSO_FIT * ratio * torso_p - armpit_y)
    if category == "upper":
        length = float(np.clip(length, 0.3 * sw, 1.8 * sw))
        # A top shorter than the old one would bare a midriff that can only be made up: it reaches the old top's hem.
        centre = int(np.clip(round(body.neck[0]), 0, width - 1))
        band = parse[:, max(0, centre - int(0.25 * sw)): centre + int(0.25 * sw) + 1] == labels.UPPER_GARMENT
        rows = np.flatnonzero(band.mean(1) > 0.3)
        if len(rows):
            old_hem = min(float(rows.max()), float(body.mid_hip[1]) + 0.6 * sw)
            # Up to MAX_STRETCH times its own length; a much longer old top (a dress) stays below it, layered. Only a
            # band of an old top (no dress: its hem above the thighs) left below that is covered too.
            needed = old_hem + 0.02 * sw - armpit_y
            short_by = needed - MAX_STRETCH * length
            if 0 < short_by <= COVER_BAND * sw and old_hem < float(body.mid_hip[1]) + 0.3 * sw:
                length = needed
            length = max(length, min(needed, MAX_STRETCH * length))
    p_hem_y = armpit_y + length
    logger.debug("upper: hem at %.1f (armpit %.1f, length %.1f)", p_hem_y, armpit_y, length)
    ankles = [a[1] for a in body.ankle if a is not None]
    p_hem_y = min(p_hem_y, height - 2.0, max(ankles) + 0.05 * sw) if ankles else min(
        p_hem_y, np.inf if _cut_below(parse, body) else height - 2.0)

    # Off the shoulder the top edge crosses the upper arms a little below the shoulders, however tall the puffs
    # hanging from it are in the product shot (from the armpits by the scale, it rose to the neck's base over a
    # slim body and the top was a T-shirt).
    top_scale = scale
    if off_shoulder and g_arm_y > top_contour_y:
        edge_y = float(np.mean([s[1] for s in body.shoulder])) + OFF_SHOULDER_DROP * sw
        top_scale = min(scale, max(0.0, armpit_y - edge_y) / (g_arm_y - top_contour_y))

    def person_y(g_y: float) -> float:
        if g_y <= g_arm_y:
            return armpit_y + top_scale * (g_y - g_arm_y)
        return armpit_y + (g_y - g_arm_y) * (p_hem_y - armpit_y) / max(g_bottom - g_arm_y, 1.0)

    # Garment torso width per row (sleeves removed) and the person's target width.
    torso = found.torso_mask

    def garment_edges(g_y: float) -> tuple[float, float]:
        row = int(np.clip(round(g_y), 0, torso.shape[0] - 1))
        left_x, right_x = _run_edges(torso, np.array([row]), int(round(found.centre)))
        if not (np.isfinite(left_x[0]) and np.isfinite(right_x[0])):
            return (found.lines[0][0] * g_y + found.lines[0][1], found.lines[1][0] * g_y + found.lines[1][1])
        # (A run broken by a notch, the row's garment going on beyond it: its whole extent. A white label inside a
        # deep scoop, cut out with the backdrop, left the run through the middle only the scoop's one side, and the
        # row's points, spread over it, broke a strap.)
        columns = np.flatnonzero(torso[row])
        if columns[-1] - columns[0] > 1.6 * (right_x[0] - left_x[0]):
            return float(columns[0]) - 0.5, float(columns[-1]) + 0.5
        return float(left_x[0]) - 0.5, float(right_x[0]) + 0.5

    g_chest_half = 0.5 * g_chest

    def person_edges(p_y: float, g_left: float, g_right: float) -> tuple[float, float]:
        left_x, right_x = outline.half(p_y)
        centre = float(body.centre_x(p_y))
        body_half = max(0.5 * (right_x - left_x), 0.2 * sw)
        if category == "dress" and p_y > body.mid_hip[1]:  # below the hips a dress spans both legs
            body_half = max(body_half, _legs_extent(body, p_y, config))
        # The garment follows the body, wider where it widens relative to its own chest (peplum, A-line, flare).
        flare = 0.5 * body_chest * (0.5 * (g_right - g_left)) / max(g_chest_half, 1.0)
        half = float(np.clip(flare, config.min_ease * body_half, config.max_ease * body_half))
        shift = 0.5 * (left_x + right_x) - centre
        return centre + shift - half, centre + shift + half

    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    contour_left, contour_right = [], []
    # Top row: shoulders (or strap tops / top edge), collar corners, neckline.
    neck_y = float(body.neck[1]) - config.neck_up * sw
    g_collar_mid = (g_collar[0] + g_collar[1]) / 2
    g_neck_half = max(0.5 * float(g_collar[1][0] - g_collar[0][0]), 1.0)
    p_neck_half = max(config.neck_half * sw, FLAT_TO_WORN * scale * g_neck_half)
    p_collar = [np.array([body.neck[0] - p_neck_half, neck_y]), np.array([body.neck[0] + p_neck_half, neck_y])]
    # (Garment -> person points on each shoulder line, from the collar corner out.)
    shoulder_lines: list[list[tuple[np.ndarray, np.ndarray]]] = [[], []]
    if has_shoulders:
        # A top rests on the shoulders: its shoulder line, from the collar corner out to the shoulder point, lies on
        # the photo's shoulders' outline (a straight line below it left a gap, filled with the fabric mirrored up: a
        # print's pieces jagged there, a collar's rib drawn twice, a patch of another fold's light).
        body_top = _body_top(parse, body)
        g_top = np.where(garment_mask.any(0), np.argmax(garment_mask, axis=0), -1)
        for side in (0, 1):
            x = int(np.clip(round(p_shoulder[side][0]), 0, width - 1))
            if abs(body_top[x] - p_shoulder[side][1]) <= SHOULDER_SNAP * sw:
                p_shoulder[side] = np.array([p_shoulder[side][0], float(body_top[x])])
        for side in (0, 1):
            for u in (1 / 3, 2 / 3):
                p_x = float(p_collar[side][0] + u * (p_shoulder[side][0] - p_collar[side][0]))
                line_y = float(p_collar[side][1] + u * (p_shoulder[side][1] - p_collar[side][1]))
                # (Never above the collar corner: hair or a strap the parse gave the body rose into the neck's
                # side, and the fabric was drawn up there in a streak.)
                y = max(float(body_top[int(np.clip(round(p_x), 0, width - 1))]), float(p_collar[side][1]))
                g_x = int(np.clip(round(g_collar[side][0] + u * (g_shoulder[side][0] - g_collar[side][0])), 0,
                                  garment_mask.shape[1] - 1))
                if abs(y - line_y) > SHOULDER_SNAP * sw or g_top[g_x] < 0:
                    continue
                shoulder_lines[side].append((np.array([float(g_x), float(g_top[g_x])]), np.array([p_x, y])))
        top_pairs = [(g_shoulder[0], p_shoulder[0]), (g_collar[0], p_collar[0]), (g_collar[1], p_collar[1]),
                     (g_shoulder[1], p_shoulder[1])] + shoulder_lines[0] + shoulder_lines[1]
    else:
        # No shoulders: the garment hangs from its straps or top edge, placed by the scale from the armpits.
        def placed(point: np.ndarray) -> np.ndarray:
            return np.array([body.neck[0] + FLAT_TO_WORN * scale * (point[0] - g_collar_mid[0]), person_y(point[1])])
        top_pairs = [(g_shoulder[0], placed(g_shoulder[0])), (g_collar[0], placed(g_collar[0])),
                     (g_collar[1], placed(g_collar[1])), (g_shoulder[1], placed(g_shoulder[1]))]
        if straps:  # the strap tops on the shoulders, beside the neck
            for index, side in ((1, 0), (2, 1)):
                top_pairs[index] = (g_collar[side], np.array([strap_x[side], strap_y[side]]))
        if off_shoulder:  # (level round the body: a product shot laid a little askew tilts its straight top edge)
            for a, b in ((0, 3), (1, 2)):
                level = 0.5 * (top_pairs[a][1][1] + top_pairs[b][1][1])
                for index in (a, b):
                    top_pairs[index] = (top_pairs[index][0], np.array([top_pairs[index][1][0], level]))
        p_collar = [top_pairs[1][1], top_pairs[2][1]]
    pairs += top_pairs
    # A top's front hangs straight from the collar to the hem: down its middle the rows are spaced evenly, however
    # high the body's armpits are on the flat garment's scale (rows through the armpits, a print on the chest was
    # stretched long above them and squashed below).
    even_front = category == "upper" and has_shoulders
    front_y = person_y
    if even_front:
        g_top_y = 0.5 * float(g_collar[0][1] + g_collar[1][1])
        p_top_y = 0.5 * float(p_collar[0][1] + p_collar[1][1])
        front_scale = (p_hem_y - p_top_y) / max(g_bottom - g_top_y, 1.0)

        def front_y(g_y: float) -> float:
            return p_top_y + front_scale * (g_y - g_top_y)
    # Neckline points: the garment's front neckline -> below the collar corners with the garment's depth.
    p_neckline = []
    for g_point in neckline:
        u = (g_point[0] - g_collar[0][0]) / max(float(g_collar[1][0] - g_collar[0][0]), 1.0)
        x = p_collar[0][0] + u * (p_collar[1][0] - p_collar[0][0])
        y = float(np.interp(u, [0, 1], [p_collar[0][1], p_collar[1][1]])) + FLAT_TO_WORN * scale * (
            g_point[1] - float(np.interp(u, [0, 1], [g_collar[0][1], g_collar[1][1]])))
        if g_point[1] > g_arm_y:
            # (A neckline deeper than the armpits (a camisole's V, a sports top's scoop) is below the armpits' row,
            # by its own depth's scale: mapped above it, the row's points folded over it, and its edge came out a
            # level shelf beside a notch.)
            y = max(y, front_y(float(g_point[1])) if even_front
                    else armpit_y + FLAT_TO_WORN * scale * (float(g_point[1]) - g_arm_y))
        p_neckline.append(np.array([x, y]))
    # A round neck (no deeper than a crew neck's usual depth) opens no lower than the old top's neckline: what it
    # would bare below that is skin to make up, not of the garment's design.
    g_depth = float(neckline[2][1]) - 0.5 * float(g_collar[0][1] + g_collar[1][1])
    # (Not a contrast collar's: pinned up, its rib was stretched below the neckline into wide dark lobes.)
    if g_depth <= 1.1 * NECK_DEPTH * max(float(g_collar[1][0] - g_collar[0][0]), 1.0) and not rib_kept:
        column = int(np.clip(round(body.neck[0]), 0, width - 1))
        old_rows = np.flatnonzero((parse[:, column] == labels.UPPER_GARMENT)
                                  & (np.arange(height) > body.neck[1] - 0.35 * sw))
        if len(old_rows):
            limit = float(old_rows[0]) + 0.03 * sw
            top_y = 0.5 * (p_collar[0][1] + p_collar[1][1])
            depth_now = p_neckline[2][1] - top_y
            if p_neckline[2][1] > limit and depth_now > 0:
                factor = max(0.0, limit - top_y) / depth_now
                p_neckline = [np.array([p[0], top_y + (p[1] - top_y) * factor]) if 0 < i < 4 else p
                              for i, p in enumerate(p_neckline)]
    pairs += [(g, p) for g, p in zip(neckline[1:4], p_neckline[1:4])]
    # Armpits, then rows down to the hem, five points across each.
    pairs += [(g_armpit[0], p_armpit[0]), (g_armpit[1], p_armpit[1])]
    g_rows = np.linspace(g_arm_y, g_bottom, 6)[1:]
    # (The hem row's width from a little above the hem: a curved or rounded hem's last rows are narrow, and mapped
    # across the whole body there they stretched a sliver of the fabric into streaks.)
    g_hem_edges_y = g_bottom - HEM_EDGES_ABOVE * (g_bottom - g_arm_y)
    for g_y in [g_arm_y, *g_rows]:
        g_left, g_right = garment_edges(min(g_y, g_hem_edges_y))
        p_y = person_y(g_y) if g_y == g_arm_y else front_y(g_y)
        p_left, p_right = person_edges(p_y, g_left, g_right)
        if g_y == g_arm_y:
            p_left, p_right = min(p_left, p_armpit[0][0]), max(p_right, p_armpit[1][0])
        if category == "upper" and contour_left:
            # A top hangs down from the chest: it does not follow a waist in, nor the thighs below the hips (cut
            # corners at its hem, a bite at the waist of a broad body).
            p_left, p_right = min(p_left, contour_left[-1][0]), max(p_right, contour_right[-1][0])
        contour_left.append(np.array([p_left, p_y]))
        contour_right.append(np.array([p_right, p_y]))
        for u in (0.0, 0.25, 0.5, 0.75, 1.0):
            if g_y == g_arm_y and u in (0.0, 1.0):
                continue
            pairs.append((np.array([g_left + u * (g_right - g_left), g_y]),
                          np.array([p_left + u * (p_right - p_left), front_y(g_y)])))
    # Between the top row and the armpit row: the middle of the chest.
    g_mid_y = 0.5 * (g_collar_mid[1] + g_arm_y) + 0.25 * (neckline[2][1] - g_collar_mid[1])
    for u in (0.25, 0.75):
        g_x = found.centre + (u - 0.5) * g_chest
        pairs.append((np.array([g_x, g_mid_y]),
                      np.array([body.neck[0] + (u - 0.5) * body_chest * config.min_ease, front_y(g_mid_y)])))
    source = _spline_map(pairs, size, config.regularisation)

    # The torso's region: shoulders, neckline, sides down to the hem (the garment's own shape then cuts it).
    outline_points = [p_shoulder[0] if has_shoulders else top_pairs[0][1] + np.array([-0.05 * sw, 0]),
                      *[p for _, p in reversed(shoulder_lines[0])], *p_neckline, *[p for _, p in shoulder_lines[1]],
                      p_shoulder[1] if has_shoulders else top_pairs[3][1] + np.array([0.05 * sw, 0]),
                      *contour_right, contour_right[-1] + np.array([0, 0.05 * sw]),
                      contour_left[-1] + np.array([0, 0.05 * sw]), *reversed(contour_left)]
    if not has_shoulders:
        outline_points[0] = np.array([outline_points[0][0], min(outline_points[0][1], neckline[0][1])])
    region = _polygon(outline_points, size)
    # A camisole's straps are thin: the outline's smoothing, which takes spurs off, must leave them whole (it ate their
    # tops, and they hung from the chest).
    strap_zone = None
    if straps:
        strap_zone = np.zeros(size, bool)
        for side in (0, 1):
            strap_zone |= _limb_zone(xx, yy, [p_collar[side], p_collar[side] + np.array([0.0, STRAP_KEPT * sw])],
                                     (0.08 * sw,))
    layers = [_Layer(source, region, "torso", found.torso_mask, opening,
                     (p_collar[0], p_collar[1]) if has_shoulders else None, armpit_y=armpit_y,
                     off_shoulder=off_shoulder, strap_zone=strap_zone)]

    # Sleeves along the arms. Long sleeves (by the scale, or as long against the body as laid flat against the
    # garment's collar-to-hem, both sleeves together reaching most of the way down the forearms) go to the wrists.
    reach = []
    for side, sleeve in enumerate(found.sleeves):
        chain = body.arm_chain(side)
        if sleeve is None or len(chain) < 3:
            continue
        g_length = float(np.hypot(*(sleeve.cuff - sleeve.root)))
        body_scale = (p_hem_y - p_collar_y) / max(g_bottom - g_collar_y, 1.0)
        estimate = config.sleeve_drape * g_length * max(scale, body_scale)
        arm = sum(float(np.hypot(*(b - a))) for a, b in zip(chain[:-1], chain[1:]))
        reach.append((estimate + 0.12 * sw) / max(arm + 0.12 * sw, 1.0))
    to_wrist = len(reach) == 2 and float(np.mean(reach)) >= LONG_SLEEVE
    for side, sleeve in enumerate(found.sleeves):
        if sleeve is None:
            continue
        top_line = (p_collar[side], p_shoulder[side] if has_shoulders else top_pairs[3 * side][1])
        # (Off the shoulder: the sleeve starts where its top edge, level with the bodice's, crosses the arm.)
        drop = 0.0
        if off_shoulder:
            bone = _unit(body.arm_chain(side)[1] - body.arm_chain(side)[0], np.array([0.0, 1.0]))
            drop = max(0.0, float(top_line[1][1] - body.arm_chain(side)[0][1]) / max(float(bone[1]), 0.5)
                       + 0.12 * sw)
        # (And towards the hem the arm in an old sleeve, beyond the torso's outline: see _sleeve_layer.)
        edge = outline.rows(yy[:, 0])[side]
        beyond = np.where(np.isfinite(edge), (xx < edge) if side == 0 else (xx > edge), False)
        layer = _sleeve_layer(sleeve, side, found, body, scale, config, (xx, yy), size, top_line, to_wrist,
                              np.isin(parse, labels.ARM_LABELS), drop, (parse == labels.UPPER_GARMENT) & beyond)
        # The armhole: between the torso's side (shoulder point -> armpit) and the sleeve's inner edge on an arm held
        # a little away from the body, the sleeve goes on (its inner edge's texture), no gap of skin at the seam.
        start, elbow = body.arm_chain(side)[0], body.arm_chain(side)[1]
        bone = elbow - start
        shoulder_point = top_line[1]
        armpit_point = p_armpit[side]
        if bone[1] > 1e-3 and armpit_point[1] > start[1]:
            t = float(np.clip((armpit_point[1] - start[1]) / bone[1], 0.0, 1.0))
            on_bone = start + t * bone
            inward = -_outer_normal(_unit(bone, np.array([0.0, 1.0])), side)
            inner = on_bone + config.arm_radius * sw * inward
            if abs(inner[0] - armpit_point[0]) < 0.35 * sw:
                bridge = _polygon([shoulder_point, inner, armpit_point], size) & ~region
                layer = _Layer(layer.source, layer.region | bridge, layer.name, layer.part, round_=layer.round_,
                               solid=layer.solid)
        layer.cut = opening
        layers.append(layer)
    return layers


#: What of the old top lies beyond a bare arm, within this many shoulder widths of the backdrop, in the backdrop's
#: colour or a blend of it and the arm's skin (off that blend by at most BEYOND_OFF), is the backdrop and the arm's
#: edge.
BEYOND_REACH = 0.04
BEYOND_OFF = 0.05
#: A collar corner goes on up a strap rising at least this share of the garment's width above the neckline's corner,
#: to a top no wider than STRAP_TOP of it (see _strap_top).
STRAP_RISE = 0.08
STRAP_TOP = 0.06
#: A camisole's straps are kept as mapped (not smoothed away) this many shoulder widths down from their tops.
STRAP_KEPT = 0.35
#: A thin sliver of the old top this much darker than both the face's skin and the backdrop is the old top's (a strap),
#: no blend of skin and backdrop at its outline.
STRAP_DARKER = 0.15
BARE_ARM = 0.8  # share of an upper arm the photo shows as arm for it to be bare (the old top sleeveless)
STRAP_CONTRAST = 0.08  # how much darker than the skin beside it (luminance) a thin line is to be an old strap
OFF_SHOULDER_DROP = 0.22  # an off-the-shoulder top's edge at least this far (x the shoulder width) below the shoulders
OFF_SHOULDER_LEVEL = 0.07  # a sleeve's top edge within this (x the chest) of the collar corners' height: level


def _off_the_shoulder(mask: np.ndarray, found: _GarmentLandmarks) -> bool:
    """An off-the-shoulder top (or a bardot neckline): its top edge runs level from the collar corners out over both
    sleeves (a T-shirt's or a puff sleeve's top edge falls away from the shoulder point), so the garment has no
    shoulders to sit on; it hangs round the upper arms."""
    if found.sleeves[0] is None or found.sleeves[1] is None:
        return False
    top = np.where(mask.any(0), np.argmax(mask, axis=0), mask.shape[0]).astype(np.float64)
    chest = max(float(found.armpit[1][0] - found.armpit[0][0]), 1.0)
    collar_y = 0.5 * float(found.collar[0][1] + found.collar[1][1])
    for side, sleeve in enumerate(found.sleeves):
        start = float(found.shoulder[side][0])
        end = float(max(sleeve.outer[0], sleeve.cuff[0]) if side else min(sleeve.outer[0], sleeve.cuff[0]))
        # (The sleeve's top edge over the first 60 % of its way out: a puff's gathers round off its far end.)
        columns = np.arange(int(round(min(start, start + 0.6 * (end - start)))),
                            int(round(max(start, start + 0.6 * (end - start)))) + 1)
        columns = columns[(columns >= 0) & (columns < mask.shape[1])]
        # (Level: not falling away, nor rising above the collar corners as a V's straps and cap sleeves do.)
        if not len(columns) or abs(float(np.median(top[columns])) - collar_y) > OFF_SHOULDER_LEVEL * chest:
            return False
    return True


def _sleeve_layer(sleeve: _Sleeve, side: int, found: _GarmentLandmarks, body: _Body, scale: float,
                  config: TPSBaselineConfig, grid: tuple[np.ndarray, np.ndarray], size: tuple[int, int],
                  top_line: tuple[np.ndarray, np.ndarray], to_wrist: bool = False,
                  arm_pixels: np.ndarray | None = None, drop: float = 0.0,
                  old_sleeve: np.ndarray | None = None) -> _Layer:
    """A sleeve mapped along the arm: fraction along and across the shoulder-elbow-wrist chain -> the same fraction
    along the sleeve's axis and across its width (``to_wrist``: a long sleeve, down to the wrist; ``drop``: how far
    down the arm it starts, an off-the-shoulder top's)."""
    xx, yy = grid
    sw = body.width
    chain = body.arm_chain(side)
    along, across, chain_length = _chain_fields(chain, side, size)
    g_axis = sleeve.cuff - sleeve.root
    g_length = max(float(np.hypot(*g_axis)), 1.0)
    g_direction = g_axis / g_length
    g_normal = _outer_normal(g_direction, side)
    # The sleeve starts at the shoulder point, which lies outside and above the joint: the first bit of the arm.
    start = -0.12 * sw + drop
    length = max(config.sleeve_drape * scale * g_length, 0.2 * sw) + drop
    # A long sleeve ends at the wrist (a boxy top's wide chest, or its dropped shoulders, make the scale's estimate
    # end on the forearm).
    if to_wrist:
        length = max(length, chain_length)
    length = min(length, chain_length + 0.05 * sw)
    t = (along - start) / (length - start)
    profile = sleeve.profile
    outer_g = np.interp(np.clip(t, 0, 1), profile[:, 0], profile[:, 1])
    inner_g = np.interp(np.clip(t, 0, 1), profile[:, 0], profile[:, 2])
    # Person half-width: the arm (a little wider), or the sleeve's own width scaled, whichever is larger.
    upper_arm = float(np.hypot(*(chain[1] - chain[0])))
    arm_half = np.where(along < upper_arm, config.arm_radius * sw, 0.8 * config.arm_radius * sw) * SLEEVE_EASE
    sleeve_half = TUBE_WIDTH * 0.5 * scale * (outer_g - inner_g)
    # At the shoulder a sleeve hugs the arm; it may widen (puff, bell) further down.
    taper = np.clip(along / (0.35 * sw), 0.0, 1.0)
    # Worn, even a wide or boxy sleeve hangs round the arm: at most about twice as wide as the arm seen from the front.
    half = np.clip(np.maximum(arm_half, arm_half + taper * (sleeve_half - arm_half)), 0.1 * sw, SLEEVE_MAX_HALF * sw)
    fraction = np.clip(across / half, -1.0, 1.0)  # -1 inner edge, +1 outer edge
    g_across = inner_g + (fraction + 1) / 2 * (outer_g - inner_g)
    g_t = np.clip(t, 0, 1) * g_length
    source = np.stack([sleeve.root[0] + g_t * g_direction[0] + g_across * g_normal[0],
                       sleeve.root[1] + g_t * g_direction[1] + g_across * g_normal[1]], -1)
    # From the shoulder's top (over the torso's edge: no gap at the seam) to the cuff, never above the garment's
    # shoulder line (collar corner -> shoulder point, level beyond it).
    (x0, y0), (x1, y1) = top_line
    line_y = np.where((xx - x1) * (x1 - x0) > 0, y1, y0 + (xx - x0) * (y1 - y0) / (x1 - x0 if x1 != x0 else 1.0))
    # Above the joint the sleeve's cap is round.
    cap = (along >= 0) | (np.hypot(along, across) <= half)
    region = (along >= start) & cap & (t <= 1) & (np.abs(across) <= half) & (yy >= line_y - 0.02 * sw)
    solid = None
    if arm_pixels is not None:
        # The sleeve covers the arm the photo shows along its length, however broad (a muscular arm stood out of the
        # tube as a patch of skin beside the sleeve), and a notch in the product shot's sleeve (its mask cut at a
        # light print at the edge) is no hole in it there: that is fabric.
        # (Below the armhole's seam: the photo's shoulder is the torso's, and a sleeve taken up over it drew the
        # seam's dark fabric there.)
        # (Over its lower half, the arm in the old top's sleeve too: a cuff oblique to the product sleeve's axis
        # left the hem a torn arch over an old long sleeve.)
        arm = arm_pixels if old_sleeve is None else arm_pixels | (old_sleeve & (t >= 0.5))
        solid = (arm & (along >= 0.15 * sw) & (t <= 1) & (np.abs(across) <= half + 0.1 * sw)
                 & (yy >= line_y - 0.02 * sw))
        region |= solid
    return _Layer(source, region, f"sleeve{side}", sleeve.mask, round_=fraction.astype(np.float32), solid=solid)


def _lower_layers(garment_mask: np.ndarray, body: _Body, outline: _Outline, parse: np.ndarray, old_lower: np.ndarray,
                  lower_silhouette: np.ndarray, config: TPSBaselineConfig) -> list[_Layer]:
    """Trousers, shorts or a skirt: waistband at the top of the old lower garment (or above the hips), trouser legs
    along the leg bones from the waistband down, a skirt spanning the legs."""
    size = parse.shape
    height, width = size
    sw = body.width
    shape = _lower_garment(garment_mask)
    centre_hip = float(body.centre_x(body.mid_hip[1]))
    # The waistband: the top of the old lower garment near the centre line, within plausible bounds.
    columns = slice(int(max(0, centre_hip - 0.15 * sw)), int(min(width, centre_hip + 0.15 * sw)) + 1)
    rows = np.flatnonzero(old_lower[:, columns].mean(1) > 0.5)
    torso_length = float(body.mid_hip[1] - body.neck[1])
    default_waist = float(body.mid_hip[1]) - 0.2 * torso_length
    waist_y = float(rows.min()) if len(rows) else default_waist
    waist_y = float(np.clip(waist_y, body.mid_hip[1] - 0.4 * torso_length, body.mid_hip[1] - 0.05 * torso_length))
    w_left, w_right = outline.half(waist_y)
    w_centre = 0.5 * (w_left + w_right)
    w_half = max(0.5 * (w_right - w_left), 0.3 * sw) * config.min_ease
    g_waist_half = max(0.5 * float(shape.waist[1][0] - shape.waist[0][0]), 1.0)
    scale = w_half / (FLAT_TO_WORN * g_waist_half)  # garment lengths -> person lengths
    g_centre = 0.5 * float(shape.waist[0][0] + shape.waist[1][0])
    ankles = [a[1] for a in body.ankle if a is not None]
    floor = (max(ankles) + 0.06 * sw) if ankles else (np.inf if _cut_below(parse, body) else float(height))
    hem_y = min(waist_y + LOWER_LENGTH * scale * (shape.bottom - shape.top), floor)
    logger.debug("lower: waist %.1f (old garment from %s, hips %.1f), hem %.1f, scale %.3f, legs %s", waist_y,
                 rows.min() if len(rows) else None, body.mid_hip[1], hem_y, scale, shape.crotch is not None)
    if shape.crotch is not None:
        return [_leg_layer(shape, side, body, w_centre, w_half, waist_y, hem_y, g_centre, scale, lower_silhouette,
                           config, size, old_lower) for side in (0, 1)]

    def person_y(g_y: float) -> float:
        return waist_y + (g_y - shape.top) * (hem_y - waist_y) / max(shape.bottom - shape.top, 1.0)

    # A skirt: rows from the waistband to the hem, at least as wide as the legs.
    pairs = [(shape.waist[0], np.array([w_centre - w_half, waist_y])),
             (shape.waist[1], np.array([w_centre + w_half, waist_y])),
             (np.array([g_centre, shape.waist[0][1]]), np.array([w_centre, waist_y]))]
    g_rows = np.linspace(shape.top + 0.03 * (shape.bottom - shape.top), shape.bottom, 7)
    left_points, right_points = [], []
    for g_y in g_rows[1:]:
        index = int(np.argmin(np.abs(shape.rows[:, 0] - g_y)))
        g_left, g_right = shape.rows[index, 1], shape.rows[index, 2]
        p_y = person_y(g_y)
        centre = float(body.centre_x(p_y)) if p_y > body.mid_hip[1] else w_centre
        legs = _legs_extent(body, p_y, config)
        half = max(0.5 * FLAT_TO_WORN * scale * (g_right - g_left), legs, w_half)
        left_points.append(np.array([centre - half, p_y]))
        right_points.append(np.array([centre + half, p_y]))
        for u in (0.0, 0.5, 1.0):
            pairs.append((np.array([g_left + u * (g_right - g_left), g_y]),
                          np.array([centre - half + 2 * u * half, p_y])))
    source = _spline_map(pairs, size, config.regularisation)
    region = _polygon([pairs[0][1], pairs[1][1], *right_points, *reversed(left_points)], size)
    return [_Layer(source, region, "skirt")]


STRIDE = 0.3  # one ankle this much (x the shoulder width) above the other: a stride


def _cut_below(parse: np.ndarray, body: _Body) -> bool:
    """Whether the photo ends above the feet: no ankle in it, and the body (about its middle) reaching its bottom row.
    A garment there runs on past the frame at its own length (fitted into the frame, trousers were squeezed to half
    their length, their hems and flares drawn at the photo's bottom edge over the thighs)."""
    if any(a is not None for a in body.ankle):
        return False
    centre = int(np.clip(round(float(body.centre_x(parse.shape[0] - 1))), 0, parse.shape[1] - 1))
    band = parse[-2:, max(0, centre - int(0.3 * body.width)): centre + int(0.3 * body.width) + 1]
    return bool((band != labels.BACKGROUND).mean() > 0.3)


def _legs_extent(body: _Body, y: float, config: TPSBaselineConfig) -> float:
    """Half the width both legs span at row ``y`` (from the leg bones and the thigh radius), around the centre."""
    centre = float(body.centre_x(y))
    half = 0.0
    for side in (0, 1):
        chain = body.leg_chain(side)
        for index, (start, end) in enumerate(zip(chain[:-1], chain[1:])):
            lo, hi = sorted((start[1], end[1]))
            if lo <= y <= hi and hi > lo:
                x = start[0] + (y - start[1]) / (end[1] - start[1]) * (end[0] - start[0])
                radius = config.thigh_radius * body.width * (1.0 if index == 0 else 0.65)
                half = max(half, abs(x - centre) + radius)
    return half if half > 0 else 0.45 * body.width


def _leg_layer(shape: _LowerGarment, side: int, body: _Body, w_centre: float, w_half: float, waist_y: float,
               hem_y: float, g_centre: float, scale: float, silhouette: np.ndarray, config: TPSBaselineConfig,
               size: tuple[int, int], old_garment: np.ndarray | None = None) -> _Layer:
    """One trouser leg from the waistband to the hem, along the chain waist -> knee -> ankle: the fraction along it
    picks the garment's row (rows map linearly, waistband to hem), the fraction across it the position between the
    leg's inner edge (the garment's centre line above the crotch) and its outer edge."""
    sw = body.width
    sign = -1.0 if side == 0 else 1.0
    hip, knee, ankle = body.leg_chain(side)
    top = np.array([w_centre + sign * 0.5 * w_half, waist_y])
    chain = [top, knee, ankle]
    along, across, chain_length = _chain_fields(chain, side, size)
    # Arc length at the hem's height.
    ys = np.array([p[1] for p in chain])
    lengths = np.concatenate([[0.0], np.cumsum([float(np.hypot(*(b - a))) for a, b in zip(chain[:-1], chain[1:])])])
    end = float(np.interp(hem_y, ys, lengths, right=lengths[-1] + (hem_y - ys[-1]))) if ys[-1] > ys[0] else lengths[-1]
    # (In a stride, one foot well above the other, never past this leg's own ankle: the hem laid at the front foot's
    # height covered the back shoe. Feet a little apart in height are the keypoints' spread, not a stride: a leg cut
    # at its ankle there left a gap of backdrop above a shoe the old trousers reached.)
    other = body.leg_chain(1 - side)[-1]
    if other[1] - ankle[1] > STRIDE * sw:
        end = min(end, lengths[-1] + 0.06 * sw)
    t = along / max(end, 1.0)
    g_y = shape.top + np.clip(t, 0, 1) * (shape.bottom - shape.top)
    # The garment's leg edges per row: above the crotch the centre line and the side, below it the leg's run.
    rows = shape.rows
    side_x = np.interp(g_y, rows[:, 0], rows[:, 1] if side == 0 else rows[:, 2])
    leg = shape.legs[side]
    below = g_y >= leg[0, 0]
    leg_centre = np.interp(g_y, leg[:, 0], leg[:, 1])
    leg_half = np.interp(g_y, leg[:, 0], leg[:, 2])
    outer = np.where(below, leg_centre + sign * leg_half, side_x)
    inner = np.where(below, leg_centre - sign * leg_half, g_centre)
    # The person's half-width: the leg (measured on the silhouette) or the garment's leg seen as a tube; at the
    # waistband half the waist.
    person_half = _leg_half_widths(silhouette, [hip, knee, ankle], sw, body.leg_chain(1 - side), old_garment)
    crotch_t = (float(leg[0, 0]) - shape.top) / max(shape.bottom - shape.top, 1.0)
    thigh = np.where(along < lengths[1], person_half[0], person_half[1]) * 1.08
    tube = TUBE_WIDTH * 0.5 * scale * np.abs(outer - inner)
    legs_half = np.maximum(thigh, tube)
    blend = np.clip(t / max(crotch_t, 1e-3), 0, 1)
    half = np.clip((1 - blend) * 0.5 * w_half + blend * legs_half, 0.08 * sw, 0.6 * sw)
    fraction = np.clip(across / half, -1.0, 1.0)  # +1 = the outer side
    source = np.stack([inner + (fraction + 1) / 2 * (outer - inner), g_y], -1).astype(np.float32)
    region = (along >= 0) & (t <= 1) & (np.abs(across) <= half)
    return _Layer(source, region, f"leg{side}")


def _leg_half_widths(silhouette: np.ndarray, chain: list[np.ndarray], sw: float,
                     other: list[np.ndarray] | None = None, garment: np.ndarray | None = None) -> tuple[float, float]:
    """Half-widths of the thigh and the calf: the distance from the bone to the silhouette's edge (median along the
    middle of each bone), within plausible bounds; body proportions where the silhouette says nothing.

    Over a skirt or a dress (the silhouette joins the two legs, halfway between this leg's bone and the ``other``
    leg's, down to where the legs part, and below that no more of the old ``garment`` lies on the leg: trouser legs
    part above their hems) its edge is the skirt's, no thigh's: the thigh is measured where the legs have parted or
    where what joins them is not the old garment (it stays, and narrower legs would bare it), or told from the calf
    (as thick as body proportions make it beside the calf measured), or by the proportions."""
    defaults = (0.2 * sw, 0.13 * sw)
    if not silhouette.any():
        return defaults
    height, width = silhouette.shape
    inside = _edt(silhouette)

    def within(point: np.ndarray) -> bool:
        return 0 <= point[0] < width and 0 <= point[1] < height

    def at(mask: np.ndarray, point: np.ndarray) -> bool:
        return within(point) and bool(mask[int(point[1]), int(point[0])])

    fractions = np.linspace(0.2, 0.8, 7)
    skirt = np.zeros(len(fractions), bool)  # the thigh's samples where a skirt joins the legs
    if other is not None and garment is not None:
        hip, knee = chain[0], chain[1]
        middles = [0.5 * (hip + f * (knee - hip) + other[0] + f * (other[1] - other[0])) for f in fractions]
        joined = np.array([at(silhouette, point) for point in middles])
        parted = np.flatnonzero(~joined)
        below = [hip + f * (knee - hip) for f in fractions[parted[0]:]] if len(parted) else []
        below += [knee + f * (chain[2] - knee) for f in (0.1, 0.2, 0.3, 0.4)]
        if np.mean([at(garment, point) for point in below]) < 0.5:  # (bare legs below: no trousers)
            # (Where the old garment goes between the legs: what stays there, narrower legs would bare.)
            skirt = joined & np.array([at(garment, point) for point in middles])
    out, measured = [], []
    for index, ((start, end), default) in enumerate(zip(zip(chain[:-1], chain[1:]), defaults)):
        samples = [start + f * (end - start) for k, f in enumerate(fractions) if index or not skirt[k]]
        values = [inside[int(y), int(x)] for x, y in samples if within((x, y))]
        values = [v for v in values if v > 0]
        measured.append(len(values) >= 3)
        value = float(np.median(values)) if measured[-1] else default
        out.append(float(np.clip(value, 0.6 * default, 1.6 * default)))
    if not measured[0] and measured[1]:
        out[0] = float(np.clip(out[1] * defaults[0] / defaults[1], 0.6 * defaults[0], 1.6 * defaults[0]))
    return out[0], out[1]


# --- 6. compositing --------------------------------------------------------------------------------------------------


def _smooth_outline(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """``alpha`` with its outline smoothed at the scale ``sigma`` (pixels): its level-0.5 line after a Gaussian blur,
    drawn with a soft edge about a pixel wide. Notches and spurs narrower than about ``2 sigma`` go; straight edges and
    broad curves stay where they were."""
    if not (alpha > 0.02).any():
        return alpha
    smooth = _blur(alpha.astype(np.float32), sigma)
    # (The blurred ramp is about 2.5 sigma wide; steepened to about a pixel.)
    return np.clip((smooth - 0.5) * 2.0 * sigma + 0.5, 0.0, 1.0).astype(np.float32)


#: A top's shoulder line goes to the photo's shoulders' outline where that lies within this many shoulder widths of the
#: straight line from its collar corner to its shoulder point.
SHOULDER_SNAP = 0.12


def _body_top(parse: np.ndarray, body: _Body) -> np.ndarray:
    """Per column, the body's top outline below the head (the first row of the body, not the face, hair or hands, from
    a little above the neck down; the image height where none), smoothed along the columns (the parse's ragged edge
    is no shape of a shoulder). (The neck counts: beside it, the parse calls the bare shoulders' slope neck.)"""
    sw = body.width
    height = parse.shape[0]
    pixels = (parse != labels.BACKGROUND) & ~np.isin(parse, (labels.FACE, labels.HAIR, *labels.HAND_LABELS))
    top = int(np.clip(body.neck[1] - 0.35 * sw, 0, height - 1))
    pixels[:top] = False
    first = np.where(pixels.any(0), np.argmax(pixels, 0), height).astype(np.float64)
    return ndimage.median_filter(first, max(3, int(round(0.06 * sw)) | 1), mode="nearest")


def _shoulder_cover(covered: np.ndarray, parse: np.ndarray, body: _Body, collar: tuple[np.ndarray, np.ndarray],
                    armpit_y: float, grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where a top with shoulders must reach beyond its mapped shape: worn, it covers the shoulders up to their outline
    in the photo, from the collar corners out to the arms. Per column beside the neck's opening: the body's pixels
    (not the neck, face, hair or hands) between its top outline and the mapped garment below, above the armpits."""
    xx, yy = grid
    sw = body.width
    height, width = parse.shape
    body_pixels = (parse != labels.BACKGROUND) & ~np.isin(parse, (labels.NECK, labels.FACE, labels.HAIR,
                                                                  *labels.HAND_LABELS))
    top = int(np.clip(body.neck[1] - 0.35 * sw, 0, height))
    bottom = int(np.clip(armpit_y, top, height))
    if bottom <= top:
        return np.zeros(parse.shape, bool)
    band = slice(top, bottom)
    beside = (xx[band] < collar[0][0]) | (xx[band] > collar[1][0])
    body_band = body_pixels[band] & beside
    covered_band = covered[band]
    rows = np.arange(top, bottom)[:, None]
    # First body pixel and first covered pixel of each column (a large number where none).
    first_body = np.where(body_band.any(0), np.argmax(body_band, 0) + top, height)
    first_covered = np.where(covered_band.any(0), np.argmax(covered_band, 0) + top, height)
    # (The outline's line smoothed: the parse's ragged edge and single columns are no shape for it.)
    smooth = max(3, int(round(0.06 * sw)) | 1)
    first_body = ndimage.median_filter(first_body, smooth, mode="nearest")
    gap = first_covered - first_body
    reach = (first_covered < height) & (gap > 0) & (gap < 0.45 * sw)
    fill = body_band & ~covered_band & reach[None] & (rows < first_covered[None]) & (rows >= first_body[None])
    # Holes left between the mapped parts under that line go too.
    fill |= ndimage.binary_fill_holes(fill | covered_band) & ~covered_band & body_band & (rows >= first_body[None])
    result = np.zeros(parse.shape, bool)
    result[band] = fill
    # (And the outline's soft rim, which the parse leaves to the backdrop: it has the old top's colour blended in.)
    result |= _dilate(result, 2) & (parse == labels.BACKGROUND) & (yy >= top) & (yy < bottom)
    return result & ~covered


def _monotone(values: np.ndarray) -> np.ndarray:
    """The least-squares non-decreasing fit to ``values`` (pool adjacent violators)."""
    means, counts = [], []
    for value in values:
        means.append(float(value))
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            n = counts[-2] + counts[-1]
            means[-2] = (means[-2] * counts[-2] + means[-1] * counts[-1]) / n
            counts[-2] = n
            means.pop()
            counts.pop()
    return np.repeat(means, counts).astype(np.float64)


def _lowest_concave(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The least concave function over ``xs`` (increasing) that is nowhere less than ``ys``. In image rows: the U
    nowhere above the points, sagging to the lowest of them; a bump of them up into the opening is cut away."""
    hull: list[int] = []
    for i in range(len(xs)):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = (xs[hull[-2]], ys[hull[-2]]), (xs[hull[-1]], ys[hull[-1]])
            if (x2 - x1) * (ys[i] - y1) - (y2 - y1) * (xs[i] - x1) >= 0:  # the middle point lies on or under
                hull.pop()
            else:
                break
        hull.append(i)
    return np.interp(xs, xs[hull], ys[hull])


def _clean_neckline(alpha: np.ndarray, collar: tuple[np.ndarray, np.ndarray], sw: float) -> np.ndarray:
    """``alpha`` with the top edge of a top around its neck opening as a garment's is: the opening one smooth U (or V),
    the shoulder line either side of it rising towards it. The parts' mappings, the inner back cut away column by
    column and the old top's outline the fabric is carried over leave shelves, notches and spikes there."""
    height, width = alpha.shape
    left, right = collar
    x0 = int(np.clip(np.floor(min(left[0], right[0]) - 0.2 * sw), 0, width - 1))
    x1 = int(np.clip(np.ceil(max(left[0], right[0]) + 0.2 * sw), 0, width - 1))
    top = int(np.clip(min(left[1], right[1]) - 0.3 * sw, 0, height - 1))
    bottom = int(np.clip(max(left[1], right[1]) + 1.2 * sw, top + 1, height))
    if x1 - x0 < 0.3 * sw:
        return alpha
    band = alpha[top:bottom, x0:x1 + 1] > 0.5
    has = band.any(0)
    if has.mean() < 0.9:
        return alpha
    raw = np.where(has, np.argmax(band, 0), bottom - top).astype(np.float64)
    # (A column or two misread is no notch: not pooled into the shape.)
    edge = ndimage.median_filter(raw, max(3, int(round(0.04 * sw)) | 1), mode="nearest")
    n = len(edge)
    xs = np.arange(n, dtype=np.float64)
    end = max(2, int(round(0.05 * sw)))

    def opening(base: np.ndarray) -> tuple[int, int] | None:
        """The run of columns well below ``base`` around the deepest (a column either side: its steep sides' tops)."""
        below = edge - base
        deepest = int(np.argmax(below))
        if below[deepest] < 0.05 * sw:
            return None
        a = deepest
        while a > 0 and below[a - 1] > 0.02 * sw:
            a -= 1
        b = deepest
        while b < n - 1 and below[b + 1] > 0.02 * sw:
            b += 1
        return max(0, a - 1), min(n - 1, b + 1)

    # The opening: first against the straight line between the shoulders either side of it.
    run = opening(np.interp(xs, [0, n - 1], [np.median(edge[:end]), np.median(edge[-end:])]))
    if run is None:
        return alpha
    # The shoulder line either side: straight from the range's end towards the neck, through what of the edge is
    # not raised above it (a bump at the opening's corner, a collar's stand-up end is no shoulder).
    line = np.full(n, -np.inf)
    for side, columns in ((0, np.arange(0, run[0] + 1)), (1, np.arange(run[1], n))):
        if len(columns) < end + 2:
            line[columns] = -_monotone(-edge[columns]) if side == 0 else _monotone(edge[columns])
            continue
        outer = columns[:end] if side == 0 else columns[-end:]
        anchor = np.array([float(np.mean(outer)), float(np.median(edge[outer]))])
        use = np.ones(len(columns), bool)
        slope = 0.0
        for _ in range(3):
            dx, dy = xs[columns][use] - anchor[0], edge[columns][use] - anchor[1]
            slope = float((dx * dy).sum() / max((dx * dx).sum(), 1e-6))
            use = edge[columns] - (anchor[1] + slope * (xs[columns] - anchor[0])) > -0.015 * sw
            if use.sum() < 2:
                break
        line[columns] = anchor[1] + slope * (xs[columns] - anchor[0])
    line = np.where(np.isfinite(line), line, np.interp(xs, xs[np.isfinite(line)], line[np.isfinite(line)]))
    fit = line.copy()
    run = opening(line)
    if run is not None:
        a, b = run
        fit[a:b + 1] = np.maximum(line[a:b + 1], _lowest_concave(xs[a:b + 1], edge[a:b + 1]))
        if b - a >= 4:
            # (Its corners round: nowhere deeper than a half ellipse as wide and as deep as the opening. The hull of
            # a crew neck's mapped edge had a flat bottom between straight sides, a trapezoid; a V, inside the
            # ellipse, stays a V.)
            depth = fit[a:b + 1] - line[a:b + 1]
            u = (xs[a:b + 1] - 0.5 * (a + b)) / (0.5 * (b - a))
            fit[a:b + 1] = line[a:b + 1] + np.minimum(depth, float(depth.max()) * np.sqrt(np.clip(1.0 - u * u, 0, 1)))
    fit = ndimage.gaussian_filter1d(fit, max(1.0, 0.012 * sw), mode="nearest")
    rows = np.arange(bottom - top, dtype=np.float64)[:, None]
    # Coverage from the fitted line down, a pixel's fraction at the line; below the old edge as it was.
    coverage = np.clip(rows + 1.0 - fit[None, :], 0.0, 1.0)
    above = rows < np.maximum(raw, fit)[None, :] + 1
    result = alpha.copy()
    block = result[top:bottom, x0:x1 + 1]
    result[top:bottom, x0:x1 + 1] = np.where(above, coverage, block)
    return result.astype(np.float32)


def push_pull_fill(image: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Fill the unknown pixels of ``image`` (C, H, W) smoothly from the known ones (``known`` (1, H, W) in [0, 1]).

    Push: average the known pixels into a pyramid; pull: from the coarsest level up, each level keeps its known
    values and takes the upsampled coarser estimate elsewhere. Unknown pixels far from any known one get a smooth
    blend of the nearest known colours.
    """
    levels = [(image * known, known)]
    while min(levels[-1][0].shape[-2:]) > 2:
        value, weight = levels[-1]
        levels.append((F.avg_pool2d(value[None], 2, ceil_mode=True)[0],
                       F.avg_pool2d(weight[None], 2, ceil_mode=True)[0]))
    value, weight = levels[-1]
    # (A cell of the coarsest level with no known pixel takes the mean of all the known ones, not 0: black blended in
    # far from them.)
    mean = (image * known).sum((-2, -1), keepdim=True) / known.sum().clamp_min(1e-6)
    estimate = torch.where(weight > 1e-6, value / weight.clamp_min(1e-6), mean)
    for value, weight in reversed(levels[:-1]):
        upsampled = F.interpolate(estimate[None], size=value.shape[-2:], mode="bilinear", align_corners=False)[0]
        confidence = weight.clamp(0, 1)
        estimate = value / weight.clamp_min(1e-6) * confidence + upsampled * (1 - confidence)
    return estimate


def _fill(image: np.ndarray, known: np.ndarray, factor: int = 4) -> np.ndarray:
    """Push-pull fill (as :func:`push_pull_fill`) of an ``(H, W, 3)`` float array from its ``known`` pixels, on a copy
    ``factor`` times smaller (the fill is smooth), brought back bilinearly. Plain numpy: many tiny steps."""
    height, width = known.shape
    small = (-(-height // factor), -(-width // factor))
    weight = _resize(known.astype(np.float32), small)
    value = _resize(np.where(known[..., None], image, 0.0).astype(np.float32), small)
    levels = [(value, weight)]
    while min(levels[-1][1].shape) > 2:
        value, weight = levels[-1]
        levels.append((_halve(value), _halve(weight)))
    value, weight = levels[-1]
    # (A cell of the coarsest level with no known pixel takes the mean of all the known ones, as in push_pull_fill:
    # the level's sums, which average the known pixels.)
    mean = value.sum((0, 1)) / max(float(weight.sum()), 1e-6)
    estimate = np.where((weight > 1e-6)[..., None], value / np.maximum(weight, 1e-6)[..., None], mean)
    for value, weight in reversed(levels[:-1]):
        upsampled = _resize(estimate, weight.shape)
        confidence = np.clip(weight * (4.0 if value is levels[0][0] else 1.0), 0, 1)[..., None]
        estimate = value / np.maximum(weight, 1e-6)[..., None] * confidence + upsampled * (1 - confidence)
    return _resize(estimate, (height, width))


def _bleed(image: np.ndarray, mask: np.ndarray, depth: int) -> np.ndarray:
    """``image`` with every pixel outside ``mask`` shrunk by ``depth`` pixels given the colour of the nearest pixel
    inside it: a product shot's anti-aliased rim (the garment blended with the white backdrop) and the backdrop itself
    no longer bleed into the garment's colours where it is sampled near its edge."""
    core = ~_dilate(~mask, depth)
    if core.sum() < 50:
        core = mask
    if not core.any() or core.all():
        return image
    _, (rows, cols) = ndimage.distance_transform_cdt(~core, return_indices=True)
    return image[rows, cols]


def _nearest(image: np.ndarray, known: np.ndarray, where: np.ndarray, inset: int = 2) -> np.ndarray:
    """For the pixels ``where``: the value of the nearest ``known`` pixel at least ``inset`` pixels inside the known
    region (the fabric carried on, sharp, not blurred; not its edge's shadow or rim drawn out into streaks)."""
    box = ndimage.find_objects(_dilate(where, 8 + inset).astype(np.uint8))[0]
    source = known[box]
    core = ~_dilate(~source, inset) if inset > 0 else source
    if core.sum() >= 0.25 * source.sum() and core.any():
        source = core
    _, (rows, cols) = ndimage.distance_transform_edt(~source, return_indices=True)
    return image[box][rows, cols][where[box]]


def _mirrored_up(image: np.ndarray, known: np.ndarray, where: np.ndarray, inset: int, smooth: int) -> np.ndarray:
    """For the pixels ``where``, above ``known`` ones in their column (a top's shoulders going up to the shoulders'
    outline): the fabric below mirrored about the known region's top edge, that edge smoothed across ``smooth``
    columns and the mirror starting ``inset`` rows inside it; the nearest known pixel (:func:`_nearest`) where the
    mirror leaves the known region. From the nearest pixels alone, a print's edge row was drawn up into streaks and
    blocks."""
    values = _nearest(image, known, where, inset)
    height = known.shape[0]
    rows = np.arange(height)[:, None]
    # (The first known row at or below each pixel, per column; the columns' edges smoothed.)
    first = np.minimum.accumulate(np.where(known, rows, height)[::-1], axis=0)[::-1]
    top = ndimage.median_filter(np.where(known.any(0), np.argmax(known, axis=0), height), max(3, smooth | 1),
                                mode="nearest")
    ys, xs = np.nonzero(where)
    edge = np.maximum(first[ys, xs], top[xs])
    mirror = 2 * edge + inset - ys
    ok = (edge < height) & (mirror < height)
    ok[ok] = known[mirror[ok], xs[ok]]
    values[ok] = image[mirror[ok], xs[ok]]
    return values


def _halve(array: np.ndarray) -> np.ndarray:
    """2x2 mean (an odd last row / column is repeated)."""
    if array.shape[0] % 2:
        array = np.concatenate([array, array[-1:]], 0)
    if array.shape[1] % 2:
        array = np.concatenate([array, array[:, -1:]], 1)
    return 0.25 * (array[0::2, 0::2] + array[1::2, 0::2] + array[0::2, 1::2] + array[1::2, 1::2])


def _hair_spill(parse: np.ndarray, person: np.ndarray, sw: float) -> np.ndarray:
    """``parse`` without the hair its hair class spilt below the chin: thin bands down the neck's sides and along the
    shoulders' outline (shadowed skin, a dark strap, the old top's rib), apart from the hanging hair's mass (a band
    thinner than about 0.07 shoulder widths, not joined to the hair above the chin once thin bands are opened away).
    Each such pixel takes the old top's label where its colour is nearer the top's than the face's (away from the
    backdrop), else the label of the nearest pixel that is neither hair nor background (the neck's, for skin beside
    the top)."""
    face = parse == labels.FACE
    hair = parse == labels.HAIR
    if not face.any() or not hair.any():
        return parse
    chin = int(np.flatnonzero(face.any(1)).max())
    radius = max(1, int(round(0.035 * sw)))
    # (Within the hair's box, with room around it; the opening by distances: a disc of the radius.)
    rows, cols = np.flatnonzero(hair.any(1)), np.flatnonzero(hair.any(0))
    box = (slice(max(0, rows[0] - radius - 2), rows[-1] + radius + 3),
           slice(max(0, cols[0] - radius - 2), cols[-1] + radius + 3))
    local = hair[box]
    core = _edt(local) > radius
    opened = (_edt(~core) <= radius) & local if core.any() else np.zeros_like(local)
    pieces, _ = ndimage.label(opened)
    heads = np.unique(pieces[: max(0, chin + 1 - box[0].start)])
    mass = np.zeros_like(hair)
    mass[box] = (_edt(~np.isin(pieces, heads[heads > 0])) <= radius + 1) & local
    spill = hair & ~mass
    spill[: chin + 1] = False
    # (A lock of the hair's own colour is hair, however thin.)
    above = hair.copy()
    above[chin + 1:] = False
    if above.sum() >= 30:
        spill[spill] = np.linalg.norm(person[spill] - np.median(person[above], axis=0), axis=1) > 0.15
    if not spill.any():
        return parse
    # (With it, bits of hair it alone joined to the head: hair hangs from the head.)
    pieces, _ = ndimage.label(hair & ~spill)
    heads = np.unique(pieces[: chin + 1])
    cut_off = (pieces > 0) & ~np.isin(pieces, heads) & np.isin(pieces, np.unique(pieces[_dilate(spill, 1)]))
    spill |= cut_off
    parse = parse.copy()
    other = ~hair & (parse != labels.BACKGROUND)
    # (The nearest of the other labels, looked for around the spill only.)
    rows, cols = np.flatnonzero(spill.any(1)), np.flatnonzero(spill.any(0))
    margin = 4 * radius + 4
    box = (slice(max(0, rows[0] - margin), rows[-1] + margin + 1),
           slice(max(0, cols[0] - margin), cols[-1] + margin + 1))
    if not other[box].any():
        return parse
    _, (near_rows, near_cols) = ndimage.distance_transform_edt(~other[box], return_indices=True)
    local = spill[box]
    block = parse[box]
    block[local] = block[near_rows[local], near_cols[local]]
    top = parse == labels.UPPER_GARMENT
    if top.sum() >= 30:
        top_tone = np.median(person[top], axis=0)
        skin_tone = np.median(person[face], axis=0)
        colours = person[spill]
        nearer_top = np.zeros(spill.shape, bool)
        nearer_top[spill] = np.linalg.norm(colours - top_tone, axis=1) < np.linalg.norm(colours - skin_tone, axis=1)
        # (Not the body's shaded outline against the backdrop: a dark edge of the neck is no strap. And skin beside
        # the top is skin.)
        parse[spill & (parse == labels.UPPER_GARMENT) & ~nearer_top] = labels.NECK
        parse[spill & nearer_top & ~_dilate(parse == labels.BACKGROUND, 2)] = labels.UPPER_GARMENT
    return parse


def _hair_by_chin(parse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The face, and the parse's hair above and below the chin (the face's lowest row); None without a face."""
    face, hair = parse == labels.FACE, parse == labels.HAIR
    if not face.any():
        return None
    rows = np.arange(parse.shape[0])[:, None]
    chin = int(face.any(1).nonzero()[0].max())
    return face, hair & (rows < chin), hair & (rows > chin)


def _hair_to_top(parse: np.ndarray, found: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``parse`` with the hair pixels ``found`` below the chin (``low``), specks opened away, given to the top."""
    found = _dilate(~_dilate(~found, 1), 1) & low
    return np.where(found, labels.UPPER_GARMENT, parse).astype(parse.dtype)


def _median_chroma(cb: np.ndarray, cr: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The median chroma (Cb, Cr) of the ``where`` pixels."""
    return np.array([np.median(cb[where]), np.median(cr[where])])


def _top_coloured_hair(parse: np.ndarray, person: np.ndarray) -> np.ndarray:
    """``parse`` with the hair below the chin that has the top's colour, where that colour is clearly not the hair's
    (a navy strap the parse took for hair beside a shaded neck), given to the top. Told by chroma, which shading
    leaves alone; so only for a coloured top (hair over a black, white or grey one is left as it is)."""
    top = parse == labels.UPPER_GARMENT
    split = _hair_by_chin(parse)
    if split is None or top.sum() < 30:
        return parse
    _, high, low = split
    if high.sum() < 30 or low.sum() < 30:
        return parse
    cb, cr = _chroma(person)
    top_c, hair_c = _median_chroma(cb, cr, top), _median_chroma(cb, cr, high)
    # (A coloured top only: a black, white or grey one has no chroma to tell it by from dark or greying hair.)
    if float(np.hypot(*top_c)) <= 0.03 or float(np.hypot(*(top_c - hair_c))) <= 0.04:
        return parse
    to_top = np.hypot(cb - top_c[0], cr - top_c[1])
    found = low & (to_top < 0.03) & (to_top < np.hypot(cb - hair_c[0], cr - hair_c[1]))
    if top_c[0] > 0.02 and top_c[1] < 0.0 and hair_c[0] <= 0.005:
        # (A blue top and hair that is not blue: its strap in deep shadow has little of the blue's chroma, but lies
        # well on the top's side of the way from the hair's chroma to the top's, and near that way. No hair is.)
        axis = top_c - hair_c
        along = ((cb - hair_c[0]) * axis[0] + (cr - hair_c[1]) * axis[1]) / float(axis @ axis)
        off = np.abs((cb - hair_c[0]) * axis[1] - (cr - hair_c[1]) * axis[0]) / float(np.hypot(*axis))
        found |= low & (along > 0.35) & (off < 0.02)
    return _hair_to_top(parse, found, low)


def _unlike_hair(parse: np.ndarray, person: np.ndarray) -> np.ndarray:
    """``parse`` with the hair below the chin in a colour that is neither the hair's (above the chin) nor the
    skin's, a clearly coloured one (a red ribbed collar the parse took for hair), given to the top. Told by chroma:
    dark, grey and greying hair has little, and the hair's own colour (dyed, red, blonde) is the reference."""
    split = _hair_by_chin(parse)
    if split is None or split[0].sum() < 30:
        return parse
    face, high, low = split
    if high.sum() < 30 or low.sum() < 10:
        return parse
    cb, cr = _chroma(person)
    hair_c = _median_chroma(cb, cr, high)
    spread = max(1.4826 * float(np.median(np.hypot(cb[high] - hair_c[0], cr[high] - hair_c[1]))), 0.02)
    unlike = (np.hypot(cb - hair_c[0], cr - hair_c[1]) > max(0.08, 3.0 * spread)) & _vivid(cb, cr, face)
    return _hair_to_top(parse, low & unlike, low)


def _vivid(cb: np.ndarray, cr: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pixels of a clear colour (chroma ``cb``, ``cr`` over 0.08) far (over 0.08) from the median chroma of the
    ``reference`` pixels (the face's skin): a red rib, not skin lit or in shade, nor grey."""
    median = _median_chroma(cb, cr, reference)
    return (np.hypot(cb - median[0], cr - median[1]) > 0.08) & (np.hypot(cb, cr) > 0.08)


def _reaching(mask: np.ndarray, row: float) -> np.ndarray:
    """The pieces of ``mask`` that reach below ``row``."""
    pieces, count = ndimage.label(mask)
    if count == 0:
        return mask
    low = np.unique(pieces[int(np.clip(np.ceil(row), 0, mask.shape[0])):])
    return np.isin(pieces, low[low > 0])


def _beyond_bare_arms(bare_skin: list[np.ndarray], body: _Body, person: np.ndarray, backdrop: np.ndarray,
                      candidates: np.ndarray) -> np.ndarray:
    """Of ``candidates``, the pixels beyond a bare arm of the photo (``bare_skin``, per side: in the arm's rows,
    further from the body's middle than the arm's inner edge) whose colour is the backdrop's there or a blend of it
    and the arm's skin nearest."""
    height, width = candidates.shape
    out = np.zeros((height, width), bool)
    if not candidates.any():
        return out
    columns = np.arange(width)[None, :]
    beyond = np.zeros((height, width), bool)
    for side, arm in enumerate(bare_skin):
        if arm.sum() < 30:
            continue
        rows = arm.sum(1) >= 2
        if body.shoulder[side][0] >= body.neck[0]:
            inner = np.where(arm, columns, width).min(1)
            beyond |= rows[:, None] & (columns > inner[:, None])
        else:
            inner = np.where(arm, columns, -1).max(1)
            beyond |= rows[:, None] & (columns < inner[:, None])
    where = candidates & beyond
    if not where.any():
        return out
    box = ndimage.find_objects(_dilate(where, 4).astype(np.uint8))[0]
    _, (rows, cols) = ndimage.distance_transform_edt(~(bare_skin[0] | bare_skin[1])[box], return_indices=True)
    _, off, _ = _on_segment(person[box], backdrop[box], person[box][rows, cols])
    out[box] = where[box] & (off < BEYOND_OFF)
    return out


def _on_segment(here: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each colour of ``here`` lies on the segment from ``start`` to ``end`` (per pixel, ``(H, W, 3)`` each):
    the fraction ``t`` along it (0-1), the distance ``off`` from it, and the segment's length: a blend of the two
    colours (an anti-aliased edge) is on it."""
    span = end - start
    t = np.clip(((here - start) * span).sum(2) / np.maximum((span * span).sum(2), 1e-6), 0.0, 1.0)
    off = np.linalg.norm(here - (start + t[..., None] * span), axis=2)
    return t, off, np.linalg.norm(span, axis=2)


def _foreign_root(garment: np.ndarray, sleeve: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """The pixels at a sleeve's root (the product's sleeve part within a few percent of the image width of its torso
    part, a square's reach) in colours its body (the rest of it) does not have: a colour-blocked band of the torso
    reaching past a dropped shoulder's seam line, which laid over the body's torso drew wedges of the band at the
    armholes."""
    reach = max(3, int(round(0.06 * garment.shape[1])))
    near = _dilate(torso, reach)  # (a square's reach: cheaper than the exact distance, as good here)
    root, body = sleeve & near, sleeve & ~near
    if not root.any() or body.sum() < 50:
        return np.zeros(sleeve.shape, bool)
    density = _colour_density(garment, body)[_colour_bins(garment)]
    # (A plain sleeve only, most of it in a few colours: a print's sleeve has every colour rare. And a block of
    # another colour, not its specks.)
    if float(np.mean(density[body] > 0.02)) < 0.88:
        return np.zeros(sleeve.shape, bool)
    # (Far from the sleeve's own colour, not its light and shade; with the pixel blended between the two at the
    # block's edge, which would line it.)
    tone = np.median(garment[body], axis=0)
    foreign = root & (density < 1e-3) & (np.linalg.norm(garment - tone, axis=2) > 0.35)
    foreign = _dilate(~_dilate(~foreign, 2), 2) & foreign
    pieces, count = ndimage.label(foreign)
    if count:  # (a block, not a label's or a highlight's patch)
        sizes = np.bincount(pieces.ravel(), minlength=count + 1)
        foreign = (sizes >= 0.015 * sleeve.sum())[pieces] & foreign
    return _dilate(foreign, 1) & root


def _joined_in_hue(cb: np.ndarray, cr: np.ndarray, pixels: np.ndarray, garment: np.ndarray, face: np.ndarray,
                   sw: float) -> np.ndarray:
    """Of ``pixels`` (what the parse gave a bare arm), those joined to ``garment`` (an old garment of a colour) and
    in its hue rather than the face's skin's: a strip of the garment in shadow beside the arm, which may have nearly
    the chroma of the skin but not its hue (the angle of the chroma, which shading leaves alone). None when the
    garment's hue is near the skin's or its colour faint (a grey, a white)."""
    def hue_of(where):  # (the mean hue of those pixels, round the circle)
        return np.angle(np.mean(np.exp(1j * np.arctan2(cr[where][::4], cb[where][::4]))))

    def apart(a, b):  # (degrees between two hues, round the circle)
        return np.degrees(np.abs(np.angle(np.exp(1j * (a - b)))))

    garment_hue, skin_hue = hue_of(garment), hue_of(face)
    candidates = pixels & _dilate(garment, max(2, int(round(0.05 * sw)))) & (np.hypot(cb, cr) > 0.05)
    if not (candidates.any() and apart(garment_hue, skin_hue) > 15.0
            and float(np.median(np.hypot(cb, cr)[garment][::4])) > 0.08):
        return np.zeros(pixels.shape, bool)
    hue = np.arctan2(cr[candidates], cb[candidates])
    hued = np.zeros(pixels.shape, bool)
    hued[candidates] = apart(hue, garment_hue) + 5.0 < apart(hue, skin_hue)
    joined = ndimage.binary_propagation(garment & _dilate(hued, 1), mask=hued | garment)
    return joined & hued


def _luminance(image: np.ndarray) -> np.ndarray:
    return image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114


PRINT_TEXTURE = (0.06, 0.14)  # median local spread of a region's luminance: a plain fabric's to a print's


def _shading(person: np.ndarray, classes: list[np.ndarray], sw: float, strength: float) -> np.ndarray:
    """The photo's relative shading (1 = the local mean) inside each class region, 1 elsewhere.

    Within a class (the old garment, bare skin), the luminance (thin dark lines closed over) smoothed over a few
    pixels (print and noise out) over
    its local mean (a wide window, the region's own pixels only): folds and the light's fall-off, not the colour. A
    patterned region (a high spread of that ratio: prints, stripes, leopard) passes on less of it, and a region whose
    texture is a print (a high local spread of its luminance) less still.
    """
    raw = _luminance(person)
    texture = _local_spread(raw)
    luminance = raw + 0.04
    # Thin dark lines (seams, a rib along a neckline, stitching, print strokes) closed over: no fold is that thin.
    size = max(3, int(round(0.03 * sw)) | 1)
    luminance = ndimage.minimum_filter(ndimage.maximum_filter(luminance, size), size)
    shade = np.ones(luminance.shape, np.float32)
    for region in classes:
        if region.sum() < 50:
            continue
        plain = _plain(person, region)  # the region's main colour: a print of other hues is no fold
        fine = _masked_mean(luminance, plain, max(2.0, 0.035 * sw))  # folds, not print strokes
        broad = _masked_mean(luminance, plain, 0.25 * sw)
        ratio = np.where(region, fine / np.maximum(broad, 1e-3), 1.0)
        log_ratio = np.log(np.clip(ratio, 0.4, 2.0))
        spread = float(np.std(log_ratio[region]))
        weight = strength * float(np.clip(0.08 / max(spread, 1e-3), 0.15, 1.0))
        # (A print's large patches (a zebra's, a leopard's) outlast that closing and read as folds: a region whose
        # own texture is a print, a high local spread of its luminance, passes on little.)
        weight *= float(np.clip((PRINT_TEXTURE[1] - np.median(texture[region]))
                                / (PRINT_TEXTURE[1] - PRINT_TEXTURE[0]), 0.25, 1.0))
        shade = np.where(region, np.exp(weight * np.clip(log_ratio, -0.45, 0.12)), shade)
    return shade.astype(np.float32)


#: Half-widths along a bare limb, in shoulder-keypoint widths: (fraction along the limb, half-width). The knee and
#: elbow sit at their own fraction (their keypoints), replaced in at run time.
ARM_PROFILE = ((0.0, 0.13), ("joint", 0.095), (0.75, 0.1), (1.0, 0.07))
LEG_PROFILE = ((0.0, 0.22), ("joint", 0.14), (0.72, 0.155), (1.0, 0.085))
EDGE_SHADE = 0.3  # how much darker made-up torso skin is at the body's outline on the backdrop than inside
EDGE_REACH = 0.1  # over how far in (shoulder widths) that fall-off fades
ARM_INNER_SHADE = 0.3  # how much darker a made-up arm's inner edge is than its outer one (of its lit middle)


JOIN_SHOWN = 0.4  # a bare leg below the old garment tells where its middle is when this long (shoulder widths)


#: How much darker made-up torso skin is at the sides of the torso's outline than in its middle (squared falloff).
TORSO_ROUND = 0.25


def _torso_round(outline: _Outline, xx: np.ndarray, sw: float) -> np.ndarray:
    """Per pixel, the light (1 in the middle, 1 - TORSO_ROUND at the sides and beyond) of a round torso whose outline
    is ``outline`` in each row (its nearest row above or below it; 1 where the outline is not known)."""
    left, right = outline.rows(np.arange(xx.shape[0]))
    known = np.isfinite(left) & np.isfinite(right)
    middle = np.where(known, 0.5 * (left + right), 0.0)
    half = np.where(known, np.maximum(0.5 * (right - left), 0.2 * sw), 1.0)
    across = np.clip(np.abs(xx - middle) / half, 0.0, 1.0)
    return np.where(known, 1.0 - TORSO_ROUND * across**2, 1.0).astype(np.float32)


#: How much darker made-up skin is right below the new garment's edge, and over how far (shoulder widths) that
#: fades; beside the edge half as dark, fading over CONTACT_BESIDE.
CONTACT_SHADE = 0.25
CONTACT_REACH = 0.05
CONTACT_BESIDE = 0.015


def _contact_shadow(garment: np.ndarray, sw: float) -> np.ndarray:
    """The shade (0 to 1) the ``garment``'s edge casts on what lies right below it (light from above: 1 right under
    the edge, falling off squared over CONTACT_REACH shoulder widths) and, half as much, right beside it."""
    reach = max(2, int(round(CONTACT_REACH * sw)))
    shadow = np.zeros(garment.shape, np.float32)
    for drop in range(1, min(reach, garment.shape[0] - 1) + 1):
        below = np.zeros(garment.shape, bool)
        below[drop:] = garment[:-drop]
        shadow = np.maximum(shadow, below * (1.0 - (drop - 1) / reach) ** 2)
    beside = np.clip(1.0 - (_edt(~garment) - 1.0) / max(1.0, CONTACT_BESIDE * sw), 0.0, 1.0)
    return np.where(garment, 0.0, np.maximum(shadow, 0.5 * beside)).astype(np.float32)


def _leg_joins(body: _Body, size: tuple[int, int], legs_skin: np.ndarray
               ) -> list[tuple[float, float, float] | None]:
    """Per leg: where the photo's bare leg starts below the old garment (fraction along the leg's bones), its
    half-width there and how far its middle lies off the bones (pixels, across them), or None where no bare leg
    shows."""
    sw = body.width
    out: list[tuple[float, float, float] | None] = []
    fields = [_chain_fields(body.leg_chain(side), side, size) for side in (0, 1)]
    for side in (0, 1):
        along, across, length = fields[side]
        near = legs_skin & (np.abs(across) < 0.3 * sw) & (along > 0) & (along < length)
        if near.sum() < 30:
            out.append(None)
            continue
        values = along[near]
        start = float(np.percentile(values, 2))
        band = near & (along >= start) & (along <= start + 0.08 * sw)
        if band.sum() < 10:
            out.append(None)
            continue
        # (Its middle only where a good length of it shows: an ankle's patch of skin above a shoe says little, and
        # there the width is read about the bones.)
        own = band & (np.abs(across) <= np.abs(fields[1 - side][1]))
        if float(np.percentile(values, 98)) - start >= JOIN_SHOWN * sw and own.sum() >= 10:
            # (Nearer this leg's bones than the other's: legs together, the other knee was counted too, and the
            # made-up thighs were one block out to the old garment's outline.)
            low, high = np.percentile(across[own], [2, 98])
            out.append((start / max(length, 1.0), float(0.5 * (high - low)), float(0.5 * (high + low))))
        else:
            out.append((start / max(length, 1.0), float(np.percentile(np.abs(across[band]), 96)), 0.0))
    return out


def _arm_scale(parse: np.ndarray, body: _Body) -> float | None:
    """How wide the photo's arms are against the anatomical profile (``ARM_PROFILE``): from each bone's middle out
    to the backdrop on the arm's outer side (its inner side may lie along the torso), median over both arms' upper
    arms and forearms; None where fewer than three of them show an outer edge."""
    background = parse == labels.BACKGROUND
    height, width = parse.shape
    sw = body.width
    ratios = []
    for side in (0, 1):
        chain = body.arm_chain(side)
        for index, (start, end) in enumerate(zip(chain[:-1], chain[1:])):
            expected = (ARM_PROFILE[0][1] if index == 0 else ARM_PROFILE[2][1]) * sw
            normal = _outer_normal(_unit(end - start, np.array([0.0, 1.0])), side)
            reach = []
            for fraction in np.linspace(0.2, 0.8, 7):
                point = start + fraction * (end - start)
                for step in range(1, int(0.4 * sw)):
                    x, y = (point + step * normal).astype(int)
                    if not (0 <= x < width and 0 <= y < height) or background[y, x]:
                        reach.append(step)
                        break
            if len(reach) >= 4:
                ratios.append(float(np.median(reach)) / expected)
    return float(np.median(ratios)) if len(ratios) >= 3 else None


JOIN_REACH = 0.12  # how far into a made-up limb (shoulder widths) the photo's skin tone at the join carries


def _match_at_joins(skin: np.ndarray, person: np.ndarray, joins: np.ndarray, made: np.ndarray, tones: list,
                    target: np.ndarray, limb_cover: list[np.ndarray], sw: float) -> np.ndarray:
    """``skin`` with the made-up limbs (``made``) toned to meet the photo's skin at ``joins`` (the real skin right
    beside them): the ratio of the photo's colours there to the tone the made-up limb would have there (``tones``:
    the arms' and the legs' tone functions of the relative shading ``target``), spread by a normalised blur and faded
    out over ``JOIN_REACH`` shoulder widths into the limb."""
    reach = JOIN_REACH * sw
    pad = int(reach) + 2
    rows, cols = np.flatnonzero((made | joins).any(1)), np.flatnonzero((made | joins).any(0))
    box = (slice(max(0, rows[0] - pad), rows[-1] + pad + 1), slice(max(0, cols[0] - pad), cols[-1] + pad + 1))
    here, inside = joins[box], made[box]
    legs = limb_cover[1][box] > limb_cover[0][box]
    ideal = np.zeros((*here.shape, 3), np.float32)
    for tone, where in ((tones[0], here & ~legs), (tones[1], here & legs)):
        if where.any():
            ideal[where] = tone(target[box][where])
    weight = here.astype(np.float32)
    sigma = 0.04 * sw
    spread = _blur_fast(weight, sigma)
    real = _blur_fast((person[box] * weight[..., None]).astype(np.float32), sigma)
    made_up = _blur_fast(ideal * weight[..., None], sigma)
    gain = np.clip(real / np.maximum(made_up, 1e-3), 0.7, 1.4)
    distance = _edt(~here)
    trust = (np.clip(1.0 - distance / reach, 0.0, 1.0) * np.clip(spread / 0.01, 0.0, 1.0))[..., None]
    out = skin.copy()
    part = out[box]
    part[inside] = (part * (1.0 + (gain - 1.0) * trust))[inside]
    return out


def _bare_limbs(body: _Body, size: tuple[int, int], build: float,
                leg_joins: list[tuple[float, float, float] | None] | None = None,
                arm_scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Made-up bare arms and legs: per kind (``[arms, legs]``), the soft coverage of tapered limbs along the bones
    (anatomical half-widths, scaled by the body's ``build``, and for a leg whose bare part shows below the old
    garment, ``leg_joins``, by what its width there says) and their round shading (a cylinder lit from the front: 1
    on the bone, darker to the sides; an arm darker still on its side towards the body)."""
    height, width = size
    cover = np.zeros((2, height, width), np.float32)
    shade = np.ones((2, height, width), np.float32)
    sw = body.width
    kinds = (([body.arm_chain(0), body.arm_chain(1)], ARM_PROFILE), ([body.leg_chain(0), body.leg_chain(1)],
                                                                     LEG_PROFILE))
    for kind, (chains, profile) in enumerate(kinds):
        for side, chain in enumerate(chains):
            along, across, length = _chain_fields(chain, side, size)
            joint = float(np.hypot(*(chain[1] - chain[0]))) / max(length, 1.0)
            knots = [(joint if f == "joint" else f, h) for f, h in profile]
            t = np.clip(along / max(length, 1.0), 0, 1)
            # (Arms vary less with the build than the legs do: half its effect; or as wide as the photo's arms show.)
            scale = build if kind else (build**0.5 if arm_scale is None else arm_scale)
            half = np.interp(t, [k[0] for k in knots], [k[1] for k in knots]) * sw * scale
            join = leg_joins[side] if kind == 1 and leg_joins is not None else None
            if join is not None:  # (as wide as the photo's leg where the two meet: no step at the old hem)
                expected = float(np.interp(join[0], [k[0] for k in knots], [k[1] for k in knots])) * sw * build
                half = half * float(np.clip(join[1] / max(expected, 1.0), 0.8, 1.6))
                # (And on its middle there, the hip's end on the bones: a leg the pose puts a little off its middle
                # met the made-up one with a step on one side.)
                shift = float(np.clip(join[2], -0.1 * sw, 0.1 * sw))
                across = across - shift * np.clip(t / max(join[0], 1e-3), 0.0, 1.0)
            # (Legs run on past the ankles to the feet, which are kept in front where the photo shows them.)
            # (Arms run on under the hands, which are kept in front: no gap at the wrist.)
            inside = (along >= -0.02 * sw) & (along <= length + 0.2 * sw)
            distance = np.abs(across)
            if kind == 0:  # the shoulder's round cap above the joint (the deltoid)
                cap = along < 0
                distance = np.where(cap, np.hypot(along, across), distance)
                inside |= cap & (along >= -half)
            coverage = np.clip(0.5 * (half - distance) + 0.5, 0, 1) * inside  # a 2-pixel soft edge
            u = np.clip(np.abs(across) / np.maximum(half, 1e-3), 0, 1)
            better = coverage > cover[kind]
            cover[kind] = np.where(better, coverage, cover[kind])
            # (An arm's side towards the body is in its shadow: darker than its outer side, as the photos' are.)
            inner = np.clip(-across / np.maximum(half, 1e-3), 0, 1) if kind == 0 else 0.0
            shade[kind] = np.where(better, 1.0 - 0.3 * u**2 - ARM_INNER_SHADE * inner**2, shade[kind])
    return cover, shade


def _limb_shading(xx: np.ndarray, yy: np.ndarray, chains: list[list[np.ndarray]], radii: list[tuple[float, float]]
                  ) -> np.ndarray:
    """Round-limb shading: 1 on a bone, darker towards the limb's sides (a cylinder lit from the front)."""
    shade = np.ones(xx.shape, np.float32)
    for chain, (first, second) in zip(chains, radii):
        distance = np.full(xx.shape, np.inf, np.float32)
        for index, (start, end) in enumerate(zip(chain[:-1], chain[1:])):
            radius = first if index == 0 else second
            box = _segment_box(start, end, radius, xx.shape)
            if box is not None:
                distance[box] = np.minimum(distance[box], _capsule_distance(xx[box], yy[box], start, end) / radius)
        shade = np.minimum(shade, np.where(distance < 1.0, 1.0 - 0.28 * distance**2, 1.0))
    return shade


_NOISE: dict[tuple[int, int], np.ndarray] = {}


def _grain(person: np.ndarray, reference: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fine noise with the photo's own grain (the spread of its skin's finest detail: the luminance minus its
    4-neighbour mean), so that made-up skin is not smoother than the real one. Deterministic (a fixed pattern)."""
    if reference.sum() < 30:
        return np.zeros((*size, 1), np.float32)
    luminance = _luminance(person)
    neighbours = 0.25 * (np.roll(luminance, 1, 0) + np.roll(luminance, -1, 0) + np.roll(luminance, 1, 1)
                         + np.roll(luminance, -1, 1))
    # (A robust spread: the edges inside the reference, eyes, brows, hair strands, are no grain of the skin.)
    detail = (luminance - neighbours)[reference]
    spread = float(np.clip(0.4 * 1.4826 * np.median(np.abs(detail - np.median(detail))), 0.0, 0.008))
    noise = _NOISE.get(size)
    if noise is None:
        noise = _blur(np.random.default_rng(0).normal(0.0, 1.0, size).astype(np.float32), 0.6)
        noise /= max(float(noise.std()), 1e-6)
        _NOISE[size] = noise
    return (spread * noise)[..., None]


def _plain(image: np.ndarray, region: np.ndarray, tolerance: float = 0.03) -> np.ndarray:
    """The pixels of ``region`` that have its main hue (chromaticity within ``tolerance`` of its median; lit or in
    shadow alike), or the whole region when under a third of it has (a print of many hues)."""
    total = image.sum(2, keepdims=True) + 1e-3
    chroma = image[..., :2] / total
    main = np.median(chroma[region], axis=0)
    plain = region & (np.abs(chroma - main).max(axis=2) < tolerance)
    return plain if plain.sum() >= 0.3 * region.sum() else region


DARK_LIGHT = (0.2, 0.4)  # luminance of a garment's main colour: from none to all of its light on made-up skin


def _broad_light(person: np.ndarray, region: np.ndarray, sw: float) -> np.ndarray:
    """The photo's light over ``region`` relative to its mean there (1 elsewhere): the luminance of the region's
    own main colour (prints of other hues left out) averaged over a tenth of the shoulder width (folds out) over its
    average over half of it. On a dark garment (black, navy) that light says little (the glints and silver of a
    print, noise over a low level), so less of it is passed on: none below a luminance of ``DARK_LIGHT[0]``, all of it
    above ``DARK_LIGHT[1]``."""
    light = np.ones(region.shape, np.float32)
    if region.sum() < 50:
        return light
    luminance = _luminance(person) + 0.04
    plain = _plain(person, region)
    near = _masked_mean(luminance, plain, 0.1 * sw)
    far = _masked_mean(luminance, plain, 0.5 * sw)
    ratio = np.clip(near / np.maximum(far, 1e-3), 0.6, 1.3)
    level = float(np.median(luminance[plain]))
    trust = float(np.clip((level - DARK_LIGHT[0]) / (DARK_LIGHT[1] - DARK_LIGHT[0]), 0.0, 1.0))
    return np.where(region, 1.0 + trust * (ratio - 1.0), 1.0).astype(np.float32)


def _local_spread(luminance: np.ndarray, size: int = 5) -> np.ndarray:
    """The standard deviation of ``luminance`` over a ``size`` x ``size`` window: low on skin and plain fabric, high on
    a print, at an edge."""
    if _cv2 is not None:  # (OpenCV's box mean, edges mirrored as SciPy's: several times faster)
        luminance = np.ascontiguousarray(luminance, np.float32)
        mean = _cv2.blur(luminance, (size, size), borderType=_cv2.BORDER_REFLECT)
        square = _cv2.blur(luminance * luminance, (size, size), borderType=_cv2.BORDER_REFLECT)
    else:
        mean = ndimage.uniform_filter(luminance, size)
        square = ndimage.uniform_filter(luminance * luminance, size)
    return np.sqrt(np.maximum(square - mean * mean, 0.0))


#: A made-up thigh goes on up from the photo's own leg below the old hem: as wide as the leg's top (over LEG_TOP
#: shoulder widths down from where the bare leg starts), widening up towards the hip as legs do (LEG_PROFILE), with
#: the leg's cross-section (its colours from one side to the other, in SECTION_BINS steps) read from LEG_SECTION[0] to
#: LEG_SECTION[1] below where it starts (the hem's shadow right below it left out).
LEG_SECTION = (0.04, 0.3)
LEG_TOP = 0.08
SECTION_BINS = 12


@dataclass
class _Thigh:
    """A made-up thigh above the photo's bare leg (coordinates along and across the leg's bones, see
    :func:`_chain_coordinates`)."""

    along: np.ndarray
    across: np.ndarray
    zone: np.ndarray  # bool (H, W): the old garment's pixels about this leg, where it is made up
    middle: float  # the leg's middle across its bones at the join
    half: np.ndarray  # (H, W) its half-width at each pixel's height along the bones
    start: float  # where along the bones the photo's bare leg starts
    section: np.ndarray  # (SECTION_BINS, 3) the photo's leg's colours across it, from its inner side to its outer
    known: np.ndarray  # bool (SECTION_BINS,): where the section was seen
    real: np.ndarray  # bool (H, W): the photo's bare leg


def _section_at(thigh: _Thigh, where: np.ndarray) -> np.ndarray:
    """The thigh's cross-section at the ``where`` pixels' fractions across it (N, 3)."""
    v = np.clip((thigh.across[where] - thigh.middle) / np.maximum(thigh.half[where], 1.0), -1.0, 1.0)
    centres = (np.arange(SECTION_BINS) + 0.5) / SECTION_BINS * 2.0 - 1.0
    return np.stack([np.interp(v, centres[thigh.known], thigh.section[thigh.known, c]) for c in range(3)], -1)


def _thighs(person: np.ndarray, legs_skin: np.ndarray, old: np.ndarray, skin_like: np.ndarray, body: _Body,
            size: tuple[int, int]) -> list[_Thigh]:
    """The legs to make up above the photo's bare legs (``legs_skin``) where the old garment (``old``) hid them
    (``skin_like``: the pixels in the colours of the photo's skin)."""
    sw = body.width
    fields = [_chain_fields(body.leg_chain(side), side, size) for side in (0, 1)]
    step = max(2.0, 0.02 * sw)  # (the leg's edges per slice of this length along the bones)
    out = []
    for side in (0, 1):
        chain = body.leg_chain(side)
        if len(chain) < 3:
            continue
        along, across, length = fields[side]
        mine = (np.abs(across) <= np.abs(fields[1 - side][1])) & (np.abs(across) < 0.3 * sw)
        real = legs_skin & mine & (along > 0) & (along < length)
        if real.sum() < 50:
            continue
        start = float(np.percentile(along[real], 2))
        if float(np.percentile(along[real], 98)) - start < JOIN_SHOWN * sw:
            continue  # (an ankle's patch of skin above a shoe: too little of a leg to go on from)
        # (Below where it starts, skin the parse gave the old garment is the leg: a strip down its inner side.)
        real |= old & skin_like & mine & (along > start) & (along < length)
        # (From the hip down, as the made-up legs are, to a little below where the bare leg starts: a strip of it the
        # parse gave the old garment there was a notch of backdrop in it.)
        zone = mine & old & (along >= -0.02 * sw) & (along < start + LEG_TOP * sw)
        band = real & (along >= start + LEG_SECTION[0] * sw) & (along <= start + LEG_SECTION[1] * sw)
        top = real & (along <= start + LEG_TOP * sw)
        if not zone.any() or top.sum() < 20 or band.sum() < 50:
            continue
        # (Per slice across the leg, its outermost pixels; each side as far out as the leg's top reaches, but for a
        # stray slice: measured lower, where a leg narrows from the thigh to the knee, the made-up thigh was
        # narrower than the leg right below the hem, a step at the join.)
        index = np.floor(along[top] / step).astype(np.int64)
        first = index.min()
        index -= first
        low = np.full(index.max() + 1, np.inf)
        high = np.full(index.max() + 1, -np.inf)
        np.minimum.at(low, index, across[top])
        np.maximum.at(high, index, across[top])
        found = np.isfinite(low) & (high - low >= 0.05 * sw)
        if found.sum() < 2:
            continue
        low_x, high_x = float(np.percentile(low[found], 10)), float(np.percentile(high[found], 90))
        if high_x - low_x < 0.05 * sw:
            continue
        knee = float(np.hypot(*(chain[1] - chain[0]))) / max(length, 1.0)
        knots = [(knee if f == "joint" else f, h) for f, h in LEG_PROFILE]
        t_join = start / max(length, 1.0)
        profile = np.interp(np.clip(along / max(length, 1.0), 0, 1), [k[0] for k in knots], [k[1] for k in knots])
        at_join = float(np.interp(t_join, [k[0] for k in knots], [k[1] for k in knots]))
        widen = np.clip(profile / max(at_join, 1e-6), 1.0, 1.6)
        middle, half = 0.5 * (low_x + high_x), 0.5 * (high_x - low_x) * widen
        u = np.clip((across[band] - middle) / np.maximum(half[band], 1.0), -1.0, 1.0)
        bins = np.clip(((u + 1.0) * 0.5 * SECTION_BINS).astype(np.int64), 0, SECTION_BINS - 1)
        counts = np.bincount(bins, minlength=SECTION_BINS)
        known = counts >= 5
        if known.sum() < SECTION_BINS // 2:
            continue
        pixels = person[band]
        section = np.array([np.median(pixels[bins == k], axis=0) if known[k] else np.zeros(3) for k in
                            range(SECTION_BINS)], np.float32)
        out.append(_Thigh(along, across, zone, middle, half, start, section, known, real))
    return out


def _thigh_cover(thighs: list[_Thigh], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The made-up thighs' soft coverage (a two-pixel soft edge) and where it is said (their zones)."""
    cover = np.zeros(size, np.float32)
    zone = np.zeros(size, bool)
    for thigh in thighs:
        here = np.clip(0.5 * (thigh.half - np.abs(thigh.across - thigh.middle)) + 0.5, 0.0, 1.0)
        cover = np.where(thigh.zone, np.maximum(cover, here), cover)
        zone |= thigh.zone
    return cover, zone


def _thigh_colours(thighs: list[_Thigh], skin: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``skin`` with the made-up thighs' pixels (``where``) in the photo's leg's cross-section at the same fraction
    across: a thigh of one carried colour per column was a flat patch (skin-coloured boots); the leg's own light
    across it (darker at its sides, its highlight where the photo has it) goes on up."""
    skin = skin.copy()
    for thigh in thighs:
        target = where & thigh.zone
        if target.any():
            skin[target] = _section_at(thigh, target)
    return skin


#: The made-up thigh fades into the photo's leg below the old hem over this many shoulder widths (the photo's leg's
#: top, in the hem's shadow and with the hem's blend in its outline, met the made-up thigh in a line).
JOIN_LIFT = 0.12


def _thigh_joins(thighs: list[_Thigh], result: np.ndarray, legs: np.ndarray, sw: float) -> np.ndarray:
    """``result`` with each made-up thigh going on into the photo's leg (``legs``: where the result is a leg, made up
    or the photo's): from where the leg starts down to JOIN_LIFT, the leg's cross-section, fully at the join, fading
    to the photo's own pixels further down."""
    result = result.copy()
    for thigh in thighs:
        near = legs & (thigh.zone | thigh.real) & (thigh.along >= thigh.start - 0.03 * sw) & (
            thigh.along < thigh.start + JOIN_LIFT * sw) & (np.abs(thigh.across - thigh.middle) < thigh.half)
        if not near.any():
            continue
        weight = np.clip(1.0 - (thigh.along[near] - thigh.start) / (JOIN_LIFT * sw), 0.0, 1.0)[:, None]
        result[near] = weight * _section_at(thigh, near) + (1.0 - weight) * result[near]
    return result


def _skin_above(skin: np.ndarray, hole: np.ndarray, sw: float) -> np.ndarray:
    """The ``skin`` pixels with ``hole`` right below them (a little down, the edge's blend left out)."""
    reach = max(3, int(round(0.06 * sw)))
    below = np.zeros_like(hole)
    for d in range(2, reach + 1):
        below[:-d] |= hole[d:]
    near = np.zeros_like(hole)
    near[:-1] |= hole[1:]
    return skin & below & ~near


def _extended_down(image: np.ndarray, source: np.ndarray, hole: np.ndarray, sw: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The colours of the ``source`` pixels carried down over ``hole`` (a blur normalised by the source's weight,
    narrow across and long downward: each column's colour goes on down, its neighbours' mixed in a little), and how
    much of the source reached each pixel (0 to 1; 1 where a sixth of the blur's peak weight did). Both are computed at
    a quarter of the resolution, in the box from the source's top to the hole's bottom over the hole's columns (zero
    outside it): a colour carried that far is smooth at that scale."""
    colour = np.zeros(image.shape, np.float32)
    trust = np.zeros(image.shape[:2], np.float32)
    if not source.any() or not hole.any():
        return colour, trust
    sigma_x, sigma_y = max(1.0, 0.08 * sw), max(2.0, 0.5 * sw)
    rows = np.flatnonzero((source | hole).any(1))
    cols = np.flatnonzero(hole.any(0))
    reach = int(3 * sigma_x) + 1
    box = (slice(rows[0], rows[-1] + 1), slice(max(0, cols[0] - reach), cols[-1] + reach + 1))
    known = source[box].astype(np.float32)
    weight = _halve(_halve(known))
    carried = _halve(_halve(image[box].astype(np.float32) * known[..., None]))
    for axis, sigma in ((0, sigma_y / 4), (1, sigma_x / 4)):
        weight = ndimage.gaussian_filter1d(weight, sigma, axis=axis, mode="constant", truncate=3.0)
        carried = ndimage.gaussian_filter1d(carried, sigma, axis=axis, mode="constant", truncate=3.0)
    carried = carried / np.maximum(weight, 1e-6)[..., None]
    shape = known.shape
    colour[box] = _resize(carried, shape)
    trust[box] = np.clip(_resize(weight / max(float(weight.max()) / 6, 1e-6), shape), 0.0, 1.0)
    return colour, trust


def _skin_tones(person: np.ndarray, reference: np.ndarray):
    """The skin's colour as a function of its relative brightness, fitted on ``reference`` pixels: ``tone(s)`` is the
    colour of that skin at ``s`` times its median luminance (an ``(H, W)`` array of ``s`` -> ``(H, W, 3)``)."""
    if reference.sum() < 30:
        fixed = np.array([0.85, 0.65, 0.55], np.float32)
        return lambda s: (fixed * s[..., None]).astype(np.float32)
    pixels = person[reference].astype(np.float64)
    luminance = _luminance(pixels)
    median_l = float(np.median(luminance))
    median_c = np.median(pixels, axis=0)
    spread = luminance - median_l
    variance = float(np.mean(spread**2))
    proportional = median_c / max(median_l, 1e-3)  # the colour scaled with the light
    if variance > 1e-4 and len(luminance) >= 100:
        slope = (spread[:, None] * (pixels - pixels.mean(0))).mean(0) / variance
        slope = np.clip(slope, 0.5 * proportional, 1.5 * proportional)
    else:
        slope = proportional
    median_c, slope = median_c.astype(np.float32), (slope * median_l).astype(np.float32)
    return lambda s: median_c + slope * (s[..., None].astype(np.float32) - 1.0)


def _skin_colour(person: np.ndarray, parse: np.ndarray, skin_pixels: np.ndarray) -> np.ndarray:
    """The person's skin tone for made-up limbs: the median RGB of the face's and the hands' skin (the hands: the
    limbs' own tone and light), else of the bare skin given, else a neutral skin tone."""
    tones = []
    for where in (skin_pixels & (parse == labels.FACE), skin_pixels & np.isin(parse, labels.HAND_LABELS)):
        if where.sum() >= 30:
            tones.append(np.median(person[where], axis=0))
    if tones:
        return np.mean(tones, axis=0)
    if skin_pixels.sum() >= 30:
        return np.median(person[skin_pixels], axis=0)
    return np.array([0.85, 0.65, 0.55])


# --- the model -------------------------------------------------------------------------------------------------------


class TPSBaseline(TryOnModel):
    """Weight-free try-on: garment parts mapped along the pose's bones into the body's outline, shaded, composited."""

    spec = SPEC

    def __init__(self, config: TPSBaselineConfig | None = None) -> None:
        super().__init__(config or TPSBaselineConfig())

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        batch, height, width = self.check_inputs(inputs)
        # Plain numpy from here on: the work is many small steps, where torch's thread pool only adds overhead.
        arrays = {key: value.detach().float().cpu().numpy() for key, value in inputs.items()}
        for key, value in arrays.items():
            if not np.isfinite(value.sum(dtype=np.float64)):  # bounded inputs: finite sum iff every value is
                raise ValueError(f"{self.spec.name} input '{key}' contains NaN or inf")
        garment_masks = arrays["garment_mask"][:, 0] > 0.5
        for index in range(batch):
            if not garment_masks[index].any():
                raise ValueError(f"{self.spec.name} input 'garment_mask' is empty (no garment pixel) in batch item "
                                 f"{index}")
        keypoints = decode_keypoints(inputs["pose"])
        parse = arrays["parse"].argmax(1).astype(np.uint8)
        types_ = np.clip(np.round(arrays["garment_type"].reshape(batch, -1).mean(1) * 3), 1, 3).astype(int)
        outputs = [self._one(arrays["person"][i], arrays["garment"][i], garment_masks[i], parse[i], keypoints[i],
                             CATEGORY_OF_TYPE[int(types_[i])]) for i in range(batch)]
        dtype, device = inputs["person"].dtype, inputs["person"].device
        return {name: torch.from_numpy(np.stack([out[name] for out in outputs])).to(device=device, dtype=dtype)
                for name in self.spec.outputs}

    def _one(self, person_chw: np.ndarray, garment_chw: np.ndarray, garment_mask: np.ndarray, parse: np.ndarray,
             keypoints: np.ndarray, category: str) -> dict[str, np.ndarray]:
        config: TPSBaselineConfig = self.config
        person = (person_chw.transpose(1, 2, 0) + 1) / 2  # [0, 1] (H, W, 3)
        garment = (garment_chw.transpose(1, 2, 0) + 1) / 2
        height, width = parse.shape
        size = (height, width)
        body = _body(keypoints, size)
        sw = body.width
        # (The parse's hair spilt down the neck's sides and the shoulders' outline would stay over a new top: a strap,
        # the old top's rib, a dark band beside the neck.)
        if category != "lower":
            parse = _unlike_hair(_top_coloured_hair(_hair_spill(parse, person, sw), person), person)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        xx += 0.5
        yy += 0.5
        arms = [_limb_zone(xx, yy, body.arm_chain(s), (config.arm_radius * sw, 0.8 * config.arm_radius * sw))
                for s in (0, 1)]
        arm_zone = arms[0] | arms[1]
        # (Of the face and hands, and the photo's light and smoothness: used by the rules below. The bare arms given
        # back below are arm where the parse said top, lower body or backdrop: the face and hands stay as they are.)
        face = parse == labels.FACE
        hands = np.isin(parse, labels.HAND_LABELS)
        luminance = _luminance(person)
        # (The face's brightness, for the rules below that run where the face shows.)
        face_light = float(np.median(luminance[face])) if face.sum() >= 30 else 0.0
        spread = _local_spread(luminance)
        skin_chroma = _skin_chroma(person, face | hands)  # (the face's and hands' chroma)
        skin_box = _chroma_box(person, face | hands) if (face | hands).sum() >= 30 else None
        parse, arms_given_back = _bare_arms_taken_for_the_top(parse, person, arms, category, sw, face | hands,
                                                              luminance, spread, skin_chroma, skin_box)
        outline = _torso_outline(parse, body, arm_zone, config)

        # What of the person is the old garment (what the new one replaces), skin, hair, face, hands.
        skin_labels = (labels.NECK, *labels.ARM_LABELS)
        lower = parse == labels.LOWER_BODY
        skin_reference = np.isin(parse, skin_labels) | (parse == labels.FACE)
        skin_model = _skin_likeness(person, skin_reference)
        legs_skin = lower & skin_model
        # (Bare legs of the face's colours: their shading carries onto a new garment over them. Not the legs found
        # below, whose dark gap between the thighs would print a dark block on a new skirt.)
        legs_like_face = legs_skin
        below_hips = yy > float(body.mid_hip[1])
        # The backdrop seen between the legs (the parse may give it to the garment): nothing to replace there.
        gaps = np.zeros(size, bool)
        background = parse == labels.BACKGROUND
        if category != "upper" and background.sum() >= 100 and all(k is not None for k in body.knee):
            left, right = body.leg_chain(0), body.leg_chain(1)
            between = _polygon([*left[1:], *right[:0:-1]], size) & (yy > float(body.mid_hip[1]) + 0.3 * sw)
            gaps = lower & between & (np.abs(person - _fill(person, background)).max(axis=2) < 0.05)
        if (face | hands).sum() >= 30:
            # Below the hips, bare legs are what has the chroma of the face's and the hands' skin, in the light or in
            # the legs' own shade, and is smooth, whatever the parse called it there (it may give a pale leg to the
            # garment, even to the top). The face's exact colours (the reference above) miss a lit or a shaded leg.
            # (Not much darker than the face, nor much lighter: white jeans have the chroma of dark skin.)
            bright = ((luminance > 0.6 * float(np.median(luminance[face | hands])))
                      & (luminance < float(np.percentile(luminance[face | hands], 95)) + 0.15))
            # (About the legs' bones only: beside them, a white or beige dress can have the chroma of pale skin.)
            legs_zone = (_limb_zone(xx, yy, body.leg_chain(0), (0.3 * sw, 0.22 * sw))
                         | _limb_zone(xx, yy, body.leg_chain(1), (0.3 * sw, 0.22 * sw)))
            skin_like = (np.isin(parse, (labels.LOWER_BODY, labels.UPPER_GARMENT)) & below_hips & legs_zone
                         & skin_box & bright)
            bare = ndimage.binary_opening(skin_like & (spread < 0.05))
            # (Beside the backdrop or the other leg the spread is high: skin right beside that smooth skin is skin
            # too; not further, or the skin-coloured parts of a print would join it.)
            radius = max(1, int(round(0.03 * sw)))
            bare |= skin_like & _dilate(bare, radius)
            # (And the legs' shaded outline and creases, thin lines between that skin and the backdrop or along it:
            # a garment is a broad piece.)
            fabric = np.isin(parse, (labels.LOWER_BODY, labels.UPPER_GARMENT)) & below_hips & ~bare & ~gaps
            solid = ndimage.binary_opening(fabric, iterations=radius)
            thin = fabric & ~_dilate(solid, 1) & _dilate(bare, radius)
            # Legs show below the garment's hem: skin seen through a sheer skirt, above its hem, is the skirt's (the
            # lowest broad piece of garment in each column, shoes left out, is that hem).
            ankles_y = [a[1] for a in body.ankle if a is not None]
            if ankles_y:
                solid &= yy < min(ankles_y) - 0.1 * sw
            rows = np.arange(height)[:, None]
            hem_row = np.where(solid, rows, -1).max(axis=0)
            bare &= rows > hem_row[None, :]
            thin &= rows > hem_row[None, :]
            legs_skin = (legs_skin & ~below_hips) | bare | thin
        feet = np.zeros(size, bool)
        ankles = [a for a in body.ankle if a is not None]
        if ankles:
            feet = yy > max(a[1] for a in ankles) + 0.02 * sw
            # (A foot raised off the ground in a stride is a foot too: below its own ankle.)
            for ankle in ankles:
                if ankle[1] < max(a[1] for a in ankles) - 0.3 * sw:
                    feet |= (yy > ankle[1] + 0.02 * sw) & (np.abs(xx - ankle[0]) < 0.22 * sw)
        if ankles:
            # The old trousers' cuffs reach a little below the ankles (and the other leg passes a raised foot): there,
            # what has their colours is not a shoe.
            ankle_y = max(a[1] for a in ankles)
            cuffs = lower & feet & (yy < ankle_y + 0.1 * sw)
            above = lower & ~legs_skin & ~feet & (yy > min(a[1] for a in ankles) - 0.3 * sw)
            if cuffs.any() and above.sum() >= 30:
                density = _colour_density(person, above)
                feet &= ~(cuffs & (density[_colour_bins(person)] > 8.0 / 4096))
        old_lower = lower & ~legs_skin & ~feet
        # The back of a hand over the lower garment (a hand hanging over a skirt) is the hand's: the parse may give it
        # to the garment behind it and only the fingers to the hand, and replaced, the fingers hung below a gap. Smooth
        # skin of the face's and the hands' colours joined to a hand, within a tenth of the shoulder width of it.
        face_like = _skin_likeness(person, face)  # (colours of the face's skin; used again below)
        # (The same for an arm's edge beside the lower garment, within a little of the arm: replaced, the arm beside
        # a T-shirt's hem lost its edge to the backdrop.)
        limb_skin = np.zeros(size, bool)
        # (An arm's edge in deep shadow has the skin's chroma, not the face's colours.)
        # (Trousers for a skirt only: a new top or dress over the hips covers what lies in front of them but the
        # hands, and an arm's edge kept there drew a line inside a wide sleeve.)
        limbs_seen = [(hands, 0.1, face_like)]
        if category == "lower":
            limbs_seen.append((np.isin(parse, labels.ARM_LABELS), 0.04, face_like | _skin_chroma(person, face)))
        for seen, reach, like in limbs_seen:
            near = lower & _dilate(seen, max(2, int(round(reach * sw)))) & like & ~limb_skin
            if seen.sum() < 10 or not near.any():
                continue
            box = ndimage.find_objects(_dilate(near | seen, 1).astype(np.uint8))[0]
            local = person[box]
            cb, cr = _chroma(local)
            # (Not the garment's own colour: a white dress has the chroma of pale skin, none, but skin has some.)
            garment_tone = np.median(person[lower][::5], axis=0)
            candidate = near[box] & (np.linalg.norm(local - garment_tone, axis=2) > 0.15)
            candidate &= np.hypot(cb, cr) > 0.03
            pieces, _ = ndimage.label(candidate | seen[box])
            limb_skin[box] |= np.isin(pieces, np.unique(pieces[seen[box]])) & candidate
        old_lower &= ~limb_skin
        # The old top never reaches above the base of the neck (a hair bun read as garment is no top).
        old_upper = (parse == labels.UPPER_GARMENT) & (yy > float(body.neck[1]) - 0.35 * sw) & ~legs_skin
        hair = parse == labels.HAIR
        below = yy > float(body.neck[1])
        # Hair is what hangs from the head: parts not joined to the hair above the neck (a black belt) are not.
        pieces, count = ndimage.label(hair)
        if count > 1:
            attached = np.unique(pieces[: max(0, int(body.neck[1]))])
            hair = np.isin(pieces, attached[attached > 0])
        if (hair & below).sum() >= 30 and old_upper.sum() >= 30:
            # Hair over the garment, below the shoulders, that looks like the old top is the old top (black hair,
            # black top): it is replaced with the rest of it.
            distance = np.linalg.norm(np.median(person[hair & below], 0) - np.median(person[old_upper], 0))
            if distance < 0.12:
                old_upper |= hair & below
                hair = hair & ~below
        head_hair = hair & (yy < float(body.neck[1]) - 0.5 * sw)
        if head_hair.sum() >= 30 and old_upper.sum() >= 30:
            # The old top's edge where the parse saw hair (it gave the shaded side of a neck to the hair, and the
            # white rib along it with it): hair pixels right beside the old top, in its colour rather than the
            # hair's, are the old top. Kept as hair, a white tank's rib stayed as a thin line over the skin made up
            # in its place.
            # (And its anti-aliased edge, a blend of its colour and the skin's, a dotted line once the rib went.)
            edge = hair & _dilate(old_upper, 3) & ~old_upper
            if edge.any() and face.sum() >= 30:
                top_tone = np.median(person[old_upper][::4], axis=0)
                hair_tone = np.median(person[head_hair], axis=0)
                colours = person[edge]
                to_top = np.linalg.norm(colours - top_tone, axis=1)
                to_hair = np.linalg.norm(colours - hair_tone, axis=1)
                t, off, length = _on_segment(colours[None], np.median(person[face], axis=0)[None, None],
                                             top_tone[None, None])
                blend = ((t > 0.2) & (off < 0.06) & (length > 0.2))[0]
                edge[edge] = ((to_top < 0.15) | blend) & (to_hair > 2 * to_top)
                old_upper |= edge
                hair &= ~edge
        # Sleeves the parse took for bare arms (a grey sweatshirt, sheer black sleeves): arm pixels that are not
        # skin-like and nearer the old top's colour than the face's are the old top.
        arm_pixels = np.isin(parse, labels.ARM_LABELS)
        # (Skin in shadow, for the rules below: darker than the face, nearer a black top's colour, but of the skin's
        # chroma and at least as saturated as the face, where a black or grey sleeve is grey. The inner side of an
        # arm beside a black top was made up, a pale ghost of the arm.)
        shadowed = _skin_in_shadow(person, luminance, face, skin_chroma) if face.sum() >= 30 else np.zeros(size, bool)
        if arm_pixels.any() and old_upper.sum() >= 30 and face.sum() >= 30:
            skin_tone = np.median(person[face], axis=0)
            top_tone = np.median(person[old_upper], axis=0)
            nearer_top = (np.linalg.norm(person - top_tone, axis=2) < np.linalg.norm(person - skin_tone, axis=2))
            old_upper |= arm_pixels & nearer_top & ~face_like & ~shadowed  # (not skin in shadow)
            # Whatever its brightness, skin has the chroma of the face and hands: a grey or a black sleeve has not.
            if category != "lower":
                not_skin = ~skin_chroma
                # (A sheer black sleeve over skin has its chroma but is much darker than the face.)
                not_skin |= (luminance < 0.5 * face_light) & ~shadowed
                # (A sleeve is wide; the shadowed edge of a bare arm, a thin line, is no sleeve.)
                sleeve_like = arm_pixels & not_skin
                old_upper |= _dilate(~_dilate(~sleeve_like, 2), 2) & arm_pixels
                # (A strip of the old top in shadow beside the arm is thin, and a shaded yellow has nearly the chroma
                # of brown skin; but not its hue (the angle of the chroma, which shading leaves alone): arm pixels
                # joined to the old top, in its hue rather than the skin's, are the old top.)
                cb, cr = _chroma(person)  # (used again for the neck below)
                old_upper |= _joined_in_hue(cb, cr, arm_pixels, old_upper, face, sw)
                # The same for the neck: a collar the parse took for skin (a red rib) is the old top's; a thin
                # necklace is no collar.
                neck = (parse == labels.NECK) & (yy > float(face.any(1).nonzero()[0].max()))
                collar_like = neck & ~skin_chroma
                old_upper |= _dilate(~_dilate(~collar_like, 2), 2) & neck
                # (A thin rib is a collar too where its colour is vivid, far from the skin's: a red one.)
                vivid = neck & _vivid(cb, cr, face)
                old_upper |= _dilate(~_dilate(~vivid, 1), 1) & neck
                # (And what is left of a dark-patterned rib along the old top's upper edge: its stripes' ends, a
                # pixel or two wide, reach up into the "neck" there, and stayed as a dotted line round the neck's
                # base. Pieces with dark pixels only: a white rib's slivers on pale skin hardly show, and replaced
                # they notched the new top's outline.)
                rib = neck & ~skin_chroma & _dilate(old_upper, max(2, int(round(0.03 * sw))))
                # (Not at the neck's outline on the backdrop: made up there, a fin of skin stood off the neck.)
                rib &= ~_dilate(parse == labels.BACKGROUND, 2)
                if rib.any():
                    pieces, _ = ndimage.label(rib, structure=np.ones((3, 3)))
                    dark = rib & (luminance < 0.5 * face_light)
                    touching = np.intersect1d(pieces[rib & _dilate(old_upper, 1)], pieces[dark])
                    old_upper |= np.isin(pieces, touching[touching > 0])
        # Bare skin the parse took for the top (a bare shoulder beside a strap, the chest in a deep V, whole bare arms
        # when the parse's top took the skin's colours): where the top is not skin-coloured, pieces of old top with
        # the face's skin colour, smooth, joined to the skin around (neck, arms, face, hands), are skin and stay as
        # the photo has them (not painted over with made-up skin).
        if category != "lower" and old_upper.sum() >= 30 and face.sum() >= 30:
            skin_tone = np.median(person[face], axis=0)
            # (Skin's chroma, lit or in shade; not the dark pixels whose chroma says little.)
            skin_coloured = skin_chroma & (luminance > 0.5 * face_light)
            skin_coloured |= shadowed  # (an arm's inner side, in shadow)
            fabric = old_upper & ~skin_coloured  # (the top's own colour: the parse's top may hold much skin)
            top_pixels = fabric if fabric.sum() >= 0.3 * old_upper.sum() else old_upper
            top_tone = np.median(person[top_pixels], axis=0)
            if np.linalg.norm(top_tone - skin_tone) > 0.2:
                bare = ndimage.binary_opening(old_upper & skin_coloured, iterations=max(1, int(round(0.015 * sw))))
                pieces, count = ndimage.label(bare)
                if count:
                    # (Within a little of it: the chin's shadow may lie between the face and a bare neck.)
                    around = _dilate(np.isin(parse, (*skin_labels, labels.FACE, *labels.HAND_LABELS)),
                                     max(2, int(round(0.04 * sw))))
                    # (Or the bare neck itself, above the shoulders' line by the neck's middle, when the parse left no
                    # skin of the face or neck beside it.)
                    around |= (yy < float(body.neck[1])) & (np.abs(xx - float(body.neck[0])) < 0.25 * sw)
                    joined = np.unique(pieces[around & bare])
                    sizes = np.bincount(pieces.ravel(), minlength=count + 1)
                    big = np.flatnonzero(sizes >= max(30, 0.002 * sw * sw))
                    keep_ids = np.intersect1d(joined[joined > 0], big)
                    old_upper &= ~np.isin(pieces, keep_ids)
        # Nor are thin slivers of "top" at its outline in colours the top itself hardly has (the shoulder's edge, skin
        # blended with the backdrop, which the parse gives to a wide-necked top): made up, they stood off the
        # shoulder as a shelf.
        if category != "lower" and old_upper.sum() >= 30:
            radius = max(1, int(round(0.015 * sw)))
            thin = old_upper & ~_dilate(~_dilate(~old_upper, radius), radius)  # (not in its opening)
            if thin.any() and (old_upper & ~thin).sum() >= 30:
                density = _colour_density(person, old_upper & ~thin)
                rare = thin & (density[_colour_bins(person)] < 2.0 / 4096)
                if rare.any() and face.sum() >= 30 and background.sum() >= 30:
                    # (But not what is far darker than both the skin and the backdrop, no blend of them: a white
                    # top's black strap over the shoulder, kept, stood on a shoulder a new top bares.)
                    darkest = min(face_light, float(np.median(luminance[background])))
                    rare &= ~(luminance < darkest - STRAP_DARKER)
                old_upper &= ~rare
        # Nor is a speck of "top" well apart from the rest, above the neck's base (the parse's, on the neck under the
        # chin; the collar rule above takes its shadowed, deeper-coloured skin): filled as the old top there, it was
        # a blot of the backdrop's grey.
        if category != "lower" and old_upper.sum() >= 30:
            pieces, count = ndimage.label(old_upper)
            if count > 1:
                sizes = np.bincount(pieces.ravel(), minlength=count + 1)
                sizes[0] = 0
                main = pieces == int(np.argmax(sizes))
                near_main = _dilate(main, max(2, int(round(0.05 * sw))))
                for piece in np.flatnonzero((sizes > 0) & (sizes < 0.01 * sizes.max())):
                    where = pieces == piece
                    if float(yy[where].mean()) < body.neck[1] and not (where & near_main).any():
                        old_upper &= ~where
        # Nor is a thin line of "garment" along an arm, below the shoulders, where the parse gave the shadowed edge of
        # a bare arm to the top (a strap is thin too, but above the armpits).
        thin = old_upper & ~_dilate(~_dilate(~old_upper, 2), 2) & (yy > body.neck[1] + 0.3 * sw)
        thin &= _dilate(arm_zone, max(1, int(round(0.08 * sw))))
        old_upper &= ~thin
        # An old strap over a bare shoulder (a camisole's): a line one or two pixels wide, darker than the skin on
        # either side of it, going up from the old top, which the parse gave to the neck or the arm, or in
        # pieces to the top (taken for specks above the neck's base, above). Under an
        # off-the-shoulder top or narrower straps it stood on the shoulder.
        # (A dark top's: on a white top, the dark lines going up from its neckline are the neck's own shadows.)
        if category != "lower" and old_upper.sum() >= 30 and face.sum() >= 30 and (
                float(np.median(luminance[old_upper])) < face_light - 0.2):
            # (Above the old top's upper edge in its own columns, over the shoulders: not the shaded edges of arms
            # hanging beside it.)
            first = np.where(old_upper.any(0), np.argmax(old_upper, axis=0), 0)
            over_skin = np.isin(parse, (labels.NECK, labels.UPPER_GARMENT, *labels.ARM_LABELS)) & ~old_upper
            over_skin &= (yy < first[None, :] + 2) & (yy < float(body.neck[1]) + 0.3 * sw)
            if over_skin.any():
                line = over_skin & (_closing(luminance, over_skin, 5) - luminance > STRAP_CONTRAST)
                if line.any():
                    pieces, _ = ndimage.label(line, structure=np.ones((3, 3)))
                    touching = np.unique(pieces[line & _dilate(old_upper, 1)])
                    strap = np.isin(pieces, touching[touching > 0])
                    old_upper |= _dilate(strap, 1) & over_skin
        # Sleeves the parse took for the lower garment (a forearm beside a skirt): along the forearms, what is nearer
        # the top's colour than the lower garment's stays (in front of the new lower garment).
        sleeve_over_lower = np.zeros(size, bool)
        if category == "lower" and old_upper.sum() >= 30 and old_lower.sum() >= 30:
            forearms = _forearm_zone(body, (xx, yy), 0.8 * config.arm_radius * sw)
            candidates = old_lower & forearms
            rest = old_lower & ~forearms
            # (Only where the forearms are sleeved: beside bare arms, the lit edge of a pale yellow skirt, nearer a
            # white top's colour than the skirt's, stayed as a yellow strip.)
            sleeved = (old_upper & forearms).sum() > (arm_pixels & forearms).sum()
            if sleeved and candidates.any() and rest.sum() >= 30:
                top_tone = np.median(person[old_upper], axis=0)
                lower_tone = np.median(person[rest], axis=0)
                if np.linalg.norm(top_tone - lower_tone) > 0.15:
                    values = person[candidates]
                    nearer = np.linalg.norm(values - top_tone, axis=1) < np.linalg.norm(values - lower_tone, axis=1)
                    sleeve_over_lower[candidates] = nearer
                    # (A sleeve is of one colour, smooth: the light or dark parts of a print on the old skirt, a
                    # zebra's or a leopard's, have the top's colour too but are no sleeve.)
                    like_top = sleeve_over_lower.copy()
                    sleeve_over_lower &= _local_spread(luminance) < 0.08
                    sleeve_over_lower = ndimage.binary_opening(sleeve_over_lower, iterations=1)
                    # (But the sleeve's end beside the hand, in the top's colour and joined to the sleeve the parse
                    # saw, is the sleeve: its edge against the hand is no smooth patch, and replaced, the hand hung
                    # below a gap.)
                    cuff_end = like_top & _dilate(hands, max(1, int(round(0.06 * sw))))
                    cuff_end = ndimage.binary_propagation(cuff_end & _dilate(old_upper, 1), mask=cuff_end)
                    sleeve_over_lower |= cuff_end
                    old_lower &= ~sleeve_over_lower
        if category == "lower" and arm_pixels.any() and old_lower.sum() >= 30 and face.sum() >= 30:
            # (So for a skirt: its edge beside a hanging arm, which the parse gave the arm, stayed beside the new
            # trousers: a strip of yellow.)
            cb, cr = _chroma(person)
            old_lower |= _joined_in_hue(cb, cr, arm_pixels & ~limb_skin, old_lower, face, sw)
            # (And a print's greys along the arm's edge: arm pixels not of the skin's chroma, of colours common in
            # the skirt, joined to it, are the skirt's; kept, they were a dotted line down the arm.)
            density = _colour_density(person, old_lower)[_colour_bins(person)]
            like = arm_pixels & ~limb_skin & ~skin_chroma & (density > 8.0 / 4096)
            old_lower |= ndimage.binary_propagation(old_lower & _dilate(like, 1), mask=like | old_lower) & like
        old = {"upper": old_upper, "lower": old_lower, "dress": old_upper | old_lower}[category]

        # The new garment's parts.
        grid = (xx, yy)
        if category == "lower":
            layers = _lower_layers(garment_mask, body, outline, parse, old_lower, lower & ~feet, config)
        else:
            layers = _upper_layers(garment_mask, garment, body, outline, parse, category, config, grid)
        warped = np.zeros((height, width, 3), np.float32)
        alpha = np.zeros(size, np.float32)
        flow = np.zeros((height, width, 2), np.float32)
        scale = np.array([2.0 / width, 2.0 / height], np.float32)
        # The garment's colours without its rim (and the backdrop) blended in: sampled at a part's edge, they stay
        # the fabric's.
        shown = garment_mask.copy()
        for layer in layers:  # (nor the inner back cut from the neck's opening)
            if layer.cut is not None:
                shown &= ~layer.cut
        fabric = _bleed(garment, shown, 2).astype(np.float32)
        # Shrunk onto the person (a product shot has more pixels than the garment gets), thin lines (a collar's rib,
        # stitching, print strokes) would break into dashes: the fabric is first blurred to the pixels it lands on.
        if layers:
            steps = np.abs(np.diff(layers[0].source[..., 0], axis=1))[layers[0].region[:, 1:]]
            shrink = float(np.median(steps)) if steps.size else 1.0
            sigma = 0.5 * float(np.sqrt(max(shrink**2 - 1.0, 0.0)))
            if sigma > 0.3:
                fabric = ndimage.gaussian_filter(fabric, (min(sigma, 2.0), min(sigma, 2.0), 0), mode="nearest",
                                                 truncate=2.5)
        for layer in layers:
            box = ndimage.find_objects(layer.region.astype(np.uint8))
            if not box:
                continue
            box = box[0]
            # Each part samples its own pixels (grown by a pixel or two inside the garment: no seams between parts).
            part_mask = garment_mask if layer.part is None else (_dilate(layer.part, 2) & garment_mask)
            if layer.round_ is not None and layer.part is not None and layers[0].part is not None:
                part_mask &= ~_foreign_root(garment, layer.part, layers[0].part)
            if layer.cut is not None:
                part_mask = part_mask & ~layer.cut
            source = layer.source[box]
            sampled = _sample(np.concatenate([fabric, part_mask[..., None]], 2), source)
            part = np.clip(sampled[..., 3], 0, 1) * layer.region[box]
            if layer.solid is not None:
                holes = layer.solid[box] & (part < 0.5) & (alpha[box] < 0.5)  # (not over the torso's fabric)
                fabric_here = part >= 0.5
                if holes.any() and fabric_here.sum() >= 20:
                    _, (rows, cols) = ndimage.distance_transform_edt(~fabric_here, return_indices=True)
                    sampled[holes] = sampled[rows[holes], cols[holes]]
                    part = np.where(holes, 1.0, part)
            if layer.round_ is not None:
                # A sleeve laid over the torso's fabric fades in from its edge there (a hard edge of another texture
                # and light reads as a seam where there is none).
                inside = _edt(layer.region[box]).astype(np.float32)
                fade = np.clip(inside / max(1e-3, SLEEVE_FADE * sw), 0.0, 1.0)
                part = part * np.where(alpha[box] > 0.5, fade, 1.0)
            colour = sampled[..., :3]
            if layer.round_ is not None:  # a sleeve is a tube: darker towards its sides (a flat-lay's is flat)
                # (Its outer side only: its inner side lies along the torso, where a step in shade reads as a seam.)
                across = np.maximum(layer.round_[box], 0.0)
                shade = 1.0 - SLEEVE_ROUND * across**2
                colour = colour * shade[..., None]
            warped[box] = warped[box] * (1 - part[..., None]) + colour * part[..., None]
            alpha[box] = alpha[box] * (1 - part) + part
            flow[box] = np.where(part[..., None] > 0.5, (source + 0.5) * scale - 1, flow[box])
        # The parts were laid over each other with their coverage (colour times coverage): back to the fabric's own
        # colour at their soft edges, or the edges would darken into a dark fringe when pasted.
        warped = np.where(alpha[..., None] > 1e-3, warped / np.maximum(alpha, 1e-3)[..., None], warped)
        if category != "lower" and len(layers) > 1:
            # Seams: where the parts meet (a sleeve's root on the torso's side) their mappings can leave a thin gap
            # inside both regions; it is closed with the fabric beside it.
            covered = alpha > 0.5
            radius = max(1, int(round(0.03 * sw)))
            closed = ~_dilate(~_dilate(covered, radius), radius)
            union = np.zeros(size, bool)
            for layer in layers:
                union |= layer.region
            gap = closed & ~covered & union
            if gap.any():
                warped[gap] = _nearest(warped, covered, gap)
                alpha[gap] = 1.0
        if category != "lower":
            # A top rests on the shoulders: above the armpits it follows their round outline in the photo (a sleeve's
            # cap stands off it a little), no square corners over the backdrop.
            shoulder_rows = slice(0, int(np.clip(body.neck[1] + 0.4 * sw, 0, height)))
            outside = _edt(parse[shoulder_rows] == labels.BACKGROUND)
            alpha[shoulder_rows] *= np.clip(0.03 * sw + 1.0 - outside, 0.0, 1.0)

        if category == "upper":
            # Below the new top's hem (where its body ends, down the middle) the old one (longer: a tunic, a dress)
            # stays, layered under it; its sleeves beyond the new ones still go.
            centre = int(np.clip(round(body.neck[0]), 0, width - 1))
            middle = alpha[:, max(0, centre - int(0.2 * sw)): centre + int(0.2 * sw) + 1]
            torso_rows = np.flatnonzero(middle.mean(1) > 0.5)
            if len(torso_rows):
                old = old & ((yy < torso_rows.max() + 0.02 * sw) | arm_zone)
        if category != "lower":
            # Slivers of the old top along the new one's edge (its shoulder line a little lower, a neckline a little
            # deeper) would be made-up skin: the fabric beside them goes on over them.
            covered = alpha > 0.5
            margin = old & ~covered & _dilate(covered, max(1, int(round(0.025 * sw))))
            # (Not beside a sleeve down the arm's outer side: the old long sleeve's edge there grew the new one a tab
            # down the arm, with a notch beside it. On the arm's inner side, along the torso, the old top's side is no
            # arm, and the margin stays.)
            if any(layer.name.startswith("sleeve") for layer in layers):
                below = yy > float(np.mean([s[1] for s in body.shoulder])) + 0.3 * sw
                for side in (0, 1):
                    chain = body.arm_chain(side)
                    if len(chain) < 2:
                        continue
                    bone = chain[1] - chain[0]
                    along = np.clip(((xx - chain[0][0]) * bone[0] + (yy - chain[0][1]) * bone[1])
                                    / max(float(bone @ bone), 1e-6), 0.0, 1.0)
                    outer = np.abs(xx - body.neck[0]) > np.abs(chain[0][0] + along * bone[0] - body.neck[0])
                    margin &= ~(arms[side] & below & outer)
            # (Not an off-the-shoulder top's: it leaves the shoulders bare, and taken up over an old tank's straps
            # it was a T-shirt.)
            if any(layer.name.startswith("sleeve") for layer in layers) and not layers[0].off_shoulder:
                # A top with sleeves rests on the shoulders: where the old one reached higher on them (beside the
                # neck's opening) the new one's shoulders go up to where the old one's were.
                reach = max(3, int(round(0.15 * sw)))
                under = ndimage.maximum_filter1d(covered.astype(np.uint8), reach, axis=0, origin=-(reach // 2)) > 0
                raised = (old & ~covered & under & (yy < body.neck[1] + 0.3 * sw) & ~margin
                          & (np.abs(xx - body.neck[0]) > 0.22 * sw))
                raised &= ~np.isin(parse, (labels.FACE, labels.HAIR, *labels.HAND_LABELS))
                # (Smooth: the parse's ragged edge, spikes of skin it took for the old top, is no shape for the new
                # one.)
                radius = max(1, int(round(0.03 * sw)))
                raised &= _dilate(~_dilate(~(covered | raised), radius), radius)
                if raised.any():  # (the fabric from a little inside: not the collar's rib drawn out)
                    warped[raised] = _nearest(warped, covered, raised, max(2, int(round(0.06 * sw))))
                    alpha[raised] = 1.0
            margin &= ~np.isin(parse, (labels.FACE, labels.HAIR, *labels.HAND_LABELS))
            # (Smooth, as above.)
            radius = max(1, int(round(0.02 * sw)))
            grown = covered | margin
            margin &= _dilate(~_dilate(~grown, radius), radius)
            if margin.any():
                warped[margin] = _nearest(warped, covered, margin)
                alpha[margin] = 1.0
            torso_layer = layers[0] if layers and layers[0].name == "torso" else None
            if torso_layer is not None and torso_layer.collar is not None:
                shoulders = _shoulder_cover(alpha > 0.5, parse, body, torso_layer.collar, torso_layer.armpit_y,
                                            (xx, yy))
                if shoulders.any():
                    warped[shoulders] = _mirrored_up(warped, alpha > 0.5, shoulders, max(2, int(round(0.04 * sw))),
                                                     int(round(0.1 * sw)))
                    alpha[shoulders] = 1.0
        if category == "upper" and old_lower.any():
            # A top hangs over the hips down to its hem: where the lower garment beside it is wider than the top's
            # mapped body (broad hips), it covers that too, out to the arms or the backdrop (a band of the trousers
            # showed beside it, with a wavy edge).
            covered = alpha > 0.5
            centre = int(np.clip(round(body.neck[0]), 0, width - 1))
            middle = covered[:, max(0, centre - int(0.2 * sw)): centre + int(0.2 * sw) + 1].mean(1) > 0.5
            hem_rows = np.flatnonzero(middle)
            if len(hem_rows):
                hip_rows = old_lower & (yy <= hem_rows.max())
                runs, _ = ndimage.label(covered | hip_rows, structure=[[0, 0, 0], [1, 1, 1], [0, 0, 0]])
                touching = np.unique(runs[covered])
                hips = hip_rows & ~covered & np.isin(runs, touching[touching > 0])
                if hips.any():
                    warped[hips] = _nearest(warped, covered, hips, max(2, int(round(0.04 * sw))))
                    alpha[hips] = 1.0
        # The outline, smooth: the parts' mapped shapes and the parse's steps leave notches and spurs of a few pixels
        # that read as a torn edge; a garment's edge is a smooth line (the fabric is carried on into what it gains).
        known = alpha > 0.5
        torso_layer = layers[0] if layers and layers[0].name == "torso" else None
        raw_alpha = alpha
        alpha = _smooth_outline(alpha, max(1.0, 0.02 * sw))
        if torso_layer is not None and torso_layer.strap_zone is not None:
            # (What the smoothing took whole, more than a couple of pixels off what it kept, and long: a thin strap,
            # not a wide strap's ragged edge or a spur at its top.)
            taken = torso_layer.strap_zone & (raw_alpha > 0.5) & (_edt(alpha <= 0.5) > 2.0)
            pieces, count = ndimage.label(taken)
            if count:
                boxes = ndimage.find_objects(pieces)
                long = [index + 1 for index, box in enumerate(boxes) if box[0].stop - box[0].start >= 0.08 * sw]
                taken = np.isin(pieces, long)
                alpha = np.where(_dilate(taken, 1) & torso_layer.strap_zone, np.maximum(alpha, raw_alpha), alpha)
        if category != "lower" and torso_layer is not None and torso_layer.collar is not None:
            alpha = _clean_neckline(alpha, torso_layer.collar, sw)
        gained = (alpha > 0.02) & ~known
        if gained.any() and known.any():
            warped[gained] = _nearest(warped, known, gained)
        # Occlusion: face, hair and hands stay in front; bare arms stay in front of the torso unless a sleeve covers
        # them; what the category does not change stays.
        sleeves = np.zeros(size, np.float32)
        for layer in layers:
            if layer.name.startswith("sleeve"):
                sleeves = np.maximum(sleeves, layer.region.astype(np.float32))
        # (Not the skin joined to a hand under a new sleeve: a long sleeve covers the wrist the parse gave the
        # trousers, which kept drew a dark line of the arm's edge inside it.)
        keep = (hair | np.isin(parse, (labels.FACE, *labels.HAND_LABELS)) | (limb_skin & (sleeves < 0.5))
                | sleeve_over_lower)
        if category == "upper":
            keep |= feet
        elif category == "lower":
            top = parse == labels.UPPER_GARMENT
            # (But not the old lower garment's top rows the parse gave the top, under its hem: in the old garment's
            # colour rather than the top's, right above the new garment, they stayed as a line between the two. The
            # new garment goes on up to the top there.)
            covered = alpha > 0.5
            if top.sum() >= 30 and old_lower.sum() >= 30 and covered.any():
                top_tone = np.median(person[top][::4], axis=0)
                lower_tone = np.median(person[old_lower][::4], axis=0)
                if np.linalg.norm(top_tone - lower_tone) > 0.25:
                    reach = max(2, int(round(0.03 * sw)))
                    like_lower = top & _dilate(old_lower, reach) & (
                        np.linalg.norm(person - lower_tone, axis=2) < np.linalg.norm(person - top_tone, axis=2))
                    under = like_lower & ndimage.maximum_filter1d(
                        covered.astype(np.uint8), reach, axis=0, origin=-(reach // 2)).astype(bool)
                    if under.any():
                        warped[under] = _nearest(warped, covered, under)
                        alpha[under] = 1.0
                    # (Elsewhere, beside the new garment's waist (the old one's waistband rising higher to one side),
                    # they go with the old garment.)
                    # (Not the top's edge blended with the backdrop, which is nearer the old garment's grey, too.)
                    beside = like_lower & ~under & ~_dilate(parse == labels.BACKGROUND, 2)
                    old = old | beside
                    top &= ~(under | beside)
            keep |= top | (np.isin(parse, (labels.NECK, *labels.ARM_LABELS)) & ~old_lower) | feet
        else:
            keep |= feet
        # (Not around the shoulders: skin there, bared by the old top's wide neckline, goes under the new one.)
        shoulders_y = float(np.mean([s[1] for s in body.shoulder])) + 0.3 * sw
        bare_arms = np.isin(parse, labels.ARM_LABELS) & ~old_upper & (sleeves < 0.5) & (yy > shoulders_y)
        if category != "lower" and bare_arms.any() and (alpha > 0.5).any():
            # Where the new top covers the parse's ragged edge of a bare arm beside it, the top stays in front of what
            # is no arm there: pixels in the old top's colour (a white top's blended rim), specks and one-pixel lines
            # of "arm". Kept as the arm, they showed as specks and notches of skin along it.
            # (Within the arms' box, with room: what lies further from them plays no part.)
            box = ndimage.find_objects(_dilate(bare_arms, 6).astype(np.uint8))[0]
            covered = alpha[box] > 0.5
            oldish = old[box].copy()
            if old.sum() >= 30 and face.sum() >= 30:
                tone = np.median(person[old][::4], axis=0)
                if np.linalg.norm(tone - np.median(person[face], axis=0)) > 0.25:
                    oldish |= _dilate(old[box], 3) & (np.linalg.norm(person[box] - tone, axis=2) < 0.2)
            # (Not the smooth skin given back to an arm: it may have the old top's tones, the reason it was taken.)
            oldish &= ~arms_given_back[box]
            arm_itself = bare_arms[box] & ~oldish
            opened = _dilate(~_dilate(~arm_itself, 1), 1)
            pieces, count = ndimage.label(opened)
            if count:
                sizes = np.bincount(pieces.ravel(), minlength=count + 1)
                opened &= (sizes >= max(20, 0.002 * sw * sw))[pieces]
            oldish |= arm_itself & ~opened
            bare_arms[box] &= ~(oldish & covered)
        alpha = np.where(keep | bare_arms, 0.0, alpha)
        alpha = np.clip(_blur(alpha, 0.6) * 1.1, 0, 1) * (alpha > 0.02)  # soft 1 px edge

        # Fill the old garment where the new one does not cover it: skin inside the body, background outside (its
        # anti-aliased rim, which the parse leaves to the neighbours, too).
        # (Not the backdrop seen between the legs below the new garment's hem: it stays as the photo has it. Above
        # it, between new trouser legs, what the parse gave the old garment is filled with the backdrop.)
        covered_rows = np.flatnonzero((alpha > 0.5).any(1))
        if gaps.any() and len(covered_rows):
            old = old & ~(gaps & (yy > covered_rows.max()))
        rim = _dilate(old, 1)
        if old.sum() >= 30:  # and, a little further, what has the old garment's colour (the parse's margin)
            tone = np.median(person[old], axis=0)
            rim |= _dilate(old, 3) & (np.linalg.norm(person - tone, axis=2) < 0.2)
        # The backdrop behind the old garment: filled in from the backdrop a little away from it (its soft fringe,
        # which the parse leaves to the backdrop, tints the pixels right beside it).
        clear = background & ~_dilate(old, 4)
        backdrop = _fill(person, clear if clear.sum() >= 100 else background) if background.any() else person
        # That fringe (a sleeve's blurred edge): what beside the old garment does not look like the backdrop there.
        # (Not the blurred edge of a bare arm, hand or leg beside it: the parse leaves that to the backdrop too.)
        limbs = _dilate(np.isin(parse, (*labels.ARM_LABELS, *labels.HAND_LABELS, labels.LOWER_BODY)) & ~old, 3)
        rim |= _dilate(old, 4) & background & ~limbs & (np.abs(person - backdrop).max(axis=2) > 0.06)
        # And, whatever the parse called it, a pixel or two beside the old garment whose colour is a blend of the old
        # garment's there and the backdrop's (its anti-aliased edge, left as a line beside what replaces it).
        near = _dilate(old, 2) & ~old & ~rim
        if near.any() and old.any():
            box = ndimage.find_objects(_dilate(near, 3).astype(np.uint8))[0]
            _, (rows, cols) = ndimage.distance_transform_edt(~old[box], return_indices=True)
            t, off, length = _on_segment(person[box], backdrop[box], person[box][rows, cols])
            rim[box] |= near[box] & (off < 0.04) & (t > 0.15) & (length > 0.2)
        # The same on the neck: a pixel within two of the old garment whose colour is a blend of the garment's edge
        # there and the neck's skin a little further up (a dark neckline's anti-aliased edge). Kept, it drew the old
        # neckline as a thin grey line above the skin made up below it. (Not on the arms: there the made-up limb's
        # own tone would take the place of the arm's edge.)
        skin_blend = np.zeros(size, bool)
        skin_side = _dilate(old, 2) & ~old & (parse == labels.NECK)
        if skin_side.any():
            box = ndimage.find_objects(_dilate(skin_side, 4).astype(np.uint8))[0]
            _, (rows, cols) = ndimage.distance_transform_edt(~old[box], return_indices=True)
            edge_colour = person[box][rows, cols]
            beyond = (parse[box] == labels.NECK) & ~_dilate(old, 3)[box]
            if beyond.any():
                _, (rows, cols) = ndimage.distance_transform_edt(~beyond, return_indices=True)
                t, off, length = _on_segment(person[box], person[box][rows, cols], edge_colour)
                skin_blend[box] = skin_side[box] & (off < 0.05) & (t > 0.05) & (length > 0.2)
                rim |= skin_blend
        rim &= ~np.isin(parse, (labels.FACE, labels.HAIR, *labels.HAND_LABELS))
        if category != "lower":
            # (Nor the photo's bare arm beside the old top, along the arm's bones: made up there, a column of the
            # made-up arm's shaded inner side ran along the real arm's edge.)
            rim &= ~(bare_arms & arm_zone)
        uncovered = (old | rim) & (alpha < 0.98) & ~keep
        # (Its outline smoothed a little, only ever growing: the parse's steps make a torn edge, and the old garment's
        # own edge half blended in would stay as a line.)
        # Beside the photo's own skin (an arm along made-up skin) it may shrink too: the parse's steps there would
        # show as a staircase between two skins.
        real_skin = _dilate(np.isin(parse, skin_labels) & ~old, 3)
        if category == "lower":
            # (Beside an arm, only the arm's own edge the parse gave the skirt, in the skin's colours: what the
            # skirt's side leaves there is the backdrop, which meets the arm as it does in the photo, not skin that
            # widens it.)
            real_skin &= face_like
        replaced = np.maximum(_smooth_outline(uncovered.astype(np.float32), max(1.0, 0.012 * sw)),
                              uncovered & (~real_skin | skin_blend)) * ~keep
        uncovered = replaced > 0.02
        face_chroma = _skin_chroma(person, face, 0.025)  # (the skin's chroma, lit or in shade; used twice below)
        if category != "lower" and background.any():
            # Beyond a bare arm, away from the body, what the parse gave the old top in the backdrop's colours or in a
            # blend of the arm's skin and the backdrop is the backdrop and the arm's soft edge (a white top on a white
            # backdrop: the arm's edge and specks of backdrop look like the top): kept as the photo has them. Filled,
            # the made-up arm laid skin streaks and blocks off the arm over the backdrop.
            # (The arm's skin about the arm's bones, a piece reaching half a shoulder width below the shoulder: not a
            # sleeve of the old top nor the skin a wide neckline bares, which the parse may give the arm.)
            seen_skin = np.isin(parse, labels.ARM_LABELS) & ~old & (face_like | face_chroma)
            bare_skin = [_reaching(seen_skin & arms[side], body.shoulder[side][1] + 0.5 * sw) for side in (0, 1)]
            reach = max(2, int(round(BEYOND_REACH * sw)))
            past_arms = _beyond_bare_arms(bare_skin, body, person, backdrop, uncovered & _dilate(background, reach))
            replaced = np.where(past_arms, 0.0, replaced)
            uncovered &= ~past_arms
        torso_body = np.zeros(size, bool)
        rows = np.arange(height)
        valid = np.isfinite(outline.left) & (rows <= body.mid_hip[1] + 0.1 * sw)
        torso_body[valid] = ((xx[valid] >= outline.left[valid, None]) & (xx[valid] <= outline.right[valid, None]))
        neck_zone = _limb_zone(xx, yy, [body.neck, body.neck - np.array([0.0, 0.7 * sw])], (config.neck_half * sw,))
        # Bare legs only below the new garment's hem: above it, what the new legs do not cover is background.
        hem = float(covered_rows.max()) if len(covered_rows) else float(body.mid_hip[1])
        build = float(np.clip((outline.half(body.neck[1] + 0.45 * sw)[1] - outline.half(body.neck[1] + 0.45 * sw)[0])
                              / (1.05 * sw), 0.85, 1.3))
        # (Made-up arms as wide as the photo's arms show, in the old sleeves' outline: a little less, for the cloth.)
        measured = _arm_scale(parse, body)
        arm_scale = None if measured is None else float(np.clip(0.95 * measured, 0.9, 1.35))
        limb_cover, limb_shade = _bare_limbs(body, size, build,
                                             _leg_joins(body, size, legs_skin & ~old) if category != "upper" else None,
                                             arm_scale)
        legs_allowed = yy > max(hem, float(body.mid_hip[1]))
        if category == "dress" and len(covered_rows):
            # A dress's hem curves up at its sides: there the legs start right under it, per column (from its lowest
            # row they left a strip of backdrop under the hem's sides).
            covered = alpha > 0.5
            bottom = np.where(covered.any(0), height - 1 - np.argmax(covered[::-1], axis=0), -1)
            legs_allowed = np.where(bottom[None, :] >= 0, yy > np.maximum(bottom[None, :], body.mid_hip[1]),
                                    legs_allowed)
        if category == "lower":
            # Trousers for a skirt: an arm in front of the old skirt is made up only where the photo's arms are bare;
            # beside sleeved arms (the forearms have the top's colour) what the skirt leaves is the backdrop.
            forearms = _forearm_zone(body, (xx, yy), 0.6 * config.arm_radius * sw) & ~background & ~hands
            if forearms.sum() >= 30 and old_upper.sum() >= 30:
                sleeve = np.linalg.norm(person - np.median(person[old_upper], axis=0), axis=2) < 0.15
                if float(sleeve[forearms].mean()) >= 0.5:
                    # (But the wrists, between the cuffs and the hands: no hand hanging apart from its arm.)
                    wrists = np.zeros(size, bool)
                    for side in (0, 1):
                        chain = body.arm_chain(side)
                        if len(chain) >= 3:
                            wrists |= np.hypot(xx - chain[-1][0], yy - chain[-1][1]) < 0.1 * sw
                    limb_cover[0] = np.where(wrists, limb_cover[0], 0.0)
            # A skirt hides no arm: an arm beside it shows whole in the photo, and a made-up arm only closes the gaps
            # the parse left in it. (Its outline is wider than her arm: beside slim trousers for a wider skirt it laid
            # a strip of made-up skin over the skirt's side, where the backdrop shows now.)
            seen = np.isin(parse, labels.ARM_LABELS + labels.HAND_LABELS) | limb_skin
            reach = max(1, int(round(0.04 * sw)))
            limb_cover[0] = np.where(~_dilate(~_dilate(seen, reach), reach), limb_cover[0], 0.0)
        arm_dropped = np.zeros(size, bool)
        if category != "lower" and old_upper.sum() >= 30:
            # A bare upper arm (the old top sleeveless) shows whole in the photo: there, as beside a skirt, a made-up
            # arm only closes the gaps the parse left in it; beyond it lies the torso, made up as the torso. (The
            # made-up arm's outline reached past her arm over the old top's side, and its shaded inner side lay on
            # the made-up chest as a dark band.)
            seen = np.isin(parse, labels.ARM_LABELS + labels.HAND_LABELS) & ~old_upper
            reach = max(1, int(round(0.04 * sw)))
            closed = ~_dilate(~_dilate(seen, reach), reach)
            for side in (0, 1):
                chain = body.arm_chain(side)
                if len(chain) < 2:
                    continue
                upper_arm = _limb_zone(xx, yy, chain[:2], (0.6 * config.arm_radius * sw,)) & ~background
                upper_arm &= yy > chain[0][1] + 0.1 * sw  # (below the shoulder's cap)
                if upper_arm.sum() >= 30 and float(seen[upper_arm].mean()) >= BARE_ARM:
                    # (Above the armpits, beside the chest: lower, beside the new top's side, the made-up arm's edge
                    # hid the top's ragged outline, which the backdrop there showed.)
                    zone = _limb_zone(xx, yy, chain, (0.3 * sw,)) & ~closed
                    zone &= yy < float(np.mean([s[1] for s in body.shoulder])) + 0.4 * sw
                    arm_dropped |= zone & (limb_cover[0] > 0.02)
                    limb_cover[0] = np.where(zone, 0.0, limb_cover[0])
        # (Under a shorter dress, skirt or shorts, the hem within the photo: beside trousers reaching its bottom edge
        # what the old garment leaves between their legs is the backdrop, not a thigh.)
        thighs = (_thighs(person, legs_skin & ~old & (face_like | face_chroma), old, face_like | face_chroma, body,
                          size)
                  if category != "upper" and hem < height - 0.05 * sw else [])
        if thighs:
            thigh_cover, thigh_zone = _thigh_cover(thighs, size)
            # (Below the new garment's hem only: above it, beside new trousers, a made-up arm stays an arm.)
            limb_cover[1] = np.where(thigh_zone & legs_allowed, thigh_cover, limb_cover[1])
        cover = np.maximum(limb_cover[0], np.where(legs_allowed, limb_cover[1], 0.0))
        shade_limbs = np.where(limb_cover[0] >= limb_cover[1], limb_shade[0], limb_shade[1])
        # The neck, the tops of the shoulders and the upper chest between the shoulder joints: body, where a garment
        # lies on it.
        shoulder_line = _limb_zone(xx, yy, [body.shoulder[0], body.neck, body.shoulder[1]], (0.15 * sw,))
        upper_chest = ((yy < body.neck[1] + 0.25 * sw) & (xx > min(body.shoulder[0][0], body.shoulder[1][0]))
                       & (xx < max(body.shoulder[0][0], body.shoulder[1][0])))
        skin_area = ((torso_body | neck_zone) & ~arm_zone) | (shoulder_line & (yy < body.neck[1])) | upper_chest
        skin_area |= arm_dropped
        if category == "lower":
            # (Below the new garment's waist, what it leaves of a wider old one is the backdrop: the torso's outline
            # there is the old garment's. Limbs are made up as limbs.)
            centre = int(np.clip(round(body.neck[0]), 0, width - 1))
            middle = alpha[:, max(0, centre - int(0.1 * sw)): centre + int(0.1 * sw) + 1].mean(1) > 0.5
            if middle.any():
                skin_area &= yy < np.argmax(middle) + 0.05 * sw
        # The photo's own light (folds, the body's roundness under the old garment): on the new garment and on the
        # skin made up where the old one was.
        covered_skin = np.isin(parse, skin_labels) | (legs_like_face if category != "upper" else False)
        regions = [old, covered_skin & ~old]
        if category == "upper":  # a top hanging over the lower garment takes its folds there
            regions.append(old_lower & ~old)
        photo_shade = _blur(_shading(person, regions, sw, config.shading), 1.0)  # no seams between the regions
        if len(regions) > 1:
            # (Where two regions meet (the old top's hem over the trousers) their own fold shadings meet in a line
            # across the new garment: there, the shading of both, blended.)
            seams = np.zeros(size, bool)
            for region in regions:
                seams |= _dilate(region, 1) & ~region & np.logical_or.reduce([r for r in regions if r is not region])
            band = _blur(_dilate(seams, max(1, int(round(0.03 * sw)))).astype(np.float32), 0.02 * sw)
            smooth = _blur(photo_shade, 0.04 * sw)
            photo_shade = photo_shade * (1 - band) + smooth * band
        result = person.copy()
        if uncovered.any():
            if background.any():
                result = result * (1 - replaced[..., None]) + backdrop * replaced[..., None]
            skin_where = uncovered & ((cover > 0.02) | skin_area)
            if skin_where.any():
                skin_known = np.isin(parse, (*skin_labels, labels.FACE, *labels.HAND_LABELS)) | legs_skin
                # Skin only (not hair strands read as neck, not the old garment), in the light or in shadow (the fill
                # goes on from the skin around it).
                skin_known &= ~old & (face_like | face_chroma)
                colour = _skin_colour(person, parse, skin_known)
                # (From the skin right around the hole, at full resolution: the fill meets its edge without a seam.)
                ring = skin_known & _dilate(uncovered, 3) & ~uncovered
                source = ring if ring.sum() >= 30 else skin_known
                base = (_fill(person, source, 1) if source.sum() >= 30 else
                        np.broadcast_to(colour, person.shape))
                if source.sum() >= 30:
                    # (Near the ring, its own colours nearby (a normalised blur): the push-pull's coarse levels mix in
                    # skin from far round the hole, an arm in shadow, and darkened a whole band under the neck.)
                    sigma = 0.05 * sw
                    # (Within the hole's box, with room for the blur.)
                    rows, cols = np.flatnonzero(uncovered.any(1)), np.flatnonzero(uncovered.any(0))
                    reach = int(3 * sigma) + 2
                    box = (slice(max(0, rows[0] - reach), rows[-1] + reach + 1),
                           slice(max(0, cols[0] - reach), cols[-1] + reach + 1))
                    known = source[box].astype(np.float32)
                    ring_weight = _blur_fast(known, sigma)
                    nearby = _blur_fast((person[box] * known[..., None]).astype(np.float32), sigma)
                    nearby = nearby / np.maximum(ring_weight, 1e-6)[..., None]
                    trust = np.clip(ring_weight / 0.02, 0.0, 1.0)[..., None]
                    base = np.array(base, np.float32)
                    base[box] = nearby * trust + base[box] * (1 - trust)
                    # (Right at the ring, the colours right beside: a strap's thin trace over a shaded shoulder took
                    # the shoulder's mean over a tenth of its width, a lighter flat strip.)
                    fine = max(1.0, 0.015 * sw)
                    fine_weight = _blur_fast(known, fine)
                    beside = _blur_fast((person[box] * known[..., None]).astype(np.float32), fine)
                    beside = beside / np.maximum(fine_weight, 1e-6)[..., None]
                    near_ring = (np.clip(fine_weight / 0.05, 0.0, 1.0)
                                 * np.clip(1.0 - _edt(~source[box]) / (0.05 * sw), 0.0, 1.0))[..., None]
                    base[box] = beside * near_ring + base[box] * (1 - near_ring)
                # The light on the skin made up where the old garment was: the photo's own over that region, its
                # broad fall-off only (the old garment's folds and print are no shape of skin).
                light = np.clip(_broad_light(person, old, sw), 0.75, 1.15)
                # Limbs: the tone of the skin the photo shows of that kind (the hands and bare arms; the legs below a
                # skirt), its colour following its brightness as the photo's skin does (shadows deeper, warmer),
                # round (darker towards the sides) and lit as the photo is there.
                reference = skin_known & np.isin(parse, (*labels.ARM_LABELS, *labels.HAND_LABELS))
                if reference.sum() < 30:
                    reference = skin_known
                arm_skin = _skin_tones(person, reference)
                # The torso's skin: at its edge the colour of the skin around it (the neck, often in the chin's
                # shadow), further in the tone of the skin the photo shows in the light (face, arms, hands) as the
                # chest faces the light as they do; lit as the photo is there.
                lit = skin_known & np.isin(parse, (labels.FACE, *labels.ARM_LABELS, *labels.HAND_LABELS))
                lit &= face_like
                body_skin = _skin_tones(person, lit) if lit.sum() >= 30 else arm_skin
                # (Inward from the skin the fill goes on from: where the hole meets the new garment there is no
                # skin to match, and measured from there the edge's blend reached across a narrow made-up chest.)
                depth = _edt(~source) if source.any() else np.full(size, np.inf, np.float32)
                inward = np.clip(depth / (0.12 * sw), 0.0, 1.0)[..., None]
                interior = body_skin(light)
                # A made-up chest goes on from the photo's own chest right above the old neckline, each column in the
                # colour of the skin above it, lit as the old garment was relative to its top (the face's, arms' and
                # hands' tone is lit otherwise: a lighter, more orange chest than model_4's, a darker one than
                # model_8's, with a line at the old neckline).
                above = _skin_above(skin_known & ~uncovered & (parse == labels.NECK), uncovered, sw)
                if above.sum() >= 30:
                    ext, ext_trust = _extended_down(person, above, uncovered, sw)
                    top = uncovered & _dilate(above, max(1, int(round(0.1 * sw))))
                    level = max(float(np.median(light[top])), 1e-3) if top.any() else 1.0
                    # (Over the hole's box only: elsewhere the skin is not made up.)
                    rows, cols = np.flatnonzero(uncovered.any(1)), np.flatnonzero(uncovered.any(0))
                    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
                    relative = np.clip(light[box] / level, 0.8, 1.2)
                    trust = ext_trust[box][..., None]
                    interior[box] = (ext[box] * relative[..., None] * trust
                                     + _skin_tones(person, above)(relative) * (1 - trust))
                # The torso is round: its made-up skin turns from the light towards its sides (from the middle of the
                # torso's outline in that row), as the skin of a bare chest or back does (a fill of one light between
                # the arms read as a flat cut-out).
                interior = interior * _torso_round(outline, xx, sw)[..., None]
                # (Near the edge the skin around already has the photo's light there: the fill is seamless.)
                skin = ((1 - inward) * base + inward * interior).astype(np.float32)
                shown_legs = legs_skin & skin_known
                # (Legs the photo shows, not a hand at the hip: the hands' and arms' tone is the better guess.)
                leg_skin = _skin_tones(person, shown_legs) if shown_legs.sum() >= max(30, 0.05 * sw * sw) else arm_skin
                target = np.clip(shade_limbs / 0.9 * light ** 0.8, 0.6, 1.1)  # (round shading: about 0.9 across)
                limbs = cover > 0.02
                legs_here = limbs & (limb_cover[1] > limb_cover[0])
                arms_here = limbs & ~legs_here
                skin[arms_here] = arm_skin(target[arms_here])
                skin[legs_here] = leg_skin(target[legs_here])
                # Where made-up legs meet the photo's own (below the old hem), each takes on the tone the photo's leg
                # has right there (not its shaded outline): no step in colour at the old hem.
                shown = legs_skin & ~uncovered & ~_dilate(~legs_skin, max(1, int(round(0.03 * sw))))
                made_legs = legs_here & uncovered
                if shown.any() and made_legs.any():
                    reach = 0.1 * sw
                    near_shown = _edt(~shown) < reach
                    near_made = _edt(~made_legs) < reach
                    for leg in (0, 1):
                        # (Along the leg's bone, below the made-up leg's middle: the knee it meets, not its shaded
                        # outline nor a hand at the hip beside it.)
                        core = _limb_zone(xx, yy, body.leg_chain(leg), (0.1 * sw,))
                        made = made_legs & core
                        if not made.any():
                            continue
                        real = shown & core & (yy > float(np.median(yy[made])))
                        made &= near_shown
                        real &= near_made
                        if made.sum() >= 20 and real.sum() >= 20:
                            ratio = np.median(person[real], axis=0) / np.maximum(np.median(skin[made], axis=0), 1e-3)
                            zone = made_legs & _limb_zone(xx, yy, body.leg_chain(leg), (0.3 * sw, 0.22 * sw))
                            skin[zone] = skin[zone] * np.clip(ratio, 0.8, 1.25).astype(np.float32)
                    # And each column of a made-up thigh goes on up from the photo's leg right below it (the knee's
                    # light and roundness carried up, the leg's own tone further up): a flat patch of one tone
                    # above the knees, with a step at the old hem, read as skin-coloured shorts.
                    source = _skin_above(shown[::-1], made_legs[::-1], sw)
                    if source.sum() >= 20:
                        carried, carried_trust = _extended_down(person[::-1], source, made_legs[::-1], sw)
                        carried, carried_trust = carried[::-1], carried_trust[::-1]
                        here = made_legs & (carried_trust > 0)
                        blend = carried_trust[here][:, None]
                        skin[here] = carried[here] * blend + skin[here] * (1 - blend)
                if thighs:
                    skin = _thigh_colours(thighs, skin, made_legs)
                # Where a made-up limb goes on from the photo's own skin (an arm below a shorter sleeve's old outline,
                # a shoulder beside a new strap), it starts in the tone the photo's skin has right there and turns to
                # its own shading a little further in: the lit side of a real arm beside a made-up arm's shaded side
                # read as a seam.
                # (Arms: made-up legs already take the tone of the knee they meet, from its core; at the join the
                # knee's shaded outline would darken a band above it.)
                made_limbs = limbs & uncovered & ~(legs_here & legs_allowed)
                joins = skin_known & ~uncovered & _dilate(made_limbs, 2)
                if joins.sum() >= 10:
                    skin = _match_at_joins(skin, person, joins, made_limbs, [arm_skin, leg_skin], target,
                                           limb_cover, sw)
                skin = np.clip(skin + _grain(person, skin_known, size), 0, 1)
                # Limbs: their own soft outline over the background; the torso's skin: the old garment's outline,
                # smoothed (the parse's steps and the rim's ragged pixels are no body's outline).
                # (Not beyond the body's outline: the old garment's rim over the backdrop is backdrop again.)
                inside = _smooth_outline((~background).astype(np.float32), max(1.0, 0.012 * sw))
                # (Nor a line of backdrop between made-up skin and the photo's own: inside the body, beside its skin,
                # the fill is skin.)
                # (Nor where a made-up limb's soft outline lies over the torso's made-up skin.)
                weight = replaced * np.maximum(np.maximum(cover, skin_area * inside), real_skin * inside)
                weight = weight[..., None]
                # (The skin replaces the photo there, not the backdrop laid over it: a partly replaced pixel at the
                # photo's own skin would otherwise show a light line of backdrop.)
                backdrop_weight = (replaced[..., None] - weight).clip(0, 1)
                # The torso's and the shoulders' made-up skin turns away from the light towards the body's outline on
                # the backdrop, darker there as the photo's own skin is (a fill flat up to the backdrop read as a
                # cut-out). (The limbs are shaded round already.)
                torso_skin = (weight[..., 0] > 0.02) & (cover < 0.02)
                if torso_skin.any() and background.any():
                    body_now = (~background | (weight[..., 0] > 0.5)) & ~(backdrop_weight[..., 0] > 0.5)
                    outline_distance = _edt(body_now)
                    fall = np.clip(1.0 - outline_distance / (EDGE_REACH * sw), 0.0, 1.0) ** 2
                    # (Not right beside the photo's own skin: its colours there already turn with the shoulder, and
                    # darkened again, a strap's trace over it was a grey patch.)
                    fall = fall * inward[..., 0]
                    skin = np.where(torso_skin[..., None], skin * (1.0 - EDGE_SHADE * fall)[..., None], skin)
                result = person * (1 - replaced[..., None]) + backdrop * backdrop_weight + skin * weight
                result = np.where(replaced[..., None] > 0, result, person)
                if thighs:
                    # (Legs only: not a hand at the hip, nor what is backdrop now beside new trousers.)
                    legs_now = (made_legs | (legs_skin & skin_known)) & (alpha <= 0.5) & ~hands
                    result = _thigh_joins(thighs, result, legs_now, sw)

        # The new garment's edge lies on the skin made up under it and shades it, the light coming from above: the
        # made-up skin right below an edge (a sleeve's hem over a made-up forearm, a neckline over a made-up chest) is
        # darker, fading over CONTACT_REACH; right beside an edge a little (a made-up fill flat up to the fabric read
        # as pasted on). (Not the photo's own skin: kept as the photo has it.)
        made_up = (replaced > 0.5) & (alpha <= 0.5) & ~np.isin(parse, (labels.FACE, labels.HAIR, *labels.HAND_LABELS))
        made_up &= np.abs(result - backdrop).max(axis=2) >= 0.03  # (not what is backdrop again)
        if made_up.any():
            result = np.where(made_up[..., None], result * (1.0 - CONTACT_SHADE * _contact_shadow(alpha > 0.5, sw))[
                ..., None], result)
        shaded = np.clip(warped * photo_shade[..., None], 0, 1)
        result = result * (1 - alpha[..., None]) + shaded * alpha[..., None]
        result = np.where(keep[..., None], person, result)
        changed = ~keep & (np.abs(result - person).max(axis=2) > 0.03)
        result = _kept_edge(result, person, hair, changed)
        # The same for a kept arm's edge: a blend of its skin and the old garment beside it (dark jeans behind a
        # forearm, now the backdrop), kept as it was, drew the arm's outline as a dark line. (Not a hand's: kept
        # exactly.)
        limbs_kept = keep & ~hair & ~hands & (np.isin(parse, labels.ARM_LABELS) | limb_skin)
        result = _kept_edge(result, person, limbs_kept, changed & ~_dilate(hair, 2))

        warped_mask = np.zeros(size, np.float32)
        for layer in layers:
            warped_mask = np.maximum(warped_mask, layer.region.astype(np.float32))
        return {"warped_garment": np.clip(warped, 0, 1).transpose(2, 0, 1) * 2 - 1, "warped_mask": warped_mask[None],
                "flow": flow.transpose(2, 0, 1), "composite_mask": alpha[None].astype(np.float32),
                "tryon": (np.clip(result, 0, 1).transpose(2, 0, 1) * 2 - 1).astype(np.float32)}


def _bare_arms_taken_for_the_top(parse: np.ndarray, person: np.ndarray, arms: list[np.ndarray], category: str,
                                 sw: float, reference: np.ndarray, luminance: np.ndarray, spread: np.ndarray,
                                 skin_chroma: np.ndarray, skin_box: np.ndarray | None
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """``parse`` with the bare arm it gave the top given back to the arm, and the pixels given back.

    About the arm's bones (``arms``, per side: the person's right, then left), what the parse calls the top but has
    the chroma of the face's and the hands' skin, in their light or a little shade, and is smooth, is arm; so are
    the arm's shaded side joined to it and, a little beyond the arm's zone, such skin the person mask left to the
    backdrop. (A dress in a fine check of the skin's tones took in a pale arm hanging beside it: the new top was laid
    over the arm, in fragments where its edge was labelled arm.) A plain sleeve of the skin's colour is left to the
    rule that gives arm pixels in the old top's colour back to it. For a new top, the forearm the parse gave the
    lower body (a dress's skirt beside it) too: a top's hem over the hips was laid over it; a new lower garment keeps
    what the parse calls the lower body's skin as legs.

    ``reference``: the face and hands; ``luminance``, its local ``spread`` (:func:`_local_spread`), ``skin_chroma``
    (:func:`_skin_chroma`) and ``skin_box`` (:func:`_chroma_box`, None without a reference) of the photo against it."""
    taken = (labels.UPPER_GARMENT, labels.LOWER_BODY) if category == "upper" else (labels.UPPER_GARMENT,)
    top = np.isin(parse, taken) & (arms[0] | arms[1])
    if reference.sum() < 30 or skin_box is None or not top.any():
        return parse, np.zeros(parse.shape, bool)
    bright = ((luminance > 0.6 * float(np.median(luminance[reference])))
              & (luminance < float(np.percentile(luminance[reference], 95)) + 0.15))
    # (Smooth: a print's or a check's skin-coloured parts are no arm.)
    smooth = spread < 0.05
    bare = top & skin_box & bright & smooth
    # (And the arm the person mask lost to the backdrop beside it, pale on white: what there is unlike the backdrop
    # further out, and joined to the arm; a little beyond the arm's zone, which the keypoints may place inside the
    # body.)
    backdrop = parse == labels.BACKGROUND
    reach = _dilate(arms[0] | arms[1], max(1, int(round(0.08 * sw))))
    if backdrop.sum() >= 100:
        far = backdrop & ~_dilate(~backdrop, 8)
        if far.sum() >= 100:
            tone = np.median(person[far][::7], axis=0)
            lost = (backdrop & reach & skin_box & bright & smooth
                    & (np.linalg.norm(person - tone, axis=2) > 0.12))
            arm = np.isin(parse, labels.ARM_LABELS) | bare
            pieces, _ = ndimage.label(lost | arm)
            bare |= lost & np.isin(pieces, np.unique(pieces[arm]))
    bare = ndimage.binary_opening(bare)
    # (With the arm's shaded side joined to it: of the skin's chroma as shadow leaves it, and smooth.)
    shaded = top & smooth & (luminance > 0.5 * float(np.median(luminance[reference]))) & skin_chroma
    pieces, _ = ndimage.label(shaded | bare)
    bare |= shaded & np.isin(pieces, np.unique(pieces[bare]))
    # (Its outline smooth: the parse's steps along the arm would notch the new top's edge beside it.)
    bare = (_blur(bare.astype(np.float32), 2.0) > 0.5) & np.isin(parse, (*taken, labels.BACKGROUND)) & reach
    # (A piece of an arm's size, not a few pixels of a print.)
    pieces, count = ndimage.label(bare)
    if count:
        sizes = np.bincount(pieces.ravel(), minlength=count + 1)
        bare &= (sizes >= max(30, 0.001 * parse.size))[pieces]
    if not bare.any():
        return parse, bare
    parse = parse.copy()
    # (Each piece the side's whose arm it lies more about.)
    pieces, count = ndimage.label(bare)
    near_right = np.bincount(pieces[arms[0]], minlength=count + 1)
    near_left = np.bincount(pieces[arms[1]], minlength=count + 1)
    right = (near_right >= near_left)[pieces]
    parse[bare & right] = labels.RIGHT_ARM
    parse[bare & ~right] = labels.LEFT_ARM
    return parse, bare


def _kept_edge(result: np.ndarray, person: np.ndarray, kept: np.ndarray, replaced: np.ndarray) -> np.ndarray:
    """``result`` with the outer pixels of a ``kept`` region (the hair, a kept arm) beside what the try-on changed
    (``replaced``: the new garment, the skin made up or the backdrop in the old one's place) blended with the new
    pixels rather than with what the photo has there: a pixel there is a mix of the kept region (its nearest pixel a
    little inside) and the photo beside it (the old garment, the nearest of it a little outside), and, kept as it was,
    the old garment's share drew a light line round the hair over the skin or garment replacing a white top (a dark
    one replacing a black top), a dark line of old jeans along an arm over the backdrop."""
    fringe = kept & _dilate(replaced, 2)
    if not fringe.any():
        return result
    box = ndimage.find_objects(_dilate(fringe, 8).astype(np.uint8))[0]
    inner = kept[box] & ~_dilate(replaced, 3)[box]
    outer = replaced[box] & ~_dilate(kept, 2)[box]
    if not inner.any() or not outer.any():
        return result
    here = person[box]
    _, (rows, cols) = ndimage.distance_transform_edt(~inner, return_indices=True)
    kept_colour = here[rows, cols]
    # (Each a little smoothed along the edge: the nearest pixel of a print alone left specks of its colours.)
    weight = np.maximum(_blur_fast(outer.astype(np.float32), 1.5), 1e-6)[..., None]
    old_smooth = _blur_fast((here * outer[..., None]).astype(np.float32), 1.5) / weight
    new_smooth = _blur_fast((result[box] * outer[..., None]).astype(np.float32), 1.5) / weight
    _, (rows, cols) = ndimage.distance_transform_edt(~outer, return_indices=True)
    old_colour, new_colour = old_smooth[rows, cols], new_smooth[rows, cols]
    t, off, length = _on_segment(here, kept_colour, old_colour)
    mixed = fringe[box] & (t > 0.05) & (t < 0.85) & (off < 0.06) & (length > 0.15)
    if not mixed.any():
        return result
    result = result.copy()
    blended = kept_colour + t[..., None] * (new_colour - kept_colour)
    result[box][mixed] = blended[mixed]
    return result


def _sample(image: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` ``(H, W, C)`` at pixel coordinates ``source`` ``(..., 2)`` (x, y; pixel centres
    at +0.5), zero outside (as ``grid_sample`` with zero padding)."""
    x = source[..., 0] - 0.5
    y = source[..., 1] - 0.5
    height, width = image.shape[:2]
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)))
    x0c, y0c = np.clip(x0 + 1, 0, width + 1), np.clip(y0 + 1, 0, height + 1)
    x1c, y1c = np.clip(x0 + 2, 0, width + 1), np.clip(y0 + 2, 0, height + 1)
    top = padded[y0c, x0c] * (1 - fx) + padded[y0c, x1c] * fx
    bottom = padded[y1c, x0c] * (1 - fx) + padded[y1c, x1c] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def _colour_bins(image: np.ndarray) -> np.ndarray:
    """The 16x16x16 RGB bin of every pixel of a [0, 1] image."""
    q = np.clip((image * 16).astype(np.int32), 0, 15)
    return q[..., 0] * 256 + q[..., 1] * 16 + q[..., 2]


def _colour_density(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The colour density (16^3 bins, a little smoothed) of the pixels ``where``."""
    counts = np.bincount(_colour_bins(image)[where], minlength=4096).astype(np.float64).reshape(16, 16, 16)
    counts = ndimage.gaussian_filter(counts, 0.6, mode="constant").ravel()
    return counts / max(counts.sum(), 1e-9)


def _chroma(person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YCbCr's Cb and Cr of ``person`` (RGB in [0, 1]): its colour, whatever its brightness."""
    r, g, b = person[..., 0], person[..., 1], person[..., 2]
    return -0.1687 * r - 0.3313 * g + 0.5 * b, 0.5 * r - 0.4187 * g - 0.0813 * b


def _skin_in_shadow(person: np.ndarray, luminance: np.ndarray, face: np.ndarray, skin_chroma: np.ndarray
                    ) -> np.ndarray:
    """Pixels darker than the face's median that have the skin's chroma (``skin_chroma``: :func:`_skin_chroma` of the
    face and hands) and are at least four fifths as saturated as the face (shadowed skin keeps or deepens its colour;
    black, grey and sheer black fabric over skin are greyer)."""
    total = person.sum(2) + 1e-3
    saturation = np.hypot(person[..., 0] / total - 1 / 3, person[..., 1] / total - 1 / 3)
    level = float(np.median(luminance[face]))
    return ((luminance < level) & (saturation >= 0.8 * float(np.median(saturation[face])))
            & skin_chroma)


def _skin_chroma(person: np.ndarray, reference: np.ndarray, floor: float = 0.035) -> np.ndarray:
    """Pixels whose chroma (YCbCr's Cb, Cr; any brightness: lit or in shadow) is the skin's seen in ``reference``:
    within three robust spreads (at least ``floor``) of its median, so that a few cuffs or hair strands in the
    reference do not widen it; all True when the reference is too small to tell."""
    if reference.sum() < 30:
        return np.ones(person.shape[:2], bool)
    near = np.ones(person.shape[:2], bool)
    for chroma in _chroma(person):
        median = float(np.median(chroma[reference]))
        spread = 1.4826 * float(np.median(np.abs(chroma[reference] - median)))
        near &= np.abs(chroma - median) <= max(3.0 * spread, floor)
    return near


def _chroma_box(person: np.ndarray, reference: np.ndarray, pad: float = 0.015) -> np.ndarray:
    """Pixels whose YCbCr chroma lies within the 10th-90th percentile box of the ``reference`` pixels' (``pad``
    around it): tighter than :func:`_skin_chroma`, whose spread-based reach takes in greys beside dark skin."""
    near = np.ones(person.shape[:2], bool)
    for chroma in _chroma(person):
        low, high = np.percentile(chroma[reference], [10, 90])
        near &= (chroma >= low - pad) & (chroma <= high + pad)
    return near


def _skin_likeness(person: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pixels whose colour is close to the skin seen in ``reference`` (YCbCr chroma within the reference's spread)."""
    if reference.sum() < 30:
        return np.zeros(person.shape[:2], bool)
    luma = _luminance(person)
    lo_y, hi_y = np.percentile(luma[reference], [5, 95])
    # Skin is smooth: a print in skin tones (leopard, tan stripes) has a high local spread of luminance.
    spread = _local_spread(luma)
    return _chroma_box(person, reference) & (luma >= lo_y - 0.15) & (luma <= hi_y + 0.1) & (spread < 0.05)


@register_model(SPEC)
def tps_baseline(**config) -> TPSBaseline:
    """The weight-free baseline (no parameters; ``config`` fields of :class:`TPSBaselineConfig`)."""
    return TPSBaseline(TPSBaselineConfig(**config))
