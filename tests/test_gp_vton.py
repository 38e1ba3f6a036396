"""GP-VTON specifics: generator-only parity, the 1024x768 path, the stray ``aflow_net.weight`` key, the DressCode
variant's layout."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import vton_zoo
from tests._inputs import random_inputs
from tests._parity import compare, fixture_dirs, load_fixture, recipe_tensor

GP_FIXTURES = [p for p in fixture_dirs() if load_fixture(p).model == "gp-vton"]

# README "Reproducibility observed and suggested tolerances", rows "gp-vton ... generator-only" (used when a
# manifest does not carry them under suggested_tolerance.per_output[name].generator_only).
GENERATOR_ONLY_TOLERANCE = {
    "gen_out": {"max_abs": 2e-05, "rel_l2": 5e-06},
    "m_composite": {"max_abs": 5e-06, "rel_l2": 2e-06},
    "p_tryon": {"max_abs": 2e-05, "rel_l2": 5e-06},
}


def _recipe_part(fixture, part: str) -> dict[str, torch.Tensor]:
    """One part's official state dict from the weights recipe, checked against the manifest checksums."""
    salt = fixture.manifest["salt"]
    state = {}
    for key, shape, dtype, total, total_sq in fixture.manifest["state_dicts"][part]:
        t = recipe_tensor(key, shape, dtype, salt)
        assert math.isclose(float(t.double().sum()), total, rel_tol=1e-9, abs_tol=1e-12), key
        assert math.isclose(float((t.double() ** 2).sum()), total_sq, rel_tol=1e-9, abs_tol=1e-12), key
        state[key] = t
    return state


@pytest.mark.parametrize("fixture_path", GP_FIXTURES, ids=[p.name for p in GP_FIXTURES])
def test_generator_only_parity(fixture_path):
    """The generator on a gen_in rebuilt from the STORED warped_cloth / warped_label (no fragile pixel can leak in)."""
    fixture = load_fixture(fixture_path)
    model = vton_zoo.create_model("gp-vton")
    model.gen.load_state_dict(_recipe_part(fixture, "gen"), strict=True)
    inputs = fixture.canonical_inputs()
    stored = fixture.outputs()
    with torch.no_grad():
        out = model.generate(inputs["person"], inputs["preserve_mask"], torch.from_numpy(stored["warped_cloth"]),
                             torch.from_numpy(stored["warped_label"]), inputs["arms_color"], inputs["warp_condition"])
    names = fixture.manifest["canonical_names"]["outputs"]
    tolerances = fixture.manifest["suggested_tolerance"]["per_output"]
    report = {}
    for official, default in GENERATOR_ONLY_TOLERANCE.items():
        tol = tolerances.get(official, {}).get("generator_only", default)
        tol = {"max_abs": tol["max_abs"], "rel_l2": tol["rel_l2"]}
        ours = out[names[official]].numpy()
        if official in stored:
            theirs = stored[official]
        else:  # stored every 8th row and column
            theirs, ours = stored[official + "__sub8"], ours[..., ::8, ::8]
        report[official] = compare(official, ours, theirs, tol)
    assert set(report) == set(GENERATOR_ONLY_TOLERANCE)


def _small_inputs(spec, batch: int, size: tuple[int, int], seed: int = 0) -> dict[str, torch.Tensor]:
    inputs = random_inputs(spec, batch=batch, size=size, seed=seed)
    if "garment_type" in inputs:  # a realistic constant map: 1/3 upper, 2/3 lower, 1 dresses
        kinds = torch.tensor([1.0, 2.0, 3.0])[torch.arange(batch) % 3] / 3
        inputs["garment_type"] = kinds.view(-1, 1, 1, 1).expand_as(inputs["garment_type"]).contiguous()
    return inputs


def test_half_size_warp_matches_the_512_warp():
    """warp_downsample=2 (official --resolution 1024) runs the same warp on 0.5x inputs, then upsamples its results.

    On inputs made of 2x2 constant blocks, the 0.5x downsampling (nearest or bilinear) is exact, so the half-size
    warp must see exactly the small inputs.
    """
    torch.manual_seed(0)
    full = vton_zoo.create_model("gp-vton")
    half = vton_zoo.create_model("gp-vton", warp_downsample=2)
    half.load_state_dict(full.state_dict())
    small = _small_inputs(full.spec, 1, (64, 64))
    big = {k: F.interpolate(v, scale_factor=2, mode="nearest") for k, v in small.items()}
    with torch.no_grad():
        a = full.warp_stage(small)
        b = half.warp_stage(big)
    torch.testing.assert_close(b["flow"], F.interpolate(a["flow"], scale_factor=2, mode="bilinear"), rtol=0, atol=1e-6)
    torch.testing.assert_close(b["parsing_logits"], F.interpolate(a["parsing_logits"], scale_factor=2),
                               rtol=0, atol=1e-6)
    assert torch.equal(b["parsing"], F.interpolate(a["parsing"], scale_factor=2))
    with pytest.raises(ValueError, match="divisible by 64"):
        half({k: v[..., :96, :] for k, v in big.items()})
    with pytest.raises(ValueError, match="warp_downsample"):
        vton_zoo.create_model("gp-vton", warp_downsample=4)


@pytest.mark.slow
def test_runs_at_1024x768():
    torch.manual_seed(0)
    model = vton_zoo.create_model("gp-vton", warp_downsample=2)
    inputs = _small_inputs(model.spec, 1, (1024, 768))
    with torch.no_grad():
        out = model(inputs)
    expected = {
        "flow": (3, 2, 1024, 768), "parsing_logits": (1, 7, 1024, 768), "parsing": (1, 1, 1024, 768),
        "warped_garment": (1, 3, 1024, 768), "warped_parsing": (1, 1, 1024, 768), "generator_out": (1, 4, 1024, 768),
        "composite_mask": (1, 1, 1024, 768), "tryon": (1, 3, 1024, 768),
    }
    assert {k: tuple(v.shape) for k, v in out.items()} == expected
    assert all(torch.isfinite(v).all() for v in out.values())


def test_stray_aflow_net_weight_is_ignored():
    """Trained upstream warp files hold ``aflow_net.weight`` (4, 1, 3, 3); it loads, other extras still fail."""
    torch.manual_seed(0)
    source = vton_zoo.create_model("gp-vton")
    warp_state = dict(source.warp.state_dict())
    assert "aflow_net.weight" not in warp_state
    assert not any("second_order" in k for k in warp_state)  # a non-persistent buffer
    warp_state["aflow_net.weight"] = torch.randn(4, 1, 3, 3)
    model = vton_zoo.load_official("gp-vton", warp_state, source.gen.state_dict())
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    filters = model.warp.aflow_net.second_order
    assert filters.shape == (4, 1, 3, 3) and torch.equal(filters.sum((1, 2, 3)), torch.zeros(4))
    with pytest.raises(ValueError, match="unexpected"):
        vton_zoo.load_official("gp-vton", {**warp_state, "aflow_net.bogus": torch.zeros(1)}, source.gen.state_dict())


def test_training_outputs():
    """The official warp's other 10 lists (used by the training losses) come out with the official shapes."""
    torch.manual_seed(0)
    model = vton_zoo.create_model("gp-vton")
    inputs = _small_inputs(model.spec, 2, (64, 64))
    garment = inputs["garment"] * inputs["garment_mask"]
    part_masks = torch.cat([inputs["left_sleeve_mask"], inputs["torso_mask"], inputs["right_sleeve_mask"]], 0)
    with torch.no_grad():
        out = model.warp(inputs["warp_condition"], garment, inputs["garment_mask"], inputs["garment_parts_label"],
                         garment.repeat(3, 1, 1, 1) * part_masks, part_masks, inputs["preserve_mask"],
                         training_outputs=True)
        plain = model.warp(inputs["warp_condition"], garment, inputs["garment_mask"], inputs["garment_parts_label"],
                           garment.repeat(3, 1, 1, 1) * part_masks, part_masks, inputs["preserve_mask"])
    assert torch.equal(out["flow"], plain["flow"]) and torch.equal(out["seg_list"][-1], plain["seg_list"][-1])
    assert len(out["delta_list"]) == 10
    sizes = [4, 8, 16, 32, 64]
    for level, size in enumerate(sizes):
        assert out["last_flow_all"][level].shape == (6, 2, size, size)
        assert out["x_all"][level].shape == (6, 3, size, size)
        assert out["x_edge_all"][level].shape == (6, 1, size, size)
        assert out["x_full_all"][level].shape == (2, 3, size, size)
        assert out["x_edge_full_all"][level].shape == (2, 1, size, size)
        assert out["attention_all"][level].shape == (2, 3, size, size)
        assert out["delta_x_all"][level].shape == (6, 4, size - 2, size - 2)
        assert out["seg_list"][level].shape == (2, 7, size, size)


def test_dresscode_layout():
    """``AFWM_Dressescode_lrarms(51)``: 81,406,877 parameters in 1200 keys (architectures.md §6.3)."""
    model = vton_zoo.create_model("gp-vton-dresscode")
    state = model.warp.state_dict()
    assert len(state) == 1200
    assert sum(p.numel() for p in model.warp.parameters()) == 81_406_877
    assert sum(p.numel() for p in model.gen.parameters()) == 43_916_672
    assert tuple(state["aflow_net.netLeftMain.2.7.mlp_shared.0.weight"].shape) == (128, 1, 3, 3)
    assert tuple(state["aflow_net.netSeg.4.9.weight"].shape) == (10, 32, 3, 3)
    assert tuple(state["image_features.encoders.0.1.norm_0.mlp_gamma.weight"].shape) == (64, 128, 3, 3)
    assert tuple(state["cond_features.encoders.0.0.block.2.weight"].shape) == (64, 51, 3, 3)
    assert tuple(state["aflow_net.netAttentionRefine.0.6.weight"].shape) == (3, 32, 3, 3)
    assert list(state)[0] == "image_features.encoders.0.0.block.2.weight"
    assert list(state)[-1] == "aflow_net.netSeg.4.9.bias"


def test_dresscode_selects_parts_by_garment_type():
    """Upper and dress pairs keep parsing classes 1-3 as garment parts, lower-body pairs 4-6; arms/neck are 7-9."""
    torch.manual_seed(0)
    model = vton_zoo.create_model("gp-vton-dresscode")
    inputs = _small_inputs(model.spec, 3, (64, 64))  # upper, lower, dresses
    assert model._first_part_class(inputs).flatten().tolist() == [1.0, 4.0, 1.0]
    with torch.no_grad():
        out = model(inputs)
    assert out["parsing_logits"].shape == (3, 10, 64, 64)
    parsing, labels = out["parsing"], out["warped_parsing"]
    for b, garment_classes in enumerate(((1, 2, 3), (4, 5, 6), (1, 2, 3))):
        allowed = set(garment_classes) | {0, 7, 8, 9}
        assert set(labels[b].unique().tolist()) <= {float(c) for c in allowed}
        body = parsing[b] >= 7
        assert torch.equal(labels[b][body], parsing[b][body])
