"""The demo as a visitor meets it, in a real headless browser (Debian chromium driven by Playwright) against
``python app.py --download-weights``, at 1440x900 and on a 390x844 phone. One app, one browser, two viewports.

What the app sees is real too: the official weights come from stand-ins of their hosts (tests/_source_server.py, an
HTTPS proxy for GitHub, Google Drive and the DAFlow bucket): DM-VTON's release serves the upstream containers built
from the parity recipe, RMGN's Drive file stalls halfway (a download in progress), the others answer 404. The example
photos come from a stand-in of the Space that serves them (tests/_space_server.py), serving real photos of
../shared/samples/real under their names (read at test time, never copied into the repository).

Checked: the Try on button is within the first screen after the inputs at both sizes; the background download shows
its progress and DM-VTON turns ready without a reload; a text file and a 400-megapixel PNG bomb get our message, no
server path, and the server's memory stays flat; with every method ticked, the methods that cannot run are one
line each (their action beside them) and the others get result columns, each with its own progress label; the
Intermediates galleries are not clipped; new photos clear the old results; the Weights table shows every column at
1440 px and offers a downloadable method first.

Screenshots go to the test's folder, and to ``$VTON_ZOO_SCREENSHOTS`` when set (the README's are made that way:
``VTON_ZOO_SCREENSHOTS=docs/screenshots python -m pytest tests/test_app_browser.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import time
import zlib
from pathlib import Path

import pytest

from tests._app_server import peak_rss_mb, running_app
from tests._parity import FIXTURE_ROOT, load_fixture, recipe_state_dicts
from tests._space_server import FakeSpace

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REAL = Path(__file__).resolve().parents[2] / "shared" / "samples" / "real"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}
LATENCY = re.compile(r"\d+\.\d\d s on")
DMVTON_RELEASE = "https://api.github.com/repos/KiseKloset/DM-VTON/releases/tags/1.0.0"
RMGN_DRIVE = "1xLXAMhbVjjl9aIQjyTXzvH5bBhzXtrep"
DAFLOW_OSS = "https://ofa-beijing.oss-cn-beijing.aliyuncs.com/checkpoints/ckpt_viton.pt"

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (.ci/run installs it)"),
    pytest.mark.skipif(not REAL.is_dir() or not (FIXTURE_ROOT / "dm-vton").is_dir(),
                       reason="../shared samples or parity fixtures not found"),
]


def _dm_vton_release(folder: Path) -> dict[str, Path]:
    """DM-VTON's two release files as its train_pf_e2e.py saves them, filled with the parity recipe's weights."""
    import numpy as np
    import torch

    state = recipe_state_dicts(load_fixture(FIXTURE_ROOT / "dm-vton"))
    files = {}
    for part, name in (("warp", "dmvton_pf_warp.pt"), ("gen", "dmvton_pf_gen.pt")):
        files[name] = folder / name
        torch.save({"epoch": 100, "best_fid": np.float64(28.2), "model": state[part]}, files[name])
    return files


def _daflow_file(folder: Path) -> Path:
    """DAFlow's ckpt_viton.pt (a plain state dict) filled with the parity recipe's weights."""
    import torch

    path = folder / "ckpt_viton.pt"
    torch.save(recipe_state_dicts(load_fixture(FIXTURE_ROOT / "daflow"))["net"], path)
    return path


def _png_bomb(path: Path, side: int = 20_000) -> Path:
    """A 1-bit PNG of side x side (400 megapixels) in ~50 KB, written by hand."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    squeeze = zlib.compressobj(9)
    row = bytes(1 + side // 8)
    rows = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _shoot(page, path: Path, *, full_page: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full_page)
    target = os.environ.get("VTON_ZOO_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not on the page"
    scroll = page.evaluate("window.scrollY")
    return {**box, "y": box["y"] + scroll}  # page coordinates


def _open(page, url: str, persons: int) -> None:
    """Load the page until the real example photos (fetched in the background at start) are in the gallery."""
    deadline = time.monotonic() + 60
    while True:
        page.goto(url)
        page.wait_for_selector("#run", timeout=60_000)
        page.wait_for_timeout(500)
        if page.locator("#person-examples img").count() == persons or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    assert page.locator("#person-examples img").count() == persons, "the real example photos never arrived"


def _button_within_first_screen(page, viewport: dict) -> None:
    inputs_top = _box(page, "#person")["y"]
    button = _box(page, "#run")
    assert button["y"] + button["height"] - inputs_top <= viewport["height"], (
        f"Try on ends {button['y'] + button['height'] - inputs_top:.0f} px below the top of the inputs, "
        f"more than one screen ({viewport['height']} px)")


def _pick_example(page, gallery: str, index: int) -> None:
    page.locator(f"#{gallery} .gallery-item").nth(index).click()
    target = "#person" if gallery.startswith("person") else "#garment"
    page.wait_for_selector(f"{target} img", timeout=30_000)


def test_the_demo_in_a_browser(tmp_path):
    from tests._source_server import FakeSources
    from tests._space_server import stand_in_space_files
    from vton_zoo.demo.examples import VITON_HD_EXAMPLES as EXAMPLES

    home = tmp_path / "home"
    space_files = stand_in_space_files(EXAMPLES, REAL)
    text_as_jpg = tmp_path / "notes.jpg"
    text_as_jpg.write_text("my shopping list, not a photo\n" * 40)
    bomb = _png_bomb(tmp_path / "big.png")
    release = _dm_vton_release(tmp_path)

    with FakeSources(tmp_path / "sources") as sources, FakeSpace({EXAMPLES.repo_id: space_files},
                                                                     commit=EXAMPLES.revision) as space:
        sources.release(DMVTON_RELEASE, release)
        sources.drive_file(RMGN_DRIVE, bytes(4 << 20), "RMGN_checkpoints.zip", mode="stall")
        env = {**sources.env, "VTON_ZOO_OFFLINE": "", "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": space.url,
               "VTON_ZOO_EXAMPLES": "viton-hd", "HF_HUB_CACHE": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        with running_app(home, tmp_path / "app.log", extra_env=env, args=["--download-weights"]) as (url, app), \
                playwright_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport=DESKTOP)
                errors = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                _open(page, url, len(EXAMPLES.persons))
                assert "VITON-HD" in page.inner_text("#examples-credit")
                assert "CC BY-NC 4.0" in page.inner_text("#examples-credit")
                _button_within_first_screen(page, DESKTOP)

                # The background download: RMGN in progress, DM-VTON turns ready without a reload.
                page.wait_for_function("() => /Fetching the official weights: .*rmgn\\s+\\d+%/"
                                       ".test(document.querySelector('#fetch-status').innerText)", timeout=90_000)
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#methods [data-testid=checkbox-group] label')]"
                    ".some(l => l.innerText.trim() == 'DM-VTON')",
                    timeout=90_000)
                assert "installed: dm-vton" in page.inner_text("#fetch-status")

                # Bad uploads: our words, no server path, no memory spent on the bomb.
                page.locator("#person input[type=file]").set_input_files(str(text_as_jpg))
                page.wait_for_selector("#input-note", state="visible", timeout=30_000)
                note = page.inner_text("#input-note")
                assert "person input is not an image: 'notes.jpg' is not in a format" in note, note
                rss_before, peak_before = _rss_mb(app.pid), peak_rss_mb(app.pid)
                page.locator("#person input[type=file]").set_input_files(str(bomb))
                page.wait_for_function(
                    "() => /too large: 400.0 megapixels/.test(document.querySelector('#input-note').innerText)",
                    timeout=30_000)
                note = page.inner_text("#input-note")
                assert "'big.png'" not in note or "/tmp" not in note
                for text in (note, page.inner_text("body")):
                    assert "/tmp" not in text and "gradio" not in text.lower().replace("built with gradio", "")
                assert _rss_mb(app.pid) - rss_before < 60 and peak_rss_mb(app.pid) - peak_before < 60

                # Real example photos, every method ticked.
                _pick_example(page, "person-examples", 0)
                _pick_example(page, "garment-examples", 0)
                assert not page.locator("#input-note").is_visible()
                page.locator("#methods .select-all-checkbox").check()
                boxes = page.locator("#methods [data-testid=checkbox-group] input").all()
                assert len(boxes) == 8 and all(box.is_checked() for box in boxes)
                page.click("#run")
                seen = []
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    state = (page.inner_text("#info-tps-baseline"), page.inner_text("#info-dm-vton"))
                    if not seen or seen[-1] != state:
                        seen.append(state)
                    # The progress bar is the status line's: no column shows another method's progress.
                    overlay = page.evaluate(
                        "() => [...document.querySelectorAll('#results [data-testid=status-tracker]')]"
                        ".map(e => e.innerText.trim()).filter(Boolean)")
                    assert not overlay, overlay
                    if re.match(r"(Done|Error|Cannot)", page.inner_text("#run-status")):
                        break
                    page.wait_for_timeout(100)
                status = page.inner_text("#run-status")
                assert status.startswith("Done: 2 result(s); 6 not run"), status
                # Each column's own progress label: the second waits while the first runs, then runs itself.
                assert ("running (1/2)...", "waiting (2/2)") in seen, seen
                assert any(LATENCY.search(a) and b == "running (2/2)..." for a, b in seen), seen
                for name in ("tps-baseline", "dm-vton"):
                    assert page.locator(f"#col-{name}").is_visible()
                    assert LATENCY.search(page.inner_text(f"#info-{name}"))
                    assert page.locator(f"#result-{name} img").count() == 1
                # RMGN's stalled download times out after 60 s: "downloading" until then, "official download" after.
                expected = {"cp-vton": "not published: train it", "gp-vton": "not published: train it",
                            "gp-vton-dresscode": "not published: train it", "daflow": "official download",
                            "pf-afn": "official download", "rmgn": "download"}
                for name, words in expected.items():
                    assert not page.locator(f"#col-{name}").is_visible(), f"{name} got a result column"
                    line = page.locator(f"#line-{name}")
                    assert line.is_visible() and words in line.inner_text(), (name, line.inner_text())
                    assert line.bounding_box()["height"] <= 48, f"{name}'s line is a wall of text"
                    if name != "rmgn":
                        assert page.locator(f"#line-download-{name}").is_visible() == (name in ("daflow", "pf-afn"))
                body = page.inner_text("body")
                assert "python -m vton_zoo.convert" not in body and "<name>" not in page.content()
                _shoot(page, tmp_path / "desktop.png")

                # One click on a line's Download: a failure is said on that line; a success makes the method ready.
                page.click("#line-download-pf-afn")
                page.wait_for_function("() => /download failed: .*\\(Weights tab\\)/"
                                       ".test(document.querySelector('#line-pf-afn').innerText)", timeout=90_000)
                assert page.locator("#line-pf-afn").bounding_box()["height"] <= 48
                sources.url_file(DAFLOW_OSS, _daflow_file(tmp_path))  # the OSS link works from now on
                page.click("#line-download-daflow")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#methods [data-testid=checkbox-group] label')]"
                    ".some(l => l.innerText.trim() == 'DAFlow')", timeout=120_000)
                assert not page.locator("#line-daflow").is_visible()

                # Intermediates: every gallery shows all its rows.
                page.get_by_role("tab", name="Intermediates").click()
                page.wait_for_timeout(500)
                for name in ("tps-baseline", "dm-vton"):
                    gallery = page.locator(f"#inter-{name} .grid-wrap").first
                    clipped = gallery.evaluate("e => e.scrollHeight - e.clientHeight")
                    assert clipped <= 2, f"{name}'s intermediates gallery hides {clipped} px"
                _shoot(page, tmp_path / "desktop_intermediates.png", full_page=True)
                page.get_by_role("tab", name="Results").click()

                # New photos: the previous results go.
                _pick_example(page, "person-examples", 1)
                page.wait_for_function(
                    "() => document.querySelector('#run-status').innerText.startsWith('Results appear here')",
                    timeout=30_000)
                assert not page.locator("#col-tps-baseline").is_visible()
                assert not page.locator("#download").is_visible()

                # Weights tab: every column in view, a downloadable method first.
                page.get_by_role("tab", name="Weights").click()
                page.wait_for_selector("#weights-table th", timeout=30_000)
                for header in page.locator("#weights-table th").all():
                    box = header.bounding_box()
                    assert box and box["x"] + box["width"] <= DESKTOP["width"], header.inner_text()
                assert page.locator("#weights-table").inner_text().count("\n") > 8
                chosen = page.locator("#weights-method input").input_value()
                assert chosen in ("daflow", "pf-afn"), chosen
                _shoot(page, tmp_path / "desktop_weights.png", full_page=True)
                assert not errors, errors

                # The phone: inputs, then the button within one screen; results below.
                phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
                _open(phone, url, len(EXAMPLES.persons))
                _button_within_first_screen(phone, PHONE)
                print("phone: Try on ends at", _box(phone, "#run")["y"] + _box(phone, "#run")["height"])
                _shoot(phone, tmp_path / "phone.png")
                _pick_example(phone, "person-examples", 0)
                _pick_example(phone, "garment-examples", 0)
                _button_within_first_screen(phone, PHONE)
                for box in phone.locator("#methods [data-testid=checkbox-group] input").all():
                    box.set_checked(box.get_attribute("name") in ("tps-baseline", "cp-vton"))
                phone.click("#run")
                phone.wait_for_function("() => /Done/.test(document.querySelector('#run-status').innerText)",
                                        timeout=120_000)
                assert phone.locator("#line-cp-vton").is_visible()
                phone.locator("#run-status").scroll_into_view_if_needed()
                _shoot(phone, tmp_path / "phone_results.png")
            finally:
                browser.close()
    assert "Traceback" not in (tmp_path / "app.log").read_text()
