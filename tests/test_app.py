"""The demo without a browser: build_demo(), the run logic (one line per method that cannot run, the photos checked
once, the garment category), the admin lock over real HTTP (API listing and direct calls), the Weights tab's wording,
the example photos from a stand-in of the Space on 127.0.0.1, and the About tab."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vton_zoo
from tests._app_server import install_random_weights
from tests._parity import SHARED
from tests._space_server import FakeSpace, stand_in_space_files
from vton_zoo import weights
from vton_zoo.demo import about, core, examples, weights_tab

REAL = SHARED / "samples" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} not found")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VTON_ZOO_EXAMPLES", "drawn")
    for name in (core.RANDOM_WEIGHTS_ENV, "SPACE_ID", core.ADMIN_TOKEN_ENV, "GRADIO_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Drawn example photos at 384x512: persons first, then garments (all T-shirts)."""
    paths = examples.make_examples(tmp_path_factory.mktemp("drawn"), size=(384, 512))
    return paths[:len(examples.FIGURES)], paths[len(examples.FIGURES):]


# --------------------------------------------------------------------------------------------------------------------
# The page


def test_build_demo_builds_without_loading_models(home):
    import gradio as gr

    from app import build_demo

    demo = build_demo()
    assert isinstance(demo, gr.Blocks)
    assert len(demo.vton_cache) == 0  # nothing loaded until a method runs
    public = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert public == {"tryon"}  # the only endpoint in the API; everything else is page plumbing
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    for name in vton_zoo.list_models():
        assert {f"result-{name}", f"info-{name}", f"inter-{name}", f"line-{name}"} <= ids
    assert {"person", "garment", "category", "methods", "run", "download-all", "install-local"} <= ids


def test_method_status_labels(home, monkeypatch):
    install_random_weights(home, "dm-vton")
    assert core.method_status("tps-baseline").state == "ready"
    assert core.method_status("dm-vton").state == "ready"
    missing = core.method_status("pf-afn")
    assert missing.state == "missing" and missing.downloadable
    labels = {name: label for label, name in core.method_choices()}
    assert labels["dm-vton"] == "DM-VTON" and labels["pf-afn"] == "PF-AFN · no weights"
    assert core.method_order()[0] == "tps-baseline"
    assert core.default_methods() == ["tps-baseline", "dm-vton"]
    monkeypatch.setenv(core.RANDOM_WEIGHTS_ENV, "1")
    assert core.method_status("pf-afn").state == "random"
    assert "random weights" in core.method_status("pf-afn").label


@pytest.mark.parametrize("content", ["[]", '"str"', "null", "{not json"])
def test_a_bad_config_json_marks_the_method_broken_and_the_page_stays_up(home, content):
    folder = install_random_weights(home, "dm-vton")
    (folder / "config.json").write_text(content)
    status = core.method_status("dm-vton")
    assert status.state == "broken" and status.label == "DM-VTON · weights broken"
    assert "weights broken" in core.method_line(status)
    rows = {row[0]: row for row in weights_tab.status_rows()}
    assert rows["DM-VTON (dm-vton)"][1] == "broken"
    from app import build_demo

    build_demo()  # no exception


def test_options_parsing():
    assert core.parse_resolution("512x384") == (512, 384)
    assert core.parse_resolution("") is None
    with pytest.raises(ValueError, match="512x384"):
        core.parse_resolution("big")
    assert core.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device"):
        core.resolve_device("tpu")
    with pytest.raises(ValueError, match="category must be"):
        core.Options(category="shoes")


def test_method_lines_are_one_compact_escaped_line(home):
    lines = {name: core.method_line(core.method_status(name)) for name in vton_zoo.list_models()
             if name != "tps-baseline"}
    for name, line in lines.items():
        assert "\n" not in line and len(line) < 200, (name, line)
        assert "<" not in line and "python -m vton_zoo.convert" not in line, (name, line)
    assert "not published: train it (`python -m training cp-vton`)" in lines["cp-vton"]
    assert "not published: train it" in lines["gp-vton"]
    assert "official download (151 MB, non-commercial research and education only)" in lines["daflow"]
    assert "official download" in lines["dm-vton"]
    # Text from elsewhere (an exception, a path) never becomes HTML.
    assert core.md_text("checkpoints/<name>/x & y") == "checkpoints/&lt;name&gt;/x &amp; y"
    failed = core.MethodRun("cp-vton", error="no file at checkpoints/<name>/gmm.pth", error_kind="runtime")
    assert "checkpoints/&lt;name&gt;/gmm.pth" in failed.summary()


def test_every_method_ticked_runs_or_says_why_in_one_line(home, tmp_path, drawn):
    install_random_weights(home, "dm-vton")
    persons, garments = drawn
    cache = core.PipelineCache()
    started = []
    runs = list(core.run_methods(str(persons[0]), str(garments[0]), core.method_order(),
                                 core.Options(device="cpu", intermediates=True), cache,
                                 on_start=lambda i, n, name: started.append(name)))
    assert started == core.method_order()
    by_name = {r.name: r for r in runs}
    for name in ("tps-baseline", "dm-vton"):
        run = by_name[name]
        assert run.ok, run.error
        assert run.image.size == (384, 512) and run.category == "upper"  # detected once, from a T-shirt
        assert run.device == "cpu" and run.latency_s > 0 and "model" in run.timings
        assert {"garment_mask", "pose_overlay", "warped_garment"} <= set(run.intermediates)
        assert f"{run.latency_s:.2f} s" in run.summary()
    for name in set(by_name) - {"tps-baseline", "dm-vton"}:
        run = by_name[name]
        assert run.skipped and run.error_kind == "weights" and run.image is None and run.latency_s == 0.0
        assert run.summary() == run.line and "\n" not in run.line
    # The result differs from the photo where the garment went; a second run reuses the loaded pipelines.
    result = np.asarray(by_name["tps-baseline"].image, dtype=np.int16)
    photo = np.asarray(Image.open(persons[0]).convert("RGB"), dtype=np.int16)
    assert np.abs(result - photo).mean() > 1.0
    assert len(cache) == 2
    paths, archive = core.save_results([r for r in runs if not r.skipped], tmp_path / "run")
    assert set(paths) == {"tps-baseline", "dm-vton"}
    with zipfile.ZipFile(archive) as zf:
        assert {"tps-baseline.png", "dm-vton.png", "dm-vton/garment_mask.png", "results.md"} <= set(zf.namelist())


def test_a_garment_category_skips_the_methods_not_trained_on_it(home, drawn):
    install_random_weights(home, "dm-vton")
    persons, garments = drawn
    runs = {r.name: r for r in core.run_methods(str(persons[1]), str(garments[1]), ["tps-baseline", "dm-vton"],
                                                core.Options(device="cpu", category="dress", intermediates=False))}
    assert runs["tps-baseline"].ok and runs["tps-baseline"].category == "dress"
    assert runs["dm-vton"].skipped and runs["dm-vton"].error_kind == "category"
    assert runs["dm-vton"].line == "**DM-VTON**: skipped, trained on upper-body garments only"
    assert core.supports("gp-vton-dresscode", "lower") and not core.supports("pf-afn", "lower")


@needs_real
def test_the_category_is_detected_once_from_the_garment_photo():
    trousers = core.prepare_inputs(REAL / "person" / "049205_0.jpg", REAL / "garment" / "051946_1.jpg")
    assert trousers.category == "lower" and trousers.category_reason
    assert trousers.person.dtype == np.uint8 and trousers.person.ndim == 3
    assert core.not_run("dm-vton", trousers.category).error_kind in ("category", "weights")
    given = core.prepare_inputs(REAL / "person" / "049205_0.jpg", REAL / "garment" / "051946_1.jpg",
                                category="upper")
    assert (given.category, given.category_reason) == ("upper", "given")


@needs_real
def test_photos_that_cannot_be_used_get_one_message_in_our_words(tmp_path):
    garment_shot = REAL / "garment" / "00055_00.jpg"
    shirt = REAL / "garment" / "00126_00.jpg"
    # A product shot handed in as the person: said so (before: "shows a person, but not their body").
    with pytest.raises(ValueError, match="looks like a garment product shot") as info:
        core.prepare_inputs(garment_shot, shirt)
    assert "not their body" not in str(info.value)
    # Files are named by the name they were uploaded under, never by the server's path.
    text = tmp_path / "upload_3f2a"
    text.write_text("a shopping list\n" * 30)
    with pytest.raises(ValueError, match="^person input is not an image: 'list.jpg'") as info:
        core.prepare_inputs(text, shirt, person_name="list.jpg")
    assert str(tmp_path) not in str(info.value)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (384, 512), (240, 240, 240)).save(blank)
    with pytest.raises(ValueError, match="No person was found in the person image"):
        next(core.run_methods(str(blank), str(shirt), ["tps-baseline"]))
    with pytest.raises(ValueError, match="person photo"):
        next(core.run_methods(None, str(shirt), ["tps-baseline"]))
    with pytest.raises(ValueError, match="at least one method"):
        next(core.run_methods(str(blank), str(shirt), []))
    with pytest.raises(ValueError, match="Unknown model"):
        next(core.run_methods(str(blank), str(shirt), ["nope"]))


def test_photo_input_hands_over_the_file_undecoded(tmp_path):
    """The photo component never opens the upload (Gradio's own image step decoded bombs and failed on text files
    with its own message and the server path)."""
    import base64

    from gradio.data_classes import ImageData

    from vton_zoo.demo.components import Upload, photo_input

    component = photo_input(label="Person")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    value = component.preprocess(ImageData(path=str(text), orig_name="C:/Users/me/notes.jpg"))
    assert isinstance(value, Upload) and str(value) == str(text) and value.name == "notes.jpg"
    capture = component.preprocess(ImageData(url="data:image/png;base64," + base64.b64encode(b"abc").decode()))
    assert Path(capture).read_bytes() == b"abc" and capture.name == "the captured photo"
    assert component.preprocess(None) is None


# --------------------------------------------------------------------------------------------------------------------
# Who may manage weights


def test_admin_policy(monkeypatch):
    for host in (None, "", "localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"):
        assert core.is_loopback(host), host
    for host in ("0.0.0.0", "192.168.1.4", "::", "example.org"):
        assert not core.is_loopback(host), host
    for name in ("SPACE_ID", core.ADMIN_TOKEN_ENV, "GRADIO_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)
    local = core.admin_policy()
    assert not local.public and local.manageable and local.allows(None)
    assert core.admin_policy("0.0.0.0").public and not core.admin_policy("0.0.0.0").manageable
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert core.admin_policy().public
    monkeypatch.delenv("GRADIO_SERVER_NAME")
    monkeypatch.setenv("SPACE_ID", "me/vton-zoo")
    space = core.admin_policy("127.0.0.1")
    assert space.public and not space.manageable and not space.allows(None) and not space.allows("")
    monkeypatch.setenv(core.ADMIN_TOKEN_ENV, "s3cret")
    guarded = core.admin_policy()
    assert guarded.manageable and guarded.needs_token
    assert guarded.allows("s3cret") and not guarded.allows("s3cre") and not guarded.allows(None)


def test_upload_limit_follows_the_policy():
    from vton_zoo.demo.ui import launch_kwargs

    assert launch_kwargs(core.AdminPolicy(public=True))["max_file_size"] == "30mb"  # photos only
    assert launch_kwargs(core.AdminPolicy(public=False))["max_file_size"] == "1gb"  # checkpoint archives too
    assert launch_kwargs(core.AdminPolicy(public=True, token="t"))["max_file_size"] == "1gb"


def _join(url: str, fn_index: int, data: list) -> dict:
    """Call one event of a running app directly, as any HTTP client can (the queue's join + its event stream)."""
    session = uuid.uuid4().hex
    body = json.dumps({"data": data, "event_data": None, "fn_index": fn_index, "trigger_id": None,
                       "session_hash": session}).encode()
    request = urllib.request.Request(url + "gradio_api/queue/join", body, {"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except urllib.error.HTTPError as exc:
        return {"success": False, "http": exc.code, "output": {"error": exc.read().decode()[:300]}}
    with urllib.request.urlopen(url + f"gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("no answer")


def _launched(policy):
    from vton_zoo.demo.ui import build_demo

    demo = build_demo(policy=policy)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=None)
    return demo, url


def test_weight_management_is_locked_on_a_public_app(home):
    from gradio_client import Client

    weights_fns = ("on_download", "on_install", "on_download_all", "on_line_download")
    # A Space without an administrator token: no controls, no events, nothing to call.
    demo, url = _launched(core.AdminPolicy(public=True))
    try:
        info = json.load(urllib.request.urlopen(url + "gradio_api/info", timeout=30))
        assert list(info["named_endpoints"]) == ["/tryon"] and not info["unnamed_endpoints"]
        assert not [fn for fn in demo.fns.values() if fn.name in weights_fns]
        ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
        assert not ids & {"download-all", "download-w", "install-local", "local-files", "admin-token"}
        assert "weights-locked" in ids
        config = json.load(urllib.request.urlopen(url + "config", timeout=30))
        assert not [c for c in config["components"] if c.get("props", {}).get("elem_id") == "install-local"]
        # The photo inputs skip Gradio's decoding, not its check that a file was uploaded: no server file is read.
        tryon = next(i for i, fn in demo.fns.items() if fn.api_name == "tryon")
        secret = {"path": "/etc/passwd", "orig_name": "me.jpg", "meta": {"_type": "gradio.FileData"}}
        answer = _join(url, tryon, [secret, secret, ["tps-baseline"], "auto", "auto", False, "model resolution",
                                    False, "512x384", "512x384", "512x384"])
        assert not answer["success"] and "root:" not in json.dumps(answer)
    finally:
        demo.close()
    # With an administrator token: the controls ask for it, the events are private and check it on the server.
    demo, url = _launched(core.AdminPolicy(public=True, token="s3cret"))
    try:
        info = json.load(urllib.request.urlopen(url + "gradio_api/info", timeout=30))
        assert list(info["named_endpoints"]) == ["/tryon"]
        listed = Client(url, verbose=False).view_api(return_format="dict", print_info=False)
        assert list(listed["named_endpoints"]) == ["/tryon"] and not listed["unnamed_endpoints"]
        install = next(i for i, fn in demo.fns.items() if fn.name == "on_install")
        download = next(i for i, fn in demo.fns.items() if fn.name == "on_download")
        for token in (None, "", "wrong"):
            for index, data in ((install, ["dm-vton", None, token, [], "auto"]),
                                (download, ["dm-vton", token, [], "auto"])):
                answer = _join(url, index, data)
                assert not answer["success"], answer
                assert "administrator token" in answer["output"]["error"]
        assert weights.status("dm-vton") == "missing"
        answer = _join(url, install, ["dm-vton", None, "s3cret", [], "auto"])  # the administrator gets through
        assert answer["success"] and "Cannot install dm-vton from these files" in answer["output"]["data"][0]
    finally:
        demo.close()


# --------------------------------------------------------------------------------------------------------------------
# The Weights tab's wording, and the background download's progress on the page


def test_weights_tab_rows_and_defaults(home):
    rows = {row[0]: row for row in weights_tab.status_rows()}
    assert len(rows) == len(vton_zoo.list_models()) and all(len(r) == len(weights_tab.STATUS_HEADERS)
                                                             for r in rows.values())
    assert rows["TPS baseline (weight-free) (tps-baseline)"][1] == "built in"
    assert rows["DM-VTON (dm-vton)"][3] == "GitHub release, then Google Drive folder"
    assert rows["CP-VTON (cp-vton)"][3].startswith("not published")
    assert weights_tab.default_method() in weights_tab.downloadable_methods()
    assert "cp-vton" not in weights_tab.downloadable_methods()
    licences = weights_tab.licences_markdown()
    assert "**DM-VTON**: CC BY-NC-SA 4.0" in licences and "CP-VTON" not in licences
    text = weights_tab.how_to("daflow")
    assert "[direct link](https://ofa-beijing" in text and "ckpt_viton.pt" in text
    assert "train it" in weights_tab.how_to("cp-vton")


def test_a_failed_download_is_one_short_line():
    from vton_zoo.demo.ui import short_failure

    message = ("**Download failed**: Could not download the official weights of pf-afn:\n"
               "- gdrive-file https://drive.google.com/file/d/1_a0/view: https://drive.google.com/file/d/1_a0/view: "
               "Google Drive returned an HTML page without the file (quota exceeded?)\n"
               "Download the files in a browser and run: python -m vton_zoo weights install pf-afn FILES")
    assert short_failure(message) == "Google Drive returned an HTML page without the file (quota exceeded?)"
    assert short_failure("**This machine is offline**: Not downloading: offline mode is on") == (
        "Not downloading: offline mode is on")
    assert len(short_failure("- " + "x" * 500)) == 110


def test_background_download_progress_on_the_page(home):
    from vton_zoo.demo.ui import fetch_markdown, weights_notice

    fetching = {"dm-vton": weights.FetchState("dm-vton", "downloading", 0.42, "dm-vton: 35 MB"),
                "pf-afn": weights.FetchState("pf-afn", "queued"),
                "rmgn": weights.FetchState("rmgn", "failed", 0.0, "Google Drive: quota exceeded"),
                "daflow": weights.FetchState("daflow", "installed", 1.0, "installed")}
    text = fetch_markdown(fetching)
    assert text == ("Fetching the official weights: `dm-vton` 42%, `pf-afn` queued · installed: `daflow` · "
                    "failed: `rmgn` (see the Weights tab)")
    status = core.method_status("dm-vton", fetching)
    assert status.state == "downloading" and status.label == "DM-VTON · downloading 42%"
    assert "downloading its official weights (42%)" in core.method_line(status)
    assert core.not_run("dm-vton", None, fetching).error_kind == "weights"
    assert "downloading 42%" in {r[0]: r for r in weights_tab.status_rows(fetching)}["DM-VTON (dm-vton)"][1]
    assert "Ready: TPS baseline" in weights_notice(fetching)
    assert fetch_markdown(None) == "" and fetch_markdown({}) == ""
    offline = {"pf-afn": weights.FetchState("pf-afn", "skipped", 0.0, "offline: no network"),
               "gp-vton": weights.FetchState("gp-vton", "skipped", 0.0, "links expired")}
    assert fetch_markdown(offline) == "This machine is offline: nothing was fetched for `pf-afn`"


# --------------------------------------------------------------------------------------------------------------------
# Example photos


def test_drawn_examples_are_usable_inputs(tmp_path, monkeypatch):
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
    shown = examples.example_set("drawn")
    assert (shown.persons, shown.garments) == (persons, garments) and not shown.real


@needs_real
def test_real_examples_come_from_the_space_pinned_and_cached(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    for name in ("VTON_ZOO_OFFLINE", "HF_HUB_OFFLINE", examples.EXAMPLES_REPO_ENV):
        monkeypatch.delenv(name, raising=False)
    source = examples.VITON_HD_EXAMPLES
    assert len(source.revision) == 40  # pinned to one commit of the Space: its files cannot change
    files = stand_in_space_files(source, REAL)
    # Nothing cached and no network: the drawn ones, said so.
    fallback = examples.example_set("viton-hd", fetch=False)
    assert not fallback.real and fallback.credit == examples.DRAWN_CREDIT
    broken = source.garments[-1][0]
    files[broken] = b"<html>not a photo</html>" * 10  # a page under a photo's name fails the upload checks
    with FakeSpace({source.repo_id: files}, commit=source.revision) as space:
        shown = examples.example_set("viton-hd", endpoint=space.url)
        assert all(rev == source.revision for _, path in space.requests for rev in [path.split("/")[5]])
    assert shown.real and len(shown.persons) == len(source.persons)
    assert len(shown.garments) == len(source.garments) - 1  # the unusable file is left out
    assert [p.name for p in shown.persons] == [p.rsplit("/", 1)[1] for p, _ in source.persons]
    assert "CC BY-NC 4.0" in shown.credit and "VITON-HD" in shown.credit
    assert "huggingface.co/spaces/Kwai-Kolors/Kolors-Virtual-Try-On" in shown.credit
    assert shown.persons[0].read_bytes() == files[source.persons[0][0]].read_bytes()
    assert any(str(shown.persons[0]).startswith(folder) for folder in examples.allowed_paths())
    # The server gone, the cache serves them (what the page shows on every load).
    cached = examples.example_set("viton-hd", fetch=False)
    assert cached.persons == shown.persons and cached.garments == shown.garments
    assert examples.example_set("drawn").persons == examples.local_examples()[0]


def test_no_example_photo_is_one_of_the_development_photos():
    """../shared/samples' terms keep its photos out of the demo's examples: the real examples are other files."""
    source = examples.VITON_HD_EXAMPLES
    names = {path.rsplit("/", 1)[1] for path, _ in source.persons + source.garments}
    if REAL.is_dir():
        assert not names & {p.name for p in REAL.glob("*/*")}
    assert not names & {p.name for p in (SHARED / "samples").glob("viton*/**/*.jpg")}


# --------------------------------------------------------------------------------------------------------------------
# About


def test_about_tab_shows_papers_reports_and_the_examples_credit(home):
    text = about.about_markdown("Example photos: somewhere, CC BY-NC-SA 4.0")
    for name in vton_zoo.list_models():
        assert f"`{name}`" in text
    assert "arxiv.org/abs/2103.04559" in text and "No evaluation report yet" in text
    assert "Example photos: somewhere, CC BY-NC-SA 4.0" in text
    (home / "reports").mkdir(parents=True)
    (home / "reports" / "viton_eval.md").write_text("| method | FID |\n|---|---|\n| pf-afn | 10.1 |\n")
    text = about.about_markdown()
    assert "| pf-afn | 10.1 |" in text and "viton_eval" in text


def test_about_tab_shows_the_evaluation_report_plots(home, tmp_path):
    """A report written by ``python -m vton_zoo.eval report`` (default folder) reaches the About tab, with plots."""
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


def test_run_folders_go_when_the_app_process_ends(tmp_path):
    """Each run's files live in a temporary folder; a stopped app (or test process) leaves none of them behind."""
    import subprocess
    import sys

    script = ("from vton_zoo.demo import core\n"
              "folders = [core.new_run_dir() for _ in range(3)]\n"
              "assert all(f.is_dir() for f in folders)\n"
              "(folders[0] / 'x.png').write_bytes(b'1')\n"
              "print('\\n'.join(map(str, folders)))\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    folders = [Path(line) for line in done.stdout.split()]
    assert len(folders) == 3 and all(str(f).startswith(str(tmp_path)) for f in folders)
    assert not any(f.exists() for f in folders)
    assert list(tmp_path.iterdir()) == []
