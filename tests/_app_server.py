"""Starting ``python app.py`` on 127.0.0.1 for the browser and load tests, with a private VTON_ZOO_HOME."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import vton_zoo

REPO = Path(__file__).resolve().parents[1]


def install_random_weights(home: Path, name: str) -> Path:
    """A real installed-weights folder holding a freshly initialised network (what a user's install looks like)."""
    folder = home / "weights" / name
    vton_zoo.save_safetensors(vton_zoo.create_model(name), folder)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def running_app(home: Path, log: Path, *, extra_env: dict[str, str] | None = None, startup_timeout: float = 120,
                args: list[str] | None = None):
    """Yield ``(url, process)`` of ``python app.py --port N [ARGS]`` on 127.0.0.1; stopped (by its pid) afterwards.

    The app runs offline (``VTON_ZOO_OFFLINE``, ``HF_HUB_OFFLINE``) with the drawn examples unless ``extra_env``
    says otherwise."""
    port = free_port()
    env = {**os.environ, "VTON_ZOO_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
           "VTON_ZOO_OFFLINE": "1", "GRADIO_SERVER_NAME": "127.0.0.1", "PYTHONUNBUFFERED": "1",
           "OMP_NUM_THREADS": os.environ.get("VTON_TEST_THREADS", "2"), "VTON_ZOO_EXAMPLES": "drawn",
           **(extra_env or {})}
    with open(log, "w") as out:
        command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), *(args or [])]
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not answer within {startup_timeout} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
