"""Installed weights: where they live, installing from official files and from a (local) Hub cache, resolution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vton_zoo
from tests._inputs import random_inputs
from vton_zoo import weights
from vton_zoo.checkpoints import official_state_dicts

REPO = Path(__file__).resolve().parents[1]


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


@pytest.mark.parametrize("content", ["[]", '"str"', "null", "{not json", '{"format": "vton-zoo", "model": 3}'])
def test_bad_config_json_marks_the_method_broken(content, home, dm_vton, capsys):
    """Issue 13: a config.json holding [], "str" or null must not stop `python -m vton_zoo list` (or the app)."""
    folder = vton_zoo.save_safetensors(dm_vton[0], weights.install_dir("dm-vton"))
    (folder / "config.json").write_text(content)
    assert weights.installed("dm-vton") is None
    assert weights.status("dm-vton") == "broken"
    check = weights.verify("dm-vton")
    assert not check.ok and "config.json" in check.message
    from vton_zoo.__main__ import main

    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "dm-vton" in listing and "broken" in listing and "pf-afn" in listing
    with pytest.raises(weights.WeightsNotInstalledError):
        weights.resolve_for_pipeline("dm-vton", None)


def test_unknown_config_key_fails_at_validation(home, dm_vton):
    """Issue 13: an option the model does not have is caught when the install is checked, not only at load."""
    folder = vton_zoo.save_safetensors(dm_vton[0], weights.install_dir("dm-vton"))
    config = json.loads((folder / "config.json").read_text())
    config["config"]["no_such_option"] = 1
    (folder / "config.json").write_text(json.dumps(config))
    assert weights.status("dm-vton") == "broken"
    assert "no_such_option" in weights.verify("dm-vton").message
    with pytest.raises(ValueError, match="do not fit dm-vton"):
        vton_zoo.create_model("dm-vton", weights=folder)
    config["config"] = {}
    (folder / "config.json").write_text(json.dumps(config))
    assert weights.status("dm-vton") == "installed"


def test_hub_mirror_publish_and_setting(home, tmp_path, dm_vton):
    """`weights publish` pushes safetensors + config + a model card to a (local fake) Hub; the setting
    VTON_ZOO_WEIGHTS_DM_VTON=hub:ID then makes the pipeline load from that mirror first."""
    from tests._hub_server import FakeHub

    model = dm_vton[0]
    files = []
    for index, state in enumerate(official_state_dicts(model)):
        files.append(tmp_path / f"official_{index}.pth")
        torch.save({"model": state, "epoch": 3}, files[-1])
    weights.install_official("dm-vton", files)
    with FakeHub(tmp_path / "hub") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k != "VTON_ZOO_OFFLINE"}
        env.update(PYTHONPATH=str(REPO), VTON_ZOO_HOME=str(home), HF_ENDPOINT=server.url, HF_HOME=str(tmp_path / "hf"),
                   HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1", HF_TOKEN=server.token, OMP_NUM_THREADS="1")
        result = subprocess.run([sys.executable, "-m", "vton_zoo", "weights", "publish", "dm-vton", "--repo-id",
                                 "me/dm-vton-official"], env=env, cwd=REPO, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr
        stored = server.repo_dir("me/dm-vton-official")
        assert sorted(p.name for p in stored.iterdir()) == ["README.md", "config.json", "model.safetensors"]
        card = (stored / "README.md").read_text()
        assert "CC BY-NC-SA 4.0" in card and "https://api.github.com/repos/KiseKloset/DM-VTON" in card
        assert "official_0.pth" in card and "sha256" in card and "Parity" in card
        # The mirror is loaded first: the installed folder is removed, so only the mirror can serve the weights.
        import shutil

        shutil.rmtree(weights.install_dir("dm-vton"))
        probe = ("import vton_zoo, torch; from vton_zoo import weights; "
                 "folder = weights.resolve_for_pipeline('dm-vton', None); print(folder); "
                 "model = vton_zoo.create_model('dm-vton', weights=folder); "
                 "torch.save(model.state_dict(), __import__('sys').argv[1])")
        env["VTON_ZOO_WEIGHTS_DM_VTON"] = "hub:me/dm-vton-official"
        result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "loaded.pt")], env=env, cwd=REPO,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "models--me--dm-vton-official" in result.stdout
    loaded = torch.load(tmp_path / "loaded.pt", weights_only=True)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded[key], value), key
    # A mirror that cannot be reached falls back to the installed weights (here: none, so the usual message).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VTON_ZOO_WEIGHTS_DM_VTON", str(tmp_path / "nowhere"))
        with pytest.raises(weights.WeightsNotInstalledError):
            weights.resolve_for_pipeline("dm-vton", None)


def test_progress_without_content_length_uses_the_published_size():
    """Drive often sends no Content-Length: the bar then moves against the spec's approximate size, never past it."""
    from vton_zoo.weights import _byte_progress

    seen = []
    report = _byte_progress(lambda fraction, text: seen.append((fraction, text)), 0.0, 1.0, "rmgn: RMGN.zip",
                            expected=400_000_000)
    report(100_000_000, None)
    report(800_000_000, None)  # larger than published: stays below done
    report(200_000_000, 400_000_000)  # a real total wins
    assert seen[0][0] == pytest.approx(0.25) and "~400.0" in seen[0][1]
    assert 0.9 <= seen[1][0] < 1.0
    assert seen[2][0] == pytest.approx(0.5) and "/ 400.0 MB" in seen[2][1]
