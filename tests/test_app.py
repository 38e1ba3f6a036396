"""The demo without a browser: build_demo(), the handlers' logic (one failing method among several), the Weights
tab (download + convert from a real HTTP server on 127.0.0.1, install from local files, offline), About, examples."""

from __future__ import annotations

import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import vton_zoo
from tests._app_server import install_random_weights
from vton_zoo import hub, weights
from vton_zoo.demo import about, core, examples, weights_tab


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(core.RANDOM_WEIGHTS_ENV, raising=False)
    return tmp_path / "home"


def test_build_demo_builds_without_loading_models(home):
    import gradio as gr

    from app import build_demo

    demo = build_demo()
    assert isinstance(demo, gr.Blocks)
    assert len(demo.vton_cache) == 0  # nothing loaded until a method runs
    api_names = {fn.api_name for fn in demo.fns.values()}
    assert {"tryon", "download_weights", "install_weights"} <= api_names
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    for name in vton_zoo.list_models():
        assert f"result-{name}" in ids and f"info-{name}" in ids and f"inter-{name}" in ids


def test_method_status_and_choices(home, monkeypatch):
    install_random_weights(home, "dm-vton")
    assert core.method_status("tps-baseline").state == "ready"
    assert core.method_status("dm-vton").state == "ready"
    assert core.method_status("pf-afn").state == "missing"
    assert "weights not installed" in dict((v, k) for k, v in core.method_choices())["pf-afn"]
    assert core.method_order()[0] == "tps-baseline"
    assert core.default_methods() == ["tps-baseline", "dm-vton"]
    monkeypatch.setenv(core.RANDOM_WEIGHTS_ENV, "1")
    assert core.method_status("pf-afn").state == "random"
    assert "plumbing test" in core.method_status("pf-afn").label


def test_options_parsing():
    assert core.parse_resolution("512x384") == (512, 384)
    assert core.parse_resolution("") is None
    with pytest.raises(ValueError, match="512x384"):
        core.parse_resolution("big")
    assert core.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device"):
        core.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            core.resolve_device("cuda")


def test_three_methods_one_fails_the_others_succeed(home, tmp_path):
    install_random_weights(home, "dm-vton")
    person, garment = examples.make_examples(tmp_path / "inputs", size=(384, 512))[0::4][:2]
    cache = core.PipelineCache()
    started = []
    runs = list(core.run_methods(str(person), str(garment), ["tps-baseline", "pf-afn", "dm-vton"],
                                 core.Options(device="cpu", intermediates=True), cache,
                                 on_start=lambda i, n, name: started.append((i, n, name))))
    assert started == [(0, 3, "tps-baseline"), (1, 3, "pf-afn"), (2, 3, "dm-vton")]
    by_name = {r.name: r for r in runs}
    for name in ("tps-baseline", "dm-vton"):
        run = by_name[name]
        assert run.ok, run.error
        assert run.image.size == (384, 512)  # pasted back into the original photo
        assert run.device == "cpu" and run.latency_s > 0 and "model" in run.timings
        assert {"garment_mask", "pose_overlay", "warped_garment"} <= set(run.intermediates)
        assert f"{run.latency_s:.2f} s" in run.summary()
    failed = by_name["pf-afn"]
    assert not failed.ok and failed.error_kind == "weights" and failed.image is None
    assert "python -m vton_zoo.convert pf-afn" in failed.error and "Weights not installed" in failed.summary()
    # The result differs from the photo where the garment went.
    result = np.asarray(by_name["tps-baseline"].image, dtype=np.int16)
    photo = np.asarray(Image.open(person).convert("RGB"), dtype=np.int16)
    assert np.abs(result - photo).mean() > 1.0
    # A second run reuses the loaded pipelines.
    assert len(cache) == 2
    again = core.run_method("dm-vton", str(person), str(garment), core.Options(device="cpu", full_size=False), cache)
    assert again.ok and again.timings.get("load_model", 0.0) < 1e-3 and len(cache) == 2
    assert again.image.size == (192, 256)  # model resolution

    paths, archive = core.save_results(runs, tmp_path / "run")
    assert set(paths) == {"tps-baseline", "dm-vton"}
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        report = zf.read("results.md").decode()
    assert {"tps-baseline.png", "dm-vton.png", "dm-vton/garment_mask.png", "results.md"} <= names
    assert "pf-afn" in report and "error" in report


def test_bad_input_is_reported_per_method(home, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (384, 512), (240, 240, 240)).save(blank)
    garment = examples.make_examples(tmp_path / "inputs", size=(384, 512))[3]
    (run,) = core.run_methods(str(blank), str(garment), ["tps-baseline"], core.Options(device="cpu"))
    assert not run.ok and run.error_kind == "input" and "person" in run.error.lower()
    with pytest.raises(ValueError, match="person photo"):
        next(core.run_methods(None, str(garment), ["tps-baseline"]))
    with pytest.raises(ValueError, match="at least one method"):
        next(core.run_methods(str(blank), str(garment), []))
    with pytest.raises(ValueError, match="Unknown model"):
        next(core.run_methods(str(blank), str(garment), ["nope"]))


def test_examples_are_usable_inputs(tmp_path, monkeypatch):
    from vton_zoo.preprocess import garment as garment_prep
    from vton_zoo.preprocess import pose

    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "home"))
    persons, garments = examples.local_examples()
    assert len(persons) == len(examples.FIGURES) and len(garments) == len(examples.GARMENTS)
    for path in persons:
        check = pose.assess_person(np.asarray(Image.open(path).convert("RGB")))
        assert check.ok, (path.name, check.message)
    for path in garments:
        mask = garment_prep.garment_mask(np.asarray(Image.open(path).convert("RGB")))
        assert 0.2 < mask.mean() < 0.7, path.name
    monkeypatch.delenv(examples.EXAMPLES_REPO_ENV, raising=False)
    assert examples.hub_examples() == ([], [])  # no Hub examples configured: the drawn ones only
    assert examples.examples() == (persons, garments)


def _official_pf_afn_files(folder):
    """pf-afn's two official checkpoint files, written the way the authors' code saves them (plain state dicts)."""
    model = vton_zoo.create_model("pf-afn")
    files = []
    for part, official in zip(model.spec.official_parts, model.spec.weights.official_files):
        files.append(folder / official.filename.split("/")[-1])
        torch.save(getattr(model, part).state_dict(), files[-1])
    return files


@pytest.fixture
def file_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_weights_tab_download_convert_install(home, tmp_path, file_server):
    root, url = file_server
    files = _official_pf_afn_files(tmp_path)
    with zipfile.ZipFile(root / "PFAFN.zip", "w") as zf:  # the authors ship a zip holding the folder PFAFN/
        for path in files:
            zf.write(path, f"PFAFN/{path.name}")
    steps = []
    assert weights.status("pf-afn") == "missing"
    folder = weights_tab.download_and_install(
        "pf-afn", sources=[weights_tab.Download(f"{url}/PFAFN.zip", "PFAFN.zip", archive="zip")],
        progress=lambda fraction, text: steps.append((fraction, text)))
    assert weights.status("pf-afn") == "installed" and folder == weights.install_dir("pf-afn")
    assert steps[-1] == (1.0, "installed") and any(text == "converting" for _, text in steps)
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)
    rows = {row[0]: row for row in weights_tab.status_rows()}
    assert rows["pf-afn"][1] == "installed" and rows["tps-baseline"][1] == "built-in"
    assert core.method_status("pf-afn").state == "ready"


def test_weights_tab_local_files_and_offline(home, tmp_path, monkeypatch):
    files = _official_pf_afn_files(tmp_path)
    with pytest.raises(ValueError, match="needs 2 file"):
        weights_tab.install_local("pf-afn", files[:1])
    weights_tab.install_local("pf-afn", list(reversed(files)))  # matched by name, any order
    assert weights.status("pf-afn") == "installed"
    with pytest.raises(ValueError, match="needs no weights"):
        weights_tab.install_local("tps-baseline", files)
    with pytest.raises(ValueError, match="cannot be downloaded automatically"):
        weights_tab.download_and_install("gp-vton")
    monkeypatch.setenv("VTON_ZOO_OFFLINE", "1")
    with pytest.raises(hub.DownloadError) as info:
        weights_tab.download_and_install("dm-vton")
    assert info.value.offline and "offline" in str(info.value)


def test_about_tab_shows_papers_and_reports(home):
    text = about.about_markdown()
    for name in vton_zoo.list_models():
        assert f"`{name}`" in text
    assert "arxiv.org/abs/2103.04559" in text and "No evaluation report yet" in text
    (home / "reports").mkdir(parents=True)
    (home / "reports" / "viton_eval.md").write_text("| method | FID |\n|---|---|\n| pf-afn | 10.1 |\n")
    text = about.about_markdown()
    assert "| pf-afn | 10.1 |" in text and "viton_eval" in text


def test_about_tab_shows_the_evaluation_report_plots(home, tmp_path):
    """A report written by ``python -m vton_zoo.eval report`` (default folder) reaches the About tab, with plots."""
    import json

    from vton_zoo.eval.report import build_report

    assert about.report_plots() == []
    runs = []
    for model, fid, ms in (("tps-baseline", 61.5, 310.0), ("dm-vton", 18.2, 420.0)):
        run = tmp_path / model
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps({
            "model": model, "weights": "test", "layout": "viton-hd", "pairs": "unpaired", "num_pairs": 4,
            "resolution": [512, 384], "fid": fid, "kid": 0.01, "runtime_ms_per_image": ms, "peak_memory_mb": 900.0,
            "device": "cpu"}))
        runs.append(run)
    written = build_report(runs)
    assert Path(written["markdown"]).parent == home / "reports"
    plots = about.report_plots()
    assert plots and all(Path(p).is_file() and Path(p).parent == home / "reports" for p in plots)
    text = about.about_markdown()
    assert "tps-baseline" in text and "61.50" in text
