"""benchmarks/gpu_check.py, the one-run GPU check: its CPU smoke mode runs every code path but the CUDA-only calls, and
its time limits and report parsing hold (a slow or failing part becomes a row, the script goes on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import gpu_check

ROOT = Path(__file__).resolve().parents[1]


def test_cpu_smoke_run_covers_every_part(tmp_path):
    out = tmp_path / "out"
    # a generous budget: the parts' limits are shares of it, and this machine's 2 cores are shared
    result = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--quick", "--budget",
                             "500", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "gpu_check.json").read_text())
    rows = report["rows"]
    assert {p["part"] for p in report["parts"]} == {"env", "tests", "correlation", "model:dm-vton", "pipeline"}
    assert not [r for r in rows if r["status"] == "FAIL"]
    by_item = {(r["part"], r["item"]): r for r in rows}
    # env: the self-check code path, around a CPU stand-in
    assert by_item[("env", "self-check float32 (CPU stand-in)")]["status"] == "ok"
    # tests: pytest -m cuda ran and its junit report was read (everything skips without a GPU)
    tests = by_item[("tests", "test_correlation")]
    assert tests["status"] == "skip" and tests["detail"]["skipped"] >= 10 and tests["detail"]["passed"] == 0
    # correlation: per-level rows and the per-size summary
    levels = [r for r in rows if r["part"] == "correlation" and not r["summary"]]
    assert len(levels) == 4 and all(r["detail"]["forward_backward_s"] > 0 for r in levels)
    assert by_item[("correlation", "all levels 64x64 b2 fp32")]["status"] == "skip"  # no CuPy on the CPU
    # models: the three configurations measured, and the summary row
    configs = [r for r in rows if r["part"] == "model:dm-vton" and not r["summary"]]
    assert [r["item"] for r in configs] == ["dm-vton eager fp32", "dm-vton CUDA graphs fp32",
                                            "dm-vton CUDA graphs bf16 channels_last"]
    assert all(r["detail"]["latency_ms"] > 0 and r["detail"]["throughput_img_s"] > 0 for r in configs)
    assert by_item[("model:dm-vton", "dm-vton 64x64")]["status"] == "ok"
    # pipeline: the whole TryOnPipeline with random weights, per-stage timings
    pipeline = by_item[("pipeline", "pipeline dm-vton")]
    assert pipeline["status"] == "ok", pipeline
    assert set(pipeline["detail"]["stages_ms"]) >= {"person", "garment", "model", "postprocess", "total"}
    # one table printed at the end and written with the details
    assert "| part " in result.stdout and "gpu_check on cpu (quick)" in result.stdout
    markdown = (out / "gpu_check.md").read_text()
    assert "## correlation: details" in markdown and "## model:dm-vton: details" in markdown
    assert "[pipeline]" in (out / "gpu_check.log").read_text()


def test_time_limit_kills_the_part_with_its_children(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    script = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; "
              f"time.sleep(60)']); open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    start = time.perf_counter()
    with open(tmp_path / "log", "w") as log:
        rc, seconds, timed_out = gpu_check._run_group([sys.executable, "-c", script], dict(os.environ), 2.0, log)
    assert timed_out and rc is None and seconds < 10 and time.perf_counter() - start < 10
    grandchild = int(pid_file.read_text())
    for _ in range(50):  # the kill reaches the whole process group; the zombie is reaped by init
        try:
            os.kill(grandchild, 0)
            state = Path(f"/proc/{grandchild}/stat").read_text().split()[2] if Path(f"/proc/{grandchild}").exists() \
                else "Z"
            if state == "Z":
                break
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the part's child process survived the time limit")


def _pytest(test_file: Path, junit: Path) -> None:
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(junit),
                    "-o", "addopts=", str(test_file)], cwd=test_file.parent, capture_output=True, timeout=120)


def test_pytest_report_becomes_rows(tmp_path):
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "def test_ok():\n    assert True\n"
        "def test_bad():\n    assert 1 == 2, 'kernel mismatch'\n"
        "def test_gpu():\n    pytest.skip('CUDA not available')\n")
    junit = tmp_path / "junit.xml"
    _pytest(tmp_path / "test_sample.py", junit)
    rows = gpu_check._pytest_rows(junit, "cuda")
    assert rows[0]["item"] == "test_sample" and rows[0]["result"] == "1 passed, 1 failed, 1 skipped"
    assert rows[0]["status"] == "FAIL"
    [failure] = rows[1:]
    assert failure["item"] == "test_sample::test_bad" and "kernel mismatch" in failure["result"]
    assert gpu_check._pytest_rows(tmp_path / "missing.xml", "cuda")[0]["status"] == "FAIL"


def test_all_skipped_on_a_gpu_is_a_failure(tmp_path):
    junit = tmp_path / "junit.xml"
    (tmp_path / "test_skips.py").write_text("import pytest\ndef test_gpu():\n    pytest.skip('no fixtures')\n")
    _pytest(tmp_path / "test_skips.py", junit)
    assert gpu_check._pytest_rows(junit, "cuda")[0]["status"] == "FAIL"
    assert gpu_check._pytest_rows(junit, "cpu")[0]["status"] == "skip"


def test_spent_budget_is_reported_not_hidden(tmp_path, capsys):
    rc = gpu_check.main(["--device", "cpu", "--quick", "--parts", "env", "--budget", "1", "--out", str(tmp_path)])
    assert rc == 1
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["rows"] == [{"part": "env", "item": "not run", "result": "the time budget was spent",
                               "status": "FAIL", "target": "", "summary": True, "detail": {}}]
    assert "the time budget was spent" in capsys.readouterr().out
