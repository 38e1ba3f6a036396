"""The contract: official-format weights load through ``load_official`` and reproduce the official outputs."""

from __future__ import annotations

import pytest
import torch

import vton_zoo
from tests._parity import check_outputs, fixture_dirs, load_fixture, recipe_state_dicts

FIXTURES = fixture_dirs()


def _run(fixture_path, device: torch.device):
    fixture = load_fixture(fixture_path)
    if fixture.model not in vton_zoo.list_models():
        pytest.fail(f"fixture model {fixture.model!r} is not registered")
    parts = recipe_state_dicts(fixture)
    model = vton_zoo.load_official(fixture.model, *parts.values()).to(device)
    # The official state_dict layout: the same keys, in the same order, with the same shapes.
    for part, state in parts.items():
        ours = getattr(model, part).state_dict()
        assert list(ours) == list(state), f"{part}: key order differs from the official state_dict"
    inputs = {k: v.to(device) for k, v in fixture.canonical_inputs().items()}
    with torch.no_grad():
        outputs = model(inputs)
    return fixture, model, outputs


@pytest.mark.parametrize("fixture_path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_parity_cpu(fixture_path):
    fixture, _, outputs = _run(fixture_path, torch.device("cpu"))
    report = check_outputs(fixture, outputs)
    assert report  # at least one output compared


@pytest.mark.cuda
@pytest.mark.parametrize("fixture_path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_parity_cuda(fixture_path, cuda_fp32_exact):
    fixture, _, outputs = _run(fixture_path, cuda_fp32_exact)
    assert check_outputs(fixture, outputs)


def test_fixtures_present():
    assert FIXTURES, "no parity fixtures found: set VTON_PARITY_FIXTURES or put ../shared beside the repo"
