"""Installed weights: where they live, installing from official files and from a (local) Hub cache, resolution."""

from __future__ import annotations

import pytest
import torch

import vton_zoo
from tests._inputs import random_inputs
from vton_zoo import weights
from vton_zoo.checkpoints import official_state_dicts


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "zoo"))
    return tmp_path / "zoo"


@pytest.fixture(scope="module")
def dm_vton():
    torch.manual_seed(3)
    model = vton_zoo.create_model("dm-vton")
    inputs = random_inputs(model.spec, batch=1, size=(64, 64))
    with torch.no_grad():
        outputs = model(inputs)
    return model, inputs, outputs


def _same(model, reference):
    _, inputs, outputs = reference
    with torch.no_grad():
        got = model(inputs)
    for name, value in outputs.items():
        assert torch.equal(got[name], value), name


def test_home_follows_env(home):
    assert weights.home() == home
    assert weights.install_dir("pf-afn") == home / "weights" / "pf-afn"


def test_missing_weights_message(home):
    assert weights.installed("dm-vton") is None
    assert weights.status("dm-vton") == "missing"
    with pytest.raises(weights.WeightsNotInstalledError) as info:
        weights.resolve_for_pipeline("dm-vton", None)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert str(home / "weights" / "dm-vton") in message
    assert "python -m vton_zoo.convert dm-vton" in message
    for official in vton_zoo.get_spec("dm-vton").weights.official_files:
        assert official.filename in message


def test_random_and_explicit_choices_pass_through(home, tmp_path):
    assert weights.resolve_for_pipeline("dm-vton", "random") is None
    assert weights.resolve_for_pipeline("dm-vton", tmp_path) == tmp_path
    assert weights.resolve_for_pipeline("dm-vton", "hub:a/b") == "hub:a/b"


def test_unknown_model(home):
    with pytest.raises(ValueError, match="Unknown model"):
        weights.install_dir("no-such-model")


def test_install_official_then_resolve(home, tmp_path, dm_vton):
    model = dm_vton[0]
    files = []
    for index, state in enumerate(official_state_dicts(model)):
        path = tmp_path / f"official_{index}.pth"
        torch.save({"model": state, "epoch": 3}, path)  # a DM-VTON training container
        files.append(path)
    folder = weights.install_official("dm-vton", files)
    assert folder == weights.install_dir("dm-vton")
    assert weights.status("dm-vton") == "installed"
    resolved = weights.resolve_for_pipeline("dm-vton", None)
    assert resolved == folder
    _same(vton_zoo.create_model("dm-vton", weights=resolved), dm_vton)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "staging folders left behind"


def test_failed_install_keeps_previous(home, tmp_path, dm_vton):
    model = dm_vton[0]
    files = []
    for index, state in enumerate(official_state_dicts(model)):
        files.append(tmp_path / f"good_{index}.pth")
        torch.save(state, files[-1])
    weights.install_official("dm-vton", files)
    bad = dict(official_state_dicts(model)[0])
    bad.pop(next(iter(bad)))
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="missing keys"):
        weights.install_official("dm-vton", [tmp_path / "bad.pth", files[1]])
    _same(vton_zoo.create_model("dm-vton", weights=weights.installed("dm-vton")), dm_vton)


def test_install_for_another_model_is_ignored(home, dm_vton):
    vton_zoo.save_safetensors(dm_vton[0], weights.install_dir("pf-afn"))
    assert weights.installed("pf-afn") is None
    assert weights.status("pf-afn") == "broken"
    check = weights.verify("pf-afn")
    assert not check.ok and "'dm-vton', not 'pf-afn'" in check.message


def test_install_from_local_hub_cache(home, tmp_path, monkeypatch, dm_vton):
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    repo_dir = tmp_path / "hub" / "models--someone--dm-vton-viton"
    vton_zoo.save_safetensors(dm_vton[0], repo_dir / "snapshots" / commit)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    folder = weights.install_from_hub("dm-vton", "someone/dm-vton-viton")
    assert weights.status("dm-vton") == "installed"
    _same(vton_zoo.create_model("dm-vton", weights=folder), dm_vton)
    with pytest.raises(ValueError, match="not 'pf-afn'"):
        weights.install_from_hub("pf-afn", "someone/dm-vton-viton")
    with pytest.raises(RuntimeError, match="offline"):
        weights.install_from_hub("dm-vton", "someone/not-cached")
