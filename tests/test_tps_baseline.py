"""tps-baseline: the weight-free try-on, on real VITON-HD photos run through our own preprocessing.

The real-photo development set (28 persons, 42 garments, all categories) is checked in ``test_real_photos.py``.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from scipy import ndimage

import vton_zoo
from vton_zoo import weights
from vton_zoo.models import tps_baseline
from vton_zoo.preprocess import garment as garment_mod
from vton_zoo.preprocess import labels, segmentation
from vton_zoo.preprocess import parse as parse_mod
from vton_zoo.preprocess import pose as pose_mod
from vton_zoo.preprocess.model_inputs import GARMENT_TYPE, build_model_inputs, pose_heatmaps, recipe_for

SIZES = ((256, 192), (512, 384), (1024, 768))
UPPER_CLOTHES, NECK = 5, 10  # VITON-HD image-parse-v3 labels
LOWER_CLOTHES = (9, 12, 16, 17, 18, 19)  # pants, skirt, legs, shoes
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def model():
    return vton_zoo.create_model("tps-baseline")


@pytest.fixture(scope="module")
def samples(shared_dir):
    """The two VITON-HD photos preprocessed at their full 1024x768 (pose, segmentation, parse) and the garments."""
    root = shared_dir / "samples" / "viton_hd" / "test"
    out = {}
    for name in ("00000_00", "00017_00"):
        person = np.asarray(Image.open(root / "image" / f"{name}.jpg").convert("RGB"))
        pose = pose_mod.estimate_pose(person)
        parse = parse_mod.coarse_parse(person, pose, segmentation.segment_person(person, pose=pose))
        truth = np.asarray(Image.open(root / "image-parse-v3" / f"{name}.png"))
        out[name] = {"person": person, "keypoints": pose.coco18, "parse": parse, "truth": truth}
    for name in ("00205_00", "00017_00"):
        cloth = np.asarray(Image.open(root / "cloth" / f"{name}.jpg").convert("RGB"))
        out["cloth_" + name] = {"garment": cloth, "mask": garment_mod.garment_mask(cloth)}
    return out


def _run(model, samples, person: str, cloth: str, size=(512, 384), category: str = "upper"):
    p, c = samples[person], samples["cloth_" + cloth]
    inputs = build_model_inputs(model, person=p["person"], garment=c["garment"], garment_mask=c["mask"],
                                keypoints=p["keypoints"], parse=p["parse"], size=size, category=category)
    with torch.no_grad():
        return inputs, model(inputs)


def _resize_labels(label_map: np.ndarray, size) -> np.ndarray:
    return np.asarray(Image.fromarray(label_map).resize((size[1], size[0]), Image.NEAREST))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _uint8(tensor: torch.Tensor) -> np.ndarray:
    return ((tensor[0].permute(1, 2, 0).numpy() + 1) * 127.5).astype(np.float32)


# --- the registry / weights contract --------------------------------------------------------------------------------


def test_registered_weight_free(model):
    spec = vton_zoo.get_spec("tps-baseline")
    assert "tps-baseline" in vton_zoo.list_models()
    assert spec.weights.needs_weights is False and spec.license.startswith("MIT")
    assert spec.resolution == (512, 384) and set(spec.supported_resolutions()) == set(SIZES)
    assert set(spec.categories) == {"upper", "lower", "dress"}
    assert set(spec.inputs) == {"person", "garment", "garment_mask", "parse", "pose", "garment_type"}
    assert set(spec.outputs) == {"warped_garment", "warped_mask", "flow", "composite_mask", "tryon"}
    assert sum(p.numel() for p in model.parameters()) == 0
    assert weights.status("tps-baseline") == "built-in"
    assert weights.resolve_for_pipeline("tps-baseline", None) is None
    assert recipe_for("tps-baseline") == "tps"


# --- building blocks ------------------------------------------------------------------------------------------------


def test_heatmaps_round_trip_keypoints():
    rng = np.random.default_rng(0)
    keypoints = np.zeros((18, 3), np.float32)
    keypoints[:, 0] = rng.uniform(10, 180, 18)
    keypoints[:, 1] = rng.uniform(10, 245, 18)
    keypoints[:, 2] = 0.9
    keypoints[[3, 9]] = 0  # missing points
    maps = pose_heatmaps(keypoints, (256, 192))
    assert maps.shape == (18, 256, 192) and maps.dtype == np.float32
    assert maps[3].max() == 0 and maps[0].max() > 0.95
    decoded = tps_baseline.decode_keypoints(torch.from_numpy(maps)[None])[0]
    seen = keypoints[:, 2] > 0
    assert np.abs(decoded[seen, :2] - keypoints[seen, :2]).max() < 0.1  # sub-pixel
    assert (decoded[~seen] == 0).all()


def test_tps_interpolates_and_reproduces_affine_maps():
    rng = np.random.default_rng(1)
    target = torch.from_numpy(rng.uniform(-0.9, 0.9, (9, 2)))
    affine = torch.tensor([[1.1, 0.2], [-0.1, 0.9]], dtype=torch.float64)
    source = target @ affine.T + torch.tensor([0.05, -0.1], dtype=torch.float64)
    coefficients = tps_baseline.fit_tps(target, source, regularisation=0.0)
    assert coefficients[:9].abs().max() < 1e-8  # an affine correspondence needs no bending
    bent = source.clone()
    bent[4] += 0.2
    cols = torch.round(((target[:, 0] + 1) * 48 - 1) / 2).long()
    rows = torch.round(((target[:, 1] + 1) * 64 - 1) / 2).long()
    snapped = torch.stack([(2 * cols + 1) / 48 - 1, (2 * rows + 1) / 64 - 1], 1).double()
    coefficients = tps_baseline.fit_tps(snapped, bent, regularisation=0.0)
    grid = tps_baseline.tps_grid(snapped, coefficients, (64, 48))
    assert torch.allclose(grid[rows, cols].double(), bent, atol=1e-4)
    # The numpy path the model uses solves the same system.
    np.testing.assert_allclose(tps_baseline._fit_tps_numpy(snapped.numpy(), bent.numpy(), 0.0),
                               coefficients.numpy(), atol=1e-8)
    # Collinear control points (singular system) still give a finite grid.
    line = torch.stack([torch.linspace(-1, 1, 5), torch.zeros(5)], 1).double()
    assert torch.isfinite(tps_baseline.tps_grid(line, tps_baseline.fit_tps(line, line, 1e-3), (8, 6))).all()


def test_garment_landmarks_on_dataset_garment(samples):
    mask = samples["cloth_00205_00"]["mask"]
    found = tps_baseline.garment_landmarks(mask)
    for left, right in (found.shoulder, found.armpit, found.hem, found.collar):
        assert left[0] < right[0]  # image-left side first
    assert found.collar[0][1] < found.armpit[0][1] < found.hem[0][1]
    assert found.hem[0][1] > 0.8 * np.nonzero(mask)[0].max()
    assert found.sleeves[0] is not None and found.sleeves[1] is not None
    assert found.sleeves[0].cuff[0] < found.shoulder[0][0] and found.sleeves[1].cuff[0] > found.shoulder[1][0]
    parts = found.torso_mask.astype(int) + found.sleeves[0].mask + found.sleeves[1].mask
    assert parts.max() == 1 and (parts > 0).sum() == mask.sum()  # torso + sleeves partition the garment


def test_balloon_sleeves_hanging_against_the_body_leave_it_its_width():
    """A blouse laid flat with long balloon sleeves hanging against its body down to cuffs above its hem (drawn): the
    body's sides are where its run narrows below the cuffs, and each sleeve is the whole balloon (before: the sides
    were taken inside the sleeves, where the top contour turns down, and the body came out 1.6 times its width, which
    shrank the garment on the person and cut the sleeves short)."""
    canvas = Image.new("L", (300, 400), 0)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([100, 60, 200, 350], fill=255)  # the body, down to its hem
    draw.ellipse([45, 62, 125, 300], fill=255)  # the sleeves, against it, ending above the hem
    draw.ellipse([175, 62, 255, 300], fill=255)
    draw.ellipse([130, 50, 170, 80], fill=0)  # the neck opening
    found = tps_baseline.garment_landmarks(np.asarray(canvas) > 127)
    sides = [intercept for _, intercept in found.lines]
    log.info("body sides at x = %s, armpits %s", sides, [p.round(1).tolist() for p in found.armpit])
    assert abs(sides[0] - 100) <= 4 and abs(sides[1] - 200) <= 4, sides
    for side, sleeve in enumerate(found.sleeves):
        assert sleeve is not None
        assert abs(sleeve.cuff[1] - 300) <= 20  # down to the cuff
        outward = sleeve.mask[:, :100].sum() if side == 0 else sleeve.mask[:, 201:].sum()
        assert outward >= 0.9 * sleeve.mask.sum()  # the balloon, not a piece of the body


@pytest.mark.parametrize("kind", ["off_shoulder", "t_shirt", "puff_sleeves"])
def test_off_the_shoulder_tops_are_told_by_their_level_top_edge(kind):
    """Drawn product shots: an off-the-shoulder top's top edge runs level from the neckline out over its sleeves; a
    T-shirt's falls away from the shoulder points down the sleeves, and so does a puff sleeve's beyond its gathers."""
    canvas = Image.new("L", (300, 300), 0)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([100, 80, 200, 260], fill=255)  # the body
    if kind == "off_shoulder":
        draw.rectangle([30, 80, 270, 150], fill=255)  # sleeves level with the top edge
    elif kind == "t_shirt":
        draw.polygon([(100, 80), (130, 70), (170, 70), (200, 80), (260, 150), (230, 175), (200, 140), (100, 140),
                      (70, 175), (40, 150)], fill=255)  # shoulders sloping down the sleeves
        draw.ellipse([130, 60, 170, 90], fill=0)  # the neck opening
    else:
        draw.polygon([(130, 70), (170, 70), (200, 80), (100, 80)], fill=255)
        draw.ellipse([130, 60, 170, 90], fill=0)
        draw.ellipse([190, 95, 260, 160], fill=255)  # puffs set below the shoulder points
        draw.ellipse([40, 95, 110, 160], fill=255)
    mask = np.asarray(canvas) > 127
    found = tps_baseline.garment_landmarks(mask)
    assert found.sleeves[0] is not None and found.sleeves[1] is not None
    assert tps_baseline._off_the_shoulder(mask, found) == (kind == "off_shoulder")


def test_only_a_v_shaped_inner_back_deepens_the_neckline():
    """Drawn product shots with an inner back a little darker than the front (0.10 apart, under the band rule's 0.12):
    one showing through a V is found down to the V's point; one behind a crew neck (the sides dropping straight, a
    U) is not taken for a V."""
    for kind in ("v", "crew"):
        canvas = Image.new("RGB", (300, 400), (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        draw.polygon([(125, 50), (175, 50), (210, 62), (270, 130), (240, 160), (210, 130), (210, 360), (90, 360),
                      (90, 130), (60, 160), (30, 130), (90, 62)], fill=(230, 150, 150))
        if kind == "v":
            draw.polygon([(125, 50), (175, 50), (150, 125)], fill=(212, 136, 138))
        else:
            draw.chord([125, 26, 175, 76], 0, 180, fill=(212, 136, 138))
        draw.chord([127, 42, 173, 58], 0, 180, fill=(255, 255, 255))  # (the back neckline's dip at the top)
        image = np.asarray(canvas).astype(np.float32) / 255
        mask = np.asarray(canvas.convert("L")) < 250
        found = tps_baseline.garment_landmarks(mask)
        neckline = tps_baseline._front_neckline(image, mask, found)
        log.info("%s: neckline middle at %.0f", kind, neckline[2][1])
        if kind == "v":
            assert 115 <= neckline[2][1] <= 128, neckline
        else:
            assert neckline[2][1] < 90, neckline


def test_straps_rising_above_a_v_bodice_are_its_collar_corners():
    """A drawn dress whose thin straps rise from a deep V bodice's top corners to the shoulders, puff sleeves beside
    them: its collar corners are the straps' tops (before: the V's sides where the search for them ended, inside the
    straps, and the dress, taken for one without straps, was hung from its armpits with a square neckline). A drawn
    T-shirt keeps its collar corners at the neck's edge."""
    canvas = Image.new("RGB", (300, 400), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    draw.polygon([(112, 100), (130, 95), (150, 150), (170, 95), (188, 100), (190, 170), (215, 380), (85, 380),
                  (110, 170)], fill=(40, 150, 110))  # the bodice and skirt, a V from (130, 95) to (150, 150)
    for side in (0, 1):
        sign = -1 if side == 0 else 1
        draw.line([(150 + sign * 52, 40), (150 + sign * 22, 97)], fill=(40, 150, 110), width=5)  # the strap
        draw.ellipse([150 + sign * 72 - 28, 50, 150 + sign * 72 + 28, 115], fill=(40, 150, 110))  # a puff sleeve
    mask = np.asarray(canvas.convert("L")) < 250
    found = tps_baseline.garment_landmarks(mask, (0.28, 0.45))
    log.info("collar corners %s", [c.tolist() for c in found.collar])
    for side, collar in enumerate(found.collar):
        assert abs(collar[0] - (98 if side == 0 else 202)) <= 6 and collar[1] <= 45, found.collar
    tee, _, _, _ = _drawn_tee(25.0, 70.0, 12.0)
    found = tps_baseline.garment_landmarks(tee)
    for side, collar in enumerate(found.collar):
        assert abs(collar[0] - (125 if side == 0 else 175)) <= 3 and collar[1] <= 52, found.collar


def _drawn_tee(neck_half: float, shoulder_y: float, back_dip: float):
    """A drawn T-shirt's mask (400x300, shoulders down to ``shoulder_y`` beside a neck opening ``neck_half`` px either
    side of x = 150 at y = 50; the back's neckline, the top contour in the opening, dips ``back_dip`` px in its
    middle). Returns the mask, the grid (yy, xx), the opening's columns and its arc (1 in the middle, 0 at the
    corners)."""
    height, width = 400, 300
    canvas = Image.new("L", (width, height), 0)
    ImageDraw.Draw(canvas).polygon([(150 - neck_half, 50), (150 + neck_half, 50), (215, shoulder_y), (280, 140),
                                    (245, 165), (215, 135), (215, 370), (85, 370), (85, 135), (55, 165), (20, 140),
                                    (85, shoulder_y)], fill=255)
    mask = np.asarray(canvas) > 0
    yy, xx = np.mgrid[0:height, 0:width]
    inside = np.abs(xx - 150) < neck_half
    arc = np.sqrt(np.clip(1 - ((xx - 150) / neck_half) ** 2, 0, 1))
    return mask & ~(inside & (yy < 50 + back_dip * arc)), (yy, xx), inside, arc


def _boat_neck_top(stripes: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A drawn boat-neck top (white, or navy and white stripes) with a yellow rib round the neck: the inside of the
    back shows through the opening (in the front's own colours, a grey label on it) above the front's rib. Returns
    the photo, the mask and the front rib's lower edge (row, per column)."""
    mask, (yy, xx), inside, arc = _drawn_tee(55, 55, 8)
    height, width = mask.shape
    back, front = 50 + 8 * arc, 50 + 25 * arc  # the back's neckline (the top contour there); the front rib's edge
    image = np.ones((height, width, 3), np.float32)
    image[mask] = 0.97
    if stripes:
        image[mask & ((yy // 6) % 2 == 0)] = (0.15, 0.17, 0.3)
    rib = inside & (yy > front - 7) & (yy <= front)  # the front's rib, 7 rows
    rib |= inside & (yy >= back) & (yy < back + 3)  # the back's
    rib |= (np.abs(xx - 150) >= 55) & (np.abs(xx - 150) < 63) & (yy < 58)  # round the corners
    image[rib & mask] = (0.95, 0.82, 0.35)
    image[inside & (yy > back + 5) & (yy < back + 10) & (np.abs(xx - 150) < 10)] = 0.6  # a label
    return image, mask, front[0]


@pytest.mark.parametrize("stripes", [True, False])
def test_a_contrast_rib_over_the_inner_back_is_the_front_neckline(stripes):
    """A boat neck with a yellow rib, the inside of the back showing above it in the front's colours (a Breton top's
    stripes): the front's colour never settles below the inner back, and the crew neck's depth (0.38 of the opening's
    width) cut into the front under the rib, a V of stripes with yellow wedges at the shoulders. Under a contrast rib
    the front starts right below it (before: 16 rows below it in the middle, 9 at the sides; now within 2)."""
    image, mask, rib_edge = _boat_neck_top(stripes)
    found = tps_baseline.garment_landmarks(mask)
    neckline = tps_baseline._front_neckline(image, mask, found)
    log.info("neckline %s", neckline.round(1).tolist())
    for x, y in neckline[1:4]:
        assert abs(y - (rib_edge[int(round(x))] + 1)) <= 2, (x, y, rib_edge[int(round(x))])


def test_a_printed_labels_lines_all_go_with_the_inner_back():
    """A white T-shirt whose white inner back shows a printed label under the back's dark rib: four short lines of
    small grey print, a row or two of white between them, reaching below the front neckline found. The label is
    the inner back's, cut with the opening, every line of it (before: none of it here, its print starting two rows
    below the line found; of the Armani T-shirt 050105's label only the first line, its lower lines a grey smear under
    the new neckline)."""
    mask, (yy, xx), inside, arc = _drawn_tee(40, 58, 6)  # (the back's neckline dips a little)
    height, width = mask.shape
    image = np.ones((height, width, 3), np.float32)
    image[mask] = 0.96
    image[mask & inside & (yy < 54 + 6 * arc)] = 0.1  # the back's dark rib
    label = np.zeros((height, width), bool)
    for top, half in ((82, 6), (87, 9), (91, 4), (95, 8)):  # lines of print, every other column inked
        label |= (yy >= top) & (yy < top + 3) & (np.abs(xx - 150) <= half) & (xx % 2 == 0)
    image[label] = 0.55
    found = tps_baseline.garment_landmarks(mask)
    neckline = tps_baseline._front_neckline(image, mask, found)
    opening = tps_baseline._neck_opening(image, mask, found, neckline)
    log.info("neckline middle %.1f; label pixels cut %d of %d", neckline[2][1], (label & opening).sum(), label.sum())
    assert neckline[2][1] < 96  # (the label reaches below the front line found)
    assert (label & ~opening).sum() == 0
    # (Its own rows only: the front below the label stays.)
    assert not opening[110:, 130:171].any()


def test_front_neckline_below_the_inner_back(samples):
    # VITON-HD 00017's scoop neck: the dark inside of the back shows through the opening in the product shot, from
    # the top contour down to about y = 320 (of 1024). The front neckline is found below it, not at the top contour.
    cloth = samples["cloth_00017_00"]
    found = tps_baseline.garment_landmarks(cloth["mask"])
    neckline = tps_baseline._front_neckline(cloth["garment"].astype(np.float32) / 255, cloth["mask"], found)
    top = float(np.argmax(cloth["mask"][:, int(neckline[2][0])]))
    log.info("neckline middle at %.0f, top contour %.0f", neckline[2][1], top)
    assert neckline[2][1] - top > 60
    assert 290 <= neckline[2][1] <= 350
    assert neckline[0][1] < neckline[1][1] <= neckline[2][1] >= neckline[3][1] > neckline[4][1]


def test_garment_category_map_picks_the_path(model, samples):
    inputs, _ = _run(model, samples, "00000_00", "00205_00", (256, 192))
    for category, value in GARMENT_TYPE.items():
        assert inputs["garment_type"].shape == (1, 1, 256, 192)
        assert tps_baseline.CATEGORY_OF_TYPE[round(value * 3)] == category
    with pytest.raises(ValueError, match="category must be one of"):
        build_model_inputs(model, person=samples["00000_00"]["person"],
                           garment=samples["cloth_00205_00"]["garment"],
                           garment_mask=samples["cloth_00205_00"]["mask"],
                           keypoints=samples["00000_00"]["keypoints"], parse=samples["00000_00"]["parse"],
                           category="hat")


# --- real photos ----------------------------------------------------------------------------------------------------


def test_paired_garment_lands_where_the_person_wears_it(model, samples):
    """The person wearing garment 00017 gets it back where the dataset's parser found it (above the trousers: the
    original is half tucked in, ours hangs over them)."""
    size = (512, 384)
    _, out = _run(model, samples, "00017_00", "00017_00", size)
    truth = _resize_labels(samples["00017_00"]["truth"], size)
    upper = truth == UPPER_CLOTHES
    visible = ~np.isin(truth, LOWER_CLOTHES)
    composite = out["composite_mask"][0, 0].numpy() > 0.5
    iou = _iou(composite & visible, upper)
    log.info("paired IoU above the trousers: %.3f", iou)
    assert iou >= 0.75, iou


def test_neckline_opens_onto_the_neck(model, samples):
    # The dataset's neck label above the shoulder line: a scoop-neck tee leaves it bare (no inner back pasted over it).
    size = (512, 384)
    for person, cloth in (("00017_00", "00017_00"), ("00000_00", "00017_00")):
        inputs, out = _run(model, samples, person, cloth, size)
        truth = _resize_labels(samples[person]["truth"], size)
        keypoints = tps_baseline.decode_keypoints(inputs["pose"])[0]
        shoulder_line = min(keypoints[2][1], keypoints[5][1])
        neck = (truth == NECK) & (np.arange(size[0])[:, None] < shoulder_line)
        covered = float((out["composite_mask"][0, 0].numpy()[neck] > 0.5).mean())
        log.info("%s + %s: neck covered %.3f", person, cloth, covered)
        assert neck.sum() > 200 and covered <= 0.15, covered


def test_new_garment_replaces_the_old_one(model, samples):
    """White Levi's tee -> dark floral blouse: the tee's torso is covered by the blouse and little white is left where
    the tee was (a sleeve the blouse does not cover becomes skin, not white; a sliver the person mask missed beside
    the arm stays)."""
    size = (512, 384)
    inputs, out = _run(model, samples, "00000_00", "00205_00", size)
    tryon = _uint8(out["tryon"])
    truth = _resize_labels(samples["00000_00"]["truth"], size)
    tee = truth == UPPER_CLOTHES
    composite = out["composite_mask"][0, 0].numpy() > 0.5
    covered = float(composite[tee].mean())
    white = float((tryon[tee].min(axis=1) > 200).mean())
    log.info("old tee covered %.3f, white left %.3f", covered, white)
    assert covered >= 0.7, covered
    assert white < 0.08, white


def test_shading_of_the_photo_carries_onto_the_garment(model, samples):
    # The red tee on its own wearer: inside the garment the result's luminance follows the photo's folds (relative to
    # their local mean), where the flat warped garment does not.
    size = (512, 384)
    inputs, out = _run(model, samples, "00017_00", "00017_00", size)
    person = _uint8(inputs["person"]).mean(2)
    result = _uint8(out["tryon"]).mean(2)
    warped = _uint8(out["warped_garment"]).mean(2)
    inside = out["composite_mask"][0, 0].numpy() > 0.99
    from scipy import ndimage

    def detail(image):
        return image - ndimage.gaussian_filter(image, 12)

    shaded = np.corrcoef(detail(person)[inside], detail(result)[inside])[0, 1]
    flat = np.corrcoef(detail(person)[inside], detail(warped)[inside])[0, 1]
    log.info("fold correlation: result %.3f, flat garment %.3f", shaded, flat)
    assert shaded >= 0.4 and shaded > flat + 0.2


def test_face_hair_hands_kept_exactly(model, samples):
    from vton_zoo.models.tps_baseline import _body, _hair_spill, _top_coloured_hair, _unlike_hair

    for person, cloth in (("00000_00", "00017_00"), ("00017_00", "00205_00")):
        for category in ("upper", "lower", "dress"):
            inputs, out = _run(model, samples, person, cloth, category=category)
            parse = inputs["parse"][0].argmax(0).numpy()
            # (Hair as the model reads it: the parse's hair but for thin bands of another colour it spilt below the
            # chin, a few of the old top's rib pixels here, and hair below the chin in the top's colour or in a vivid
            # colour neither the hair's nor the skin's, a few more.)
            photo = (inputs["person"][0].permute(1, 2, 0).numpy() + 1) / 2
            sw = _body(tps_baseline.decode_keypoints(inputs["pose"])[0], parse.shape).width
            hair = _unlike_hair(_top_coloured_hair(_hair_spill(parse, photo, sw), photo), photo) == labels.HAIR
            assert (parse == labels.HAIR).sum() - hair.sum() <= 0.02 * (parse == labels.HAIR).sum()
            keep = np.isin(parse, (labels.FACE, labels.RIGHT_HAND, labels.LEFT_HAND)) | hair
            diff = (out["tryon"][0] - inputs["person"][0]).abs().amax(0).numpy()
            # (But the hair's outer pixels right beside what was replaced: a blend of the hair and the old top, they
            # take on what replaces the top; those in the old top's own colour go with it. A few pixels deep, a small
            # share of the hair.)
            changed = ~keep & (diff > 0)
            for _ in range(2):
                fringe = hair & (ndimage.distance_transform_edt(~changed) <= 4)
                changed |= fringe & (diff > 0)
            changed_hair = int((fringe & (diff > 0)).sum())
            assert changed_hair <= 0.05 * hair.sum(), (changed_hair, hair.sum(), person, category)
            keep &= ~fringe
            assert keep.sum() > 0.05 * keep.size
            assert diff[keep].max() == 0.0, (person, cloth, category)
            assert (out["composite_mask"][0, 0].numpy()[keep] == 0).all()
            assert diff[~keep].max() > 0.5  # and something did change elsewhere


def test_category_decides_what_changes(model, samples):
    # A top leaves the legs below its hem alone; trousers leave the whole upper body alone; a dress may change both.
    size = (512, 384)
    inputs, top = _run(model, samples, "00017_00", "00205_00", size, "upper")
    parse = inputs["parse"][0].argmax(0).numpy()
    changed = (top["tryon"][0] - inputs["person"][0]).abs().amax(0).numpy() > 0
    rows = np.flatnonzero((top["composite_mask"][0, 0].numpy() > 0.5).any(1))
    below_hem = np.arange(size[0])[:, None] > rows.max() + 0.02 * size[0]
    assert not (changed & below_hem).any()
    inputs, trousers = _run(model, samples, "00017_00", "00205_00", size, "lower")
    changed = (trousers["tryon"][0] - inputs["person"][0]).abs().amax(0).numpy() > 0
    upper_body = np.isin(parse, (labels.UPPER_GARMENT, labels.NECK, *labels.ARM_LABELS, *labels.HEAD_LABELS))
    # (But for the old trousers' top rows the parse gave the top, right above the new trousers, which they cover:
    # a thin line at most, of the old trousers' colour; their soft edge included.)
    new_trousers = trousers["composite_mask"][0, 0].numpy() > 0.25
    touched = changed & upper_body
    photo = (inputs["person"][0].permute(1, 2, 0).numpy() + 1) / 2
    old_tone = np.median(photo[parse == labels.LOWER_BODY], axis=0)
    top_tone = np.median(photo[parse == labels.UPPER_GARMENT], axis=0)
    like_old = np.linalg.norm(photo - old_tone, axis=2) < np.linalg.norm(photo - top_tone, axis=2)
    # (Nor an arm's outer pixel or two beside what changed of the old trousers and their soft edge: a blend of the
    # arm and the trousers, its trousers' share is what replaces them.)
    arm_edge = np.isin(parse, labels.ARM_LABELS) & ndimage.binary_dilation(changed & ~upper_body, np.ones((5, 5)))
    assert changed.any() and touched.sum() <= 0.01 * upper_body.sum()
    assert (touched <= ((new_trousers & like_old) | arm_edge)).all()
    inputs, dress = _run(model, samples, "00017_00", "00205_00", size, "dress")
    changed = (dress["tryon"][0] - inputs["person"][0]).abs().amax(0).numpy() > 0
    assert (changed & (parse == labels.UPPER_GARMENT)).mean() > 0 and (changed & (parse == labels.LOWER_BODY)).any()


@pytest.mark.parametrize("size", SIZES)
def test_sizes(model, samples, size):
    inputs, out = _run(model, samples, "00000_00", "00205_00", size)
    for name, tspec in model.spec.outputs.items():
        value = out[name]
        assert value.shape == (1, tspec.channels, *size), name
        assert torch.isfinite(value).all(), name
        lo, hi = tspec.value_range
        if np.isfinite(lo):
            assert value.min() >= lo and value.max() <= hi, name
    # The same geometry at every size: the composite mask agrees with the 512x384 one.
    _, reference = _run(model, samples, "00000_00", "00205_00", (512, 384))
    ours = F_resize(out["composite_mask"], (512, 384)) > 0.5
    assert _iou(ours, reference["composite_mask"][0, 0].numpy() > 0.5) > 0.85


def F_resize(mask: torch.Tensor, size) -> np.ndarray:
    return torch.nn.functional.interpolate(mask, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()


def test_deterministic_and_batched(model, samples):
    a_inputs, a = _run(model, samples, "00017_00", "00205_00")
    _, b = _run(model, samples, "00017_00", "00205_00")
    c_inputs, c = _run(model, samples, "00000_00", "00017_00", category="dress")
    for name in a:
        assert torch.equal(a[name], b[name]), name
    batched = {k: torch.cat([a_inputs[k], c_inputs[k]]) for k in a_inputs}
    with torch.no_grad():
        both = model(batched)
    for name in a:
        assert torch.equal(both[name][:1], a[name]) and torch.equal(both[name][1:], c[name]), name


def test_no_pose_falls_back_to_default_frame(model, samples, caplog):
    inputs, _ = _run(model, samples, "00017_00", "00205_00", (256, 192))
    inputs = {**inputs, "pose": torch.zeros_like(inputs["pose"])}
    with caplog.at_level(logging.WARNING), torch.no_grad():
        out = model(inputs)
    assert "no usable shoulders" in caplog.text
    assert torch.isfinite(out["tryon"]).all()


# --- bad input ------------------------------------------------------------------------------------------------------


def test_bad_model_inputs(model, samples):
    inputs, _ = _run(model, samples, "00017_00", "00205_00", (256, 192))
    with pytest.raises(ValueError, match="garment_mask' is empty"):
        model({**inputs, "garment_mask": torch.zeros_like(inputs["garment_mask"])})
    broken = inputs["person"].clone()
    broken[0, 0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        model({**inputs, "person": broken})
    with pytest.raises(ValueError, match="must have shape"):
        model({**inputs, "parse": inputs["parse"][:, :9]})
    with pytest.raises(ValueError, match="missing \\['garment_type'\\]"):
        model({k: v for k, v in inputs.items() if k != "garment_type"})


def test_bad_recipe_inputs(model, samples):
    p, c = samples["00017_00"], samples["cloth_00017_00"]
    good = {"person": p["person"], "garment": c["garment"], "garment_mask": c["mask"], "keypoints": p["keypoints"],
            "parse": p["parse"]}
    with pytest.raises(ValueError, match="needs keypoints"):
        build_model_inputs(model, **{**good, "keypoints": None})
    with pytest.raises(ValueError, match="needs parse"):
        build_model_inputs(model, **{**good, "parse": None})
    with pytest.raises(ValueError, match=r"\(18, 3\)"):
        build_model_inputs(model, **{**good, "keypoints": p["keypoints"][:10]})
    with pytest.raises(ValueError, match="garment mask is empty"):
        build_model_inputs(model, **{**good, "garment_mask": np.zeros_like(c["mask"])})
    with pytest.raises(ValueError, match="parse must have"):
        build_model_inputs(model, **{**good, "parse": p["parse"][:100]})
    with pytest.raises(ValueError, match="dtype uint8"):
        build_model_inputs(model, **{**good, "person": p["person"].astype(np.float32)})


# --- outline and shoulders -------------------------------------------------------------------------------------------


def test_smooth_outline_removes_notches_and_spurs_and_keeps_straight_edges():
    """A block with a notch and a spur 2 pixels wide: at sigma 2 the 6-pixel notch is at most a pixel and a half deep
    and the 8-pixel spur at most 2 pixels long; the straight edges stay where they were."""
    alpha = np.zeros((60, 80), np.float32)
    alpha[20:50, 10:70] = 1.0
    alpha[20:26, 30:32] = 0.0  # notch into the top edge
    alpha[12:20, 50:52] = 1.0  # spur out of it
    out = tps_baseline._smooth_outline(alpha, 2.0)
    assert out[22, 31] > 0.5 and out[25, 31] > 0.95  # the notch is (nearly) filled
    assert out[17, 51] < 0.5 and out[15, 51] < 0.3  # the spur is (nearly) gone
    # Straight edges away from the notch and spur: still at the same rows and columns, with a soft edge of about a
    # pixel (the 0.5 line within half a pixel of the block's edge).
    column = out[:, 20]
    assert column[21] > 0.5 and column[18] < 0.5 and column[35] == 1.0 and column[5] == 0.0
    row = out[35]
    assert row[11] > 0.5 and row[8] < 0.5 and row[68] > 0.5 and row[71] < 0.5
    assert ((out > 0) & (out < 1)).sum() < 2.5 * 2 * (60 + 30)  # (soft: about two pixels along the outline)
    assert tps_baseline._smooth_outline(np.zeros((4, 4), np.float32), 2.0).max() == 0.0


def _tank_top_person(size=(200, 160)):
    """A parse of a person in a tank top: head, neck, and a torso with shoulders rounded off at the top."""
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width]
    parse = np.zeros(size, np.uint8)
    # Torso with round shoulders: top outline at row 60 in the middle, falling to row 72 at the arms.
    top = 60 + 12 * ((xx - 80) / 50.0) ** 2
    parse[(yy >= top) & (np.abs(xx - 80) <= 50) & (yy < 160)] = labels.UPPER_GARMENT
    parse[(yy >= 40) & (yy < 66) & (np.abs(xx - 80) <= 10)] = labels.NECK
    parse[(yy < 40) & ((yy - 25) ** 2 + (xx - 80) ** 2 < 15 ** 2)] = labels.FACE
    return parse


def test_shoulder_cover_reaches_the_shoulders_outline_beside_the_neck_opening():
    """A T-shirt mapped with its shoulder line 8 px below the shoulders' outline: the band between, beside the collar
    corners, is covered up to the outline; the neck, the face, the opening between the collar corners and the
    backdrop above the outline are not."""
    parse = _tank_top_person()
    height, width = parse.shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    body = tps_baseline._Body([np.array([45.0, 75.0]), np.array([115.0, 75.0])], [None, None], [None, None],
                              [np.array([55.0, 150.0]), np.array([105.0, 150.0])], [None, None], [None, None],
                              np.array([80.0, 75.0]), np.array([80.0, 150.0]), 70.0)
    top = 60 + 12 * ((xx - 80) / 50.0) ** 2
    covered = (yy >= top + 8) & (np.abs(xx - 80) <= 50) & (yy < 160)
    collar = (np.array([62.0, 62.0]), np.array([98.0, 62.0]))
    cover = tps_baseline._shoulder_cover(covered, parse, body, collar, 105.0, (xx + 0.5, yy + 0.5))
    band = (yy >= top) & (yy < top + 8) & (np.abs(xx - 80) <= 48)
    beside = band & ((xx < 60) | (xx > 100))
    assert cover[beside].mean() > 0.95
    assert not (cover & covered).any()
    assert not (cover & np.isin(parse, (labels.NECK, labels.FACE))).any()
    assert not cover[band & (np.abs(xx - 80) < 16)].any()  # the neck's opening stays as the garment has it
    # Above the outline: at most the 2-pixel rim the parse leaves to the backdrop.
    assert not cover[(yy < top - 3)].any()



def test_made_up_skins_grain_follows_the_skin_not_its_features():
    """The grain added to made-up skin has the spread of the skin's own fine detail; the sharp edges inside the
    reference (eyes, brows, hair strands over the face) do not raise it (before: they took it to its cap, a mottle)."""
    rng = np.random.default_rng(1)
    size = (64, 64)
    person = np.full((*size, 3), 0.6, np.float32) + rng.normal(0, 0.01, (*size, 1)).astype(np.float32)
    reference = np.ones(size, bool)
    smooth = float(tps_baseline._grain(person, reference, size).std())
    features = person.copy()
    features[rng.random(size) < 0.03] = 0.1  # dark features, three pixels in a hundred
    with_features = float(tps_baseline._grain(features, reference, size).std())
    assert 0.002 < smooth < 0.008
    assert with_features < 1.5 * smooth, (smooth, with_features)


def _sleeve_profile_ratio(model, samples) -> float:
    """Across the Levi's tee wearer's visible upper arm, 30 % down from the shoulder: the red tee's warped sleeve
    fabric at its sides over its middle."""
    size = (512, 384)
    inputs, out = _run(model, samples, "00000_00", "00017_00", size)
    warped = _uint8(out["warped_garment"]).mean(2)
    covered = out["warped_mask"][0, 0].numpy() > 0.5
    keypoints = samples["00000_00"]["keypoints"]
    k = keypoints[:, :2] * size[0] / samples["00000_00"]["person"].shape[0]
    arms = [(s, e) for s, e in ((2, 3), (5, 6)) if keypoints[s, 2] > 0 and keypoints[e, 2] > 0]
    assert arms  # (her right elbow is hidden: the left arm)
    ratios = []
    for shoulder, elbow in arms:
        start, end = k[shoulder], k[elbow]
        axis = (end - start) / np.linalg.norm(end - start)
        normal = np.array([-axis[1], axis[0]])
        centre = start + 0.3 * (end - start)
        profile = []
        for offset in np.linspace(-40, 40, 81):
            x, y = (centre + offset * normal).round().astype(int)
            if 0 <= y < size[0] and 0 <= x < size[1] and covered[y, x]:
                profile.append(warped[y, x])
        profile = np.array(profile)
        assert len(profile) >= 20, len(profile)
        third = len(profile) // 3
        middle, sides = float(np.median(profile[third:-third])), float(np.median(np.r_[profile[:4], profile[-4:]]))
        ratios.append(sides / middle)
    return float(np.mean(ratios))


def test_sleeves_are_shaded_round(model, samples, monkeypatch):
    """A sleeve is a tube: across it the warped fabric darkens towards its outer side relative to the flat-lay's own
    colours (the red tee's sleeve, whose edges are lighter laid flat: sides/middle 1.29 flat, 1.19 shaded)."""
    shaded = _sleeve_profile_ratio(model, samples)
    monkeypatch.setattr(tps_baseline, "SLEEVE_ROUND", 0.0)
    flat = _sleeve_profile_ratio(model, samples)
    log.info("sleeve sides over middle: shaded %.3f, flat %.3f", shaded, flat)
    assert shaded < 0.96 * flat, (shaded, flat)


def _standing_legs(columns: tuple[float, float]) -> tps_baseline._Body:
    """A drawn body standing straight (shoulders 80 px apart at y = 80), its legs' bones straight down at ``columns``:
    hips at y = 200, knees at 290, ankles at 380."""
    return tps_baseline._Body([np.array([110.0, 80.0]), np.array([190.0, 80.0])], [None, None], [None, None],
                              [np.array([x, 200.0]) for x in columns], [np.array([x, 290.0]) for x in columns],
                              [np.array([x, 380.0]) for x in columns], np.array([150.0, 80.0]),
                              np.array([150.0, 200.0]), 80.0)


def test_what_lies_beyond_a_bare_arm_in_the_backdrops_colours_is_the_backdrop():
    """A bare arm (x 190-205) on the right of a drawn body, on a white backdrop: beyond it, a white speck and the arm's
    soft edge (half skin, half white) are the backdrop and the arm's edge; a red speck of the old top there is not,
    nor is white on the body's side of the arm or above the arm's rows."""
    body = _standing_legs((130.0, 170.0))
    size = (240, 300)
    person = np.ones((*size, 3), np.float32)
    skin = np.array([0.8, 0.6, 0.5], np.float32)
    arm = np.zeros(size, bool)
    arm[90:200, 190:206] = True
    person[arm] = skin
    person[90:200, 206] = 0.5 * skin + 0.5  # (the arm's anti-aliased edge)
    person[150:154, 215:219] = [0.8, 0.1, 0.1]
    candidates = np.zeros(size, bool)
    candidates[90:200, 206] = True  # the edge
    candidates[120:124, 215:219] = True  # a white speck
    candidates[150:154, 215:219] = True  # a red one
    candidates[120:124, 180:184] = True  # white on the body's side
    candidates[40:44, 215:219] = True  # white above the arm's rows
    no_arm = np.zeros(size, bool)
    out = tps_baseline._beyond_bare_arms([no_arm, arm], body, person, np.ones_like(person), candidates)
    assert out[90:200, 206].all() and out[120:124, 215:219].all()
    assert not out[150:154, 215:219].any() and not out[120:124, 180:184].any() and not out[40:44, 215:219].any()
    # No bare arm: nothing.
    assert not tps_baseline._beyond_bare_arms([no_arm, no_arm], body, person, np.ones_like(person), candidates).any()


def test_a_skirts_edge_is_no_thighs_but_touching_trouser_legs_are():
    """Drawn legs (bones straight down at x 130 and 170, hips at y 200, knees at 290, shoulders 80 px apart): under a
    skirt out to x 90-210 down to y 280, bare legs 12 px either side of the bones below, the thigh is told from the
    calf (before: from the distance between the bone and the skirt's side, capped at 26 px, a block of trousers out
    to the skirt's outline); trouser legs that touch along the thighs and part above the knees keep the thigh their
    outline gives."""
    body = _standing_legs((130.0, 170.0))
    size = (400, 300)
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    chains = [body.leg_chain(0), body.leg_chain(1)]
    legs = (np.abs(xx - 130) <= 12) | (np.abs(xx - 170) <= 12)
    skirt = (yy >= 190) & (yy < 280) & (np.abs(xx - 150) <= 60)
    silhouette = skirt | (legs & (yy >= 190) & (yy < 385))
    thigh, calf = tps_baseline._leg_half_widths(silhouette, chains[0], body.width, chains[1], skirt)
    assert abs(calf - 12) <= 2 and abs(thigh - calf * 0.2 / 0.13) <= 2, (thigh, calf)
    assert tps_baseline._leg_half_widths(silhouette, chains[0], body.width)[0] >= 25  # (the skirt's edge)
    trousers = (yy >= 190) & (yy < 385) & (((np.abs(xx - 150) <= 36) & (yy < 260)) | (np.abs(xx - 130) <= 16)
                                             | (np.abs(xx - 170) <= 16))
    alone = tps_baseline._leg_half_widths(trousers, chains[0], body.width)
    assert tps_baseline._leg_half_widths(trousers, chains[0], body.width, chains[1], trousers) == alone


def test_made_up_legs_are_as_wide_as_the_bare_legs_they_meet():
    """Legs made up above the photo's bare lower legs (a dress longer than the new one) are as wide where they meet
    as the bare legs are there (before: the anatomical width alone, a step at the old hem when the legs are fuller)."""
    size = (400, 300)
    body = _standing_legs((125.0, 175.0))
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    legs = ((np.abs(xx - 125) < 16) | (np.abs(xx - 175) < 16)) & (yy > 300)  # bare below the knees, 16 px half-wide
    joins = tps_baseline._leg_joins(body, size, legs)
    assert all(j is not None for j in joins)
    assert all(abs(j[1] - 15.5) <= 2 for j in joins), joins
    plain, _ = tps_baseline._bare_limbs(body, size, 1.0)
    matched, _ = tps_baseline._bare_limbs(body, size, 1.0, joins)
    row = 302
    plain_w = float(plain[1][row, 100:150].sum())
    matched_w = float(matched[1][row, 100:150].sum())
    assert abs(matched_w - 31) <= 3 and abs(plain_w - 31) > 3, (plain_w, matched_w)


def test_made_up_legs_meet_bare_legs_off_the_bones_without_a_step():
    """The pose's knees a little off the middle of the legs the photo shows below the old hem (here 7 px to one side
    of 16 px half-wide legs): the made-up legs end on the bare legs' middle where they meet them (before: on the
    bones, a step of 7 px on each side of each leg), and start on the bones at the hips."""
    size = (400, 300)
    body = _standing_legs((125.0, 175.0))
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    legs = ((np.abs(xx - 118) < 16) | (np.abs(xx - 182) < 16)) & (yy > 300)  # bare below the knees, off the bones
    joins = tps_baseline._leg_joins(body, size, legs)
    assert all(j is not None for j in joins)
    cover, _ = tps_baseline._bare_limbs(body, size, 1.0, joins)
    for row, centres in ((302, (118, 182)), (205, (125, 175))):
        for centre, columns in zip(centres, (slice(60, 150), slice(150, 240))):
            weights = cover[1][row, columns]
            middle = float((weights * np.arange(columns.start, columns.stop)).sum() / weights.sum())
            assert abs(middle - centre) <= 1.5, (row, middle, centre)


def test_made_up_legs_together_are_each_as_wide_as_its_own_bare_leg():
    """Bare legs below the old hem close together (16 px half-wide, 2 px apart, the bones 34 px apart): each made-up
    leg is as wide as its own bare leg where they meet, on its middle (before: the other knee, within reach of the
    bones, was counted too: half-widths of 19 px, their middles 4-5 px towards the other leg, and the made-up thighs
    were one block out to the old garment's outline)."""
    size = (400, 300)
    body = _standing_legs((133.0, 167.0))
    yy, xx = np.mgrid[0:size[0], 0:size[1]]
    legs = ((np.abs(xx - 133) < 16) | (np.abs(xx - 167) < 16)) & (yy > 300)
    joins = tps_baseline._leg_joins(body, size, legs)
    assert all(j is not None for j in joins)
    assert all(abs(j[1] - 15.5) <= 2 and abs(j[2]) <= 1.5 for j in joins), joins


def test_dilation_is_the_same_with_opencv_and_scipy(monkeypatch):
    """tps-baseline dilates with OpenCV where MediaPipe brought it (faster) and with SciPy elsewhere: the same
    masks either way (square structuring element, nothing beyond the border)."""
    pytest.importorskip("cv2", reason="OpenCV not installed: only the SciPy path runs here")
    rng = np.random.default_rng(3)
    masks = [rng.random((97, 61)) > p for p in (0.5, 0.9, 0.99)]
    masks.append(np.zeros((20, 30), bool))
    masks[-1][0, 0] = masks[-1][19, 29] = True  # (corners: the border)
    for mask in masks:
        for radius in (1, 2, 5, 12):
            fast = tps_baseline._dilate(mask, radius)
            monkeypatch.setattr(tps_baseline, "_cv2", None)
            slow = tps_baseline._dilate(mask, radius)
            monkeypatch.undo()
            assert fast.dtype == slow.dtype == bool
            assert (fast == slow).all(), radius
            assert fast.sum() >= mask.sum()


def test_blur_is_the_same_with_opencv_and_scipy(monkeypatch):
    """The light, the shading and the outlines are blurred with OpenCV where it is installed (faster) and with SciPy
    elsewhere (truncated at 3 sigma both ways, edges repeated): the same values either way, to float rounding."""
    cv2 = pytest.importorskip("cv2", reason="OpenCV not installed: only the SciPy path runs here")
    rng = np.random.default_rng(6)
    calls = []
    _opencv_spy(monkeypatch, cv2, calls, "GaussianBlur", "BORDER_REPLICATE")
    for shape in ((64, 47), (9, 200), (300, 5)):
        image = rng.random(shape).astype(np.float32)
        for sigma in (0.6, 1.0, 2.5, 7.3, 30.0):
            fast = tps_baseline._blur(image, sigma)
            assert calls, "the OpenCV path was not taken"
            calls.clear()
            slow = ndimage.gaussian_filter(image, sigma, mode="nearest", truncate=3.0)
            assert fast.shape == slow.shape == image.shape
            assert float(np.abs(fast - slow).max()) < 1e-5, (shape, sigma)


def test_distances_are_the_same_with_opencv_and_scipy():
    """Distances to the nearest False pixel come from OpenCV where it is installed (faster) and from SciPy elsewhere:
    the same values either way, so that thresholds on them (within so many pixels) pick the same pixels."""
    pytest.importorskip("cv2", reason="OpenCV not installed: only the SciPy path runs here")
    rng = np.random.default_rng(8)
    for shape in ((97, 61), (512, 384), (5, 300)):
        for share in (0.5, 0.1, 0.01, 0.001):
            mask = rng.random(shape) > share
            mask[0, 0] = False
            fast = tps_baseline._edt(mask)
            slow = ndimage.distance_transform_edt(mask)
            assert fast.shape == mask.shape
            assert float(np.abs(fast - slow).max()) < 1e-4, (shape, share)
            for radius in (1, 2, 3, 5, 8):
                assert ((fast <= radius) == (slow <= radius)).all(), (shape, share, radius)
    whole = np.ones((20, 30), bool)  # (no False pixel: SciPy's answer, whatever it is)
    assert np.allclose(tps_baseline._edt(whole), ndimage.distance_transform_edt(whole))


def test_enlarging_is_the_same_with_opencv_and_pil(monkeypatch):
    """Coarse fields (the fill, the local means, the limbs' coordinates) are enlarged with OpenCV where it is installed
    (about four times faster) and with PIL elsewhere: the same bilinear values either way, to float rounding, for a
    plane and for colour channels; shrinking stays PIL's (antialiased) either way."""
    cv2 = pytest.importorskip("cv2", reason="OpenCV not installed: only the PIL path runs here")
    rng = np.random.default_rng(9)
    calls = []
    _opencv_spy(monkeypatch, cv2, calls, "resize", "INTER_LINEAR")

    def pil(plane: np.ndarray, size) -> np.ndarray:
        return np.asarray(Image.fromarray(plane, mode="F").resize(size[::-1], Image.BILINEAR), np.float32)

    for small, large in (((128, 96), (512, 384)), ((3, 2), (17, 13)), ((64, 48), (64, 97))):
        for shape in (small, small + (3,)):
            array = rng.random(shape).astype(np.float32)
            fast = tps_baseline._resize(array, large)
            assert calls, "the OpenCV path was not taken"
            calls.clear()
            planes = [array] if array.ndim == 2 else [array[..., c] for c in range(array.shape[2])]
            slow = np.stack([pil(plane, large) for plane in planes], -1).reshape(large + shape[2:])
            assert fast.shape == slow.shape == large + shape[2:]
            assert float(np.abs(fast - slow).max()) < 1e-5, (shape, large)
    tps_baseline._resize(rng.random((64, 48)).astype(np.float32), (16, 12))
    assert not calls, "shrinking took the OpenCV path"


def _opencv_spy(monkeypatch, cv2, calls: list, function: str, *constants: str) -> None:
    """tps_baseline's OpenCV replaced by one that has only ``function`` (counting its calls in ``calls``) and the
    named ``constants``: a test of an OpenCV path fails if the path is not taken."""
    monkeypatch.setattr(tps_baseline, "_cv2", type("Spy", (), {
        function: staticmethod(lambda *a, **k: calls.append(1) or getattr(cv2, function)(*a, **k)),
        **{name: getattr(cv2, name) for name in constants}}))


def test_fast_blur_is_the_same_with_opencv_and_scipy(monkeypatch):
    """The made-up skin's nearby colours are blurred with OpenCV where it is installed (faster) and with SciPy
    elsewhere: the same values either way, to float rounding, for a plane and for colour channels."""
    pytest.importorskip("cv2", reason="OpenCV not installed: only the SciPy path runs here")
    rng = np.random.default_rng(5)
    for shape in ((64, 47), (64, 47, 3), (9, 200, 3)):
        image = rng.random(shape).astype(np.float32)
        for sigma in (0.8, 2.5, 7.3):
            fast = tps_baseline._blur_fast(image, sigma)
            monkeypatch.setattr(tps_baseline, "_cv2", None)
            slow = tps_baseline._blur_fast(image, sigma)
            monkeypatch.undo()
            assert fast.shape == slow.shape == image.shape
            assert float(np.abs(fast - slow).max()) < 1e-5, (shape, sigma)
            assert float(np.abs(fast - image).max()) > 0.01  # (it did blur)


def test_local_spread_is_the_same_with_opencv_and_scipy(monkeypatch):
    """A print's texture and a sleeve's smoothness are told by the local spread of the luminance, box means taken
    with OpenCV where it is installed (faster) and with SciPy elsewhere (edges mirrored both ways): the same values
    either way, to float rounding."""
    cv2 = pytest.importorskip("cv2", reason="OpenCV not installed: only the SciPy path runs here")
    rng = np.random.default_rng(4)
    calls = []
    spy = type("Spy", (), {"blur": staticmethod(lambda *a, **k: calls.append(1) or cv2.blur(*a, **k)),
                           "BORDER_REFLECT": cv2.BORDER_REFLECT})
    for shape in ((64, 47), (9, 200), (512, 384)):
        image = rng.random(shape).astype(np.float32)
        image[: shape[0] // 2] *= 0.1  # (a smooth half: spreads near 0 as well)
        for size in (3, 5, 9):
            monkeypatch.setattr(tps_baseline, "_cv2", spy)
            fast = tps_baseline._local_spread(image, size)
            assert calls, "the OpenCV path was not taken"
            calls.clear()
            monkeypatch.setattr(tps_baseline, "_cv2", None)
            slow = tps_baseline._local_spread(image, size)
            monkeypatch.undo()
            assert fast.shape == slow.shape == image.shape
            assert float(np.abs(fast - slow).max()) < 1e-3, (shape, size)
            assert float(fast.max()) > 0.1  # (it measured a spread)


def test_shoulder_gaps_are_filled_with_the_fabric_mirrored_about_its_edge():
    """A gap above a known region (a top's shoulders going up to the outline) takes the fabric below mirrored about
    the known region's top edge, from ``inset`` rows inside it: a print's rows go on up in reverse order, where the
    nearest pixels drew its edge row up into streaks. Where the mirror leaves the known region, the nearest pixel."""
    image = np.zeros((40, 30, 3), np.float32)
    image[..., 0] = np.arange(40)[:, None] / 40.0  # (a print: every row its own colour)
    known = np.zeros((40, 30), bool)
    known[20:40] = True
    where = np.zeros((40, 30), bool)
    where[12:20, 5:25] = True
    filled = tps_baseline._mirrored_up(image, known, where, 2, 5)
    ys, _ = np.nonzero(where)
    assert np.allclose(filled[:, 0], (2 * 20 + 2 - ys) / 40.0)  # (row 19 takes row 23, row 12 row 30)
    assert len(np.unique(filled[:, 0])) == 8  # (no streaks: each row its own)
    deep = np.zeros((40, 30), bool)
    deep[0:20, 5:25] = True  # (a gap as tall as the fabric: its top rows' mirror falls outside it)
    top = tps_baseline._mirrored_up(image, known, deep, 2, 5)
    assert np.allclose(top[:20, 0][: 2], 22 / 40.0)  # (the nearest core pixel, two rows inside the edge)


def test_closing_is_the_same_with_opencv_and_scipy(monkeypatch):
    """An old strap is told by a grey closing of the luminance over the skin above the old top, OpenCV's where it is
    installed and SciPy's elsewhere, in the box of those pixels: both equal SciPy's closing of the whole image there,
    and the image is left as it is outside the box."""
    pytest.importorskip("cv2", reason="OpenCV not installed: only the SciPy path runs here")
    rng = np.random.default_rng(5)
    image = rng.random((120, 90)).astype(np.float32)
    where = np.zeros(image.shape, bool)
    where[30:60, 20:70] = True
    expected = ndimage.grey_closing(image, size=(5, 5), mode="nearest")
    for cv2 in (tps_baseline._cv2, None):
        monkeypatch.setattr(tps_baseline, "_cv2", cv2)
        closed = tps_baseline._closing(image, where, 5)
        assert float(np.abs(closed - expected)[where].max()) == 0.0
        assert np.array_equal(closed[:20], image[:20]) and np.array_equal(closed[80:], image[80:])
        assert float((closed - image)[where].min()) >= 0.0 and float((closed - image)[where].max()) > 0.1


@pytest.mark.parametrize("factor", [1, 4])
def test_push_pull_fill_far_from_the_known_pixels_keeps_their_colour(factor):
    """Known pixels in one corner only: the fill far from them is their colour, not darkened. (The coarsest level's
    cells without a known pixel had an estimate of 0, black, which the finer levels blended in: made-up skin 70 px
    from the skin it was filled from came out at a third of its brightness.)"""
    from vton_zoo.models.tps_baseline import _fill, push_pull_fill

    height, width = 512, 384
    image = np.zeros((height, width, 3), np.float32)
    image[:] = (0.9, 0.7, 0.6)
    known = np.zeros((height, width), bool)
    known[20:60, 150:180] = True
    image[~known] = 0.0  # (what is not known must not matter)
    filled = _fill(image, known, factor)
    assert np.abs(filled - np.array([0.9, 0.7, 0.6], np.float32)).max() < 0.02
    tensor = push_pull_fill(torch.from_numpy(image).permute(2, 0, 1), torch.from_numpy(known)[None].float())
    assert (tensor - torch.tensor([0.9, 0.7, 0.6])[:, None, None]).abs().max() < 0.02


def test_a_garments_edge_shades_what_lies_right_below_it():
    """The contact shadow of a new garment's edge on made-up skin: full right under its lower edge, fading to none
    CONTACT_REACH shoulder widths down, half as much right beside it, none above it beyond a pixel or two, none on
    it."""
    garment = np.zeros((100, 60), bool)
    garment[20:50, 20:40] = True
    sw = 200.0  # (reach: 10 pixels; beside: 3)
    shadow = tps_baseline._contact_shadow(garment, sw)
    assert (shadow[garment] == 0).all()
    assert shadow[50, 30] == pytest.approx(1.0)
    assert shadow[55, 30] == pytest.approx((1 - 5 / 10) ** 2)  # (six rows below the last garment row)
    assert shadow[61, 30] == 0.0
    assert shadow[35, 19] == pytest.approx(0.5)
    assert shadow[35, 15] == 0.0 and shadow[10, 30] == 0.0
    assert np.all(np.diff(shadow[50:62, 30]) <= 0)
