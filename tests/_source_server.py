"""Stand-ins for the real hosts of the authors' checkpoints, on 127.0.0.1, for offline download tests.

The download code (vton_zoo.hub: requests, and gdown for Google Drive) is run unchanged against the REAL URLs of the
specs (drive.google.com, api.github.com, github.com, objects.githubusercontent.com, modelscope.cn, the OSS bucket).
The seam is the one every `requests` user has: ``HTTPS_PROXY`` points at this server, which answers ``CONNECT`` like
a proxy, terminates TLS with a throw-away certificate for those host names (trusted through ``REQUESTS_CA_BUNDLE``)
and then answers each request as that host does:

drive.google.com ``/uc?id=ID`` (gdown's file URL)
    a small file directly, with ``Content-Disposition``; a large one as Drive's current "cannot scan this file for
    viruses" page, whose ``<form id="download-form">`` (hidden ``id``, ``export``, ``confirm``, ``uuid``) leads to
    ``drive.usercontent.google.com/download``; over quota, Drive's error page (``<p class="uc-error-subcaption">``).
drive.google.com ``/embeddedfolderview?id=FOLDER`` (gdown's folder listing)
    ``<title>`` = the folder's name and one ``<a href="https://drive.google.com/file/d/ID/view">NAME</a>`` per file.
api.github.com ``/repos/OWNER/REPO/releases/tags/TAG``
    the release JSON with ``assets[].name / size / browser_download_url``; the asset URL on github.com answers 302 to
    objects.githubusercontent.com, which serves the bytes.
modelscope.cn ``/api/v1/models/OWNER/NAME/repo?Revision=...&FilePath=...`` and any plain file URL
    the bytes (or a configured failure).

Failures to imitate per file: ``"truncate"`` (half the body, no Content-Length, connection closed), ``"cut"`` (a
Content-Length, then half the body), ``"html"`` (a 200 HTML page), ``"404"``, ``"quota"`` (Drive), ``"stall"``
(half the body, then waits: for kill tests).
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HOSTS = ("drive.google.com", "drive.usercontent.google.com", "docs.google.com", "api.github.com", "github.com",
         "objects.githubusercontent.com", "modelscope.cn", "www.modelscope.cn",
         "ofa-beijing.oss-cn-beijing.aliyuncs.com")
DRIVE_LARGE = 1 << 20  # Drive asks for confirmation above ~100 MB; the stand-in above 1 MB, to test the page


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for :data:`HOSTS` (openssl CLI): (cert, key)."""
    cert, key = folder / "sources-cert.pem", folder / "sources-key.pem"
    names = ",".join(f"DNS:{h}" for h in HOSTS)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=vton-zoo test sources", "-addext",
                    f"subjectAltName={names}"], check=True, capture_output=True, timeout=60)
    return cert, key


@dataclass
class Served:
    """One file a host serves: bytes or a file on disk, and how to misbehave."""

    data: bytes | Path
    mode: str = "ok"  # ok | truncate | cut | html | 404 | quota | stall
    filename: str = ""
    page: str = "<!DOCTYPE html><html><head><title>Error 500 (Server Error)</title></head><body>Error</body></html>"

    def size(self) -> int:
        return self.data.stat().st_size if isinstance(self.data, Path) else len(self.data)

    def chunks(self, start: int = 0, stop: int | None = None):
        stop = self.size() if stop is None else stop
        if isinstance(self.data, bytes):
            yield self.data[start:stop]
            return
        with open(self.data, "rb") as handle:
            handle.seek(start)
            left = stop - start
            while left > 0:
                block = handle.read(min(1 << 20, left))
                if not block:
                    return
                left -= len(block)
                yield block


@dataclass
class FakeSources:
    """``with FakeSources(tmp) as fake: env.update(fake.env)``; register files with the helpers below."""

    root: Path
    files: dict[tuple[str, str], Served] = field(default_factory=dict)  # (host, key) -> file
    folders: dict[str, tuple[str, list[tuple[str, str]]]] = field(default_factory=dict)  # id -> (title, [(id, name)])
    releases: dict[str, list[str]] = field(default_factory=dict)  # api path -> asset names
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_release: int | None = None

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.cert, key = make_certificate(self.root)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert, key)
        sources = self

        class Handler(_Handler):
            fake = sources

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.proxy = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeSources:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def env(self) -> dict[str, str]:
        """The settings that route `requests` (ours and gdown's) through this server."""
        return {"HTTPS_PROXY": self.proxy, "https_proxy": self.proxy, "NO_PROXY": "", "no_proxy": "",
                "REQUESTS_CA_BUNDLE": str(self.cert), "CURL_CA_BUNDLE": ""}

    # -- what is served

    def url_file(self, url: str, data: bytes | Path, mode: str = "ok") -> Served:
        parts = urlsplit(url)
        served = Served(data, mode, filename=parts.path.rsplit("/", 1)[-1])
        self.files[(parts.hostname, parts.path + ("?" + parts.query if parts.query else ""))] = served
        return served

    def drive_file(self, file_id: str, data: bytes | Path, filename: str, mode: str = "ok") -> Served:
        served = Served(data, mode, filename=filename)
        self.files[("drive", file_id)] = served
        return served

    def drive_folder(self, folder_id: str, title: str, entries: list[tuple[str, str, bytes | Path]],
                     mode: str = "ok") -> None:
        self.folders[folder_id] = (title, [(file_id, name) for file_id, name, _ in entries])
        for file_id, name, data in entries:
            self.drive_file(file_id, data, name, mode)

    def release(self, api_url: str, assets: dict[str, bytes | Path], mode: str = "ok") -> None:
        parts = urlsplit(api_url)
        owner, repo, _, _, tag = parts.path.split("/")[2:7]
        self.releases[parts.path] = list(assets)
        for name, data in assets.items():
            self.files[("asset", f"/{owner}/{repo}/releases/download/{tag}/{name}")] = Served(data, mode,
                                                                                             filename=name)

    def hits(self, host: str) -> list[str]:
        return [path for h, path in self.requests if h == host]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSources
    protocol_version = "HTTP/1.1"
    host = ""

    def log_message(self, *args) -> None:
        pass

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
        self.host = self.path.rsplit(":", 1)[0]
        if self.host not in HOSTS:
            self.send_error(403, f"the test proxy does not know {self.host}")
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        tls = self.fake.context.wrap_socket(self.connection, server_side=True)
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.close_connection = False  # go on reading requests from the tunnel

    def do_GET(self) -> None:  # noqa: N802
        host = self.headers.get("Host", self.host).split(":")[0]
        self.fake.requests.append((host, self.path))
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            self._route(host, parts.path, query)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    # -- hosts

    def _route(self, host: str, path: str, query: dict[str, str]) -> None:
        fake = self.fake
        if host == "drive.google.com" and path == "/embeddedfolderview":
            folder = fake.folders.get(query.get("id", ""))
            if folder is None:
                self._page(404, "<html><title>Not Found</title></html>")
                return
            title, entries = folder
            links = "".join(f'<div class="flip-entry"><a href="https://drive.google.com/file/d/{file_id}/view'
                            f'?usp=drive_web" target="_blank"><div class="flip-entry-title">{name}</div></a></div>'
                            for file_id, name in entries)
            self._page(200, f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{links}</body></html>")
        elif host == "drive.google.com" and path == "/uc":
            served = fake.files.get(("drive", query.get("id", "")))
            if served is None:
                self._page(404, "<html><title>Google Drive - 404</title></html>")
            elif served.mode == "quota":
                self._page(200, '<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head>'
                                '<body><p class="uc-error-caption">Sorry, you can\'t view or download this file at '
                                'this time.</p><p class="uc-error-subcaption">Too many users have viewed or '
                                'downloaded this file recently. Please try accessing the file again later. If the '
                                'file you are trying to access is particularly large or is shared with many '
                                'people, it may take up to 24 hours to be able to view or download the file.</p>'
                                '</body></html>')
            elif served.size() > DRIVE_LARGE:
                file_id = query["id"]
                self._page(200, '<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title>'
                                '</head><body><p class="uc-warning-subcaption">Google Drive can\'t scan this file '
                                f'for viruses.</p><form id="download-form" action="https://drive.usercontent.google'
                                '.com/download" method="get"><input type="submit" id="uc-download-link" '
                                'class="goog-inline-block jfk-button jfk-button-action" value="Download anyway"/>'
                                f'<input type="hidden" name="id" value="{file_id}"><input type="hidden" '
                                'name="export" value="download"><input type="hidden" name="confirm" value="t">'
                                '<input type="hidden" name="uuid" value="0b9e3f2c-1111-2222-3333-444455556666">'
                                '</form></body></html>')
            else:
                self._file(served, attachment=True)
        elif host == "drive.usercontent.google.com" and path == "/download":
            served = fake.files.get(("drive", query.get("id", "")))
            if served is None or query.get("confirm") != "t" or not query.get("uuid"):
                self._page(400, "<html><title>Bad Request</title></html>")
            else:
                self._file(served, attachment=True)
        elif host == "api.github.com" and path in fake.releases:
            if fake.fail_release is not None:
                self._json(fake.fail_release, {"message": "Not Found",
                                               "documentation_url": "https://docs.github.com/rest"})
                return
            owner, repo, _, _, tag = path.split("/")[2:7]
            assets = []
            for name in fake.releases[path]:
                served = fake.files[("asset", f"/{owner}/{repo}/releases/download/{tag}/{name}")]
                assets.append({"name": name, "size": served.size(), "content_type": "application/octet-stream",
                               "browser_download_url": f"https://github.com/{owner}/{repo}/releases/download/"
                                                       f"{tag}/{name}"})
            self._json(200, {"tag_name": tag, "name": tag, "assets": assets})
        elif host == "github.com" and ("asset", path) in fake.files:
            name = path.rsplit("/", 1)[-1]
            self.send_response(302)
            self.send_header("Location", f"https://objects.githubusercontent.com/github-production-release-asset"
                                         f"{path.rsplit('/releases/', 1)[0]}/{name}?X-Amz-Signature=abc")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif host == "objects.githubusercontent.com":
            owner_repo, name = path[len("/github-production-release-asset"):].rsplit("/", 1)
            served = next((s for (kind, p), s in fake.files.items()
                           if kind == "asset" and p.startswith(owner_repo + "/") and p.endswith("/" + name)), None)
            if served is None:
                self._page(404, "<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>")
            else:
                self._file(served)
        else:
            key = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            served = fake.files.get((host, key))
            if served is None:
                self._page(404, f"<html><title>404 Not Found</title><body>{host}{key}</body></html>")
            else:
                self._file(served)

    # -- answers

    def _page(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, served: Served, attachment: bool = False) -> None:
        if served.mode == "404":
            self._page(404, "<html><title>404 Not Found</title></html>")
            return
        if served.mode == "html":
            self._page(200, served.page)
            return
        size = served.size()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if attachment:
            self.send_header("Content-Disposition", f'attachment; filename="{served.filename}"')
        if served.mode in ("truncate", "stall"):  # no length: the end of the body is the end of the connection
            self.send_header("Connection", "close")
            self.end_headers()
            for block in served.chunks(0, size // 2):
                self.wfile.write(block)
            self.wfile.flush()
            if served.mode == "stall":
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:  # until the client goes away
                    readable, _, _ = select.select([self.connection], [], [], 0.2)
                    if readable:
                        break
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_header("Content-Length", str(size))
        self.end_headers()
        stop = size // 2 if served.mode == "cut" else size
        for block in served.chunks(0, stop):
            self.wfile.write(block)
        if served.mode == "cut":
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
