"""Every training stage of every method through the real entry point (``training.engine.main``, what
``python -m training`` runs): one step on CPU on a tiny synthetic dataset, then the saved weights reload."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training.engine import main
from training.losses import VGG19Features
from training.networks import ParserBasedTeacher
from training.stages import STAGES
from vton_zoo import create_model
from vton_zoo.data import make_synthetic

SIZE = (64, 64)
LAYOUT = {"pf-afn": "viton-clean", "dm-vton": "viton-clean", "rmgn": "viton-clean", "daflow": "viton",
          "gp-vton": "viton-hd", "cp-vton": "viton"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    base = tmp_path_factory.mktemp("training")
    torch.manual_seed(0)
    vgg = base / "vgg19_random.pth"  # no ImageNet weights offline: a random VGG19 saved in torchvision's format
    torch.save(VGG19Features().features.state_dict(), vgg)
    data = {layout: make_synthetic(layout, base / layout, n=2, size=SIZE, seed=3)
            for layout in ("viton", "viton-clean", "viton-hd", "dresscode")}
    return base, vgg, data


def _argv(method, stage, data, out, vgg, *extra):
    batch = "2" if method == "cp-vton" else "1"  # the GMM's BatchNorm sees 1x1 maps at 64x64: needs 2 samples
    return [method, "--stage", stage, "--data", str(data), "--out", str(out), "--size", *map(str, SIZE),
            "--batch-size", batch, "--max-steps", "1", "--save-every", "1000", "--val-batches", "1", "--workers", "0",
            "--vgg-weights", str(vgg), *extra]


def _check_reload(final: Path, zoo_name: str | None) -> None:
    config = json.loads((final / "config.json").read_text())
    assert (final / "model.safetensors").is_file()
    if zoo_name is None:
        teacher = ParserBasedTeacher.load(final)
        assert config["model"] == "pf-afn-teacher"
        assert teacher.warp.cond_features.encoders[0][0].block[2].in_channels == 45
        return
    assert config["model"] == zoo_name and config["training"]["step"] == 1
    model = create_model(zoo_name, weights=final)  # strict load into the zoo model
    assert (final / "README.md").read_text().count('weights="hub:') == 1
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize("method", list(STAGES))
def test_every_stage_runs_and_reloads(method, workspace):
    base, vgg, data = workspace
    out = base / f"run-{method}"
    for cls in STAGES[method]:
        assert main(_argv(method, cls.name, data[LAYOUT[method]], out, vgg)) == 0
        run = out / cls.name
        _check_reload(run / "final", "cp-vton" if method == "cp-vton" else cls.zoo_model)
        assert not list((run / "checkpoints").glob(".step-*"))  # no temporary folder left behind
        metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert any(m["kind"] == "train" and m["loss"] > 0 for m in metrics)
        assert any(m["kind"] == "val" and -1 <= m["ssim"] <= 1 for m in metrics)
        assert list((run / "samples").glob("step-*.png"))
    shutil.rmtree(out)  # full-size checkpoints (up to 2.6 GB a method): kept only when the test fails


def test_gp_vton_dresscode_and_later_stage_uses_previous(workspace):
    base, vgg, data = workspace
    out = base / "run-gp-dresscode"
    assert main(_argv("gp-vton", "warp", data["dresscode"], out, vgg, "--layout", "dresscode", "--mask-epoch",
                      "0")) == 0
    _check_reload(out / "warp" / "final", "gp-vton-dresscode")
    assert main(_argv("gp-vton", "tryon", data["dresscode"], out, vgg, "--layout", "dresscode")) == 0
    warp_stage = create_model("gp-vton-dresscode", weights=out / "warp" / "final")
    tryon_stage = create_model("gp-vton-dresscode", weights=out / "tryon" / "final")
    # the try-on stage keeps the warp frozen and trains the generator
    for a, b in zip(warp_stage.warp.state_dict().values(), tryon_stage.warp.state_dict().values()):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(warp_stage.gen.parameters(), tryon_stage.gen.parameters()))
    shutil.rmtree(out)


def test_student_stage_needs_its_teacher(workspace, tmp_path):
    base, vgg, data = workspace
    with pytest.raises(ValueError, match="teacher-e2e"):
        main(_argv("pf-afn", "student-warp", data["viton-clean"], tmp_path, vgg))
    with pytest.raises(ValueError, match="no stage"):
        main(_argv("pf-afn", "gmm", data["viton-clean"], tmp_path, vgg))


def test_help_explains_stages_layouts_and_flags():
    result = subprocess.run([sys.executable, "-m", "training", "--help"], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).parent.parent)
    assert result.returncode == 0
    text = result.stdout
    for word in ("teacher-warp", "student-e2e", "gmm", "tom", "viton-clean", "dresscode", "--vgg-weights",
                 "--resume", "--push-to-hub", "torchrun", "--amp"):
        assert word in text, word


def test_validation_fid_when_inception_weights_are_given(workspace, tmp_path, monkeypatch):
    """``--fid-inception-weights`` adds FID to validation (a random FID Inception stands in for pytorch-fid's file,
    which cannot be downloaded here); a path that is not a weight file is an error, not a silent skip."""
    from vton_zoo.eval.inception import FIDInceptionV3, MetricWeightsError

    base, vgg, data = workspace
    torch.manual_seed(0)
    inception = tmp_path / "inception.pth"
    torch.save(FIDInceptionV3().state_dict(), inception)
    out = tmp_path / "run"
    argv = _argv("cp-vton", "gmm", data["viton"], out, vgg, "--fid-inception-weights", str(inception), "--fid-dims",
                 "64", "--val-batches", "2")
    assert main(argv) == 0
    records = [json.loads(line) for line in (out / "gmm" / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in records if r["kind"] == "val"]
    assert val and all("fid" in r and r["fid"] >= 0 and -1 <= r["ssim"] <= 1 for r in val)
    # without the flag and with no copy in torch's hub cache, validation reports SSIM only
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    plain = tmp_path / "plain"
    assert main(_argv("cp-vton", "gmm", data["viton"], plain, vgg)) == 0
    val = [json.loads(line) for line in (plain / "gmm" / "metrics.jsonl").read_text().splitlines()]
    assert all("fid" not in r for r in val if r["kind"] == "val")
    (tmp_path / "not-weights.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(MetricWeightsError, match="not-weights.pth"):
        main(_argv("cp-vton", "gmm", data["viton"], tmp_path / "bad", vgg, "--fid-inception-weights",
                   str(tmp_path / "not-weights.pth")))
