"""Garment masks and garment part masks from a product shot.

:func:`garment_mask` segments a garment photographed on a plain background: white, light grey, off-white, or mildly
textured (paper, fabric, sensor noise), with or without a smooth gradient. It is what PF-AFN, DM-VTON and RMGN feed
as ``edge`` and what GP-VTON multiplies its garment by. Steps:

1. the background is modelled from the image border: a quadratic colour surface per channel (a vignette
   is part of it) fitted robustly to the
   border strip (so a vignette or a light gradient is part of the background, and garment pixels touching the border
   are left out as outliers); its residual spread measures the background's noise;
2. a border that does not fit such a surface is a busy background (a room, a street, a pattern): that is refused
   with a ``ValueError`` rather than turned into a wrong mask;
3. the colour distance of every pixel to the background model is thresholded at a level adapted to the background
   noise, cleaned with a morphological opening, hole-filled (prints, buttons and the garment's inner back showing
   through the neckline are garment), and reduced to the main component(s);
4. pale garments or pale parts (white, cream, light grey on a light backdrop) differ from the backdrop by less than
   that threshold. They are found at a lower threshold, with two guards. JPEG ringing: next to a strong edge the
   backdrop itself deviates by up to ~12% of the edge's contrast for up to ~14 px (measured on the dataset shots),
   so there the low threshold is raised to that level. Backdrop shading (light fall-off, a soft shadow): a pale
   part must have a crisp outline, its boundary must lie on a colour edge clearly steeper than the backdrop's;
5. the boundary is refined at a fraction of the local garment contrast (the half-way point of the edge), which is
   where the datasets' own masks put it; a fixed low threshold would include the JPEG halo around the garment.

:func:`check_garment_photo` is the check a pipeline runs before masking: it refuses a photo of a person (someone
wearing the garment) and a garment on a background that cannot be separated.

:func:`garment_parts` splits a garment mask into left sleeve, torso and right sleeve from its geometry (GP-VTON's
``left/torso/right`` masks), and :func:`garment_parts_label` packs them into GP-VTON's ``flat_clothes_label``.
"Left" and "right" are the wearer's: in a front-facing product shot the LEFT sleeve is on the IMAGE-RIGHT side.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from .io import load_image
from .labels import COCO18_INDEX
from .pose import PoseResult, detect_people, estimate_pose

try:  # (OpenCV, when installed (it comes with MediaPipe): its dilations are several times faster than SciPy's)
    import cv2 as _cv2
except ImportError:  # pragma: no cover - exercised by the tests with it patched out
    _cv2 = None

logger = logging.getLogger(__name__)

#: Width of the border strip the background is estimated from, as a fraction of the short side.
BORDER_FRACTION = 0.02
#: Smallest foreground threshold (RGB Euclidean distance to the background) on a clean background.
MIN_THRESHOLD = 12.0
#: Foreground threshold in units of the background's per-channel noise (robust std of the border residuals).
NOISE_MULTIPLIER = 4.5
#: A border whose per-channel noise exceeds this (in 0..255 units) is a busy background, not a plain one.
MAX_BACKGROUND_NOISE = 14.0
#: At least this fraction of the border must match the background model; less is a busy background (or a garment
#: photographed so close that it fills the frame). The dataset product shots have >= 99.6%.
MIN_BACKGROUND_FRACTION = 0.8
#: The refined boundary lies where the distance to the background reaches this fraction of the local garment contrast.
EDGE_CONTRAST_FRACTION = 0.35
#: Components smaller than this fraction of the largest one are dropped (specks, dust, stray threads).
MIN_COMPONENT_FRACTION = 0.1
#: A mask smaller than this fraction of the image means no garment was found.
MIN_GARMENT_FRACTION = 0.005
#: Pale parts: the low colour-distance threshold on a clean backdrop (raised with the backdrop's noise like
#: ``MIN_THRESHOLD``; on a backdrop too noisy for it to stay below ``MIN_THRESHOLD`` no pale parts are looked for).
PALE_MIN_THRESHOLD = 5.0
#: JPEG ringing next to an edge: reach in pixels and amplitude as a fraction of the edge's colour distance. On the
#: dataset shots the backdrop 3..14 px from the garment deviates by at most 7-9% of the nearest strong distance.
HALO_RADIUS = 14
HALO_RATIO = 0.15
#: A pale part's outline must be a colour edge: the median gradient (RGB norm per pixel, after a 1 px Gaussian) along
#: it must reach this, and this multiple of the backdrop's own median gradient. A sharp outline at the low threshold
#: has ~2 (more for more contrast); a backdrop's light fall-off or a soft shadow, quantised to 8 bits, has steps of
#: one grey level: ~0.7.
PALE_EDGE_MIN = 1.2
PALE_EDGE_NOISE_MULTIPLIER = 4.0
#: Faint parts (a white garment a few levels off a white backdrop, whose outline JPEG and resizing have softened below
#: the edge test above): the colour distance smoothed over ``unit`` pixels must exceed this level, and this multiple of
#: the same smoothed distance's 95th percentile on the border...
FAINT_MIN_THRESHOLD = 2.0
FAINT_BORDER_MULTIPLIER = 2.0
#: ...and the part must stand out as a step: the median smoothed distance 2-6 px inside its outline minus the median
#: 2-6 px outside must reach this. The dataset's white T-shirts on white give 3.2-4.9; a soft drop shadow or a light
#: fall-off 6 levels deep gives ~1.6 (its distance changes by little over a few pixels).
FAINT_STEP = 2.6
#: Share of the halo guard (``HALO_RATIO``) that applies to the smoothed distance.
FAINT_HALO_SHARE = 0.25
#: Horizontal stripes of the backdrop's colour (a white stripe of a Breton top on a white backdrop) cut bays into the
#: mask's sides: gaps of up to this fraction of the garment's height between garment pixels of one column are closed.
STRIPE_FRACTION = 0.05
#: A pose found in a garment photo is a person (someone wearing it) only if the person covers this fraction of the
#: photo (MediaPipe's person mask, else the keypoints' box): dataset person photos 0.37-0.53; figures MediaPipe finds
#: in garment prints or close-ups ~0.05.
MIN_PERSON_FRACTION = 0.15
#: A figure printed on a garment is no person: on a plain backdrop, the silhouette (what differs from the backdrop) at
#: the figure's head height spans the garment, at least this fraction of its width at the figure's shoulders. A real
#: person's head (hair included) is much narrower than the silhouette through the shoulders.
PRINT_HEAD_WIDTH = 0.9
#: Larger photos are segmented at this long side and the mask is scaled back: the faint-part and stripe tests hold
#: at this scale (at 1024x768 a white tee on white kept only its print), and a 12 MP phone photo would be slow.
MAX_WORKING_SIDE = 512


def check_garment_photo(image: object) -> None:
    """Refuse garment photos that cannot be turned into a garment mask, with a message that says what to upload.

    Two problems are caught, before any masking (the pipeline calls this first):

    - the photo shows a person (see below); checked first, as that is the useful message for a person photo;
    - the garment cannot be separated from its background: the border of the photo is not one plain backdrop. That
      is a busy background (a room, a street, a pattern, strong noise), or the garment itself covering much of the
      border (a close-up that fills the frame): at least ``MIN_BACKGROUND_FRACTION`` of the border must match one
      smooth colour surface, with noise at most ``MAX_BACKGROUND_NOISE``.

    A person (someone wearing the garment, or a person photo given as the garment) is a MediaPipe Pose body that
    stands upright (shoulders above the hips, the head above the shoulders, as far as they are seen), has at least
    3 visible body joints and covers at least ``MIN_PERSON_FRACTION`` of the photo; people are counted with
    :func:`vton_zoo.preprocess.pose.detect_people`. The size and posture conditions keep a figure that MediaPipe sees
    in a print or a close-up from counting. None of the dataset product shots is taken for a person; all dataset
    person photos are.

    Args:
        image: the garment photo: anything :func:`vton_zoo.preprocess.io.load_image` accepts.

    Raises:
        ValueError: the image is not a usable image (from ``load_image``), has a background the garment cannot be
            separated from, or shows a person.
        RuntimeError: MediaPipe is not installed.
    """
    rgb = load_image(image, role="garment")
    # The person check first: for a person photo given as the garment, that is the useful message.
    pose = estimate_pose(rgb)
    people = detect_people(rgb, first=pose) if _plausible_person(pose) and not _is_print(rgb, pose) else 0
    if people:
        found = "a person" if people == 1 else f"{people} people"
        raise ValueError(
            f"garment photo shows {found}, not a garment on its own: use a product photo of the garment alone "
            "(laid flat or on an invisible mannequin) on a plain, white or light background; the photo of the "
            "person goes in the person input"
        )
    _fit_plain_background(_working_copy(rgb).astype(np.float32))


def _plausible_person(pose: PoseResult) -> bool:
    """A pose that is a real, upright person of some size, not a figure MediaPipe sees in a print or a fold."""
    if not pose.found or pose.num_body_keypoints < 3:
        return False
    height, width = pose.image_size
    if pose.mask is not None:
        size = float((pose.mask > 0.5).mean())
    else:
        x0, y0, x1, y1 = pose.bbox() or (0.0, 0.0, 0.0, 0.0)
        size = (x1 - x0) * (y1 - y0) / (height * width)
    keypoints = pose.coco18
    index = COCO18_INDEX

    def mean_y(*names: str) -> float | None:
        seen = [keypoints[index[name], 1] for name in names if keypoints[index[name], 2] > 0]
        return float(np.mean(seen)) if seen else None

    head, shoulders, hips = mean_y("Nose", "REye", "LEye"), mean_y("RShoulder", "LShoulder"), mean_y("RHip", "LHip")
    upright = all(
        upper is None or lower is None or upper < lower for upper, lower in ((head, shoulders), (shoulders, hips))
    )
    logger.debug(
        "garment photo: pose with %d body joints, size %.3f, upright %s", pose.num_body_keypoints, size, upright
    )
    return upright and size >= MIN_PERSON_FRACTION


def _is_print(rgb: np.ndarray, pose: PoseResult) -> bool:
    """Whether the pose MediaPipe found is a figure printed on the garment rather than a person wearing it.

    On a plain backdrop a person's head stands out of the silhouette (what :func:`garment_mask` separates from the
    backdrop): its run through the head is much narrower than the run through the shoulders. A printed figure's head
    and shoulders both lie inside the garment, whose runs are about as wide at both heights (``PRINT_HEAD_WIDTH``).
    On a busy backdrop nothing can be told this way (False).
    """
    index = COCO18_INDEX
    keypoints = pose.coco18
    shoulders = [keypoints[index[name]] for name in ("RShoulder", "LShoulder")]
    heads = [keypoints[index[name]] for name in ("Nose", "REye", "LEye") if keypoints[index[name], 2] > 0]
    if not heads or any(point[2] <= 0 for point in shoulders):
        return False
    small = _shrink_to(rgb, 384)
    scale = small.shape[0] / rgb.shape[0]
    try:
        foreground = garment_mask(small)  # the silhouette against the backdrop, holes filled
    except ValueError:  # a busy backdrop, or nothing stands out
        return False
    head = np.mean([point[:2] for point in heads], axis=0) * scale
    neck = (shoulders[0][:2] + shoulders[1][:2]) / 2 * scale
    head_run, shoulder_run = _run_width(foreground, head), _run_width(foreground, neck)
    logger.debug("garment photo: figure's silhouette %d px wide at the head, %d px at the shoulders", head_run,
                 shoulder_run)
    return shoulder_run > 0 and head_run >= PRINT_HEAD_WIDTH * shoulder_run


def _run_width(mask: np.ndarray, point: np.ndarray) -> int:
    """Length of the run of True in ``mask``'s row through ``point`` (x, y) that holds the point (0 if it is False)."""
    row = mask[int(np.clip(point[1], 0, mask.shape[0] - 1))]
    column = int(np.clip(point[0], 0, mask.shape[1] - 1))
    if not row[column]:
        return 0
    left, right = row[column::-1], row[column:]
    return int((np.argmin(left) if not left.all() else len(left)) + (np.argmin(right) if not right.all() else
                                                                      len(right)) - 1)


def _shrink_to(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    if max(height, width) <= side:
        return rgb
    scale = side / max(height, width)
    return np.asarray(Image.fromarray(rgb).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                                  Image.Resampling.BOX))


def garment_mask(image: object) -> np.ndarray:
    """Segment the garment in a product shot on a plain (white, light, off-white or mildly textured) background.

    Args:
        image: the garment photo: anything :func:`vton_zoo.preprocess.io.load_image` accepts; usually a ``uint8``
            RGB array ``(H, W, 3)``.

    Returns:
        A ``bool`` mask ``(H, W)``, True on the garment.

    Raises:
        ValueError: the image is not a usable image; the background is busy (not a plain backdrop); or no garment
            stands out from the background.
    """
    rgb = load_image(image, role="garment")
    height, width = rgb.shape[:2]
    work = _working_copy(rgb)
    if work.shape != rgb.shape:
        mask = garment_mask(work)
        soft = Image.fromarray(mask.astype(np.uint8) * 255).resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(soft) >= 128
    pixels = rgb.astype(np.float32)
    unit = max(1, round(min(height, width) / 256))  # morphology radius: 1 px at 256x192, 4 px at 1024x768

    background, noise = _fit_plain_background(pixels)
    distance = np.sqrt(((pixels - background) ** 2).sum(axis=2))
    threshold = max(MIN_THRESHOLD, NOISE_MULTIPLIER * noise)
    # On a textured backdrop, average the distance over a small window first so that texture does not speckle.
    coarse_distance = ndi.gaussian_filter(distance, 1.0 * unit) if noise > 2.0 else distance
    region = _clean(_close_stripes(coarse_distance > threshold), unit)
    pale = _pale_parts(pixels, background, distance, region, noise, unit)
    pale |= _faint_parts(pixels - background, distance, region | pale, noise, unit)
    if pale.any():
        logger.info("garment mask: pale garment parts at a low threshold, %.0f%% of the image", 100 * pale.mean())
        region = _clean(region | pale, unit)
    if region.sum() < MIN_GARMENT_FRACTION * height * width:
        raise ValueError(
            "no garment found in the garment photo: nothing stands out from the background "
            f"(background colour {np.round(background.reshape(-1, 3).mean(0, dtype=np.float64)).astype(int).tolist()})"
        )
    mask = _refine_edges(region, distance, threshold, unit, keep=pale)
    mask = _close_stripes(mask)
    mask = _without_drop_shadow(mask, pixels, background, unit)
    mask = _without_border_shading(mask, pixels, background, distance, threshold)
    mask = _without_strap_loops(mask, distance, threshold)
    mask = _without_notches(mask, distance, threshold)
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    if border.mean() > 0.25:
        logger.warning(
            "garment mask touches %.0f%% of the image border: the garment may be cut off", 100 * border.mean()
        )
    logger.debug(
        "garment mask: background %s, noise %.1f, threshold %.1f, coverage %.3f",
        np.round(background.reshape(-1, 3).mean(0, dtype=np.float64)).astype(int).tolist(),
        noise,
        threshold,
        mask.mean(),
    )
    return mask


#: A drop shadow beside a garment (under its hem, along a sleeve's lower side): grey (channels within ``SHADOW_GREY``
#: of each other, 0-255), between ``SHADOW_FLOOR`` and the backdrop's level less ``SHADOW_DEPTH``, between coloured
#: fabric (channels spread by at least ``SHADOW_FABRIC_SPREAD``) and the backdrop below or beside it (both within
#: ``SHADOW_REACH`` units), in pieces at least ``SHADOW_MIN_LENGTH`` units long. A grey or white garment's edge is left
#: alone (its shadow cannot be told from it by colour), and so is any garment with much light grey of its own
#: (``SHADOW_MAX_GREY_SHARE``), and a grey rib with the backdrop only above it (a collar).
SHADOW_GREY = 14.0
SHADOW_DEPTH = 15.0  # at least this much darker than the backdrop (0-255): white fabric is not
SHADOW_FLOOR = 90.0  # and lighter than this: black or charcoal fabric is not
SHADOW_MAX_GREY_SHARE = 0.12  # a garment with more light grey than this (frayed denim, a grey print) is left alone
SHADOW_REACH = 3
SHADOW_MIN_LENGTH = 12  # units along the edge
SHADOW_FABRIC_SPREAD = 40.0


#: A strap loop: the backdrop seen between a strap's front strand and its back strand (a camisole laid flat shows
#: both). Hole filling takes it for the garment's (a stripe or a white part of a print inside it must be kept), so it
#: is told by its setting: in the garment's top ``LOOP_TOP`` (where straps are), at least ``LOOP_MIN_AREA`` of the
#: image, no wider than ``LOOP_MAX_WIDTH`` of the garment, taller than wide, in the backdrop's colour, and with
#: thin strands on both sides, the garment's run beside it in each row at most ``LOOP_STRAND`` of the garment's width.
LOOP_TOP = 0.35
LOOP_MIN_AREA = 0.0003
LOOP_MAX_WIDTH = 0.12
LOOP_STRAND = 0.06


def _without_strap_loops(mask: np.ndarray, distance: np.ndarray, threshold: float) -> np.ndarray:
    """``mask`` without the backdrop it holds inside a strap's loop (see ``LOOP_TOP``)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return mask
    garment_w = cols[-1] - cols[0] + 1
    top = int(rows[0] + LOOP_TOP * (rows[-1] - rows[0] + 1))
    # (Looked for in the garment's top rows only.)
    labels = np.zeros(mask.shape, np.int32)
    labels[:top], count = ndi.label(mask[:top] & (distance[:top] < threshold))
    if count == 0:
        return mask
    sizes = np.bincount(labels[:top].ravel(), minlength=count + 1)
    out = mask.copy()
    strand = max(2, LOOP_STRAND * garment_w)
    for index, box in enumerate(ndi.find_objects(labels[:top]), start=1):
        height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
        if sizes[index] < LOOP_MIN_AREA * mask.size or width > LOOP_MAX_WIDTH * garment_w or height <= width:
            continue
        # (Enclosed: nowhere beside the image's backdrop; looked at in its box with a pixel around.)
        around = (slice(max(0, box[0].start - 1), box[0].stop + 1), slice(max(0, box[1].start - 1), box[1].stop + 1))
        grown = ndi.binary_dilation(labels[around] == index)
        if (grown & ~mask[around]).any():
            continue
        thin = []
        for y in range(box[0].start, box[0].stop):
            xs = np.flatnonzero(labels[y] == index)
            if len(xs) == 0:
                continue
            left, right = xs[0] - 1, xs[-1] + 1
            runs = []
            for x, step in ((left, -1), (right, 1)):
                run = 0
                while 0 <= x < mask.shape[1] and mask[y, x] and not labels[y, x] == index and run <= strand:
                    run += 1
                    x += step
                runs.append(run)
            thin.append(max(runs) <= strand)
        if thin and float(np.mean(thin)) >= 0.8:
            out[labels == index] = False
    return out


#: A notch: the backdrop between two parts of a garment one above the other at its outline (two ruffle tiers of a
#: sleeve, a flared cuff over the hem, a puff sleeve over a dress's flaring side). The stripe closing
#: (``STRIPE_FRACTION``) fills it as it fills a stripe's bay, and worn, it showed as white wedges over the arms. It is
#: told from a stripe's bay (which runs on into the garment, and is wider than tall) and from pale fabric by its
#: setting: a piece of the mask in the backdrop's colour (its median distance to the backdrop, away from the fabric's
#: JPEG ringing, at most ``NOTCH_LEVEL`` of the threshold; white fabric on a light backdrop gives 0.37-0.95, the
#: backdrop 0-0.35), open to the outside beside it in at least ``NOTCH_SIDE`` of its rows and in one place only, at
#: least ``NOTCH_TALL`` times as tall as wide, no taller than the closing reaches, with the garment's fabric above and
#: below it in its column (within the closing's reach) in at least ``NOTCH_ENCLOSED`` of its pixels and of its mouth's,
#: and of at least ``NOTCH_MIN_AREA`` of the image.
NOTCH_LEVEL = 0.35
NOTCH_SIDE = 0.75
NOTCH_TALL = 1.5
NOTCH_ENCLOSED = 0.6
NOTCH_MIN_AREA = 0.00035


def _without_notches(mask: np.ndarray, distance: np.ndarray, threshold: float) -> np.ndarray:
    """``mask`` without the backdrop it holds in a notch of its outline (see ``NOTCH_LEVEL``)."""
    if not mask.any():
        return mask
    reach = _stripe_reach(mask)
    # (JPEG's ringing beside a dark part's edge speckles the backdrop with pixels over the threshold: a 3x3 median
    # first.)
    like = mask & (ndi.median_filter(distance, size=3) < threshold)
    outside = ~mask
    # (Opened: a line of blended pixels along the outline joined one notch to the next.)
    labels, count = ndi.label(_dilate(_erode(like, 1.0), 1.0) & like, np.ones((3, 3), bool))
    if count == 0:
        return mask
    touching = np.zeros(count + 1, bool)
    touching[labels[_dilate(outside, 1.0)]] = True
    touching[0] = False
    if not touching.any():
        return mask
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    fabric = mask & ~like
    enclosed = None
    out = mask.copy()
    height, width = mask.shape
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if not touching[index] or sizes[index] < max(20, NOTCH_MIN_AREA * mask.size):
            continue
        tall, wide = box[0].stop - box[0].start, box[1].stop - box[1].start
        if tall < NOTCH_TALL * wide or tall > 2 * reach + 3:
            continue
        around = (slice(max(0, box[0].start - 1), min(height, box[0].stop + 1)),
                  slice(max(0, box[1].start - 1), min(width, box[1].stop + 1)))
        piece = labels[around] == index
        # (Its colour away from the fabric: JPEG rings beside a dark part's edge.)
        core = piece & ~_dilate(fabric[around], 2.0)
        if float(np.median(distance[around][core if core.sum() >= 10 else piece])) > NOTCH_LEVEL * threshold:
            continue
        # (Open beside it: its mouth, its pixels with the outside left or right of them, in most of its rows, along
        # one stretch.)
        mouth = piece & (np.roll(outside[around], 1, axis=1) | np.roll(outside[around], -1, axis=1))
        if mouth.any(axis=1).sum() < NOTCH_SIDE * piece.any(axis=1).sum():
            continue
        contact = ndi.binary_dilation(piece, np.ones((3, 3), bool)) & outside[around]
        if ndi.label(contact, np.ones((3, 3), bool))[1] != 1:
            continue
        if enclosed is None:  # (what lies between fabric above and below; fabric a pixel beside counts: a tier's
            # corner ends in a blended pixel)
            enclosed = _vertical_closing(ndi.maximum_filter1d(fabric, 3, axis=1), reach)
        # (Its mouth too: a piece of pale fabric at a straight outline has fabric of its own colour above and below.)
        if min(float(enclosed[around][piece].mean()), float(enclosed[around][mouth].mean())) < NOTCH_ENCLOSED:
            continue
        # (With the pixel or two of its blended edge that the median left out.)
        out[around] &= ~(piece | _dilate(piece, 2.0) & (distance[around] < threshold))
    return out


def _spread_and_levels(pixels: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel: the spread of its channels (0 for a grey), its level (their mean) and the backdrop's level there.
    Channel by channel: numpy's reductions over a 3-wide last axis are slow."""
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    spread = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    backdrop = np.asarray(background, np.float32)
    return spread, (red + green + blue) / 3.0, (backdrop[..., 0] + backdrop[..., 1] + backdrop[..., 2]) / 3.0


def _without_drop_shadow(mask: np.ndarray, pixels: np.ndarray, background: np.ndarray, unit: int) -> np.ndarray:
    """``mask`` without the soft grey shadow a product shot has beside a coloured garment (the threshold takes in its
    darker part: worn, it was a grey line under the hem and along the sleeves)."""
    if not mask.any():
        return mask
    spread, level, backdrop_level = _spread_and_levels(pixels, background)
    grey = (spread < SHADOW_GREY) & (level > SHADOW_FLOOR)
    if float(grey[mask].mean()) > SHADOW_MAX_GREY_SHARE:
        return mask
    # (A soft shadow on a light backdrop: clearly darker than it, never near black; black fabric is grey too.)
    darker = level < backdrop_level - SHADOW_DEPTH
    reach = SHADOW_REACH * unit
    # The backdrop below or beside, within the reach.
    beside = ndi.maximum_filter1d((~mask).astype(np.uint8), 2 * reach + 1, axis=1) > 0
    backdrop_near = beside.copy()
    for step in range(1, reach + 1):
        backdrop_near[:-step] |= beside[step:]
    candidate = mask & backdrop_near & grey & darker
    if not candidate.any():
        return mask
    fabric = mask & (spread >= SHADOW_FABRIC_SPREAD)
    candidate &= _dilate(fabric, reach)
    # (Only a band reaching out to the backdrop: the grey pixels right beside it, and the grey ones joined to those.)
    edge = candidate & _dilate(~mask, 1)
    if not edge.any():
        return mask
    # (The grey pieces, 4-connected, that reach the backdrop: a reconstruction from the edge, by one labelling.)
    joined, _ = ndi.label(candidate)
    shadow = np.isin(joined, np.unique(joined[edge]))
    # (A shadow runs along the edge: grey specks of a print at the edge are no shadow.)
    pieces, _ = ndi.label(shadow, structure=np.ones((3, 3), bool))
    long_pieces = [index + 1 for index, box in enumerate(ndi.find_objects(pieces))
                   if box is not None and max(box[0].stop - box[0].start, box[1].stop - box[1].start)
                   >= SHADOW_MIN_LENGTH * unit]
    if not long_pieces:
        return mask
    return _main_components(mask & ~np.isin(pieces, long_pieces))


#: The backdrop darkening towards the shot's edge (a vignette, a light's fall-off) crosses the threshold there: pale
#: grey pieces of the mask darker than the backdrop (within ``BORDER_SHADING_DISTANCE`` thresholds of it, channels
#: within ``SHADOW_GREY`` of each other) that reach the image border are the backdrop.
BORDER_SHADING_DISTANCE = 3.0


def _without_border_shading(mask: np.ndarray, pixels: np.ndarray, background: np.ndarray, distance: np.ndarray,
                            threshold: float) -> np.ndarray:
    """``mask`` without the backdrop's shading at the image border, joined to the garment (worn, it was a grey bump at
    a white T-shirt's side). Shading is darker than the backdrop: a white garment beside it is lighter."""
    border = np.zeros_like(mask)
    border[0], border[-1], border[:, 0], border[:, -1] = True, True, True, True
    if not (mask & border).any():
        return mask
    spread, level, backdrop_level = _spread_and_levels(pixels, background)
    darker = level < backdrop_level
    shading = mask & (distance < BORDER_SHADING_DISTANCE * threshold) & (spread < SHADOW_GREY) & darker
    pieces, _ = ndi.label(shading)
    at_border = np.unique(pieces[shading & border])
    at_border = at_border[at_border > 0]
    if at_border.size == 0:
        return mask
    out = mask & ~np.isin(pieces, at_border)
    return _main_components(out) if out.any() else mask


def _working_copy(rgb: np.ndarray) -> np.ndarray:
    """The photo reduced to ``MAX_WORKING_SIDE`` on its long side (box filter), or the photo itself if smaller."""
    height, width = rgb.shape[:2]
    if max(height, width) <= MAX_WORKING_SIDE:
        return rgb
    scale = MAX_WORKING_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def _fit_plain_background(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The backdrop model of :func:`_fit_background`, or a ``ValueError`` when the border is not a plain backdrop."""
    background, noise, inlier_fraction = _fit_background(pixels)
    if noise > MAX_BACKGROUND_NOISE or inlier_fraction < MIN_BACKGROUND_FRACTION:
        raise ValueError(
            "garment photo has a busy background: the garment cannot be separated from it, as the image border is "
            f"not a plain backdrop ({inlier_fraction:.0%} of the border matches one smooth colour, noise {noise:.1f}; "
            f"need >= {MIN_BACKGROUND_FRACTION:.0%} and <= {MAX_BACKGROUND_NOISE:g}). Use a product photo of the "
            "whole garment on a plain (white or light) background, with some margin around it, or pass your own "
            "garment mask"
        )
    return background, noise


_BACKGROUND_CACHE: dict[tuple, tuple[np.ndarray, float, float]] = {}
_BACKGROUND_CACHE_LOCK = threading.Lock()


def _fit_background(pixels: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Fit a quadratic colour surface to the border strip, ignoring outliers (garment pixels touching the border).

    The last few fits are remembered by the photo's content (the pipeline's photo check and the mask fit the same
    photo).

    Returns:
        The background colour at every pixel ``(H, W, 3)`` float32 (read-only); the robust per-channel noise of the
        border around that surface; the fraction of the border that matches it.
    """
    key = (pixels.shape, hashlib.blake2b(np.ascontiguousarray(pixels).tobytes(), digest_size=16).digest())
    with _BACKGROUND_CACHE_LOCK:
        found = _BACKGROUND_CACHE.get(key)
    if found is not None:
        return found
    fitted = _fit_background_uncached(pixels)
    fitted[0].setflags(write=False)
    with _BACKGROUND_CACHE_LOCK:
        if len(_BACKGROUND_CACHE) >= 4:
            _BACKGROUND_CACHE.pop(next(iter(_BACKGROUND_CACHE)))
        _BACKGROUND_CACHE[key] = fitted
    return fitted


def _fit_background_uncached(pixels: np.ndarray) -> tuple[np.ndarray, float, float]:
    height, width = pixels.shape[:2]
    strip = max(2, round(BORDER_FRACTION * min(height, width)))
    on_border = np.zeros((height, width), bool)
    on_border[:strip] = on_border[-strip:] = True
    on_border[:, :strip] = on_border[:, -strip:] = True
    ys, xs = np.nonzero(on_border)
    step = max(1, len(ys) // 6_000)  # a subsample is plenty for 18 coefficients
    ys, xs = ys[::step], xs[::step]
    colours = pixels[ys, xs]
    u, v = xs / max(width - 1, 1), ys / max(height - 1, 1)
    design = np.stack([np.ones_like(u), u, v, u * v, u * u, v * v], axis=1)

    # Start from the median colour, then alternate: fit on inliers, re-select inliers from the residuals.
    residual = np.sqrt(((colours - np.median(colours, axis=0)) ** 2).sum(axis=1))
    inliers = residual <= max(20.0, 3.0 * np.median(residual))
    coefficients = np.zeros((design.shape[1], 3))
    for _ in range(3):
        if inliers.sum() < 8:
            break
        # Normal equations (18 unknowns): small products that need no BLAS threads.
        chosen = design[inliers]
        gram = np.einsum("ni,nj->ij", chosen, chosen)
        moment = np.einsum("ni,nc->ic", chosen, colours[inliers])
        try:
            coefficients = np.linalg.solve(gram + 1e-9 * np.eye(len(gram)), moment)
        except np.linalg.LinAlgError:
            coefficients, *_ = np.linalg.lstsq(chosen, colours[inliers], rcond=None)
        residual = np.sqrt(((colours - design @ coefficients) ** 2).sum(axis=1))
        # Per-channel noise: the median of a 3-D Gaussian residual's norm is about 1.54 sigma.
        noise = float(np.median(residual[inliers])) / 1.54
        # The noise is capped so that on a busy border the inliers stay the pixels that truly match the surface.
        inliers = residual <= max(MIN_THRESHOLD, NOISE_MULTIPLIER * min(noise, MAX_BACKGROUND_NOISE))
    noise = float(np.median(residual[inliers])) / 1.54 if inliers.any() else float(np.median(residual)) / 1.54
    inlier_fraction = float(inliers.mean())

    grid_u = (np.arange(width, dtype=np.float32) / max(width - 1, 1))[None, :, None]
    grid_v = (np.arange(height, dtype=np.float32) / max(height - 1, 1))[:, None, None]
    c = coefficients.astype(np.float32)
    background = (c[0] + c[1] * grid_u + c[2] * grid_v + c[3] * (grid_u * grid_v) + c[4] * (grid_u * grid_u)
                  + c[5] * (grid_v * grid_v))
    return background.astype(np.float32), noise, inlier_fraction


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with its holes filled: background not connected to the image border (one labelling pass, faster
    than scipy's iterative fill)."""
    labels, count = ndi.label(~mask)
    if count == 0:
        return mask.copy()
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.zeros(count + 1, bool)
    outside[border] = True
    outside[0] = False
    return mask | ~outside[labels] & (labels > 0)


def _within(mask: np.ndarray, radius: float) -> np.ndarray:
    """Pixels within ``radius`` of ``mask`` by an octagon (chessboard distance <= r and city-block distance <= r * sqrt
    2): a close stand-in for a disk at a third of the cost of the Euclidean transform."""
    if not mask.any():
        return np.zeros_like(mask, bool)
    half = int(np.floor(radius))
    if _cv2 is not None:
        # (The same with OpenCV: the square's dilation, and the city-block ball's as that many dilations by a cross.)
        pixels = mask.astype(np.uint8)
        square = _cv2.dilate(pixels, np.ones((2 * half + 1, 2 * half + 1), np.uint8)) if half > 0 else pixels
        steps = int(np.floor(radius * 1.4142))
        cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
        diamond = _cv2.dilate(pixels, cross, iterations=steps) if steps > 0 else pixels
        return (square > 0) & (diamond > 0)
    # (The chessboard part is a square's dilation: two running maxima, far cheaper than a second distance transform.)
    square = mask
    if half > 0:
        size = 2 * half + 1
        square = ndi.maximum_filter1d(mask.astype(np.uint8), size, axis=1, mode="constant")
        square = ndi.maximum_filter1d(square, size, axis=0, mode="constant") > 0
    return square & (ndi.distance_transform_cdt(~mask, "taxicab") <= radius * 1.4142)


def _erode(mask: np.ndarray, radius: float) -> np.ndarray:
    """Erosion by a disk (an octagon, see :func:`_within`)."""
    if mask.all():
        return mask.copy()
    return ~_within(~mask, radius)


def _dilate(mask: np.ndarray, radius: float) -> np.ndarray:
    """Dilation by a disk (an octagon, see :func:`_within`)."""
    return _within(mask, radius)


def _clean(foreground: np.ndarray, unit: int, *, keep_all: bool = False) -> np.ndarray:
    """Opening (specks), hole filling, and the main component(s) (all components with ``keep_all``)."""
    opened = _dilate(_erode(foreground, unit), unit) & foreground
    filled = _fill_holes(opened)
    return filled if keep_all else _main_components(filled)


def _pale_parts(pixels: np.ndarray, background: np.ndarray, distance: np.ndarray, strong: np.ndarray, noise: float,
                unit: int) -> np.ndarray:
    """Garment parts paler than the main threshold: found at a low threshold, away from JPEG halos, edge-confirmed.

    Args:
        pixels: the photo, float32 ``(H, W, 3)``.
        background: the backdrop model, float32 ``(H, W, 3)``.
        distance: colour distance to the backdrop model ``(H, W)``.
        strong: the garment found at the main threshold.
        noise: the backdrop's per-channel noise.
        unit: the morphology radius.

    Returns:
        The pale parts (bool ``(H, W)``) with the strip that joins them to ``strong`` across the halo zone (which may
        overlap ``strong``); all False when there are none.
    """
    height, width = distance.shape
    none = np.zeros_like(strong)
    low = max(PALE_MIN_THRESHOLD, NOISE_MULTIPLIER * noise)
    if low >= MIN_THRESHOLD:  # a noisy backdrop: a low threshold would find its texture
        return none
    # Within HALO_RADIUS of a strong edge the backdrop may ring by up to HALO_RATIO of that edge's distance.
    halo = HALO_RATIO * ndi.maximum_filter(distance, size=2 * HALO_RADIUS + 1)
    guarded = halo > low  # where the halo guard raised the threshold: a cut there is no outline of the garment
    found = _clean(distance > np.maximum(low, halo), unit, keep_all=True)
    labels, count = ndi.label(found | strong)
    min_area = MIN_GARMENT_FRACTION * height * width
    new_area = np.bincount(labels[found & ~strong], minlength=count + 1)
    accepted = np.zeros_like(strong)
    gradient = None
    if count and new_area.max() >= min_area:
        gradient = _colour_gradient(pixels)
        edge_level = max(PALE_EDGE_MIN, PALE_EDGE_NOISE_MULTIPLIER * float(np.median(_border_values(gradient))))
        inner = np.zeros_like(strong)
        inner[1:-1, 1:-1] = True  # the image border is no edge of a part
        pad = unit + 2
        for index, box in enumerate(ndi.find_objects(labels), start=1):
            if new_area[index] < min_area:
                continue
            box = tuple(slice(max(0, side.start - pad), side.stop + pad) for side in box)
            component = labels[box] == index
            # Opened, so that a sliver along the strong region's edge does not count as a pale part.
            new = component & ~strong[box]
            new = _dilate(_erode(new, unit), unit) & new
            if new.sum() < min_area:
                continue
            # The component's outline next to its pale pixels must be a colour edge (not the image border, not a cut
            # made by the halo guard).
            outline = component & ~_erode(component, 1.0) & _dilate(new, 1.5) & ~guarded[box] & inner[box]
            if outline.sum() < 8:
                continue
            steepness = float(np.median(gradient[box][outline]))
            logger.debug("pale part of %d px: outline gradient %.2f (needs %.2f)", new.sum(), steepness, edge_level)
            if steepness >= edge_level:
                accepted[box] |= new
    if accepted.any() and strong.any():
        # Join the pale parts to the strong ones across the halo zone, where the guard left a strip out.
        reach = HALO_RADIUS + 1
        accepted |= (distance > low) & _dilate(accepted, reach) & _dilate(strong, reach)
    return accepted


def _faint_parts(difference: np.ndarray, distance: np.ndarray, known: np.ndarray, noise: float, unit: int
                 ) -> np.ndarray:
    """Garment parts too faint for :func:`_pale_parts`: white on white, a few levels off the backdrop, with an outline
    that JPEG and resizing have softened below its edge test.

    The colour difference to the backdrop (``difference``, ``(H, W, 3)``) is smoothed over ``unit`` pixels, so that
    JPEG noise and ringing, which swing both ways, average out while a garment a few levels lighter or darker than the
    backdrop does not; the length of the smoothed difference is thresholded at ``FAINT_MIN_THRESHOLD`` (or
    ``FAINT_BORDER_MULTIPLIER`` times its 95th percentile on the border), raised next to strong edges by a share of
    the halo guard. A part beside ``known`` (the garment found so far) is kept when it stands out from the backdrop as
    a step of at least ``FAINT_STEP`` across its outline; backdrop shading changes too slowly to do so. When one is
    kept, the garment's silhouette at that threshold (holes filled: the print's halo guard cuts channels into a white
    garment) is the garment, less the pixel or two the smoothing spread it outwards.
    """
    height, width = known.shape
    none = np.zeros_like(known)
    if NOISE_MULTIPLIER * noise >= MIN_THRESHOLD or not known.any():  # a noisy backdrop: nothing is faint
        return none
    smooth = np.sqrt(sum(ndi.gaussian_filter(difference[..., c], float(unit)) ** 2 for c in range(3)))
    faint = max(FAINT_MIN_THRESHOLD, FAINT_BORDER_MULTIPLIER * float(np.percentile(_border_values(smooth), 95)))
    if faint >= MIN_THRESHOLD:
        return none
    # JPEG ringing swings both ways, so little of it survives the smoothing; chroma bleeding does not swing.
    halo = FAINT_HALO_SHARE * HALO_RATIO * ndi.maximum_filter(distance, size=2 * HALO_RADIUS + 1)
    guarded = halo > faint
    found = _clean(smooth > np.maximum(faint, halo), unit, keep_all=True)
    labels, count = ndi.label(found | known)
    min_area = MIN_GARMENT_FRACTION * height * width
    new_area = np.bincount(labels[found & ~known], minlength=count + 1)
    if count == 0 or new_area.max() < min_area:
        return none
    accepted = np.zeros(count + 1, bool)
    pad = unit + 8
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if new_area[index] < min_area:
            continue
        box = tuple(slice(max(0, side.start - pad), side.stop + pad) for side in box)
        component = labels[box] == index
        new = component & ~known[box]
        new = _dilate(_erode(new, unit), unit) & new
        if new.sum() < min_area:
            continue
        near = _dilate(new, 8.0) & ~guarded[box]
        depth_in = ndi.distance_transform_edt(component)
        depth_out = ndi.distance_transform_edt(~component)
        ring_in = near & (depth_in > 2) & (depth_in <= 6)
        ring_out = near & (depth_out > 2) & (depth_out <= 6) & ~known[box]
        if ring_in.sum() < 8 or ring_out.sum() < 8:
            continue
        step = float(np.median(smooth[box][ring_in]) - np.median(smooth[box][ring_out]))
        logger.debug("faint part of %d px: step %.2f (needs %.2f)", new.sum(), step, FAINT_STEP)
        accepted[index] = step >= FAINT_STEP
    if not accepted.any():
        return none
    # The silhouette: everything above the threshold that holds a kept part, without the halo guard (which cuts
    # channels into a white garment beside its print), holes filled, less the smoothing's outward spread.
    outline_labels, _ = ndi.label(_clean(smooth > faint, unit, keep_all=True))
    holding = np.unique(outline_labels[accepted[labels] & (outline_labels > 0)])
    silhouette = np.isin(outline_labels, holding) | accepted[labels]
    # Where the fabric's shading matches the backdrop the outline (a faint rim) still shows: closing small breaks in
    # it lets the fill reach the whole inside.
    silhouette = _fill_holes(_erode(_dilate(silhouette | known, 3.0 * unit), 3.0 * unit))
    return _erode(silhouette, float(unit)) & ~known


def _border_values(values: np.ndarray) -> np.ndarray:
    """The values of the border strip (``BORDER_FRACTION`` of the short side) of a 2-D map."""
    height, width = values.shape
    strip = max(2, round(BORDER_FRACTION * min(height, width)))
    return np.concatenate([values[:strip].ravel(), values[-strip:].ravel(), values[:, :strip].ravel(),
                           values[:, -strip:].ravel()])


def _close_stripes(mask: np.ndarray) -> np.ndarray:
    """Close short vertical gaps (at most ``STRIPE_FRACTION`` of the garment's height) between garment pixels of one
    column: the bays that stripes of the backdrop's colour cut into a garment's sides."""
    if not mask.any():
        return mask
    return mask | _vertical_closing(mask, _stripe_reach(mask))


def _stripe_reach(mask: np.ndarray) -> int:
    """Half the longest gap :func:`_close_stripes` closes in a column (``mask`` not empty)."""
    rows = np.flatnonzero(mask.any(axis=1))
    return max(3, round(STRIPE_FRACTION * (rows[-1] - rows[0] + 1)))


def _vertical_closing(mask: np.ndarray, length: int) -> np.ndarray:
    """``mask``'s closing down each column by a segment ``2 * length + 1`` long (a running max, then a running min):
    what lies between pixels of ``mask`` above and below it at most about that far apart."""
    size = 2 * length + 1
    padded = np.pad(mask, ((length, length), (0, 0))).astype(np.uint8)
    return ndi.minimum_filter1d(ndi.maximum_filter1d(padded, size, axis=0), size, axis=0)[length:-length].astype(bool)


def _colour_gradient(pixels: np.ndarray) -> np.ndarray:
    """Colour gradient magnitude (RGB norm, per pixel) after a 1 px Gaussian: a sharp step of ``s`` gives ~0.4 s."""
    squared = np.zeros(pixels.shape[:2], np.float32)
    for channel in range(pixels.shape[2]):
        smooth = ndi.gaussian_filter(pixels[..., channel], 1.0)
        squared += (ndi.sobel(smooth, axis=0) / 8.0) ** 2 + (ndi.sobel(smooth, axis=1) / 8.0) ** 2  # Sobel sums to 8
    return np.sqrt(squared)


def _main_components(mask: np.ndarray) -> np.ndarray:
    labels, count = ndi.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= MIN_COMPONENT_FRACTION * sizes.max()) + 1
    return np.isin(labels, keep)


def _refine_edges(
    region: np.ndarray, distance: np.ndarray, threshold: float, unit: int, keep: np.ndarray | None = None
) -> np.ndarray:
    """Move the boundary of ``region`` to where the distance reaches a fraction of the local garment contrast.

    Pixels in ``keep`` (pale parts, whose outline already lies half-way up their low contrast) are left as they are.
    """
    reach = 2 * unit + 1
    interior = _erode(region, reach)
    band = _dilate(region, reach) & ~interior
    if keep is not None:
        band &= ~keep
    # Local garment contrast: the mean distance over nearby interior pixels (normalised box filter).
    size = 8 * reach + 1
    weight = ndi.uniform_filter(interior.astype(np.float32), size)
    contrast = ndi.uniform_filter(np.where(interior, distance, 0.0).astype(np.float32), size)
    known = weight > 1e-3
    local_threshold = np.full(distance.shape, threshold, np.float32)
    local_threshold[known] = np.maximum(threshold, EDGE_CONTRAST_FRACTION * contrast[known] / weight[known])
    refined = np.where(band, distance >= local_threshold, region)
    refined = _fill_holes(refined)
    # Keep only what is connected to the robust region (the band must not add detached specks).
    labels, _ = ndi.label(refined)
    touching = np.unique(labels[region & refined])
    refined = np.isin(labels, touching[touching > 0])
    return _main_components(refined)


# --- garment category -----------------------------------------------------------------------------------------------

#: Legs: in the rows between 80 % and 97 % of the garment's height, this share must hold exactly two runs, each at
#: least ``LEG_MIN_WIDTH`` of the garment's width and together ``LEGS_MIN_WIDTH``...
LEG_ROWS_SHARE = 0.6
LEG_MIN_WIDTH = 0.18
LEGS_MIN_WIDTH = 0.5
#: ...the crotch (where, going up, the two runs join) at most this far down (trousers 0.2-0.35, shorts up to ~0.75;
#: bell sleeves hanging below a top's hem "join" at the hem, ~0.85)...
MAX_CROTCH = 0.8
#: ...and a waistband: the top rows spanning at least this share of the width (a top's shoulders span less than its
#: sleeves: 0.2-0.5 on the dataset shots; trousers 0.65-0.9).
MIN_WAIST_WIDTH = 0.55
#: A dress is long for its body: length over the median width of the central run at 30-60 % of the height at least
#: ``DRESS_LENGTH`` (dataset dresses 2.8-3.8, tops up to 2.6) and height over width at least ``DRESS_ASPECT``.
DRESS_LENGTH = 2.7
DRESS_ASPECT = 1.5
#: A skirt: no legs, no neckline dip (the top contour at the centre at most ``SKIRT_MAX_DIP`` of the width below its
#: highest point), one run at the top spanning at least ``SKIRT_MIN_WAIST`` of the width, never narrower further down,
#: and height over width within ``SKIRT_ASPECT`` (a tube top is wider than tall).
SKIRT_MAX_DIP = 0.02
SKIRT_MIN_WAIST = 0.5
SKIRT_ASPECT = (0.75, 3.5)


@dataclass(frozen=True)
class CategoryGuess:
    """What :func:`garment_category` found.

    Attributes:
        category: ``"upper"``, ``"lower"`` or ``"dress"`` (the categories of :data:`vton_zoo.registry.CATEGORIES`).
        kind: a finer word for messages: ``"trousers"``, ``"shorts"``, ``"skirt"``, ``"dress"`` or ``"top"``.
        reason: why, in a few words (the shape features that decided).
    """

    category: str
    kind: str
    reason: str


def garment_category(mask: np.ndarray) -> CategoryGuess:
    """The garment category of a product shot, from the shape of its garment mask.

    Shape rules (measured on the mask's bounding box; thresholds are the module constants above):

    - **lower, trousers or shorts**: two legs: the bottom rows hold two wide runs that join going up at a crotch,
      below a waistband spanning the width;
    - **lower, skirt**: no neckline, no straps or sleeves: a single run across the top (the waistband) that only
      widens downwards, and not much taller than wide;
    - **dress**: long for its body: the length is several times the width of the central run at mid-height, and the
      garment is clearly taller than wide;
    - **upper**: everything else (tops, shirts, jackets).

    Args:
        mask: the garment mask ``(H, W)`` (bool, or float thresholded at 0.5), e.g. from :func:`garment_mask`.

    Raises:
        ValueError: the mask is not 2-D or is empty.
    """
    mask = _as_mask(mask)
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    height, width = bottom - top + 1, right - left + 1
    min_run = max(2, round(0.02 * width))
    rows = [row_runs(mask[y], min_run) for y in range(top, bottom + 1)]
    aspect = height / width

    # Legs.
    def is_leg_row(runs: list[tuple[int, int]]) -> bool:
        widths = [end - start + 1 for start, end in runs]
        return len(runs) == 2 and min(widths) >= LEG_MIN_WIDTH * width and sum(widths) >= LEGS_MIN_WIDTH * width

    leg_rows = rows[int(0.8 * height): max(int(0.8 * height) + 1, int(0.97 * height))]
    leg_share = float(np.mean([is_leg_row(runs) for runs in leg_rows]))
    top_rows = rows[: max(1, round(0.05 * height))]
    waist = float(np.mean([(runs[-1][1] - runs[0][0] + 1) / width if runs else 0.0 for runs in top_rows]))
    if leg_share >= LEG_ROWS_SHARE and waist >= MIN_WAIST_WIDTH:
        crotch = int(0.9 * height)
        while crotch > 0 and len(rows[crotch]) >= 2:
            crotch -= 1
        crotch_share = crotch / height
        if crotch_share <= MAX_CROTCH:
            kind = "trousers" if (height - crotch) >= 1.2 * waist * width else "shorts"  # leg length vs waist
            return CategoryGuess("lower", kind, f"two legs joining at {crotch_share:.0%} of the height below a "
                                                f"waistband ({kind})")

    # Skirt.
    has = mask.any(axis=0)
    top_contour = np.where(has, np.argmax(mask, axis=0), bottom)
    centre = (left + right) // 2
    band = top_contour[max(left, centre - round(0.05 * width)): centre + round(0.05 * width) + 1]
    dip = (float(band.min()) - top) / width
    widths = np.array([(runs[-1][1] - runs[0][0] + 1) if runs else 0 for runs in rows], np.float64)
    single_top = all(len(runs) == 1 for runs in top_rows)
    widening = bool(np.all(widths[round(0.1 * height):] >= 0.95 * widths[: round(0.1 * height) + 1].max()))
    if (dip <= SKIRT_MAX_DIP and single_top and waist >= SKIRT_MIN_WAIST and widening
            and SKIRT_ASPECT[0] <= aspect <= SKIRT_ASPECT[1]):
        return CategoryGuess("lower", "skirt", "a waistband across the top that only widens downwards, no neckline "
                                               "(skirt)")

    # Dress.
    central = []
    column = int(np.median([(runs[0][0] + runs[-1][1]) / 2 for runs in rows[int(0.5 * height): int(0.9 * height)]
                            if runs] or [centre]))
    for y in range(top + int(0.3 * height), top + int(0.6 * height)):
        run = _torso_run(mask[y], column, max_gap=0.0)
        if run is not None and run[2]:
            central.append(run[1] - run[0] + 1)
    length_ratio = height / float(np.median(central)) if central else 0.0
    if length_ratio >= DRESS_LENGTH and aspect >= DRESS_ASPECT:
        return CategoryGuess("dress", "dress", f"long for its body: {length_ratio:.1f} times its width at the waist "
                                               "(dress)")
    return CategoryGuess("upper", "top", "no legs, not long enough for a dress (top)")


def row_runs(row: np.ndarray, min_length: int = 1) -> list[tuple[int, int]]:
    """``(start, end)`` (inclusive) of the runs of True in ``row`` at least ``min_length`` long."""
    columns = np.flatnonzero(row)
    if columns.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(columns) > 1)
    starts = np.concatenate([[columns[0]], columns[breaks + 1]])
    ends = np.concatenate([columns[breaks], [columns[-1]]])
    return [(int(a), int(b)) for a, b in zip(starts, ends) if b - a + 1 >= min_length]


# --- garment parts (GP-VTON) ----------------------------------------------------------------------------------------

#: Fraction of the mask's bounding-box width given to each sleeve by ``method="columns"`` (the parity fixtures).
COLUMN_SLEEVE_FRACTION = 0.22


def garment_parts(
    mask: np.ndarray, *, method: Literal["geometry", "columns"] = "geometry"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a garment mask into the wearer's left sleeve, torso and right sleeve.

    In a front-facing product shot the wearer's LEFT sleeve is on the IMAGE-RIGHT side, as in GP-VTON's inputs.

    ``method="geometry"`` (default) finds the torso band from the mask's width profile: in the lower part of the
    garment each row's run through the garment's centre line is the torso (long sleeves hang beside it, separated by
    a gap; short sleeves end above). A straight line is fitted to each side of the torso over those rows and extended
    upwards; what lies outside the lines is sleeve. Pieces too small to be a sleeve go back to the torso, so a
    sleeveless top has empty sleeve masks. ``method="columns"`` reproduces the parity fixtures' heuristic: 22% of the
    bounding-box width at each side is sleeve.

    Args:
        mask: the garment mask ``(H, W)``, bool or float (> 0.5 is garment).

    Returns:
        ``(left_sleeve, torso, right_sleeve)``: bool masks ``(H, W)`` that partition ``mask``.

    Raises:
        ValueError: the mask is not 2-D or is empty.
    """
    mask = _as_mask(mask)
    if method == "columns":
        return _parts_by_columns(mask)
    if method != "geometry":
        raise ValueError(f"method must be 'geometry' or 'columns', got {method!r}")
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    box_height, box_width = bottom - top + 1, right - left + 1
    centre = (left + right) / 2.0

    # Each row's torso run: the run through the garment's centre line (or the two runs either side of a neckline).
    runs = np.full((height, 2), np.nan)
    covered = np.zeros(height, bool)
    for y in range(top, bottom + 1):
        run = _torso_run(mask[y], centre, max_gap=0.45 * box_width)
        if run is not None:
            runs[y], covered[y] = run[:2], run[2]
    # The lower torso: below where short sleeves end, above a flared hem, and where the torso covers the centre
    # (long sleeves can hang below the hem).
    fit_rows = np.arange(top + round(0.6 * box_height), top + round(0.92 * box_height) + 1)
    fit_rows = fit_rows[covered[fit_rows]]
    if len(fit_rows) < 3:
        logger.info("garment parts: no lower torso rows found; the whole garment is torso")
        return np.zeros_like(mask), mask.copy(), np.zeros_like(mask)

    grid_x = np.arange(width)[None, :]
    sleeves = []
    for side, column in ((-1, 0), (+1, 1)):  # image-left edge of the torso, then image-right edge
        line = _robust_line(fit_rows.astype(np.float64), runs[fit_rows, column])
        edge = _torso_edge(runs[:, column], covered, line, side, top, int(fit_rows[-1]), box_height, box_width)
        if edge is None:  # no armpit on this side: no sleeve
            sleeves.append(np.zeros_like(mask))
            continue
        offset = side * (grid_x - edge[:, None])  # distance past the torso edge, outwards positive
        sleeves.append(_sleeve_pieces(mask & (offset > 0.5), 0.02 * mask.sum(), 0.05 * box_width, offset))
    # Image-left of the torso is the wearer's RIGHT sleeve, image-right the LEFT sleeve.
    right_sleeve, left_sleeve = sleeves
    contested = left_sleeve & right_sleeve  # only where the two torso edges cross (degenerate masks): torso
    left_sleeve, right_sleeve = left_sleeve & ~contested, right_sleeve & ~contested
    torso = mask & ~left_sleeve & ~right_sleeve
    return left_sleeve, torso, right_sleeve


def garment_parts_label(left: np.ndarray, torso: np.ndarray, right: np.ndarray, divisor: float = 3.0) -> np.ndarray:
    """GP-VTON's ``flat_clothes_label``: ``(1 * left + 2 * torso + 3 * right) / divisor`` as float32 ``(H, W)``.

    With the default ``divisor=3`` (GP-VTON on VITON-HD) left sleeve pixels are 1/3, torso 2/3, right sleeve 1 and
    background 0; the DressCode variant divides by 6. Overlapping parts are made disjoint first, the sleeves winning
    over the torso and the left sleeve over the right one.

    Args:
        left: the wearer's left sleeve mask (image right in a front view), bool or float ``(H, W)``.
        torso: the torso mask.
        right: the wearer's right sleeve mask.
        divisor: 3 for ``gp-vton``, 6 for ``gp-vton-dresscode``.

    Raises:
        ValueError: a mask is not 2-D, or the three differ in shape.
    """
    left, torso, right = (_as_mask(part, allow_empty=True) for part in (left, torso, right))
    if not left.shape == torso.shape == right.shape:
        raise ValueError(f"part masks differ in shape: {[p.shape for p in (left, torso, right)]}")
    torso = torso & ~left & ~right
    right = right & ~left
    return (left * 1.0 + torso * 2.0 + right * 3.0).astype(np.float32) / np.float32(divisor)


def _as_mask(mask: np.ndarray, *, allow_empty: bool = False) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"garment mask must be 2-D (H, W), got shape {mask.shape}")
    if mask.dtype != np.bool_:
        if not (np.issubdtype(mask.dtype, np.number)) or not np.isfinite(mask).all():
            raise ValueError(f"garment mask must be bool or finite numbers, got dtype {mask.dtype}")
        mask = mask > (127 if mask.dtype == np.uint8 and mask.max() > 1 else 0.5)
    if not allow_empty and not mask.any():
        raise ValueError("garment mask is empty")
    return mask


def _parts_by_columns(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.nonzero(mask)[1]
    left, right = int(xs.min()), int(xs.max())
    sleeve = round(COLUMN_SLEEVE_FRACTION * (right - left + 1))
    columns = np.arange(mask.shape[1])[None, :]
    left_sleeve = mask & (columns > right - sleeve)  # wearer's left = image right
    right_sleeve = mask & (columns < left + sleeve)
    torso = mask & ~left_sleeve & ~right_sleeve
    return left_sleeve, torso, right_sleeve


def _torso_run(row: np.ndarray, centre: float, max_gap: float) -> tuple[int, int, bool] | None:
    """The torso's extent in one row: ``(start, end, covers_centre)``, or None for an empty row.

    It is the run of True containing column ``centre``; if ``centre`` falls in a gap narrower than ``max_gap`` (a
    neckline), the span from the run left of the gap to the run right of it; otherwise the run nearest the centre,
    flagged as not covering it.
    """
    columns = np.flatnonzero(row)
    if columns.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(columns) > 1)
    starts = np.concatenate([[columns[0]], columns[breaks + 1]])
    ends = np.concatenate([columns[breaks], [columns[-1]]])
    inside = np.flatnonzero((starts <= centre) & (centre <= ends))
    if inside.size:
        return int(starts[inside[0]]), int(ends[inside[0]]), True
    before, after = np.flatnonzero(ends < centre), np.flatnonzero(starts > centre)
    if before.size and after.size and starts[after[0]] - ends[before[-1]] - 1 < max_gap:
        return int(starts[before[-1]]), int(ends[after[0]]), True
    gap = np.maximum(starts - centre, 0) + np.maximum(centre - ends, 0)
    best = int(np.argmin(gap))
    return int(starts[best]), int(ends[best]), False


def _robust_line(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """Least-squares ``x = a + b * y`` with one round of outlier rejection, the slope clamped to |b| <= 0.3."""
    keep = np.ones_like(ys, bool)
    for _ in range(2):
        slope, intercept = np.polyfit(ys[keep], xs[keep], 1)
        residual = np.abs(xs - (intercept + slope * ys))
        scale = max(1.0, 2.5 * np.median(residual))
        keep = residual <= scale
        if keep.sum() < 3:
            keep[:] = True
            break
    slope, intercept = np.polyfit(ys[keep], xs[keep], 1)
    slope = float(np.clip(slope, -0.3, 0.3))
    intercept = float(np.median(xs[keep] - slope * ys[keep]))
    return intercept, slope


def _torso_edge(
    run_edge: np.ndarray,
    covered: np.ndarray,
    line: tuple[float, float],
    side: int,
    top: int,
    start: int,
    box_height: int,
    box_width: int,
) -> np.ndarray | None:
    """One side of the torso, per row: the torso run's edge below the armpit, a vertical line above it.

    Walking up from ``start`` (the lowest torso row), the armpit is where the torso run's edge jumps outwards within a
    few rows: the underside of a short sleeve, or the top of the gap beside a hanging long sleeve, joins the torso
    there. Below the armpit the edge is the torso run's, kept within a tolerance of the straight line fitted to the
    lower torso (so a cuff touching the hem stays sleeve; under the hem, where only hanging sleeves remain, the line
    itself); above it the edge goes straight up from the armpit.

    Returns:
        The edge column per row (``(H,)`` float), or None when there is no armpit on this side: the walk reached the
        shoulders or the neckline without a jump (sleeveless tops, batwing sleeves).
    """
    height = run_edge.shape[0]
    jump = max(3.0, 0.04 * box_width)
    window = max(1, round(0.015 * box_height))
    predicted = line[0] + line[1] * np.arange(height)
    edge = np.where(covered, run_edge, predicted)
    shoulders = top + round(0.12 * box_height)
    for y in range(start - 1, shoulders - 1, -1):
        if not covered[y]:
            return None
        below = min(y + window, start)
        if side * (edge[y] - edge[below]) > jump:
            edge = np.where(side * (edge - predicted) > jump, predicted + side * jump, edge)
            edge[:below] = edge[below]
            return edge
    return None


def _sleeve_pieces(candidate: np.ndarray, min_area: float, min_reach: float, offset: np.ndarray) -> np.ndarray:
    """The connected pieces of ``candidate`` big enough, and reaching far enough past the torso edge, to be a sleeve.

    ``offset`` is each pixel's distance past the torso edge (outwards positive).
    """
    labels, count = ndi.label(candidate)
    if count == 0:
        return candidate
    offset = np.broadcast_to(offset, candidate.shape)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    reach = np.asarray(ndi.maximum(offset, labels, index=np.arange(count + 1)))
    keep = (sizes >= min_area) & (reach >= min_reach)
    keep[0] = False
    return keep[labels]


#: What to say when a garment product shot is given as the person (the person checks alone would call it "a person,
#: but not their body").
GARMENT_AS_PERSON = ("The person photo looks like a garment product shot (a garment on a plain background, nobody "
                     "wearing it). Put it in the Garment box, and give a photo of one person, from the head to at "
                     "least the hips, as the person")


def looks_like_product_shot(image: np.ndarray, pose: PoseResult | None = None) -> bool:
    """``True`` when ``image`` (uint8 RGB) is what a garment input should be: no face in it, the garment photo checks
    pass and a garment mask covers a garment-sized part of it. Asked only of person photos whose person check failed
    (a studio photo of a person on white passes the garment checks too, but it also passes the person check; a
    head-and-shoulders portrait on white fails it, and its face tells it from a product shot).

    Args:
        image: the photo.
        pose: its MediaPipe pose, when already estimated.
    """
    pose = pose if pose is not None else estimate_pose(image)
    if pose.found and all(pose.coco18[COCO18_INDEX[name], 2] >= 0.5 for name in ("Nose", "REye", "LEye")):
        return False  # a face: a person cut off by the frame, not a garment on its own
    height, width = image.shape[:2]
    scale = MAX_WORKING_SIDE / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
    try:
        check_garment_photo(image)
        coverage = float(garment_mask(image).mean())
    except ValueError:
        return False
    return 0.05 <= coverage <= 0.9
