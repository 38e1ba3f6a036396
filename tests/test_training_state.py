"""The trainer state (``trainer_state.pt``) never unpickles code, and what it holds resumes exactly.

``--resume`` reads the state of the newest checkpoint in a run folder; run folders get shared and downloaded, so a
crafted ``trainer_state.pt`` must be refused without running anything it names.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from training.checkpointing import STATE_NAME, read_state
from training.engine import _rng_state, _set_rng_state

ROOT = Path(__file__).parent.parent


class _Payload:
    """Pickles to a call of ``exec``: loading it with weights_only=False writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",)


def _crafted_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "marker.txt"
    folder = tmp_path / "checkpoints" / "step-0000002"
    folder.mkdir(parents=True)
    # the shape of a real state, with the payload where the RNG state goes
    torch.save({"step": 2, "epoch": 0, "optimizer": {"state": {}, "param_groups": []}, "rng": _Payload(marker)},
               folder / STATE_NAME)
    return folder, marker


def test_crafted_trainer_state_is_refused_and_runs_nothing(tmp_path):
    folder, marker = _crafted_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="refusing to unpickle") as info:
        read_state(folder)
    assert str(folder / STATE_NAME) in str(info.value)
    assert not marker.exists()


def test_resume_cli_refuses_a_crafted_state(tmp_path):
    """The whole ``python -m training ... --resume`` path: exit with our error, the payload never runs."""
    from vton_zoo.data import make_synthetic

    data = make_synthetic("viton", tmp_path / "viton", n=2, size=(64, 64), seed=1)
    out = tmp_path / "run"
    args = [sys.executable, "-m", "training", "cp-vton", "--stage", "gmm", "--data", str(data), "--out", str(out),
            "--size", "64", "64", "--batch-size", "2", "--max-steps", "2", "--save-every", "2", "--val-batches", "1",
            "--workers", "0"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", VTON_TEST_THREADS="1")
    subprocess.run(args, env=env, check=True, timeout=300, capture_output=True)
    checkpoint = out / "gmm" / "checkpoints" / (out / "gmm" / "checkpoints" / "LATEST").read_text().strip()
    assert read_state(checkpoint)["step"] == 2  # what the trainer itself wrote loads with weights_only=True
    marker = tmp_path / "marker.txt"
    torch.save({"step": 2, "rng": _Payload(marker)}, checkpoint / STATE_NAME)
    result = subprocess.run([*args, "--resume"], env=env, timeout=300, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "error: " in result.stderr and "refusing to unpickle" in result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_rng_state_round_trips_through_a_weights_only_file(tmp_path):
    """torch, numpy and python RNGs continue exactly where they were after save + weights_only load."""
    torch.manual_seed(3)
    np.random.seed(4)
    random.seed(5)
    np.random.standard_normal()  # a cached Gaussian in numpy's legacy state
    random.gauss(0, 1)  # and python's gauss_next
    state = _rng_state()
    expected = (torch.rand(4), np.random.standard_normal(3), np.random.rand(2), random.random(), random.gauss(0, 1))
    folder = tmp_path / "ckpt"
    folder.mkdir()
    torch.save({"step": 7, "rng": state}, folder / STATE_NAME)
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    loaded = read_state(folder)
    _set_rng_state(loaded["rng"])
    got = (torch.rand(4), np.random.standard_normal(3), np.random.rand(2), random.random(), random.gauss(0, 1))
    assert torch.equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2], expected[2])
    assert got[3:] == expected[3:]


def test_optimizer_and_scheduler_state_load_weights_only(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** step)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    folder = tmp_path / "ckpt"
    folder.mkdir()
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": _rng_state()},
               folder / STATE_NAME)
    state = read_state(folder)
    fresh = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    fresh.load_state_dict(state["optimizer"])
    for key, value in optimizer.state_dict()["state"][0].items():
        assert torch.equal(torch.as_tensor(fresh.state_dict()["state"][0][key]), torch.as_tensor(value)), key
