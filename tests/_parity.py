"""Helpers for the parity contract in ../shared/fixtures/parity (see the README there).

Nothing here knows a particular fixture: the salt, keys, shapes, names and tolerances all come from each
``manifest.json``, so a held-out fixture folder of the same layout works unchanged.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VTON_SHARED", REPO.parent / "shared"))
FIXTURE_ROOT = Path(os.environ.get("VTON_PARITY_FIXTURES", SHARED / "fixtures" / "parity"))


def fixture_dirs() -> list[Path]:
    if not FIXTURE_ROOT.is_dir():
        return []
    return sorted(p for p in FIXTURE_ROOT.iterdir() if (p / "manifest.json").is_file())


@dataclass
class Fixture:
    path: Path
    manifest: dict

    @property
    def model(self) -> str:
        return self.manifest["model"]

    def inputs(self) -> dict[str, np.ndarray]:
        with np.load(self.path / "inputs.npz") as data:
            return {k: data[k] for k in data.files}

    def outputs(self) -> dict[str, np.ndarray]:
        with np.load(self.path / "outputs.npz") as data:
            return {k: data[k] for k in data.files}

    def canonical_inputs(self) -> dict[str, torch.Tensor]:
        names = self.manifest["canonical_names"]["inputs"]
        return {names[k]: torch.from_numpy(v) for k, v in self.inputs().items()}


def load_fixture(path: Path) -> Fixture:
    return Fixture(path, json.loads((path / "manifest.json").read_text()))


def recipe_tensor(key: str, shape: list[int], dtype: str, salt: str) -> torch.Tensor:
    """One tensor of the deterministic weight recipe (fixtures README, "Deterministic weights recipe")."""
    if key.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.int64)
    if key.endswith("running_mean"):
        return torch.zeros(shape, dtype=torch.float32)
    if key.endswith("running_var"):
        return torch.ones(shape, dtype=torch.float32)
    seed = zlib.crc32((salt + key).encode("utf-8"))
    x = np.random.default_rng(seed).standard_normal(tuple(shape))
    if key.endswith("weight_u") or key.endswith("weight_v"):
        w = x / np.linalg.norm(x)
    elif x.ndim >= 2:
        w = x / math.sqrt(math.prod(shape[1:]))
    elif x.ndim == 1 and key.endswith("weight"):
        w = 1 + 0.1 * x
    else:
        w = 0.1 * x
    assert dtype == "float32", (key, dtype)
    return torch.from_numpy(w.astype(np.float32))


def spectral_norm_rule(state: dict[str, torch.Tensor]) -> None:
    """The extra rule for the old spectral-norm keys: one power-iteration step, v first (README, rmgn)."""
    for key in list(state):
        if not key.endswith(".weight_orig"):
            continue
        prefix = key[: -len("weight_orig")]
        weight = state[key].double().numpy().reshape(state[key].shape[0], -1)
        u0 = state[prefix + "weight_u"].double().numpy()
        v = weight.T @ u0
        v = v / np.linalg.norm(v)
        u = weight @ v
        u = u / np.linalg.norm(u)
        state[prefix + "weight_v"] = torch.from_numpy(v.astype(np.float32))
        state[prefix + "weight_u"] = torch.from_numpy(u.astype(np.float32))


def recipe_state_dicts(fixture: Fixture) -> dict[str, dict[str, torch.Tensor]]:
    """Build every part's official state dict from the recipe and check it against the manifest checksums."""
    salt = fixture.manifest["salt"]
    parts = {}
    for part, entries in fixture.manifest["state_dicts"].items():
        state = {key: recipe_tensor(key, shape, dtype, salt) for key, shape, dtype, _, _ in entries}
        if any(k.endswith(".weight_orig") for k in state):
            spectral_norm_rule(state)
        for key, shape, _, total, total_sq in entries:
            t = state[key].double()
            assert list(t.shape) == list(shape), key
            assert math.isclose(float(t.sum()), total, rel_tol=1e-9, abs_tol=1e-12), (part, key, "sum")
            assert math.isclose(float((t * t).sum()), total_sq, rel_tol=1e-9, abs_tol=1e-12), (part, key, "sumsq")
        parts[part] = state
    return parts


def compare(name: str, ours: np.ndarray, theirs: np.ndarray, tolerance: dict,
            exclude: np.ndarray | None = None) -> dict:
    """Compare one output; returns the figures and raises AssertionError when out of tolerance.

    ``exclude`` is a boolean mask broadcastable to the arrays: pixels that may differ (GP-VTON's fragile pixels).
    """
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} vs fixture {theirs.shape}"
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    keep = np.ones_like(diff, dtype=bool) if exclude is None else ~np.broadcast_to(exclude, diff.shape)
    max_abs = float(diff[keep].max()) if keep.any() else 0.0
    ref = theirs.astype(np.float64)[keep]
    rel_l2 = float(np.linalg.norm(diff[keep]) / max(np.linalg.norm(ref), 1e-30))
    figures = {"max_abs": max_abs, "rel_l2": rel_l2, "excluded": int((~keep).sum())}
    if "rule" in tolerance:  # exact outside the fragile pixels
        assert max_abs == 0.0, f"{name}: {int((diff[keep] > 0).sum())} pixels differ outside the fragile list"
    else:
        assert max_abs <= tolerance["max_abs"], f"{name}: max |diff| {max_abs:.3g} > {tolerance['max_abs']}"
        assert rel_l2 <= tolerance["rel_l2"], f"{name}: relL2 {rel_l2:.3g} > {tolerance['rel_l2']}"
    return figures


def fragile_mask(fixture: Fixture, official_name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """Boolean (B, 1, H, W) mask of the manifest's fragile pixels for one output, or None."""
    pixels = fixture.manifest.get("fragile_pixels", {}).get(official_name)
    if not pixels:
        return None
    mask = np.zeros((shape[0], 1, shape[-2], shape[-1]), dtype=bool)
    for b, y, x in pixels:
        mask[b, 0, y, x] = True
    return mask


def check_outputs(fixture: Fixture, outputs: dict[str, torch.Tensor], only: set[str] | None = None) -> dict:
    """Compare every recorded output (or those in ``only``) with the fixture; returns per-output figures."""
    stored = fixture.outputs()
    tolerances = fixture.manifest["suggested_tolerance"]["per_output"]
    names = fixture.manifest["canonical_names"]["outputs"]
    report = {}
    for official, meta in fixture.manifest["outputs"].items():
        if only is not None and official not in only:
            continue
        ours_t = outputs[names[official]].detach().float().cpu()
        assert list(ours_t.shape) == meta["shape"], f"{official}: shape {list(ours_t.shape)} vs {meta['shape']}"
        ours = ours_t.numpy()
        if official in stored:
            theirs = stored[official]
        else:
            theirs = stored[official + "__sub8"]
            ours = ours[..., ::8, ::8]
        exclude = fragile_mask(fixture, official, meta["shape"])
        if exclude is not None and theirs.shape != tuple(meta["shape"]):
            exclude = exclude[..., ::8, ::8]
        tol = tolerances[official]
        if "end_to_end" in tol:  # gp-vton: whole-model tolerance (its generator_only one is in test_gp_vton.py)
            tol = tol["end_to_end"]
        report[official] = compare(official, ours, theirs, tol, exclude)
        # Whole-tensor statistics (they cover the rows a sub-sampled output does not store).
        stats = meta["stats"]
        limit = tol.get("max_abs", 0.0) if "rule" not in tol else 0.0
        full = ours_t.double()
        if exclude is None:
            assert abs(float(full.mean()) - stats["mean"]) <= max(limit, 1e-6), f"{official}: mean differs"
            assert float(full.min()) >= stats["min"] - limit - 1e-6, f"{official}: min differs"
            assert float(full.max()) <= stats["max"] + limit + 1e-6, f"{official}: max differs"
    return report
