"""Label and keypoint conventions shared by the preprocessing modules.

Defined once here, imported everywhere else:

- the coarse body-parse labels produced by :func:`vton_zoo.preprocess.parse.coarse_parse` and a palette to show them;
- the OpenPose keypoint orders COCO-18 and BODY_25 ("R"/"L" are the person's right/left, as in OpenPose);
- the OpenPose limb pairs and colours used to draw skeleton images (the rendering DAFlow is fed).

This module is pure data (no numpy at import time beyond what callers bring).
"""

from __future__ import annotations

# --- Coarse parse labels (uint8 label map, 0..9) -------------------------------------------------------------------

BACKGROUND = 0
HAIR = 1
FACE = 2
NECK = 3
UPPER_GARMENT = 4  # upper-body garment region / torso
RIGHT_ARM = 5
LEFT_ARM = 6
RIGHT_HAND = 7
LEFT_HAND = 8
LOWER_BODY = 9  # legs, lower garment, feet

PARSE_LABELS: dict[str, int] = {
    "background": BACKGROUND,
    "hair": HAIR,
    "face": FACE,
    "neck": NECK,
    "upper_garment": UPPER_GARMENT,
    "right_arm": RIGHT_ARM,
    "left_arm": LEFT_ARM,
    "right_hand": RIGHT_HAND,
    "left_hand": LEFT_HAND,
    "lower_body": LOWER_BODY,
}
PARSE_NAMES: tuple[str, ...] = tuple(sorted(PARSE_LABELS, key=PARSE_LABELS.__getitem__))
NUM_PARSE_LABELS = len(PARSE_NAMES)

# Groups that callers use repeatedly (e.g. what an agnostic image hides or keeps).
HEAD_LABELS: tuple[int, ...] = (HAIR, FACE)
ARM_LABELS: tuple[int, ...] = (RIGHT_ARM, LEFT_ARM)
HAND_LABELS: tuple[int, ...] = (RIGHT_HAND, LEFT_HAND)

# RGB colour per label, index = label id; only for visualisation.
PARSE_PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0),  # background
    (128, 0, 0),  # hair
    (255, 200, 150),  # face
    (220, 130, 90),  # neck
    (0, 128, 255),  # upper_garment
    (0, 200, 0),  # right_arm
    (200, 200, 0),  # left_arm
    (0, 255, 160),  # right_hand
    (255, 120, 0),  # left_hand
    (120, 0, 160),  # lower_body
)

# --- OpenPose COCO-18 ------------------------------------------------------------------------------------------------

COCO18_NAMES: tuple[str, ...] = (
    "Nose",
    "Neck",
    "RShoulder",
    "RElbow",
    "RWrist",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
    "REye",
    "LEye",
    "REar",
    "LEar",
)
COCO18_INDEX: dict[str, int] = {name: i for i, name in enumerate(COCO18_NAMES)}

# --- OpenPose BODY_25 ------------------------------------------------------------------------------------------------

BODY25_NAMES: tuple[str, ...] = (
    "Nose",
    "Neck",
    "RShoulder",
    "RElbow",
    "RWrist",
    "LShoulder",
    "LElbow",
    "LWrist",
    "MidHip",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
    "REye",
    "LEye",
    "REar",
    "LEar",
    "LBigToe",
    "LSmallToe",
    "LHeel",
    "RBigToe",
    "RSmallToe",
    "RHeel",
)
BODY25_INDEX: dict[str, int] = {name: i for i, name in enumerate(BODY25_NAMES)}

# COCO-18 index -> BODY_25 index (BODY_25 is COCO-18 with MidHip inserted at 8 and six foot points appended).
COCO18_TO_BODY25: tuple[int, ...] = tuple(BODY25_INDEX[name] for name in COCO18_NAMES)

# --- OpenPose skeleton drawing (COCO-18) -----------------------------------------------------------------------------

# Limb pairs as 0-based COCO-18 indices, in OpenPose's order. The first 17 are the limbs OpenPose-style renderers
# (and DAFlow's draw_keypoints.py) draw; the last two (shoulder-ear) are part of the PAF graph and usually not drawn.
COCO18_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2),
    (1, 5),
    (2, 3),
    (3, 4),
    (5, 6),
    (6, 7),
    (1, 8),
    (8, 9),
    (9, 10),
    (1, 11),
    (11, 12),
    (12, 13),
    (1, 0),
    (0, 14),
    (14, 16),
    (0, 15),
    (15, 17),
    (2, 16),
    (5, 17),
)
NUM_DRAWN_LIMBS = 17

# OpenPose colours, one per keypoint / limb index. OpenPose writes them as BGR with cv2; renderers that read the result
# back as RGB (DAFlow) therefore see the channels swapped: reverse each triple to get what they show.
OPENPOSE_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0),
    (255, 85, 0),
    (255, 170, 0),
    (255, 255, 0),
    (170, 255, 0),
    (85, 255, 0),
    (0, 255, 0),
    (0, 255, 85),
    (0, 255, 170),
    (0, 255, 255),
    (0, 170, 255),
    (0, 85, 255),
    (0, 0, 255),
    (85, 0, 255),
    (170, 0, 255),
    (255, 0, 255),
    (255, 0, 170),
    (255, 0, 85),
)
