"""Make the README's screenshots of the demo: ``python docs/screenshots/make_screenshots.py`` (needs Debian chromium).

Starts ``python app.py`` on 127.0.0.1 as a fresh offline install sees it (no weights installed, the drawn example
photos: the real ones are photos this repository must not carry), runs every method on a drawn person and T-shirt,
and saves, into this folder:

- ``desktop.png``: 1440x900 after the run (the weight-free baseline's result; one line for each other method);
- ``phone.png`` / ``phone_results.png``: 390x844 as the page opens, and the results after Try on;
- ``weights.png``: the Weights tab at 1440 px.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests._app_server import running_app  # noqa: E402

OUT = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def run_all(page, person: int, garment: int, methods: list[str] | None = None) -> None:
    page.locator("#person-examples .gallery-item").nth(person).click()
    page.locator("#garment-examples .gallery-item").nth(garment).click()
    page.wait_for_selector("#person img")
    page.wait_for_selector("#garment img")
    for box in page.locator("#methods [data-testid=checkbox-group] input").all():
        box.set_checked(methods is None or box.get_attribute("name") in methods)
    page.click("#run")
    page.wait_for_function("() => /^(Done|Cannot)/.test(document.querySelector('#run-status').innerText)",
                           timeout=180_000)
    page.wait_for_timeout(800)


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp) / "home", Path(tmp) / "app.log") as (url, _), \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        page.wait_for_selector("#run")
        run_all(page, 1, 1)
        page.mouse.move(0, 0)
        page.screenshot(path=str(OUT / "desktop.png"))
        page.get_by_role("tab", name="Weights").click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "weights.png"), full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.goto(url)
        phone.wait_for_selector("#run")
        phone.wait_for_timeout(800)
        phone.screenshot(path=str(OUT / "phone.png"))
        run_all(phone, 0, 0, ["tps-baseline", "dm-vton", "cp-vton"])
        phone.locator("#run-status").scroll_into_view_if_needed()
        phone.evaluate("window.scrollBy(0, -60)")
        phone.wait_for_timeout(300)
        phone.screenshot(path=str(OUT / "phone_results.png"))
        browser.close()
    print("written:", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
