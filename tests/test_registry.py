"""Registry-driven tests: every registered model, whatever it is, must pass these."""

from __future__ import annotations

import math

import pytest
import torch

import vton_zoo
from tests._inputs import input_size, random_inputs
from vton_zoo.registry import ModelSpec, register_model

MODELS = vton_zoo.list_models()


def test_core_models_registered():
    for name in ("pf-afn", "dm-vton", "rmgn"):
        assert name in MODELS


def test_unknown_model_lists_available():
    with pytest.raises(ValueError, match=r"Unknown model 'nope'\. Available: .*pf-afn"):
        vton_zoo.create_model("nope")


def test_duplicate_registration_raises():
    spec = vton_zoo.get_spec("pf-afn")
    with pytest.raises(ValueError, match="already registered"):
        register_model(spec)(lambda: None)


def test_categories_are_checked_at_registration():
    import dataclasses

    spec = dataclasses.replace(vton_zoo.get_spec("pf-afn"), name="pf-afn-shoes", categories=("shoes",))
    with pytest.raises(ValueError, match="categories must be a non-empty subset"):
        register_model(spec)(lambda: None)
    assert "pf-afn-shoes" not in vton_zoo.list_models()
    # VITON-trained weights know upper-body garments only; the weight-free baseline and DressCode take all three
    assert vton_zoo.get_spec("pf-afn").categories == ("upper",)
    assert set(vton_zoo.get_spec("tps-baseline").categories) == {"upper", "lower", "dress"}
    assert set(vton_zoo.get_spec("gp-vton-dresscode").categories) == {"upper", "lower", "dress"}


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    torch.manual_seed(0)
    return vton_zoo.create_model(request.param)


def test_spec_complete(model):
    spec: ModelSpec = model.spec
    for field in ("title", "paper", "paper_url", "code_url", "commit", "license", "description"):
        assert getattr(spec, field), f"{spec.name}: empty {field}"
    assert spec.paper_url.startswith("https://") and spec.code_url.startswith("https://")
    assert spec.inputs and spec.outputs
    for name, tspec in {**spec.inputs, **spec.outputs}.items():
        assert tspec.description, f"{spec.name}: {name} has no description"
        lo, hi = tspec.value_range
        assert lo < hi
    height, width = spec.resolution
    if not spec.fixed_resolution:
        assert height % spec.size_multiple == 0 and width % spec.size_multiple == 0
    if spec.weights.needs_weights:
        assert spec.official_parts, f"{spec.name}: no official parts"
        assert spec.weights.official_files or spec.weights.notes, f"{spec.name}: say where weights come from"
    assert model.training is False  # create_model returns eval mode


def test_parameter_counts_equal_official(model):
    spec = model.spec
    assert set(spec.official_param_counts) == set(spec.official_parts)
    for part in spec.official_parts:
        module = getattr(model, part)
        assert isinstance(module, torch.nn.Module)
        count = sum(p.numel() for p in module.parameters())
        assert count == spec.official_param_counts[part], f"{spec.name}.{part}: {count:,} parameters"


def test_forward_small_and_backward(model):
    spec = model.spec
    inputs = random_inputs(spec, batch=2)
    height, width = input_size(spec)
    model.train(False)
    with torch.no_grad():
        outputs = model(inputs)
    assert set(outputs) == set(spec.outputs), f"{spec.name}: outputs {sorted(outputs)} vs spec {sorted(spec.outputs)}"
    for name, value in outputs.items():
        assert torch.isfinite(value).all(), f"{spec.name}: {name} not finite"
        assert value.shape[0] in (2, 6), name
        tspec = spec.outputs[name]
        if tspec.channels is not None and value.dim() == 4:
            assert value.shape[1] == tspec.channels, name
            if value.shape[0] == 2:
                assert value.shape[-2:] == (height, width), name
        lo, hi = tspec.value_range
        if math.isfinite(lo):
            assert value.min() >= lo - 1e-5 and value.max() <= hi + 1e-5, f"{spec.name}: {name} outside {lo, hi}"
    # backward: gradients reach the parameters (training goes through the same forward)
    if not spec.weights.needs_weights:
        pytest.skip(f"{spec.name} needs no learned weights: it has no parameters for gradients to reach")
    inputs = random_inputs(spec, batch=1, seed=1)
    outputs = model(inputs)
    loss = sum(v.float().mean() for v in outputs.values() if v.requires_grad)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    model.zero_grad(set_to_none=True)


def test_save_reload_identical(model, tmp_path):
    spec = model.spec
    vton_zoo.save_safetensors(model, tmp_path)
    reloaded = vton_zoo.create_model(spec.name, weights=tmp_path)
    for key, value in model.state_dict().items():
        assert torch.equal(value, reloaded.state_dict()[key]), key
    inputs = random_inputs(spec, batch=1, seed=2)
    with torch.no_grad():
        a, b = model(inputs), reloaded(inputs)
    for name in a:
        assert torch.equal(a[name], b[name]), f"{spec.name}: {name} differs after reload"


def test_bad_inputs_raise_clear_errors(model):
    spec = model.spec
    good = random_inputs(spec, batch=1)
    first = next(iter(spec.inputs))
    with pytest.raises(ValueError, match="missing"):
        model({k: v for k, v in good.items() if k != first})
    with pytest.raises(ValueError, match="unknown"):
        model({**good, "bogus": good[first]})
    with pytest.raises(ValueError, match="must have shape"):
        model({**good, first: good[first][:, :1].repeat(1, spec.inputs[first].channels + 1, 1, 1)})
    with pytest.raises(ValueError, match="floating-point"):
        model({**good, first: good[first].to(torch.int64)})
    with pytest.raises(ValueError, match="dict of tensors"):
        model(list(good.values()))
    height, width = input_size(spec)
    odd = {k: v[..., : height - 1, :] for k, v in good.items()}
    with pytest.raises(ValueError):
        model(odd)
    half = {k: (v[..., : height // 2, :] if k == first else v) for k, v in good.items()}
    with pytest.raises(ValueError, match="share batch size"):
        model(half)


def test_create_model_device_dtype():
    model = vton_zoo.create_model("pf-afn", dtype=torch.float64)
    assert next(model.parameters()).dtype == torch.float64
    with pytest.raises(ValueError, match="not a folder"):
        vton_zoo.create_model("pf-afn", weights="/nonexistent/weights")
