"""``python app.py`` on 127.0.0.1 driven through its API with gradio_client: bad uploads, then 30 concurrent requests.

One server for the module, started as on a Space (``SPACE_ID`` set, offline): weight management is off (no endpoint
but ``/tryon``, no controls) and the background download starts (and finds the machine offline). A text file and a
400-megapixel PNG bomb sent to ``/tryon`` are each answered in our words, without a server path, and the server's
memory stays flat (the bomb is refused on its header; Gradio no longer decodes uploads before our checks). Then 30
concurrent try-on requests: every one is answered (a result, or a clear error), none lost, and the server's peak RSS
stays bounded. Every wait has a deadline. Figures are printed and written to /tmp/app_screens/load.json.
"""

from __future__ import annotations

import json
import statistics
import struct
import time
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests._app_server import peak_rss_mb, running_app
from vton_zoo.demo.examples import make_examples

gradio_client = pytest.importorskip("gradio_client")

REQUESTS = 30
DEADLINE_S = 150
MAX_RSS_MB = 4096


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app")
    images = make_examples(folder / "inputs", size=(384, 512))
    space = {"SPACE_ID": "someone/vton-zoo"}
    with running_app(folder / "home", folder / "app.log", extra_env=space) as (url, process):
        yield url, process, images[:3], images[3:], folder
    assert "Traceback" not in (folder / "app.log").read_text()


def _tryon(client, person, garment, methods=("tps-baseline",), *, timeout=DEADLINE_S):
    # person, garment, methods, category, device, fp16, returned image, intermediates, per-method resolutions
    job = client.submit(gradio_client.handle_file(str(person)), gradio_client.handle_file(str(garment)),
                        list(methods), "auto", "auto", False, "model resolution", False, "512x384", "512x384",
                        "512x384", api_name="/tryon")
    return job.result(timeout=timeout)


def _vm(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _bomb(path: Path, side: int = 20_000) -> Path:
    """A 1-bit PNG of side x side (400 megapixels) in ~50 KB."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    squeeze = zlib.compressobj(9)
    rows = b"".join(squeeze.compress(bytes(1 + side // 8)) for _ in range(side)) + squeeze.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def test_on_a_space_weight_management_is_off(app):
    url, _, _, _, folder = app
    info = json.load(urllib.request.urlopen(url + "gradio_api/info", timeout=30))
    assert list(info["named_endpoints"]) == ["/tryon"] and not info["unnamed_endpoints"]
    config = json.load(urllib.request.urlopen(url + "config", timeout=30))
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert "weights-locked" in ids and not ids & {"download-all", "download-w", "install-local", "admin-token"}
    log = (folder / "app.log").read_text()
    assert "weight management: public app: weight management is off" in log


def test_bad_uploads_get_our_message_and_cost_no_memory(app):
    url, process, persons, garments, folder = app
    client = gradio_client.Client(url, verbose=False)
    assert _tryon(client, persons[0], garments[0])[0].startswith("**Done:** 1 result(s)")  # warm: models loaded
    text = folder / "notes.jpg"
    text.write_text("not a photo\n" * 100)
    bomb = _bomb(folder / "huge.png")
    rss, peak = _vm(process.pid, "VmRSS"), peak_rss_mb(process.pid)
    started = time.perf_counter()
    for bad, expected in ((text, "person input is not an image: 'notes.jpg' is not in a format"),
                          (bomb, "person image is too large: 400.0 megapixels exceeds the limit of 40 megapixels")):
        status = _tryon(client, bad, garments[0])[0]
        assert status.startswith("**Cannot use these photos:**") and expected in status, status
        assert "/tmp" not in status and "gradio" not in status.lower() and "Traceback" not in status
    seconds = time.perf_counter() - started
    grown, peak_grown = _vm(process.pid, "VmRSS") - rss, peak_rss_mb(process.pid) - peak
    print(f"bad uploads: answered in {seconds:.2f} s; RSS +{grown:.0f} MB, peak RSS +{peak_grown:.0f} MB")
    assert peak_grown < 50, f"the server's peak memory grew by {peak_grown:.0f} MB on a refused upload"
    assert _tryon(client, persons[1], garments[1])[0].startswith("**Done:** 1 result(s)")  # still serving


def test_thirty_concurrent_requests(app):
    url, process, persons, garments, _ = app
    client = gradio_client.Client(url, verbose=False)

    def one(index: int):
        started = time.perf_counter()
        try:
            outputs = _tryon(client, persons[index % 3], garments[index % 4])
            return "ok", outputs[0], time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001 - a clear error is an answer too; we record it
            return "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        answers = list(pool.map(one, range(REQUESTS)))
    wall = time.perf_counter() - started
    rss = peak_rss_mb(process.pid)
    assert len(answers) == REQUESTS  # none lost
    statuses = [text for kind, text, _ in answers if kind == "ok"]
    errors = [text for kind, text, _ in answers if kind == "error"]
    assert all(text.startswith("**Done:** 1 result(s)") for text in statuses), statuses[:3]
    assert all(text.strip() for text in errors)
    assert len(statuses) >= REQUESTS * 0.9, errors[:3]
    latencies = sorted(seconds for *_, seconds in answers)
    figures = {"requests": REQUESTS, "ok": len(statuses), "errors": len(errors), "wall_s": round(wall, 1),
               "p50_s": round(statistics.median(latencies), 2),
               "p90_s": round(latencies[int(0.9 * (REQUESTS - 1))], 2), "max_s": round(latencies[-1], 2),
               "server_peak_rss_mb": round(rss)}
    print("load test:", figures)
    Path("/tmp/app_screens").mkdir(parents=True, exist_ok=True)
    Path("/tmp/app_screens/load.json").write_text(json.dumps(figures, indent=2))
    assert rss < MAX_RSS_MB
    assert wall < DEADLINE_S
