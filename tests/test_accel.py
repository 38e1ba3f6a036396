"""InferenceRunner: the speed-up options keep what the model computes (fp32) or stay close to it (bf16)."""

from __future__ import annotations

import pytest
import torch

import vton_zoo
from tests._inputs import random_inputs
from vton_zoo.accel import InferenceRunner


@pytest.fixture(scope="module")
def dm_vton():
    torch.manual_seed(0)
    model = vton_zoo.create_model("dm-vton")
    inputs = random_inputs(model.spec, batch=1, size=(64, 64))
    with torch.inference_mode():
        eager = model(inputs)
    return model, inputs, eager


def _rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def test_channels_last_fp32_matches_eager(dm_vton):
    model, inputs, eager = dm_vton
    runner = InferenceRunner(vton_zoo.create_model("dm-vton").requires_grad_(False), channels_last=True)
    runner.model.load_state_dict(model.state_dict())
    out = runner(inputs)
    assert set(out) == set(eager)
    for name, value in eager.items():
        assert out[name].dtype == value.dtype
        assert _rel_l2(out[name], value) < 1e-5, name


def test_generator_only_bf16_keeps_the_warp_exact(dm_vton):
    model, inputs, eager = dm_vton
    fresh = vton_zoo.create_model("dm-vton")
    fresh.load_state_dict(model.state_dict())
    runner = InferenceRunner(fresh, autocast_dtype=torch.bfloat16, low_precision_parts=("gen",))
    out = runner(inputs)
    # The warp ran in fp32: its outputs are bit-identical to eager; only the generator's are bf16-rounded.
    assert torch.equal(out["flow"], eager["flow"]) and torch.equal(out["warped_garment"], eager["warped_garment"])
    assert out["tryon"].dtype == torch.float32
    assert not torch.equal(out["tryon"], eager["tryon"])
    assert _rel_l2(out["tryon"], eager["tryon"]) < 0.05
    # The class and other instances are untouched.
    assert "forward" not in vars(model.gen)


def test_whole_model_bf16_runs_in_low_precision(dm_vton):
    model, inputs, eager = dm_vton
    fresh = vton_zoo.create_model("dm-vton")
    fresh.load_state_dict(model.state_dict())
    out = InferenceRunner(fresh, autocast_dtype=torch.bfloat16)(inputs)
    assert not torch.equal(out["flow"], eager["flow"])


def test_unknown_part_is_rejected():
    with pytest.raises(ValueError, match="not in dm-vton's parts"):
        InferenceRunner(vton_zoo.create_model("dm-vton"), autocast_dtype=torch.bfloat16,
                        low_precision_parts=("generator",))


def test_sampling_grids_stay_fp32_under_low_precision():
    """bf16 has 8 mantissa bits: identity-grid coordinates of a 384-px image would move in 2-px steps."""
    from vton_zoo.ops.warp import apply_offset, grid_sample

    offset = torch.randn(1, 2, 512, 384) * 3
    grid32 = apply_offset(offset.bfloat16().float())
    grid16 = apply_offset(offset.bfloat16())
    assert grid16.dtype == torch.float32 and torch.equal(grid16, grid32)
    image = torch.randn(1, 3, 512, 384)
    sampled = grid_sample(image.bfloat16(), grid16.bfloat16(), mode="bilinear", padding_mode="border",
                          align_corners=True)
    assert sampled.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        warped = grid_sample(image, grid32, mode="bilinear", padding_mode="border", align_corners=True)
    exact = torch.nn.functional.grid_sample(image, grid32, mode="bilinear", padding_mode="border", align_corners=True)
    assert torch.equal(warped, exact)


def test_bf16_flow_error_stays_small(dm_vton):
    """With the grids in fp32, whole-model bf16 moves the flow by a fraction of a pixel, not whole regions."""
    from vton_zoo.ops.warp import flow_to_pixels

    model, inputs, eager = dm_vton
    fresh = vton_zoo.create_model("dm-vton")
    fresh.load_state_dict(model.state_dict())
    out = InferenceRunner(fresh, autocast_dtype=torch.bfloat16)(inputs)
    error_px = (flow_to_pixels(out["flow"].float()) - flow_to_pixels(eager["flow"])).abs()
    assert float(error_px.median()) < 0.02  # 0.005 px here; 0.085 px with bf16 grids
