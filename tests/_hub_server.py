"""A small stand-in for the Hugging Face Hub on 127.0.0.1, for testing pushes and downloads offline.

It speaks the HTTP endpoints that ``huggingface_hub`` (2.x, without ``hf_xet``) uses to upload a folder and to
download a snapshot, and stores what it receives on disk, one folder per repo:

upload (``HfApi.create_repo`` + ``HfApi.upload_folder``)
    ``POST /api/repos/create`` (409 when the repo exists), ``POST /api/validate-yaml`` (the model card's front
    matter), ``POST /api/models/{repo}/preupload/{revision}`` (``*.safetensors`` go through LFS, the rest inline),
    ``POST /{repo}.git/info/lfs/objects/batch`` (basic transfer: an upload and a verify action),
    ``PUT /_lfs/{oid}`` (the bytes; sha256 and size checked), ``POST /{repo}.git/info/lfs/objects/verify`` and
    ``POST /api/models/{repo}/commit/{revision}`` (the ndjson commit; answers ``commitUrl`` and ``commitOid``).
download (``snapshot_download``)
    ``GET /api/models/{repo}/revision/{revision}`` (sha + siblings), ``GET /api/models/{repo}/tree/{revision}``
    (sizes, git blob ids, LFS sha256) and ``HEAD``/``GET
    /{repo}/resolve/{revision}/{path}`` with the ``X-Repo-Commit`` / ``ETag`` headers the client reads.

Every ``/api`` and LFS-batch call must carry ``Authorization: Bearer <token>`` (401 otherwise); ``fail`` makes one
kind of call answer an HTTP error, to test how the client side reports it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_REPO = r"(?P<repo>[\w.-]+/[\w.-]+)"
_ROUTES = [  # (method, kind, pattern)
    ("POST", "create", re.compile(r"^/api/repos/create$")),
    ("POST", "validate-yaml", re.compile(r"^/api/validate-yaml$")),
    ("POST", "preupload", re.compile(rf"^/api/models/{_REPO}/preupload/(?P<rev>[^/]+)$")),
    ("POST", "commit", re.compile(rf"^/api/models/{_REPO}/commit/(?P<rev>[^/]+)$")),
    ("GET", "info", re.compile(rf"^/api/models/{_REPO}/revision/(?P<rev>[^/]+)$")),
    ("GET", "tree", re.compile(rf"^/api/models/{_REPO}/tree/(?P<rev>[^/]+)$")),
    ("POST", "lfs-batch", re.compile(rf"^/{_REPO}\.git/info/lfs/objects/batch$")),
    ("POST", "lfs-verify", re.compile(rf"^/{_REPO}\.git/info/lfs/objects/verify$")),
    ("PUT", "lfs-put", re.compile(r"^/_lfs/(?P<oid>[0-9a-f]{64})$")),
    ("GET", "resolve", re.compile(rf"^/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")),
    ("HEAD", "resolve", re.compile(rf"^/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")),
]
_NO_AUTH = ("lfs-put", "resolve")  # presigned storage URLs and public downloads


class FakeHub:
    """The server: ``with FakeHub(tmp_path) as hub: ...`` (``hub.url`` is the endpoint).

    Attributes:
        root: where repos (``root/repos/OWNER/NAME/...``) and LFS blobs (``root/lfs/OID``) are stored.
        token: the only token accepted.
        fail: ``{kind: status}``: answer every call of that kind (see ``_ROUTES``) with that HTTP status.
        calls: ``(method, kind, path)`` of every request received, in order.
        repos: ``{repo_id: {"private": bool, "commits": [{"oid", "summary", "files"}]}}``.
    """

    def __init__(self, root: Path, token: str = "hf_fake_token") -> None:
        self.root = Path(root)
        self.token = token
        self.fail: dict[str, int] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.repos: dict[str, dict] = {}
        self.lock = threading.Lock()
        (self.root / "lfs").mkdir(parents=True, exist_ok=True)
        (self.root / "repos").mkdir(parents=True, exist_ok=True)
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def repo_dir(self, repo_id: str) -> Path:
        return self.root / "repos" / repo_id

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.calls]


class _Handler(BaseHTTPRequestHandler):
    server_hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    # -- plumbing

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, payload: dict | list | bytes | None = None, headers: dict[str, str] | None = None,
              head: bool = False) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps({} if payload is None else payload).encode()
        self.send_response(status)
        content_type = "application/octet-stream" if isinstance(payload, bytes) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status: int, message: str, head: bool = False) -> None:
        self._send(status, {"error": message}, {"X-Error-Message": message}, head=head)

    def _dispatch(self, method: str) -> None:
        hub = self.server_hub
        path = unquote(urlsplit(self.path).path)
        route = next(((kind, pattern.match(path)) for route_method, kind, pattern in _ROUTES
                      if route_method == method and pattern.match(path)), None)
        if route is None:
            self._body()
            self._error(404, f"no route for {method} {path}")
            return
        kind, match = route
        body = b"" if method in ("GET", "HEAD") else self._body()
        with hub.lock:
            hub.calls.append((method, kind, path))
        head = method == "HEAD"
        if kind in hub.fail:
            self._error(hub.fail[kind], f"fake hub: {kind} fails with HTTP {hub.fail[kind]}", head)
            return
        if kind not in _NO_AUTH and self.headers.get("Authorization") != f"Bearer {hub.token}":
            self._error(401, "Invalid credentials in Authorization header", head)
            return
        getattr(self, "_" + kind.replace("-", "_"))(match.groupdict(), body, head)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    # -- endpoints

    def _create(self, params: dict, body: bytes, head: bool) -> None:
        hub = self.server_hub
        payload = json.loads(body)
        if payload.get("type", "model") != "model":
            self._error(400, "the fake hub only hosts model repos")
            return
        repo_id = f"{payload['organization']}/{payload['name']}"
        url = f"{hub.url}/{repo_id}"
        with hub.lock:
            if repo_id in hub.repos:
                self._send(409, {"error": "You already created this model repo", "url": url})
                return
            hub.repos[repo_id] = {"private": payload.get("visibility") == "private", "commits": []}
        hub.repo_dir(repo_id).mkdir(parents=True, exist_ok=True)
        self._send(200, {"url": url, "name": repo_id})

    def _validate_yaml(self, params: dict, body: bytes, head: bool) -> None:
        content = json.loads(body)["content"]
        if content.startswith("---") and content.count("---") < 2:
            self._send(400, {"errors": [{"message": "unterminated YAML front matter"}]})
            return
        self._send(200, {"errors": [], "warnings": []})

    def _known_repo(self, repo_id: str) -> bool:
        if repo_id not in self.server_hub.repos:
            self._error(404, f"Repository Not Found for url: {self.path}")
            return False
        return True

    def _preupload(self, params: dict, body: bytes, head: bool) -> None:
        if not self._known_repo(params["repo"]):
            return
        files = [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(".safetensors") else "regular",
                  "shouldIgnore": False, "oid": None} for f in json.loads(body)["files"]]
        self._send(200, {"files": files, "commitOid": "0" * 40})

    def _lfs_batch(self, params: dict, body: bytes, head: bool) -> None:
        hub = self.server_hub
        if not self._known_repo(params["repo"]):
            return
        payload = json.loads(body)
        objects = []
        for item in payload["objects"]:
            entry = {"oid": item["oid"], "size": item["size"], "authenticated": True}
            if not (hub.root / "lfs" / item["oid"]).is_file():
                entry["actions"] = {
                    "upload": {"href": f"{hub.url}/_lfs/{item['oid']}"},
                    "verify": {"href": f"{hub.url}/{params['repo']}.git/info/lfs/objects/verify"},
                }
            objects.append(entry)
        self._send(200, {"transfer": "basic", "objects": objects})

    def _lfs_put(self, params: dict, body: bytes, head: bool) -> None:
        if hashlib.sha256(body).hexdigest() != params["oid"]:
            self._error(400, "sha256 of the uploaded bytes does not match the object id")
            return
        (self.server_hub.root / "lfs" / params["oid"]).write_bytes(body)
        self._send(200, {})

    def _lfs_verify(self, params: dict, body: bytes, head: bool) -> None:
        payload = json.loads(body)
        blob = self.server_hub.root / "lfs" / payload["oid"]
        if not blob.is_file() or blob.stat().st_size != payload["size"]:
            self._error(404, f"object {payload['oid']} was not uploaded")
            return
        self._send(200, {})

    def _commit(self, params: dict, body: bytes, head: bool) -> None:
        hub = self.server_hub
        repo_id = params["repo"]
        if not self._known_repo(repo_id):
            return
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0]["key"] != "header":
            self._error(400, "the commit payload must start with a header line")
            return
        staged: dict[str, bytes] = {}
        for line in lines[1:]:
            value = line["value"]
            if line["key"] == "file":
                staged[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                blob = hub.root / "lfs" / value["oid"]
                if not blob.is_file():
                    self._error(400, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                    return
                staged[value["path"]] = blob.read_bytes()
            else:
                self._error(400, f"the fake hub does not support {line['key']!r} operations")
                return
        oid = hashlib.sha1(body).hexdigest()
        folder = hub.repo_dir(repo_id)
        for name, data in staged.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        with hub.lock:
            hub.repos[repo_id]["commits"].append({"oid": oid, "summary": lines[0]["value"]["summary"],
                                                  "files": sorted(staged)})
        self._send(200, {"success": True, "commitOid": oid, "commitUrl": f"{hub.url}/{repo_id}/commit/{oid}"})

    def _head_oid(self, repo_id: str) -> str | None:
        commits = self.server_hub.repos.get(repo_id, {}).get("commits")
        return commits[-1]["oid"] if commits else None

    def _info(self, params: dict, body: bytes, head: bool) -> None:
        hub = self.server_hub
        if not self._known_repo(params["repo"]):
            return
        folder = hub.repo_dir(params["repo"])
        siblings = [{"rfilename": p.relative_to(folder).as_posix()} for p in sorted(folder.rglob("*")) if p.is_file()]
        self._send(200, {"id": params["repo"], "sha": self._head_oid(params["repo"]), "siblings": siblings,
                         "private": hub.repos[params["repo"]]["private"]})

    def _tree(self, params: dict, body: bytes, head: bool) -> None:
        hub = self.server_hub
        if not self._known_repo(params["repo"]):
            return
        folder = hub.repo_dir(params["repo"])
        entries = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            entry = {"type": "file", "path": path.relative_to(folder).as_posix(), "size": len(data),
                     "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
            if path.suffix == ".safetensors":
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        self._send(200, entries)

    def _resolve(self, params: dict, body: bytes, head: bool) -> None:
        hub = self.server_hub
        target = hub.repo_dir(params["repo"]) / params["path"]
        commit = self._head_oid(params["repo"])
        if commit is None or params["rev"] not in ("main", commit) or not target.is_file():
            self._send(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"}, head=head)
            return
        data = target.read_bytes()
        etag = hashlib.sha256(data).hexdigest()
        self._send(200, data, {"X-Repo-Commit": commit, "ETag": f'"{etag}"'}, head=head)


def copy_repo(hub: FakeHub, repo_id: str, dest: Path) -> Path:
    """A copy of what the hub stores for ``repo_id`` (for loading it as a local weights folder)."""
    shutil.copytree(hub.repo_dir(repo_id), dest)
    return dest
