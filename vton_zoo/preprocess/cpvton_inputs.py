"""CP-VTON's inputs from a person photo, its keypoints and coarse parse, and a garment photo with its mask.

CP-VTON (sergeywong/cp-vton, ``cp_dataset.py``) conditions both stages on a 22-channel cloth-agnostic person
representation at 256x192:

- channel 0, body shape: the person mask (parse > 0) as an 8-bit image, PIL-bilinear resized to 1/16 of the size
  (12x16) and back, then mapped to [-1, 1], a blurred silhouette that hides the garment's outline;
- channels 1-3, head: ``image * head - (1 - head)`` with the head = hat, hair, sunglasses and face labels (here the
  coarse hair and face labels), i.e. the head's pixels and -1 elsewhere;
- channels 4-21, pose: one map per COCO-18 point, a white square of half-side ``radius`` on black in {-1, 1}
  (``radius`` 5 is test.py's default, the value the released configurations use; the dataset file defaults to 3).

The garment is fed unmasked with its mask binarised (``mask >= 128`` upstream).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from . import labels
from ._inputs_common import (
    channels_tensor,
    check_image,
    check_keypoints,
    check_mask,
    check_parse,
    check_size,
    image_tensor,
    label_mask,
    mask_tensor,
    resize_image,
    resize_labels,
    resize_mask,
    scale_keypoints,
    square_pose_maps,
    to_coco18,
)

CPVTON_SIZE = (256, 192)
HEAD_LABELS = labels.HEAD_LABELS  # hair and face


def body_shape(parse: np.ndarray) -> np.ndarray:
    """The blurred silhouette (uint8 (H, W)): person mask down to 1/16 of the size and back, PIL bilinear."""
    height, width = parse.shape
    silhouette = Image.fromarray(((parse > 0) * 255).astype(np.uint8))
    small = silhouette.resize((max(1, width // 16), max(1, height // 16)), Image.BILINEAR)
    return np.asarray(small.resize((width, height), Image.BILINEAR))


def cpvton_representation(image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray, *,
                          radius: float = 5) -> np.ndarray:
    """The 22-channel person representation (float32 (22, H, W) in [-1, 1]) at the image's own resolution.

    Args:
        image: person photo, uint8 RGB ``(H, W, 3)``.
        parse: coarse parse ``uint8 (H, W)``.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixel coordinates of ``image``.
        radius: half-side of the pose squares in pixels.
    """
    image = check_image(image, "person image")
    parse = check_parse(parse, image.shape[:2])
    keypoints = to_coco18(check_keypoints(keypoints))
    if not (np.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be a non-negative number, got {radius}")
    height, width = parse.shape
    out = np.empty((22, height, width), np.float32)
    out[0] = body_shape(parse).astype(np.float32) / 127.5 - 1.0
    head = label_mask(parse, HEAD_LABELS)
    out[1:4] = np.where(head[None], image.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0, -1.0)
    out[4:] = square_pose_maps(keypoints, (height, width), radius)
    return out


def build_cpvton_inputs(person: np.ndarray, keypoints: np.ndarray, parse: np.ndarray, garment: np.ndarray,
                        garment_mask: np.ndarray, *, size: tuple[int, int] = CPVTON_SIZE,
                        radius: float | None = None) -> dict[str, torch.Tensor]:
    """Everything ``cp-vton`` takes, from a framed person photo and a garment photo with its mask.

    Photo (PIL bicubic), parse (nearest) and keypoints (scaled) are brought to ``size`` and the representation is
    computed there, as upstream computes it on its 256x192 data.

    Args:
        person: person photo, uint8 RGB ``(h, w, 3)``, framed to the aspect ratio of ``size``.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixel coordinates of ``person``.
        parse: coarse parse ``uint8 (h, w)`` of ``person``.
        garment: garment photo, uint8 RGB ``(hg, wg, 3)``.
        garment_mask: garment mask ``(hg, wg)``, bool or float in [0, 1].
        size: ``(H, W)`` of the tensors (CP-VTON's GMM has a fixed 256x192 input).
        radius: pose square half-side; default 5 at 256 pixels high, scaled with ``H``.

    Returns:
        ``{"person_representation": (1, 22, H, W), "garment": (1, 3, H, W), "garment_mask": (1, 1, H, W)}``.
    """
    size = check_size(size)
    person = check_image(person, "person image")
    garment = check_image(garment, "garment image")
    parse = check_parse(parse, person.shape[:2])
    garment_mask = check_mask(garment_mask, garment.shape[:2], "garment mask")
    keypoints = scale_keypoints(check_keypoints(keypoints), person.shape[:2], size)
    if radius is None:
        radius = 5 * size[0] / CPVTON_SIZE[0]

    representation = cpvton_representation(resize_image(person, size, Image.BICUBIC), resize_labels(parse, size),
                                           keypoints, radius=radius)
    return {
        "person_representation": channels_tensor(representation),
        "garment": image_tensor(resize_image(garment, size, Image.BICUBIC)),
        "garment_mask": mask_tensor(resize_mask(garment_mask, size)),
    }
