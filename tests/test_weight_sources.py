"""The official weights reach the user: every kind of source, offline, against stand-ins of the real hosts.

tests/_source_server.py answers for drive.google.com (file confirm page, folder listing, quota page),
api.github.com + github.com + objects.githubusercontent.com (release API, redirect, asset), modelscope.cn (file API)
and the DAFlow OSS bucket, behind an HTTPS proxy: the download code runs unchanged on the specs' real URLs.

The files served are the EXACT upstream containers, filled with the parity fixtures' weight recipe:
PF-AFN: a zip of checkpoints/PFAFN/{warp,gen}_model_final.pth (plain state dicts, torch 1.1's legacy format);
DM-VTON: {'epoch', 'best_fid': numpy float64, 'model', 'optimizer': Adam state} per part (train_pf_e2e.py);
DAFlow: ckpt_viton.pt (plain state dict) on OSS; ModelScope pytorch_model.pt ({'state_dict': DataParallel keys}).
End to end, ``python -m vton_zoo weights download NAME`` runs in a subprocess and a forward pass of the installed
weights reproduces the fixture's official outputs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import vton_zoo
from tests._parity import FIXTURE_ROOT, check_outputs, load_fixture, recipe_state_dicts
from tests._source_server import FakeSources
from vton_zoo import hub, weights

ROOT = Path(__file__).resolve().parents[1]
PFAFN_ID = "1_a0AiN8Y_d_9TNDhHIcRlERz3zptyYWV"
DMVTON_RELEASE = "https://api.github.com/repos/KiseKloset/DM-VTON/releases/tags/1.0.0"
DMVTON_FOLDER = "1wfWGsR0vWC5LrA26xhj92ec_GoCKV80A"
DAFLOW_OSS = "https://ofa-beijing.oss-cn-beijing.aliyuncs.com/checkpoints/ckpt_viton.pt"
DAFLOW_MODELSCOPE = ("https://modelscope.cn/api/v1/models/damo/cv_daflow_virtual-try-on_base/repo"
                     "?Revision=master&FilePath=pytorch_model.pt")

pytestmark = pytest.mark.skipif(not (FIXTURE_ROOT / "dm-vton").is_dir(), reason="parity fixtures not found")


def _dm_vton_container(state: dict[str, torch.Tensor]) -> dict:
    """What DM-VTON's train_pf_e2e.py saves: epoch, best_fid (numpy float64 from its FID code), model, optimizer."""
    params = [torch.nn.Parameter(v.clone()) for v in state.values() if v.is_floating_point()][:4]
    optimizer = torch.optim.Adam(params, lr=5e-5, betas=(0.5, 0.999))
    for p in params:
        p.grad = torch.ones_like(p)
    optimizer.step()  # the optimizer state then holds tensors (step, exp_avg, exp_avg_sq)
    return {"epoch": 100, "best_fid": np.float64(28.21), "model": state, "optimizer": optimizer.state_dict()}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The upstream files of pf-afn, dm-vton and daflow, built from the parity recipe."""
    root = tmp_path_factory.mktemp("upstream")
    out = {}
    pf = recipe_state_dicts(load_fixture(FIXTURE_ROOT / "pf-afn"))
    out["pf-afn.zip"] = root / "PFAFN_checkpoints.zip"
    with zipfile.ZipFile(out["pf-afn.zip"], "w", zipfile.ZIP_STORED) as archive:
        for part, name in (("warp", "warp_model_final.pth"), ("gen", "gen_model_final.pth")):
            torch.save(pf[part], root / name, _use_new_zipfile_serialization=False)  # torch 1.1's format
            archive.write(root / name, f"checkpoints/PFAFN/{name}")
            (root / name).unlink()
        archive.writestr("checkpoints/PBAFN/README.txt", "teacher checkpoints")
    dm = recipe_state_dicts(load_fixture(FIXTURE_ROOT / "dm-vton"))
    for part, name in (("warp", "dmvton_pf_warp.pt"), ("gen", "dmvton_pf_gen.pt")):
        torch.save(_dm_vton_container(dm[part]), root / name)
        out[name] = root / name
    daflow = recipe_state_dicts(load_fixture(FIXTURE_ROOT / "daflow"))["net"]
    torch.save(daflow, root / "ckpt_viton.pt")
    out["ckpt_viton.pt"] = root / "ckpt_viton.pt"
    torch.save({"state_dict": OrderedDict(("module." + k, v) for k, v in daflow.items())},
               root / "pytorch_model.pt")
    out["pytorch_model.pt"] = root / "pytorch_model.pt"
    return out


@pytest.fixture()
def fake(tmp_path, monkeypatch):
    with FakeSources(tmp_path / "sources") as server:
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
        for key in ("VTON_ZOO_OFFLINE", "HF_HUB_OFFLINE"):
            monkeypatch.delenv(key, raising=False)
        yield server


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "zoo"))
    return tmp_path / "zoo"


def _serve_dm_vton(fake: FakeSources, files: dict, mode: str = "ok") -> None:
    fake.release(DMVTON_RELEASE, {"dmvton_pf_warp.pt": files["dmvton_pf_warp.pt"],
                                  "dmvton_pf_gen.pt": files["dmvton_pf_gen.pt"]}, mode)
    fake.drive_folder(DMVTON_FOLDER, "DM-VTON checkpoints", [
        ("1DmVtonWarpAAAAAAAAAAAAAAAAAAAAAA", "dmvton_pf_warp.pt", files["dmvton_pf_warp.pt"]),
        ("1DmVtonGenAAAAAAAAAAAAAAAAAAAAAAA", "dmvton_pf_gen.pt", files["dmvton_pf_gen.pt"]),
        ("1DmVtonDemoAAAAAAAAAAAAAAAAAAAAAA", "mobile_warp.pt", b"not wanted"),
    ], mode)


def _cli(env_extra: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VTON_ZOO_OFFLINE", "HF_HUB_OFFLINE")}
    env.update(env_extra, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "vton_zoo", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def _parity(name: str) -> None:
    """The installed weights reproduce the fixture's official outputs."""
    fixture = load_fixture(FIXTURE_ROOT / name)
    model = vton_zoo.create_model(name, weights=weights.installed(name))
    with torch.no_grad():
        outputs = model(fixture.canonical_inputs())
    assert check_outputs(fixture, outputs)


def _leftovers(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*")
                  if p.name.startswith(".") or p.name.endswith(".part"))


# ---------------------------------------------------------------------------------------------------------------
# End to end: the CLI downloads, a forward pass reproduces the official outputs


def test_cli_github_release_then_drive_folder(files, fake, home):
    """dm-vton: release API -> redirect -> asset; then, the release gone, the README's Drive folder."""
    _serve_dm_vton(fake, files)
    env = {**fake.env, "VTON_ZOO_HOME": str(home)}
    result = _cli(env, "weights", "download", "dm-vton")
    assert result.returncode == 0, result.stderr
    assert "CC BY-NC-SA" in result.stderr  # the licence is shown before downloading
    assert fake.hits("api.github.com") and fake.hits("objects.githubusercontent.com")
    assert not fake.hits("drive.google.com")
    _parity("dm-vton")
    config = json.loads((home / "weights" / "dm-vton" / "config.json").read_text())
    assert [f["file"] for f in config["source"]["converted_from"]] == ["dmvton_pf_warp.pt", "dmvton_pf_gen.pt"]

    fake.fail_release = 404
    fake.requests.clear()
    result = _cli(env, "weights", "download", "dm-vton")
    assert result.returncode == 0, result.stderr
    drive = fake.hits("drive.google.com")
    assert drive[0] == f"/embeddedfolderview?id={DMVTON_FOLDER}"
    assert not any("Demo" in path for path in drive), "only the official files are fetched from the folder"
    assert fake.hits("drive.usercontent.google.com"), "Drive's confirm page was followed"
    _parity("dm-vton")
    assert _leftovers(home) == []


def test_cli_drive_file_zip(files, fake, home):
    """pf-afn: one Drive file (confirm page), a zip keeping checkpoints/PFAFN/ at depth, torch 1.1 legacy files."""
    fake.drive_file(PFAFN_ID, files["pf-afn.zip"], "PFAFN.zip")
    result = _cli({**fake.env, "VTON_ZOO_HOME": str(home)}, "weights", "download", "pf-afn")
    assert result.returncode == 0, result.stderr
    assert fake.hits("drive.usercontent.google.com")
    _parity("pf-afn")
    assert _leftovers(home) == [] and not any((home / "downloads" / "pf-afn").iterdir())


def test_cli_plain_url_then_modelscope(files, fake, home):
    """daflow: the README's OSS URL; with it gone (404), ModelScope's file API ({'state_dict': 'module.' keys})."""
    fake.url_file(DAFLOW_OSS, files["ckpt_viton.pt"])
    fake.url_file(DAFLOW_MODELSCOPE, files["pytorch_model.pt"])
    env = {**fake.env, "VTON_ZOO_HOME": str(home)}
    result = _cli(env, "weights", "download", "daflow")
    assert result.returncode == 0, result.stderr
    assert not fake.hits("modelscope.cn")
    _parity("daflow")
    fake.url_file(DAFLOW_OSS, files["ckpt_viton.pt"], mode="404")
    result = _cli(env, "weights", "download", "daflow")
    assert result.returncode == 0, result.stderr
    assert fake.hits("modelscope.cn")
    _parity("daflow")
    verify = _cli(env, "weights", "verify", "daflow", "gp-vton")
    assert verify.returncode == 0 and "daflow: installed" in verify.stdout, verify.stdout


# ---------------------------------------------------------------------------------------------------------------
# What arrives is checked before it is kept; the next try starts clean


def test_truncated_transfer_without_length_is_not_kept(files, fake, home):
    """The defect: a transfer cut short without Content-Length used to be renamed into place and reused forever."""
    fake.url_file(DAFLOW_OSS, files["ckpt_viton.pt"], mode="truncate")
    fake.url_file(DAFLOW_MODELSCOPE, files["pytorch_model.pt"], mode="404")
    with pytest.raises(hub.DownloadError) as info:
        weights.download_official("daflow")
    message = str(info.value)
    assert "not a readable PyTorch checkpoint" in message and "HTTP 404" in message
    assert not info.value.offline
    assert weights.status("daflow") == "missing" and _leftovers(home) == []
    assert not any((home / "downloads" / "daflow").iterdir())
    fake.url_file(DAFLOW_OSS, files["ckpt_viton.pt"])  # the server recovers: the next try fetches it again
    before = len(fake.hits("ofa-beijing.oss-cn-beijing.aliyuncs.com"))
    weights.download_official("daflow")
    assert len(fake.hits("ofa-beijing.oss-cn-beijing.aliyuncs.com")) == before + 1
    assert weights.status("daflow") == "installed"


def test_transfer_cut_against_content_length(files, fake, home):
    _serve_dm_vton(fake, files, mode="cut")
    with pytest.raises(hub.DownloadError, match=r"interrupted after \d+ of \d+ bytes"):
        weights.download_official("dm-vton")
    assert weights.status("dm-vton") == "missing" and _leftovers(home) == []


def test_html_page_instead_of_a_file(files, fake, home):
    _serve_dm_vton(fake, files, mode="html")
    with pytest.raises(hub.DownloadError) as info:
        weights.download_official("dm-vton")
    assert "HTML page (Error 500 (Server Error))" in str(info.value)
    assert "Google Drive returned an HTML page" in str(info.value)  # the folder's files too
    assert weights.status("dm-vton") == "missing" and _leftovers(home) == []


def test_drive_quota_page(files, fake, home):
    fake.drive_file(PFAFN_ID, files["pf-afn.zip"], "PFAFN.zip", mode="quota")
    with pytest.raises(hub.DownloadError) as info:
        weights.download_official("pf-afn")
    assert "Google Drive returned an HTML page: quota exceeded" in str(info.value)
    assert "try later or download it in a browser" in str(info.value)
    assert "weights install pf-afn" in str(info.value)
    assert weights.status("pf-afn") == "missing" and _leftovers(home) == []


def test_wrong_archive_says_what_arrived(fake, home, tmp_path):
    wrong = tmp_path / "wrong.zip"
    with zipfile.ZipFile(wrong, "w") as archive:
        archive.writestr("checkpoints/PBAFN/PBAFN_warp_epoch_101.pth", b"\0" * (2 << 20))
    fake.drive_file(PFAFN_ID, wrong, "PFAFN.zip")
    with pytest.raises(hub.DownloadError) as info:
        weights.download_official("pf-afn")
    assert "gen_model_final.pth not found in what arrived" in str(info.value)
    assert "PBAFN_warp_epoch_101.pth" in str(info.value)
    assert weights.status("pf-afn") == "missing" and _leftovers(home) == []


def test_offline_host_and_offline_mode(files, home, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there: every host unreachable
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("VTON_ZOO_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(hub.DownloadError) as info:
        weights.download_official("dm-vton", timeout=5)
    assert info.value.offline
    monkeypatch.setenv("VTON_ZOO_OFFLINE", "1")
    with pytest.raises(hub.DownloadError, match="offline mode") as info:
        weights.download_official("daflow")
    assert info.value.offline
    with pytest.raises(ValueError, match="expired"):
        weights.download_official("gp-vton")
    assert weights.live_sources("cp-vton") == [] and weights.live_sources("tps-baseline") == []


def test_install_local_archive_and_files_any_order(files, home, tmp_path):
    assert weights.install_local("pf-afn", [files["pf-afn.zip"]]) == weights.install_dir("pf-afn")
    weights.install_local("dm-vton", [files["dmvton_pf_gen.pt"], files["dmvton_pf_warp.pt"]])
    _parity("dm-vton")
    (tmp_path / "page.pth").write_text("<html><title>Google Drive - Quota exceeded</title>quota</html>")
    with pytest.raises(ValueError, match="quota exceeded"):
        weights.install_local("daflow", [tmp_path / "page.pth"])
    assert weights.status("daflow") == "missing"


# ---------------------------------------------------------------------------------------------------------------
# Killed installs and downloads


_KILL_BETWEEN_RENAMES = """
import os, signal, sys
from vton_zoo import weights
def replace_folder_kill(src, dst):
    old = weights._staging(dst.parent, f".{dst.name}-old-")
    os.replace(dst, old / dst.name)
    os.kill(os.getpid(), signal.SIGKILL)  # a real kill between the two renames
weights._replace_folder = replace_folder_kill
weights.install_local("dm-vton", sys.argv[1:])
"""


def test_kill_between_the_two_renames_recovers_the_old_weights(files, home, tmp_path):
    weights.install_local("dm-vton", [files["dmvton_pf_warp.pt"], files["dmvton_pf_gen.pt"]])
    before = (home / "weights" / "dm-vton" / "model.safetensors").read_bytes()
    other = vton_zoo.create_model("dm-vton")  # different (random) weights, to install over the good ones
    torch.save(other.warp.state_dict(), tmp_path / "dmvton_pf_warp.pt")
    torch.save(other.gen.state_dict(), tmp_path / "dmvton_pf_gen.pt")
    env = {**os.environ, "VTON_ZOO_HOME": str(home), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", _KILL_BETWEEN_RENAMES, str(tmp_path / "dmvton_pf_warp.pt"),
                             str(tmp_path / "dmvton_pf_gen.pt")], env=env, capture_output=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not (home / "weights" / "dm-vton").exists()
    assert [p.name for p in (home / "weights").iterdir() if p.name.startswith(".dm-vton-old-")]
    assert weights.status("dm-vton") == "installed"  # recovered on the status check
    assert (home / "weights" / "dm-vton" / "model.safetensors").read_bytes() == before
    assert _leftovers(home) == []
    _parity("dm-vton")


def test_kill_during_download_leaves_nothing_behind(files, fake, home):
    _serve_dm_vton(fake, files, mode="stall")
    env = {**fake.env, "VTON_ZOO_HOME": str(home), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "vton_zoo", "weights", "download", "dm-vton"], env=env,
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list((home / "downloads").rglob("*.part")):
            time.sleep(0.1)
        assert list((home / "downloads").rglob("*.part")), "the download never started"
    finally:
        process.kill()
        process.wait(30)
    assert _leftovers(home)  # what the killed process left
    actions = weights.cleanup_interrupted()
    assert any("interrupted download" in a for a in actions)
    assert _leftovers(home) == [] and weights.status("dm-vton") == "missing"
    _serve_dm_vton(fake, files)
    weights.download_official("dm-vton")
    assert weights.status("dm-vton") == "installed"


# ---------------------------------------------------------------------------------------------------------------
# Background fetch (what the app starts on a Space)


def test_background_fetch(files, fake, home):
    _serve_dm_vton(fake, files)
    landed = []
    fetch = weights.BackgroundFetch(["dm-vton", "gp-vton", "tps-baseline", "daflow"],
                                    on_installed=lambda name, folder: landed.append((name, folder)))
    assert fetch.start() is fetch and fetch.start() is fetch  # idempotent
    fetch.join(120)
    assert not fetch.running
    states = fetch.snapshot()
    assert states["dm-vton"].state == "installed" and states["dm-vton"].fraction == 1.0
    assert states["gp-vton"].state == "skipped" and "expired" in states["gp-vton"].message
    assert states["tps-baseline"].state == "skipped"
    assert states["daflow"].state == "failed" and "HTTP 404" in states["daflow"].message  # OSS and ModelScope 404
    assert landed == [("dm-vton", weights.install_dir("dm-vton"))]
    assert set(states) == {"dm-vton", "gp-vton", "tps-baseline", "daflow"}


# ---------------------------------------------------------------------------------------------------------------
# The real sources (run with -m network on a machine that is online)


@pytest.mark.network
@pytest.mark.parametrize("name, kind", [("pf-afn", "gdrive-file"), ("dm-vton", "github-release"),
                                        ("dm-vton", "gdrive-folder"), ("rmgn", "gdrive-file"), ("daflow", "url"),
                                        ("daflow", "modelscope")])
def test_real_source(name, kind, home, monkeypatch):
    """Each real source, alone: downloaded, checked, converted and loadable."""
    source = next(s for s in weights.live_sources(name) if s.kind == kind)
    spec = vton_zoo.get_spec(name)
    monkeypatch.setattr(type(spec.weights), "live_sources", lambda self: (source,))
    folder = weights.download_official(name)
    assert weights.verify(name).ok and folder == weights.install_dir(name)


def test_rmgn_tar_archive_at_depth(home, tmp_path):
    """RMGN's Drive archive may be a tar as well as a zip: files found by name at any depth, loaded strictly."""
    import tarfile

    from safetensors.torch import load_file

    parts = recipe_state_dicts(load_fixture(FIXTURE_ROOT / "rmgn"))
    archive = tmp_path / "RMGN.tar"
    with tarfile.open(archive, "w") as tar:
        for part in ("warp", "gen"):
            name = tmp_path / f"RMGN_{part}_epoch_030.pth"
            torch.save(parts[part], name)
            tar.add(name, f"RMGN-VITON/checkpoints/RMGN_{part}_epoch_030.pth")
            name.unlink()
    folder = weights.install_local("rmgn", [archive])
    archive.unlink()
    saved = load_file(str(folder / "model.safetensors"))
    for part, state in parts.items():
        for key, value in state.items():
            assert torch.equal(saved[f"{part}.{key}"], value), key
    assert weights.verify("rmgn").ok and _leftovers(home) == []
