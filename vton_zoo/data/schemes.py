"""The human-parsing label sets of the public try-on datasets, and what each label means to the training recipes.

Each dataset ships its person parses with its own label ids:

- ``LIP`` (20 labels): CP-VTON's VITON ``image-parse`` (LIP / SCHP-LIP ids).
- ``CIHP`` (20 labels): VITON-HD's ``image-parse-v3``. The same ids as LIP except 10, which VITON-HD uses for the
  neck / torso skin (LIP's 10 is "jumpsuits").
- ``VITON14`` (14 labels): the ACGPN-style ``*_label`` maps of PF-AFN's and DM-VTON's VITON(-Clean) training data
  (``--label_nc 14``). The ids follow DM-VTON's ``dataloader/dresscode_dataset.py`` ``mapping`` (ATR -> 14 labels)
  and PF-AFN's ``train_PBAFN_*.py`` (4 upper clothes, 7 merged into 4, {1, 12} hair and face, {5, 6, 8, 9, 10} shoes,
  lower clothes and legs, 11 / 13 left / right arm).
- ``ATR`` (18 labels): DressCode's ``label_maps``.

"Left" and "right" are the person's own (on the VITON-HD samples, CIHP's 14 "left arm" lies next to OpenPose's
LShoulder, on the image's right for a person facing the camera).

A :class:`ParseScheme` names the label groups the recipes use (``head``, ``upper_garment``, ``lower_garment``,
``dress``, ``legs``, ``feet``, ``left_arm``, ``right_arm``, ``neck``) and maps every id to the coarse labels of
:mod:`vton_zoo.preprocess.labels`, so that the preprocessing helpers (DAFlow's agnostic image, CP-VTON's
representation, GP-VTON's maps) run on dataset parses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from vton_zoo.preprocess import labels as coarse

GROUPS = ("head", "upper_garment", "lower_garment", "dress", "legs", "feet", "left_arm", "right_arm", "neck")


@dataclass(frozen=True)
class ParseScheme:
    """One dataset's parse label set.

    Attributes:
        name: short name (``"lip"``, ``"cihp"``, ``"viton14"``, ``"atr"``).
        names: label name per id (index = id).
        coarse: the coarse label (:mod:`vton_zoo.preprocess.labels`) per id.
        groups: label ids per group of :data:`GROUPS`.
    """

    name: str
    names: tuple[str, ...]
    coarse: tuple[int, ...]
    groups: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.names) != len(self.coarse):
            raise ValueError(f"scheme {self.name}: {len(self.names)} names but {len(self.coarse)} coarse labels")
        unknown = set(self.groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"scheme {self.name}: unknown groups {sorted(unknown)}")

    @property
    def num_labels(self) -> int:
        return len(self.names)

    def ids(self, *groups: str) -> tuple[int, ...]:
        """The label ids of the union of ``groups`` (a group this scheme lacks contributes nothing)."""
        for group in groups:
            if group not in GROUPS:
                raise ValueError(f"unknown label group {group!r}; groups are {GROUPS}")
        return tuple(sorted({i for group in groups for i in self.groups.get(group, ())}))

    def mask(self, parse: np.ndarray, *groups: str) -> np.ndarray:
        """Bool mask of the pixels whose label is in any of ``groups``."""
        return np.isin(parse, np.asarray(self.ids(*groups), dtype=parse.dtype))

    def check(self, parse: np.ndarray, what: str = "parse") -> np.ndarray:
        """A uint8 (H, W) label map with ids below :attr:`num_labels`, else ``ValueError``."""
        if not isinstance(parse, np.ndarray) or parse.ndim != 2:
            raise ValueError(f"{what} must be a 2-D label map, got {getattr(parse, 'shape', type(parse))}")
        if parse.size and int(parse.max()) >= self.num_labels:
            raise ValueError(f"{what} has label {int(parse.max())}, but the {self.name} scheme has ids "
                             f"0..{self.num_labels - 1}; is this the right dataset layout?")
        return parse.astype(np.uint8, copy=False)

    def to_coarse(self, parse: np.ndarray) -> np.ndarray:
        """The coarse parse (uint8, labels of :mod:`vton_zoo.preprocess.labels`) of a dataset parse."""
        table = np.asarray(self.coarse, np.uint8)
        return table[self.check(parse)]

    def garment_ids(self, category: str) -> tuple[int, ...]:
        """The person's garment region for a DressCode-style category (``upper_body``, ``lower_body``, ``dresses``)."""
        if category == "upper_body":
            return self.ids("upper_garment")
        if category == "lower_body":
            return self.ids("lower_garment")
        if category == "dresses":
            return self.ids("dress") or self.ids("upper_garment")
        raise ValueError(f"unknown garment category {category!r}; expected upper_body, lower_body or dresses")


_BG, _HAIR, _FACE, _NECK = coarse.BACKGROUND, coarse.HAIR, coarse.FACE, coarse.NECK
_UP, _RARM, _LARM, _RHAND, _LOW = (coarse.UPPER_GARMENT, coarse.RIGHT_ARM, coarse.LEFT_ARM, coarse.RIGHT_HAND,
                                   coarse.LOWER_BODY)

_LIP_NAMES = ("background", "hat", "hair", "glove", "sunglasses", "upper_clothes", "dress", "coat", "socks", "pants",
              "jumpsuits", "scarf", "skirt", "face", "left_arm", "right_arm", "left_leg", "right_leg", "left_shoe",
              "right_shoe")
# Gloves have no side in LIP: counted as the right hand (they are rare in try-on data).
_LIP_COARSE = (_BG, _HAIR, _HAIR, _RHAND, _FACE, _UP, _UP, _UP, _LOW, _LOW, _UP, _UP, _LOW, _FACE, _LARM, _RARM,
               _LOW, _LOW, _LOW, _LOW)
_LIP_GROUPS = {
    "head": (1, 2, 4, 13),  # CP-VTON's parse_head
    "upper_garment": (5, 6, 7),  # CP-VTON's parse_cloth
    "lower_garment": (9, 12),
    "dress": (6,),
    "legs": (16, 17),
    "feet": (8, 18, 19),
    "left_arm": (14,),
    "right_arm": (15,),
}

LIP = ParseScheme("lip", _LIP_NAMES, _LIP_COARSE, _LIP_GROUPS)

CIHP = ParseScheme(
    "cihp",
    _LIP_NAMES[:10] + ("neck",) + _LIP_NAMES[11:],
    _LIP_COARSE[:10] + (_NECK,) + _LIP_COARSE[11:],
    {**_LIP_GROUPS, "neck": (10,)},
)

VITON14 = ParseScheme(
    "viton14",
    ("background", "hair", "bag", "unused", "upper_clothes", "left_shoe", "right_shoe", "upper_clothes_noise",
     "lower_clothes", "left_leg", "right_leg", "left_arm", "face", "right_arm"),
    (_BG, _HAIR, _BG, _BG, _UP, _LOW, _LOW, _UP, _LOW, _LOW, _LOW, _LARM, _FACE, _RARM),
    {
        "head": (1, 12),  # PF-AFN's face_mask
        "upper_garment": (4, 7),  # PF-AFN merges 7 into 4
        "lower_garment": (8,),
        "legs": (9, 10),
        "feet": (5, 6),
        "left_arm": (11,),
        "right_arm": (13,),
    },
)

ATR = ParseScheme(
    "atr",
    ("background", "hat", "hair", "sunglasses", "upper_clothes", "skirt", "pants", "dress", "belt", "left_shoe",
     "right_shoe", "head", "left_leg", "right_leg", "left_arm", "right_arm", "bag", "scarf"),
    (_BG, _HAIR, _HAIR, _FACE, _UP, _LOW, _LOW, _UP, _LOW, _LOW, _LOW, _FACE, _LOW, _LOW, _LARM, _RARM, _BG, _UP),
    {
        "head": (1, 2, 3, 11),
        "upper_garment": (4,),
        "lower_garment": (5, 6),
        "dress": (7,),
        "legs": (12, 13),
        "feet": (9, 10),
        "left_arm": (14,),
        "right_arm": (15,),
    },
)

SCHEMES: dict[str, ParseScheme] = {s.name: s for s in (LIP, CIHP, VITON14, ATR)}


def get_scheme(name: str | ParseScheme) -> ParseScheme:
    """A scheme by name (or the scheme itself)."""
    if isinstance(name, ParseScheme):
        return name
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown parse scheme {name!r}; known: {sorted(SCHEMES)}") from None


def onehot(label_map: np.ndarray, num_classes: int, ids: Sequence[int] | None = None) -> np.ndarray:
    """One-hot float32 (C, H, W) in {0, 1} of a label map (``ids`` picks and orders the classes)."""
    ids = range(num_classes) if ids is None else ids
    return np.stack([label_map == i for i in ids]).astype(np.float32)
