"""hub.download_url against a real HTTP server on 127.0.0.1: progress, resume, checksum, HTTP errors, offline."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vton_zoo import hub

PAYLOAD = os.urandom(3 * (1 << 20) + 12345)  # a bit over 3 chunks


class _Handler(BaseHTTPRequestHandler):
    """Serves PAYLOAD at /file (with Range support) and at /cut (the first request stops half-way)."""

    requests: list[tuple[str, str | None]] = []
    cut_once = True

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        type(self).requests.append((self.path, self.headers.get("Range")))
        if self.path not in ("/file", "/cut"):
            self.send_error(404, "Not Found")
            return
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(PAYLOAD):
                self.send_error(416, "Range Not Satisfiable")
                return
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path == "/cut" and type(self).cut_once:
            type(self).cut_once = False
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    _Handler.requests = []
    _Handler.cut_once = True
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_with_progress_and_checksum(server, tmp_path):
    calls = []
    dest = hub.download_url(f"{server}/file", tmp_path / "sub" / "w.pth", progress=lambda d, t: calls.append((d, t)),
                            sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "w.pth.part").exists()
    assert calls[0] == (0, len(PAYLOAD)) and calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 4
    # A complete file with the right checksum is not fetched again.
    before = len(_Handler.requests)
    hub.download_url(f"{server}/file", dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert len(_Handler.requests) == before


def test_checksum_mismatch_deletes_the_download(server, tmp_path):
    dest = tmp_path / "w.pth"
    with pytest.raises(hub.DownloadError, match="Checksum mismatch") as info:
        hub.download_url(f"{server}/file", dest, sha256="0" * 64)
    assert not info.value.offline
    assert not dest.exists() and not (tmp_path / "w.pth.part").exists()


def test_http_404_names_the_status(server, tmp_path):
    with pytest.raises(hub.DownloadError, match="HTTP 404"):
        hub.download_url(f"{server}/missing.pth", tmp_path / "w.pth")
    assert not (tmp_path / "w.pth").exists()


def test_interrupted_download_resumes_with_range(server, tmp_path):
    dest = tmp_path / "w.pth"
    with pytest.raises(hub.DownloadError, match="interrupted"):
        hub.download_url(f"{server}/cut", dest)
    part = tmp_path / "w.pth.part"
    assert not dest.exists() and 0 < part.stat().st_size < len(PAYLOAD)
    kept = part.stat().st_size
    hub.download_url(f"{server}/cut", dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD
    assert _Handler.requests[-1] == ("/cut", f"bytes={kept}-")


def test_unreachable_host_is_reported_as_offline(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(hub.DownloadError, match="offline") as info:
        hub.download_url(f"http://127.0.0.1:{port}/w.pth", tmp_path / "w.pth", timeout=5)
    assert info.value.offline


def test_offline_mode_refuses_before_connecting(server, tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_ZOO_OFFLINE", "1")
    with pytest.raises(hub.DownloadError, match="offline mode") as info:
        hub.download_url(f"{server}/file", tmp_path / "w.pth")
    assert info.value.offline and _Handler.requests == []


def test_google_drive_links():
    file_id = "1_a0AiN8Y_d_9TNDhHIcRlERz3zptyYWV"
    for link in (f"https://drive.google.com/file/d/{file_id}/view?usp=sharing",
                 f"https://drive.google.com/open?id={file_id}",
                 f"https://drive.google.com/uc?id={file_id}&export=download"):
        assert hub.google_drive_id(link) == file_id
    assert hub.google_drive_id("https://example.org/a.pth") is None
    with pytest.raises(ValueError, match="folder"):
        hub.google_drive_id("https://drive.google.com/drive/folders/1wfWGsR0vWC5LrA26xhj92ec_GoCKV80A")


def test_bad_scheme(tmp_path):
    with pytest.raises(ValueError, match="http"):
        hub.download_url("ftp://example.org/a.pth", tmp_path / "a.pth")
