"""Load test with gradio_client against ``python app.py`` on 127.0.0.1: 30 concurrent try-on requests.

Every request must be answered (a result, or a clear error), none lost; the server's peak RSS stays bounded. The
test stops by itself (a deadline on every wait). Figures are printed and written to /tmp/app_screens/load.json.
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests._app_server import peak_rss_mb, running_app
from vton_zoo.demo.examples import make_examples

gradio_client = pytest.importorskip("gradio_client")

REQUESTS = 30
DEADLINE_S = 150
MAX_RSS_MB = 4096


def test_thirty_concurrent_requests(tmp_path):
    images = make_examples(tmp_path / "inputs", size=(384, 512))
    persons, garments = images[:3], images[3:]
    with running_app(tmp_path / "home", tmp_path / "app.log") as (url, process):
        client = gradio_client.Client(url, verbose=False)

        def one(index: int):
            started = time.perf_counter()
            # person, garment, methods, device, fp16, returned image, intermediates, per-method resolutions
            job = client.submit(gradio_client.handle_file(str(persons[index % 3])),
                                gradio_client.handle_file(str(garments[index % 4])),
                                ["tps-baseline"], "auto", False, "model resolution", False, "512x384", "512x384",
                                "512x384", api_name="/tryon")
            try:
                outputs = job.result(timeout=DEADLINE_S)
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
    assert all(text.startswith("Done: 1 result(s)") for text in statuses), statuses[:3]
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
