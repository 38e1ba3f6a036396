"""tps-baseline: a weight-free try-on, a thin-plate-spline warp from garment landmarks to pose keypoints.

No paper and no learned weights: this project's own baseline (MIT, like the rest of vton-zoo). It is what the demo
runs on a fresh machine before any checkpoint is installed, and a reference row in the comparison table. Thin-plate
splines: F. L. Bookstein, "Principal Warps: Thin-Plate Splines and the Decomposition of Deformations", IEEE TPAMI
11(6), 1989 (CP-VTON's GMM regresses the same kind of warp with a network; here the control points come from
geometry).

Data flow (per image of the batch; everything is plain tensor arithmetic, no parameters):

1. **Keypoints** are read back from the ``pose`` heatmaps (weighted centroid of each map's top half).
2. **Garment landmarks** from the garment mask: the torso's side lines (fitted on the lower torso rows, where sleeves
   no longer touch it), the shoulder points (top contour above those lines), the armpits (where the row through the
   garment's centre first leaves the line going up), the collar corners (highest points of the top contour near the
   centre), the hem corners, and per sleeve (mask outside the torso lines) its root, its cuff centre and half-width.
3. **Targets on the person**: the garment's shoulder points go just outside and above the shoulder keypoints; the
   garment's upper landmarks follow by the similarity that maps one pair onto the other; the waist and hem follow
   the torso axis (neck to mid-hip) and are pulled towards the width of the person's own upper-body region in the
   parse, so that the new garment covers the old one. Each sleeve's cuff is placed along the arm
   (shoulder -> elbow -> wrist) at the sleeve's scaled length.
4. **Warp**: one thin-plate spline for the torso and one per sleeve, each fitted by a small regularised linear
   solve (float64), evaluated on a 4x coarser grid and upsampled into a backward sampling grid, and applied with
   ``grid_sample`` to the garment and its part mask. The sleeve splines are stiff (nearly affine) so that a sleeve
   turning from the flat pose down the arm cannot fold; each part is kept inside the (grown) hull of its target
   points, where a spline folds back onto the garment far from its control points. Sleeves are layered over the
   torso (arms hang in front of the body).
5. **Composite inside the coarse parse**: the warped garment may replace the upper-garment, neck/chest and arm
   regions (and a thin band of background beside them); face, hair, hands and lower body are copied from the
   person exactly. Old-garment pixels the new garment does not cover are filled: arm and neck zones with the
   person's skin colour, anything else by push-pull inpainting from the surrounding pixels (so no old-garment
   colour survives).

Known limits (it is a baseline): the garment keeps its flat-lay shading and the inner back of a neckline shows as
in the product shot; sleeves of boxy, dropped-shoulder tops come out stretched along the arm; a garment is always
"tucked in" (the lower body is kept); the skin fill is a flat colour.

Outputs use the canonical names of the flow models: ``warped_garment``, ``warped_mask``, ``flow`` (the combined
sampling grid, channel 0 = x, 1 = y, ``align_corners=False``), ``composite_mask`` and ``tryon``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from .. import types
from ..preprocess import labels
from ..registry import ModelSpec, WeightsSpec, register_model
from ._base import TryOnModel

logger = logging.getLogger(__name__)

NUM_KEYPOINTS = 18  # COCO-18
_KP = labels.COCO18_INDEX


@dataclass
class TPSBaselineConfig:
    """Options of the TPS baseline (all geometric constants are in units of the person's shoulder-keypoint width)."""

    regularisation: float = 1e-3  # TPS smoothing (lambda on the kernel diagonal, coordinates in [-1, 1])
    sleeve_stiffness: float = 10.0  # the same for the sleeve splines: large = close to an affine map
    shoulder_out: float = 0.10  # garment shoulder point: this far outside the shoulder keypoint...
    shoulder_up: float = 0.06  # ...and this far above it
    armpit_depth: float = 0.40  # person's armpit: this far below the shoulder keypoint...
    armpit_in: float = 0.05  # ...and this far inside it
    sleeve_drape: float = 0.8  # worn sleeve length / flat sleeve length (shoulder point to cuff centre)
    arm_radius: float = 0.14  # smallest half-width of a sleeve end on the person
    length_scale: float = 0.85  # worn length below the shoulders / flat length (fabric drapes over the body)
    width_adapt: float = 0.6  # 0: waist/hem widths from the garment alone; 1: from the person's upper-body region
    background_band: float = 0.06  # how far the garment may reach beyond the person's upper body into background


SPEC = ModelSpec(
    name="tps-baseline",
    title="TPS baseline (weight-free)",
    paper="No paper: vton-zoo's own weight-free baseline (thin-plate-spline warp from garment-contour landmarks to "
          "pose keypoints; TPS after Bookstein, TPAMI 1989)",
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
        "warped_garment": types.image("garment warped onto the person (torso and sleeve TPS), [-1, 1]"),
        "warped_mask": types.mask("garment mask warped with the same grids"),
        "flow": types.raw("the TPS sampling grid as a flow field: normalised grid_sample coordinates (channel 0 = x, "
                          "1 = y, align_corners=False) in about [-1, 1]", 2),
        "composite_mask": types.mask("where the warped garment is pasted: the warped mask inside the parse regions "
                                     "it may cover"),
        "tryon": types.image("final try-on image, [-1, 1]; face, hair, hands and lower body copied from the person"),
    },
    resolution=(512, 384),
    resolutions=((256, 192), (1024, 768)),
    categories=("upper", "lower", "dress"),
    size_multiple=32,
    weights=WeightsSpec(needs_weights=False,
                        notes="Built in: needs no learned weights (geometry only), nothing to download."),
    description="Weight-free baseline: garment landmarks from the mask matched to pose keypoints, thin-plate-spline "
                "warp (torso + one per sleeve), composited inside the coarse parse with skin / inpainting fill. "
                "About 0.1 s CPU at 512x384 (0.3 s with preprocessing).",
)


# --- small geometry helpers ------------------------------------------------------------------------------------------


def _unit(vector: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    norm = float(np.hypot(*vector))
    return vector / norm if norm > 1e-6 else fallback


def _perp(vector: np.ndarray) -> np.ndarray:
    """``vector`` rotated by +90 degrees in image coordinates (x right, y down): right -> down."""
    return np.array([-vector[1], vector[0]])


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


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


# --- 2. garment landmarks --------------------------------------------------------------------------------------------


@dataclass
class _Sleeve:
    mask: np.ndarray  # bool (H, W) sleeve pixels of the garment
    root: np.ndarray  # centre of the sleeve's seam (between shoulder point and armpit)
    cuff: np.ndarray  # centre of the sleeve end
    outer: np.ndarray  # cuff corner that ends the sleeve's top edge (the side away from the body)
    inner: np.ndarray  # cuff corner that ends the sleeve's underside


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


def garment_landmarks(mask: np.ndarray) -> _GarmentLandmarks:
    """Collar, shoulder, armpit, waist and hem points and the sleeves of a garment mask (bool ``(H, W)``)."""
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    box_h, box_w = bottom - top + 1, right - left + 1

    # Centre column: the middle of the lower garment's rows (robust to one long sleeve hanging lower).
    band = np.arange(top + int(0.6 * box_h), top + int(0.9 * box_h) + 1)
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

    def line_x(side: int, y: float) -> float:
        slope, intercept = lines[side]
        return slope * y + intercept

    tol = max(2.0, 0.03 * box_w)
    band_top = int(band[0]) if len(band) else top
    # Top contour: first garment row of each column (bottom of the image for empty columns).
    has = mask.any(0)
    top_contour = np.where(has, np.argmax(mask, axis=0), height - 1).astype(np.float64)

    shoulder, armpit, waist, hem = [], [], [], []
    for side, edge in ((0, run_left), (1, run_right)):
        # Armpit: going up from the band, the first row whose centre run leaves the line by more than tol.
        armpit_y = float(top)
        for y in range(band_top, top - 1, -1):
            value = edge[y]
            if not np.isfinite(value) or abs(value - line_x(side, y)) > tol:
                armpit_y = float(y + 1)
                break
        armpit_y = max(armpit_y, top + 0.15 * box_h)
        # A flared or batwing body can hide the armpit; worn, it is never much lower than half a shoulder width.
        armpit_y = min(armpit_y, top + 0.3 * box_w)
        # Shoulder point: the top contour above the torso line at armpit height.
        x_shoulder = float(np.clip(line_x(side, armpit_y), 0, width - 1))
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
        lo, hi = sorted((centre + sign * 0.1 * half, centre + sign * 0.6 * half))
        cols = np.arange(int(max(0, lo)), int(min(width - 1, hi)) + 1)
        cols = cols[has[cols]] if len(cols) else cols
        if len(cols):
            best = cols[np.argmin(top_contour[cols])]
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
        if sleeve_mask.sum() < 0.02 * mask.sum() or distance.max() < 0.08 * box_w:
            sleeves.append(None)
            continue
        torso_mask &= ~sleeve_mask
        root = (shoulder[side] + armpit[side]) / 2
        axis = _unit(points[distance >= 0.7 * distance.max()].mean(0) - root, np.array([0.0, 1.0]))
        along = (points - root) @ axis
        end = along >= along.max() - max(2.0, 0.1 * along.max())
        cuff = points[end].mean(0)
        normal = _perp(axis)
        across = (points[end] - cuff) @ normal
        # The top edge lies on the side of the axis that points outwards and up (see _sleeve_targets).
        if _cross(axis, np.array([-1.0 if side == 0 else 1.0, -1.0])) < 0:
            normal = -normal
            across = -across
        outer = cuff + max(0.5, float(across.max())) * normal
        inner = cuff + min(-0.5, float(across.min())) * normal
        sleeves.append(_Sleeve(sleeve_mask, root, cuff, outer, inner))
    return _GarmentLandmarks(torso_mask, collar, shoulder, armpit, waist, hem, sleeves)


# --- 3. targets on the person ----------------------------------------------------------------------------------------


@dataclass
class _Body:
    shoulder: list[np.ndarray]  # image-left, image-right
    elbow: list[np.ndarray | None]
    wrist: list[np.ndarray | None]
    neck: np.ndarray
    mid_hip: np.ndarray
    width: float  # shoulder keypoint distance


def _body(keypoints: np.ndarray, size: tuple[int, int]) -> _Body:
    """Body frame from COCO-18 keypoints (pixels); a default frame, with a warning, when the shoulders are unusable."""
    height, width = size

    def point(name: str) -> np.ndarray | None:
        x, y, confidence = keypoints[_KP[name]]
        return np.array([x, y]) if confidence > 0 else None

    right, left = point("RShoulder"), point("LShoulder")
    if right is None or left is None or np.hypot(*(left - right)) < 0.02 * width:
        logger.warning("tps-baseline: no usable shoulders in the pose; placing the garment in a default frame")
        shoulder_width = 0.36 * width
        neck = np.array([width / 2, 0.27 * height])
        shoulders = [neck - [shoulder_width / 2, 0], neck + [shoulder_width / 2, 0]]
        return _Body(shoulders, [None, None], [None, None], neck, neck + [0, 1.5 * shoulder_width], shoulder_width)
    # Image-left / image-right: a front-facing person's right shoulder is on the image left.
    swap = right[0] > left[0]
    sides = ("L", "R") if swap else ("R", "L")
    shoulders = [point(sides[0] + "Shoulder"), point(sides[1] + "Shoulder")]
    elbows = [point(sides[0] + "Elbow"), point(sides[1] + "Elbow")]
    wrists = [point(sides[0] + "Wrist"), point(sides[1] + "Wrist")]
    shoulder_width = float(np.hypot(*(shoulders[1] - shoulders[0])))
    neck = (shoulders[0] + shoulders[1]) / 2
    hips = [point("RHip"), point("LHip")]
    seen = [h for h in hips if h is not None]
    across = _unit(shoulders[1] - shoulders[0], np.array([1.0, 0.0]))
    down = _perp(across)
    mid_hip = np.mean(seen, 0) if seen else neck + 1.5 * shoulder_width * down
    if len(seen) == 1:  # one hip: its projection on the torso axis
        mid_hip = neck + float((seen[0] - neck) @ down) * down
    if float((mid_hip - neck) @ down) < 0.5 * shoulder_width:
        mid_hip = neck + 1.5 * shoulder_width * down
    return _Body(shoulders, elbows, wrists, neck, mid_hip, shoulder_width)


class _Similarity:
    """The similarity transform mapping two source points onto two target points."""

    def __init__(self, src: tuple[np.ndarray, np.ndarray], dst: tuple[np.ndarray, np.ndarray]):
        src_vec, dst_vec = src[1] - src[0], dst[1] - dst[0]
        src_len = max(float(np.hypot(*src_vec)), 1e-6)
        self.scale = float(np.hypot(*dst_vec)) / src_len
        angle = math.atan2(dst_vec[1], dst_vec[0]) - math.atan2(src_vec[1], src_vec[0])
        self.rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        self.src0, self.dst0 = src[0], dst[0]

    def __call__(self, point: np.ndarray) -> np.ndarray:
        return self.dst0 + self.scale * self.rotation @ (point - self.src0)


def _row_extent(region: np.ndarray, y: float, x_centre: float) -> tuple[float, float] | None:
    """Extent of the run of ``region`` in row ``y`` that contains (or is nearest to) ``x_centre``."""
    height, width = region.shape
    row = int(round(y))
    if not 0 <= row < height:
        return None
    cols = np.flatnonzero(region[row])
    if len(cols) == 0:
        return None
    # Split the row into runs and take the one nearest the centre.
    breaks = np.flatnonzero(np.diff(cols) > 1)
    starts = np.concatenate([[cols[0]], cols[breaks + 1]])
    ends = np.concatenate([cols[breaks], [cols[-1]]])
    gaps = np.maximum(0, np.maximum(starts - x_centre, x_centre - ends))
    best = int(np.argmin(gaps))
    if gaps[best] > 0.05 * width:
        return None
    return float(starts[best]), float(ends[best])


@dataclass
class _Targets:
    """Where the garment's upper landmarks go on the person (pixels), index 0 = image-left."""

    shoulder: list[np.ndarray]
    armpit: list[np.ndarray]
    similarity: _Similarity


def _fit_targets(garment: _GarmentLandmarks, body: _Body, body_region: np.ndarray,
                 config: TPSBaselineConfig) -> tuple[list[tuple[np.ndarray, np.ndarray]], _Targets]:
    """Torso control pairs (garment point, person point) in pixels, and the shared upper targets."""
    sw = body.width
    across = _unit(body.shoulder[1] - body.shoulder[0], np.array([1.0, 0.0]))
    up = -_perp(across)
    outward = [-across, across]
    shoulder = [body.shoulder[side] + config.shoulder_out * sw * outward[side] + config.shoulder_up * sw * up
                for side in (0, 1)]
    # The armpit is where the inner side of the upper arm meets the torso: below and inside the shoulder joint.
    # (A flat garment's armpit lies on its torso line, which maps onto the arm; worn, the torso drapes inwards.)
    armpit = [body.shoulder[side] - config.armpit_depth * sw * up - config.armpit_in * sw * outward[side]
              for side in (0, 1)]
    similarity = _Similarity((garment.shoulder[0], garment.shoulder[1]), (shoulder[0], shoulder[1]))

    # Lean: the lower landmarks follow the torso axis rather than the normal of the shoulder line.
    axis = _unit(body.mid_hip - body.neck, -up)
    lean = math.atan2(_cross(-up, axis), float(-up @ axis))
    lean_rotation = np.array([[math.cos(lean), -math.sin(lean)], [math.sin(lean), math.cos(lean)]])

    def lower(point: np.ndarray) -> np.ndarray:
        offset = similarity(point) - body.neck
        along = float(offset @ -up)  # below the shoulder line: shortened (a flat garment is longer than worn)
        return body.neck + lean_rotation @ (offset + (config.length_scale - 1) * along * -up)

    pairs = []
    for side in (0, 1):
        pairs.append((garment.shoulder[side], shoulder[side]))
        pairs.append((garment.collar[side], similarity(garment.collar[side])))
        pairs.append((garment.armpit[side], armpit[side]))
    # Waist and hem: along the torso axis, widths pulled towards the person's upper-body region.
    for level in (garment.waist, garment.hem):
        mapped = [lower(level[0]), lower(level[1])]
        centre = (mapped[0] + mapped[1]) / 2
        extent = _row_extent(body_region, centre[1], centre[0])
        if extent is not None and config.width_adapt > 0:
            garment_half = abs(mapped[1][0] - mapped[0][0]) / 2
            person_half = (extent[1] - extent[0]) / 2
            if 0.5 * garment_half < person_half < 2.0 * garment_half:
                half = (1 - config.width_adapt) * garment_half + config.width_adapt * person_half
                middle = (1 - config.width_adapt) * centre[0] + config.width_adapt * (extent[0] + extent[1]) / 2
                mapped = [np.array([middle - half, mapped[0][1]]), np.array([middle + half, mapped[1][1]])]
        pairs.append((level[0], mapped[0]))
        pairs.append((level[1], mapped[1]))
    # Neck centre: keeps the collar from shearing.
    collar_mid = (garment.collar[0] + garment.collar[1]) / 2
    pairs.append((collar_mid, similarity(collar_mid)))
    return pairs, _Targets(shoulder, armpit, similarity)


def _sleeve_targets(sleeve: _Sleeve, side: int, garment: _GarmentLandmarks, body: _Body, targets: _Targets,
                    config: TPSBaselineConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Control pairs of one sleeve: its seam (shared with the torso warp) and its end placed along the arm."""
    sw, scale = body.width, targets.similarity.scale
    across = _unit(body.shoulder[1] - body.shoulder[0], np.array([1.0, 0.0]))
    up = -_perp(across)
    outward = -across if side == 0 else across
    shoulder_kp, elbow, wrist = body.shoulder[side], body.elbow[side], body.wrist[side]
    if elbow is None:  # hanging arm, slightly away from the body
        elbow = shoulder_kp + 1.1 * sw * _unit(0.25 * outward - up, -up)
    chain = [shoulder_kp, elbow] + ([wrist] if wrist is not None else [])
    lengths = [float(np.hypot(*(b - a))) for a, b in zip(chain[:-1], chain[1:])]

    def along_arm(distance: float) -> tuple[np.ndarray, np.ndarray]:
        """The point ``distance`` down the arm chain from the shoulder joint, and the arm's direction there."""
        for (start, end), length in zip(zip(chain[:-1], chain[1:]), lengths):
            direction = _unit(end - start, -up)
            if distance <= length or end is chain[-1]:
                return start + direction * min(distance, 1.05 * length), direction
            distance -= length
        raise AssertionError("unreachable")

    # Flat-lay sleeves stick out and include the dropped part of the shoulder; worn, they hang and fold, so the
    # sleeve reaches a bit less far down the arm than its flat length.
    length = config.sleeve_drape * scale * float(np.hypot(*(sleeve.cuff - garment.shoulder[side])))
    cuff_target, direction = along_arm(length)
    normal = _perp(direction)
    if _cross(direction, outward + up) < 0:
        normal = -normal
    half_width = max(0.5 * scale * float(np.hypot(*(sleeve.outer - sleeve.inner))), config.arm_radius * sw)
    pairs = [(garment.shoulder[side], targets.shoulder[side]), (garment.armpit[side], targets.armpit[side]),
             (sleeve.cuff, cuff_target), (sleeve.outer, cuff_target + half_width * normal),
             (sleeve.inner, cuff_target - half_width * normal)]
    if length > 1.15 * lengths[0] and len(chain) == 3:
        # Long sleeve: the elbow, at the matching fraction of the garment's shoulder -> cuff line.
        fraction = lengths[0] / length
        pairs.append((garment.shoulder[side] + fraction * (sleeve.cuff - garment.shoulder[side]), elbow))
    return pairs


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


# --- 5. compositing helpers ------------------------------------------------------------------------------------------


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
    estimate = value / weight.clamp_min(1e-6)
    for value, weight in reversed(levels[:-1]):
        upsampled = F.interpolate(estimate[None], size=value.shape[-2:], mode="bilinear", align_corners=False)[0]
        confidence = weight.clamp(0, 1)
        estimate = value / weight.clamp_min(1e-6) * confidence + upsampled * (1 - confidence)
    return estimate


def _capsule_distance(xs: np.ndarray, ys: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    start, end = np.asarray(start, xs.dtype), np.asarray(end, xs.dtype)
    vec = end - start
    length_sq = max(float(vec @ vec), 1e-9)
    t = np.clip(((xs - start[0]) * vec[0] + (ys - start[1]) * vec[1]) / length_sq, 0.0, 1.0)
    return np.hypot(xs - start[0] - t * vec[0], ys - start[1] - t * vec[1])


def _skin_colour(person: np.ndarray, parse: np.ndarray) -> np.ndarray:
    """Median RGB (in [-1, 1]) of the bare arm and neck skin, else of the face, else a neutral skin tone."""
    for wanted in ((labels.RIGHT_ARM, labels.LEFT_ARM, labels.NECK), (labels.FACE,)):
        where = np.isin(parse, wanted)
        if where.sum() >= 20:
            return np.median(person[:, where], axis=1)
    return np.array([0.6, 0.2, 0.0])


# --- the model -------------------------------------------------------------------------------------------------------


class TPSBaseline(TryOnModel):
    """Weight-free try-on: garment landmarks -> pose keypoints TPS warp, composited inside the coarse parse."""

    spec = SPEC

    def __init__(self, config: TPSBaselineConfig | None = None) -> None:
        super().__init__(config or TPSBaselineConfig())

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        batch, height, width = self.check_inputs(inputs)
        for key, value in inputs.items():
            if not torch.isfinite(value.sum()):  # bounded inputs: the sum is finite iff every value is
                raise ValueError(f"{self.spec.name} input '{key}' contains NaN or inf")
        garment_masks = inputs["garment_mask"][:, 0] > 0.5
        for index in range(batch):
            if not garment_masks[index].any():
                raise ValueError(f"{self.spec.name} input 'garment_mask' is empty (no garment pixel) in batch item "
                                 f"{index}")
        keypoints = decode_keypoints(inputs["pose"])
        parse = inputs["parse"].detach().float().cpu().numpy().argmax(1).astype(np.uint8)  # numpy: ~3x torch's speed
        outputs = [self._one(inputs["person"][i], inputs["garment"][i], garment_masks[i], parse[i], keypoints[i])
                   for i in range(batch)]
        return {name: torch.stack([out[name] for out in outputs]) for name in self.spec.outputs}

    def _one(self, person: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor, parse_np: np.ndarray,
             keypoints: np.ndarray) -> dict[str, torch.Tensor]:
        config: TPSBaselineConfig = self.config
        _, height, width = person.shape
        dtype, device = person.dtype, person.device
        mask_np = garment_mask.cpu().numpy()
        body = _body(keypoints, (height, width))
        landmarks = garment_landmarks(mask_np)

        upper_body = np.isin(parse_np, (labels.UPPER_GARMENT, labels.NECK))
        arms = np.isin(parse_np, labels.ARM_LABELS)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        torso_quad = _torso_quad(xx, yy, body)
        arm_zone = np.zeros((height, width), bool)
        arm_radius = 0.16 * body.width
        for side in (0, 1):
            chain = [body.shoulder[side], body.elbow[side], body.wrist[side]]
            chain = [p for p in chain if p is not None]
            if len(chain) == 1:
                chain.append(chain[0] + np.array([0.0, 1.0 * body.width]))
            for start, end in zip(chain[:-1], chain[1:]):
                arm_zone |= _capsule_distance(xx, yy, start, end) < arm_radius
        torso_region = upper_body & ~(arm_zone & ~torso_quad)

        torso_pairs, targets = _fit_targets(landmarks, body, torso_region, config)
        parts = [(landmarks.torso_mask, torso_pairs)]
        for side, sleeve in enumerate(landmarks.sleeves):
            if sleeve is not None:
                parts.append((sleeve.mask, _sleeve_targets(sleeve, side, landmarks, body, targets, config)))

        scale = torch.tensor([2.0 / width, 2.0 / height], dtype=torch.float64)

        def normalised(point: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(point + 0.5, dtype=torch.float64) * scale - 1

        # Warp each part and layer them: torso first, sleeves over it.
        warped = torch.zeros_like(person)
        warped_mask = torch.zeros(1, height, width, dtype=dtype, device=device)
        flow = torch.zeros(2, height, width, dtype=dtype, device=device)
        sleeve_cover = torch.zeros(1, height, width, dtype=dtype, device=device)
        garment_and_mask = torch.cat([garment, garment_mask[None].to(dtype)], 0)
        for index, (part_mask, pairs) in enumerate(parts):
            source = torch.stack([normalised(src) for src, _ in pairs])
            target = torch.stack([normalised(dst) for _, dst in pairs])
            # Sleeves: a stiff spline (nearly affine) cannot fold when the sleeve turns from the flat pose to the arm.
            coefficients = fit_tps(target, source, config.regularisation if index == 0 else config.sleeve_stiffness)
            grid = tps_grid(target, coefficients, (height, width), stride=4).to(device=device, dtype=dtype)
            # A part mask grown by a few pixels inside the garment hides seams between the separately warped parts.
            grown = _dilate(part_mask, 2) & mask_np
            part = torch.from_numpy(grown).to(device=device, dtype=dtype)[None]
            sampled = F.grid_sample(torch.cat([garment_and_mask, part], 0)[None], grid[None], mode="bilinear",
                                    padding_mode="zeros", align_corners=False)[0]
            # Far from its control points a TPS folds back onto the garment: keep each part near its targets.
            region = torch.from_numpy(_hull_mask([dst for _, dst in pairs], (height, width), 1.25)).to(device, dtype)
            alpha = sampled[3:4] * sampled[4:5] * region[None]
            warped = warped * (1 - alpha) + sampled[:3] * alpha
            warped_mask = warped_mask * (1 - alpha) + alpha
            flow = torch.where(alpha > 0.5, grid.permute(2, 0, 1), flow)
            if index > 0:
                sleeve_cover = torch.maximum(sleeve_cover, alpha)
            if index == 0:
                flow = grid.permute(2, 0, 1).clone()
        warped = torch.where(warped_mask > 1e-6, warped / warped_mask.clamp_min(1e-6), warped).clamp(-1, 1)

        # Where the garment may go: upper garment / neck region (torso), plus arms (sleeves), plus a thin band of
        # background beside them; never over face, hair, hands or the lower body.
        keep = np.isin(parse_np, (labels.HAIR, labels.FACE, labels.RIGHT_HAND, labels.LEFT_HAND, labels.LOWER_BODY))
        band = max(1, round(config.background_band * body.width))
        near = _dilate(upper_body | arms, band) & (parse_np == labels.BACKGROUND)
        allowed_torso = torch.from_numpy(upper_body | near).to(device=device, dtype=dtype)[None]
        allowed_sleeve = torch.from_numpy(upper_body | arms | near).to(device=device, dtype=dtype)[None]
        allowed = allowed_torso + (allowed_sleeve - allowed_torso) * sleeve_cover
        composite_mask = (warped_mask * allowed).clamp(0, 1)

        result = warped * composite_mask + person * (1 - composite_mask)
        # Old garment not covered by the new one: skin on arms and neck, inpainting elsewhere.
        old = torch.from_numpy(parse_np == labels.UPPER_GARMENT).to(device)[None]
        uncovered = old & (composite_mask < 0.5)
        if uncovered.any():
            neck_zone = _capsule_distance(xx, yy, body.neck, body.neck - np.array([0.0, 0.6 * body.width])) < (
                0.22 * body.width)
            skin_zone = torch.from_numpy((arm_zone & ~torso_quad) | neck_zone).to(device)[None]
            skin = torch.as_tensor(_skin_colour(person.cpu().numpy(), parse_np), dtype=dtype, device=device)
            known = (~(old & (composite_mask < 0.5))).to(dtype)
            filled = push_pull_fill(result, known)
            fill = torch.where(skin_zone, skin[:, None, None].expand_as(result), filled)
            result = torch.where(uncovered, fill, result)
        keep_t = torch.from_numpy(keep).to(device)[None]
        tryon = torch.where(keep_t, person, result).clamp(-1, 1)
        composite_mask = torch.where(keep_t, torch.zeros_like(composite_mask), composite_mask)
        return {"warped_garment": warped, "warped_mask": warped_mask.clamp(0, 1), "flow": flow,
                "composite_mask": composite_mask, "tryon": tryon}


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a (2 radius + 1) square (a max filter)."""
    tensor = torch.from_numpy(mask.astype(np.float32))[None, None]
    size = 2 * radius + 1  # separable: a row max then a column max
    tensor = F.max_pool2d(tensor, (1, size), stride=1, padding=(0, radius))
    return F.max_pool2d(tensor, (size, 1), stride=1, padding=(radius, 0))[0, 0].numpy() > 0.5


def _hull_mask(points: list[np.ndarray], size: tuple[int, int], grow: float) -> np.ndarray:
    """Filled convex hull of ``points`` (pixels), scaled by ``grow`` about its centroid: bool ``(H, W)``."""
    from PIL import Image, ImageDraw

    height, width = size
    pts = np.asarray(points, np.float64)
    centre = pts.mean(0)
    pts = centre + grow * (pts - centre)
    try:
        from scipy.spatial import ConvexHull

        hull = pts[ConvexHull(pts).vertices]
    except Exception:  # degenerate (collinear) points: no area
        return np.zeros((height, width), bool)
    canvas = Image.new("L", (width, height))
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in hull], fill=1)
    return np.asarray(canvas, bool)


def _torso_quad(xs: np.ndarray, ys: np.ndarray, body: _Body) -> np.ndarray:
    """Pixels inside the torso: between the shoulder points and the hips, 0.45 shoulder widths either side."""
    across = _unit(body.shoulder[1] - body.shoulder[0], np.array([1.0, 0.0]))
    axis = _unit(body.mid_hip - body.neck, _perp(across))
    length = float(np.hypot(*(body.mid_hip - body.neck)))
    u = (xs - body.neck[0]) * across[0] + (ys - body.neck[1]) * across[1]
    v = (xs - body.neck[0]) * axis[0] + (ys - body.neck[1]) * axis[1]
    return (np.abs(u) < 0.45 * body.width) & (v > 0) & (v < 1.1 * length)


@register_model(SPEC)
def tps_baseline(**config) -> TPSBaseline:
    """The weight-free TPS baseline (no parameters; ``config`` fields of :class:`TPSBaselineConfig`)."""
    return TPSBaseline(TPSBaselineConfig(**config))
