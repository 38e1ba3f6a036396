"""training.losses: known values of every loss term, the VGG weights contract, and SSIM."""

import math

import pytest
import torch

from training import losses as L


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vgg") / "vgg19_random.pth"
    torch.save(L.VGG19Features().features.state_dict(), path)  # keys '0.weight' ... like a bare features dict
    return path


def test_vgg_needs_weights_or_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(L.VGG_WEIGHTS_ENV, raising=False)
    try:
        import torchvision  # noqa: F401
        pytest.skip("torchvision installed: weights may come from its cache")
    except ImportError:
        pass
    with pytest.raises(RuntimeError, match="--vgg-weights"):
        L.load_vgg19(None)
    with pytest.raises(ValueError, match="no such file"):
        L.load_vgg19(tmp_path / "missing.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="VGG19"):
        L.load_vgg19(bad)


def test_vgg_loss_from_file(vgg_file):
    vgg = L.load_vgg19(vgg_file, ceil_mode=True)
    assert not any(p.requires_grad for p in vgg.parameters())
    loss = L.VGGLoss(vgg)
    x = torch.rand(1, 3, 16, 12) * 2 - 1
    assert float(loss(x, x)) == 0.0
    y = x.clone().requires_grad_(True)
    value = loss(y, x + 0.5)
    assert value > 0
    value.backward()
    assert y.grad.abs().sum() > 0
    # torchvision's full state dict (features.* + classifier.*) loads too
    full = {f"features.{k}": v for k, v in torch.load(vgg_file).items()}
    full["classifier.0.weight"] = torch.zeros(2, 2)
    path = vgg_file.parent / "full.pth"
    torch.save(full, path)
    assert torch.equal(L.load_vgg19(path).features[0].weight, vgg.features[0].weight)
    content, style = L.StyleContentLoss(vgg)(x, x)
    assert float(content) == 0.0 and float(style) == 0.0


def test_tv_and_second_order():
    ramp = torch.arange(12.0).view(1, 1, 3, 4)  # +1 along w, +4 along h
    assert float(L.tv_loss(ramp)) == pytest.approx(5.0)
    # an affine flow has zero curvature: the penalty is the epsilon floor (1e-6)^0.45 per element, two components
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, 8), torch.linspace(-1, 1, 6), indexing="ij")
    flow = torch.stack([xs * 0.7 + ys * 0.1, ys])[None]
    dx, dy = L.second_order_deltas(flow)
    assert dx.shape == (1, 4, 6, 4)
    assert dx.abs().max() < 1e-6 and dy.abs().max() < 1e-6
    assert float(L.second_order_smooth_loss(dx, dy)) == pytest.approx(2 * (1e-6) ** 0.45, rel=1e-3)
    bumped = flow.clone()
    bumped[0, 0, 4, 3] += 1.0
    assert L.second_order_smooth_loss(*L.second_order_deltas(bumped)) > 0.05


def test_lsgan_and_spectral_discriminator():
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert float(L.lsgan_d_loss(ones, zeros)) == 0.0
    assert float(L.lsgan_d_loss(zeros, ones)) == 1.0
    assert float(L.lsgan_g_loss(ones)) == 0.0 and float(L.lsgan_g_loss(zeros)) == 1.0
    d = L.SpectralDiscriminator(59)
    assert sum(p.numel() for p in d.parameters()) == 2_822_081  # upstream's count (architectures.md §6.3)
    assert "model.0.weight_orig" in d.state_dict()
    assert d(torch.randn(1, 59, 64, 64)).shape == (1, 1, 6, 6)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in L.SpectralDiscriminator(39, norm="batch").modules())


def test_distillation_gate_and_terms():
    target = torch.zeros(3, 3, 4, 4)
    teacher = torch.full_like(target, 0.1)
    student = torch.tensor([0.5, 0.05, 0.2]).view(3, 1, 1, 1).expand_as(target)
    gate = L.distillation_gate(teacher, student, target)
    assert gate.tolist() == [1.0, 0.0, 1.0]
    t_feats = [torch.zeros(3, 2, 2, 2)] * 5
    s_feats = [torch.ones(3, 2, 2, 2)] * 5
    # sum over 5 levels of (5 - num) * 0.04 * MSE(=1), averaged with the gate over the batch (2 of 3 on)
    assert float(L.feature_distillation_loss(t_feats, s_feats, gate)) == pytest.approx(15 * 0.04 * 2 / 3)
    # flows: levels 2, 3, 4 with weights 3, 4, 5
    assert float(L.flow_distillation_loss(t_feats, s_feats, gate)) == pytest.approx(12 * 2 / 3)
    assert float(L.flow_distillation_loss(t_feats, s_feats, torch.zeros(3))) == 0.0


def test_cp_vton_losses(vgg_file):
    person = torch.rand(2, 3, 16, 16) * 2 - 1
    assert float(L.gmm_loss(person, person)) == 0.0
    assert float(L.gmm_loss(person, person + 0.25)) == pytest.approx(0.25)
    mask = torch.rand(2, 1, 16, 16)
    total, terms = L.tom_loss(person, mask, person, mask, L.VGGLoss(L.load_vgg19(vgg_file, ceil_mode=True)))
    assert float(total) == 0.0 and set(terms) == {"l1", "vgg", "mask"}
    total, terms = L.tom_loss(person, mask, person, 1 - mask, L.VGGLoss(L.load_vgg19(vgg_file, ceil_mode=True)))
    assert float(total) == pytest.approx(float((2 * mask - 1).abs().mean()))


def test_parsing_loss_and_gradient_truncation():
    logits = torch.zeros(2, 7, 4, 4)  # uniform prediction: CE = log 7 whatever the class weights
    target = torch.randint(0, 7, (2, 1, 8, 8)).float()
    assert float(L.parsing_loss(logits, target)) == pytest.approx(math.log(7))
    confident = torch.full((1, 7, 4, 4), -20.0)
    confident[:, 2] = 20.0
    assert float(L.parsing_loss(confident, torch.full((1, 1, 4, 4), 2.0))) < 1e-6
    with pytest.raises(ValueError, match="class weights"):
        L.parsing_loss(logits, target, (1.0, 2.0))
    prediction = torch.rand(1, 3, 8, 8, requires_grad=True)
    preserve = torch.zeros(1, 1, 8, 8)
    preserve[..., :4, :] = 1
    kept_prediction, kept_target = L.truncate_gradients(prediction, torch.zeros(1, 3, 8, 8), preserve)
    kept_prediction.abs().sum().backward()
    assert prediction.grad[..., :4, :].abs().sum() == 0  # no gradient from the preserved (truncated) region
    assert (prediction.grad[..., 4:, :] != 0).all()
    assert kept_target.abs().sum() == 0


def test_ssim():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 24) * 2 - 1
    assert torch.allclose(L.ssim(x, x), torch.ones(2))
    noisy = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    s = L.ssim(x, noisy)
    assert (s < 0.9).all() and (s > 0).all()
    assert (L.ssim(x, torch.rand_like(x) * 2 - 1).abs() < 0.1).all()  # independent images
    with pytest.raises(ValueError, match="ssim"):
        L.ssim(x, x[:, :1])
