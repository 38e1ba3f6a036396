"""A method on real photos with no ground truth: contact sheets to look at, and automatic checks that flag failures.

``python -m vton_zoo.eval photos --model NAME --persons DIR --garments DIR --out DIR`` runs a method of the zoo through
:class:`~vton_zoo.pipeline.TryOnPipeline` over (person, garment) pairs of two folders of photos and writes:

- ``OUT/sheets/sheet_NN.png``: contact sheets, one row per pair: the person photo, the garment photo, the result
  (the person photo with the try-on pasted in) and the intermediates (parse, warped garment, composite mask), each
  row headed by the pair, the category, the time and the flags of the checks;
- ``OUT/results/<person>__<garment>.jpg``: each result at the photo's own size, to judge at full resolution;
- ``OUT/report.json`` (every pair: accepted or refused with the reason, category, per-stage timings, checks) and
  ``OUT/report.md`` (a summary table and the failing pairs).

Checks (:func:`check_result`, at the model's resolution, from the pipeline's intermediates; none needs ground truth):

- ``torso_coverage``: the share of the torso (the quadrilateral shoulders-hips of the pose, for upper garments and
  dresses) or of the legs' region (lower garments) that the new garment covers. A shrunken or collapsed warp scores
  low. Flagged below ``MIN_COVERAGE``.
- ``changed_outside``: the share of pixels outside the new garment's region and outside the old garment's (the
  region the method may fill) that changed by more than ``CHANGE_TOLERANCE`` levels. Fill smeared over trousers, a
  skirt or the background scores high. Flagged above ``MAX_CHANGED_OUTSIDE``.
- ``old_colour_left``: the share of the new garment's region whose colour is much likelier under the old garment's
  colour histogram than under the new garment's (from its product shot). Straps, sleeves or prints of the old
  garment showing score high. Flagged above ``MAX_OLD_COLOUR`` (not measured when the two garments' colours are alike).
- ``preserved_exact``: the share of the pixels the method must keep (face, hair, hands; the lower body for an upper
  garment; the upper body for a lower garment), away from the new garment's edge, that the result keeps exactly
  (within one level: rounding). Flagged below ``MIN_PRESERVED``.
- ``neck_covered``: for upper garments and dresses, the share of the visible neck (the parse's neck skin from a tenth
  of the shoulder width above the shoulder line up; below, it is the chest a V-neck bared) that the new garment
  covers: a back neckline pasted over the neck scores high. Flagged above ``MAX_NECK_COVERED``.

Pairs: every person with every garment (``--pairs all``), each person with ``--per-person N`` garments taken in turn
from the sorted garment list (default 3), or a text file of ``person garment [category]`` lines.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps
from scipy import ndimage

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
#: Flag thresholds (see the module docstring).
MIN_COVERAGE = 0.8
MAX_CHANGED_OUTSIDE = 0.01
MAX_OLD_COLOUR = 0.05
MIN_PRESERVED = 0.99
MAX_NECK_COVERED = 0.35
NECK_ABOVE_SHOULDERS = 0.1  # the neck counted from this far above the shoulder line, in shoulder widths
#: A pixel has changed when a channel differs by more than this (JPEG-free comparison at the model's resolution).
CHANGE_TOLERANCE = 3
#: Pixels this far (a fraction of the model height) from the new garment's region are "away from its edge".
EDGE_MARGIN = 0.01
ROWS_PER_SHEET = 6
CELL = (192, 256)  # (width, height) of one contact-sheet cell


@dataclass
class PairReport:
    """One pair's outcome."""

    person: str
    garment: str
    category: str | None = None
    category_reason: str = ""
    accepted: bool = True
    reason: str = ""  # why the pipeline refused the pair (ValueError message)
    timings: dict[str, float] = field(default_factory=dict)
    checks: dict[str, float | None] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    result: str = ""  # result file, relative to the output folder

    @property
    def name(self) -> str:
        return f"{Path(self.person).stem}__{Path(self.garment).stem}"


# --- checks ---------------------------------------------------------------------------------------------------------


def _parse_from_colours(image: np.ndarray) -> np.ndarray:
    """The label map back from :func:`vton_zoo.preprocess.parse.colorize`'s colours (nearest palette colour)."""
    from ..preprocess import labels

    palette = np.asarray(labels.PARSE_PALETTE, np.int32)
    pixels = np.asarray(image, np.int32)[..., :3]
    distance = ((pixels[:, :, None, :] - palette[None, None]) ** 2).sum(-1)
    return distance.argmin(-1).astype(np.uint8)


def _histogram(pixels: np.ndarray) -> np.ndarray:
    """Smoothed, floored 16^3-bin RGB density of ``pixels`` (N, 3) uint8."""
    index = (pixels[:, 0] >> 4).astype(np.int64) * 256 + (pixels[:, 1] >> 4) * 16 + (pixels[:, 2] >> 4)
    counts = np.bincount(index, minlength=4096).astype(np.float64).reshape(16, 16, 16)
    counts = ndimage.gaussian_filter(counts, 0.7, mode="constant").ravel()
    density = counts / max(counts.sum(), 1e-9)
    return 0.98 * density + 0.02 / 4096


def _bins(pixels: np.ndarray) -> np.ndarray:
    return (pixels[:, 0] >> 4).astype(np.int64) * 256 + (pixels[:, 1] >> 4) * 16 + (pixels[:, 2] >> 4)


def _torso_region(keypoints: np.ndarray, size: tuple[int, int], category: str) -> np.ndarray | None:
    """The body region a garment of ``category`` must cover: the torso quadrilateral (shoulders to hips, slightly
    inset) for upper garments and dresses, the hips-to-mid-thigh band between the hips for lower garments."""
    from ..preprocess import labels

    index = labels.BODY25_INDEX
    height, width = size

    def point(name: str) -> np.ndarray | None:
        x, y, confidence = keypoints[index[name]]
        return np.array([x, y]) if confidence > 0 else None

    shoulders = [point("RShoulder"), point("LShoulder")]
    hips = [point("RHip"), point("LHip")]
    if any(p is None for p in shoulders + hips):
        return None
    if category == "lower":
        knees = [point("RKnee"), point("LKnee")]
        if any(k is None for k in knees):
            return None
        corners = [hips[0], hips[1], hips[1] + 0.5 * (knees[1] - hips[1]), hips[0] + 0.5 * (knees[0] - hips[0])]
    else:
        inset = 0.15
        corners = [shoulders[0] + inset * (shoulders[1] - shoulders[0]) + 0.15 * (hips[0] - shoulders[0]),
                   shoulders[1] + inset * (shoulders[0] - shoulders[1]) + 0.15 * (hips[1] - shoulders[1]),
                   hips[1] + inset * (hips[0] - hips[1]) - 0.1 * (hips[1] - shoulders[1]),
                   hips[0] + inset * (hips[1] - hips[0]) - 0.1 * (hips[0] - shoulders[0])]
    canvas = Image.new("L", (width, height))
    ImageDraw.Draw(canvas).polygon([tuple(map(float, c)) for c in corners], fill=1)
    region = np.asarray(canvas, bool)
    return region if region.any() else None


def check_result(person: np.ndarray, result: np.ndarray, parse: np.ndarray, new_region: np.ndarray,
                 garment: np.ndarray, garment_mask: np.ndarray, keypoints: np.ndarray,
                 category: str) -> dict[str, float | None]:
    """The automatic checks of one try-on at the model's resolution (see the module docstring).

    Args:
        person: the framed person the method saw, uint8 ``(H, W, 3)``.
        result: the method's output at the same size.
        parse: the coarse parse of ``person`` (labels of :mod:`vton_zoo.preprocess.labels`), ``(H, W)``.
        new_region: where the new garment is (the method's composite mask), bool ``(H, W)``.
        garment: the framed garment photo (any size) and ``garment_mask`` its mask.
        keypoints: BODY_25 keypoints of ``person`` in its pixels.
        category: ``"upper"``, ``"lower"`` or ``"dress"``.

    Returns:
        ``{check: value}``; ``None`` where a check cannot be measured (no pose, alike colours, nothing to preserve).
    """
    from ..preprocess import labels

    size = person.shape[:2]
    person_i, result_i = person.astype(np.int16), result.astype(np.int16)
    changed = np.abs(person_i - result_i).max(axis=2) > CHANGE_TOLERANCE
    upper_labels = [labels.UPPER_GARMENT, labels.NECK, labels.RIGHT_ARM, labels.LEFT_ARM]
    old_labels = {"upper": upper_labels, "lower": [labels.LOWER_BODY],
                  "dress": [*upper_labels, labels.LOWER_BODY]}[category]
    old_region = np.isin(parse, old_labels)
    old_garment = np.isin(parse, [labels.UPPER_GARMENT] if category == "upper" else
                          [labels.LOWER_BODY] if category == "lower" else [labels.UPPER_GARMENT, labels.LOWER_BODY])
    margin = max(1, round(EDGE_MARGIN * size[0]))
    near_new = ndimage.binary_dilation(new_region, iterations=margin)
    checks: dict[str, float | None] = {}

    body = _torso_region(keypoints, size, category)
    checks["torso_coverage"] = None if body is None else float(new_region[body].mean())

    outside = ~(near_new | ndimage.binary_dilation(old_region, iterations=margin))
    checks["changed_outside"] = float(changed[outside].mean()) if outside.any() else None

    new_pixels = garment[garment_mask]
    old_pixels = person[old_garment]
    if len(new_pixels) >= 50 and len(old_pixels) >= 50 and new_region.any():
        new_hist, old_hist = _histogram(new_pixels), _histogram(old_pixels)
        # Alike garments (same colours) cannot be told apart: the check is not measured.
        overlap = float(np.minimum(new_hist, old_hist).sum())
        if overlap < 0.5:
            inside = result[new_region]
            bins = _bins(inside)
            old_like = old_hist[bins] > 8.0 * new_hist[bins]
            checks["old_colour_left"] = float(old_like.mean())
        else:
            checks["old_colour_left"] = None
    else:
        checks["old_colour_left"] = None

    keep_labels = [labels.HAIR, labels.FACE, labels.RIGHT_HAND, labels.LEFT_HAND]
    if category == "upper":
        keep_labels.append(labels.LOWER_BODY)
    elif category == "lower":
        keep_labels += [labels.UPPER_GARMENT, labels.NECK, labels.RIGHT_ARM, labels.LEFT_ARM]
    keep = np.isin(parse, keep_labels) & ~ndimage.binary_dilation(new_region | changed & old_region,
                                                                   iterations=2 * margin)
    exact = np.abs(person_i - result_i).max(axis=2) <= 1
    checks["preserved_exact"] = float(exact[keep].mean()) if keep.sum() >= 50 else None

    if category != "lower":
        neck = parse == labels.NECK
        shoulders = [keypoints[labels.BODY25_INDEX[n]] for n in ("RShoulder", "LShoulder")]
        if all(s[2] > 0 for s in shoulders):
            # (Above the shoulder line by a tenth of the shoulders' width: below that the parse's "neck" is the chest
            # a V-neck or a deep scoop bared, which a garment with a higher neckline rightly covers.)
            width = float(np.hypot(shoulders[0][0] - shoulders[1][0], shoulders[0][1] - shoulders[1][1]))
            line = min(s[1] for s in shoulders) - NECK_ABOVE_SHOULDERS * width
            rows = np.arange(size[0])[:, None]
            neck &= rows < line
        checks["neck_covered"] = float(new_region[neck].mean()) if neck.sum() >= 30 else None
    else:
        checks["neck_covered"] = None
    return checks


def flags_of(checks: dict[str, float | None]) -> list[str]:
    """The checks that failed, as short words."""
    rules = {
        "torso_coverage": lambda v: v < MIN_COVERAGE,
        "changed_outside": lambda v: v > MAX_CHANGED_OUTSIDE,
        "old_colour_left": lambda v: v > MAX_OLD_COLOUR,
        "preserved_exact": lambda v: v < MIN_PRESERVED,
        "neck_covered": lambda v: v > MAX_NECK_COVERED,
    }
    return [name for name, failed in rules.items() if checks.get(name) is not None and failed(checks[name])]


# --- running --------------------------------------------------------------------------------------------------------


def list_images(folder: str | Path) -> list[Path]:
    """The image files of a folder, sorted; ``ValueError`` if it is missing or holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def choose_pairs(persons: Sequence[Path], garments: Sequence[Path], pairs: str | Path = "3"
                 ) -> list[tuple[Path, Path, str | None]]:
    """``(person, garment, category)`` triples: ``"all"``, a number N (each person with N garments taken in turn
    from the list, so every garment comes up), or a text file of ``person garment [category]`` lines (names relative
    to the folders)."""
    if str(pairs) == "all":
        return [(p, g, None) for p in persons for g in garments]
    if str(pairs).isdigit():
        count = int(str(pairs))
        if count < 1:
            raise ValueError("pairs per person must be at least 1")
        chosen, turn = [], 0
        for person in persons:
            for _ in range(min(count, len(garments))):
                chosen.append((person, garments[turn % len(garments)], None))
                turn += 1
        return chosen
    path = Path(pairs)
    if not path.is_file():
        raise ValueError(f"pairs must be 'all', a number or a pairs file; {path} is none of them")
    by_name = {p.name: p for p in persons} | {p.stem: p for p in persons}
    garment_by_name = {g.name: g for g in garments} | {g.stem: g for g in garments}
    chosen = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) not in (2, 3) or words[0] not in by_name or words[1] not in garment_by_name:
            raise ValueError(f"{path}:{number}: expected 'person garment [category]' naming files of the folders, "
                             f"got {line!r}")
        chosen.append((by_name[words[0]], garment_by_name[words[1]], words[2] if len(words) == 3 else None))
    return chosen


def run_photos(model: str, persons: str | Path, garments: str | Path, out: str | Path, *, pairs: str = "3",
               resolution: tuple[int, int] | None = None, category: str | None = None, device: str | None = None,
               weights: str | None = None) -> list[PairReport]:
    """Run ``model`` over the pairs and write the sheets, results and reports (see the module docstring)."""
    from ..pipeline import TryOnPipeline

    out = Path(out)
    chosen = choose_pairs(list_images(persons), list_images(garments), pairs)
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    pipe = TryOnPipeline(model, device=device, weights=weights, resolution=resolution)
    reports, rows = [], []
    for index, (person, garment, pair_category) in enumerate(chosen):
        report = PairReport(person=person.name, garment=garment.name)
        try:
            result = pipe(person, garment, category=pair_category or category)
        except ValueError as error:
            report.accepted, report.reason = False, str(error)
            logger.info("%s: refused: %s", report.name, error)
            rows.append(_sheet_row(report, person, garment, None))
        else:
            report.category, report.category_reason = result.category, result.category_reason
            report.timings = {k: round(float(v), 4) for k, v in result.timings.items()}
            report.checks = _checks_of(result)
            report.flags = flags_of(report.checks)
            report.result = f"results/{report.name}.jpg"
            result.image.save(out / report.result, quality=92)
            rows.append(_sheet_row(report, person, garment, result))
        reports.append(report)
        logger.info("[%d/%d] %s %s %s", index + 1, len(chosen), report.name, report.category,
                    ",".join(report.flags) or ("ok" if report.accepted else "refused"))
    for number in range(math.ceil(len(rows) / ROWS_PER_SHEET)):
        sheet = _sheet(rows[number * ROWS_PER_SHEET:(number + 1) * ROWS_PER_SHEET])
        sheet.save(out / "sheets" / f"sheet_{number + 1:02d}.png")
    _write_reports(out, model, reports)
    return reports


def _checks_of(result) -> dict[str, float | None]:
    shown = result.intermediates
    needed = ("person_crop", "parse", "garment_crop", "garment_mask")
    if any(name not in shown for name in needed):
        return {}
    region_image = shown.get("composite_mask") or shown.get("warped_mask")
    if region_image is None:
        return {}
    person = np.asarray(shown["person_crop"].convert("RGB"))
    model_image = np.asarray(result.model_image.convert("RGB"))
    keypoints = _keypoints_of(result, person.shape[:2])
    return check_result(person, model_image, _parse_from_colours(np.asarray(shown["parse"])),
                        np.asarray(region_image) > 127, np.asarray(shown["garment_crop"].convert("RGB")),
                        np.asarray(shown["garment_mask"]) > 127, keypoints, result.category)


def _keypoints_of(result, size: tuple[int, int]) -> np.ndarray:
    """BODY_25 keypoints of the framed person at the model's resolution (all missing if the result has none)."""
    keypoints = getattr(result, "keypoints", None)
    if keypoints is None or np.shape(keypoints) != (25, 3):
        return np.zeros((25, 3), np.float32)
    return np.asarray(keypoints, np.float32)


def _fit(image: Image.Image, size: tuple[int, int] = CELL) -> Image.Image:
    return ImageOps.pad(image.convert("RGB"), size, color=(255, 255, 255))


def _sheet_row(report: PairReport, person: Path, garment: Path, result) -> Image.Image:
    cells = [_fit(Image.open(person)), _fit(Image.open(garment))]
    if result is not None:
        cells.append(_fit(result.image))
        for name in ("parse", "warped_garment", "composite_mask"):
            if name in result.intermediates:
                cells.append(_fit(result.intermediates[name]))
    width = CELL[0] * 6
    row = Image.new("RGB", (width, CELL[1] + 30), "white")
    for column, cell in enumerate(cells):
        row.paste(cell, (column * CELL[0], 30))
    draw = ImageDraw.Draw(row)
    if report.accepted:
        total = report.timings.get("total", 0.0)
        head = (f"{report.name}  [{report.category}]  {total:.2f} s  "
                f"{'FLAGS: ' + ', '.join(report.flags) if report.flags else 'checks ok'}")
        values = "  ".join(f"{k} {v:.3f}" for k, v in report.checks.items() if v is not None)
        draw.text((4, 2), head, fill=(180, 0, 0) if report.flags else (0, 100, 0))
        draw.text((4, 15), values, fill=(60, 60, 60))
    else:
        draw.text((4, 2), f"{report.name}  REFUSED", fill=(180, 0, 0))
        draw.text((4, 15), report.reason[:180], fill=(60, 60, 60))
    return row


def _sheet(rows: list[Image.Image]) -> Image.Image:
    sheet = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), "white")
    top = 0
    for row in rows:
        sheet.paste(row, (0, top))
        top += row.height
    return sheet


def _write_reports(out: Path, model: str, reports: list[PairReport]) -> dict:
    accepted = [r for r in reports if r.accepted]
    names = ("torso_coverage", "changed_outside", "old_colour_left", "preserved_exact", "neck_covered")
    summary = {
        "model": model,
        "pairs": len(reports),
        "accepted": len(accepted),
        "refused": len(reports) - len(accepted),
        "flagged": sum(1 for r in accepted if r.flags),
        "flag_counts": {name: sum(1 for r in accepted if name in r.flags) for name in names},
        "median_checks": {name: _median([r.checks.get(name) for r in accepted]) for name in names},
        "seconds_per_pair": {"median": _median([r.timings.get("total") for r in accepted]),
                             "max": max((r.timings.get("total", 0.0) for r in accepted), default=None)},
        "categories": {c: sum(1 for r in accepted if r.category == c) for c in ("upper", "lower", "dress")},
    }
    (out / "report.json").write_text(json.dumps({"summary": summary, "pairs": [asdict(r) for r in reports]},
                                                indent=2) + "\n")
    lines = [f"# {model} on real photos: {summary['pairs']} pairs", "",
             f"accepted {summary['accepted']}, refused {summary['refused']}, flagged by a check {summary['flagged']}; "
             f"median {summary['seconds_per_pair']['median']} s per pair", "",
             "| check | flag when | pairs flagged | median |", "|---|---|---|---|"]
    when = {"torso_coverage": f"< {MIN_COVERAGE}", "changed_outside": f"> {MAX_CHANGED_OUTSIDE}",
            "old_colour_left": f"> {MAX_OLD_COLOUR}", "preserved_exact": f"< {MIN_PRESERVED}",
            "neck_covered": f"> {MAX_NECK_COVERED}"}
    for name in names:
        median = summary["median_checks"][name]
        lines.append(f"| {name} | {when[name]} | {summary['flag_counts'][name]} | "
                     f"{'-' if median is None else f'{median:.3f}'} |")
    lines += ["", "## Refused", ""] + [f"- {r.name}: {r.reason}" for r in reports if not r.accepted]
    lines += ["", "## Flagged", ""] + [f"- {r.name} [{r.category}]: {', '.join(r.flags)}" for r in accepted
                                       if r.flags]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return summary


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.median(values)), 4) if values else None


__all__ = ["PairReport", "check_result", "choose_pairs", "flags_of", "list_images", "run_photos"]
