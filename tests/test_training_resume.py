"""Crash safety and multi-process training through ``python -m training`` in subprocesses:

- kill -9 a run between saves, resume it, finish: no corrupt checkpoint, at most one save interval lost, and the
  final weights equal those of an uninterrupted run (CPU training is deterministic);
- DDP on CPU (torchrun, gloo, 2 processes x batch 1) gives the weights of 1 process x batch 2.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.checkpointing import latest_checkpoint, read_state
from training.losses import VGG19Features
from vton_zoo import create_model
from vton_zoo.data import make_synthetic

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_synthetic("viton", tmp_path_factory.mktemp("resume") / "viton", n=4, size=(64, 64), seed=5)


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", VTON_TEST_THREADS="1")
    return env


def _args(data, out, steps, *extra, stage="gmm"):
    return ["-m", "training", "cp-vton", "--stage", stage, "--data", str(data), "--out", str(out), "--size", "64",
            "64", "--batch-size", "2", "--max-steps", str(steps), "--save-every", "2", "--val-batches", "1",
            "--workers", "0", "--log-every", "1", *extra]


def _weights(out, stage="gmm"):
    return load_file(str(out / stage / "final" / "model.safetensors"))


def test_kill_9_then_resume_matches_uninterrupted_run(data, tmp_path):
    steps = 8
    reference = tmp_path / "reference"
    subprocess.run([sys.executable, *_args(data, reference, steps)], env=_env(), check=True, timeout=300,
                   capture_output=True)

    crashed = tmp_path / "crashed"
    process = subprocess.Popen([sys.executable, *_args(data, crashed, steps)], env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:  # kill as soon as the second save (step 4) is in place
            checkpoint = latest_checkpoint(crashed / "gmm") if (crashed / "gmm").is_dir() else None
            if checkpoint is not None and int(read_state(checkpoint)["step"]) >= 4:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never reached its second checkpoint")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = latest_checkpoint(crashed / "gmm")
    step_at_kill = int(read_state(killed_at)["step"])
    assert 4 <= step_at_kill < steps
    assert not (crashed / "gmm" / "final").exists()
    # what was on disk at the kill is a complete checkpoint that loads strictly into the zoo model
    create_model("cp-vton", weights=killed_at, fine_height=64, fine_width=64)

    subprocess.run([sys.executable, *_args(data, crashed, steps, "--resume")], env=_env(), check=True,
                   timeout=300, capture_output=True)
    resumed = _weights(crashed)
    expected = _weights(reference)
    assert resumed.keys() == expected.keys()
    for key in expected:
        assert torch.equal(resumed[key], expected[key]), key
    assert int(read_state(latest_checkpoint(crashed / "gmm"))["step"]) == steps


@pytest.mark.skipif(shutil.which("torchrun") is None and not Path(sys.executable).with_name("torchrun").exists(),
                    reason="torchrun not installed")
def test_ddp_two_processes_equal_one_process_with_the_same_global_batch(data, tmp_path):
    # CP-VTON's TOM stage: an InstanceNorm U-Net (BatchNorm would need SyncBatchNorm, which PyTorch runs on GPUs only)
    vgg = tmp_path / "vgg.pth"
    torch.manual_seed(0)
    torch.save(VGG19Features().features.state_dict(), vgg)
    single = tmp_path / "single"
    extra = ("--vgg-weights", str(vgg))
    subprocess.run([sys.executable, *_args(data, single, 2, *extra, stage="tom")], env=_env(), check=True,
                   timeout=300, capture_output=True)
    ddp = tmp_path / "ddp"
    args = _args(data, ddp, 2, *extra, stage="tom")
    args[args.index("--batch-size") + 1] = "1"
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
                             "127.0.0.1", "--master_port", "29561", "-m", *args[1:]],
                            env=dict(_env(), TRAINING_BACKEND="gloo"), timeout=300, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    one, two = _weights(single, "tom"), _weights(ddp, "tom")
    # Adam's first steps move every weight by about lr * sign(gradient): gradients equal up to float rounding can
    # flip the sign of near-zero entries (conv biases before an InstanceNorm get no true gradient at all), so the
    # weights are compared by the share of entries whose values differ, not bitwise.
    differing = total = 0
    for key in one:
        if one[key].dim() >= 2:
            close = torch.isclose(one[key], two[key], atol=2e-5, rtol=0)
            differing += int((~close).sum())
            total += close.numel()
    assert differing / total < 0.01, differing / total
