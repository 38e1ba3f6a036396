"""End to end in a real headless browser: Debian chromium driven by Playwright against ``python app.py``.

Upload a person and a garment, tick two methods (the weight-free tps-baseline and a dm-vton installed from a
random-weight folder), press Try on, and check that both results appear with their latencies. A screenshot is saved
in the test's folder and copied to /tmp/app_screens/ (with the click-to-result times in timings.json).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from tests._app_server import install_random_weights, running_app
from vton_zoo.demo.examples import make_examples

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = Path("/tmp/app_screens")
METHODS = ("tps-baseline", "dm-vton")
LATENCY = re.compile(r"\d+\.\d\d s on")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (.ci/run installs it)")


def test_two_methods_in_the_browser(tmp_path):
    home = tmp_path / "home"
    install_random_weights(home, "dm-vton")
    persons_garments = make_examples(tmp_path / "inputs")
    person, garment = persons_garments[0], persons_garments[4]
    with running_app(home, tmp_path / "app.log") as (url, _), playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            page.goto(url)
            page.wait_for_selector("#run", timeout=60_000)
            page.locator("#person input[type=file]").set_input_files(str(person))
            page.locator("#garment input[type=file]").set_input_files(str(garment))
            page.wait_for_selector("#person img", timeout=30_000)
            page.wait_for_selector("#garment img", timeout=30_000)
            labels = page.locator("#methods label")
            for index in range(labels.count()):
                label = labels.nth(index)
                wanted = any(f"({m})" in label.inner_text() for m in METHODS)
                if label.locator("input").is_checked() != wanted:
                    label.click()
            checked = [labels.nth(i).inner_text() for i in range(labels.count())
                       if labels.nth(i).locator("input").is_checked()]
            assert len(checked) == 2 and all(any(f"({m})" in text for text in checked) for m in METHODS)

            started = time.perf_counter()
            page.click("#run")
            first = {}
            pending = set(METHODS)
            deadline = time.monotonic() + 240
            while pending and time.monotonic() < deadline:
                for name in list(pending):
                    info = page.locator(f"#info-{name}")
                    if page.locator(f"#result-{name} img").count() and LATENCY.search(info.inner_text()):
                        first[name] = time.perf_counter() - started
                        pending.discard(name)
                page.wait_for_timeout(100)
            assert not pending, f"no result for {pending}: {page.inner_text('#run-status')}"
            page.wait_for_function("/Done/.test(document.querySelector('#run-status').innerText)", timeout=60_000)
            assert "Done: 2 result(s)" in page.inner_text("#run-status")
            for name in METHODS:
                source = page.locator(f"#result-{name} img").first.get_attribute("src")
                assert source and ("/file=" in source or "gradio_api" in source or source.startswith("data:"))
                assert "cpu" in page.inner_text(f"#info-{name}")
            assert page.locator("#download").is_visible()
            shot = tmp_path / "app_two_methods.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENS / shot.name)
    (SCREENS / "timings.json").write_text(json.dumps({"click_to_result_s": first}, indent=2))
    print(f"click to result (s): {first}; screenshot {SCREENS / shot.name}")
