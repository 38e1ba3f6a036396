"""Official checkpoint containers, strict loading, safe unpickling, the convert CLI and Hub loading (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import vton_zoo
from tests._inputs import random_inputs
from vton_zoo.checkpoints import official_state_dicts, to_state_dict

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reference():
    """A randomly initialised pf-afn, its official-layout state dicts and its outputs on a small input."""
    torch.manual_seed(0)
    model = vton_zoo.create_model("pf-afn")
    # Non-trivial BN statistics, so a loader that skipped buffers would be caught.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.9, 1.1)
    inputs = random_inputs(model.spec, batch=1, size=(64, 64))
    with torch.no_grad():
        outputs = model(inputs)
    return model, official_state_dicts(model), inputs, outputs


def _assert_same_outputs(model, reference):
    _, _, inputs, outputs = reference
    with torch.no_grad():
        got = model(inputs)
    for name, value in outputs.items():
        assert torch.equal(got[name], value), name


def _containers(warp, gen):
    optimizer_state = {"state": {}, "param_groups": [{"lr": 5e-5, "params": [0, 1]}]}
    return {
        "plain": (warp, gen),
        "dm-vton training dict": ({"epoch": 100, "best_fid": 28.2, "model": warp, "optimizer": optimizer_state},
                                  {"epoch": 100, "best_fid": 28.2, "model": gen, "optimizer": optimizer_state}),
        "DataParallel state_dict": ({"state_dict": OrderedDict(("module." + k, v) for k, v in warp.items())},
                                    {"state_dict": OrderedDict(("module." + k, v) for k, v in gen.items())}),
        "trained AFlowNet leftover": ({**warp, "aflow_net.weight": torch.randn(4, 1, 3, 3)}, gen),
        # DM-VTON's train_pf_e2e.py: best_fid is the numpy float64 its FID code returns (issue 11)
        "dm-vton training dict, numpy best_fid": (
            {"epoch": 100, "best_fid": np.float64(28.2), "model": warp, "optimizer": optimizer_state},
            {"epoch": 100, "best_fid": np.float64(28.2), "model": gen, "optimizer": optimizer_state}),
    }


@pytest.mark.parametrize("kind", ["plain", "dm-vton training dict", "DataParallel state_dict",
                                  "trained AFlowNet leftover", "dm-vton training dict, numpy best_fid"])
def test_official_containers_from_files(kind, reference, tmp_path):
    _, (warp, gen), _, _ = reference
    warp_obj, gen_obj = _containers(warp, gen)[kind]
    torch.save(warp_obj, tmp_path / "warp.pth")
    torch.save(gen_obj, tmp_path / "gen.pth")
    model = vton_zoo.load_official("pf-afn", tmp_path / "warp.pth", str(tmp_path / "gen.pth"))
    assert not model.training
    _assert_same_outputs(model, reference)


def test_loaded_state_dicts_accepted(reference):
    _, (warp, gen), _, _ = reference
    _assert_same_outputs(vton_zoo.load_official("pf-afn", warp, gen), reference)


def test_strict_loading_errors(reference):
    _, (warp, gen), _, _ = reference
    with pytest.raises(ValueError, match="needs 2 official checkpoints"):
        vton_zoo.load_official("pf-afn", warp)
    with pytest.raises(ValueError, match="missing keys"):
        vton_zoo.load_official("pf-afn", {k: v for k, v in warp.items() if "netRefine.4" not in k}, gen)
    with pytest.raises(ValueError, match="unexpected keys"):
        vton_zoo.load_official("pf-afn", {**warp, "extra.weight": torch.zeros(1)}, gen)
    with pytest.raises(ValueError, match="does not match pf-afn part 'warp'"):
        vton_zoo.load_official("pf-afn", gen, warp)  # wrong order
    bad_shape = dict(warp)
    bad_shape["aflow_net.netMain.0.0.weight"] = torch.zeros(1, 49, 3, 3)
    with pytest.raises(ValueError, match="shape mismatches"):
        vton_zoo.load_official("pf-afn", bad_shape, gen)


class _Exploit:
    """Unpickling this would create a file (it must never happen)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_pickled_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"model": {"w": torch.zeros(1)}, "payload": _Exploit(marker)}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="pickled Python objects"):
        to_state_dict(tmp_path / "evil.pth")
    assert not marker.exists()


@pytest.mark.parametrize("value", [np.array(["a"], dtype=object)[0:1], np.int64(3), np.str_("x")])
def test_only_numpy_float64_scalars_are_allowed(value, tmp_path):
    """The numpy allow-list is exactly what DM-VTON's best_fid needs: other numpy objects stay refused."""
    torch.save({"model": {"w": torch.zeros(1)}, "best_fid": value}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="pickled Python objects"):
        to_state_dict(tmp_path / "other.pth")


def test_unreadable_files(tmp_path):
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        to_state_dict(tmp_path / "empty.pth")
    torch.save({"w": torch.randn(100, 100)}, tmp_path / "ok.pth")
    data = (tmp_path / "ok.pth").read_bytes()
    (tmp_path / "truncated.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        to_state_dict(tmp_path / "truncated.pth")
    with pytest.raises(ValueError, match="not found"):
        to_state_dict(tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="No tensors"):
        to_state_dict({"epoch": 3})


def test_convert_cli_round_trip(reference, tmp_path):
    _, (warp, gen), _, _ = reference
    torch.save(warp, tmp_path / "warp_model_final.pth")
    torch.save(gen, tmp_path / "gen_model_final.pth")
    out = tmp_path / "converted"
    result = subprocess.run(
        [sys.executable, "-m", "vton_zoo.convert", "pf-afn", str(tmp_path / "warp_model_final.pth"),
         str(tmp_path / "gen_model_final.pth"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "pf-afn" and config["config"] == {"align_corners": True}
    assert [f["file"] for f in config["source"]["converted_from"]] == ["warp_model_final.pth", "gen_model_final.pth"]
    assert all(len(f["sha256"]) == 64 for f in config["source"]["converted_from"])
    _assert_same_outputs(vton_zoo.create_model("pf-afn", weights=out), reference)
    # wrong files: a clear error and exit code 2, no output folder
    bad = subprocess.run([sys.executable, "-m", "vton_zoo.convert", "pf-afn", str(tmp_path / "gen_model_final.pth"),
                          str(tmp_path / "warp_model_final.pth"), "--out", str(tmp_path / "bad")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "does not match" in bad.stderr
    assert not (tmp_path / "bad").exists()
    listing = subprocess.run([sys.executable, "-m", "vton_zoo.convert", "--list"], cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert "warp_model_final.pth" in listing.stdout


def test_weights_for_another_model_rejected(reference, tmp_path):
    model = reference[0]
    vton_zoo.save_safetensors(model, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["model"] = "rmgn"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="are for model 'rmgn'"):
        vton_zoo.create_model("pf-afn", weights=tmp_path)


def test_hub_weights_from_local_cache(reference, tmp_path, monkeypatch):
    """``weights="hub:OWNER/NAME"`` resolved offline from a Hub cache laid out as huggingface_hub writes it."""
    model = reference[0]
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = tmp_path / "hub" / "models--vton-zoo--pf-afn-test"
    snapshot = repo_dir / "snapshots" / commit
    vton_zoo.save_safetensors(model, snapshot)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    loaded = vton_zoo.create_model("pf-afn", weights="hub:vton-zoo/pf-afn-test")
    _assert_same_outputs(loaded, reference)
    with pytest.raises(RuntimeError, match="offline and not in the local Hub cache"):
        vton_zoo.create_model("pf-afn", weights="hub:vton-zoo/not-cached")
    assert os.environ["HF_HUB_OFFLINE"] == "1"


@pytest.mark.parametrize("kind", ["crafted safetensors header", "text file", "html page"])
def test_convert_cli_bad_files_exit_2(kind, tmp_path):
    """Issue 13: a crafted safetensors header or a text file ends with the CLI's "error: ..." and exit 2."""
    if kind == "crafted safetensors header":
        bad = tmp_path / "warp.safetensors"
        header = b'{"w": {"dtype": "F32", "shape": [100000000000], "data_offsets": [0, 400000000000]}}'
        bad.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)
    elif kind == "text file":
        bad = tmp_path / "warp.pth"
        bad.write_text("these are not weights\n" * 20)
    else:
        bad = tmp_path / "warp.pth"
        bad.write_text("<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head></html>")
    result = subprocess.run([sys.executable, "-m", "vton_zoo.convert", "daflow", str(bad), "--out",
                             str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
