"""A local stand-in for the Slack Web API: answers like Slack and records every call.

Point the app's WebClient at `fake.base_url` (SLACK_API_URL). Program failures per method with
`fail(method, ...)`; each programmed answer is used once, in order, before the defaults.

Files: `add_file(...)` gives a file object as Slack puts it in a `file_input`'s state; `files.info`
answers for it, and its `url_private_download` serves its bytes to the bot token only (anyone
else gets an HTML sign-in page with status 200, as Slack does). A file can be made to answer 404,
`file_not_found`, a sign-in page, or to stall. `files_upload_v2`'s three steps are served and the
uploaded bytes recorded in `uploads`.
"""

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


SIGN_IN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Slack</title></head><body>"
    b"<h1>Sign in to your workspace</h1></body></html>"
)


@dataclass
class FakeFile:
    id: str
    name: str
    content: bytes
    mimetype: str
    # "ok", "404" (the download answers 404), "file_not_found" (files.info says so and the download
    # 404s), "html" (a sign-in page with 200 even for the right token), "stall" (headers, then nothing)
    behaviour: str = "ok"
    stall: float = 0.0
    downloads: int = 0


@dataclass
class Upload:
    """One file the bot shared through files_upload_v2."""

    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    channel: str | None = None
    comment: str | None = None


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    # Slack accepts bursts; the standard library's default backlog of 5 would reset connections
    # when three bot processes announce at once, a failure real Slack does not have.
    request_queue_size = 1024


class FakeSlackApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.arrivals: list[str] = []  # methods in the order their requests came in, answered or not
        self.socket_url: str | None = None
        self._answers: dict[str, deque[Answer]] = defaultdict(deque)
        self._lock = threading.Condition()
        self._views = 0
        self.token = "xoxb-test-token"  # the token downloads must carry
        self.files: dict[str, FakeFile] = {}
        self.uploads: dict[str, Upload] = {}
        self.download_headers: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.startswith("/upload/"):
                    fake._receive_upload(self)
                else:
                    fake._handle(self)

            def do_GET(self) -> None:
                fake._serve_file(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def response_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/1"

    def start(self) -> "FakeSlackApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_file(
        self,
        content: bytes,
        name: str,
        mimetype: str = "application/pdf",
        *,
        behaviour: str = "ok",
        stall: float = 0.0,
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file a user uploaded, as Slack describes it in a `file_input`'s state."""
        with self._lock:
            file_id = f"F{len(self.files) + 1:08d}"
            self.files[file_id] = FakeFile(file_id, name, content, mimetype, behaviour, stall)
        return self.file_object(file_id, size=size)

    def file_object(self, file_id: str, *, size: int | None = None) -> dict[str, Any]:
        file = self.files[file_id]
        name = quote(file.name)
        url = f"{self.root}/files-pri/T1-{file_id}/{name}"
        return {
            "id": file_id,
            "created": 1712675491,
            "timestamp": 1712675491,
            "name": file.name,
            "title": file.name,
            "mimetype": file.mimetype,
            "filetype": file.name.rpartition(".")[2],
            "user": "U111",
            "user_team": "T1",
            "size": len(file.content) if size is None else size,
            "mode": "hosted",
            "url_private": url,
            "url_private_download": f"{self.root}/files-pri/T1-{file_id}/download/{name}",
            "permalink": f"https://acme.slack.com/files/U111/{file_id}/{name}",
            "channels": [],
            "groups": [],
            "ims": [],
            "file_access": "visible",
        }

    def uploaded(self, count: int = 1, timeout: float = 10.0) -> list[Upload]:
        """The files shared through a completed files_upload_v2, waiting for `count` of them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(done := [u for u in self.uploads.values() if u.channel]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} upload(s); saw {list(self.uploads.values())}")
                self._lock.wait(left)
            return done

    def fail(self, method: str, error: str = "", *, status: int = 200, times: int = 1, **kwargs: Any) -> None:
        body = {"ok": False, "error": error} if error else {"ok": False}
        for _ in range(times):
            self._answers[method].append(Answer(status=status, body=body, **kwargs))

    def answer(self, method: str, answer: Answer) -> None:
        self._answers[method].append(answer)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for_arrival(self, method: str, count: int = 1, timeout: float = 10.0) -> None:
        """Until `count` requests to `method` came in, even if they are still being answered."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.arrivals.count(method) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} request(s) to {method}; saw {self.arrivals}")
                self._lock.wait(left)

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"expected {count} call(s) to {method}; saw {seen}")
                self._lock.wait(left)
            return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def _default(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "purchase-bot"}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            with self._lock:
                self._views += 1
                number = self._views
            view_id = params.get("view_id") or f"V{number:06d}"
            return {"ok": True, "view": {"id": view_id, "hash": f"hash-{number}"}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "files.info":
            file = self.files.get(str(params.get("file")))
            if file is None or file.behaviour == "file_not_found":
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": self.file_object(file.id)}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).lstrip("UW")}}
        if method == "files.getUploadURLExternal":
            with self._lock:
                file_id = f"FUP{len(self.uploads) + 1:06d}"
                self.uploads[file_id] = Upload(file_id, str(params.get("filename")), int(params["length"]))
            return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            shared = json.loads(params.get("files") or "[]")
            with self._lock:
                for entry in shared:
                    upload = self.uploads[entry["id"]]
                    upload.channel = params.get("channel_id") or params.get("channels")
                    upload.comment = params.get("initial_comment")
                self._lock.notify_all()
            return {"ok": True, "files": [{"id": e["id"], "title": e.get("title")} for e in shared]}
        return {"ok": True}

    def _receive_upload(self, request: BaseHTTPRequestHandler) -> None:
        """files_upload_v2's step 2: the raw bytes POSTed to the upload URL, no token."""
        length = int(request.headers.get("Content-Length") or 0)
        content = request.rfile.read(length)
        file_id = request.path.removeprefix("/upload/")
        with self._lock:
            upload = self.uploads.get(file_id)
            if upload is not None:
                upload.content = content
        self._reply(request, 200 if upload is not None else 404, b"OK", "text/plain")

    def _serve_file(self, request: BaseHTTPRequestHandler) -> None:
        """A file's url_private(_download): its bytes for the bot token, a sign-in page otherwise."""
        parts = request.path.split("/")
        file_id = parts[2].removeprefix("T1-") if len(parts) > 2 and parts[1] == "files-pri" else ""
        with self._lock:
            file = self.files.get(file_id)
            self.download_headers.append({k.lower(): v for k, v in request.headers.items()})
            if file is not None:
                file.downloads += 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self._reply(request, 200, SIGN_IN_PAGE, "text/html; charset=utf-8")
        elif file is None or file.behaviour in ("404", "file_not_found"):
            self._reply(request, 404, b"Not Found", "text/plain")
        elif file.behaviour == "html":
            self._reply(request, 200, SIGN_IN_PAGE, "text/html; charset=utf-8")
        elif file.behaviour == "stall":
            request.send_response(200)
            request.send_header("Content-Type", file.mimetype)
            request.send_header("Content-Length", str(len(file.content)))
            request.end_headers()
            request.wfile.write(file.content[:10])
            request.wfile.flush()
            time.sleep(file.stall)
            with contextlib.suppress(OSError):
                request.wfile.write(file.content[10:])
        else:
            time.sleep(file.stall)
            self._reply(request, 200, file.content, file.mimetype)

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
        for key in ("view", "blocks"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        path = request.path
        method = path.removeprefix("/api/") if path.startswith("/api/") else "response_url"
        call = Call(method, params, {k.lower(): v for k, v in request.headers.items()})
        with self._lock:
            self.arrivals.append(method)
            self._lock.notify_all()
            answer = self._answers[method].popleft() if self._answers[method] else None
        if answer is None:
            answer = Answer(body=self._default(method, params))
        if answer.delay:
            time.sleep(answer.delay)
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        data = json.dumps(answer.body).encode()
        request.send_response(answer.status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for key, value in answer.headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)
