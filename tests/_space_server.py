"""A stand-in for the Hugging Face Hub's file endpoint on 127.0.0.1: what ``hf_hub_download`` asks a Space for.

``HEAD`` and ``GET /spaces/{owner}/{name}/resolve/{revision}/{path}`` answer with the headers the client reads
(``X-Repo-Commit``, ``ETag``, ``Content-Length``) and the bytes of a file on disk; anything else is 404 with the Hub's
``X-Error-Code: EntryNotFound``. Used for the demo's example photos (read from ../shared at test time, never copied).
"""

from __future__ import annotations

import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_RESOLVE = re.compile(r"^/spaces/(?P<repo>[\w.-]+/[\w.-]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeSpace:
    """``with FakeSpace({"owner/name": {"path/in/repo.jpg": Path(...)}}) as space: space.url``.

    ``commit`` is the commit the Space's ``main`` is at (a revision pinned to it is answered too, as the Hub does).

    Attributes:
        files: ``{repo_id: {path: file on disk or bytes}}``; may be changed while the server runs.
        requests: ``(method, path)`` of every request, in order.
    """

    def __init__(self, files: dict[str, dict[str, Path | bytes]], *, commit: str = COMMIT) -> None:
        self.files = files
        self.commit = commit
        self.requests: list[tuple[str, str]] = []
        space = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, head: bool) -> None:
                path = unquote(urlsplit(self.path).path)
                space.requests.append((self.command, path))
                found = _RESOLVE.match(path)
                source = space.files.get(found["repo"], {}).get(found["path"]) if found else None
                if source is None or found["rev"] not in ("main", space.commit):
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = source if isinstance(source, bytes) else Path(source).read_bytes()
                self.send_response(200)
                self.send_header("X-Repo-Commit", space.commit)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if not head:
                    self.wfile.write(data)

            def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
                self._answer(head=True)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(head=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeSpace:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def stand_in_space_files(source, real: Path) -> dict[str, Path]:
    """The example paths of ``source`` (a ``RemoteExamples``) served with development photos of the same kind from
    ``real`` (``../shared/samples/real``, read at test time): person photos for persons, product shots for garments."""
    persons = sorted((real / "person").glob("*_00.jpg"))
    garments = sorted((real / "garment").glob("*_00.jpg"))
    files = {path: persons[i % len(persons)] for i, (path, _) in enumerate(source.persons)}
    files.update({path: garments[i % len(garments)] for i, (path, _) in enumerate(source.garments)})
    return files
