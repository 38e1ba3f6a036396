"""Tiny synthetic try-on datasets in the official folder layouts, for tests and smoke runs.

:func:`make_synthetic` draws ``n`` people per phase (train and test) from a jittered OpenPose skeleton: a figure
with hair, face, neck, a T-shirt with short sleeves over bare arms, trousers and shoes on a light, slightly noisy
background; the in-shop garment is a flat T-shirt (trousers, dress for DressCode's other categories) of the same
colour on white. Every map is drawn from the same geometry, so they agree with each other as real data does:

- the parse, with the layout's own label ids (LIP for ``viton``, VITON14 for ``viton-clean``, CIHP for
  ``viton-hd``, ATR for ``dresscode``; see :mod:`vton_zoo.data.schemes`);
- OpenPose keypoints in the layout's json format (COCO-18 ``pose_keypoints``, BODY_25 ``pose_keypoints_2d`` or
  DressCode's ``keypoints`` in 384x512 coordinates);
- DensePose part indices (``.npy``, the blue channel of an RGB PNG, or a grayscale PNG);
- garment masks, VITON-HD's agnostic parse, and the pairs files (paired for training, shifted by one for testing).

Nothing here is real data; the images only need to be plausible enough for the readers, the datasets and a few
training steps.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vton_zoo.preprocess._inputs_common import check_size, to_body25

from .readers import CATEGORIES
from .schemes import ATR, CIHP, LIP, VITON14, ParseScheme

logger = logging.getLogger(__name__)

LAYOUTS = ("viton", "viton-clean", "viton-hd", "dresscode")

# COCO-18 skeleton in fractions of (W, H), person facing the camera (their right on the image's left).
_SKELETON = np.array([
    (0.50, 0.16), (0.50, 0.26), (0.36, 0.28), (0.31, 0.44), (0.30, 0.58), (0.64, 0.28), (0.69, 0.44), (0.70, 0.58),
    (0.42, 0.60), (0.42, 0.79), (0.42, 0.95), (0.58, 0.60), (0.58, 0.79), (0.58, 0.95), (0.47, 0.14), (0.53, 0.14),
    (0.44, 0.15), (0.56, 0.15),
], np.float64)

# Drawing regions, painted in this order (later ones cover earlier ones).
_REGIONS = ("hair", "face", "neck", "right_arm", "left_arm", "right_leg", "left_leg", "upper", "right_shoe",
            "left_shoe")
# Region -> label id per scheme (the neck is face/head skin where the scheme has no neck label).
_IDS: dict[str, dict[str, int]] = {
    "lip": {"hair": 2, "face": 13, "neck": 13, "right_arm": 15, "left_arm": 14, "right_leg": 9, "left_leg": 9,
            "upper": 5, "right_shoe": 19, "left_shoe": 18},
    "cihp": {"hair": 2, "face": 13, "neck": 10, "right_arm": 15, "left_arm": 14, "right_leg": 9, "left_leg": 9,
             "upper": 5, "right_shoe": 19, "left_shoe": 18},
    "viton14": {"hair": 1, "face": 12, "neck": 12, "right_arm": 13, "left_arm": 11, "right_leg": 8, "left_leg": 8,
                "upper": 4, "right_shoe": 6, "left_shoe": 5},
    "atr": {"hair": 2, "face": 11, "neck": 11, "right_arm": 15, "left_arm": 14, "right_leg": 6, "left_leg": 6,
            "upper": 4, "right_shoe": 10, "left_shoe": 9},
}
_PALETTE = [0, 0, 0, 128, 0, 0, 254, 0, 0, 0, 85, 0, 169, 0, 51, 254, 85, 0, 0, 0, 85, 0, 119, 220, 85, 85, 0, 0, 85,
            85, 85, 51, 0, 52, 86, 128, 0, 128, 0, 0, 0, 254, 51, 169, 220, 0, 254, 254, 85, 255, 255, 0, 254, 169, 0]


class _Figure:
    """One synthetic person: keypoints, the region map, the DensePose map and the photo."""

    def __init__(self, rng: np.random.Generator, size: tuple[int, int], category: str = "upper_body") -> None:
        height, width = size
        self.size = size
        self.category = category
        jitter = rng.normal(0.0, 0.012, _SKELETON.shape)
        shift = rng.uniform(-0.04, 0.04, 2)
        xy = (_SKELETON + jitter + shift) * (width, height)
        conf = rng.uniform(0.6, 0.95, (18, 1))
        self.keypoints = np.concatenate([xy, conf], 1).astype(np.float32)
        self.unit = width / 192.0  # stroke widths are tuned at 192 px wide
        self.skin = np.array([rng.uniform(170, 235), rng.uniform(120, 190), rng.uniform(90, 160)])
        self.hair = rng.uniform(10, 90, 3)
        self.garment = rng.uniform(20, 230, 3)
        self.trousers = rng.uniform(20, 120, 3)
        self.stripes = bool(rng.random() < 0.5)
        self.regions = self._draw_regions()
        self.densepose = self._draw_densepose()
        self.photo = self._paint(rng)

    def _pt(self, i: int) -> tuple[float, float]:
        return float(self.keypoints[i, 0]), float(self.keypoints[i, 1])

    def _draw_regions(self) -> np.ndarray:
        height, width = self.size
        canvas = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        u = self.unit
        value = {name: i + 1 for i, name in enumerate(_REGIONS)}
        nose, neck = self._pt(0), self._pt(1)
        head_r = 17 * u
        draw.ellipse((nose[0] - head_r * 1.1, nose[1] - head_r * 1.6, nose[0] + head_r * 1.1, nose[1] + head_r * 0.7),
                     value["hair"])
        draw.ellipse((nose[0] - head_r * 0.85, nose[1] - head_r * 1.1, nose[0] + head_r * 0.85,
                      nose[1] + head_r * 1.0), value["face"])
        draw.rectangle((neck[0] - 7 * u, nose[1] + head_r * 0.8, neck[0] + 7 * u, neck[1] + 4 * u), value["neck"])
        for side, (s, e, w) in (("right_arm", (2, 3, 4)), ("left_arm", (5, 6, 7))):
            draw.line([self._pt(s), self._pt(e), self._pt(w)], value[side], width=max(1, round(13 * u)), joint="curve")
            wx, wy = self._pt(w)
            draw.ellipse((wx - 7 * u, wy - 4 * u, wx + 7 * u, wy + 11 * u), value[side])
        for side, (h, k, a) in (("right_leg", (8, 9, 10)), ("left_leg", (11, 12, 13))):
            draw.line([self._pt(h), self._pt(k), self._pt(a)], value[side], width=max(1, round(20 * u)), joint="curve")
        torso = [self._pt(2), self._pt(5), self._pt(11), self._pt(8)]
        torso = [(torso[0][0] - 4 * u, torso[0][1] - 3 * u), (torso[1][0] + 4 * u, torso[1][1] - 3 * u),
                 (torso[2][0] + 9 * u, torso[2][1] + 6 * u), (torso[3][0] - 9 * u, torso[3][1] + 6 * u)]
        draw.polygon(torso, value["upper"])
        for s, e in ((2, 3), (5, 6)):
            (sx, sy), (ex, ey) = self._pt(s), self._pt(e)
            draw.line([(sx, sy), (sx + 0.45 * (ex - sx), sy + 0.45 * (ey - sy))], value["upper"],
                      width=max(1, round(19 * u)))
        for side, a in (("right_shoe", 10), ("left_shoe", 13)):
            ax, ay = self._pt(a)
            draw.ellipse((ax - 10 * u, ay - 2 * u, ax + 10 * u, ay + 8 * u), value[side])
        return np.asarray(canvas).copy()

    def region(self, name: str) -> np.ndarray:
        return self.regions == _REGIONS.index(name) + 1

    def _draw_densepose(self) -> np.ndarray:
        """DensePose I labels from the same geometry (front view): head 23/24, torso 2, arms, hands, legs, feet."""
        height, width = self.size
        canvas = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        u = self.unit
        nose = self._pt(0)
        torso = [self._pt(2), self._pt(5), self._pt(11), self._pt(8)]
        draw.polygon(torso, 2)
        arm = max(1, round(11 * u))
        for (s, e, w), (up, low, hand) in (((2, 3, 4), (16, 20, 3)), ((5, 6, 7), (15, 19, 4))):
            draw.line([self._pt(s), self._pt(e)], up, width=arm)
            draw.line([self._pt(e), self._pt(w)], low, width=arm)
            wx, wy = self._pt(w)
            draw.ellipse((wx - 6 * u, wy - 2 * u, wx + 6 * u, wy + 10 * u), hand)
        leg = max(1, round(17 * u))
        for (h, k, a), (up, low, foot) in (((8, 9, 10), (9, 13, 6)), ((11, 12, 13), (10, 14, 5))):
            draw.line([self._pt(h), self._pt(k)], up, width=leg)
            draw.line([self._pt(k), self._pt(a)], low, width=leg)
            ax, ay = self._pt(a)
            draw.ellipse((ax - 8 * u, ay - 1 * u, ax + 8 * u, ay + 7 * u), foot)
        head = np.zeros((height, width), bool)
        face = self.region("face") | self.region("neck")
        head[face] = True
        out = np.asarray(canvas).copy()
        columns = np.broadcast_to(np.arange(width)[None, :], (height, width))
        out[head] = np.where(columns < nose[0], 23, 24)[head]  # image-left half is the person's right
        out[self.regions == 0] = 0
        return out

    def _paint(self, rng: np.random.Generator) -> np.ndarray:
        height, width = self.size
        photo = np.empty((height, width, 3), np.float64)
        photo[:] = rng.uniform(215, 245)
        colours = {"hair": self.hair, "face": self.skin, "neck": self.skin * 0.95, "right_arm": self.skin,
                   "left_arm": self.skin, "right_leg": self.trousers, "left_leg": self.trousers,
                   "upper": self.garment, "right_shoe": (30, 30, 30), "left_shoe": (30, 30, 30)}
        for name, colour in colours.items():
            photo[self.region(name)] = colour
        if self.stripes:
            stripes = (np.arange(height)[:, None] // max(2, round(6 * self.unit)) % 2 == 0) & self.region("upper")
            photo[stripes] *= 0.8
        shade = 1.0 - 0.12 * np.linspace(0, 1, width)[None, :, None]
        photo = photo * shade + rng.normal(0, 3, photo.shape)
        return photo.clip(0, 255).astype(np.uint8)

    def flat_garment(self, category: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The in-shop garment on white and its mask: a T-shirt, trousers (lower_body) or a dress (dresses)."""
        height, width = self.size
        category = category or self.category
        mask_img = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(mask_img)
        cx, top, bottom = width / 2, 0.18 * height, 0.86 * height
        half = 0.2 * width
        if category == "lower_body":
            draw.polygon([(cx - half, top), (cx + half, top), (cx + half * 1.1, bottom), (cx + 0.1 * half, bottom),
                          (cx, top + 0.3 * (bottom - top)), (cx - 0.1 * half, bottom), (cx - half * 1.1, bottom)], 255)
        elif category == "dresses":
            draw.polygon([(cx - 0.7 * half, top), (cx + 0.7 * half, top), (cx + 1.5 * half, bottom),
                          (cx - 1.5 * half, bottom)], 255)
        else:
            draw.rectangle((cx - half, top, cx + half, bottom), 255)
            sleeve = 0.5 * half
            for sign in (-1, 1):
                shoulder = cx + sign * half
                draw.polygon([(shoulder, top), (shoulder + sign * 1.3 * sleeve, top + 0.9 * sleeve),
                              (shoulder + sign * 0.6 * sleeve, top + 1.9 * sleeve), (shoulder, top + 1.3 * sleeve)],
                             255)
            draw.ellipse((cx - 0.35 * half, top - 0.2 * half, cx + 0.35 * half, top + 0.25 * half), 0)
        mask = np.asarray(mask_img) > 0
        image = np.full((height, width, 3), 255.0)
        colour = self.trousers if category == "lower_body" else self.garment
        image[mask] = colour
        if self.stripes and category != "lower_body":
            stripes = (np.arange(height)[:, None] // max(2, round(6 * self.unit)) % 2 == 0) & mask
            image[stripes] *= 0.8
        return image.clip(0, 255).astype(np.uint8), mask

    def parse(self, scheme: ParseScheme, category: str = "upper_body") -> np.ndarray:
        ids = dict(_IDS[scheme.name])
        if scheme is ATR and category == "dresses":
            ids["upper"] = 7
        table = np.zeros(len(_REGIONS) + 1, np.uint8)
        for i, name in enumerate(_REGIONS):
            table[i + 1] = ids[name]
        return table[self.regions]


# --- writers --------------------------------------------------------------------------------------------------------


def _save_jpg(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, quality=95)


def _save_mask(mask: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray((mask * 255).astype(np.uint8))
    image.save(path, quality=95) if path.suffix == ".jpg" else image.save(path)


def _save_labels(labels: np.ndarray, path: Path, palette: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(labels.astype(np.uint8), "L")
    if palette:
        image = image.convert("P")
        image.putpalette(_PALETTE + [0] * (768 - len(_PALETTE)))
    image.save(path)


def _save_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _openpose_coco(keypoints: np.ndarray) -> dict:
    return {"version": 1.0, "people": [{"face_keypoints": [], "pose_keypoints": keypoints.reshape(-1).tolist(),
                                        "hand_right_keypoints": [], "hand_left_keypoints": []}]}


def _openpose_body25(keypoints: np.ndarray) -> dict:
    body25 = to_body25(keypoints)
    # Feet: big toe, small toe, heel below each ankle.
    for ankle, points in ((11, (22, 23, 24)), (14, (19, 20, 21))):
        x, y, c = body25[ankle]
        for j, dx in zip(points, (4.0, 8.0, -2.0)):
            body25[j] = (x + (dx if ankle == 14 else -dx), y + 4.0, c)
    return {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": body25.reshape(-1).tolist()}]}


def _densepose_rgb(densepose: np.ndarray) -> np.ndarray:
    height, width = densepose.shape
    out = np.zeros((height, width, 3), np.uint8)
    person = densepose > 0
    out[..., 0] = np.where(person, np.linspace(40, 220, width, dtype=np.uint8)[None, :], 0)
    out[..., 1] = np.where(person, np.linspace(40, 220, height, dtype=np.uint8)[:, None], 0)
    out[..., 2] = densepose
    return out


def make_synthetic(layout: str, root: str | Path, n: int = 4, size: tuple[int, int] = (256, 192),
                   seed: int = 0) -> Path:
    """Write a tiny synthetic dataset in an official folder layout.

    Args:
        layout: ``viton`` (CP-VTON), ``viton-clean`` (PF-AFN / DM-VTON), ``viton-hd`` or ``dresscode``.
        root: output folder (created; existing files with the same names are overwritten).
        n: people per phase (and per category for DressCode); at least 2, so that unpaired garments exist.
        size: ``(H, W)`` of every image.
        seed: seeds the figures.

    Returns:
        ``root`` as a Path, ready for :func:`vton_zoo.data.readers.open_dataset`.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {LAYOUTS}")
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an int >= 2 (unpaired garments need two), got {n!r}")
    height, width = check_size(size)
    if height < 32 or width < 24:
        raise ValueError(f"size must be at least 32x24 to draw a person, got {size}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = {"viton": _write_viton, "viton-clean": _write_viton_clean, "viton-hd": _write_viton_hd,
              "dresscode": _write_dresscode}[layout]
    for phase in ("train", "test"):
        writer(root, phase, int(n), (height, width), rng)
    logger.info("wrote a synthetic %s dataset (%d people per phase, %dx%d) to %s", layout, n, height, width, root)
    return root


def _pairs_lines(people: list[str], garments: list[str], shift: int) -> str:
    return "".join(f"{p} {garments[(i + shift) % len(garments)]}\n" for i, p in enumerate(people))


def _write_viton(root: Path, phase: str, n: int, size: tuple[int, int], rng: np.random.Generator) -> None:
    data = root / phase
    people, garments = [], []
    for i in range(n):
        figure = _Figure(rng, size)
        person, garment = f"{i:06d}_0.jpg", f"{i:06d}_1.jpg"
        cloth, mask = figure.flat_garment()
        _save_jpg(figure.photo, data / "image" / person)
        _save_jpg(cloth, data / "cloth" / garment)
        _save_mask(mask, data / "cloth-mask" / garment)
        _save_labels(figure.parse(LIP), data / "image-parse" / f"{i:06d}_0.png", palette=True)
        _save_json(_openpose_coco(figure.keypoints), data / "pose" / f"{i:06d}_0_keypoints.json")
        people.append(person)
        garments.append(garment)
    (root / f"{phase}_pairs.txt").write_text(_pairs_lines(people, garments, 0 if phase == "train" else 1))


def _write_viton_clean(root: Path, phase: str, n: int, size: tuple[int, int], rng: np.random.Generator) -> None:
    people, garments = [], []
    for i in range(n):
        figure = _Figure(rng, size)
        person, garment = f"{i:06d}_0.jpg", f"{i:06d}_1.jpg"
        cloth, mask = figure.flat_garment()
        _save_jpg(figure.photo, root / f"{phase}_img" / person)
        _save_jpg(cloth, root / f"{phase}_color" / garment)
        _save_mask(mask, root / f"{phase}_edge" / garment)
        _save_labels(figure.parse(VITON14), root / f"{phase}_label" / f"{i:06d}_0.png", palette=False)
        (root / f"{phase}_densepose").mkdir(parents=True, exist_ok=True)
        np.save(root / f"{phase}_densepose" / f"{i:06d}_0.npy", figure.densepose)
        _save_json(_openpose_coco(figure.keypoints), root / f"{phase}_pose" / f"{i:06d}_0_keypoints.json")
        people.append(person)
        garments.append(garment)
    (root / f"{phase}_pairs.txt").write_text(_pairs_lines(people, garments, 0 if phase == "train" else 1))


def _write_viton_hd(root: Path, phase: str, n: int, size: tuple[int, int], rng: np.random.Generator) -> None:
    data = root / phase
    names, ratios = [], []
    for i in range(n):
        figure = _Figure(rng, size)
        name = f"{i:05d}_00"
        cloth, mask = figure.flat_garment()
        parse = figure.parse(CIHP)
        _save_jpg(figure.photo, data / "image" / f"{name}.jpg")
        _save_jpg(cloth, data / "cloth" / f"{name}.jpg")
        _save_mask(mask, data / "cloth-mask" / f"{name}.jpg")
        _save_labels(parse, data / "image-parse-v3" / f"{name}.png", palette=True)
        agnostic = np.where(np.isin(parse, CIHP.ids("upper_garment", "left_arm", "right_arm", "neck")), 0, parse)
        _save_labels(agnostic, data / "image-parse-agnostic-v3.2" / f"{name}.png", palette=False)
        _save_json(_openpose_body25(figure.keypoints), data / "openpose_json" / f"{name}_keypoints.json")
        Image.fromarray(_densepose_rgb(figure.densepose)).save(
            _mkparent(data / "image-densepose" / f"{name}.png"))
        names.append(f"{name}.jpg")
        ratios.append(f"{name}.png {rng.uniform(0.8, 1.0):.3f}\n")
    (root / f"{phase}_pairs.txt").write_text(_pairs_lines(names, names, 0 if phase == "train" else 1))
    if phase == "train":
        (root / "person_clothes_ratio_train.txt").write_text("".join(ratios))


def _write_dresscode(root: Path, phase: str, n: int, size: tuple[int, int], rng: np.random.Generator) -> None:
    for category in CATEGORIES:
        base = root / category
        people, garments = [], []
        for i in range(n):
            figure = _Figure(rng, size, category)
            stem = f"{(0 if phase == 'train' else 500) + i:06d}"
            cloth, _ = figure.flat_garment(category)
            _save_jpg(figure.photo, base / "images" / f"{stem}_0.jpg")
            _save_jpg(cloth, base / "images" / f"{stem}_1.jpg")
            _save_labels(figure.parse(ATR, category), base / "label_maps" / f"{stem}_4.png", palette=True)
            frame = np.array([384.0 / size[1], 512.0 / size[0]])
            points = [[float(x * frame[0]), float(y * frame[1]), float(c), float(j)]
                      for j, (x, y, c) in enumerate(figure.keypoints)]
            _save_json({"keypoints": points, "canvas_width": 384, "canvas_height": 512},
                       base / "keypoints" / f"{stem}_2.json")
            _save_labels(figure.densepose, base / "dense" / f"{stem}_5.png", palette=False)
            people.append(f"{stem}_0.jpg")
            garments.append(f"{stem}_1.jpg")
        if phase == "train":
            (base / "train_pairs.txt").write_text(_pairs_lines(people, garments, 0))
        else:
            (base / "test_pairs_paired.txt").write_text(_pairs_lines(people, garments, 0))
            (base / "test_pairs_unpaired.txt").write_text(_pairs_lines(people, garments, 1))


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
