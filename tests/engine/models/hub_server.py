"""A local stand-in for the Hugging Face Hub on 127.0.0.1, speaking the HTTP API that
huggingface_hub uses, so downloads are tested without a network:

- `GET /api/models/ORG/NAME[/revision/REV]` (with `?blobs=true`): the commit and the file
  list with sizes, git blob ids and LFS SHA-256s;
- `HEAD|GET /ORG/NAME/resolve/REV/PATH`: the file, with `X-Repo-Commit`, `ETag` and
  `Content-Length`; a `Range: bytes=N-` request gets a 206 with the rest.

Every request is logged (method, path, range) with the bytes sent per file. `hold(path,
after)` makes the server stop in the middle of a file until `release()`, so a test can
stop or kill a download at a known point without a race.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".ckpt", ".onnx")


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_id: str
    files: dict[str, bytes]
    gated: bool = False

    @property
    def commit(self) -> str:
        digest = hashlib.sha1()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    def sibling(self, name: str) -> dict:
        data = self.files[name]
        entry = {"rfilename": name, "size": len(data), "blobId": blob_id(data)}
        if name.endswith(LFS_SUFFIXES):
            sha = hashlib.sha256(data).hexdigest()
            entry["lfs"] = {"size": len(data), "sha256": sha, "pointerSize": 134}
        return entry


@dataclass
class Log:
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # file path -> bytes of content sent

    def paths(self, method: str = "GET") -> set[str]:
        return {p for m, p, _ in self.requests if m == method}


class HubServer:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.log = Log()
        self._lock = threading.Lock()
        self._sending = 0  # responses still writing their content
        self._quiet = threading.Condition(self._lock)
        self._hold: dict[str, int] = {}
        self.held = threading.Event()  # set when a held file stopped at its point
        self._release = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add_folder(self, repo_id: str, folder: Path, extra: dict[str, bytes] | None = None):
        files = {
            str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()
        }
        files.update(extra or {})
        self.repos[repo_id] = repo = Repo(repo_id, files)
        return repo

    def hold(self, path: str, after: int) -> None:
        """Send the first `after` bytes of `path`, then wait for `release()`."""
        self._hold[path] = after
        self.held.clear()
        self._release.clear()

    def release(self) -> None:
        self._hold.clear()
        self._release.set()

    def reset_log(self, timeout: float = 60.0) -> None:
        """A clean log, once every response under way has finished writing: a response to a
        client that is gone (killed, stalled and closed) may still be counting the bytes it
        pushes into the socket, and those belong to the log before."""
        with self._quiet:
            if not self._quiet.wait_for(lambda: self._sending == 0, timeout):
                raise AssertionError(f"{self._sending} responses still sending after {timeout} s")
            self.log = Log()

    def start(self) -> HubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer(body=True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(body=False)

            def _error(self, status: int, code: str, text: str) -> None:
                data = json.dumps({"error": text}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", text)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, body: bool) -> None:
                url = urlparse(self.path)
                path = unquote(url.path)
                rng = self.headers.get("Range")
                with server._lock:
                    server.log.requests.append((self.command, path, rng))
                api = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
                if api:
                    return self._info(api.group(1), api.group(2) or "main", body)
                tree = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?", path)
                if tree:
                    return self._tree(tree.group(1), tree.group(2), tree.group(3) or "", body)
                resolve = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
                if resolve:
                    return self._file(*resolve.groups(), body, rng)
                self._error(404, "EntryNotFound", f"no route {path}")

            def _repo(self, repo_id: str, revision: str) -> Repo | None:
                repo = server.repos.get(repo_id)
                if repo is None:
                    self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                    return None
                if repo.gated:
                    self._error(403, "GatedRepo", f"Access to {repo_id} is restricted")
                    return None
                if revision not in ("main", repo.commit):
                    self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
                    return None
                return repo

            def _info(self, repo_id: str, revision: str, body: bool) -> None:
                repo = self._repo(repo_id, revision)
                if repo is None:
                    return
                info = {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": repo.commit,
                    "private": False,
                    "siblings": [repo.sibling(n) for n in sorted(repo.files)],
                }
                self._json(info, body)

            def _tree(self, repo_id: str, revision: str, under: str, body: bool) -> None:
                repo = self._repo(repo_id, revision)
                if repo is None:
                    return
                items = []
                for name in sorted(repo.files):
                    if under and not name.startswith(under.rstrip("/") + "/"):
                        continue
                    sibling = repo.sibling(name)
                    item = {"type": "file", "path": name, "size": sibling["size"]}
                    item["oid"] = sibling["blobId"]
                    if "lfs" in sibling:
                        lfs = sibling["lfs"]
                        item["lfs"] = {
                            "oid": lfs["sha256"],
                            "size": lfs["size"],
                            "pointerSize": 134,
                        }
                    items.append(item)
                self._json(items, body)

            def _json(self, value, body: bool) -> None:
                data = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _file(self, repo_id: str, revision: str, name: str, body: bool, rng) -> None:
                repo = self._repo(repo_id, revision)
                if repo is None:
                    return
                data = repo.files.get(name)
                if data is None:
                    return self._error(404, "EntryNotFound", f"{name} not found")
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if match:
                    start = int(match.group(1))
                    if start >= len(data):
                        return self._error(416, "RangeNotSatisfiable", "range")
                sibling = repo.sibling(name)
                etag = sibling["lfs"]["sha256"] if "lfs" in sibling else sibling["blobId"]
                self.send_response(206 if match else 200)
                self.send_header("X-Repo-Commit", repo.commit)
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Accept-Ranges", "bytes")
                if match:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if not body:
                    return
                self._send(name, data[start:])

            def _send(self, name: str, data: bytes) -> None:
                hold = server._hold.get(name)
                with server._lock:
                    server._sending += 1
                try:
                    if hold is not None:
                        self._write(name, data[:hold])
                        server.held.set()
                        server._release.wait()
                        self.close_connection = True
                        return
                    self._write(name, data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                finally:
                    with server._quiet:
                        server._sending -= 1
                        server._quiet.notify_all()

            def _write(self, name: str, data: bytes) -> None:
                step = 4096
                for i in range(0, len(data), step):
                    piece = data[i : i + step]
                    self.wfile.write(piece)
                    self.wfile.flush()
                    with server._lock:
                        server.log.sent[name] = server.log.sent.get(name, 0) + len(piece)

        return Handler


# -- the tiny Wan model served as a Hub repository, with catalog entries for it -------------

TINY = Path(__file__).resolve().parents[3] / "assets" / "models" / "tiny-wan"
REPO = "gallop-test/tiny-wan"
MODEL = "hub-tiny-wan"
LICENSED = "hub-tiny-wan-licensed"
# Files a pipeline download must never fetch: a big root file, pickles beside safetensors.
NOT_PIPELINE = {
    "other.safetensors": bytes(3_000_000),
    "text_encoder/pytorch_model.bin": b"\x80\x02pickle" * 1000,
    "vae/diffusion_pytorch_model.bin": b"\x80\x02pickle" * 1000,
    "README.md": b"# tiny wan\n",
}
HELD = "text_encoder/model.safetensors"  # the largest weights file, stopped in the middle


def catalog_file(folder: Path) -> Path:
    """A catalog of two test models served by the local Hub: one free, one whose licence
    must be accepted."""
    raw = json.loads(
        (Path(__file__).resolve().parents[3] / "engine/models/catalog.json").read_text()
    )
    tiny = next(m for m in raw["models"] if m["id"] == "tiny-wan")
    free = {**tiny, "id": MODEL, "name": "Tiny Wan from the Hub", "repo": REPO, "path": None}
    licensed = {
        **free,
        "id": LICENSED,
        "name": "Tiny Wan under licence",
        "licence": "Tiny Test Licence",
        "accept_licence": True,
    }
    path = folder / "catalog.json"
    path.write_text(json.dumps({"models": [free, licensed]}))
    return path


def serve(monkeypatch, tmp_path: Path) -> HubServer:
    """Start the local Hub with the tiny model, and point the studio at it: the Hub's
    address, a models folder, a settings file and an extra catalog of the test."""
    from huggingface_hub import constants

    server = HubServer()
    server.add_folder(REPO, TINY, NOT_PIPELINE)
    server.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(constants, "ENDPOINT", server.url)  # read by huggingface_hub at import
    # A download lifts huggingface_hub's offline mode for its process: undone after the test.
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", constants.HF_HUB_OFFLINE)
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "hf-home" / "a.json"))
    monkeypatch.setenv("GALLOP_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("GALLOP_MODEL_SETTINGS", str(tmp_path / "config" / "models.json"))
    monkeypatch.setenv("GALLOP_CATALOG", str(catalog_file(tmp_path)))
    return server
