"""Per-method torch Datasets: the tensors each method's official training code builds, from any layout reader.

Every dataset yields a dict of float32 tensors ``(C, H, W)`` (batched by the default collate into ``(B, C, H, W)``)
plus the ``person_name`` / ``garment_name`` strings. The keys named in the model's ``spec.inputs`` are exactly what
``model(inputs)`` takes (same ranges); the other keys are the training targets and auxiliary maps of the recipe.

Modes: ``mode="paired"`` uses the garment the pairs file gives (the person's own garment in the training lists);
``mode="unpaired"`` swaps in another garment of the same category, drawn with a generator seeded by
``(seed, epoch, index)`` so that every worker and every DDP rank agree (call :meth:`TryOnDataset.set_epoch`).

Where a dataset lacks a map, our preprocessing stands in for it and the docstrings say so:
DensePose (VITON-HD without ``image-densepose``) -> :func:`vton_zoo.preprocess.gpvton_inputs.approximate_densepose`;
DAFlow's precomputed ``img_agnostic`` / ``vis_pose`` -> :func:`~vton_zoo.preprocess.daflow_inputs.daflow_agnostic`
and :func:`~vton_zoo.preprocess.daflow_inputs.daflow_pose_image`; GP-VTON's ByteDance garment / person parsings ->
:func:`vton_zoo.preprocess.garment.garment_parts` and DensePose arm / leg parts; DressCode's missing garment masks ->
:func:`vton_zoo.preprocess.garment.garment_mask`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from vton_zoo.preprocess._inputs_common import (
    check_size,
    resize_image,
    resize_labels,
    resize_mask,
    scale_keypoints,
    square_pose_maps,
    to_body25,
    to_coco18,
)
from vton_zoo.preprocess.cpvton_inputs import cpvton_representation
from vton_zoo.preprocess.daflow_inputs import daflow_agnostic, daflow_pose_image
from vton_zoo.preprocess.garment import garment_parts
from vton_zoo.preprocess.gpvton_inputs import approximate_densepose, densepose_onehot, skin_color

from .readers import DressCodeReader, Example, LayoutReader, Pair, VitonReader
from .schemes import onehot

logger = logging.getLogger(__name__)

NUM_DENSEPOSE = 25
# DensePose part indices (I), see vton_zoo.preprocess.gpvton_inputs.DENSEPOSE_PARTS.
DENSEPOSE_HANDS = (3, 4)
DENSEPOSE_ARMS = tuple(range(15, 23))
DENSEPOSE_LEFT_ARM = (15, 17, 19, 21)
DENSEPOSE_RIGHT_ARM = (16, 18, 20, 22)
DENSEPOSE_LEFT_LEG = (8, 10, 12, 14)
DENSEPOSE_RIGHT_LEG = (7, 9, 11, 13)


# --- helpers --------------------------------------------------------------------------------------------------------


@dataclass
class Resized:
    """An :class:`Example`'s maps brought to the training size (keypoints scaled, labels nearest)."""

    person: np.ndarray
    garment: np.ndarray
    garment_mask: np.ndarray
    parse: np.ndarray | None
    keypoints: np.ndarray | None
    densepose: np.ndarray | None


def resize_example(example: Example, size: tuple[int, int], resample: int = Image.BICUBIC) -> Resized:
    """Photos with ``resample`` (bicubic, as the PF-AFN lineage; DAFlow uses bilinear), masks and labels nearest."""
    person_hw = example.person.shape[:2]
    return Resized(
        person=resize_image(example.person, size, resample),
        garment=resize_image(example.garment, size, resample),
        garment_mask=resize_mask(example.garment_mask, size),
        parse=None if example.parse is None else resize_labels(example.parse, size),
        keypoints=None if example.keypoints is None else scale_keypoints(example.keypoints, person_hw, size),
        densepose=None if example.densepose is None else resize_labels(example.densepose, size),
    )


def image_chw(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> float32 (3, H, W) in [-1, 1] (ToTensor + Normalize(0.5, 0.5))."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 127.5 - 1.0)


def map_chw(array: np.ndarray) -> torch.Tensor:
    """bool/float (H, W) -> (1, H, W), or (C, H, W) -> (C, H, W), float32."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    return torch.from_numpy(array[None] if array.ndim == 2 else array)


def _need(example: Example, *names: str, why: str) -> None:
    missing = [n for n in names if getattr(example, n) is None]
    if missing:
        raise ValueError(f"{example.person_name}: {why} needs the person's {', '.join(missing)}, which this dataset "
                         "reader does not provide (for VitonCleanReader pass maps=True)")


def densepose_or_approximation(example: Example, resized: Resized) -> np.ndarray:
    """The dataset's DensePose at the training size, or our approximation from its parse and keypoints."""
    if resized.densepose is not None:
        return resized.densepose
    example.notes["densepose"] = "approximated by vton_zoo.preprocess.gpvton_inputs.approximate_densepose"
    return approximate_densepose(example.scheme.to_coarse(resized.parse), resized.keypoints)


# --- base -----------------------------------------------------------------------------------------------------------


class TryOnDataset(Dataset):
    """Base class: a reader, a training size, paired/unpaired garments and seeded randomness.

    Args:
        reader: a :class:`~vton_zoo.data.readers.LayoutReader`.
        size: ``(H, W)`` of the tensors.
        mode: ``"paired"`` or ``"unpaired"`` (see the module docstring).
        seed: seeds every random choice together with the epoch and the index.
    """

    method = "?"

    def __init__(self, reader: LayoutReader, *, size: tuple[int, int], mode: str = "paired", seed: int = 0) -> None:
        if not isinstance(reader, LayoutReader):
            raise ValueError(f"reader must be a vton_zoo.data LayoutReader, got {type(reader).__name__}")
        if mode not in ("paired", "unpaired"):
            raise ValueError(f"mode must be 'paired' or 'unpaired', got {mode!r}")
        self.reader = reader
        self.size = check_size(size)
        if self.size[0] % 32 or self.size[1] % 32:
            logger.warning("size %s is not a multiple of 32: the flow pyramids of the zoo's models need it", self.size)
        self.mode = mode
        self.seed = int(seed)
        self.epoch = 0
        self._pools: dict[str, list[Pair]] = {}

    def set_epoch(self, epoch: int) -> None:
        """Change the random draws (unpaired garments, flips) for a new epoch, identically on every rank."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.reader)

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])

    def other_garment(self, pair: Pair, rng: np.random.Generator) -> Pair:
        """A garment of the same category other than the pair's own (the pair's own when it is the only one)."""
        pool = self._pools.get(pair.category)
        if pool is None:
            pool = self._pools[pair.category] = self.reader.garments(pair.category)
        others = [p for p in pool if p.garment != pair.garment]
        return others[int(rng.integers(len(others)))] if others else pair

    def load(self, index: int) -> tuple[Example, np.random.Generator]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} pairs")
        rng = self.rng(index)
        pair = self.reader.pairs[index]
        garment = self.other_garment(pair, rng) if self.mode == "unpaired" else pair
        return self.reader.load(pair, garment), rng

    @staticmethod
    def names(example: Example) -> dict[str, str]:
        return {"person_name": example.person_name, "garment_name": example.garment_name}


# --- PF-AFN family (PF-AFN, DM-VTON, RMGN) --------------------------------------------------------------------------


class FlowTryOnDataset(TryOnDataset):
    """PF-AFN's ``AlignedDataset`` + the tensors its ``train_PBAFN_*.py`` / ``train_PFAFN_*.py`` build from it
    (DM-VTON's ``LoadVITONDataset`` and training scripts build the same; RMGN reuses the PF-AFN warp recipe).

    Student inputs (``spec.inputs`` of ``pf-afn`` / ``dm-vton`` / ``rmgn``): ``person``, ``garment`` (not masked),
    ``garment_mask`` (binarised, ``edge > 0.5``). Teacher and losses, when the reader gives parse, pose and DensePose:

    - ``teacher_condition`` (45): [face mask (hair + face), other-clothes mask (lower clothes, legs, shoes), DensePose
      one-hot (25, {0, 1}), 18 COCO pose maps (squares of half-side ``radius``, {-1, 1})];
    - ``person_garment_mask`` (person's garment region: VITON14 label 4 with 7 merged in), ``person_garment``
      (``person * person_garment_mask``): the warp's target at every pyramid level;
    - ``preserve_region`` (3): ``person * (face + other clothes + hands)``, hands = arm labels x DensePose {3, 4};
    - ``dense_preserve_mask`` (1): DensePose arm parts 15..22 x (1 - person_garment_mask); teacher generator input
      = [preserve_region, warped garment, warped mask, dense_preserve_mask] (8 ch);
    - ``densepose`` (1): the part index 0..24 as float (for visualisation);
    - with ``unpaired_garment=True``: ``garment_unpaired`` / ``garment_mask_unpaired``, a random other garment, the
      one the frozen teacher puts on the person to make the student's "tutor" image (PF-AFN stages 3-4, DM-VTON).

    Augmentation: none. PF-AFN's ``get_params`` hard-codes ``flip = 0`` and DM-VTON's transform calls
    ``__flip(img, 0)``; photos are used at their size (VITON is 256x192) and resized bicubic otherwise.
    For DressCode's lower-body and dress categories the garment region and "other clothes" follow the category.

    Args:
        reader: any layout reader (VITON-Clean is the official one).
        size: ``(H, W)``; 256x192 for PF-AFN / DM-VTON, 512x384 for RMGN.
        radius: pose square half-side; default 5 at 256 px high (PF-AFN, DM-VTON), scaled with ``H``.
        unpaired_garment: also return a random other garment (student stages).
    """

    method = "pf-afn"

    def __init__(self, reader: LayoutReader, *, size: tuple[int, int] = (256, 192), mode: str = "paired",
                 seed: int = 0, radius: float | None = None, unpaired_garment: bool = False) -> None:
        super().__init__(reader, size=size, mode=mode, seed=seed)
        self.radius = 5 * self.size[0] / 256 if radius is None else float(radius)
        self.unpaired_garment = unpaired_garment

    def __getitem__(self, index: int) -> dict:
        example, rng = self.load(index)
        r = resize_example(example, self.size)
        out: dict = {
            "person": image_chw(r.person),
            "garment": image_chw(r.garment),
            "garment_mask": map_chw(r.garment_mask),
        }
        if self.unpaired_garment:
            pair = self.reader.pairs[index]
            other = self.reader.load(pair, self.other_garment(pair, rng))
            out["garment_unpaired"] = image_chw(resize_image(other.garment, self.size))
            out["garment_mask_unpaired"] = map_chw(resize_mask(other.garment_mask, self.size))
        if example.parse is not None:
            _need(example, "keypoints", why="the PF-AFN teacher condition")
            out.update(self.teacher_maps(example, r))
        out.update(self.names(example))
        return out

    def teacher_maps(self, example: Example, r: Resized) -> dict[str, torch.Tensor]:
        scheme = example.scheme
        parse = r.parse
        densepose = densepose_or_approximation(example, r)
        garment_region = np.isin(parse, scheme.garment_ids(example.category))
        head = scheme.mask(parse, "head")
        other_clothes = scheme.mask(parse, "lower_garment", "legs", "feet") & ~garment_region
        arms = scheme.mask(parse, "left_arm", "right_arm")
        hands = arms & np.isin(densepose, DENSEPOSE_HANDS)
        dense_preserve = np.isin(densepose, DENSEPOSE_ARMS) & ~garment_region
        pose = square_pose_maps(to_coco18(r.keypoints), self.size, self.radius)
        condition = np.concatenate([head[None], other_clothes[None], onehot(densepose, NUM_DENSEPOSE), pose])
        person = image_chw(r.person)
        return {
            "teacher_condition": map_chw(condition),
            "person_garment_mask": map_chw(garment_region),
            "person_garment": person * map_chw(garment_region),
            "preserve_region": person * map_chw(head | other_clothes | hands),
            "dense_preserve_mask": map_chw(dense_preserve),
            "densepose": map_chw(densepose.astype(np.float32)),
        }


# --- DAFlow ---------------------------------------------------------------------------------------------------------


class DAFlowDataset(TryOnDataset):
    """DAFlow's ``VITONDataset`` (``datasets.py``) for ``train_SDAFNet_viton.py``.

    ``pose_image``, ``person_agnostic``, ``garment`` (``spec.inputs`` of ``daflow``, [-1, 1]) and the target
    ``person``. Upstream reads ``vis_pose/`` and ``img_agnostic/`` images that its ``data_process`` scripts drew from
    OpenPose and a LIP parse; no public layout ships them, so they are drawn here with the zoo's re-implementations
    (:func:`~vton_zoo.preprocess.daflow_inputs.daflow_pose_image`,
    :func:`~vton_zoo.preprocess.daflow_inputs.daflow_agnostic`) from the dataset's parse (as coarse labels) and
    keypoints. Photos are resized bilinear (``transforms.Resize(192)``). Augmentation as upstream: with probability
    ``flip`` (0.5 in training) person, agnostic, pose image and garment are all flipped horizontally.
    """

    method = "daflow"

    def __init__(self, reader: LayoutReader, *, size: tuple[int, int] = (256, 192), mode: str = "paired",
                 seed: int = 0, flip: float | None = None) -> None:
        super().__init__(reader, size=size, mode=mode, seed=seed)
        self.flip = (0.5 if reader.phase == "train" else 0.0) if flip is None else float(flip)
        if not 0.0 <= self.flip <= 1.0:
            raise ValueError(f"flip must be a probability in [0, 1], got {flip}")

    def __getitem__(self, index: int) -> dict:
        example, rng = self.load(index)
        _need(example, "parse", "keypoints", why="DAFlow's agnostic person and pose image")
        r = resize_example(example, self.size, Image.BILINEAR)
        out = {
            "pose_image": image_chw(daflow_pose_image(r.keypoints, self.size)),
            "person_agnostic": image_chw(daflow_agnostic(r.person, example.scheme.to_coarse(r.parse), r.keypoints)),
            "garment": image_chw(r.garment),
            "person": image_chw(r.person),
            "garment_mask": map_chw(r.garment_mask),
        }
        if rng.random() < self.flip:
            out = {k: torch.flip(v, [2]) for k, v in out.items()}
        out.update(self.names(example))
        return out


# --- GP-VTON --------------------------------------------------------------------------------------------------------


class GPVTONDataset(TryOnDataset):
    """GP-VTON's ``AlignedDataset`` (``data/aligned_dataset_vitonhd.py``, ``..._dresscode.py``) for the warp stage
    (``train_warping.py``) and the try-on stage (``train_tryon.py``, with warps computed online).

    ``spec.inputs`` of ``gp-vton`` (VITON-HD) / ``gp-vton-dresscode``: ``person``, ``warp_condition`` (51: DensePose
    one-hot x2-1, 25 BODY_25 pose squares of half-side 8 at 512 px, preserve mask), ``garment``, ``garment_mask``,
    ``garment_parts_label``, ``left_sleeve_mask``, ``torso_mask``, ``right_sleeve_mask``, ``preserve_mask``,
    ``arms_color`` (and ``garment_type``). Targets: ``person_garment_mask``, ``person_left_mask``,
    ``person_middle_mask``, ``person_right_mask`` (the person's garment parts), ``seg_target`` (1 ch, ids
    0..6 VITON-HD / 0..9 DressCode), ``seg_onehot``, ``preserve_mask_loss`` (the dynamic preserve mask).

    Upstream trains on its own ByteDance parsings (29-class person parse, garment parse, garment mask), which no
    public layout ships. Stand-ins, from the public maps:

    - garment parts: :func:`vton_zoo.preprocess.garment.garment_parts` on the garment mask (upper body, dresses);
      lower-body garments are split at the mask's centre column into the wearer's right (image-left) and left leg;
    - the person's garment parts: the garment region of the dataset parse split by the DensePose arm (leg) parts;
    - palms (kept in the preserve mask): arm labels x DensePose hands {3, 4};
    - DensePose itself, when a VITON-HD folder lacks ``image-densepose``: the approximation of
      :func:`~vton_zoo.preprocess.gpvton_inputs.approximate_densepose`.

    Dynamic gradient truncation: when ``person_clothes_ratio_train.txt`` (VITON-HD) or
    ``person_clothes_ratio_upper_train.txt`` (DressCode) is in the dataset root and ``dynamic_mask`` is on,
    ``preserve_mask_loss`` leaves the lower body out of the preserve region with upstream's probabilities
    (ratio < 0.9: keep it; < 0.95: 50 %; else 90 %); the lower body stands in for upstream's second label set.
    Augmentation: none.
    """

    method = "gp-vton"

    def __init__(self, reader: LayoutReader, *, size: tuple[int, int] = (512, 384), mode: str = "paired",
                 seed: int = 0, radius: float | None = None, dynamic_mask: bool = True) -> None:
        super().__init__(reader, size=size, mode=mode, seed=seed)
        self.radius = 8 * self.size[0] / 512 if radius is None else float(radius)
        self.variant = "dresscode" if isinstance(reader, DressCodeReader) else "vitonhd"
        self.method = "gp-vton-dresscode" if self.variant == "dresscode" else "gp-vton"
        self.ratios = self._read_ratios() if dynamic_mask and reader.phase == "train" else None

    def _read_ratios(self) -> dict[str, float] | None:
        name = "person_clothes_ratio_upper_train.txt" if self.variant == "dresscode" else \
            "person_clothes_ratio_train.txt"
        path = Path(self.reader.root) / name
        if not path.is_file():
            return None
        ratios = {}
        for number, line in enumerate(path.read_text().splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            try:
                ratios[Path(fields[0]).stem] = float(fields[1])
            except (IndexError, ValueError):
                raise ValueError(f"{path}:{number}: expected 'garment_name ratio', got {line!r}") from None
        return ratios

    def _garment_parts(self, mask: np.ndarray, category: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not mask.any():
            empty = np.zeros_like(mask)
            return empty, empty, empty
        if category == "lower_body":
            centre = (np.nonzero(mask.any(0))[0][[0, -1]].sum()) / 2.0
            right_half = np.arange(mask.shape[1])[None, :] > centre  # image right = wearer's left leg
            return mask & right_half, np.zeros_like(mask), mask & ~right_half
        return garment_parts(mask)

    def __getitem__(self, index: int) -> dict:
        example, rng = self.load(index)
        _need(example, "parse", "keypoints", why="GP-VTON's warp condition")
        r = resize_example(example, self.size)
        scheme, parse, category = example.scheme, r.parse, example.category
        densepose = densepose_or_approximation(example, r)
        lower = category == "lower_body"

        # The person's garment and its parts (targets of the part flows and of the parsing head).
        region = np.isin(parse, scheme.garment_ids(category))
        left_ids, right_ids = (DENSEPOSE_LEFT_LEG, DENSEPOSE_RIGHT_LEG) if lower else (DENSEPOSE_LEFT_ARM,
                                                                                       DENSEPOSE_RIGHT_ARM)
        person_left = region & np.isin(densepose, left_ids)
        person_right = region & np.isin(densepose, right_ids)
        person_middle = region & ~person_left & ~person_right
        left_arm, right_arm = scheme.mask(parse, "left_arm"), scheme.mask(parse, "right_arm")
        neck = scheme.mask(parse, "neck")
        if lower:  # upstream: no arm / neck classes for lower-body garments
            left_arm = right_arm = neck = np.zeros_like(region)

        # Preserve masks: every person label but the garment region, arms, neck (and background), plus the palms.
        person = parse > 0
        palms = (left_arm | right_arm) & np.isin(densepose, DENSEPOSE_HANDS)
        if lower:
            keep = person & ~region & ~scheme.mask(parse, "legs")
        else:
            keep = person & ~region & ~left_arm & ~right_arm & ~neck
        preserve = keep | palms
        preserve_loss = preserve
        if self.ratios is not None and not lower:
            ratio = self.ratios.get(Path(example.garment_name).stem)
            if ratio is not None:
                drop = 0.0 if ratio < 0.9 else 0.5 if ratio < 0.95 else 0.9
                if rng.random() < drop:
                    preserve_loss = preserve & ~scheme.mask(parse, "lower_garment", "legs", "feet")

        if lower:
            seg = person_left * 4 + person_middle * 5 + person_right * 6
        else:
            seg = person_left * 1 + person_middle * 2 + person_right * 3
        arm_offset = 6 if self.variant == "dresscode" else 3
        seg = seg + (left_arm * (arm_offset + 1) + right_arm * (arm_offset + 2) + neck * (arm_offset + 3)) * (seg == 0)
        num_seg = 10 if self.variant == "dresscode" else 7

        # The flat garment and its parts.
        left, middle, right = self._garment_parts(r.garment_mask, category)
        offset = 3.0 if lower else 0.0
        divisor = 6.0 if self.variant == "dresscode" else 3.0
        parts_label = ((left * (1 + offset) + middle * (2 + offset) + right * (3 + offset)) / divisor)

        pose = square_pose_maps(to_body25(r.keypoints), self.size, self.radius)
        warp_condition = np.concatenate([densepose_onehot(densepose), pose, preserve[None].astype(np.float32)])
        skin = skin_color(r.person, scheme.to_coarse(parse)) / 127.5 - 1.0
        out = {
            "person": image_chw(r.person),
            "warp_condition": map_chw(warp_condition),
            "garment": image_chw(r.garment),
            "garment_mask": map_chw(r.garment_mask),
            "garment_parts_label": map_chw(parts_label),
            "left_sleeve_mask": map_chw(left),
            "torso_mask": map_chw(middle),
            "right_sleeve_mask": map_chw(right),
            "preserve_mask": map_chw(preserve),
            "arms_color": torch.from_numpy(np.ascontiguousarray(
                np.broadcast_to(skin[:, None, None], (3, *self.size)), dtype=np.float32)),
            "person_garment_mask": map_chw(region),
            "person_left_mask": map_chw(person_left),
            "person_middle_mask": map_chw(person_middle),
            "person_right_mask": map_chw(person_right),
            "seg_target": map_chw(seg.astype(np.float32)),
            "seg_onehot": map_chw(onehot(seg, num_seg)),
            "preserve_mask_loss": map_chw(preserve_loss),
        }
        if self.variant == "dresscode":
            garment_type = {"upper_body": 1 / 3, "lower_body": 2 / 3, "dresses": 1.0}[category]
            out["garment_type"] = torch.full((1, *self.size), garment_type, dtype=torch.float32)
        out.update(self.names(example))
        return out


# --- CP-VTON --------------------------------------------------------------------------------------------------------


class CPVTONDataset(TryOnDataset):
    """CP-VTON's ``CPDataset`` (``cp_dataset.py``) for ``train.py`` (stages GMM and TOM).

    ``person_representation`` (22: blurred body shape, head RGB, 18 pose squares of half-side ``radius``; built by
    :func:`vton_zoo.preprocess.cpvton_inputs.cpvton_representation` from the LIP parse as coarse labels, which keeps
    CP-VTON's head = {hat, hair, sunglasses, face} and shape = parse > 0 exactly), ``garment`` (not masked),
    ``garment_mask`` (>= 128) - the ``spec.inputs`` of ``cp-vton`` - and the targets ``person`` and
    ``person_garment`` (``person * cloth + (1 - cloth)``: the person's upper clothes on white, the GMM's target),
    ``person_garment_mask``. For the TOM stage on a ``VitonReader(warped=True)``: ``warped_garment`` and
    ``warped_garment_mask`` from ``warp-cloth`` / ``warp-mask``. Augmentation: none (as upstream).
    """

    method = "cp-vton"

    def __init__(self, reader: LayoutReader, *, size: tuple[int, int] = (256, 192), mode: str = "paired",
                 seed: int = 0, radius: float | None = None) -> None:
        super().__init__(reader, size=size, mode=mode, seed=seed)
        self.radius = 5 * self.size[0] / 256 if radius is None else float(radius)

    def __getitem__(self, index: int) -> dict:
        example, _ = self.load(index)
        _need(example, "parse", "keypoints", why="CP-VTON's person representation")
        r = resize_example(example, self.size)
        coarse_parse = example.scheme.to_coarse(r.parse)
        representation = cpvton_representation(r.person, coarse_parse, r.keypoints, radius=self.radius)
        cloth = np.isin(r.parse, example.scheme.garment_ids(example.category))
        person = image_chw(r.person)
        cloth_t = map_chw(cloth)
        out = {
            "person_representation": map_chw(representation),
            "garment": image_chw(r.garment),
            "garment_mask": map_chw(r.garment_mask),
            "person": person,
            "person_garment": person * cloth_t + (1 - cloth_t),
            "person_garment_mask": cloth_t,
        }
        if isinstance(self.reader, VitonReader) and self.reader.warped:
            warped, warped_mask = self.reader.load_warped(self.reader.pairs[index])
            out["warped_garment"] = image_chw(resize_image(warped, self.size))
            out["warped_garment_mask"] = map_chw(resize_mask(warped_mask, self.size))
        out.update(self.names(example))
        return out


# --- registry -------------------------------------------------------------------------------------------------------

DATASETS: dict[str, type[TryOnDataset]] = {
    "pf-afn": FlowTryOnDataset,
    "dm-vton": FlowTryOnDataset,
    "rmgn": FlowTryOnDataset,
    "daflow": DAFlowDataset,
    "gp-vton": GPVTONDataset,
    "gp-vton-dresscode": GPVTONDataset,
    "cp-vton": CPVTONDataset,
}


def build_dataset(method: str, reader: LayoutReader, **kwargs) -> TryOnDataset:
    """The training dataset of a zoo method on a reader; ``size`` defaults to the model's resolution."""
    try:
        cls = DATASETS[method]
    except KeyError:
        raise ValueError(f"no training dataset for method {method!r}; known: {sorted(DATASETS)}") from None
    if "size" not in kwargs:
        from vton_zoo import get_spec

        kwargs["size"] = tuple(get_spec(method).resolution)
    dataset = cls(reader, **kwargs)
    dataset.method = method
    return dataset

