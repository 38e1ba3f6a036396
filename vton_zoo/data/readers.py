"""Readers for the official folder layouts of the public try-on datasets.

A reader validates a dataset folder when it is built (every folder, the pairs file and every file the pairs name),
failing with a ``ValueError`` that names what is missing and shows the expected layout, and then loads one
person/garment pair at a time as an :class:`Example` of numpy arrays at the files' own resolution, in the
conventions of :mod:`vton_zoo.preprocess` (uint8 RGB images, bool masks, keypoints ``(N, 3)`` in pixels).

Layouts (``<phase>`` is ``train`` or ``test``):

- :class:`VitonReader`: VITON as CP-VTON uses it (``sergeywong/cp-vton`` ``cp_dataset.py``).
- :class:`VitonCleanReader`: VITON as PF-AFN trains on it and DM-VTON's VITON-Clean (``*_img``, ``*_color``, ...).
- :class:`VitonHDReader`: VITON-HD (``shadow2496/VITON-HD``).
- :class:`DressCodeReader`: DressCode (``aimagelab/dress-code``), three categories.

The datasets of :mod:`vton_zoo.data.datasets` turn Examples into each method's training tensors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .schemes import ATR, CIHP, LIP, VITON14, ParseScheme

logger = logging.getLogger(__name__)

PHASES = ("train", "test")
CATEGORIES = ("upper_body", "lower_body", "dresses")


@dataclass(frozen=True)
class Pair:
    """One line of a pairs file: person file name, garment file name, and the garment category."""

    person: str
    garment: str
    category: str = "upper_body"


@dataclass
class Example:
    """One person/garment pair loaded from disk, at the files' resolution.

    Attributes:
        person_name, garment_name: file names as in the pairs file.
        category: ``upper_body``, ``lower_body`` or ``dresses``.
        person: uint8 RGB ``(H, W, 3)``.
        garment: uint8 RGB ``(Hg, Wg, 3)``, the in-shop garment.
        garment_mask: bool ``(Hg, Wg)``.
        parse: uint8 ``(H, W)`` person parse with the dataset's own label ids (``scheme``), or ``None``.
        scheme: the parse's :class:`~vton_zoo.data.schemes.ParseScheme`.
        keypoints: float32 ``(18 or 25, 3)`` OpenPose (x, y, confidence) in pixels of ``person``, or ``None``.
        densepose: uint8 ``(H, W)`` DensePose part index I (0 background, 1..24), or ``None``.
        parse_agnostic: uint8 label map of VITON-HD's ``image-parse-agnostic-v3.2`` (its own size), or ``None``.
        notes: which maps were stood in for by our preprocessing (e.g. ``{"garment_mask": "..."}``).
    """

    person_name: str
    garment_name: str
    category: str
    person: np.ndarray
    garment: np.ndarray
    garment_mask: np.ndarray
    parse: np.ndarray | None = None
    scheme: ParseScheme | None = None
    keypoints: np.ndarray | None = None
    densepose: np.ndarray | None = None
    parse_agnostic: np.ndarray | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def coarse_parse(self) -> np.ndarray:
        """The parse in the coarse labels of :mod:`vton_zoo.preprocess.labels` (for the preprocessing helpers)."""
        if self.parse is None or self.scheme is None:
            raise ValueError(f"{self.person_name}: this example has no person parse")
        return self.scheme.to_coarse(self.parse)


# --- file loading ---------------------------------------------------------------------------------------------------


def _open(path: Path, what: str) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
        return image
    except FileNotFoundError:
        raise ValueError(f"{what} file not found: {path}") from None
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{what} file {path} is not a readable image ({error})") from None


def read_rgb(path: Path, what: str = "image") -> np.ndarray:
    """uint8 RGB ``(H, W, 3)``."""
    return np.asarray(_open(path, what).convert("RGB")).copy()


def read_mask(path: Path, what: str = "mask") -> np.ndarray:
    """Bool ``(H, W)`` from a grayscale (often JPEG, so noisy) mask: ``>= 128``, i.e. ``> 0.5`` after ``/255``."""
    return np.asarray(_open(path, what).convert("L")) >= 128


def read_labels(path: Path, what: str = "label map") -> np.ndarray:
    """uint8 ``(H, W)`` label ids from a palette or grayscale PNG (or a ``.npy`` array)."""
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise ValueError(f"{what} file not found: {path}") from None
        except (ValueError, OSError) as error:
            raise ValueError(f"{what} file {path} is not a readable .npy array ({error})") from None
        array = np.squeeze(array)
        if array.ndim != 2 or not np.isfinite(array).all() or array.min() < 0 or array.max() > 255:
            raise ValueError(f"{what} file {path} must hold a 2-D array of ids 0..255, got shape {array.shape}")
        return np.rint(array).astype(np.uint8)
    image = _open(path, what)
    if image.mode not in ("P", "L", "I", "I;16"):
        image = image.convert("L")  # JPEG label maps (DM-VTON's *_label may be .jpg), read as PIL 'L' as upstream
    return np.asarray(image).astype(np.uint8)


def read_json(path: Path, what: str) -> object:
    """A json file's content; a missing or malformed file is a ``ValueError`` naming ``what`` and the path."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{what} file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{what} file {path} is not valid JSON ({error})") from None


def read_openpose(path: Path, what: str = "pose") -> np.ndarray:
    """OpenPose json -> float32 ``(N, 3)`` of the first person (COCO-18 ``pose_keypoints`` or BODY_25
    ``pose_keypoints_2d``); an empty ``people`` list gives 18 missing points, as PF-AFN's loader does."""
    data = read_json(path, what)
    people = data.get("people") if isinstance(data, dict) else None
    if people is None:
        raise ValueError(f"{what} file {path} has no 'people' list (expected OpenPose json output)")
    if not people:
        return np.zeros((18, 3), np.float32)
    person = people[0]
    flat = person.get("pose_keypoints_2d", person.get("pose_keypoints"))
    if flat is None:
        raise ValueError(f"{what} file {path}: people[0] has neither 'pose_keypoints_2d' nor 'pose_keypoints'")
    return _keypoint_array(flat, 3, path, what)


def _keypoint_array(flat: Sequence[float], stride: int, path: Path, what: str) -> np.ndarray:
    array = np.asarray(flat, np.float32).reshape(-1)
    if array.size % stride or array.size // stride not in (18, 25):
        raise ValueError(f"{what} file {path}: expected 18 or 25 keypoints of {stride} values, "
                         f"got {array.size} values")
    points = array.reshape(-1, stride)[:, :3].copy()
    if not np.isfinite(points).all():
        raise ValueError(f"{what} file {path} contains NaN or inf")
    points[points[:, 2] <= 0] = 0.0
    return points


def read_pairs(path: Path, category: str = "upper_body", *, single_column: bool = False) -> list[Pair]:
    """``person garment`` lines (a third column, e.g. GP-VTON's garment type, is ignored); ``single_column``: lines
    are person names only and the garment is the same name (VITON-HD style ``_00``) or ``_0`` -> ``_1`` (VITON)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise ValueError(f"pairs file not found: {path}") from None
    pairs = []
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if single_column or len(fields) == 1:
            pairs.append(Pair(fields[0], own_garment_name(fields[0]), category))
        else:
            pairs.append(Pair(fields[0], fields[1], category))
        if len(fields) > 3:
            raise ValueError(f"{path}:{number}: expected 'person garment [type]', got {line!r}")
    if not pairs:
        raise ValueError(f"pairs file {path} is empty")
    return pairs


def own_garment_name(person: str) -> str:
    """The in-shop garment a person wears, by the dataset naming: VITON/DressCode ``X_0.jpg`` -> ``X_1.jpg``;
    VITON-HD ``X_00.jpg`` -> ``X_00.jpg``."""
    stem, dot, ext = person.rpartition(".")
    if stem.endswith("_0") and not stem.endswith("_00"):
        return f"{stem[:-2]}_1.{ext}"
    return person


# --- readers --------------------------------------------------------------------------------------------------------


class LayoutReader:
    """Base class: a validated dataset folder and its pairs, loading :class:`Example` objects.

    Subclasses set :attr:`layout` (name), :attr:`scheme` and :attr:`LAYOUT` (the expected tree, shown in errors)
    and implement :meth:`_files` (the paths of one pair) and :meth:`load`.
    """

    layout = "?"
    LAYOUT = ""
    scheme: ParseScheme | None = None

    def __init__(self, root: str | Path, phase: str = "train") -> None:
        self.root = Path(root)
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        self.phase = phase
        if not self.root.is_dir():
            self._fail(f"dataset root {str(self.root)!r} is not a folder")
        self.pairs: list[Pair] = []

    # Errors -------------------------------------------------------------------------------------------------------

    def _fail(self, problem: str) -> None:
        raise ValueError(f"{self.layout}: {problem}.\nExpected layout:\n{self.LAYOUT.strip(chr(10))}")

    def _require_dir(self, path: Path) -> Path:
        if not path.is_dir():
            self._fail(f"missing folder {str(path)!r}")
        return path

    def _require_file(self, path: Path) -> Path:
        if not path.is_file():
            self._fail(f"missing file {str(path)!r}")
        return path

    def _validate_files(self) -> None:
        """Every file the pairs name must exist (checked once, so that training never stops half-way)."""
        seen: set[Path] = set()
        for pair in self.pairs:
            for path in self._files(pair).values():
                if path is not None and path not in seen:
                    seen.add(path)
                    self._require_file(path)

    def _files(self, pair: Pair) -> dict[str, Path | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    # Access -------------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> Example:
        return self.load(self.pairs[index])

    def garments(self, category: str | None = None) -> list[Pair]:
        """One pair per distinct garment (optionally of one category), in first-seen order: the pool the
        unpaired modes draw from."""
        seen: dict[tuple[str, str], Pair] = {}
        for pair in self.pairs:
            if category is None or pair.category == category:
                seen.setdefault((pair.category, pair.garment), pair)
        return list(seen.values())

    def load(self, pair: Pair, garment: Pair | None = None) -> Example:  # pragma: no cover - abstract
        """The person of ``pair`` with the garment of ``garment`` (default: the pair's own garment)."""
        raise NotImplementedError

    def _read_pair(self, pair: Pair, garment: Pair | None) -> tuple[Example, dict[str, Path | None]]:
        """The person image, garment image and garment mask every layout has (the garment from ``garment``),
        and the person's file paths for the layout-specific maps."""
        files, garment_files = self._files(pair), self._files(garment or pair)
        example = Example(
            pair.person, (garment or pair).garment, pair.category,
            person=read_rgb(files["person"], "person image"),
            garment=read_rgb(garment_files["garment"], "garment image"),
            garment_mask=read_mask(garment_files["garment_mask"], "garment mask"),
        )
        return example, files

    def _read_parse(self, path: Path) -> np.ndarray:
        """The person parse, checked against the layout's label set (:attr:`scheme`)."""
        return self.scheme.check(read_labels(path, "person parse"), f"parse {path}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, phase={self.phase!r}, pairs={len(self.pairs)})"


class VitonReader(LayoutReader):
    """VITON (256x192) as CP-VTON uses it, with its LIP parses (:data:`~vton_zoo.data.schemes.LIP`).

    With ``warped=True`` the GMM results CP-VTON's TOM stage trains on (``warp-cloth``, ``warp-mask``, written by
    running the trained GMM over the training pairs) are required too.
    """

    layout = "VITON (CP-VTON layout)"
    LAYOUT = """
<root>/
  <phase>_pairs.txt            lines 'person.jpg garment.jpg' (e.g. '000003_0.jpg 000003_1.jpg')
  <phase>/image/               person photos, RGB .jpg
  <phase>/cloth/               in-shop garments, RGB .jpg
  <phase>/cloth-mask/          garment masks, grayscale .jpg (>= 128 is garment)
  <phase>/image-parse/         person parses, palette .png with LIP ids (same stem as the photo)
  <phase>/pose/                OpenPose COCO-18 json '<stem>_keypoints.json' (people[0].pose_keypoints)
  <phase>/warp-cloth/, warp-mask/   (TOM stage only) the GMM's warped garments and masks
"""
    scheme = LIP

    def __init__(self, root: str | Path, phase: str = "train", *, pairs_file: str | None = None,
                 warped: bool = False) -> None:
        super().__init__(root, phase)
        self.warped = warped
        self.data = self._require_dir(self.root / phase)
        folders = ["image", "cloth", "cloth-mask", "image-parse", "pose"] + (["warp-cloth", "warp-mask"] if warped
                                                                             else [])
        for folder in folders:
            self._require_dir(self.data / folder)
        self.pairs = read_pairs(self._require_file(self.root / (pairs_file or f"{phase}_pairs.txt")))
        self._validate_files()

    def _files(self, pair: Pair) -> dict[str, Path | None]:
        stem = Path(pair.person).stem
        files: dict[str, Path | None] = {
            "person": self.data / "image" / pair.person,
            "garment": self.data / "cloth" / pair.garment,
            "garment_mask": self.data / "cloth-mask" / pair.garment,
            "parse": self.data / "image-parse" / f"{stem}.png",
            "pose": self.data / "pose" / f"{stem}_keypoints.json",
        }
        if self.warped:
            files["warped_garment"] = self.data / "warp-cloth" / pair.garment
            files["warped_mask"] = self.data / "warp-mask" / pair.garment
        return files

    def load(self, pair: Pair, garment: Pair | None = None) -> Example:
        example, files = self._read_pair(pair, garment)
        example.parse, example.scheme = self._read_parse(files["parse"]), self.scheme
        example.keypoints = read_openpose(files["pose"])
        return example

    def load_warped(self, pair: Pair) -> tuple[np.ndarray, np.ndarray]:
        """The GMM's warped garment (uint8 RGB) and mask (bool) for a pair (``warped=True`` readers only)."""
        if not self.warped:
            raise ValueError("this VitonReader was built without warped=True (no warp-cloth / warp-mask folders)")
        files = self._files(pair)
        return read_rgb(files["warped_garment"], "warped garment"), read_mask(files["warped_mask"], "warped mask")


class VitonCleanReader(LayoutReader):
    """VITON as PF-AFN trains on it, and DM-VTON's VITON-Clean: ``<phase>_img``, ``_color``, ``_edge``, ``_label``
    (:data:`~vton_zoo.data.schemes.VITON14` ids), ``_densepose`` (``.npy``), ``_pose`` (json).

    Pairs come from ``<phase>_pairs.txt`` when it exists (DM-VTON); otherwise, as PF-AFN's ``AlignedDataset``, the
    sorted ``_img`` and ``_color`` listings are paired index by index. PF-AFN's test folder ``test_clothes`` is
    accepted for ``_color``. ``maps`` (default: on for ``train``) requires the label, DensePose and pose folders;
    without them the Examples carry only the photos and the garment mask (inference / evaluation).
    """

    layout = "VITON (PF-AFN / DM-VTON VITON-Clean layout)"
    LAYOUT = """
<root>/
  <phase>_pairs.txt        (optional) lines 'person.jpg garment.jpg'; without it the sorted listings are paired
  <phase>_img/             person photos, RGB .jpg
  <phase>_color/           in-shop garments, RGB .jpg (PF-AFN's test set names it <phase>_clothes/)
  <phase>_edge/            garment masks, grayscale .jpg, same names as the garments (> 0.5 after /255 is garment)
  <phase>_label/           person parses, 14-label (ACGPN ids) .png (or .jpg), same stem as the photo
  <phase>_densepose/       DensePose part index I, '<stem>.npy' (H, W) with values 0..24
  <phase>_pose/            OpenPose COCO-18 json, '<stem>_keypoints.json' (PF-AFN) or '<stem>.json' (DM-VTON)
"""
    scheme = VITON14

    def __init__(self, root: str | Path, phase: str = "train", *, pairs_file: str | None = None,
                 maps: bool | None = None) -> None:
        super().__init__(root, phase)
        self.maps = phase == "train" if maps is None else maps
        self.img_dir = self._require_dir(self.root / f"{phase}_img")
        color = self.root / f"{phase}_color"
        if not color.is_dir() and (self.root / f"{phase}_clothes").is_dir():
            color = self.root / f"{phase}_clothes"
        self.color_dir = self._require_dir(color)
        self.edge_dir = self._require_dir(self.root / f"{phase}_edge")
        if self.maps:
            self.label_dir = self._require_dir(self.root / f"{phase}_label")
            self.densepose_dir = self._require_dir(self.root / f"{phase}_densepose")
            self.pose_dir = self._require_dir(self.root / f"{phase}_pose")
        pairs_path = self.root / (pairs_file or f"{phase}_pairs.txt")
        if pairs_file is not None or pairs_path.is_file():
            self.pairs = read_pairs(self._require_file(pairs_path))
        else:
            people = sorted(p.name for p in self.img_dir.iterdir() if p.suffix.lower() in (".jpg", ".png"))
            garments = sorted(p.name for p in self.color_dir.iterdir() if p.suffix.lower() in (".jpg", ".png"))
            if not people or len(people) != len(garments):
                self._fail(f"no {phase}_pairs.txt, and {self.img_dir.name}/ ({len(people)} images) and "
                           f"{self.color_dir.name}/ ({len(garments)} images) cannot be paired index by index")
            self.pairs = [Pair(p, g) for p, g in zip(people, garments)]
        self._validate_files()

    def _pose_path(self, stem: str) -> Path:
        pf_afn = self.pose_dir / f"{stem}_keypoints.json"
        return pf_afn if pf_afn.is_file() or not (self.pose_dir / f"{stem}.json").is_file() else \
            self.pose_dir / f"{stem}.json"

    def _label_path(self, stem: str) -> Path:
        png, jpg = self.label_dir / f"{stem}.png", self.label_dir / f"{stem}.jpg"
        return png if png.is_file() or not jpg.is_file() else jpg

    def _files(self, pair: Pair) -> dict[str, Path | None]:
        stem = Path(pair.person).stem
        files: dict[str, Path | None] = {
            "person": self.img_dir / pair.person,
            "garment": self.color_dir / pair.garment,
            "garment_mask": self.edge_dir / pair.garment,
        }
        if self.maps:
            files["parse"] = self._label_path(stem)
            files["densepose"] = self.densepose_dir / f"{stem}.npy"
            files["pose"] = self._pose_path(stem)
        return files

    def load(self, pair: Pair, garment: Pair | None = None) -> Example:
        example, files = self._read_pair(pair, garment)
        if self.maps:
            example.parse, example.scheme = self._read_parse(files["parse"]), self.scheme
            example.densepose = read_labels(files["densepose"], "densepose")
            example.keypoints = read_openpose(files["pose"])
        return example


class VitonHDReader(LayoutReader):
    """VITON-HD (1024x768), with its CIHP parses (:data:`~vton_zoo.data.schemes.CIHP`).

    ``image-densepose`` (the DensePose part index is the blue channel) and ``image-parse-agnostic-v3.2`` are loaded
    when their folders exist; the datasets stand in for a missing DensePose with
    :func:`vton_zoo.preprocess.gpvton_inputs.approximate_densepose` and say so in ``Example.notes``.
    """

    layout = "VITON-HD"
    LAYOUT = """
<root>/
  <phase>_pairs.txt                lines 'person.jpg garment.jpg' (e.g. '00000_00.jpg 00000_00.jpg')
  <phase>/image/                   person photos, RGB .jpg 1024x768
  <phase>/cloth/                   in-shop garments, RGB .jpg
  <phase>/cloth-mask/              garment masks, grayscale .jpg (>= 128 is garment)
  <phase>/image-parse-v3/          person parses, palette .png with CIHP ids (10 = neck)
  <phase>/openpose_json/           OpenPose BODY_25 json '<stem>_keypoints.json' (people[0].pose_keypoints_2d)
  <phase>/image-densepose/         (optional) DensePose RGB .png, part index I in the blue channel
  <phase>/image-parse-agnostic-v3.2/  (optional) agnostic parses, grayscale .png
"""
    scheme = CIHP

    def __init__(self, root: str | Path, phase: str = "train", *, pairs_file: str | None = None) -> None:
        super().__init__(root, phase)
        self.data = self._require_dir(self.root / phase)
        for folder in ("image", "cloth", "cloth-mask", "image-parse-v3", "openpose_json"):
            self._require_dir(self.data / folder)
        self.has_densepose = (self.data / "image-densepose").is_dir()
        self.has_agnostic = (self.data / "image-parse-agnostic-v3.2").is_dir()
        self.pairs = read_pairs(self._require_file(self.root / (pairs_file or f"{phase}_pairs.txt")))
        self._validate_files()

    def _files(self, pair: Pair) -> dict[str, Path | None]:
        stem = Path(pair.person).stem
        return {
            "person": self.data / "image" / pair.person,
            "garment": self.data / "cloth" / pair.garment,
            "garment_mask": self.data / "cloth-mask" / pair.garment,
            "parse": self.data / "image-parse-v3" / f"{stem}.png",
            "pose": self.data / "openpose_json" / f"{stem}_keypoints.json",
            "densepose": self.data / "image-densepose" / f"{stem}.png" if self.has_densepose else None,
            "parse_agnostic": (self.data / "image-parse-agnostic-v3.2" / f"{stem}.png" if self.has_agnostic
                               else None),
        }

    def load(self, pair: Pair, garment: Pair | None = None) -> Example:
        example, files = self._read_pair(pair, garment)
        example.parse, example.scheme = self._read_parse(files["parse"]), self.scheme
        example.keypoints = read_openpose(files["pose"])
        if files["densepose"] is not None:
            example.densepose = read_rgb(files["densepose"], "densepose")[..., 2].copy()
        if files["parse_agnostic"] is not None:
            example.parse_agnostic = read_labels(files["parse_agnostic"], "agnostic parse")
        return example


class DressCodeReader(LayoutReader):
    """DressCode (1024x768; ``upper_body``, ``lower_body``, ``dresses``), with its ATR label maps.

    DressCode has no garment masks: when ``<category>/masks/<garment stem>.png`` (or DM-VTON's ``edge/<garment>``)
    is absent, the mask is computed with :func:`vton_zoo.preprocess.garment.garment_mask` (the garments are product
    shots on white) and ``Example.notes["garment_mask"]`` says so. Keypoints are stored in 384x512 coordinates
    (18 points of ``[x, y, score, id]``) and are scaled to the photo's size, as DM-VTON's loader does.
    """

    layout = "DressCode"
    LAYOUT = """
<root>/<category>/             category: upper_body, lower_body, dresses
  train_pairs.txt, test_pairs_paired.txt, test_pairs_unpaired.txt   lines 'XXXXXX_0.jpg XXXXXX_1.jpg'
  images/                      'XXXXXX_0.jpg' person photos, 'XXXXXX_1.jpg' in-shop garments (RGB, 1024x768)
  label_maps/                  'XXXXXX_4.png' person parses, ATR ids (18 labels)
  keypoints/                   'XXXXXX_2.json' {"keypoints": [[x, y, score, id] x 18]} in 384x512 coordinates
  dense/                       'XXXXXX_5.png' DensePose part index I (0..24), grayscale
  masks/ or edge/              (optional) garment masks 'XXXXXX_1.png' / 'XXXXXX_1.jpg'
"""
    scheme = ATR
    KEYPOINT_FRAME = (512, 384)  # (H, W) of the keypoint coordinates

    def __init__(self, root: str | Path, phase: str = "train", *, categories: Sequence[str] = CATEGORIES,
                 order: str = "paired") -> None:
        super().__init__(root, phase)
        if order not in ("paired", "unpaired"):
            raise ValueError(f"order must be 'paired' or 'unpaired', got {order!r}")
        if isinstance(categories, str):
            categories = (categories,)
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown or not categories:
            raise ValueError(f"categories must be a non-empty subset of {CATEGORIES}, got {list(categories)}")
        self.categories = tuple(categories)
        self.order = order
        for category in self.categories:
            base = self._require_dir(self.root / category)
            for folder in ("images", "label_maps", "keypoints", "dense"):
                self._require_dir(base / folder)
            name = "train_pairs.txt" if phase == "train" else f"test_pairs_{order}.txt"
            self.pairs += read_pairs(self._require_file(base / name), category)
        self._validate_files()

    def _mask_path(self, pair: Pair) -> Path | None:
        base = self.root / pair.category
        stem = Path(pair.garment).stem
        for path in (base / "masks" / f"{stem}.png", base / "edge" / pair.garment):
            if path.is_file():
                return path
        return None

    def _files(self, pair: Pair) -> dict[str, Path | None]:
        base = self.root / pair.category
        stem = Path(pair.person).stem
        prefix = stem[:-2] if stem.endswith("_0") else stem
        return {
            "person": base / "images" / pair.person,
            "garment": base / "images" / pair.garment,
            "parse": base / "label_maps" / f"{prefix}_4.png",
            "pose": base / "keypoints" / f"{prefix}_2.json",
            "densepose": base / "dense" / f"{prefix}_5.png",
        }

    def read_keypoints(self, path: Path, size: tuple[int, int]) -> np.ndarray:
        """DressCode keypoints json -> float32 (18, 3) in pixels of an image of ``size`` (H, W)."""
        data = read_json(path, "pose")
        if not isinstance(data, dict) or "keypoints" not in data:
            raise ValueError(f"pose file {path} has no 'keypoints' list (expected DressCode keypoints json)")
        points = _keypoint_array(np.asarray(data["keypoints"], np.float32)[:, :4].reshape(-1), 4, path, "pose")
        seen = points[:, 2] > 0
        points[:, 0] *= size[1] / self.KEYPOINT_FRAME[1]
        points[:, 1] *= size[0] / self.KEYPOINT_FRAME[0]
        # DressCode marks undetected points with negative coordinates or score 0: missing.
        seen &= (points[:, 0] > 0) & (points[:, 1] > 0)
        points[~seen] = 0.0
        return points

    def load(self, pair: Pair, garment: Pair | None = None) -> Example:
        garment = garment or pair
        files, garment_files = self._files(pair), self._files(garment)
        person = read_rgb(files["person"], "person image")
        garment_image = read_rgb(garment_files["garment"], "garment image")
        notes = {}
        mask_path = self._mask_path(garment)
        if mask_path is not None:
            mask = read_mask(mask_path, "garment mask")
        else:
            from vton_zoo.preprocess.garment import garment_mask

            mask = garment_mask(garment_image)
            notes["garment_mask"] = "computed by vton_zoo.preprocess.garment.garment_mask (DressCode has none)"
        return Example(
            pair.person, garment.garment, pair.category,
            person=person, garment=garment_image, garment_mask=mask,
            parse=self._read_parse(files["parse"]),
            scheme=self.scheme,
            keypoints=self.read_keypoints(files["pose"], person.shape[:2]),
            densepose=read_labels(files["densepose"], "densepose"),
            notes=notes,
        )


READERS = {
    "viton": VitonReader,
    "viton-clean": VitonCleanReader,
    "viton-hd": VitonHDReader,
    "dresscode": DressCodeReader,
}


def open_dataset(layout: str, root: str | Path, phase: str = "train", **kwargs) -> LayoutReader:
    """A reader by layout name: ``viton`` (CP-VTON), ``viton-clean`` (PF-AFN / DM-VTON), ``viton-hd``,
    ``dresscode``."""
    try:
        cls = READERS[layout]
    except KeyError:
        raise ValueError(f"unknown dataset layout {layout!r}; known: {sorted(READERS)}") from None
    return cls(root, phase, **kwargs)

