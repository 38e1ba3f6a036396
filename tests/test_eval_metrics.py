"""vton_zoo.eval metrics: the FID Inception (pytorch-fid's architecture), FID and KID against direct formulas, SSIM
against a float64 reference, LPIPS against a functional re-computation; all offline with random weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import linalg

from vton_zoo.eval.fid import (
    fid_kid,
    frechet_distance,
    image_files,
    inception_features,
    kernel_inception_distance,
    statistics,
)
from vton_zoo.eval.inception import (
    FID_WEIGHTS_NAME,
    FIDInceptionV3,
    MetricWeightsError,
    load_inception,
    pytorch_fid_available,
)
from vton_zoo.eval.lpips import LPIPS, load_lpips
from vton_zoo.eval.ssim import gaussian_window, ssim


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    """A randomly initialised FID Inception saved as a weight file (the real one cannot be downloaded here)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "random_inception.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    return path


def _crops(shared_dir, count: int, size=(128, 96), seed=0) -> list[np.ndarray]:
    """Random crops of the shared VITON / VITON-HD photos and garments (real images), resized to ``size``."""
    files = sorted((shared_dir / "samples" / "viton" / "test_img").glob("*.jpg"))
    files += sorted((shared_dir / "samples" / "viton" / "test_clothes").glob("*.jpg"))
    files += sorted((shared_dir / "samples" / "viton_hd" / "test" / "image").glob("*.jpg"))
    images = [np.asarray(Image.open(f).convert("RGB").resize((192, 256), Image.BICUBIC)) for f in files]
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        image = images[i % len(images)]
        h, w = int(rng.integers(96, 200)), int(rng.integers(72, 150))
        y, x = int(rng.integers(0, 256 - h + 1)), int(rng.integers(0, 192 - w + 1))
        crops.append(np.asarray(Image.fromarray(image[y:y + h, x:x + w]).resize(size[::-1], Image.BICUBIC)))
    return crops


def _write(folder, images):
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return folder


# --- the Inception --------------------------------------------------------------------------------------------------


def test_inception_has_pytorch_fid_parameters(inception_file):
    """torchvision's inception_v3 has 27,161,264 parameters; without AuxLogits (3,326,696) and with a 1008-class fc
    instead of 1000 (+16,392) that is pytorch-fid's 23,850,960. Names follow torchvision's."""
    model = FIDInceptionV3()
    assert sum(p.numel() for p in model.parameters()) == 27_161_264 - 3_326_696 + 16_392
    state = model.state_dict()
    assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert state["Mixed_6b.branch7x7dbl_2.conv.weight"].shape == (128, 128, 7, 1)
    assert state["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
    assert state["fc.weight"].shape == (1008, 2048)
    assert not any(key.startswith("AuxLogits") for key in state)
    # The file (without num_batches_tracked, as the ported weights) loads strictly into each feature size.
    trimmed = {k: v for k, v in torch.load(inception_file, weights_only=True).items()
               if not k.endswith("num_batches_tracked")}
    torch.save(trimmed, inception_file.with_name("trimmed.pth"))
    for dims, shape in ((64, (2, 64, 73, 73)), (192, (2, 192, 35, 35)), (2048, (2, 2048, 1, 1))):
        net = load_inception(dims, inception_file.with_name("trimmed.pth"), backend="zoo")
        assert net.dims == dims
        with torch.no_grad():
            out = net(torch.rand(2, 3, 64, 48))
        assert len(out) == 1 and out[0].shape == shape


@pytest.mark.skipif(not pytorch_fid_available(), reason="pytorch-fid needs torchvision, not installed here")
def test_inception_matches_pytorch_fid(inception_file):
    """With pytorch-fid importable (CI), its InceptionV3 loads our file strictly and gives the same features."""
    images = torch.rand(3, 3, 120, 90)
    for dims in (64, 2048):
        ours = load_inception(dims, inception_file, backend="zoo")
        theirs = load_inception(dims, inception_file, backend="pytorch-fid")
        assert type(theirs).__module__ == "pytorch_fid.inception"
        with torch.no_grad():
            torch.testing.assert_close(ours(images)[0], theirs(images)[0], rtol=1e-4, atol=1e-5)


def test_inception_weights_missing_offline(tmp_path, monkeypatch):
    with pytest.raises(MetricWeightsError, match="not found at .*nope.pth"):
        load_inception(2048, tmp_path / "nope.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("VTON_ZOO_OFFLINE", "1")
    with pytest.raises(MetricWeightsError) as error:
        load_inception(2048, None, backend="zoo")
    message = str(error.value)
    assert FID_WEIGHTS_NAME in message and str(tmp_path / "torch" / "hub" / "checkpoints") in message
    assert "--inception-weights" in message and "https://github.com/mseitzer/pytorch-fid" in message
    bad = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(MetricWeightsError, match="not a pytorch-fid Inception"):
        load_inception(2048, bad, backend="zoo")


# --- FID ------------------------------------------------------------------------------------------------------------


def _direct_frechet(mu1, sigma1, mu2, sigma2):
    """|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2), via symmetric eigendecompositions."""
    values, vectors = np.linalg.eigh(sigma1)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    inner = np.linalg.eigvalsh(root1 @ sigma2 @ root1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * np.sum(np.sqrt(np.clip(inner, 0, None))))


def test_frechet_distance_matches_direct_computation():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(200, 12)) @ rng.normal(size=(12, 12))
    b = rng.normal(0.3, 1.2, size=(150, 12)) @ rng.normal(size=(12, 12))
    stats_a, stats_b = statistics(a), statistics(b)
    np.testing.assert_allclose(stats_a[1], np.cov(a.T), rtol=1e-12)
    value = frechet_distance(*stats_a, *stats_b)
    assert value == pytest.approx(_direct_frechet(*stats_a, *stats_b), rel=1e-9)
    # And the textbook form with SciPy's sqrtm of the product.
    textbook = (np.sum((stats_a[0] - stats_b[0]) ** 2) + np.trace(stats_a[1] + stats_b[1])
                - 2 * np.trace(linalg.sqrtm(stats_a[1] @ stats_b[1]).real))
    assert value == pytest.approx(textbook, rel=1e-9)
    assert frechet_distance(*stats_a, *stats_a) == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="do not match"):
        frechet_distance(stats_a[0], stats_a[1], stats_b[0][:5], stats_b[1])


def test_fid_on_image_folders(tmp_path, shared_dir, inception_file):
    """Real image crops: identical folders give FID ~ 0, a colour-shifted and blurred copy a larger FID, and the
    value equals the Frechet distance of the features computed directly."""
    crops = _crops(shared_dir, 24)
    first = _write(tmp_path / "a", crops)
    same = _write(tmp_path / "b", crops)
    shifted_images = [np.asarray(Image.fromarray(np.clip(c.astype(int) + [50, -30, 20], 0, 255).astype(np.uint8))
                                 .resize((48, 64)).resize((96, 128))) for c in crops]
    shifted = _write(tmp_path / "c", shifted_images)
    model = load_inception(64, inception_file)
    identical = fid_kid(first, same, model, batch_size=12)
    different = fid_kid(first, shifted, model, batch_size=12)
    assert identical["num_generated"] == identical["num_real"] == 24
    assert abs(identical["fid"]) < 1e-6 * different["fid"]
    assert different["fid"] > 0.01
    # Identical sets give a slightly negative KID (the estimator is unbiased, not non-negative).
    assert different["kid"] > 3 * abs(identical["kid"])

    features_a = inception_features(image_files(first), model, batch_size=24)
    features_c = inception_features(image_files(shifted), model, batch_size=5)
    assert features_a.shape == (24, 64) and features_a.dtype == np.float64
    assert different["fid"] == pytest.approx(_direct_frechet(*statistics(features_a), *statistics(features_c)),
                                             rel=1e-5)
    # The features are those of the network on the images scaled to [0, 1] (pytorch-fid's ToTensor).
    batch = torch.from_numpy(np.stack(crops[:3]).transpose(0, 3, 1, 2).astype(np.float32) / 255)
    with torch.no_grad():
        expected = model(batch)[0].mean(dim=(2, 3)).double().numpy()
    np.testing.assert_allclose(features_a[:3], expected, rtol=1e-5, atol=1e-7)


def test_full_inception_features_on_synthetic_images(tmp_path, inception_file):
    """The 2048-d pool3 path, on a few synthetic images of different content."""
    rng = np.random.default_rng(0)
    images = [np.clip(rng.normal(128 + 20 * i, 40, size=(80, 60, 3)), 0, 255).astype(np.uint8) for i in range(3)]
    model = load_inception(2048, inception_file)
    features = inception_features(image_files(_write(tmp_path / "syn", images)), model, batch_size=2)
    assert features.shape == (3, 2048) and np.isfinite(features).all() and (features >= 0).all()
    assert not np.allclose(features[0], features[2])


# --- KID ------------------------------------------------------------------------------------------------------------


def _mmd_loops(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, term by term."""
    d = x.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_formula_on_known_features():
    x = np.array([[0.1, 0.5, 1.0], [0.3, 0.2, 0.9], [1.0, 0.0, 0.4], [0.6, 0.7, 0.2], [0.0, 0.9, 0.3]])
    y = np.array([[0.4, 0.4, 0.4], [1.2, 0.1, 0.8], [0.2, 1.1, 0.5], [0.9, 0.9, 0.1], [0.5, 0.0, 1.3]])
    value, spread = kernel_inception_distance(x, y, subsets=3, subset_size=100)
    # A subset of every row is a permutation: each subset gives the full-sample estimate.
    assert value == pytest.approx(_mmd_loops(x, y), rel=1e-12)
    assert spread == pytest.approx(0.0, abs=1e-12)
    # Subsets of 3 of 5 rows: the mean over subsets of the same formula on the rows drawn.
    rng = np.random.default_rng(7)
    draws = [(x[rng.choice(5, 3, replace=False)], y[rng.choice(5, 3, replace=False)]) for _ in range(4)]
    value, _ = kernel_inception_distance(x, y, subsets=4, subset_size=3, seed=7)
    assert value == pytest.approx(np.mean([_mmd_loops(a, b) for a, b in draws]), rel=1e-12)
    # Unbiased: near 0 for two samples of one distribution, clearly positive for shifted ones.
    rng = np.random.default_rng(1)
    same, _ = kernel_inception_distance(rng.normal(size=(400, 8)), rng.normal(size=(400, 8)), subset_size=200)
    shifted, _ = kernel_inception_distance(rng.normal(size=(400, 8)), rng.normal(0.5, 1, size=(400, 8)),
                                           subset_size=200)
    assert abs(same) < 0.1 * shifted
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(x[:1], y)


# --- SSIM -----------------------------------------------------------------------------------------------------------


def _ssim_reference(a: np.ndarray, b: np.ndarray) -> float:
    """Float64 SSIM window by window (Wang et al. 2004): 11x11 Gaussian (sigma 1.5) weights, valid windows, C1 =
    (0.01*255)^2, C2 = (0.03*255)^2, averaged over positions and channels."""
    taps = np.exp(-0.5 * ((np.arange(11) - 5) / 1.5) ** 2)
    weights = np.outer(taps, taps)
    weights /= weights.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    a, b = a.astype(np.float64), b.astype(np.float64)
    values = []
    for channel in range(a.shape[2]):
        wa = np.lib.stride_tricks.sliding_window_view(a[..., channel], (11, 11))
        wb = np.lib.stride_tricks.sliding_window_view(b[..., channel], (11, 11))
        mu_a = np.einsum("ijkl,kl->ij", wa, weights)
        mu_b = np.einsum("ijkl,kl->ij", wb, weights)
        var_a = np.einsum("ijkl,kl->ij", (wa - mu_a[..., None, None]) ** 2, weights)
        var_b = np.einsum("ijkl,kl->ij", (wb - mu_b[..., None, None]) ** 2, weights)
        cov = np.einsum("ijkl,kl->ij", (wa - mu_a[..., None, None]) * (wb - mu_b[..., None, None]), weights)
        values.append(((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)))
    return float(np.mean(values))


def test_ssim_matches_reference_on_real_images(shared_dir):
    person = np.asarray(Image.open(shared_dir / "samples" / "viton" / "test_img" / "000066_0.jpg").convert("RGB"))
    person = person[60:140, 40:120]
    rng = np.random.default_rng(0)
    noisy = np.clip(person + rng.normal(0, 12, person.shape), 0, 255).astype(np.uint8)
    blurred = np.asarray(Image.fromarray(person).resize((40, 40), Image.BILINEAR).resize((80, 80), Image.BILINEAR))
    other = np.asarray(Image.open(shared_dir / "samples" / "viton" / "test_img" / "004912_0.jpg").convert("RGB"))
    other = other[60:140, 40:120]
    values = ssim(np.stack([person, person, person, person]), np.stack([person, noisy, blurred, other]))
    assert values.shape == (4,)
    assert values[0] == pytest.approx(1.0, abs=1e-12)
    for value, changed in zip(values[1:], (noisy, blurred, other)):
        assert value == pytest.approx(_ssim_reference(person, changed), abs=1e-10)
    assert 1.0 > values[1] > values[3] and 1.0 > values[2] > values[3]
    assert gaussian_window().sum() == pytest.approx(1.0) and gaussian_window().shape == (11,)
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(person, blurred[:70])
    with pytest.raises(ValueError, match="smaller than"):
        ssim(person[:8, :8], person[:8, :8])


# --- LPIPS ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lpips_files(tmp_path_factory):
    """Random LPIPS-alex weights written as the two published files: torchvision's AlexNet (with its classifier)
    and the lpips package's v0.1 linear layers."""
    torch.manual_seed(1)
    folder = tmp_path_factory.mktemp("lpips")
    net = LPIPS("alex")
    backbone = {f"features.{k}": v for k, v in net.features.state_dict().items()}
    backbone.update({"classifier.1.weight": torch.zeros(4096, 9216), "classifier.1.bias": torch.zeros(4096)})
    linear = {k: v.abs() for k, v in net.state_dict().items() if k.startswith("lin")}
    torch.save(backbone, folder / "alexnet-owt-7be5be79.pth")
    torch.save(linear, folder / "alex.pth")
    return folder / "alex.pth", folder / "alexnet-owt-7be5be79.pth"


def _lpips_reference(first, second, backbone, linear):
    """LPIPS alex v0.1 written out layer by layer with functional ops."""

    def taps(x):
        x = (x - torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)) / torch.tensor([0.458, 0.448, 0.450]).view(
            1, 3, 1, 1)
        out = []
        x = F.relu(F.conv2d(x, backbone["features.0.weight"], backbone["features.0.bias"], stride=4, padding=2))
        out.append(x)
        x = F.relu(F.conv2d(F.max_pool2d(x, 3, 2), backbone["features.3.weight"], backbone["features.3.bias"],
                            padding=2))
        out.append(x)
        x = F.relu(F.conv2d(F.max_pool2d(x, 3, 2), backbone["features.6.weight"], backbone["features.6.bias"],
                            padding=1))
        out.append(x)
        for index in (8, 10):
            x = F.relu(F.conv2d(x, backbone[f"features.{index}.weight"], backbone[f"features.{index}.bias"],
                                padding=1))
            out.append(x)
        return out

    total = 0
    for k, (a, b) in enumerate(zip(taps(first), taps(second))):
        a = a / (a.norm(dim=1, keepdim=True) + 1e-10)
        b = b / (b.norm(dim=1, keepdim=True) + 1e-10)
        total = total + ((a - b) ** 2 * linear[f"lin{k}.model.1.weight"].view(1, -1, 1, 1)).sum(1).mean(dim=(1, 2))
    return total


def test_lpips_matches_functional_reference(lpips_files, shared_dir):
    linear_path, backbone_path = lpips_files
    model = load_lpips("alex", linear_path, backbone_path)
    person = np.asarray(Image.open(shared_dir / "samples" / "viton" / "test_img" / "000066_0.jpg").convert("RGB"))
    rng = np.random.default_rng(0)
    noisy = np.clip(person + rng.normal(0, 25, person.shape), 0, 255).astype(np.uint8)
    very_noisy = np.clip(person + rng.normal(0, 60, person.shape), 0, 255).astype(np.uint8)

    def tensor(*images):
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1

    first, second = tensor(person, person, person), tensor(person, noisy, very_noisy)
    with torch.no_grad():
        distances = model(first, second)
        expected = _lpips_reference(first, second, torch.load(backbone_path, weights_only=True),
                                    torch.load(linear_path, weights_only=True))
        swapped = model(second, first)
    torch.testing.assert_close(distances, expected, rtol=1e-4, atol=1e-6)
    assert distances[0] == 0 and 0 < distances[1] < distances[2]
    torch.testing.assert_close(distances, swapped)


def test_lpips_weight_errors(lpips_files, tmp_path):
    linear_path, backbone_path = lpips_files
    with pytest.raises(MetricWeightsError, match="nope.pth.*alex.pth"):
        load_lpips("alex", tmp_path / "nope.pth", backbone_path)
    with pytest.raises(MetricWeightsError, match="alexnet-owt-7be5be79.pth"):
        load_lpips("alex", linear_path, tmp_path / "missing_backbone.pth")
    with pytest.raises(MetricWeightsError, match="linear layers"):
        load_lpips("alex", backbone_path, backbone_path)
    with pytest.raises(MetricWeightsError, match="does not fit|not torchvision"):
        load_lpips("vgg", linear_path, backbone_path)
    with pytest.raises(ValueError, match="alex"):
        LPIPS("squeeze")
