"""DAFlow checkpoint files as the authors and ModelScope publish them, written for real with ``torch.save``.

* the release ``ckpt_viton.pt``: a plain state dict of the whole ``SDAFNet_Tryon``;
* the training container of ``train_SDAFNet_viton.py``: ``{'state_dict': DataParallel keys ('module.'), 'optim':
  AdamW state, 'opt': argparse.Namespace}``;
* ModelScope ``pytorch_model.pt`` (its pipeline accepts a plain or a ``{'state_dict': ...}``-wrapped state dict);
* a file that pickles an arbitrary class: refused, and its code never runs.

A small input (64x64) keeps the forward passes fast.
"""

from __future__ import annotations

import argparse
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

import vton_zoo
from tests._inputs import random_inputs
from vton_zoo.checkpoints import to_state_dict


@pytest.fixture(scope="module")
def reference():
    """A randomly initialised daflow, its official state dict and its outputs on a 64x64 input."""
    torch.manual_seed(0)
    model = vton_zoo.create_model("daflow")
    # Non-trivial BN statistics, so a loader that dropped buffers would be caught.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.9, 1.1)
    state = model.net.state_dict()
    inputs = random_inputs(model.spec, batch=1, size=(64, 64))
    with torch.no_grad():
        outputs = model(inputs)
    return model, state, inputs, outputs


def _assert_same_outputs(model, reference):
    _, _, inputs, outputs = reference
    assert not model.training
    with torch.no_grad():
        got = model(inputs)
    assert set(got) == set(outputs)
    for name, value in outputs.items():
        assert torch.equal(got[name], value), name


def _training_container(state: dict[str, torch.Tensor]) -> dict:
    """What ``train_SDAFNet_viton.py`` saves: DataParallel state dict, AdamW state, the argparse options."""
    net = vton_zoo.create_model("daflow").net
    net.load_state_dict(state)
    optimizer = torch.optim.AdamW(net.parameters(), lr=5e-5)
    # One real step on a few parameters: the optimizer state then holds tensors (step, exp_avg, exp_avg_sq)
    # without tripling the file size.
    for p in net.dafnet.lights_decoder.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    opt = argparse.Namespace(name="viton", batch_size=8, lr=5e-5, workers=4, load_height=256, load_width=192,
                             shuffle=True, mode="train", dataset_dir="./data", dataset_imgpath="VITON/VITON_train",
                             dataset_list="VITON/train.txt", checkpoint_dir="./checkpoints/", save_dir="./results/",
                             display_freq=200, save_freq=10000, multi_flows=6)
    return {
        "state_dict": OrderedDict(("module." + k, v) for k, v in state.items()),
        "optim": optimizer.state_dict(),
        "opt": opt,
    }


def test_plain_state_dict_file(reference, tmp_path):
    """``ckpt_viton.pt``: a plain state dict, loaded strictly; same outputs as the in-memory state dict."""
    _, state, _, _ = reference
    torch.save(state, tmp_path / "ckpt_viton.pt")
    _assert_same_outputs(vton_zoo.load_official("daflow", tmp_path / "ckpt_viton.pt"), reference)
    _assert_same_outputs(vton_zoo.load_official("daflow", state), reference)


def test_training_container_file(reference, tmp_path):
    _, state, _, _ = reference
    container = _training_container(state)
    assert container["optim"]["state"], "the optimizer state should hold tensors"
    path = tmp_path / "010001_daf_viton_s1fine_viton.pt"
    torch.save(container, path)
    loaded = to_state_dict(path)
    assert list(loaded) == list(state)
    _assert_same_outputs(vton_zoo.load_official("daflow", path), reference)


@pytest.mark.parametrize("layout", ["plain", "state_dict-wrapped", "state_dict-wrapped DataParallel",
                                    "inner .module. (wrapped sub-network)"])
def test_modelscope_pytorch_model_pt(layout, reference, tmp_path):
    """ModelScope ``damo/cv_daflow_virtual-try-on_base`` ``pytorch_model.pt`` in the layouts its pipeline accepts."""
    _, state, _, _ = reference
    obj = {
        "plain": state,
        "state_dict-wrapped": {"state_dict": state},
        "state_dict-wrapped DataParallel": {"state_dict": OrderedDict(("module." + k, v) for k, v in state.items())},
        # ModelScope's loader also turns '.module.' inside keys into '.' (a DataParallel-wrapped sub-network)
        "inner .module. (wrapped sub-network)": {"state_dict": OrderedDict(
            ("module." + k.replace("dafnet.", "dafnet.module.", 1), v) for k, v in state.items())},
    }[layout]
    path = tmp_path / "pytorch_model.pt"
    torch.save(obj, path)
    _assert_same_outputs(vton_zoo.load_official("daflow", str(path)), reference)


class _Exploit:
    """Unpickling this would create a file (it must never happen)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize("where", ["top level", "inside the allow-listed Namespace"])
def test_pickled_code_refused_and_never_run(where, tmp_path):
    marker = tmp_path / "pwned"
    weights = {"dafnet.lights_encoder.0.bias": torch.zeros(32)}
    if where == "top level":
        obj = {"state_dict": weights, "opt": argparse.Namespace(lr=5e-5), "payload": _Exploit(marker)}
    else:  # allow-listing Namespace must not let arbitrary objects in through its attributes
        obj = {"state_dict": weights, "opt": argparse.Namespace(lr=5e-5, payload=_Exploit(marker))}
    path = tmp_path / "evil.pt"
    torch.save(obj, path)
    with pytest.raises(ValueError, match="pickled Python objects"):
        vton_zoo.load_official("daflow", path)
    with pytest.raises(ValueError, match="pickled Python objects"):
        to_state_dict(path)
    assert not marker.exists()


def test_wrong_checkpoint_rejected(reference):
    _, state, _, _ = reference
    with pytest.raises(ValueError, match="needs 1 official checkpoints"):
        vton_zoo.load_official("daflow", state, state)
    with pytest.raises(ValueError, match="missing keys"):
        vton_zoo.load_official("daflow", {k: v for k, v in state.items() if not k.startswith("dafnet.lights")})


def test_deep_supervision_levels(reference):
    """``return_levels`` renders after every level; the last one is the try-on itself (full resolution)."""
    model, _, inputs, outputs = reference
    reference_input = torch.cat([inputs["pose_image"], inputs["person_agnostic"]], 1)
    with torch.no_grad():
        tryon, levels = model.net(reference_input, inputs["garment"], inputs["person_agnostic"], return_levels=True)
    assert [tuple(x.shape[-2:]) for x in levels] == [(4, 4), (8, 8), (16, 16), (32, 32), (64, 64)]
    assert torch.equal(tryon, outputs["tryon"])
    torch.testing.assert_close(levels[-1], tryon, rtol=0, atol=1e-6)
