"""vton_zoo.data: layout readers on the shared VITON / VITON-HD samples and on synthetic layouts, and the
per-method datasets' tensors against the models' input specs."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from vton_zoo import create_model, get_spec
from vton_zoo.data import (
    ATR,
    CIHP,
    LIP,
    VITON14,
    DAFlowDataset,
    DressCodeReader,
    FlowTryOnDataset,
    GPVTONDataset,
    VitonCleanReader,
    VitonHDReader,
    VitonReader,
    build_dataset,
    make_synthetic,
    open_dataset,
)
from vton_zoo.data.readers import own_garment_name, read_openpose
from vton_zoo.preprocess import labels
from vton_zoo.preprocess.model_inputs import build_model_inputs

SIZE = (256, 192)
LAYOUT_METHODS = {
    "viton": ("cp-vton", "daflow", "pf-afn"),
    "viton-clean": ("pf-afn", "dm-vton", "rmgn", "daflow"),
    "viton-hd": ("gp-vton", "pf-afn", "daflow", "cp-vton"),
    "dresscode": ("gp-vton-dresscode", "dm-vton"),
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """One tiny dataset per layout (4 people per phase at 256x192)."""
    base = tmp_path_factory.mktemp("synthetic")
    return {layout: make_synthetic(layout, base / layout, n=4, size=SIZE, seed=1) for layout in LAYOUT_METHODS}


def _check_against_spec(sample: dict, method: str, size: tuple[int, int]) -> None:
    spec = get_spec(method)
    for name, tensor_spec in spec.inputs.items():
        assert name in sample, f"{method}: dataset lacks input {name!r}"
        tensor = sample[name]
        assert tensor.dtype == torch.float32
        assert tensor.shape == (tensor_spec.channels, *size), (method, name, tuple(tensor.shape))
        low, high = tensor_spec.value_range
        assert torch.isfinite(tensor).all()
        assert tensor.min() >= low - 1e-6 and tensor.max() <= high + 1e-6, (method, name, tensor.min(), tensor.max())


# --- the shared real samples ----------------------------------------------------------------------------------------


def test_viton_clean_reader_reads_pfafn_demo_samples(shared_dir):
    """PF-AFN's test folder (test_img / test_clothes / test_edge + demo.txt) through the VITON-Clean reader."""
    root = shared_dir / "samples" / "viton"
    reader = VitonCleanReader(root, "test", pairs_file="demo.txt")
    assert len(reader) == 6 and not reader.maps
    first_line = (root / "demo.txt").read_text().split()
    assert (reader.pairs[0].person, reader.pairs[0].garment) == (first_line[0], first_line[1])
    for pair in reader.pairs:
        example = reader.load(pair)
        assert example.person.shape == example.garment.shape == (256, 192, 3)
        assert example.garment_mask.dtype == bool and example.garment_mask.shape == (256, 192)
        fraction = example.garment_mask.mean()
        assert 0.1 < fraction < 0.7, (pair, fraction)
        # Garments are product shots on white: bright outside the mask, not inside.
        outside = example.garment[~example.garment_mask].mean()
        assert outside > 200, (pair, outside)
        assert example.parse is None and example.keypoints is None

    # The student inputs equal what the zoo's inference preprocessing makes of the same files.
    dataset = FlowTryOnDataset(reader, size=(256, 192))
    sample = dataset[0]
    _check_against_spec(sample, "pf-afn", (256, 192))
    assert "teacher_condition" not in sample
    example = reader[0]
    expected = build_model_inputs("pf-afn", person=example.person, garment=example.garment,
                                  garment_mask=example.garment_mask)
    for name in ("person", "garment", "garment_mask"):
        torch.testing.assert_close(sample[name], expected[name][0])


def test_viton_hd_reader_reads_samples(shared_dir):
    root = shared_dir / "samples" / "viton_hd"
    reader = VitonHDReader(root, "test")
    assert [(p.person, p.garment) for p in reader.pairs] == [("00000_00.jpg", "00205_00.jpg"),
                                                            ("00017_00.jpg", "00017_00.jpg")]
    assert reader.has_densepose and reader.has_agnostic
    for pair in reader.pairs:
        example = reader.load(pair)
        assert example.person.shape == (1024, 768, 3) and example.garment.shape == (1024, 768, 3)
        assert example.scheme is CIHP and example.parse.shape == (1024, 768)
        assert set(np.unique(example.parse)) <= {0, 2, 5, 9, 10, 13, 14, 15}
        assert example.keypoints.shape == (25, 3)
        # BODY_25 in pixels: CIHP's "left arm" (14) lies on the person's left, next to LShoulder.
        left_x = np.argwhere(example.parse == 14)[:, 1].mean()
        right_x = np.argwhere(example.parse == 15)[:, 1].mean()
        l_shoulder, r_shoulder = example.keypoints[5, 0], example.keypoints[2, 0]
        assert abs(left_x - l_shoulder) < abs(left_x - r_shoulder)
        assert abs(right_x - r_shoulder) < abs(right_x - l_shoulder)
        # DensePose part index from the blue channel: 0..24, covering most of the parsed person.
        assert example.densepose.max() <= 24
        person, body = example.parse > 0, example.densepose > 0
        assert (person & body).sum() / body.sum() > 0.9
        # The agnostic parse (192x256 in these files) has the upper clothes and arms removed.
        assert example.parse_agnostic.shape == (256, 192)
        assert not np.isin(example.parse_agnostic, (5, 6, 7)).any()
        assert 0.1 < example.garment_mask.mean() < 0.8
    # The coarse parse keeps the person's sides.
    coarse = reader[0].coarse_parse()
    assert (coarse == labels.LEFT_ARM).sum() == (reader[0].parse == 14).sum()
    assert (coarse == labels.NECK).sum() == (reader[0].parse == 10).sum()


def test_viton_hd_samples_give_gpvton_and_teacher_tensors(shared_dir):
    reader = VitonHDReader(shared_dir / "samples" / "viton_hd", "test")
    gp = GPVTONDataset(reader, size=(512, 384))
    sample = gp[1]
    _check_against_spec(sample, "gp-vton", (512, 384))
    onehot = sample["warp_condition"][:25]
    torch.testing.assert_close(onehot.sum(0), torch.full((512, 384), -23.0))  # one +1 and 24 -1 per pixel
    # The person's garment splits into sleeves on the DensePose arms and a torso; the parts partition it.
    parts = sample["person_left_mask"] + sample["person_middle_mask"] + sample["person_right_mask"]
    torch.testing.assert_close(parts, sample["person_garment_mask"])
    assert sample["person_middle_mask"].sum() > sample["person_left_mask"].sum()
    # Garment parts (our stand-in for GP-VTON's garment parsing) partition the garment mask.
    garment_parts = sample["left_sleeve_mask"] + sample["torso_mask"] + sample["right_sleeve_mask"]
    torch.testing.assert_close(garment_parts, sample["garment_mask"])
    # The preserve mask and the garment never overlap; the segmentation target uses the 7 classes.
    assert (sample["preserve_mask"] * sample["person_garment_mask"]).sum() == 0
    assert set(torch.unique(sample["seg_target"]).tolist()) <= set(range(7))
    torch.testing.assert_close(sample["seg_onehot"].sum(0), torch.ones(512, 384))

    teacher = FlowTryOnDataset(reader, size=(256, 192))[0]
    condition = teacher["teacher_condition"]
    assert condition.shape == (45, 256, 192)
    example = reader[0]
    head = np.asarray(Image.fromarray(np.isin(example.parse, (2, 13)).astype(np.uint8)).resize((192, 256),
                                                                                             Image.NEAREST))
    torch.testing.assert_close(condition[0], torch.from_numpy(head.astype(np.float32)))
    assert condition[1].sum() > 0  # trousers: "other clothes"
    torch.testing.assert_close(condition[2:27].sum(0), torch.ones(256, 192))


def test_daflow_dataset_on_viton_hd_samples(shared_dir):
    reader = VitonHDReader(shared_dir / "samples" / "viton_hd", "test")
    sample = DAFlowDataset(reader)[0]
    _check_against_spec(sample, "daflow", (256, 192))
    agnostic, person = sample["person_agnostic"], sample["person"]
    upper = np.asarray(Image.fromarray((reader[0].parse == 5).astype(np.uint8)).resize((192, 256), Image.NEAREST))
    upper = torch.from_numpy(upper.astype(bool))
    assert (agnostic[:, upper] == -1).float().mean() > 0.95  # the upper garment is painted black
    assert (person[:, upper] == -1).float().mean() < 0.05


# --- validation -----------------------------------------------------------------------------------------------------


def test_missing_folder_is_named_with_the_expected_layout(synthetic, tmp_path):
    root = tmp_path / "hd"
    shutil.copytree(synthetic["viton-hd"], root)
    shutil.rmtree(root / "train" / "openpose_json")
    with pytest.raises(ValueError, match=r"missing folder .*openpose_json") as info:
        VitonHDReader(root, "train")
    assert "Expected layout" in str(info.value) and "image-parse-v3" in str(info.value)

    with pytest.raises(ValueError, match="is not a folder"):
        VitonReader(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"missing folder .*upper_body"):
        DressCodeReader(tmp_path, "train", categories=["upper_body"])
    with pytest.raises(ValueError, match="phase must be"):
        VitonReader(synthetic["viton"], "val")


def test_missing_file_and_bad_files_are_named(synthetic, tmp_path):
    root = tmp_path / "viton"
    shutil.copytree(synthetic["viton"], root)
    (root / "train" / "cloth-mask" / "000002_1.jpg").unlink()
    with pytest.raises(ValueError, match=r"missing file .*cloth-mask.*000002_1\.jpg"):
        VitonReader(root, "train")

    root = tmp_path / "clean"
    shutil.copytree(synthetic["viton-clean"], root)
    (root / "train_pairs.txt").unlink()
    assert len(VitonCleanReader(root, "train")) == 4  # PF-AFN: sorted listings paired index by index
    (root / "train_color" / "000003_1.jpg").unlink()
    with pytest.raises(ValueError, match="cannot be paired index by index"):
        VitonCleanReader(root, "train")

    pose = tmp_path / "bad_keypoints.json"
    pose.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_openpose(pose)
    pose.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 10}]}))
    with pytest.raises(ValueError, match="18 or 25 keypoints"):
        read_openpose(pose)
    pose.write_text(json.dumps({"people": []}))
    assert (read_openpose(pose) == 0).all()  # no person detected: 18 missing points, as PF-AFN

    root = tmp_path / "labels"
    shutil.copytree(synthetic["viton-clean"], root)
    label = root / "train_label" / "000000_0.png"
    Image.fromarray(np.full((256, 192), 30, np.uint8)).save(label)
    with pytest.raises(ValueError, match="viton14 scheme"):
        VitonCleanReader(root, "train")[0]


def test_schemes():
    assert own_garment_name("000003_0.jpg") == "000003_1.jpg" and own_garment_name("00017_00.jpg") == "00017_00.jpg"
    for scheme in (LIP, CIHP, VITON14, ATR):
        table = np.arange(scheme.num_labels, dtype=np.uint8)[None]
        coarse = scheme.to_coarse(table)[0]
        assert coarse[0] == labels.BACKGROUND and coarse.max() < labels.NUM_PARSE_LABELS
        assert (coarse[list(scheme.ids("upper_garment"))] == labels.UPPER_GARMENT).all()
        assert (coarse[list(scheme.ids("head"))] != labels.BACKGROUND).all()
        assert coarse[scheme.ids("left_arm")[0]] == labels.LEFT_ARM
    # PF-AFN's official groups on the 14-label parse.
    assert VITON14.ids("head") == (1, 12) and VITON14.ids("upper_garment") == (4, 7)
    assert VITON14.ids("lower_garment", "legs", "feet") == (5, 6, 8, 9, 10)
    assert LIP.ids("head") == (1, 2, 4, 13) and LIP.ids("upper_garment") == (5, 6, 7)  # CP-VTON's
    with pytest.raises(ValueError, match="unknown label group"):
        LIP.ids("torso")


# --- synthetic layouts: every method's tensors --------------------------------------------------------------------


@pytest.mark.parametrize("layout", sorted(LAYOUT_METHODS))
def test_synthetic_layout_datasets_match_model_specs(synthetic, layout):
    reader = open_dataset(layout, synthetic[layout], "train")
    assert len(reader) == (12 if layout == "dresscode" else 4)
    for method in LAYOUT_METHODS[layout]:
        size = SIZE if method != "rmgn" else (512, 384)
        dataset = build_dataset(method, reader, size=size)
        batch = next(iter(DataLoader(dataset, batch_size=2, shuffle=False)))
        assert batch["person_name"] == [reader.pairs[0].person, reader.pairs[1].person]
        _check_against_spec({k: v[1] for k, v in batch.items() if torch.is_tensor(v)}, method, size)
    test_reader = open_dataset(layout, synthetic[layout], "test")
    assert len(test_reader) == len(reader)


def test_synthetic_batches_run_through_models(synthetic):
    reader = open_dataset("viton-clean", synthetic["viton-clean"], "train")
    for method in ("dm-vton", "cp-vton"):
        dataset = build_dataset(method, reader)
        batch = next(iter(DataLoader(dataset, batch_size=2)))
        model = create_model(method).eval()
        with torch.no_grad():
            out = model({name: batch[name] for name in model.spec.inputs})
        assert out["tryon"].shape == (2, 3, *SIZE) and torch.isfinite(out["tryon"]).all()


def test_teacher_condition_follows_the_pfafn_recipe(synthetic):
    reader = VitonCleanReader(synthetic["viton-clean"], "train")
    dataset = FlowTryOnDataset(reader, unpaired_garment=True, seed=3)
    sample = dataset[2]
    example = reader[2]
    parse, densepose = example.parse, example.densepose
    condition = sample["teacher_condition"].numpy()
    np.testing.assert_array_equal(condition[0], np.isin(parse, (1, 12)))
    np.testing.assert_array_equal(condition[1], np.isin(parse, (5, 6, 8, 9, 10)))
    np.testing.assert_array_equal(condition[2:27].argmax(0), densepose)
    # Pose channel k: the 11x11 square (radius 5) around keypoint k, {-1, 1}.
    for k in (1, 4, 13):
        x, y = np.rint(example.keypoints[k, :2]).astype(int)
        channel = condition[27 + k]
        assert channel[y, x] == 1.0 and set(np.unique(channel)) == {-1.0, 1.0}
        assert (channel == 1).sum() <= 11 * 11 + 2 * 11 + 1
    clothes = np.isin(parse, (4, 7))
    np.testing.assert_array_equal(sample["person_garment_mask"][0].numpy(), clothes)
    np.testing.assert_array_equal(sample["dense_preserve_mask"][0].numpy(),
                                  np.isin(densepose, range(15, 23)) & ~clothes)
    assert (sample["person_garment"][:, ~torch.from_numpy(clothes)] == 0).all()
    # The unpaired garment is another person's.
    own = sample["garment"]
    assert not torch.equal(sample["garment_unpaired"], own)
    assert torch.equal(dataset[2]["garment_unpaired"], sample["garment_unpaired"])  # seeded: same draw


def test_unpaired_mode_is_seeded_per_epoch(synthetic):
    reader = open_dataset("viton", synthetic["viton"], "train")
    dataset = build_dataset("cp-vton", reader, mode="unpaired", seed=5)
    paired = build_dataset("cp-vton", reader)
    draws = []
    for epoch in (0, 1, 2):
        dataset.set_epoch(epoch)
        names = [dataset[i]["garment_name"] for i in range(len(dataset))]
        assert all(name != pair.garment for name, pair in zip(names, reader.pairs))
        assert names == [dataset[i]["garment_name"] for i in range(len(dataset))]
        draws.append(names)
    assert draws[0] != draws[1] or draws[1] != draws[2]
    assert [paired[i]["garment_name"] for i in range(4)] == [p.garment for p in reader.pairs]


def test_daflow_flip_flips_every_image(synthetic):
    reader = open_dataset("viton", synthetic["viton"], "train")
    plain = DAFlowDataset(reader, flip=0.0)[1]
    flipped = DAFlowDataset(reader, flip=1.0)[1]
    for name in ("pose_image", "person_agnostic", "garment", "person"):
        torch.testing.assert_close(flipped[name], torch.flip(plain[name], [2]))
    assert DAFlowDataset(reader).flip == 0.5  # the recipe's default in training
    with pytest.raises(ValueError, match="probability"):
        DAFlowDataset(reader, flip=2.0)


def test_gpvton_dynamic_preserve_mask(synthetic):
    reader = VitonHDReader(synthetic["viton-hd"], "train")
    dynamic = GPVTONDataset(reader, size=SIZE, seed=0)
    static = GPVTONDataset(reader, size=SIZE, dynamic_mask=False)
    assert dynamic.ratios is not None and static.ratios is None
    dropped = 0
    for epoch in range(6):
        dynamic.set_epoch(epoch)
        for i in range(len(reader)):
            sample, reference = dynamic[i], static[i]
            torch.testing.assert_close(reference["preserve_mask_loss"], reference["preserve_mask"])
            assert (sample["preserve_mask_loss"] <= sample["preserve_mask"]).all()
            dropped += int(not torch.equal(sample["preserve_mask_loss"], sample["preserve_mask"]))
    assert dropped > 0


def test_dresscode_reader(synthetic):
    reader = DressCodeReader(synthetic["dresscode"], "test", categories=("lower_body",), order="unpaired")
    assert {p.category for p in reader.pairs} == {"lower_body"}
    assert all(p.person[:6] != p.garment[:6] for p in reader.pairs)
    example = reader[0]
    assert "garment_mask" in example.notes  # DressCode has no garment masks: ours stands in
    assert 0.05 < example.garment_mask.mean() < 0.6
    # Keypoints come back from the 384x512 frame into the photo's pixels: the neck lies on the person.
    x, y = np.rint(example.keypoints[1, :2]).astype(int)
    assert example.parse[y, x] > 0
    sample = build_dataset("gp-vton-dresscode", reader, size=SIZE)[0]
    assert torch.allclose(sample["garment_type"], torch.tensor(2 / 3))
    assert set(torch.unique(sample["seg_target"]).tolist()) <= {0, 4, 5, 6}
    assert sample["garment_parts_label"].max() == 1.0  # lower-body parts are 4..6, /6


def test_cpvton_tom_stage_reads_warped_garments(synthetic, tmp_path):
    root = tmp_path / "viton"
    shutil.copytree(synthetic["viton"], root)
    with pytest.raises(ValueError, match="missing folder .*warp-cloth"):
        VitonReader(root, "train", warped=True)
    shutil.copytree(root / "train" / "cloth", root / "train" / "warp-cloth")
    shutil.copytree(root / "train" / "cloth-mask", root / "train" / "warp-mask")
    reader = VitonReader(root, "train", warped=True)
    sample = build_dataset("cp-vton", reader)[0]
    assert sample["warped_garment"].shape == (3, *SIZE)
    torch.testing.assert_close(sample["warped_garment"], sample["garment"])
    # The GMM target: the person's upper clothes on white.
    mask = sample["person_garment_mask"][0].bool()
    assert (sample["person_garment"][:, ~mask] == 1).all()
    torch.testing.assert_close(sample["person_garment"][:, mask], sample["person"][:, mask])


def test_make_synthetic_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown layout"):
        make_synthetic("mpv", tmp_path)
    with pytest.raises(ValueError, match="n must be"):
        make_synthetic("viton", tmp_path, n=1)
    with pytest.raises(ValueError, match="at least"):
        make_synthetic("viton", tmp_path, size=(16, 12))
