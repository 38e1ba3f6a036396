"""``python -m training ... --push-to-hub --hub-model-id ID`` against a fake Hub on 127.0.0.1 (tests/_hub_server.py).

A real CP-VTON GMM run goes through the entry point in a subprocess, with ``HF_ENDPOINT`` pointing at the fake Hub
(never the real one) and ``HF_HUB_DISABLE_XET=1`` so that the plain LFS protocol the fake Hub speaks is used. The
uploaded folder must be what the zoo loads, locally and through ``weights="hub:ID"``; a missing token fails before
training; HTTP errors fail with a clear message and keep the local weights, and ``--resume`` pushes them again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests._hub_server import FakeHub
from tests._inputs import random_inputs
from vton_zoo import create_model, get_spec, hub
from vton_zoo.data import make_synthetic

ROOT = Path(__file__).parent.parent
REPO_ID = "me/test"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_synthetic("viton", tmp_path_factory.mktemp("push") / "viton", n=2, size=(64, 64), seed=7)


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory):
    with FakeHub(tmp_path_factory.mktemp("fake-hub")) as server:
        yield server


def _env(server: FakeHub, home: Path, token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HF_") and k not in ("VTON_ZOO_OFFLINE", "HUGGING_FACE_HUB_TOKEN")}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", VTON_TEST_THREADS="1", HF_ENDPOINT=server.url,
               HF_HOME=str(home), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
    if token is not None:
        env["HF_TOKEN"] = token
    return env


def _train(data: Path, out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "training", "cp-vton", "--stage", "gmm", "--data", str(data), "--out", str(out),
            "--size", "64", "64", "--batch-size", "2", "--max-steps", "2", "--val-batches", "1", "--workers", "0",
            "--push-to-hub", "--hub-model-id", REPO_ID, *extra]
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def pushed(fake_hub, data, tmp_path_factory):
    """One successful training + push; returns (run folder, completed process)."""
    out = tmp_path_factory.mktemp("pushed-run")
    result = _train(data, out, _env(fake_hub, out / "hf-home", fake_hub.token))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_push_uploads_weights_config_and_card_that_the_zoo_loads(pushed, fake_hub):
    out, _ = pushed
    final = out / "gmm" / "final"
    stored = fake_hub.repo_dir(REPO_ID)
    kinds = fake_hub.kinds()
    # the endpoints of a plain-LFS upload, in order: repo, card check, upload modes, LFS batch + PUT + verify, commit
    for kind in ("create", "validate-yaml", "preupload", "lfs-batch", "lfs-put", "lfs-verify", "commit"):
        assert kind in kinds, kind
    assert kinds.index("create") < kinds.index("lfs-put") < kinds.index("commit")
    commit = fake_hub.repos[REPO_ID]["commits"][0]
    assert commit["files"] == ["README.md", "config.json", "model.safetensors"]
    assert commit["summary"] == "cp-vton gmm: 2 steps"
    assert fake_hub.repos[REPO_ID]["private"] is False
    for name in ("model.safetensors", "config.json", "README.md"):  # byte for byte what training wrote
        assert (stored / name).read_bytes() == (final / name).read_bytes(), name
    assert not (stored / "trainer_state.pt").exists() and not (stored / "train_args.json").exists()

    card = (stored / "README.md").read_text()
    spec = get_spec("cp-vton")
    for text in (spec.title, spec.paper_url, "`viton` layout at 64x64", '"max_steps": 2', "| ssim |",
                 spec.license, f'create_model("cp-vton", weights="hub:{REPO_ID}")', "stage `gmm`"):
        assert text in card, text
    assert "HF_TOKEN" not in card and fake_hub.token not in card

    local = create_model("cp-vton", weights=final)
    remote = create_model("cp-vton", weights=stored)
    inputs = random_inputs(local.spec, size=(64, 64), seed=1)
    with torch.no_grad():
        expected, got = local(inputs), remote(inputs)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    assert json.loads((stored / "config.json").read_text())["training"]["step"] == 2


def test_pushed_repo_downloads_with_hub_weights(pushed, fake_hub, tmp_path):
    out, _ = pushed
    # weights="hub:ID" through huggingface_hub's snapshot_download against the fake Hub, in a fresh process
    script = ("import sys, torch, vton_zoo; from safetensors.torch import load_file\n"
              f"model = vton_zoo.create_model('cp-vton', weights='hub:{REPO_ID}')\n"
              "local = load_file(sys.argv[1])\n"
              "state = model.state_dict()\n"
              "assert all(torch.equal(state[k], v) for k, v in local.items()), 'weights differ'\n"
              "print('loaded', len(local))\n")
    result = subprocess.run([sys.executable, "-c", script, str(out / "gmm" / "final" / "model.safetensors")],
                            env=_env(fake_hub, tmp_path / "hf-home", fake_hub.token), cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("loaded ")
    assert any(kind == "resolve" for kind in fake_hub.kinds())


def test_no_token_fails_before_training(fake_hub, data, tmp_path):
    before = len(fake_hub.calls)
    result = _train(data, tmp_path / "run", _env(fake_hub, tmp_path / "empty-hf-home", None))
    assert result.returncode == 2
    assert "No Hugging Face token" in result.stderr and "HF_TOKEN" in result.stderr
    assert not (tmp_path / "run" / "gmm").exists()  # nothing trained
    assert len(fake_hub.calls) == before  # and nothing sent


def test_bad_token_is_reported_as_refused(pushed, fake_hub):
    out, _ = pushed
    with pytest.raises(hub.PushError, match="HTTP 401") as info:
        hub.push_folder(out / "gmm" / "final", "me/other", token="hf_wrong", endpoint=fake_hub.url)
    assert info.value.status == 401
    assert "refused the token" in str(info.value)
    assert "me/other" not in fake_hub.repos
    with pytest.raises(ValueError, match="OWNER/NAME"):
        hub.push_folder(out / "gmm" / "final", "no-owner", token=fake_hub.token, endpoint=fake_hub.url)


def test_server_error_keeps_the_weights_and_resume_pushes_them(fake_hub, data, tmp_path):
    repo = "me/retry"
    out = tmp_path / "run"
    env = _env(fake_hub, tmp_path / "hf-home", fake_hub.token)
    fake_hub.fail = {"commit": 500}
    try:
        result = _train(data, out, env, "--hub-model-id", repo)
    finally:
        fake_hub.fail = {}
    final = out / "gmm" / "final"
    assert result.returncode == 1, result.stderr[-3000:]
    assert "HTTP 500" in result.stderr and f"kept in {final}" in result.stderr and "--resume" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_hub.repos[repo]["commits"] == []  # the repo was created, the commit refused
    create_model("cp-vton", weights=final)  # the local result is complete
    train_lines = (out / "gmm" / "metrics.jsonl").read_text().count('"kind": "train"')

    retry = _train(data, out, env, "--hub-model-id", repo, "--resume")
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert (out / "gmm" / "metrics.jsonl").read_text().count('"kind": "train"') == train_lines  # no new training
    assert len(fake_hub.repos[repo]["commits"]) == 1
    stored = fake_hub.repo_dir(repo)
    assert (stored / "model.safetensors").read_bytes() == (final / "model.safetensors").read_bytes()
    assert "| ssim |" in (stored / "README.md").read_text()  # the card keeps the first run's metrics
